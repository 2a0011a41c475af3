"""Review that never misleads: undo (a revocation, never a delete), bulk decisions, every
earlier verdict on a text, rejected labels never offered first, the model-label queue."""

import shutil

import pytest

from red_app.errors import RedError
from red_app.judges.simulated import SimulatedJudge
from red_app.method.config import LoopConfig
from red_app.method.loop import RedLoop
from red_app.project.dataio import export_labels
from red_app.project.store import Project
from red_app.workflows.review import (
    ReviewConflictError,
    bulk_decide,
    bulk_matches,
    decide,
    earlier_verdicts,
    model_label_queue,
    model_queue_size,
    offered_labels,
    queue_size,
    rejected_labels,
    review_queue,
    undo_last,
)
from red_app.workflows.runner import ProjectSink, load_inputs, run_project


@pytest.fixture(scope="module")
def judged_project(small_project, tmp_path_factory):
    """The small project after one run with a judge that errs: verdicts of both kinds, some
    applied, some sent to people, and model labels for the rest."""
    path = tmp_path_factory.mktemp("judged") / "p.duckdb"
    shutil.copy(small_project, path)
    with Project(path) as p:
        gold = p.hidden_gold(role="pool")
        # choose questions between two candidates: the gold is sometimes not offered, so
        # the judge also answers "none" (an invalid verdict), not only picks
        list(run_project(p, SimulatedJudge({**p.seed_labels(), **gold}, accuracy=0.8, seed=3),
                         LoopConfig(budget=80, batch=40, patience=None, calibration_seeds=0, choose_k=2)))
    return path


@pytest.fixture
def proj(judged_project, tmp_path):
    dst = tmp_path / "p.duckdb"
    shutil.copy(judged_project, dst)
    p = Project(dst)
    yield p
    p.close()


def _label(p, sample_id):
    cur = p.current_labels().set_index("sample_id")
    return cur.loc[sample_id, "label"] if sample_id in cur.index else None


def test_undo_revokes_an_override_and_the_label_is_derived_again(proj):
    p = proj
    item = review_queue(p, verdict="valid", status="pending", limit=1).iloc[0]
    before = _label(p, item.sample_id)
    assert before == item.label  # the judge's applied 'valid' gave the label
    other = next(x for x in p.labels() if x != item.label)
    ids = decide(p, sample_id=item.sample_id, proposed=item.label, action="another", label=other,
                 reviewer="ana", seen_event=int(item.last_human_event), verdict_id=int(item.verdict_id))
    assert _label(p, item.sample_id) == other and (item.sample_id, item.label) in p.excluded_pairs()
    assert len(review_queue(p, sample_id=item.sample_id, status="pending")) == 0
    n_events = p.cursor().execute("SELECT count(*) FROM annotations").fetchall()[0][0]

    done = undo_last(p, "ana")
    assert done["event_ids"] == ids and done["sample_ids"] == [item.sample_id]
    # nothing deleted: the log keeps both events, and the history says who undid them
    assert p.cursor().execute("SELECT count(*) FROM annotations").fetchall()[0][0] == n_events
    hist = p.history(item.sample_id)
    undone = hist[hist.event_id.isin(ids)]
    assert len(undone) == 2 and (undone.revoked_by == "ana").all() and undone.revoked_at.notna().all()
    # the label is the judge's again, the rejection is gone, the verdict is pending again
    assert _label(p, item.sample_id) == item.label
    assert (item.sample_id, item.label) not in p.excluded_pairs()
    again = review_queue(p, sample_id=item.sample_id, status="pending")
    assert len(again) == 1 and int(again.last_human_event.iloc[0]) == 0
    words = earlier_verdicts(p, item.sample_id)
    people = words[words.kind == "person"]
    assert len(people) == 2 and people.status.str.startswith("undone by ana").all()
    # a second undo has nothing of ana's left; another reviewer's name has nothing either
    with pytest.raises(RedError, match="no decision to undo"):
        undo_last(p, "ana")
    with pytest.raises(RedError, match="enter your name"):
        undo_last(p, " ")


def test_undo_takes_back_only_the_newest_decision_and_the_export_shows_both(proj, tmp_path):
    p = proj
    q = review_queue(p, status="pending", limit=2)
    a, b = q.iloc[0], q.iloc[1]
    b_before = _label(p, b.sample_id)
    decide(p, sample_id=a.sample_id, proposed=a.label, action="wrong", reviewer="ana", seen_event=0)
    decide(p, sample_id=b.sample_id, proposed=b.label, action="right", reviewer="ana", seen_event=0)
    assert _label(p, b.sample_id) == b.label
    undo_last(p, "ana")
    assert _label(p, b.sample_id) == b_before
    assert (a.sample_id, a.label) in p.excluded_pairs()  # the earlier decision stands
    out = tmp_path / "x.parquet"
    export_labels(p, out)
    import pandas as pd

    row = pd.read_parquet(out).set_index("id").loc[b.sample_id]
    people = [d for d in row["decisions"] if d["origin"] == "human"]
    assert len(people) == 1 and people[0]["revoked_by"] == "ana" and people[0]["revoked_at"]


def test_a_revoked_decision_stops_protecting_the_sample_from_the_loop_and_the_store(proj):
    p = proj
    item = review_queue(p, status="pending", verdict="valid", limit=1).iloc[0]
    data, state = load_inputs(p)
    i = data.ids.index(item.sample_id)
    lab = data.label_names.index(item.label)
    other = next(x for x in p.labels() if x != item.label)
    judge = SimulatedJudge(p.hidden_gold(role="pool"))
    run_id = p.start_run({"test": True})
    sink = ProjectSink(p, run_id, data, judge)
    loop = RedLoop(LoopConfig(budget=10), judge, sink=sink)
    y0 = int(state.y[i])
    decide(p, sample_id=item.sample_id, proposed=item.label, action="another", label=other,
           reviewer="ana", seen_event=0)
    loop.take_human_decisions(state)
    assert i in state.decided and data.label_names[state.y[i]] == other and (i, lab) in state.excluded
    # while a person's decision stands, a judge verdict on the sample is kept but never applied
    p.record_verdicts(run_id, 1, [{"sample_id": item.sample_id, "label": other, "valid": False,
                                   "confidence": 1.0, "judge_kind": "simulated"}])
    assert _label(p, item.sample_id) == other

    undo_last(p, "ana")
    loop.take_human_decisions(state)
    assert i not in state.decided and int(state.y[i]) == y0 and (i, lab) not in state.excluded
    # no longer protected: the judge's next verdict applies, and the audit keeps every word
    p.record_verdicts(run_id, 2, [{"sample_id": item.sample_id, "label": item.label, "valid": False,
                                   "confidence": 1.0, "judge_kind": "simulated"}])
    assert _label(p, item.sample_id) is None and (item.sample_id, item.label) in p.excluded_pairs()
    loop.take_human_decisions(state)  # the loop's own verdicts reach it through on_verdicts, not here
    hist = p.history(item.sample_id)
    assert list(hist.origin[-3:]) == ["human", "human", "judge"] and hist.revoked_by.iloc[-3:-1].eq("ana").all()


def test_an_undone_decision_on_a_held_verdict_sends_it_back_to_people(proj):
    p = proj
    vid = p.record_verdicts(None, None, [{"sample_id": review_queue(p, status="pending", limit=1).sample_id.iloc[0],
                                          "label": p.labels()[0], "valid": True, "confidence": 0.7,
                                          "judge_kind": "simulated", "applied": False}])[0]
    held = review_queue(p, status="needs_review", limit=500)
    item = held[held.verdict_id == vid].iloc[0]
    n = queue_size(p, "needs_review")
    decide(p, sample_id=item.sample_id, proposed=item.label, action="right", reviewer="ana", seen_event=0)
    assert queue_size(p, "needs_review") == n - 1 and p.held_and_decided()[0].isdisjoint({item.sample_id})
    undo_last(p, "ana")
    assert queue_size(p, "needs_review") == n and item.sample_id in p.held_and_decided()[0]


def test_bulk_decides_each_verdict_as_its_own_event_in_one_undoable_action(proj):
    p = proj
    q = review_queue(p, verdict="valid", status="pending", limit=500)
    label = q.label.value_counts().index[0]
    filt = dict(label=label, verdict="valid", min_conf=0.9)
    n = queue_size(p, "pending", **filt)
    assert n == (q.label == label).sum() >= 2  # the simulated judge is sure of every verdict
    with pytest.raises(ReviewConflictError, match="not the"):
        bulk_decide(p, reviewer="ana", action="right", expected=n + 1, **filt)
    events_before = p.cursor().execute("SELECT count(*) FROM annotations").fetchall()[0][0]
    assert bulk_decide(p, reviewer="ana", action="right", expected=n, **filt) == n
    rows = p.cursor().execute(
        "SELECT sample_id, label, verdict, verdict_id, action_id FROM annotations WHERE origin = 'human'").fetchall()
    assert len(rows) == n and len({r[0] for r in rows}) == n and {r[2] for r in rows} == {"valid"}
    assert {r[1] for r in rows} == {label} and len({r[4] for r in rows}) == 1 and all(r[3] for r in rows)
    assert queue_size(p, "pending", **filt) == 0
    done = undo_last(p, "ana")
    assert len(done["event_ids"]) == n
    assert queue_size(p, "pending", **filt) == n
    assert p.cursor().execute("SELECT count(*) FROM annotations").fetchall()[0][0] == events_before + n


def test_bulk_is_all_or_nothing_when_someone_decided_one_meanwhile(proj):
    p = proj
    q = review_queue(p, verdict="valid", status="pending", limit=500)
    label = q.label.value_counts().index[0]
    n = queue_size(p, "pending", label=label, verdict="valid")
    first = q[q.label == label].iloc[0]
    # ana counts; ben decides one of them before ana confirms: nothing of ana's is recorded
    items = review_queue(p, label=label, verdict="valid", status="pending", limit=500)
    assert len(items) == n
    decide(p, sample_id=first.sample_id, proposed=first.label, action="wrong", reviewer="ben", seen_event=0)
    with pytest.raises(ReviewConflictError):
        bulk_decide(p, reviewer="ana", action="right", expected=n, label=label, verdict="valid")
    assert p.cursor().execute("SELECT count(*) FROM annotations WHERE actor = 'ana'").fetchall()[0][0] == 0
    with pytest.raises(RedError, match="pick the right label"):
        bulk_decide(p, reviewer="ana", action="another", expected=n - 1, label=label, verdict="valid")


def test_bulk_refuses_when_the_same_count_hides_other_verdicts(proj):
    from red_app.judges.base import JudgeRequest, Verdict
    from red_app.method.loop import Judged

    p = proj
    q = review_queue(p, verdict="valid", status="pending", limit=500)
    label = q.label.value_counts().index[0]
    n, fingerprint = bulk_matches(p, status="pending", label=label, verdict="valid")
    assert n == queue_size(p, "pending", label=label, verdict="valid")
    # ana confirms n; meanwhile ben decides one of them and a run sends a new one: still n
    first = q[q.label == label].iloc[0]
    decide(p, sample_id=first.sample_id, proposed=first.label, action="wrong", reviewer="ben", seen_event=0)
    sid, text = p.cursor().execute(
        """SELECT id, text FROM samples WHERE role = 'pool' AND id NOT IN (SELECT sample_id FROM judge_verdicts)
           ORDER BY id LIMIT 1""").fetchall()[0]
    data, _ = load_inputs(p)
    sink = ProjectSink(p, run_id=None, data=data, judge=SimulatedJudge({}))
    sink.on_verdicts(0, [Judged(0, 0, JudgeRequest(sample_id=sid, text=text, label=label),
                                Verdict(valid=True, confidence=0.6, rationale="judged"), 0.5, (label,))])
    assert queue_size(p, "pending", label=label, verdict="valid") == n
    with pytest.raises(ReviewConflictError, match="not the ones you confirmed"):
        bulk_decide(p, reviewer="ana", action="right", expected=n, label=label, verdict="valid",
                    fingerprint=fingerprint)
    assert p.cursor().execute("SELECT count(*) FROM annotations WHERE actor = 'ana'").fetchall()[0][0] == 0
    # counted again, it goes through
    n, fingerprint = bulk_matches(p, status="pending", label=label, verdict="valid")
    assert bulk_decide(p, reviewer="ana", action="right", expected=n, label=label, verdict="valid",
                       fingerprint=fingerprint) == n


def test_the_queue_filters_by_what_the_judge_said(proj):
    p = proj
    for said in ("valid", "invalid"):
        q = review_queue(p, verdict=said, status="all", limit=500)
        assert len(q) and (q.valid == (said == "valid")).all()
        assert queue_size(p, "all", verdict=said) == len(q)
    held = review_queue(p, verdict="needs_review", status="all", limit=500)
    assert (~held.applied.astype(bool)).all()
    with pytest.raises(RedError, match="unknown judge verdict"):
        review_queue(p, verdict="maybe")


def test_labels_already_rejected_are_never_offered_first(proj):
    p = proj
    item = review_queue(p, status="pending", limit=1).iloc[0]
    alts = [a for a in item.alternatives if a != item.label]
    if not alts:
        alts = [x for x in p.labels() if x != item.label][:2]
    top = alts[0]
    # the judge said earlier that the top alternative is wrong for this text (unapplied, even)
    p.record_verdicts(None, None, [{"sample_id": item.sample_id, "label": top, "valid": False,
                                    "confidence": 0.9, "judge_kind": "simulated", "applied": False}])
    rejected = rejected_labels(p, item.sample_id)
    assert top in rejected
    offered, order = offered_labels(p.labels(), item.label, item.alternatives, rejected)
    assert top not in offered and order[0] != top and order[-len(rejected - {item.label}):].count(top) == 1
    assert item.label not in order and sorted(order) == sorted(x for x in p.labels() if x != item.label)
    # a person's later 'valid' on that label lifts the rejection
    decide(p, sample_id=item.sample_id, proposed=item.label, action="another", label=top, reviewer="ana",
           seen_event=0)
    assert top not in rejected_labels(p, item.sample_id) and item.label in rejected_labels(p, item.sample_id)
    words = earlier_verdicts(p, item.sample_id)
    assert list(words.kind).count("judge") >= 2 and (words.kind == "person").sum() == 2
    assert words.said_at.is_monotonic_increasing


def test_model_labels_below_a_threshold_are_a_review_queue(proj):
    p = proj
    q = model_label_queue(p, 0.6, limit=1000)
    assert len(q) == model_queue_size(p, 0.6) > 0
    assert (q.confidence < 0.6).all() and q.confidence.is_monotonic_increasing
    assert model_queue_size(p, 0.9) >= len(q)
    decided = set(p.current_labels().sample_id)
    assert decided.isdisjoint(q.sample_id)
    item = q.iloc[0]
    decide(p, sample_id=item.sample_id, proposed=item.label, action="right", reviewer="ana",
           seen_event=int(item.last_human_event), note="model label")
    assert model_queue_size(p, 0.6) == len(q) - 1 and _label(p, item.sample_id) == item.label
    row = p.current_labels().set_index("sample_id").loc[item.sample_id]
    assert row.origin == "human" and row.actor == "ana"
    one = model_label_queue(p, 0.6, label=q.label.iloc[1])
    assert (one.label == q.label.iloc[1]).all()
    undo_last(p, "ana")
    assert model_queue_size(p, 0.6) == len(q)


def test_the_simulated_judges_rationale_gives_no_gold_away():
    from red_app.judges.base import JudgeRequest

    gold = {f"s{i}": "card_arrival" for i in range(200)}
    judge = SimulatedJudge(gold, accuracy=0.7, seed=1)
    said = {}
    for sid in gold:
        for label in ("card_arrival", "lost_card"):
            v = judge.judge(JudgeRequest(sample_id=sid, text="t", label=label))
            said.setdefault(v.rationale, set()).add(v.valid == (label == "card_arrival"))
            assert "card_arrival" not in v.rationale and "gold label" not in v.rationale
    # one rationale for right and wrong answers alike: it cannot tell a reviewer which is which
    assert len(said) == 1 and said[next(iter(said))] == {True, False}


def test_cli_bulk_review_and_undo(judged_project, tmp_path, capsys):
    from red_app.cli.main import main

    path = tmp_path / "p.duckdb"
    shutil.copy(judged_project, path)
    with Project(path) as p:
        q = review_queue(p, verdict="valid", status="pending", limit=500)
    label = q.label.value_counts().index[0]
    n = int((q.label == label).sum())
    args = ["bulk-review", str(path), "--decision", "right", "--judge", "valid", "--label", label,
            "--reviewer", "ana"]
    assert main(args) == 1  # no terminal to confirm on, and no --yes: nothing recorded
    assert "confirm with --yes" in capsys.readouterr().err
    assert main(args + ["--yes"]) == 0
    out = capsys.readouterr().out
    assert f"{n} verdicts match" in out and f"recorded {n} decisions" in out
    assert main(["undo", str(path), "--reviewer", "ana"]) == 0
    assert f"{n} text(s)" in capsys.readouterr().out
    assert main(["undo", str(path), "--reviewer", "ana"]) == 1
    assert "no decision to undo" in capsys.readouterr().err
    with Project(path, read_only=True) as p:
        assert queue_size(p, "pending", label=label, verdict="valid") == n
