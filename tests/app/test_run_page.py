"""The Run page through AppTest on a demo project with a finished run (issue 12, item 1)."""

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ran(tmp_path_factory, demo_project):
    from conftest import copy_project
    from red_app.judges.simulated import SimulatedJudge
    from red_app.method.config import LoopConfig
    from red_app.project.store import Project
    from red_app.workflows.runner import run_project

    path = copy_project(demo_project, tmp_path_factory.mktemp("runpage"), "demo.duckdb")
    with Project(path) as p:
        gold = dict(p.cursor().execute("SELECT id, gold_label FROM samples WHERE role = 'pool'").fetchall())
        # yes-leaning, so choose questions (the default) also get "none" answers
        list(run_project(p, SimulatedJudge(gold, p_valid_right=0.6, p_valid_wrong=0.5, seed=2),
                         LoopConfig(budget=60, batch=30, patience=None, calibration_seeds=0), label_everything=False))
    return path


@pytest.fixture
def run_page(ran, tmp_path, monkeypatch):
    dst = tmp_path / "demo.duckdb"
    shutil.copy(ran, dst)
    monkeypatch.setenv("RED_PROJECT", str(dst))
    return AppTest.from_file(str(ROOT / "pages" / "run.py"), default_timeout=90)


def test_only_the_chosen_judges_settings_and_every_choice(run_page):
    from red_app.method.config import CHOICES

    at = run_page.run()
    assert not at.exception
    labels = lambda: {w.label for w in list(at.text_input) + list(at.slider) + list(at.selectbox)}  # noqa: E731
    assert "Simulated judge accuracy" in labels() and "Ollama host" not in labels()
    at.radio(key="judge_kind").set_value("ollama").run()
    assert "Ollama host" in labels() and "Simulated judge accuracy" not in labels()
    at.radio(key="judge_kind").set_value("openai").run()
    assert "OpenAI-compatible server(s)" in labels() and "Ollama host" not in labels()
    # every setting with fixed choices is offered (a new one appears without a page edit)
    boxes = {w.key for w in at.selectbox if w.key} | {"selector"}
    assert {f"setting_{n}" for n in CHOICES if n != "selector"} | {"selector"} <= boxes


def test_the_finished_run_says_where_the_budget_went(run_page):
    at = run_page.run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Judge calls"] == "60 of 60"
    # the demo's run asked choose questions (the default): rejections are "none of these"
    assert int(metrics["Accepted"]) + int(metrics["None of these"]) == 60
    assert int(metrics["None of these"]) > 0 and "Retries after a rejection" not in metrics
    assert 0 <= int(metrics["…of them: fits no label"]) <= int(metrics["None of these"])
    text = " ".join(str(p.proto.text) for p in at.get("progress"))
    assert "run 1" in text and "nan" not in text
    assert any("none of these" in w.value for w in at.warning) == (int(metrics["None of these"]) > 30)
