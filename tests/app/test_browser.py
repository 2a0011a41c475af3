"""End to end in a real headless Chromium (Debian's) against `streamlit run` on 127.0.0.1.

Loads the demo, runs one iteration with the simulated expert, overrides one verdict,
then finds that decision in Audit and in the exported file. Screenshots of every page
go to artifacts/screenshots/ (ignored by git).
"""

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from browser_kit import idle, serve  # noqa: E402

from red_app.workflows.accounts import local_user

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = ROOT / "artifacts" / "screenshots"
XSS = "<img src=x onerror=alert(1)> where is my parcel"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory, demo_project):
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (make test installs it with apt-get where it can)")
    pytest.importorskip("playwright")
    from conftest import copy_project
    from red_app.project.dataio import import_file
    from red_app.project.embed import embed_project
    from red_app.project.store import Project

    tmp = tmp_path_factory.mktemp("e2e")
    project = copy_project(demo_project, tmp, "demo.duckdb")
    xss = tmp / "xss.csv"
    xss.write_text('id,text,gold\nxss-1,"' + XSS + '",track_order\n')
    with Project(project) as p:
        import_file(p, xss, id="id", label="gold", mode="hidden-gold")
        embed_project(p)
        # a judge verdict on the XSS sample, written by the run's own persistence code
        from red_app.judges.base import JudgeRequest, Verdict
        from red_app.judges.simulated import SimulatedJudge
        from red_app.method.loop import Judged
        from red_app.workflows.runner import ProjectSink, load_inputs

        data, _ = load_inputs(p)
        req = JudgeRequest(sample_id="xss-1", text=XSS, label="track_order")
        sink = ProjectSink(p, run_id=None, data=data, judge=SimulatedJudge({"xss-1": "track_order"}))
        sink.on_verdicts(0, [Judged(0, 0, req, Verdict(valid=True, confidence=1.0, rationale=XSS), 0.5, ())])
    yield from _serve(project)


def _serve(project, **extra_env):
    for url in serve(project, **extra_env):  # the shared start-up (browser_kit)
        yield url, project


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"])
        yield b
        b.close()


def _open(page, url, heading):
    page.goto(url, wait_until="commit", timeout=120_000)
    page.get_by_role("heading", name=heading).first.wait_for(timeout=60_000)
    page.wait_for_timeout(1500)  # let the script finish its run


def _shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_demo_run_override_audit_export(server, browser, tmp_path):
    url, project = server
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    _open(page, f"{url}/", "Project")
    page.get_by_text("1,201").first.wait_for(timeout=30_000)  # 1200 demo texts + 1
    _shot(page, "1-project")

    _open(page, f"{url}/subsets", "Label subsets")
    page.get_by_text("30 labels in").first.wait_for(timeout=90_000)
    points = page.locator(".js-plotly-plot .scatterlayer .point")
    points.first.wait_for(timeout=60_000)
    assert points.count() == 30  # one dot per label on the map
    _shot(page, "2-subsets")

    _open(page, f"{url}/run", "Run")
    page.get_by_role("button", name="Start run").click()
    page.get_by_text("budget spent").first.wait_for(timeout=240_000)
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    page.wait_for_timeout(2500)
    _shot(page, "3-run")

    _open(page, f"{url}/review", "Review")
    page.get_by_text("Text 1 of").wait_for(timeout=30_000)
    text = page.get_by_test_id("stMain").get_by_test_id("stText").first.inner_text()
    # a label that is not among the candidates: o, type, Enter records it (pages/review.py)
    shown = page.get_by_test_id("stMain").get_by_role("button").all_inner_texts()
    other = next(x for x in ("track_order", "store_hours", "size_guide") if not any(x in b for b in shown))
    page.keyboard.press("o")
    page.wait_for_timeout(500)
    page.keyboard.type(other)
    page.keyboard.press("Enter")
    page.get_by_text(f"recorded — {other}").first.wait_for(timeout=30_000)
    _shot(page, "4-review")

    _open(page, f"{url}/audit", "Audit")
    _shot(page, "5-audit")
    first_metric = page.locator('[data-testid="stMetricValue"]').first
    # judge verdicts reviewed by people: the overridden label's verdict, plus the chosen
    # label's if the judge had been asked about it too
    assert first_metric.inner_text().strip() in ("1", "2")

    _open(page, f"{url}/export", "Export")
    page.get_by_role("button", name="Prepare export").click()
    with page.expect_download(timeout=60_000) as dl:
        page.get_by_role("button", name="Download").click()
    out = tmp_path / "export.csv"
    dl.value.save_as(out)
    _shot(page, "6-export")

    import duckdb

    rows = duckdb.sql(f"SELECT text, origin, actor FROM read_csv('{out}') WHERE origin = 'human'").fetchall()
    assert rows == [(text, "human", local_user())]  # local single-user mode: the OS user
    assert not dialogs, f"data text was executed as HTML: {dialogs}"


def test_data_text_is_shown_as_text_not_html(server, browser):
    url, _ = server
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    _open(page, f"{url}/review?sample=xss-1", "Review")
    main = page.get_by_test_id("stMain")
    main.get_by_text(XSS, exact=True).first.wait_for(timeout=30_000)  # the markup shows as text
    page.wait_for_timeout(1000)
    _shot(page, "7-xss")
    assert page.locator('img[src="x"]').count() == 0
    assert not dialogs


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory, banking_path):
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (make test installs it with apt-get where it can)")
    pytest.importorskip("playwright")
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from hostile import build_hostile

    yield from _serve(build_hostile(tmp_path_factory.mktemp("hostile") / "h.duckdb", banking_path))


def test_hostile_data_makes_no_request_no_dialog_no_link(hostile_server, browser):
    """Every field of the project is hostile markup: in Chromium, on every page, count
    dialogs, requests to anything but the app, and links whose address came from data."""
    from urllib.parse import quote

    from hostile import SAMPLE

    url, _ = hostile_server
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    dialogs, outside, links = [], [], {}
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((url, "data:", "blob:")) else None)
    visits = [("", "Project"), ("subsets", "Label subsets"), ("run", "Run"), ("review", "Review"),
              (f"review?sample={quote(SAMPLE)}", "Review"), ("texts", "Texts"), ("audit", "Audit"),
              ("export", "Export")]
    for path, heading in visits:
        _open(page, f"{url}/{path}", heading)
        if path == "subsets":
            page.locator(".js-plotly-plot .scatterlayer .point").first.wait_for(timeout=90_000)
            box = page.locator(".js-plotly-plot .scatterlayer .point").first.bounding_box()
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)  # the hover label
        if path == "audit":
            page.locator(".js-plotly-plot").first.wait_for(timeout=30_000)
        page.wait_for_timeout(1500)
        _shot(page, f"hostile-{heading.lower().replace(' ', '-')}-{len(links)}")
        links[path] = page.eval_on_selector_all(
            "a[href]", "els => els.map(e => e.getAttribute('href')).filter(h => h.includes('127.0.0.1:9'))")
        # plotly's SVG text: an <a> or <b> from a label would be an element, not text
        links[path] += page.eval_on_selector_all(".js-plotly-plot a", "els => els.map(e => e.outerHTML)")
    # nothing leaves the app: neither data nor Streamlit's own icons (the tab icon is a file
    # the app serves; a :material/…: favicon would be fetched from fonts.gstatic.com)
    print(f"dialogs {len(dialogs)}, outside requests {len(outside)}, "
          f"live links {sum(len(v) for v in links.values())} over {len(visits)} pages")
    assert dialogs == [], dialogs
    assert outside == [], outside
    assert all(v == [] for v in links.values()), links


def _red(*args, **kw):
    red = Path(sys.executable).parent / "red"
    return subprocess.run([str(red), *args], capture_output=True, text=True, timeout=120, **kw)


def test_single_user_mode_keeps_the_name_and_frees_the_file_when_idle(server, browser):
    """#12 item 2 and #9: the OS user on every page and after a reload, nothing to type;
    between page runs the app holds no lock, so `red status` works beside it."""
    url, project = server
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    outside = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((url, "data:", "blob:")) else None)
    for path, heading in [("", "Project"), ("review", "Review"), ("texts", "Texts")]:
        _open(page, f"{url}/{path}", heading)
        page.get_by_test_id("stSidebar").get_by_text(f"Deciding as {local_user()}").wait_for(timeout=30_000)
        assert page.get_by_role("textbox", name="Your name").count() == 0
    page.reload()
    page.get_by_role("heading", name="Texts").first.wait_for(timeout=60_000)
    page.get_by_test_id("stSidebar").get_by_text(f"Deciding as {local_user()}").wait_for(timeout=30_000)
    page.wait_for_timeout(1500)
    deadline = time.time() + 60
    while True:  # the earlier test's run may still be labeling every text (it holds the file)
        r = _red("status", str(project))
        if r.returncode == 0 or time.time() > deadline or "red run" in r.stderr:
            break
        assert "the app, while a run goes on" in r.stderr, r.stderr  # the holder is named
        time.sleep(2)
    assert r.returncode == 0, r.stderr  # the app is idle: the file is free
    assert outside == [], outside


@pytest.fixture(scope="module")
def accounts_server(tmp_path_factory, demo_project):
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (make test installs it with apt-get where it can)")
    pytest.importorskip("playwright")
    from red_app.workflows.accounts import add_user
    from conftest import copy_project

    tmp = tmp_path_factory.mktemp("accounts")
    users = tmp / "users.yaml"
    add_user("ana", "ana-admin-pw", "admin", users)
    add_user("rev", "rev-reviewer-pw", "reviewer", users)
    project = copy_project(demo_project, tmp, "demo.duckdb")
    from red_app.judges.simulated import SimulatedJudge
    from red_app.method.config import LoopConfig
    from red_app.project.store import Project
    from red_app.workflows.runner import run_project

    with Project(project) as p:
        gold = dict(p.cursor().execute("SELECT id, gold_label FROM samples WHERE role = 'pool'").fetchall())
        list(run_project(p, SimulatedJudge(gold, accuracy=0.8, seed=1),
                         LoopConfig(budget=40, batch=20, patience=None, calibration_seeds=0)))
    yield from _serve(project, RED_USERS=str(users))


def _login(page, url, name, password):
    page.goto(url, wait_until="commit", timeout=120_000)
    page.get_by_role("heading", name="red — log in").first.wait_for(timeout=60_000)
    idle(page)  # a form filled while its run still draws can lose what was typed
    page.get_by_role("textbox", name="User name").fill(name)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_accounts_login_roles_and_decisions_under_the_account(accounts_server, browser):
    url, project = accounts_server
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    outside = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith((url, "data:", "blob:")) else None)
    # every page asks for a login first, and shows nothing of the project
    for path in ("", "review", "run", "export"):
        page.goto(f"{url}/{path}", wait_until="commit", timeout=120_000)
        page.get_by_role("heading", name="red — log in").first.wait_for(timeout=60_000)
        page.wait_for_timeout(500)
        assert page.get_by_test_id("stMetric").count() == 0
    _shot(page, "accounts-login")
    # a reviewer: no Run or Export in the navigation, refused by URL, no server paths
    _login(page, f"{url}/", "rev", "rev-reviewer-pw")
    page.get_by_role("heading", name="Project").first.wait_for(timeout=120_000)
    nav = page.get_by_test_id("stSidebarNav")
    nav.get_by_text("Review").wait_for(timeout=30_000)
    assert nav.get_by_text("Run", exact=True).count() == 0 and nav.get_by_text("Export").count() == 0
    assert page.get_by_role("button", name="Import").count() == 0
    assert page.get_by_text("Path on the server").count() == 0
    # a reload keeps the login (the library's signed re-login cookie, one day) and the project
    page.reload(wait_until="commit", timeout=120_000)
    page.get_by_role("heading", name="Project").first.wait_for(timeout=120_000)
    page.get_by_test_id("stSidebar").get_by_text("Logged in as rev").wait_for(timeout=30_000)
    assert f"project={project}" in page.url.replace("%2F", "/")
    # the Run page by its address: not listed for a reviewer, and it says why not
    page.goto(f"{url}/run", wait_until="commit", timeout=120_000)
    page.get_by_text("Running the loop is for admins").first.wait_for(timeout=60_000)
    assert page.get_by_role("button", name="Start run").count() == 0
    # another browser (no cookie) is asked to log in
    other = browser.new_context().new_page()
    other.goto(f"{url}/", wait_until="commit", timeout=120_000)
    other.get_by_role("heading", name="red — log in").first.wait_for(timeout=60_000)
    other.close()
    # the reviewer's decision is recorded under the account
    nav.get_by_text("Review").click()
    page.get_by_role("heading", name="Review").first.wait_for(timeout=60_000)
    page.get_by_test_id("stSidebar").get_by_text("Logged in as rev").wait_for(timeout=30_000)
    _shot(page, "accounts-review")
    page.get_by_text("Text 1 of").wait_for(timeout=30_000)
    idle(page)  # the page's key listener is in place once its first run has ended
    page.keyboard.press("1")  # the first candidate is right
    page.wait_for_timeout(3000)
    _shot(page, "accounts-review-done")
    r = _red("texts", str(project), "--origin", "human", "--json")  # the app is idle: the file is free
    assert r.returncode == 0, r.stderr
    import json

    assert json.loads(r.stdout)["count"] == 1
    from red_app.project.store import Project

    with Project(project, read_only=True) as p:
        actors = p.cursor().execute("SELECT DISTINCT actor FROM annotations WHERE origin = 'human'").fetchall()
    assert actors == [("rev",)]
    assert outside == [], outside
