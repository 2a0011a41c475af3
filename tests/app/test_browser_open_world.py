"""The open world in a real headless Chromium (issue 20), as a person walks it: on a pool
where three labels have no seeds (their texts fit none of the project's labels), mark texts
as fitting no label in Review (key x) and Texts, open Discover, turn a group into a new
label, run again from the Run page, and find the new label in Review, Texts, the label map
and the export. Screenshots go to artifacts/screenshots/ (ignored by git)."""

import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from browser_kit import VIEWPORT, idle, launch, need_browser, open_page, pick, serve, shot  # noqa: E402

from red_app.project.store import NO_LABEL, Project

pytestmark = pytest.mark.browser

NEW = "found_in_pool"


@pytest.fixture(scope="module")
def served(tmp_path_factory, open_pool):
    need_browser()
    from conftest import OPEN_POOL_HIDDEN, copy_project
    from red_app.judges.simulated import SimulatedJudge
    from red_app.method.config import LoopConfig
    from red_app.workflows.runner import run_project

    path = copy_project(open_pool, tmp_path_factory.mktemp("open-world-e2e"), "open.duckdb")
    with Project(path) as p:  # a first run, as the team would have done: the judge knows the gold
        gold = {**p.seed_labels(), **p.hidden_gold(role="pool")}
        list(run_project(p, SimulatedJudge(gold), LoopConfig(budget=60, batch=30, patience=None,
                                                             calibration_seeds=0)))
        asked = {r[0] for r in p.cursor().execute("SELECT sample_id FROM judge_verdicts").fetchall()}
        hidden = sorted(s for s, g in p.hidden_gold(role="pool").items() if g in OPEN_POOL_HIDDEN)
        # one hidden text the judge was asked about (Review shows it), one nobody was (Texts)
        in_review = next(s for s in hidden if s in asked)
        in_texts = next(s for s in hidden if s not in asked)
        texts = p.texts([in_texts])
    from playwright.sync_api import sync_playwright

    for url in serve(path):
        with sync_playwright() as pw:
            b = launch(pw)
            yield url, path, b, in_review, (in_texts, texts[in_texts])
            b.close()


def _fits_none(path) -> dict:
    with Project(path, read_only=True, wait=30) as p:
        return p.fits_none()


def _until(check, page, timeout_ms: int = 30_000):
    for _ in range(timeout_ms // 500):
        out = check()
        if out:
            return out
        page.wait_for_timeout(500)
    return check()


def _no_error(page) -> None:
    main = page.get_by_test_id("stMain")
    assert main.get_by_test_id("stException").count() == 0
    assert main.get_by_test_id("stAlertContentError").count() == 0, main.get_by_test_id(
        "stAlertContentError").all_inner_texts()


def test_fits_no_label_then_discover_a_new_label_and_find_it_everywhere(served, tmp_path):
    url, path, browser, in_review, (in_texts, text) = served
    page = browser.new_page(viewport=VIEWPORT)

    # Review: one key says the text fits none of the labels
    open_page(page, f"{url}/review?sample={in_review}", "Review")
    page.get_by_text(re.compile(r"Text 1 of 1")).first.wait_for(timeout=60_000)
    page.get_by_role("button", name=re.compile(r"^x · Fits no label")).first.wait_for(timeout=30_000)
    page.keyboard.press("x")
    assert _until(lambda: _fits_none(path).get(in_review) == "human", page), _fits_none(path)
    shot(page, "open-world-1-review-x")
    _no_error(page)

    # Texts: find the text by its words, open it, one button
    open_page(page, f"{url}/texts", "Texts")
    page.get_by_label("Search the texts").fill(text[:40])
    page.keyboard.press("Enter")
    idle(page)
    pick(page, "Open a text (by id)", in_texts)
    idle(page)
    page.get_by_role("button", name="Fits no label").click()
    assert _until(lambda: _fits_none(path).get(in_texts) == "human", page), _fits_none(path)
    idle(page)
    page.get_by_text("Fits none of the labels").first.wait_for(timeout=30_000)
    shot(page, "open-world-2-texts")
    _no_error(page)

    # Discover: the groups, the first made a label
    open_page(page, f"{url}/discover", "Discover")
    page.get_by_role("button", name="Find groups").click()
    page.get_by_text(re.compile(r"group.* of at least")).first.wait_for(timeout=180_000)
    idle(page)
    first = page.get_by_test_id("stExpander").first
    if first.get_by_label("Name of the new label").count() == 0 or not first.get_by_label(
            "Name of the new label").is_visible():
        first.locator("summary").first.click()
    first.get_by_label("Name of the new label").fill(NEW)
    first.get_by_role("button", name="Make it a label").click()
    page.get_by_text(re.compile(f"new label {NEW}")).first.wait_for(timeout=60_000)
    shot(page, "open-world-3-discover")
    with Project(path, read_only=True, wait=30) as p:
        assert NEW in p.labels()
        examples = {r[0] for r in p.cursor().execute(
            "SELECT sample_id FROM annotations WHERE label = ? AND verdict = 'valid'", [NEW]).fetchall()}
    assert examples

    # Run again from the Run page: the new label is trained on and proposed
    open_page(page, f"{url}/run", "Run")
    with Project(path, read_only=True, wait=30) as p:
        runs_before = len(p.runs())
    page.get_by_role("button", name="Start run").click()

    def ended():
        with Project(path, read_only=True, wait=30) as p:
            runs = p.runs()
            return len(runs) > runs_before and p.live_run() is None and runs.iloc[-1]["status"] != "running"

    assert _until(ended, page, 300_000), "the second run did not end"
    page.get_by_text("Where the budget went").first.wait_for(timeout=60_000)
    idle(page)
    shot(page, "open-world-4-run")
    _no_error(page)
    with Project(path, read_only=True, wait=30) as p:
        judged_new = p.cursor().execute(
            "SELECT count(*) FROM judge_verdicts WHERE list_contains(candidates, ?) OR label = ?",
            [NEW, NEW]).fetchall()[0][0]
        model_new = p.cursor().execute(
            "SELECT count(*) FROM model_labels WHERE label = ? AND set_id = (SELECT max(set_id) FROM model_label_sets)",
            [NEW]).fetchall()[0][0]
        assert p.fits_none()[in_review] == "human"  # a person's word stands through the run
        assert NO_LABEL not in p.labels()
    assert judged_new + model_new > 0

    # Texts: the new label is a filter with its texts
    open_page(page, f"{url}/texts", "Texts")
    pick(page, "Label", NEW)
    idle(page)
    assert re.search(r"[1-9][\d,]* texts match", page.get_by_test_id("stMain").inner_text())
    shot(page, "open-world-5-texts-new-label")

    # Review: the new label can be chosen there (a proposal's candidate, or by search)
    open_page(page, f"{url}/review", "Review")
    page.get_by_label("Proposed label").first.click()
    page.get_by_role("option", name=NEW, exact=True).first.wait_for(timeout=30_000)
    page.keyboard.press("Escape")

    # the label map: one dot per label, the new one among them
    open_page(page, f"{url}/subsets", "Label subsets")
    with Project(path, read_only=True, wait=30) as p:
        n_labels = len(p.labels())
    page.get_by_text(f"{n_labels} labels in").first.wait_for(timeout=120_000)
    points = page.locator(".js-plotly-plot .scatterlayer .point")
    points.first.wait_for(timeout=60_000)
    assert points.count() == n_labels
    shot(page, "open-world-6-map")

    # the export: the new label's texts, and the texts that fit none with an empty label, out of scope
    open_page(page, f"{url}/export", "Export")
    page.get_by_role("button", name="Prepare export").click()
    with page.expect_download(timeout=120_000) as dl:
        page.get_by_role("button", name="Download").click()
    out = tmp_path / "export.csv"
    dl.value.save_as(out)
    import duckdb

    rows = duckdb.sql(f"SELECT id, label, out_of_scope, origin FROM read_csv('{out}')").fetchall()
    by_id = {r[0]: r for r in rows}
    assert any(r[1] == NEW for r in rows)
    for sid in (in_review, in_texts):
        assert by_id[sid][1] in (None, "") and by_id[sid][2] is True and by_id[sid][3] == "human"
    _no_error(page)
    page.close()
