"""Fixtures the page tests share: the demo project after one short run (built once)."""

import pytest


@pytest.fixture(scope="session")
def demo_built(tmp_path_factory):
    from red_app.workflows.demo import build_demo
    from red_app.judges.simulated import SimulatedJudge
    from red_app.method.config import LoopConfig
    from red_app.project.store import Project
    from red_app.workflows.runner import run_project

    path = build_demo(tmp_path_factory.mktemp("demo") / "demo.duckdb")
    with Project(path) as p:
        gold = dict(p.cursor().execute("SELECT id, gold_label FROM samples WHERE role = 'pool'").fetchall())
        # the default (choose) questions, a yes-leaning judge taken at its word: it picks the
        # gold when offered 80% of the time, else a wrong candidate half the time, else none;
        # so the Review page has picks, wrong picks and "none" answers to show
        judge = SimulatedJudge(gold, p_valid_right=0.8, p_valid_wrong=0.5, seed=1)
        list(run_project(p, judge, LoopConfig(budget=60, batch=30, patience=None, calibration_seeds=0)))
    return path
