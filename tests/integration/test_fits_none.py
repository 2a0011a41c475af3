""""Fits none of the labels" as an answer of its own (issue 20), on the open-pool demo (the
seeds of three labels withheld, so their texts fit none of the project's labels): a
person's `x`, a judge's "none of these", the export, the audit, the loop not asking again.
Real MiniLM embeddings, a real DuckDB file, the real loop with a simulated judge (it reads
the hidden gold, as a perfect expert would know it)."""

import shutil

import numpy as np
import pandas as pd
import pytest
from conftest import OPEN_POOL_HIDDEN as HIDDEN

from red_app.cli.main import main
from red_app.errors import RedError
from red_app.judges.simulated import SimulatedJudge
from red_app.method.config import LoopConfig
from red_app.project.dataio import export_labels
from red_app.project.store import NO_LABEL, Project
from red_app.workflows.discover import discover
from red_app.workflows.inputs import load_inputs
from red_app.workflows.people import Question, answer, key_action
from red_app.workflows.review import undo_last
from red_app.workflows.runner import budget_report, run_project
from red_app.workflows.texts import mark_fits_none


@pytest.fixture
def pool(open_pool, tmp_path):
    path = tmp_path / "p.duckdb"
    shutil.copy(open_pool, path)
    return path


def _hidden_ids(p, n=None):
    gold = p.hidden_gold(role="pool")
    ids = sorted(s for s, g in gold.items() if g in HIDDEN)
    return ids[:n] if n else ids


def test_a_person_says_a_text_fits_no_label_and_it_leaves_the_pool_until_undone(pool, tmp_path):
    with Project(pool) as p:
        sid = _hidden_ids(p, 1)[0]
        # a question about the text as Review asks it; x is the key for "fits no label"
        q = Question(sid, p.texts([sid])[sid], tuple(p.labels()[:3]), p.labels()[0], 0)
        act = key_action(q, "x")
        assert act.action == "fits_none" and act.label == NO_LABEL
        answer(p, q, act.label, "ana")
        assert p.fits_none() == {sid: "human"}
        assert sid not in set(p.current_labels().sample_id)
        data, state = load_inputs(p)
        pos = data.ids.index(sid)
        assert pos in state.none and pos in state.decided and state.y[pos] == -1
        export_labels(p, tmp_path / "e.parquet")
        row = pd.read_parquet(tmp_path / "e.parquet").set_index("id").loc[sid]
        assert pd.isna(row.label) and row.out_of_scope and row.origin == "human" and not row.needs_review
        # a name of the project's choosing, passed as data: a quote in it is just a character
        export_labels(p, tmp_path / "o.csv", none_label="other's")
        assert pd.read_csv(tmp_path / "o.csv").set_index("id").loc[sid, "label"] == "other's"
        with pytest.raises(RedError, match="one of the project's labels"):
            export_labels(p, tmp_path / "bad.csv", none_label=p.labels()[0])
        # the history says it in words
        from red_app.workflows.review import earlier_verdicts

        assert "(fits none of the labels)" in set(earlier_verdicts(p, sid).label)
        # undo: the text is back in the pool, with nothing recorded lost
        undo_last(p, "ana")
        assert p.fits_none() == {}
        assert p.cursor().execute("SELECT count(*) FROM annotations WHERE label = ?", [NO_LABEL]).fetchall()[0][0] == 1


def test_the_texts_page_action_marks_a_labeled_text_and_a_label_given_later_wins(pool):
    with Project(pool) as p:
        seed = p.samples(role="seed").id.iloc[0]
        old = p.seed_labels()[seed]
        mark_fits_none(p, seed, "bo")
        assert p.fits_none() == {seed: "human"}
        assert (seed, old) in p.excluded_pairs()  # its label was recorded as wrong
        from red_app.workflows.texts import label_text

        label_text(p, seed, old, "bo")
        assert p.fits_none() == {} and p.seed_labels()[seed] == old
        with pytest.raises(RedError, match="name"):
            mark_fits_none(p, seed, "  ")


def test_the_judge_says_none_the_loop_never_asks_again_and_counts_where_the_budget_went(pool, capsys):
    with Project(pool) as p:
        gold = {**p.seed_labels(), **p.hidden_gold(role="pool")}
        data, state = load_inputs(p)
        from red_app.method.open_world import top_k_recall
        from red_app.method.questions import NONE_MEANS_FITS_NONE

        # the demo's right label is nearly always among 5 candidates: a "none" says "fits no label"
        assert top_k_recall(data.X[state.y >= 0], state.y[state.y >= 0], 5) >= NONE_MEANS_FITS_NONE
        records = list(run_project(p, SimulatedJudge(gold), LoopConfig(budget=240, batch=80, patience=None,
                                                                         calibration_seeds=0)))
        run_id = int(p.runs()["run_id"].max())
        verdicts = p.cursor().execute(
            "SELECT sample_id, choice, iteration FROM judge_verdicts WHERE run_id = ? AND valid IS NOT NULL",
            [run_id]).df()
        said_none = verdicts[verdicts.choice.isna()]
        # every text is asked about at most once: a "none" takes it out of the pool
        assert verdicts.sample_id.is_unique
        assert sum(r.said_none for r in records) == len(said_none) > 0
        assert sum(r.rejected for r in records) == 0  # choose questions: every rejection is a "none"
        # the judge's "none" is a decision that the text fits none of the labels, by the judge
        fits = p.fits_none()
        assert set(fits) == set(said_none.sample_id) and set(fits.values()) == {"judge"}
        hidden = set(_hidden_ids(p))
        assert len(set(fits) & hidden) >= 0.9 * len(fits)  # a perfect judge says none where none fits
        # the share of "none" answers falls once the loop learns where they are
        first = records[0].said_none / records[0].calls
        later = sum(r.said_none for r in records[1:]) / max(sum(r.calls for r in records[1:]), 1)
        assert later < first
        report = budget_report(p, run_id)
        assert report["rejected"] == len(said_none) and report["retries"] == 0
        stored = p.iterations(run_id)
        assert list(stored.said_none) == [r.said_none for r in records]
        assert list(stored.skipped_unlike) == [r.skipped_unlike for r in records]
        # `red discover` looks at the texts answered "none"
        found = discover(p)
        assert found.said_none >= len(said_none) * 0.5
    # `red run` says where each iteration's budget went
    assert main(["run", str(pool), "--judge", "simulated", "--budget", "40", "--batch", "40",
                 "--calibration-seeds", "0"]) == 0
    assert "fit no label" in capsys.readouterr().out


def test_texts_unlike_every_label_are_not_asked_about_unless_the_setting_is_off(pool):
    with Project(pool) as p:
        data, state = load_inputs(p)
    from red_app.method.open_world import unlike

    pool_rows = np.flatnonzero(state.y < 0)
    skip = unlike(data.X, state.y, state.none_mask(), pool_rows, 0.05)
    assert not unlike(data.X, state.y, state.none_mask(), pool_rows, 0.0).any()
    with Project(pool, read_only=True) as p:
        gold = p.hidden_gold(role="pool")
    hidden = np.array([gold.get(data.ids[i]) in HIDDEN for i in pool_rows])
    # the texts skipped are mostly those that fit no label; few in-scope texts are
    assert skip[hidden].mean() > 3 * skip[~hidden].mean() and skip[~hidden].mean() <= 0.1


def test_an_audit_answer_fits_none_is_an_answer_of_its_own(pool, capsys):
    with Project(pool) as p:
        list(run_project(p, SimulatedJudge({**p.seed_labels(), **p.hidden_gold(role="pool")}),
                         LoopConfig(budget=40, batch=40, calibration_seeds=0)))
    assert main(["audit-sample", str(pool), "--n", "30", "--seed", "1"]) == 0
    from red_app.workflows.audit import answer_item, current_audit, quality_report

    with Project(pool) as p:
        _, items = current_audit(p)
        hidden = set(_hidden_ids(p))
        said = 0
        for r in items.itertuples():
            if r.sample_id in hidden:
                answer_item(p, r.sample_id, "fits-none", "cy")
                said += 1
            else:
                answer_item(p, r.sample_id, "right" if r.label == r.gold_label else "wrong", "cy",
                            label=None if r.label == r.gold_label else r.gold_label)
        q = quality_report(p, curve=False)
        assert q["fits_none"]["said"] == said and q["answered"] == len(items)
        if said:
            assert 0 < q["fits_none"]["estimate"] < 1 and set(p.fits_none()) >= hidden & set(items.sample_id)
    capsys.readouterr()
    assert main(["quality", str(pool)]) == 0
    assert "fits no label at all" in capsys.readouterr().out


def test_a_text_that_fits_no_label_is_decided_everywhere(pool):
    """Not in the model-label queue, not counted as undecided, no new model label, not in
    Texts' 'unlabeled' filter — and x rejects the label it was shown with too."""
    from red_app.project.texts import count_rows
    from red_app.workflows.people import model_questions
    from red_app.workflows.predict import predict_project
    from red_app.workflows.review import model_label_queue

    with Project(pool) as p:
        predict_project(p)
        sid = _hidden_ids(p, 1)[0]
        q = next(q for q in model_questions(p, limit=600, below=1.01) if q.sample_id == sid)
        before = p.status()
        unlabeled = count_rows(p, unlabeled=True)
        answer(p, q, NO_LABEL, "ana")
        assert (sid, q.proposed) in p.excluded_pairs()
        assert sid not in set(model_label_queue(p, below=1.01, limit=1000).sample_id)
        after = p.status()
        assert after["pool_unlabeled"] == before["pool_unlabeled"] - 1 and after["fits_none"] == 1
        assert count_rows(p, unlabeled=True) == unlabeled  # it had a model label; it has no label now, decided
        predict_project(p)
        assert sid not in set(p.model_labels().sample_id)


def test_the_judges_fits_none_decisions_are_audited_as_a_stratum_of_their_own(pool):
    from red_app.workflows.audit import FITS_NONE_STRATUM, answer_item, current_audit, draw_audit, quality_report
    from red_app.workflows.people import audit_questions

    with Project(pool) as p:
        list(run_project(p, SimulatedJudge({**p.seed_labels(), **p.hidden_gold(role="pool")}),
                         LoopConfig(budget=120, batch=60, calibration_seeds=0)))
        judged_none = {s for s, origin in p.fits_none().items() if origin == "judge"}
        assert judged_none
        draw_audit(p, n=40, seed=2)
        _, items = current_audit(p)
        mine = items[items.stratum == FITS_NONE_STRATUM]
        assert len(mine) >= 3 and set(mine.sample_id) <= judged_none and set(mine.label) == {NO_LABEL}
        # asked on Review with "fits none of the labels" first
        q = next(q for q in audit_questions(p, items) if q.sample_id == mine.sample_id.iloc[0])
        assert q.candidates[0] == NO_LABEL
        # answered right: still fits none; answered with a label: that label, and the item wrong
        answer_item(p, mine.sample_id.iloc[0], "right", "ana")
        other = mine.sample_id.iloc[1]
        label = p.labels()[0]
        answer_item(p, other, "wrong", "ana", label=label)
        assert mine.sample_id.iloc[0] in p.fits_none() and other not in p.fits_none()
        q = quality_report(p, curve=False)
        assert q["per_stratum"][FITS_NONE_STRATUM]["answered"] == 2 and q["per_stratum"][FITS_NONE_STRATUM]["right"] == 1
        # with hidden gold, "fits no label" is right where the gold is none of the project's labels
        assert q["truth"]["per_origin"]["judge"] > 0.5


def test_red_run_says_what_a_none_means_here(pool, capsys):
    assert main(["run", str(pool), "--judge", "simulated", "--budget", "20", "--batch", "20",
                 "--calibration-seeds", "0"]) == 0
    out = capsys.readouterr().out
    assert "of the labeled texts: a \"none of these\" says the text fits none of the labels" in out
