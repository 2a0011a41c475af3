"""A broken judge pauses the run (issue #9 item 7): each of the 13 fault modes of an
Ollama server, produced for real on the wire by tests/doubles/ollama_faults.py (a TEST
DOUBLE: no Ollama server can be installed here), through the real `ollama` client and
`red run`. For every mode: no traceback, failed calls never charged, and either the run
ends *interrupted* with the reason (exit 1) and resumes once the server is fixed, or — for
a server that fails one call in two — retries absorb it and the budget is spent exactly.
"""

import socket

import pytest

from red_app.cli.main import main
from red_app.project.store import Project
from tests.doubles.ollama_faults import OllamaFaults

BUDGET = 16
MODES = ["tags_500", "tags_404", "tags_no_model", "tags_hang", "tags_not_json", "chat_drop",
         "chat_garbage_body", "chat_garbage_content", "chat_500", "chat_hang", "chat_valid_yes", "chat_trickle"]


def _run(project, url, *extra):
    return main(["run", str(project), "--judge", "ollama", "--ollama-host", url, "--ollama-model", "double-judge",
                 "--timeout", "1", "--budget", str(BUDGET), "--batch", "8", "--calibration-seeds", "0",
                 "--patience", "100", *extra])


def _charged_and_answered(project):
    with Project(project, read_only=True) as p:
        runs = p.runs()
        answered = p.cursor().execute("SELECT count(*) FROM judge_verdicts WHERE valid IS NOT NULL").fetchall()[0][0]
        charged = sum(p.run_calls(int(r)) for r in runs.run_id)
        return runs, charged, answered, p.resumable_run()


def _check_paused(project, rc, err):
    assert "Traceback" not in err
    assert rc == 1, err
    runs, charged, answered, resumable = _charged_and_answered(project)
    assert charged == answered == 0  # nothing was answered, so nothing was charged
    if len(runs):  # the run began: it stopped as interrupted, with the reason, resumable
        last = runs.iloc[-1]
        assert last.status == "interrupted", last.status
        assert last.termination.startswith(("judge failing", "judge unavailable")), last.termination
        assert resumable == int(last.run_id)
    return runs


def test_a_closed_port_pauses_without_a_traceback(small_copy, capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    rc = _run(small_copy, f"http://127.0.0.1:{port}")
    cap = capsys.readouterr()
    _check_paused(small_copy, rc, cap.err)
    assert "ollama serve" in cap.out + cap.err  # the reason, with the fix


@pytest.mark.parametrize("mode", MODES)
def test_each_fault_mode_pauses_the_run_and_resumes_once_fixed(small_copy, capsys, mode):
    with OllamaFaults(mode) as server:
        rc = _run(small_copy, server.url)
        err = capsys.readouterr().err
        runs = _check_paused(small_copy, rc, err)
        server.mode = "ok"  # the server is fixed
        rc = _run(small_copy, server.url, "--resume") if len(runs) else _run(small_copy, server.url)
        err = capsys.readouterr().err
    assert rc == 0 and "Traceback" not in err, err
    runs, charged, answered, resumable = _charged_and_answered(small_copy)
    assert runs.status.tolist()[-1] == "finished" and resumable is None
    assert charged == answered == BUDGET  # the budget holds only answered calls, across the pause


def test_one_failure_in_two_is_absorbed_by_retries_and_never_charged(small_copy, capsys):
    with OllamaFaults("chat_every_other") as server:
        rc = _run(small_copy, server.url)
        err = capsys.readouterr().err
        chats = server.chats
    assert rc == 0 and "Traceback" not in err, err
    runs, charged, answered, _ = _charged_and_answered(small_copy)
    assert runs.status.tolist() == ["finished"]
    assert charged == answered == BUDGET and chats >= 2 * BUDGET - 1  # every failure was retried, none charged
