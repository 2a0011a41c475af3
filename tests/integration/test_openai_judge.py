"""The openai judge through the real `openai` client against REAL llama.cpp servers.

Two llama.cpp HTTP servers (xllamacpp, SmolLM2-135M) listen on loopback for the whole
session: no doubles. SmolLM2 is close to chance as a judge, so these tests check the
plumbing — P(yes) read from log-probabilities, sharing between servers, fault handling,
a run that stores its verdicts — never verdict quality.
"""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from red_app.errors import JudgeUnavailableError
from red_app.judges import packaged_models
from red_app.judges.base import Example, JudgeRequest
from red_app.judges.openai_judge import OpenAIJudge, split_urls

MODEL = "smollm2-135m"
EXAMPLES = (Example("e1", "where is my card"), Example("e2", "my card has not arrived yet"))

needs_model = pytest.mark.skipif(not packaged_models.installed(MODEL),
                                 reason=f"the packaged {MODEL} model is not installed (run `make judge`)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _closed_url() -> str:
    return f"http://127.0.0.1:{_free_port()}/v1"  # nothing listens there once the socket is closed


@pytest.fixture(scope="session")
def servers():
    """Two real llama.cpp servers on free loopback ports; kept for the session (FACTS: never destroy one)."""
    if not packaged_models.installed(MODEL):
        pytest.skip(f"the packaged {MODEL} model is not installed (run `make judge`)")
    pytest.importorskip("xllamacpp", reason="llama.cpp's runtime is not installed (run `make judge`)")
    from red_app.judges.serve import start_server

    started = [start_server(MODEL, _free_port(), threads=1, slots=1) for _ in range(2)]
    return [url for _, url, _ in started], started[0][2]


def _req(text, label="card_arrival", sid="s1"):
    return JudgeRequest(sample_id=sid, text=text, label=label, description="asks when a new card arrives",
                        examples=EXAMPLES)


def test_urls_from_flags_and_the_page():
    assert split_urls(["host:8080", "http://b:81/v1,  c:82"]) == [
        "http://host:8080/v1", "http://b:81/v1", "http://c:82/v1"]


@needs_model
def test_each_server_gives_verdicts_with_p_yes(servers):
    urls, model_id = servers
    assert model_id == MODEL  # the alias clients use, not a file path
    for url in urls:
        j = OpenAIJudge(urls=[url], model=model_id)
        v = j.judge(_req("my new card still has not come"))
        assert v.error is None and v.valid in (True, False)
        p = v.extra["p_yes"]
        assert 0 <= p <= 1 and v.confidence == pytest.approx(max(p, 1 - p))
        assert v.prompt and "Answer yes or no." in v.prompt and v.prompt_hash and v.latency_ms > 0
        assert v.extra["server"] == url
        assert j.server_stats()[url]["requests"] == 1


@needs_model
def test_requests_are_spread_and_a_dead_server_is_set_aside(servers):
    urls, model_id = servers
    dead = _closed_url()
    j = OpenAIJudge(urls=[*urls, dead], model=model_id, concurrency=4)
    reqs = [_req(f"where is my card number {i}", sid=f"s{i}") for i in range(6)]
    verdicts = j.judge_many(reqs)
    assert all(v.error is None for v in verdicts)
    stats = j.server_stats()
    assert all(stats[u]["requests"] >= 1 and stats[u]["errors"] == 0 for u in urls)
    assert stats[urls[0]]["median_ms"] > 0 and stats[urls[1]]["median_ms"] > 0
    assert stats[dead]["set_aside"] and "unreachable" in stats[dead]["last_error"]
    assert {v.extra["server"] for v in verdicts} == set(urls)


@needs_model
def test_a_server_that_dies_between_requests_is_set_aside_and_the_other_answers(servers):
    urls, model_id = servers
    dead = _closed_url()
    j = OpenAIJudge(urls=[urls[0], dead], model=model_id, concurrency=1)
    j.check()
    j._servers[1].down_until = 0  # as if its cool-down had ended: it is tried again, fails, is set aside
    verdicts = j.judge_many([_req("card?", sid="a"), _req("my card", sid="b"), _req("card where", sid="c")])
    assert all(v.error is None and v.extra["server"] == urls[0] for v in verdicts)
    stats = j.server_stats()
    assert stats[dead]["set_aside"] and stats[dead]["errors"] <= 1


def test_closed_port_only_is_unavailable_naming_the_url():
    dead = _closed_url()
    j = OpenAIJudge(urls=[dead], model="anything")
    with pytest.raises(JudgeUnavailableError) as err:
        j.judge(_req("my card"))
    assert dead in str(err.value) and "red serve-judge" in str(err.value)


@needs_model
def test_unknown_model_is_a_clear_error_listing_the_models(servers):
    urls, _ = servers
    with pytest.raises(JudgeUnavailableError) as err:
        OpenAIJudge(urls=[urls[0]], model="no-such-model").check()
    assert "no-such-model" in str(err.value) and MODEL in str(err.value) and "--judge-model" in str(err.value)


@needs_model
def test_the_model_defaults_to_the_one_the_server_has_and_complete_writes_text(servers):
    urls, _ = servers
    j = OpenAIJudge(urls=[urls[0]])
    assert j.model == MODEL
    assert isinstance(j.complete([{"role": "user", "content": "Say hello."}], max_tokens=5), str)


@needs_model
def test_a_run_with_the_openai_judge_stores_verdicts_prompts_and_server_stats(servers, small_copy):
    from red_app.workflows.judging import JudgeSettings
    from red_app.method.config import LoopConfig
    from red_app.project.store import Project
    from red_app.workflows.runner import run_project

    urls, model_id = servers
    with Project(small_copy) as p:
        judge = JudgeSettings(kind="openai", urls=",".join(urls), model=model_id).build(p)
        # SmolLM2 measures as adding nothing on seeds; trust it anyway so the loop's own calls happen
        cfg = LoopConfig(budget=12, batch=6, calibration_seeds=3, patience=None, trust_judge=True)
        records = list(run_project(p, judge, cfg))
        assert records
        run = p.runs().iloc[-1]
        assert run.status in ("finished", "stopped"), run.termination
        n, with_prompt, errors = p.cursor().execute(
            "SELECT count(*), count(prompt), count(error) FROM judge_verdicts").fetchall()[0]
        assert run.termination == "budget spent" and sum(r.calls for r in records) >= 1
        assert n >= 12 and with_prompt == n and errors == 0  # 3 seeds × 2 to measure it, then the loop's
        cfg_stored = p.run_config(int(run.run_id))["judge"]
        assert cfg_stored["kind"] == "openai" and cfg_stored["urls"] == urls
        stats = cfg_stored["server_stats"]
        assert set(stats) == set(urls) and sum(s["requests"] for s in stats.values()) >= n


def test_serve_judge_has_help():
    red = Path(sys.executable).parent / "red"
    proc = subprocess.run([str(red), "serve-judge", "--help"], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, HF_HUB_OFFLINE="1"))
    assert proc.returncode == 0 and "usage: red serve-judge" in proc.stdout and "--slots" in proc.stdout


@needs_model
def test_run_page_tests_the_connection_to_the_servers(servers, small_copy, monkeypatch):
    from streamlit.testing.v1 import AppTest

    urls, _ = servers
    dead = _closed_url()
    monkeypatch.setenv("RED_PROJECT", str(small_copy))
    at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / "pages" / "run.py"), default_timeout=60).run()
    assert not at.exception

    def connect(text):
        at.radio[0].set_value("openai").run()  # the judge's own settings appear once it is chosen
        next(t for t in at.text_input if t.label == "OpenAI-compatible server(s)").set_value(text)
        next(b for b in at.button if b.label == "Test connection").click()
        at.run()
        assert not at.exception

    plain = lambda el: el.value.replace("\\", "")  # md() escapes what the server says  # noqa: E731
    connect(f"{urls[0]}, {dead}")
    assert at.success and MODEL in plain(at.success[0]) and "not answering" in plain(at.success[0])
    connect(dead)
    assert at.error and "red serve-judge" in plain(at.error[0])


@needs_model
def test_serve_judge_serves_the_openai_api_until_ctrl_c():
    import json
    import signal
    import time
    import urllib.request

    red = Path(sys.executable).parent / "red"
    port = _free_port()
    proc = subprocess.Popen([str(red), "serve-judge", "--port", str(port), "--threads", "1"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, env=dict(os.environ, HF_HUB_OFFLINE="1"))
    try:
        first = proc.stdout.readline()
        assert f"http://127.0.0.1:{port}/v1" in first and MODEL in first
        assert "--judge openai" in proc.stdout.readline()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=10) as resp:
            assert [m["id"] for m in json.load(resp)["data"]] == [MODEL]
        time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
        assert "stopped serving" in proc.stdout.read()
    finally:
        if proc.poll() is None:
            proc.kill()


@needs_model
def test_a_request_the_server_rejects_is_an_error_verdict_and_the_server_stays_in_use(servers):
    urls, model_id = servers
    j = OpenAIJudge(urls=[urls[0]], model=model_id, retries=2, backoff=0.01)
    v = j.judge(_req("where is my card " * 3000))  # far past the server's context: llama.cpp answers 400
    assert v.valid is None and "rejected the request" in v.error and "1 attempt(s)" in v.error
    assert v.prompt and v.prompt_hash  # recorded with its question, like every verdict
    assert not j.server_stats()[urls[0]]["set_aside"]
    assert j.judge(_req("my card has not come")).error is None


@needs_model
def test_verdicts_come_back_in_the_order_asked_though_sent_grouped_by_label(servers):
    urls, model_id = servers
    j = OpenAIJudge(urls=[urls[0]], model=model_id, concurrency=1)
    reqs = [_req("my card", label=lab, sid=f"s{i}") for i, lab in enumerate(["b_label", "a_label", "b_label"])]
    verdicts = j.judge_many(reqs)
    assert [v.prompt.split("\n")[0] for v in verdicts] == [f'Proposed label: "{r.label}"' for r in reqs]


@needs_model
def test_a_choose_question_to_a_real_server_picks_a_candidate_or_none(servers):
    from red_app.judges.base import Candidate

    urls, model_id = servers
    j = OpenAIJudge(urls=[urls[0]], model=model_id)
    cands = (Candidate("card_arrival", "asks when a new card arrives", EXAMPLES),
             Candidate("exchange_rate", "asks about exchange rates", (Example("e3", "what is the rate for euros"),)),
             Candidate("top_up_failed", "a top-up did not work", ()))
    req = JudgeRequest(sample_id="c1", text="my new card still has not come", label="card_arrival", candidates=cands)
    v = j.judge(req)
    assert v.error is None and v.valid in (True, False)
    assert (v.choice in req.candidate_labels()) if v.valid else v.choice is None
    probs = v.extra["choice_probs"]
    assert set(probs) == set(req.candidate_labels())
    assert sum(probs.values()) + v.extra["p_none"] == pytest.approx(1.0)
    assert "A. card_arrival —" in v.prompt and "C. top_up_failed —" in v.prompt


def _tiny_dataset(banking_path, tmp_path, labels=4):
    """A few BANKING77 intents as a benchmark file (text, label, split, shot10)."""
    import duckdb

    out = tmp_path / "tiny.parquet"
    duckdb.sql(f"""COPY (SELECT text, label, split, shot10 FROM read_parquet('{banking_path}')
                   WHERE label IN (SELECT DISTINCT label FROM read_parquet('{banking_path}') ORDER BY 1 LIMIT {labels})
                     AND split IN ('train', 'test'))
                   TO '{out}' (FORMAT parquet)""")
    return out


@needs_model
def test_bench_with_the_openai_judge_measures_it_on_a_fixed_sample_and_end_to_end(servers, banking_path, tmp_path,
                                                                                    capsys):
    import json

    from red_app.cli import main

    urls, model_id = servers
    data = _tiny_dataset(banking_path, tmp_path, labels=3)
    out = tmp_path / "bench.json"
    rc = main(["bench", "--data", str(data), "--budget", "12", "--batch", "4", "--methods", "red", "--judge", "openai",
               "--judge-url", urls[0], "--judge-url", urls[1], "--judge-model", model_id, "--n", "4",
               "--set", "calibration_seeds=4", "--set", "trust_judge=true",
               "--cache-dir", str(tmp_path / "cache"), "--json", str(out)])
    assert rc == 0
    res = json.loads(out.read_text())
    js = res["judge_sample"]
    assert js["asked"] == 4 and js["answered"] + js["errors"] == 4
    assert 0 <= js["predictions_correct"] <= 1 and "auc" in js and "wrong_caught" in js and "right_rejected" in js
    # 4 seeds asked for, but measuring never takes more than half the budget: 3 seeds, 6 calls of 12
    assert res["red_calls"] <= 12 and res["red_calibration"]["pairs"] == 6
    assert res["judge"].startswith("openai judge")
    # end to end against seeds-only at the same budget, with the precision of what it applied
    assert res["red_accuracy"] is not None and res["seeds_self_training_accuracy"] is not None
    assert "red_label_precision" in res and "red_applied" in res
    printed = capsys.readouterr().out
    assert "judge on the fixed sample:" in printed and "agreement with gold" in printed
    report = (tmp_path / "bench.md").read_text()
    assert "fixed sample of 4 proposals" in report and "paired bootstrap" in report


@needs_model
def test_describe_with_openai_writes_descriptions_through_the_server(servers, small_copy, capsys):
    from red_app.cli import main
    from red_app.project.store import Project

    urls, model_id = servers
    with Project(small_copy) as p:
        label = p.labels()[0]
    assert main(["describe", str(small_copy), "--with", "openai", "--judge-url", urls[0], "--labels", label]) == 0
    with Project(small_copy) as p:
        d = p.descriptions()[label]
    assert d["model"] == model_id and d["description"]
    assert f"with {model_id}" in capsys.readouterr().out
