"""Quality without gold, on the real small project: an audit sample answered by a simulated
reviewer who knows the hidden gold, its estimate against the true accuracy."""

import json
import shutil

import pytest

from red_app.workflows.audit import answer_item, answer_items, current_audit, draw_audit, quality_report
from red_app.judges.simulated import SimulatedJudge
from red_app.method.config import LoopConfig
from red_app.project.store import Project
from red_app.workflows.runner import run_project


@pytest.fixture(scope="module")
def labeled(small_project, tmp_path_factory):
    """One run on a copy of the small project: every pool text has a judge or model label."""
    path = tmp_path_factory.mktemp("quality") / "run.duckdb"
    shutil.copy(small_project, path)
    with Project(path) as p:
        list(run_project(p, SimulatedJudge({**p.seed_labels(), **p.hidden_gold(role="pool")}),
                         LoopConfig(budget=120, batch=40)))
    return path


@pytest.fixture
def copy(labeled, tmp_path):
    dst = tmp_path / "p.duckdb"
    shutil.copy(labeled, dst)
    return dst


def answer_all(p: Project, reviewer: str = "oracle") -> None:
    """A reviewer who knows the gold: right iff the label is the gold one, else wrong + gold
    (one action, as `red audit-answer --file` records a file of answers)."""
    _, items = current_audit(p)
    answer_items(p, [{"sample_id": r.sample_id, "answer": "right" if r.label == r.gold_label else "wrong",
                      "label": None if r.label == r.gold_label else r.gold_label}
                     for r in items.itertuples() if not r.answered], reviewer)


def test_the_sample_is_stratified_and_answers_are_human_events(copy):
    with Project(copy) as p:
        rep = draw_audit(p, n=60, seed=1)
        audit, items = current_audit(p)
        pool = quality_report(p)["population"]
        assert rep.drawn == len(items) and audit["audit_id"] == 1
        # every non-empty stratum of the pool has items, each weighted by population / drawn
        from red_app.project.audits import labeled_pool
        from red_app.workflows.audit import audit_strata

        lp = labeled_pool(p)
        strata = set(audit_strata(lp))
        assert set(items.stratum) == strata and len(strata) >= 3
        assert set(items.origin) <= {"judge", "model", "human", "import"}
        sizes = items.groupby("stratum").size()
        # at least 3 from each stratum, or the whole stratum where it holds fewer (weight 1)
        weights = items.groupby("stratum").weight.first()
        assert ((sizes >= 3) | (weights == 1.0)).all(), (sizes, weights)
        pop = lp.assign(stratum=audit_strata(lp)).groupby("stratum").size()
        assert (sizes == pop[sizes.index].clip(upper=3)).where(sizes < 3, True).all()
        assert abs((items.weight).sum() - pool) < 1e-6
        assert not items.answered.any()
        before = len(p.cursor().execute("SELECT * FROM annotations").fetchall())  # noqa: only a test reads raw
        answer_all(p, reviewer="ana")
        events = p.cursor().execute(
            "SELECT origin, actor, count(*) FROM annotations WHERE event_id > ? GROUP BY ALL",
            [int(audit["last_event"])]).fetchall()
        assert events and all(o == "human" and a == "ana" for o, a, _ in events)
        assert sum(n for *_, n in events) >= len(items)
        assert len(p.cursor().execute("SELECT * FROM annotations").fetchall()) > before
        _, items = current_audit(p)
        assert items.answered.all()
        assert (items.correct == (items.label == items.gold_label)).all()
        wrong = items[~items.correct]
        assert (wrong.human_label == wrong.gold_label).all()
        # drawing again makes a new, active audit with nothing answered yet
        draw_audit(p, n=30, seed=2)
        audit2, items2 = current_audit(p)
        assert audit2["audit_id"] == 2 and not items2.answered.any()


def test_the_interval_covers_the_true_accuracy(labeled, tmp_path):
    # three fixed audits here; bench/audit_truth.py repeats it 20 times on a full benchmark project
    rows = []
    for seed in range(3):
        path = tmp_path / f"r{seed}.duckdb"
        shutil.copy(labeled, path)
        with Project(path) as p:
            draw_audit(p, n=80, seed=seed)
            answer_all(p)
            q = quality_report(p, curve=False)
        e, truth = q["overall"], q["truth"]["overall"]
        rows.append((e["estimate"], e["low"], e["high"], truth))
        path.unlink()
    assert all(low <= truth <= high for _, low, high, truth in rows), rows


def test_the_coverage_curve_holds_the_truth_at_every_threshold(labeled, tmp_path):
    """Each point of the curve (labels with confidence >= t) is an estimate with its own
    interval; with enough answers the interval holds the true accuracy, over several audits."""
    misses = []
    for seed in range(3):
        path = tmp_path / f"c{seed}.duckdb"
        shutil.copy(labeled, path)
        with Project(path) as p:
            draw_audit(p, n=80, seed=10 + seed)
            answer_all(p)
            q = quality_report(p, curve=True)
        for r in q["curve"]:
            if r["too_few"]:
                assert r["estimate"] != r["estimate"] or r["low"] <= r["estimate"] <= r["high"]
                continue
            if not (r["low"] <= r["true_accuracy"] <= r["high"]):
                misses.append((seed, r["threshold"], r["estimate"], r["low"], r["high"], r["true_accuracy"]))
            assert r["high"] - r["low"] > 0 or r["low"] == r["true_accuracy"], r  # no bare 100% from a handful
        path.unlink()
    assert not misses, misses


def test_answers_from_a_file_are_one_action_all_or_none(copy, tmp_path):
    from red_app.cli.main import main

    with Project(copy) as p:
        draw_audit(p, n=30, seed=4)
        _, items = current_audit(p)
        before = p.last_human_event()
    good = tmp_path / "answers.csv"
    lines = ["sample_id,answer,label"] + [
        f"{r.sample_id},right," if r.label == r.gold_label else f"{r.sample_id},wrong,{r.gold_label}"
        for r in items.itertuples()]
    # one bad row (an id that is not in the audit): nothing of the file is recorded
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines + ["not-an-item,right,"]) + "\n")
    assert main(["audit-answer", str(copy), "--file", str(bad), "--reviewer", "bo"]) == 1
    with Project(copy) as p:
        assert p.last_human_event() == before and not current_audit(p)[1].answered.any()
    good.write_text("\n".join(lines) + "\n")
    assert main(["audit-answer", str(copy), "--file", str(good), "--reviewer", "bo"]) == 0
    with Project(copy) as p:
        assert current_audit(p)[1].answered.all()
    assert main(["undo", str(copy), "--reviewer", "bo"]) == 0  # one undo takes the file back
    with Project(copy) as p:
        assert not current_audit(p)[1].answered.any()


def test_cli_prints_estimate_and_truth(copy, capsys, tmp_path):
    from red_app.cli.main import main

    assert main(["audit-sample", str(copy), "--n", "60", "--seed", "3"]) == 0
    with Project(copy) as p:
        _, items = current_audit(p)
        first = items.iloc[0]
    ok = "right" if first.label == first.gold_label else "wrong"
    extra = [] if ok == "right" else ["--label", first.gold_label]
    assert main(["audit-answer", str(copy), first.sample_id, ok, "--reviewer", "bo", *extra]) == 0
    with Project(copy) as p:
        answer_all(p)  # the rest (the first is already answered: a later human event is a conflict-free re-answer)
    capsys.readouterr()
    assert main(["quality", str(copy), "--curve"]) == 0
    out = capsys.readouterr().out
    assert "overall" in out and "true" in out and "judge precision by people" in out and "t=0.95" in out
    assert main(["quality", str(copy), "--json", "--curve"]) == 0
    q = json.loads(capsys.readouterr().out)
    assert q["answered"] == q["drawn"] == 60 and 0 < q["overall"]["estimate"] <= 1
    assert len(q["curve"]) == 11 and q["curve"][0]["coverage"] == pytest.approx(1.0)
    # coverage falls and true accuracy rises with the threshold
    cov = [r["coverage"] for r in q["curve"]]
    assert cov == sorted(cov, reverse=True)
    # the chosen threshold becomes the export's default needs_review
    # 0.95: some model labels fall below it and most do not (mean confidence ~0.98), so the
    # check does not hang on the few borderline rows a lower threshold would catch
    assert main(["quality", str(copy), "--review-below", "0.95"]) == 0
    from red_app.project.dataio import export_labels
    import pandas as pd

    with Project(copy) as p:
        assert p.get_setting("review_below") == "0.95"
        export_labels(p, tmp_path / "e.parquet")
    df = pd.read_parquet(tmp_path / "e.parquet")
    model = df[df.origin == "model"]
    assert (model.needs_review == ((model.confidence < 0.95) | model.out_of_scope)).all()
    assert model.needs_review.any() and not model.needs_review.all()


def test_cli_lists_the_audit_items_and_writes_strict_json_before_any_answer(copy, capsys):
    """A CLI user can find the ids to answer, and `quality --json` with no answers is valid JSON."""
    from red_app.cli.main import main

    def strict(text):  # Python's json accepts NaN by default; JavaScript's JSON.parse does not
        return json.loads(text, parse_constant=lambda c: pytest.fail(f"not JSON: {c}"))

    assert main(["audit-sample", str(copy), "--n", "30", "--seed", "5"]) == 0
    assert "red audit-items" in capsys.readouterr().out
    assert main(["quality", str(copy), "--json"]) == 0
    q = strict(capsys.readouterr().out)
    assert q["answered"] == 0 and q["overall"]["estimate"] is None
    assert main(["audit-items", str(copy), "--pending", "--json"]) == 0
    listed = strict(capsys.readouterr().out)
    with Project(copy, read_only=True) as p:
        _, items = current_audit(p)
    assert listed["count"] == 30 and [i["sample_id"] for i in listed["items"]] == items.sample_id.tolist()
    first = listed["items"][0]
    assert first["text"] and first["label"] == items.label.iloc[0]
    assert main(["audit-answer", str(copy), first["sample_id"], "right", "--reviewer", "bo"]) == 0
    assert main(["audit-items", str(copy), "--pending", "--json"]) == 0
    assert first["sample_id"] not in {i["sample_id"] for i in strict(capsys.readouterr().out.split("\n", 1)[1])["items"]}


def test_few_answers_give_no_figure_and_many_give_an_interval_with_counts(copy, monkeypatch):
    """Two answers both right read "too few answers", not 100% [100%, 100%]; with enough
    answers each origin shows its estimate as a percentage with its interval and counts."""
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    from red_app.workflows.audit import MIN_ANSWERS, estimate_text

    with Project(copy) as p:
        draw_audit(p, 60, seed=4)
        _, items = current_audit(p)
        origin = items.origin.value_counts().index[0]
        mine = items[items.origin == origin]
        for r in mine.head(2).itertuples():
            answer_item(p, r.sample_id, "right", "oracle")
        q = quality_report(p)
    e = q["per_origin"][origin]
    assert e["answered"] == 2 and e["right"] == 2 and e["too_few"] and e["drawn"] == len(mine)
    assert estimate_text(e).startswith("too few answers (2 of 2 answers right") and "%" not in estimate_text(e)
    monkeypatch.setenv("RED_PROJECT", str(copy))
    page = Path(__file__).resolve().parents[2] / "pages" / "audit.py"
    at = AppTest.from_file(str(page), default_timeout=60).run()
    assert not at.exception
    table = next(d.value for d in at.dataframe if "origin" in d.value.columns)
    row = table.set_index("origin").loc[origin]
    assert row["estimated accuracy"] == "too few answers" and row["95% interval"] == "–"
    assert row["answered"] == 2 and row["right"] == 2
    with Project(copy) as p:
        answer_all(p)
        q = quality_report(p)
    e = q["per_origin"][origin]
    assert e["answered"] == len(mine) >= MIN_ANSWERS and not e["too_few"]
    text = estimate_text(e)
    assert text.startswith(f"{e['estimate']:.1%} [{e['low']:.1%}, {e['high']:.1%}]")
    assert f"{e['right']} of {e['answered']} answers right" in text
    at = AppTest.from_file(str(page), default_timeout=60).run()
    table = next(d.value for d in at.dataframe if "origin" in d.value.columns)
    row = table.set_index("origin").loc[origin]
    assert row["estimated accuracy"] == f"{e['estimate']:.1%}" and row["95% interval"] == f"{e['low']:.1%} – {e['high']:.1%}"
