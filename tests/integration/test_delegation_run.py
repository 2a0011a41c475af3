"""Judge-aware delegation and people's authority, in real project runs on real data."""

import threading
import time

import numpy as np

from red_app.judges.simulated import REALISTIC, SimulatedJudge
from red_app.method.config import LoopConfig
from red_app.project.reviews import queue_size, review_queue
from red_app.project.store import Project
from red_app.workflows.review import decide
from red_app.workflows.runner import run_project


def _gold(p):
    return {**p.seed_labels(), **p.hidden_gold(role="pool")}


def _judge_labels(p):
    """(sample, label, gold) of every current label a judge decided."""
    return p.cursor().execute(
        """SELECT c.sample_id, c.label, s.gold_label FROM (SELECT * FROM annotations WHERE origin = 'judge') a
           JOIN samples s ON s.id = a.sample_id
           JOIN (SELECT sample_id, arg_max(label, event_id) AS label FROM annotations
                 WHERE verdict = 'valid' GROUP BY sample_id) c ON c.sample_id = a.sample_id
           WHERE a.verdict = 'valid' AND c.label = a.label""").fetchall()


def test_a_yes_biased_judge_is_measured_on_seeds_and_only_sure_verdicts_are_applied(small_copy):
    with Project(small_copy) as p:
        judge = SimulatedJudge(_gold(p), p_valid_right=REALISTIC[0], p_valid_wrong=REALISTIC[1], seed=1)
        assert not judge.trusted
        records = list(run_project(p, judge, LoopConfig(budget=300, batch=60, patience=None)))
        cal = p.run_calibration(1)
        assert cal["pairs"] == 80 and cal["answered"] == 80
        rows = dict(((r[0], r[1]), r[2]) for r in p.cursor().execute(
            "SELECT purpose, applied, count(*) FROM judge_verdicts GROUP BY ALL").fetchall())
        assert rows[("calibration", False)] == 80
        # the measurement's verdicts are about seeds and never become annotations
        leaked = p.cursor().execute(
            """SELECT count(*) FROM annotations a JOIN judge_verdicts v USING (verdict_id)
               WHERE v.purpose = 'calibration'""").fetchall()[0][0]
        assert leaked == 0
        assert p.run_calls(1) == records[-1].total_calls <= 300
        labels = _judge_labels(p)
        assert len(labels) >= 20
        precision = np.mean([lab == gold for _, lab, gold in labels])
        assert precision >= 0.9, precision
        # what did not clear the target waits for people, applied nowhere
        held = sum(r.held for r in records)
        assert held == queue_size(p, "needs_review") == rows.get(("run", False), 0)
        if held:
            q = review_queue(p, status="needs_review")
            assert not q["applied"].any() and q["p_right"].between(0, 1).all()


def test_the_same_judge_taken_at_its_word_applies_wrong_labels(small_copy):
    """The contrast the delegation exists for: trusting a yes-biased judge is measurably worse."""
    from red_app.method.delegation import Delegation
    from red_app.method.loop import RedLoop
    from red_app.workflows.runner import load_inputs

    with Project(small_copy) as p:
        data, state = load_inputs(p)
        judge = SimulatedJudge(_gold(p), p_valid_right=REALISTIC[0], p_valid_wrong=REALISTIC[1], seed=1)
        # binary questions: a yes-biased judge's "valid" on the top label, taken at its word
        loop = RedLoop(LoopConfig(budget=300, batch=60, patience=None, question="binary"), judge,
                       delegation=Delegation(None))
        list(loop.run(data, state))
        new = np.flatnonzero((state.y >= 0) & (data.gold >= 0))
        assert len(new) and (state.y[new] == data.gold[new]).mean() < 0.85


class _SlowJudge(SimulatedJudge):
    """The perfect simulated judge, slowed so people can act while a run is going."""

    def judge(self, request):
        time.sleep(0.01)
        return super().judge(request)


def test_people_deciding_during_a_run_are_never_overwritten(small_copy):
    with Project(small_copy) as p:
        gold = _gold(p)
        judge = _SlowJudge(gold)
        cfg = LoopConfig(budget=900, batch=150, patience=None, on_reject="next")
        errors = []

        def work():
            try:
                with Project(small_copy) as own:  # a run of its own, as the app's background runs have
                    list(run_project(own, judge, cfg))
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

        t = threading.Thread(target=work)
        t.start()
        labels = p.labels()
        decided = {}
        deadline = time.time() + 120
        while len(decided) < 60 and t.is_alive() and time.time() < deadline:
            preds = p.cursor().execute(
                """SELECT sample_id, label FROM predictions ORDER BY uncertainty DESC LIMIT 400""").fetchall()
            for sid, lab in preds:
                if sid in decided or len(decided) >= 60:
                    continue
                # a deliberately *different* label than gold: a judge that overwrote it would restore gold
                wrong = next(x for x in labels if x != gold[sid] and x != lab)
                try:
                    decide(p, sample_id=sid, proposed=lab, action="override", label=wrong, reviewer="ana",
                           seen_event=p.last_human_event())
                    decided[sid] = wrong
                except Exception:
                    pass
            time.sleep(0.05)
        t.join(timeout=300)
        assert not errors and not t.is_alive()
        assert len(decided) >= 30, "the run ended before people could decide during it"
        cur = p.current_labels().set_index("sample_id")
        kept = [sid for sid, lab in decided.items() if cur.loc[sid, "label"] == lab and cur.loc[sid, "origin"] == "human"]
        assert len(kept) == len(decided)
        # no judge event was appended to a sample after a person decided it
        late = p.cursor().execute(
            """SELECT count(*) FROM annotations j JOIN (SELECT sample_id, min(event_id) AS first_human
                   FROM annotations WHERE origin = 'human' GROUP BY sample_id) h USING (sample_id)
               WHERE j.origin = 'judge' AND j.event_id > h.first_human""").fetchall()[0][0]
        assert late == 0
