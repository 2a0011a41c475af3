"""Human review on a real run: overrides, conflicts between two reviewers, agreement figures."""

import threading

import pytest

from red_app.judges.simulated import SimulatedJudge
from red_app.method.config import LoopConfig
from red_app.project.store import Project
from red_app.workflows.review import (
    ReviewConflictError,
    agreement,
    decide,
    nearest_examples,
    review_queue,
)
from red_app.workflows.runner import load_inputs, run_project


@pytest.fixture
def reviewed(small_copy):
    p = Project(small_copy)
    gold = dict(p.cursor().execute("SELECT id, gold_label FROM samples WHERE role = 'pool'").fetchall())
    list(run_project(p, SimulatedJudge(gold, accuracy=0.75, seed=2), LoopConfig(budget=80, batch=40, patience=None, calibration_seeds=0)))
    yield p, gold
    p.close()


def test_override_feeds_the_next_iteration_and_agreement(reviewed):
    p, gold = reviewed
    q = review_queue(p, status="pending", limit=500)
    assert len(q) > 0 and q["uncertainty"].is_monotonic_decreasing
    wrong = q[q.apply(lambda r: bool(r.valid) != (gold[r.sample_id] == r.label), axis=1)]
    right = q[q.apply(lambda r: bool(r.valid) == (gold[r.sample_id] == r.label), axis=1)]
    assert len(wrong) and len(right)
    w, r = wrong.iloc[0], right.iloc[0]
    decide(p, sample_id=w.sample_id, proposed=w.label, action="override", label=gold[w.sample_id],
           reviewer="ana", seen_event=int(w.last_human_event), verdict_id=int(w.verdict_id))
    action = "accept" if r.valid else "reject"
    decide(p, sample_id=r.sample_id, proposed=r.label, action=action, reviewer="ana",
           seen_event=int(r.last_human_event), verdict_id=int(r.verdict_id))
    cur = p.current_labels().set_index("sample_id")
    assert cur.loc[w.sample_id, "label"] == gold[w.sample_id] and cur.loc[w.sample_id, "actor"] == "ana"
    data, state = load_inputs(p)  # what the next iteration trains on
    i = data.ids.index(w.sample_id)
    assert data.label_names[state.y[i]] == gold[w.sample_id]
    a = agreement(p)
    # the override's chosen label counts too when the judge had been asked about it (and
    # then the judge had rejected it, so that pair disagrees)
    assert a["human_reviewed"] in (2, 3)
    assert a["judge_human_agreement"] == pytest.approx(1 / a["human_reviewed"])
    assert 0.6 < a["judge_gold_accuracy"] < 0.9
    ov = a["overrides"]
    if w.valid:  # an override of a 'valid' verdict shows in the confusion view
        assert (ov.judge_label == w.label).any()
    assert len(review_queue(p, status="pending", limit=500)) == len(q) - 2


def test_two_reviewers_on_one_sample_get_a_conflict_not_a_silent_overwrite(reviewed):
    p, gold = reviewed
    item = review_queue(p, status="pending", limit=1).iloc[0]
    seen = int(item.last_human_event)
    results = {}

    def review(name, action):
        try:
            decide(p, sample_id=item.sample_id, proposed=item.label, action=action, reviewer=name, seen_event=seen)
            results[name] = "ok"
        except ReviewConflictError as exc:
            results[name] = str(exc)

    threads = [threading.Thread(target=review, args=("ana", "accept")),
               threading.Thread(target=review, args=("ben", "reject"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results.values()).count("ok") == 1
    loser = next(n for n, v in results.items() if v != "ok")
    assert "already decided" in results[loser]
    n_human = p.cursor().execute("SELECT count(*) FROM annotations WHERE origin = 'human'").fetchall()[0][0]
    assert n_human == 1


def test_nearest_examples_are_of_the_label_and_sorted(reviewed):
    p, _ = reviewed
    item = review_queue(p, status="all", limit=1).iloc[0]
    ex = nearest_examples(p, item.sample_id, item.label, k=4)
    assert len(ex) == 4 and [s for _, _, s in ex] == sorted((s for _, _, s in ex), reverse=True)
    cur = p.current_labels().set_index("sample_id")
    assert all(cur.loc[i, "label"] == item.label for i, _, _ in ex)


def test_a_decision_needs_a_name_and_a_known_label(reviewed):
    from red_app.errors import RedError

    p, _ = reviewed
    item = review_queue(p, status="pending", limit=1).iloc[0]
    with pytest.raises(RedError, match="name"):
        decide(p, sample_id=item.sample_id, proposed=item.label, action="accept", reviewer="  ")
    with pytest.raises(RedError, match="unknown label"):
        decide(p, sample_id=item.sample_id, proposed=item.label, action="override", label="nope", reviewer="ana")
