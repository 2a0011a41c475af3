"""The human judge: the run's proposals wait in Review's needs_review queue, the run waits
for people's answers (given from another thread through the review API), uses each one,
stops cleanly when nobody answers in time, and resumes waiting for the rest."""

import threading
import time

from red_app.judges.human import HumanJudge
from red_app.method.config import LoopConfig
from red_app.project.reviews import queue_size, review_queue
from red_app.project.store import Project
from red_app.workflows.review import decide
from red_app.workflows.runner import run_project


def _answer_all(p, gold, reviewer="ana", wrong_every=0):
    """Answer every needs_review proposal as a person would (right, or another label)."""
    q = review_queue(p, status="needs_review", limit=1000)
    for k, row in enumerate(q.itertuples()):
        right = gold[row.sample_id]
        action = "accept" if row.label == right else "override"
        decide(p, sample_id=row.sample_id, proposed=row.label, action=action, label=right, reviewer=reviewer,
               seen_event=p.last_human_event(), verdict_id=row.verdict_id)
    return len(q)


def test_the_run_waits_for_answers_in_review_and_trains_on_them(small_copy):
    with Project(small_copy) as p:
        gold = p.hidden_gold(role="pool")
        judge = HumanJudge(wait=60, poll=0.05)
        records, errors = [], []

        def work():
            try:
                with Project(small_copy) as own:  # a run of its own, as the app's background runs have
                    records.extend(run_project(own, judge, LoopConfig(budget=40, batch=20, patience=None),
                                               label_everything=False))
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

        t = threading.Thread(target=work)
        t.start()
        answered = 0
        deadline = time.time() + 120
        while t.is_alive() and time.time() < deadline:
            # the run is waiting: its proposals are in the needs_review queue and it says how many
            if queue_size(p, "needs_review"):
                n = queue_size(p, "needs_review")
                time.sleep(0.2)
                runs = p.runs()
                assert runs.iloc[-1].status == "running" and p.run_waiting(1) == n
                answered += _answer_all(p, gold)
            time.sleep(0.05)
        t.join(timeout=60)
        assert not errors and not t.is_alive()
        # the loop did not wait for whole batches: it refit once half a batch was answered and
        # topped the queue up, so every proposal went out once over more than two iterations
        assert answered == 40 and len(records) >= 2 and sum(r.held for r in records) == 40
        assert all(r.held <= 20 for r in records)
        runs = p.runs()
        assert runs.iloc[-1].status == "finished" and p.run_waiting(1) == 0
        # every answer is a person's label, and the run learnt from them
        cur = p.current_labels().set_index("sample_id")
        human = cur[cur.origin == "human"]
        assert len(human) == 40 and all(human.loc[s, "label"] == gold[s] for s in human.index)
        # each proposal is charged once, and no judge label was ever applied
        assert p.run_calls(1) == 40
        assert p.cursor().execute("SELECT count(*) FROM annotations WHERE origin = 'judge'").fetchall()[0][0] == 0
        rows = p.cursor().execute("SELECT DISTINCT judge_kind, applied FROM judge_verdicts").fetchall()
        assert rows == [("human", False)]


def test_no_answer_in_time_stops_the_run_resumably_and_resume_waits_for_the_rest(small_copy):
    with Project(small_copy) as p:
        gold = p.hidden_gold(role="pool")
        cfg = LoopConfig(budget=30, batch=15, patience=None)
        recs = list(run_project(p, HumanJudge(wait=0.3, poll=0.05), cfg, label_everything=False))
        run = p.runs().iloc[-1]
        assert recs == [] or all(r.held == 15 for r in recs)
        assert run.status == "interrupted" and run.termination.startswith("waiting for 15 answers in Review")
        assert p.resumable_run() == 1 and p.run_waiting(1) == 15
        # someone answers 5 of them, then the run is resumed: it reads them and waits for the other 10
        q = review_queue(p, status="needs_review", limit=5)
        for row in q.itertuples():
            decide(p, sample_id=row.sample_id, proposed=row.label, action="override", label=gold[row.sample_id],
                   reviewer="bo", seen_event=p.last_human_event())
        list(run_project(p, HumanJudge(wait=0.3, poll=0.05), resume=1, label_everything=False))
        run = p.runs().iloc[-1]
        assert run.status == "interrupted" and run.termination.startswith("waiting for 10 answers")
        assert p.run_calls(1) == 15  # the resumed run sent nothing new while answers were missing
        # answered from another thread while the resumed run waits: the run goes on and finishes
        stop = threading.Event()

        def person():  # a person in the app has a connection of their own, as here
            with Project(small_copy) as own:
                while not stop.is_set():
                    if queue_size(own, "needs_review"):
                        _answer_all(own, gold, reviewer="cy")
                    time.sleep(0.05)

        t = threading.Thread(target=person)
        t.start()
        try:
            list(run_project(p, HumanJudge(wait=60, poll=0.05), resume=1, label_everything=False))
        finally:
            stop.set()
            t.join()
        run = p.runs().iloc[-1]
        assert run.status == "finished" and p.run_calls(1) == 30
        assert queue_size(p, "needs_review") == 0


def test_stopping_a_waiting_run_ends_it_cleanly(small_copy):
    with Project(small_copy) as p:
        flag = threading.Event()

        def progress(stage):  # stopped by a person once the proposals are out and the run waits
            if stage.stage == "waiting for people's answers":
                threading.Timer(0.3, flag.set).start()

        list(run_project(p, HumanJudge(wait=None, poll=0.05), LoopConfig(budget=10, batch=10, patience=None),
                         should_stop=flag.is_set, label_everything=False, progress=progress))
        run = p.runs().iloc[-1]
        assert run.status == "stopped" and run.termination == "stopped by user"
        assert queue_size(p, "needs_review") == 10  # the proposals stay for people


def test_a_cli_run_with_people_as_the_judge_goes_on_while_another_process_answers(small_copy):
    """`red run --judge human` in one process, a person answering in another (through the same
    answer path as Review and `red review`): the run writes only between steps, so both get
    in, and it refits and proposes more as the answers come."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = dict(os.environ, HF_HUB_OFFLINE="1", RED_LOCK_WAIT="60")
    person = subprocess.Popen(
        [sys.executable, "-c", "import sys; from red_app.workflows.people import SimulatedPerson; "
         "print(SimulatedPerson(sys.argv[1], reviewer='ana').answer_until_done(idle_seconds=300))", str(small_copy)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    red = Path(sys.executable).parent / "red"
    try:
        run = subprocess.run([str(red), "run", str(small_copy), "--judge", "human", "--budget", "40", "--batch", "10",
                              "--wait", "300", "--poll", "0.2"], capture_output=True, text=True, env=env, timeout=900)
        out, err = person.communicate(timeout=300)
    finally:
        person.kill()
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr + err, run.stderr + err
    answered = int(out.strip().splitlines()[-1])
    with Project(small_copy) as p:
        gold = p.hidden_gold(role="pool")
        last = p.runs().iloc[-1]
        assert last.status == "finished", last.termination
        iters = p.iterations(int(last.run_id))
        assert p.run_calls(int(last.run_id)) >= 36 and len(iters) >= 3, (p.run_calls(int(last.run_id)), len(iters))
        # every answer the person gave is the text's label now, and the run counted them
        human = p.current_labels().query("origin == 'human'")
        assert len(human) >= 36 and answered >= 36
        assert all(lab == gold[sid] for sid, lab in zip(human.sample_id, human.label))
        assert int(iters.accepted.sum()) == len(human)


def _proposals(path, n: int = 10):
    """A run with people as the judge that sent ``n`` proposals and paused waiting for them."""
    with Project(path) as p:
        list(run_project(p, HumanJudge(wait=0.2, poll=0.05), LoopConfig(budget=n, batch=n, patience=None),
                         label_everything=False))


def test_people_sharing_a_queue_are_never_shown_the_same_text(small_copy):
    from red_app.workflows.people import answer, next_question

    _proposals(small_copy)
    with Project(small_copy) as p:
        a, b = next_question(p, "ana"), next_question(p, "ben")
        assert a is not None and b is not None and a.sample_id != b.sample_id  # each holds their own
        assert next_question(p, "ana").sample_id == a.sample_id  # and finds it again
        answer(p, a, a.candidates[0], "ana")
        again = next_question(p, "ana")
        assert again.sample_id not in (a.sample_id, b.sample_id)


def test_red_review_answers_with_one_key_each_in_a_terminal(small_copy):
    """`red review` reads one key per text (a line each where stdin is not a terminal)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    _proposals(small_copy, n=6)
    red = Path(sys.executable).parent / "red"
    keys = "1\n0\ns\n1\nq\n"  # pick, none of these, skip, pick, quit
    out = subprocess.run([str(red), "review", str(small_copy), "--reviewer", "cy"], input=keys, text=True,
                         capture_output=True, timeout=300, env=dict(os.environ, HF_HUB_OFFLINE="1"))
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
    assert out.stdout.count("recorded:") == 3 and "none of these" in out.stdout
    with Project(small_copy) as p:
        rows = p.cursor().execute("SELECT sample_id, verdict FROM annotations WHERE origin = 'human' AND actor = 'cy'"
                                  ).fetchall()
    assert len({s for s, _ in rows}) == 3 and {"valid", "invalid"} <= {v for _, v in rows}


def test_a_second_run_is_refused_while_one_is_going_even_under_another_path(small_copy):
    import os
    import subprocess
    import sys
    import time
    from pathlib import Path

    red = Path(sys.executable).parent / "red"
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    first = subprocess.Popen([str(red), "run", str(small_copy), "--judge", "human", "--budget", "10", "--batch", "5",
                              "--wait", "120"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 240
        while time.time() < deadline:
            with Project(small_copy, read_only=True) as p:
                if p.live_run() is not None:
                    break
            time.sleep(0.5)
        other = small_copy.parent / "sub"
        other.mkdir()
        spelled = other / ".." / small_copy.name  # the same file under another spelling
        second = subprocess.run([str(red), "run", str(spelled), "--judge", "simulated", "--budget", "10"], env=env,
                                capture_output=True, text=True, timeout=300)
        assert second.returncode == 1 and "Traceback" not in second.stderr
        assert "is going on this project" in second.stderr and str(first.pid) in second.stderr
        with Project(small_copy, read_only=True) as p:
            assert len(p.runs()) == 1  # no second run was recorded
    finally:
        first.kill()
        first.wait(timeout=30)
