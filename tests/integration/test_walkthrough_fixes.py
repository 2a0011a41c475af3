"""What a new user's walk-through found (issue #12 follow-up), headless: `red run` embeds
what is not embedded, the CLI decides as the app's local user, and a model label answered
"wrong" is no longer anyone's current label."""

import csv
import json
from pathlib import Path

import pandas as pd
import pytest

from red_app.workflows.accounts import local_user
from red_app.cli.main import main
from red_app.project.store import Project
from red_app.workflows.review import decide, model_label_queue, undo_last
from red_app.workflows.texts import count_texts, search_texts, text_details

ROOT = Path(__file__).resolve().parents[2]


def _small_demo_csvs(tmp_path: Path, labels: int = 5, seeds: int = 6, pool: int = 30) -> tuple[Path, Path]:
    """A few demo intents: seeds of each, and pool texts with hidden gold (small: embeds fast)."""
    with open(ROOT / "assets" / "demo_seeds.csv") as f:
        rows = list(csv.DictReader(f))
    keep = sorted({r["label"] for r in rows})[:labels]
    seed_rows = [r for lab in keep for r in [x for x in rows if x["label"] == lab][:seeds]]
    with open(ROOT / "assets" / "demo_pool.csv") as f:
        pool_rows = [r for r in csv.DictReader(f) if r["gold_intent"] in keep][:pool]
    s, p = tmp_path / "seeds.csv", tmp_path / "pool.csv"
    for path, data in ((s, seed_rows), (p, pool_rows)):
        with open(path, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(data[0]))
            w.writeheader()
            w.writerows(data)
    return s, p


def test_red_run_embeds_what_is_not_embedded_and_says_so(tmp_path, capsys):
    seeds, pool = _small_demo_csvs(tmp_path)
    path = tmp_path / "p.duckdb"
    assert main(["init", str(path)]) == 0
    assert main(["import", str(path), str(seeds), "--id", "id"]) == 0
    assert main(["import", str(path), str(pool), "--id", "id", "--label", "gold_intent", "--mode", "hidden-gold"]) == 0
    capsys.readouterr()
    # asked not to embed: the error names the exact command that fixes it, and nothing ran
    assert main(["run", str(path), "--no-embed", "--budget", "10", "--batch", "5"]) == 1
    err = capsys.readouterr().err
    assert f"red embed {path}" in err and "have no" in err
    with Project(path, read_only=True) as p:
        assert len(p.runs()) == 0
    # by default the run embeds first, says so, then runs
    assert main(["run", str(path), "--budget", "10", "--batch", "5", "--calibration-seeds", "0"]) == 0
    out = capsys.readouterr()
    assert "are not embedded yet" in out.err and "embedding them first" in out.err and "embedded: " in out.err
    assert "iteration 1:" in out.out
    with Project(path, read_only=True) as p:
        assert len(p.runs()) == 1
        from red_app.project.embed import missing_texts, project_model

        assert missing_texts(p, project_model(p)) == 0
    # embedded already: nothing is said about embedding
    assert main(["run", str(path), "--budget", "5", "--batch", "5", "--calibration-seeds", "0"]) == 0
    assert "not embedded" not in capsys.readouterr().err


def test_a_run_started_from_the_app_embeds_first_with_a_stage(tmp_path, monkeypatch):
    from red_app.workflows.jobs import JobRegistry, RunJob
    from red_app.workflows.judging import JudgeSettings
    from red_app.method.config import LoopConfig
    from red_app.project.dataio import import_file
    from red_app.project.embed import missing_texts, project_model

    seeds, pool = _small_demo_csvs(tmp_path)
    path = tmp_path / "p.duckdb"
    with Project(path, create=True) as p:
        import_file(p, seeds, id="id")
        import_file(p, pool, id="id", label="gold_intent", mode="hidden-gold")
    stages = []
    on_stage = RunJob._on_stage
    monkeypatch.setattr(RunJob, "_on_stage", lambda self, st: (stages.append(st), on_stage(self, st)))
    with Project(path) as p:
        job = JobRegistry().start(p, JudgeSettings(kind="simulated"), LoopConfig(budget=10, batch=5, calibration_seeds=0))
        job.thread.join(timeout=300)
    assert job.error is None and job.iterations_done >= 1
    embedding = [st for st in stages if st.stage.startswith("embedding")]
    assert embedding and embedding[-1].done == embedding[-1].total > 0
    assert stages.index(embedding[-1]) < next(i for i, st in enumerate(stages) if st.stage == "fitting")
    with Project(path, read_only=True) as p:
        assert missing_texts(p, project_model(p)) == 0 and len(p.runs()) == 1


@pytest.fixture
def predicted(small_copy):
    from red_app.workflows.predict import predict_project

    with Project(small_copy) as p:
        predict_project(p)
    return small_copy


def test_the_cli_decides_as_the_apps_local_user_unless_told(predicted, capsys):
    with Project(predicted) as p:
        a, b = p.samples(role="pool").id[:2]
        label = p.labels()[0]
    assert main(["label", str(predicted), a, label]) == 0
    assert f"(by {local_user()})" in capsys.readouterr().out
    assert main(["label", str(predicted), b, label, "--reviewer", "ana"]) == 0
    with Project(predicted) as p:
        who = dict(p.cursor().execute(
            "SELECT sample_id, actor FROM annotations WHERE origin = 'human' AND verdict = 'valid'").fetchall())
    assert who == {a: local_user(), b: "ana"}  # the app's name for the person in local mode
    # undo without --reviewer takes back the local user's decision, not ana's
    assert main(["undo", str(predicted)]) == 0
    with Project(predicted) as p:
        assert p.current_labels().set_index("sample_id").loc[b, "actor"] == "ana"
        assert a not in set(p.current_labels().sample_id[p.current_labels().origin == "human"])


def test_a_model_label_answered_wrong_is_no_longer_current(predicted, capsys):
    with Project(predicted) as p:
        q = model_label_queue(p, 1.0, limit=5)
        item = q.iloc[0]
        sid, proposed = item.sample_id, item.label
        before = search_texts(p, query=None, limit=10_000).set_index("id").loc[sid]
        assert before.label == proposed and before.origin == "model"
        unlabeled = count_texts(p, unlabeled=True)
        decide(p, sample_id=sid, proposed=proposed, action="wrong", reviewer="ana",
               seen_event=int(item.last_human_event), note="model label")
        row = search_texts(p, limit=10_000).set_index("id").loc[sid]
        # no label, no origin, waiting for a person; the rejection is in its history
        assert pd.isna(row.label) and pd.isna(row.origin) and bool(row.needs_review)
        assert count_texts(p, unlabeled=True) == unlabeled + 1
        assert count_texts(p, label=proposed) == count_texts(p, label=proposed, origin="model") + \
            count_texts(p, label=proposed, origin=["seed", "import", "judge", "human"])
        assert sid not in set(search_texts(p, label=proposed, limit=10_000).id)
        d = text_details(p, sid)
        assert d["label"] is None and d["needs_review"]
        h = d["history"]
        assert list(zip(h.kind, h.who, h.label, h.said)) == [("person", "ana", proposed, "invalid")]
        # the model-label queue does not ask about it again
        assert sid not in set(model_label_queue(p, 1.0, limit=10_000).sample_id)
    # the CLI says the same
    assert main(["texts", str(predicted), "--unlabeled", "--json", "--limit", "10000"]) == 0
    got = {t["id"]: t for t in json.loads(capsys.readouterr().out)["texts"]}
    assert got[sid]["label"] is None and got[sid]["needs_review"] is True
    assert main(["texts", str(predicted), "--id", sid]) == 0
    out = capsys.readouterr().out
    assert "label: (none)  — needs a label" in out and f"person ana: {proposed} invalid (in force)" in out
    # undone, the model label is current again
    with Project(predicted) as p:
        undo_last(p, "ana")
        row = search_texts(p, limit=10_000).set_index("id").loc[sid]
        assert row.label == proposed and row.origin == "model"
