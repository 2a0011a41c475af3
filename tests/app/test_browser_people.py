"""A person is the judge, in a real Chromium: an admin logs in, starts a run with people as
the judge on the Run page, and answers its proposals on Review with one key each while the
run refits and proposes more; a reload keeps the login, the page and the project.
Screenshots go to artifacts/screenshots/."""

from __future__ import annotations

import csv
import json
import re
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from browser_kit import ROOT, idle, launch, need_browser, serve, shot  # noqa: E402

from red_app.project.store import Project
from red_app.workflows.people import Question, key_cost

pytestmark = pytest.mark.browser
BUDGET, BATCH = 30, 10


@pytest.fixture(scope="module")
def served(tmp_path_factory, demo_project):
    need_browser()
    from conftest import copy_project
    from red_app.workflows.accounts import add_user

    tmp = tmp_path_factory.mktemp("people")
    users = tmp / "users.yaml"
    add_user("ana", "ana-admin-pw", "admin", users)
    path = copy_project(demo_project, tmp, "demo.duckdb")
    from playwright.sync_api import sync_playwright

    for url in serve(path, RED_USERS=str(users)):
        with sync_playwright() as pw:
            b = launch(pw)
            yield url, path, b
            b.close()


def _gold() -> dict[str, str]:
    """What the person knows: the right label of every pool text (the demo's own file)."""
    with open(ROOT / "assets" / "demo_pool.csv", newline="") as f:
        return {r["text"]: r["gold_intent"] for r in csv.DictReader(f)}


def _run_row(path):
    with Project(path, read_only=True, wait=30) as p:
        runs = p.runs()
        if not len(runs):
            return None, 0, 0
        last = runs.iloc[-1]
        return last.status, p.run_calls(int(last.run_id)), len(p.iterations(int(last.run_id)))


def _human(path) -> list:
    with Project(path, read_only=True, wait=30) as p:
        return p.cursor().execute("SELECT sample_id, label, verdict FROM annotations WHERE origin = 'human' "
                                  "ORDER BY event_id").fetchall()


def _login(page, url):
    page.goto(url, wait_until="commit", timeout=120_000)
    page.get_by_role("heading", name="red — log in").first.wait_for(timeout=60_000)
    idle(page)
    page.get_by_role("textbox", name="User name").fill("ana")
    page.get_by_role("textbox", name="Password").fill("ana-admin-pw")
    page.get_by_role("button", name="Log in").click()


def _fill(page, label: str, value) -> None:
    box = page.get_by_label(label, exact=True).first
    box.fill(str(value))
    box.press("Tab")


def _candidates(page) -> list[str]:
    names = page.get_by_test_id("stMain").get_by_role("button").all_inner_texts()
    return [n.split(" · ", 1)[1] for n in names if re.match(r"^[1-9] · ", n)]


def test_a_person_answers_a_run_with_one_key_each_and_a_reload_keeps_everything(served):
    url, path, browser = served
    gold = _gold()
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    _login(page, f"{url}/run")
    page.get_by_role("heading", name="Run").first.wait_for(timeout=120_000)  # the deep link, after the login
    idle(page)
    # a reload keeps the login, the page and the project (the project is in the address)
    page.reload(wait_until="commit", timeout=120_000)
    page.get_by_role("heading", name="Run").first.wait_for(timeout=120_000)
    idle(page)
    assert page.get_by_role("textbox", name="Password").count() == 0
    assert f"project={path}" in page.url.replace("%2F", "/")
    main = page.get_by_test_id("stMain")
    main.get_by_test_id("stRadio").first.get_by_text("human", exact=True).click()
    idle(page)
    assert main.get_by_text("Precision target").count() == 0  # a person is not measured
    _fill(page, "Budget (judge calls)", BUDGET)
    _fill(page, "Batch per iteration", BATCH)
    main.get_by_role("button", name="Start run").click()
    page.wait_for_function("() => /Waiting for \\d+ answers/.test(document.body.innerText)", timeout=240_000)
    shot(page, "people-run-waiting")

    page.get_by_test_id("stSidebarNav").get_by_text("Review", exact=True).click()
    page.get_by_role("heading", name="Review").first.wait_for(timeout=60_000)
    labels = sorted(set(gold.values()))
    answers = keys = 0
    round_trips: list[float] = []
    deadline = time.time() + 600
    while time.time() < deadline:
        status, calls, _ = _run_row(path)
        if status != "running":
            break
        try:
            page.get_by_text(re.compile(r"^Text \d+ of \d")).first.wait_for(timeout=5_000)
        except Exception:  # the run is refitting: its next proposals come in a moment
            continue
        idle(page)
        text = page.get_by_test_id("stMain").get_by_test_id("stText").first.inner_text().strip()
        cands = _candidates(page)
        right = gold[text]
        before = len(_human(path))
        t0 = time.perf_counter()
        if right in cands:
            page.keyboard.press(str(cands.index(right) + 1))
            try:  # a decision's round trip: the key, until the next text is on the screen
                page.wait_for_function("(t) => { const e = document.querySelector('[data-testid=\"stMain\"] "
                                       "[data-testid=\"stText\"]'); return !e || e.innerText.trim() !== t; }",
                                       arg=text, timeout=30_000)
                round_trips.append(time.perf_counter() - t0)
            except Exception:  # the run was refitting: no next text yet
                pass
        else:  # o, type, Enter: the search over every label (typed once its field has the focus)
            page.keyboard.press("o")
            page.wait_for_function("() => document.activeElement && document.activeElement.tagName === 'INPUT'",
                                   timeout=10_000)
            page.keyboard.type(right)
            page.keyboard.press("Enter")
        keys += key_cost(Question("", text, tuple(cands), cands[0], 0), right, labels)
        answers += 1
        for _ in range(60):  # the answer is recorded before the next text is read
            if len(_human(path)) > before:
                break
            time.sleep(0.5)
        else:
            print("NOT RECORDED", answers, repr(text), right, cands, flush=True)
            shot(page, f"people-stuck-{answers}")
        if answers == 3:
            shot(page, "people-review-answering")
    status, calls, iterations = _run_row(path)
    assert status == "finished", status
    assert calls >= BUDGET - 3 and iterations >= 3, (calls, iterations)
    assert answers >= calls - 1 and keys / answers <= 1.2, (keys, answers)
    # every answer is the text's label now, and a person's
    rows = _human(path)
    with Project(path, read_only=True, wait=30) as p:
        texts = p.texts([r[0] for r in rows])
    valid = [(sid, lab) for sid, lab, verdict in rows if verdict == "valid"]
    assert valid and all(gold[texts[sid]] == lab for sid, lab in valid)
    # undo: the key, until the text undone is on the screen again
    idle(page)
    shown = page.get_by_test_id("stMain").get_by_test_id("stText").first.inner_text().strip() \
        if page.get_by_test_id("stMain").get_by_test_id("stText").count() else ""
    t0 = time.perf_counter()
    page.keyboard.press("u")
    page.wait_for_function("(t) => { const e = document.querySelector('[data-testid=\"stMain\"] "
                           "[data-testid=\"stText\"]'); return e && e.innerText.trim() !== t; }", arg=shown,
                           timeout=30_000)
    undo_s = time.perf_counter() - t0
    out = ROOT / "artifacts" / "timings-people.json"
    out.parent.mkdir(exist_ok=True)
    q = sorted(round_trips)
    figures = {"answers": answers, "keys_per_answer": keys / answers, "round_trips": len(q),
               "round_trip_p50_s": q[len(q) // 2] if q else None,
               "round_trip_p95_s": q[min(len(q) - 1, int(0.95 * len(q)))] if q else None, "undo_s": undo_s}
    out.write_text(json.dumps(figures, indent=1))
    print(figures)
    # a reload on Review keeps the login, the page and the project
    page.reload(wait_until="commit", timeout=120_000)
    page.get_by_role("heading", name="Review").first.wait_for(timeout=120_000)
    assert page.get_by_role("textbox", name="Password").count() == 0
    page.get_by_test_id("stSidebar").get_by_text(str(path)).first.wait_for(timeout=30_000)
    shot(page, "people-review-after-reload")
    page.close()
