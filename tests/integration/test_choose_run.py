"""Choose mode in real project runs: what was offered and what was picked is in the audit,
a "none" rejects every candidate, and a yes-leaning judge's picks are applied only where sure."""

import numpy as np

from red_app.judges.simulated import REALISTIC, SimulatedJudge
from red_app.method.config import LoopConfig
from red_app.project.reviews import queue_size
from red_app.project.store import Project
from red_app.workflows.runner import run_project


def _gold(p):
    return {**p.seed_labels(), **p.hidden_gold(role="pool")}


def test_a_choose_run_stores_the_candidates_and_the_choice_and_applies_them(small_copy):
    with Project(small_copy) as p:
        gold = _gold(p)
        records = list(run_project(p, SimulatedJudge(gold), LoopConfig(budget=120, batch=60, question="choose",
                                                                        choose_k=4, patience=None),
                                   label_everything=False))
        assert p.run_calls(1) == records[-1].total_calls == 120
        rows = p.cursor().execute(
            """SELECT sample_id, label, valid, candidates, choice FROM judge_verdicts
               WHERE purpose = 'run' ORDER BY verdict_id""").fetchall()
        assert len(rows) == 120
        picked = [r for r in rows if r[2]]
        nones = [r for r in rows if not r[2]]
        assert picked and nones
        for sid, label, valid, cands, choice in rows:
            assert 1 <= len(cands) <= 4 and len(set(cands)) == len(cands)
            if valid:  # the perfect judge picks the gold label, which was offered
                assert choice == label == gold[sid] and choice in cands
            else:
                assert choice is None and gold[sid] not in cands and label == cands[0]
        cur = p.current_labels().set_index("sample_id")
        assert all(cur.loc[sid, "label"] == gold[sid] for sid, *_ in picked)
        # a "none" rejected every candidate offered, so none of them is asked about again
        excluded = p.excluded_pairs()
        for sid, _, _, cands, _ in nones:
            assert {(sid, c) for c in cands} <= excluded
        # and a later question about such a sample offered other candidates only
        for sid, _, _, cands, _ in nones:
            later = [r for r in rows if r[0] == sid and r[3] != cands]
            for r in later:
                assert not set(r[3]) & set(cands)


def test_a_yes_leaning_choose_judge_is_measured_and_its_sure_picks_only_are_applied(small_copy):
    with Project(small_copy) as p:
        gold = _gold(p)
        judge = SimulatedJudge(gold, p_valid_right=REALISTIC[0], p_valid_wrong=REALISTIC[1], seed=1)
        records = list(run_project(p, judge, LoopConfig(budget=240, batch=60, question="choose", patience=None),
                                   label_everything=False))
        cal = p.run_calibration(1)
        assert cal["answered"] == 80 and cal["choice"]["k"] == 5
        assert cal["choice"]["hits"] >= 35  # it finds an offered gold label
        calib = p.cursor().execute(
            "SELECT count(*) FROM judge_verdicts WHERE purpose = 'calibration' AND candidates IS NOT NULL").fetchall()
        assert calib[0][0] == 80
        applied = p.cursor().execute(
            """SELECT v.choice, s.gold_label FROM judge_verdicts v JOIN samples s ON s.id = v.sample_id
               WHERE v.purpose = 'run' AND v.applied AND v.valid""").fetchall()
        assert len(applied) >= 20
        assert np.mean([c == g for c, g in applied]) >= 0.9
        held = sum(r.held for r in records)
        assert held == queue_size(p, "needs_review")
