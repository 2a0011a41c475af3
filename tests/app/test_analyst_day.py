"""The analyst's day in Chromium (issue 12): runs you can follow, a project that is shown as
it is now, imports without the CLI, a label map that works at many labels, judge
evaluation and label descriptions from the pages — on the demo and on an O*NET project
built here. Screenshots of every page (1440×900) go to artifacts/screenshots/.

The O*NET project has ``RED_WALK_LABELS`` occupations: 150 in the suite (15 subsets, so the
map's one-subset-at-a-time view is walked), all 1,010 in the benchmark that times the walk
(``bench/scale_walk.py``, timings to artifacts/timings-1010.json).
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from browser_kit import (  # noqa: E402
    ROOT,
    VIEWPORT,
    idle,
    launch,
    need_browser,
    open_page,
    pick,
    serve,
    shot,
    switch,
    warm,
)

pytestmark = pytest.mark.browser
PAGES = [("Project", "Project"), ("Subsets", "Label subsets"), ("Run", "Run"), ("Review", "Review"),
         ("Texts", "Texts"), ("Discover", "Discover"), ("Audit", "Audit"), ("Export", "Export")]
SEEDS_PER_LABEL = 10
WALK_LABELS = int(os.environ.get("RED_WALK_LABELS", "150"))  # bench/scale_walk.py: all 1,010
POOL = 1500 if WALK_LABELS >= 1000 else 300


@pytest.fixture(scope="module")
def browser():
    need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = launch(pw)
        yield b
        b.close()


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory, browser, demo_project):
    from conftest import copy_project

    for url in serve(copy_project(demo_project, tmp_path_factory.mktemp("day"), "demo.duckdb")):
        warm(browser, url)
        yield url


@pytest.fixture(scope="module")
def onet_project(tmp_path_factory):
    """``WALK_LABELS`` O*NET occupations (1,010: all): 10 seeds each (fewer where the data has
    fewer), a pool with hidden gold; embedded (~10k texts at 1,010)."""
    import duckdb

    from red_app.workflows.label_map import map_after_embedding
    from red_app.project.dataio import import_file
    from red_app.project.embed import embed_project
    from red_app.project.store import Project
    from red_app.workflows.runner import fit_after_embedding

    src = (ROOT.parent / "shared" / "data" / "onet1000.parquet").resolve()
    if not src.exists():
        pytest.skip(f"{src} is absent (the shared benchmark data sits beside the repo in CI)")
    tmp = tmp_path_factory.mktemp("onet")
    chosen = (f"SELECT label FROM (SELECT DISTINCT label FROM read_parquet('{src}')) "
              f"ORDER BY hash(label) LIMIT {WALK_LABELS}")
    ranked = (f"SELECT text, label, row_number() OVER (PARTITION BY label ORDER BY hash(text)) AS k "
              f"FROM read_parquet('{src}') WHERE split = 'train' AND label IN ({chosen})")
    duckdb.sql(f"COPY (SELECT text, label FROM ({ranked}) WHERE k <= {SEEDS_PER_LABEL} ORDER BY label, k) "
               f"TO '{tmp}/seeds.parquet'")
    duckdb.sql(f"COPY (SELECT text, label FROM ({ranked}) WHERE k > {SEEDS_PER_LABEL} ORDER BY hash(text || label) "
               f"LIMIT {POOL}) TO '{tmp}/pool.parquet'")
    path = tmp / "onet1000.duckdb"
    with Project(path, create=True) as p:
        import_file(p, tmp / "seeds.parquet", min_examples=1)
        import_file(p, tmp / "pool.parquet", mode="hidden-gold")
        embed_project(p)
        map_after_embedding(p)  # as `red embed` and the Project page's "Embed now" do
        fit_after_embedding(p)  # (both: the seeds' model a run starts from, into the fit cache)
    return path


@pytest.fixture(scope="module")
def onet_url(onet_project, browser):
    for url in serve(onet_project):
        yield url  # not warmed: the first visit is part of the timings


def _first_label(path) -> str:
    """A label of the walk's project, read from the files it was imported from (the server
    holds the project itself)."""
    import duckdb

    return duckdb.sql(f"SELECT min(label) FROM read_parquet('{Path(path).parent / 'seeds.parquet'}')").fetchall()[0][0]


def _selected(page, label: str) -> str:
    """What the selectbox labelled ``label`` shows (its text and its search input's value)."""
    box = page.get_by_test_id("stMain").get_by_test_id("stSelectbox").filter(has_text=label).first
    values = box.locator("input").evaluate_all("els => els.map(e => e.value)")
    return " ".join([box.text_content() or ""] + values)


def _main(page):
    return page.get_by_test_id("stMain")


def _progress_text(page) -> str:
    return " ".join(page.get_by_test_id("stProgress").all_inner_texts())


def _radio(page, option: str) -> None:
    _main(page).get_by_test_id("stRadio").first.get_by_text(option, exact=True).click()
    idle(page)


def _fill(page, label: str, value) -> None:
    box = page.get_by_label(label, exact=True).first
    box.fill(str(value))
    box.press("Tab")


def _no_pandas_names(page) -> None:
    body = _main(page).inner_text()
    for raw in ("uncertain_count", "pool_size", "eval_accuracy", "(nan)", "running (nan)"):
        assert raw not in body, raw


# -- item 1: runs -------------------------------------------------------------------------

def test_runs_failed_judge_new_run_budget_and_resume(demo_url, browser):
    page = browser.new_page(viewport=VIEWPORT)
    open_page(page, f"{demo_url}/run", "Run")
    main = _main(page)
    # only the chosen judge's settings
    main.get_by_text("Simulated judge accuracy").wait_for(timeout=60_000)
    assert main.get_by_text("Ollama host").count() == 0
    _radio(page, "ollama")
    main.get_by_text("Ollama host").wait_for(timeout=60_000)
    assert main.get_by_text("Simulated judge accuracy").count() == 0
    # an Ollama server that is not there: the run fails, and says so at once with the fix
    _fill(page, "Ollama host", "http://127.0.0.1:9")
    _fill(page, "Seeds to measure the judge on (2 calls each)", 3)
    main.get_by_role("button", name="Start run").click()
    main.get_by_text("Start the Ollama server").first.wait_for(timeout=120_000)
    assert main.get_by_test_id("stAlertContentError").count() >= 1
    main.get_by_role("button", name="Resume interrupted run 1").wait_for(timeout=30_000)
    shot(page, "demo-run-failed-judge")

    # a new run takes the panel, reports where its budget went, readable charts
    _radio(page, "simulated")
    slider = main.get_by_role("slider").first
    slider.focus()
    for _ in range(6):  # accuracy 1.0 -> 0.7: the judge errs, picking wrong labels or none
        page.keyboard.press("ArrowLeft")
    _fill(page, "Budget (judge calls)", 90)
    _fill(page, "Batch per iteration", 30)
    _fill(page, "Seeds to measure the judge on (2 calls each)", 0)
    main.get_by_role("button", name="Start run").click()
    page.wait_for_function("() => document.body.innerText.includes('run 2:')", timeout=120_000)
    page.wait_for_function("() => document.body.innerText.includes('budget spent')", timeout=240_000)
    idle(page)
    assert "run 2:" in _progress_text(page)
    for metric in ("Judge calls", "Accepted", "None of these", "…of them: fits no label", "Sent to people"):
        assert main.get_by_test_id("stMetricLabel").filter(has_text=metric).count() >= 1, metric
    main.get_by_text("Where the budget went").wait_for()
    assert main.get_by_role("button", name=re.compile("Resume interrupted run")).count() == 0  # run 1 is history
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    page.wait_for_timeout(1500)
    ticks = page.locator(".js-plotly-plot .xtick text").all_text_contents()
    assert ticks and all(t.strip().isdigit() for t in ticks), ticks  # whole iterations
    legend = page.locator(".js-plotly-plot .legendtext").all_text_contents()
    assert "accepted" in legend and "rejected" in legend and "uncertain texts" in legend, legend
    _no_pandas_names(page)
    shot(page, "demo-run")
    page.close()


# -- items 4 and 6: state and import -------------------------------------------------------

def _metric(page, label: str) -> str:
    card = _main(page).get_by_test_id("stMetric").filter(has_text=label).first
    return card.get_by_test_id("stMetricValue").inner_text().strip()


def test_import_preview_delimiter_errors_and_fresh_counts(demo_url, browser, tmp_path):
    page = browser.new_page(viewport=VIEWPORT)
    open_page(page, f"{demo_url}/", "Project")
    before = int(_metric(page, "Samples").replace(",", ""))
    semi = tmp_path / "parcels;export.csv"
    semi.write_text("message;category\n" + "".join(f"where is crate {i}, please;crate_tracking\n" for i in range(4)))
    page.locator('input[type="file"]').set_input_files(str(semi))
    page.get_by_text("(2 columns)").first.wait_for(timeout=60_000)  # a ;-file is not one column
    idle(page)
    main = _main(page)
    assert "semicolon" in _selected(page, "Delimiter")
    assert "message" in _selected(page, "Text column")
    assert "category" in _selected(page, "Label column")
    shot(page, "demo-project-import-preview")
    # an error phrased for the page: no CLI flags
    _fill(page, "Minimum examples per label", 5)
    main.get_by_role("button", name="Import").click()
    main.get_by_text("The import was refused").wait_for(timeout=60_000)
    body = main.inner_text()
    assert "Minimum examples per label" in body and "--min-examples" not in body and "--text" not in body
    assert int(_metric(page, "Samples").replace(",", "")) == before
    _fill(page, "Minimum examples per label", 3)
    main.get_by_role("button", name="Import").click()
    main.get_by_text("Imported.").wait_for(timeout=60_000)
    idle(page)
    assert int(_metric(page, "Samples").replace(",", "")) == before + 4  # counts now, not after a page change
    main.get_by_text("4 texts are not embedded").wait_for()
    main.get_by_role("button", name="Embed now").click()
    main.get_by_text("Embedded.").wait_for(timeout=120_000)
    idle(page)
    assert main.get_by_text("are not embedded yet").count() == 0  # no stale warning above the success
    main.get_by_text("Every text is embedded").wait_for()
    shot(page, "demo-project-after-import")
    page.close()


def test_export_never_offers_another_projects_file(demo_url, browser, tmp_path):
    page = browser.new_page(viewport=VIEWPORT)
    open_page(page, f"{demo_url}/export", "Export")
    _main(page).get_by_role("button", name="Prepare export").click()
    _main(page).get_by_role("button", name=re.compile("Download demo-labels")).wait_for(timeout=60_000)
    switch(page, "Project", "Project")
    _fill(page, "Project file (.duckdb)", tmp_path / "fresh.duckdb")
    _main(page).get_by_role("button", name="Create new").click()
    page.wait_for_function("() => document.body.innerText.includes('fresh.duckdb')", timeout=60_000)
    idle(page)
    switch(page, "Export", "Export")
    assert _main(page).get_by_role("button", name=re.compile("Download")).count() == 0
    page.close()


# -- items 5 and 7 on the demo: the map with few subsets, descriptions and judge evaluation --

def test_demo_map_few_subsets_keep_their_colours(demo_url, browser):
    page = browser.new_page(viewport=VIEWPORT)
    open_page(page, f"{demo_url}/subsets", "Label subsets")
    page.locator(".js-plotly-plot .scatterlayer .point").first.wait_for(timeout=90_000)
    legend = page.locator(".js-plotly-plot .legendtext").all_text_contents()
    assert [t for t in legend if t.startswith("subset ")], legend  # one colour per subset when few
    _main(page).get_by_text("does not use these subsets").wait_for()
    shot(page, "demo-subsets")
    page.close()


def _embedded_model() -> str:
    from red_app.judges import packaged_models

    have = packaged_models.available()
    if "smollm2-135m" not in have:
        pytest.skip("the embedded SmolLM2 judge is not installed (make judge-model)")
    return "smollm2-135m"


def test_demo_every_page(demo_url, browser):
    page = browser.new_page(viewport=VIEWPORT)
    open_page(page, f"{demo_url}/", "Project")
    for title, heading in PAGES:
        switch(page, title, heading)
        if title == "Subsets":
            page.locator(".js-plotly-plot .scatterlayer .point").first.wait_for(timeout=90_000)
        if title == "Discover":  # the groups, found from the page (the demo's pool fits its labels: few or none)
            _main(page).get_by_role("button", name="Find groups").click()
            _main(page).get_by_text(re.compile(r"unlabeled texts look unlike every label")).first.wait_for(
                timeout=120_000)
            idle(page)
        _no_pandas_names(page)
        shot(page, f"demo-{title.lower()}-page")
    page.close()


def test_describe_labels_and_measure_the_judge_from_the_pages(demo_url, browser):
    model = _embedded_model()
    page = browser.new_page(viewport=VIEWPORT)
    open_page(page, f"{demo_url}/subsets", "Label subsets")
    main = _main(page)
    pick(page, "Find a label", "track_order")
    idle(page)
    main.get_by_role("heading", name="The found label").wait_for(timeout=60_000)
    pick(page, "Embedded model", model)
    idle(page)
    main.get_by_test_id("stRadio").filter(has_text="Labels").get_by_text("the found label", exact=True).click()
    idle(page)
    main.get_by_role("button", name="Write 1 draft(s)").click()
    main.get_by_text("Drafts by").wait_for(timeout=300_000)
    idle(page)
    shot(page, "demo-subsets-description-drafts")
    main.get_by_role("button", name="Save 1 as new description versions").click()
    main.get_by_text("saved 1 description(s) as new versions").wait_for(timeout=60_000)
    main.get_by_text(re.compile(r"version \d+ by")).first.wait_for()

    switch(page, "Run", "Run")
    _radio(page, "embedded")
    pick(page, "Embedded model", model)
    _fill(page, "Seeds to measure the judge on (2 calls each)", 10)
    main.get_by_role("button", name="Measure this judge on seeds").click()
    page.wait_for_function("() => /\\d+ of \\d+ answered/.test(document.body.innerText)", timeout=600_000)
    idle(page)
    shot(page, "demo-run-judge-measured")
    page.close()


# -- the O*NET project (1,010 labels in the benchmark): map, run, every page, timings -------

def test_many_labels_map_run_and_every_page(onet_url, onet_project, browser):
    timings: dict[str, float] = {}
    page = browser.new_page(viewport=VIEWPORT)
    timings["open Project (first page after server start)"] = open_page(page, f"{onet_url}/", "Project")
    assert _metric(page, "Labels") in (str(WALK_LABELS), f"{WALK_LABELS:,}")
    shot(page, "onet-project")

    t0 = time.perf_counter()
    page.get_by_test_id("stSidebarNav").get_by_text("Subsets", exact=True).click()
    points = page.locator(".js-plotly-plot .scatterlayer .point")
    points.first.wait_for(timeout=300_000)
    idle(page)
    timings["first map (Subsets, map stored by the embedding)"] = time.perf_counter() - t0
    assert points.count() == WALK_LABELS
    legend = page.locator(".js-plotly-plot .legendtext").all_text_contents()
    assert len(legend) <= 14, legend  # no 101-entry legend
    main = _main(page)
    main.get_by_text("does not use these subsets").wait_for()
    shot(page, "onet-subsets")

    found = _first_label(onet_project)
    pick(page, "Find a label", found)
    idle(page)
    page.locator(".js-plotly-plot .annotation-text").filter(has_text=found).wait_for(timeout=30_000)
    main.get_by_role("heading", name="The found label").wait_for(timeout=60_000)
    shot(page, "onet-subsets-found-label")
    pick(page, "Show subset", "subset 3")
    idle(page)
    legend = page.locator(".js-plotly-plot .legendtext").all_text_contents()
    assert "subset 3" in legend and "other labels" in legend, legend
    shot(page, "onet-subsets-one-subset")
    # a clicked point selects its label
    before = _selected(page, "Find a label")
    # a point of another label than the one found: the last of the grey "other labels", the trace
    # with the most points (plotly draws the traces in the legend's reverse order)
    traces = page.locator(".js-plotly-plot .scatterlayer .trace")
    others = max(range(traces.count()), key=lambda i: traces.nth(i).locator(".point").count())
    target = traces.nth(others).locator(".point").last
    target.click(force=True)
    deadline = time.time() + 60
    while _selected(page, "Find a label") == before and time.time() < deadline:
        page.wait_for_timeout(500)
    idle(page)
    assert _selected(page, "Find a label") != before
    shot(page, "onet-subsets-clicked-point")

    timings["switch to Run"] = switch(page, "Run", "Run")
    main = _main(page)
    _fill(page, "Budget (judge calls)", 100)
    _fill(page, "Batch per iteration", 50)
    t0 = time.perf_counter()
    main.get_by_role("button", name="Start run").click()
    # the stage inside the first iteration is shown while it runs
    page.wait_for_function("() => /Starting: |iteration 1 · (fitting|predicting|judging|evaluating)/"
                           ".test(document.body.innerText)", timeout=120_000)
    shot(page, "onet-run-stage")
    page.get_by_test_id("stMetricLabel").filter(has_text="Iterations").first.wait_for(timeout=600_000)
    timings["a run's first iteration (start → first iteration shown)"] = time.perf_counter() - t0
    page.wait_for_function("() => /budget spent|pool exhausted|without progress|stopped/.test("
                           "document.body.innerText)", timeout=600_000)
    idle(page)
    _no_pandas_names(page)
    shot(page, "onet-run")

    for title, heading in PAGES:
        if title in ("Run",):
            continue
        timings[f"switch to {title}"] = switch(page, title, heading)
        if title == "Subsets":
            page.locator(".js-plotly-plot .scatterlayer .point").first.wait_for(timeout=120_000)
        shot(page, f"onet-{title.lower()}-page")
    page.close()
    out = ROOT / "artifacts" / f"timings-{WALK_LABELS}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({k: round(v, 1) for k, v in timings.items()}, indent=1))
    print("\n".join(f"{k}: {v:.1f} s" for k, v in timings.items()))
