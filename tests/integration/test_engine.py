"""The R.E.D. loop on real data: it must beat seeds only, persist, and survive a kill."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from red_app.judges.simulated import SimulatedJudge
from red_app.method.config import LoopConfig
from red_app.project.store import Project
from red_app.workflows.runner import load_inputs, run_project


def _gold(p):
    return dict(p.cursor().execute("SELECT id, gold_label FROM samples WHERE role = 'pool'").fetchall())


def test_a_small_real_run_beats_seeds_only(small_copy):
    from red_app.method.classifiers import FlatClassifier

    with Project(small_copy) as p:
        data, state = load_inputs(p)
        seeds_only = FlatClassifier(n_labels=len(data.label_names)).fit(data.X[state.y >= 0], state.y[state.y >= 0])
        base = float((seeds_only.predict(data.X_eval) == data.y_eval).mean())
        cfg = LoopConfig(budget=240, batch=60, patience=None, self_training=None)
        records = list(run_project(p, SimulatedJudge(_gold(p)), cfg))
        assert records[-1].total_calls == 240
        assert records[-1].eval_accuracy > base + 0.01
        st = p.status()
        assert st["labeled_by_origin"]["judge"] == sum(r.accepted for r in records) > 0
        iters = p.iterations()
        assert len(iters) == len(records) and iters.calls.sum() == 240
        n_verdicts = p.cursor().execute("SELECT count(*) FROM judge_verdicts").fetchall()[0][0]
        assert n_verdicts == 240
        # every judge annotation points at its audit record
        orphans = p.cursor().execute(
            """SELECT count(*) FROM annotations a WHERE origin = 'judge'
               AND NOT EXISTS (SELECT 1 FROM judge_verdicts v WHERE v.verdict_id = a.verdict_id)""").fetchall()[0][0]
        assert orphans == 0
        assert p.runs().status.tolist() == ["finished"]


def test_the_article_design_runs_too(small_copy):
    with Project(small_copy) as p:
        cfg = LoopConfig(budget=60, batch=30, selector="red", final_model="red", uncertainty="entropy",
                         on_reject="skip", self_training=None, n=5, patience=None)
        records = list(run_project(p, SimulatedJudge(_gold(p)), cfg))
        assert sum(r.calls for r in records) == 60
        assert all(len(r.subset_stats) == 3 for r in records)  # 15 labels in subsets of 5
        assert sum(s["selected"] for r in records for s in r.subset_stats) == 60


def test_an_imperfect_judge_is_recorded_faithfully(small_copy):
    with Project(small_copy) as p:
        gold = _gold(p)
        list(run_project(p, SimulatedJudge(gold, accuracy=0.7, seed=3),
                         LoopConfig(budget=100, batch=50, patience=None, self_training=None, calibration_seeds=0)))
        v = p.cursor().execute("SELECT sample_id, label, valid FROM judge_verdicts").fetchall()
        right = np.mean([(gold[s] == lab) == valid for s, lab, valid in v])
        assert 0.5 < right < 0.9


def test_a_run_killed_mid_iteration_resumes_with_nothing_lost(small_copy):
    env = dict(os.environ, HF_HUB_OFFLINE="1", RED_SLOW_JUDGE_MS="40")
    red = Path(sys.executable).parent / "red"
    proc = subprocess.Popen(
        [str(red), "run", str(small_copy), "--budget", "300", "--batch", "100", "--self-training", "-1",
         "--patience", "100"], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)  # an unread pipe could fill and block it
    # the project is locked while the run writes, so follow its output: once the first
    # iteration is reported, let the second one commit a chunk or two, then kill it hard
    deadline = time.time() + 300
    for line in proc.stdout:
        if line.startswith("iteration 1:") or time.time() > deadline:
            break
    time.sleep(2.0)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    with Project(small_copy, read_only=True) as p:
        before = p.cursor().execute("SELECT count(*) FROM judge_verdicts").fetchall()[0][0]
        events_before = p.cursor().execute("SELECT count(*) FROM annotations WHERE origin = 'judge'").fetchall()[0][0]
        finished_calls = int(p.iterations().calls.sum())
        assert p.runs().status.tolist() == ["running"]
        assert len(p.iterations()) == 1
        # verdicts of the unfinished iteration were committed as they arrived
        assert finished_calls < before < 300
    out = subprocess.run([str(red), "run", str(small_copy), "--resume"], env=env, capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    with Project(small_copy, read_only=True) as p:
        after = p.cursor().execute("SELECT count(*) FROM judge_verdicts").fetchall()[0][0]
        events = p.cursor().execute("SELECT count(*) FROM annotations WHERE origin = 'judge'").fetchall()[0][0]
        runs = p.runs()
        assert after == 300 and events >= events_before  # the budget is shared across the kill
        assert runs.status.tolist() == ["finished"] and len(runs) == 1
        # no sample was asked about the same label twice
        dup = p.cursor().execute(
            "SELECT count(*) FROM (SELECT sample_id, label FROM judge_verdicts GROUP BY ALL HAVING count(*) > 1)"
        ).fetchall()[0][0]
        assert dup == 0
        # the per-iteration figures add up to the verdicts exactly, the iteration the kill
        # cut short included (its verdicts before the kill count where they were made)
        it = p.iterations()
        v = p.cursor().execute(
            """SELECT iteration, count(*), count(*) FILTER (applied AND valid), count(*) FILTER (applied AND NOT valid),
                      count(*) FILTER (valid IS NULL)
               FROM judge_verdicts WHERE purpose = 'run' GROUP BY iteration ORDER BY iteration""").fetchall()
        assert [(int(r.iteration), int(r.calls), int(r.accepted), int(r.rejected), int(r.errors))
                for r in it.itertuples()] == [tuple(map(int, row)) for row in v]
        assert int(it.calls.sum()) == 300


def test_judge_eval_measures_agreement_with_gold(small_copy):
    from red_app.workflows.judge_eval import judge_eval

    with Project(small_copy) as p:
        perfect = judge_eval(p, SimulatedJudge(_gold(p), accuracy=1.0), n=40)
        noisy = judge_eval(p, SimulatedJudge(_gold(p), accuracy=0.6, seed=4), n=40)
    assert perfect["asked"] == 40 and perfect["accuracy"] == 1.0 and perfect["precision_valid"] == 1.0
    assert 0.3 < noisy["accuracy"] < 0.9


def test_judge_eval_from_seeds_needs_no_gold_and_keeps_every_verdict(small_copy):
    import subprocess
    import sys
    from pathlib import Path

    from red_app.workflows.judge_eval import judge_eval, remembered

    with Project(small_copy) as p:
        gold = {**p.seed_labels(), **_gold(p)}
        biased = SimulatedJudge(gold, p_valid_right=0.97, p_valid_wrong=0.55, seed=5)
        res = judge_eval(p, biased, n=60, from_seeds=True, question="binary")
        assert res["mode"] == "seeds" and res["asked"] == 120 and res["answered"] == 120
        # the yes-bias shows: few right labels rejected, about half the wrong ones let through
        assert res["right_rejected"] < 0.15 and 0.25 < res["wrong_caught"] < 0.7
        assert 0.6 < res["auc"] < 0.85
        stored = p.cursor().execute(
            "SELECT count(*), count(*) FILTER (WHERE applied) FROM judge_verdicts WHERE purpose = 'eval'").fetchall()[0]
        assert stored == (120, 0)  # kept for the audit, never applied
        assert remembered(p, "simulated", biased.model)["auc"] == res["auc"]
        perfect = judge_eval(p, SimulatedJudge(gold), n=30, from_seeds=True, question="binary")
        assert perfect["auc"] == 1.0 and perfect["informative"]
        # the question a run asks by default: choose, each seed with its own label offered and not
        chosen = judge_eval(p, biased, n=60, from_seeds=True)
        assert chosen["question"] == "choose" and chosen["asked"] == 120
        # offered, it finds the right label (0.97); not offered, it names a wrong one about half the time
        assert chosen["right_rejected"] < 0.15 and 0.25 < chosen["wrong_caught"] < 0.7
        assert judge_eval(p, SimulatedJudge(gold), n=30, from_seeds=True)["auc"] == 1.0
    saved = small_copy.parent / "judge-profile.json"
    out = subprocess.run([str(Path(sys.executable).parent / "red"), "judge-eval", str(small_copy), "--from-seeds",
                          "--n", "10", "--judge", "simulated", "--judge-profile", "realistic",
                          "--save-profile", str(saved)], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "ROC AUC" in out.stdout and "wrong caught" in out.stdout and "20 of 20 answered" in out.stdout
    assert "choose questions on seeds" in out.stdout and "profile written to" in out.stdout
    # the saved habits drive a simulated judge: never "none" with the label offered, often a wrong pick without
    from red_app.judges.simulated import parse_profile

    fitted = parse_profile(str(saved))
    assert fitted.none_present <= 0.2 and fitted.none_absent < 0.9 and len(fitted.hit) >= 2
    out = subprocess.run([str(Path(sys.executable).parent / "red"), "judge-eval", str(small_copy), "--n", "10",
                          "--judge", "simulated", "--save-profile", str(saved)], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 1 and "--save-profile needs --from-seeds" in out.stderr
    out = subprocess.run([str(Path(sys.executable).parent / "red"), "judge-eval", str(small_copy), "--from-seeds",
                          "--n", "10", "--judge", "simulated", "--question", "binary"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and "seed pairs" in out.stdout, out.stderr
