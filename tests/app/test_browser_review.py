"""Review in a real headless Chromium at 1440×900 (issue #12, item 3): the keyboard path
Right / Wrong / Another label without the mouse, undo, bulk with a confirmation, the
judge's earlier verdicts on the text, and the decision controls inside the viewport even
for a long text. Screenshots go to artifacts/screenshots/ (ignored by git)."""

import re
import shutil
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from browser_kit import launch, need_browser, serve  # noqa: E402

from red_app.workflows.accounts import local_user
from red_app.project.store import Project

ME = local_user()  # local single-user mode: decisions are recorded as the OS user

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "artifacts" / "screenshots"
W, H = 1440, 900
LONG = " ".join(["My card arrived but the parcel was opened and the PIN letter is missing, "
                 "so I cannot use it and I want to know what to do now."] * 30)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def served(tmp_path_factory, demo_project):
    need_browser()
    from conftest import copy_project
    from red_app.judges.base import JudgeRequest, Verdict
    from red_app.judges.simulated import SimulatedJudge
    from red_app.method.config import LoopConfig
    from red_app.method.loop import Judged
    from red_app.project.dataio import import_file
    from red_app.project.embed import embed_project
    from red_app.workflows.runner import ProjectSink, load_inputs, run_project

    tmp = tmp_path_factory.mktemp("review-e2e")
    path = copy_project(demo_project, tmp, "demo.duckdb")
    long_csv = tmp / "long.csv"
    long_csv.write_text(f'id,text,gold\nlong-1,"{LONG}",missing_item\n')
    with Project(path) as p:
        import_file(p, long_csv, id="id", label="gold", mode="hidden-gold")
        embed_project(p)
        gold = p.hidden_gold(role="pool")
        list(run_project(p, SimulatedJudge(gold, accuracy=0.8, seed=1),
                         LoopConfig(budget=60, batch=30, patience=None, calibration_seeds=0)))
        data, _ = load_inputs(p)
        sink = ProjectSink(p, run_id=None, data=data, judge=SimulatedJudge(gold))
        # two earlier words of the judge on the long text: a rejection, then a proposal
        for label, valid in (("damaged_item", False), ("missing_item", True)):
            req = JudgeRequest(sample_id="long-1", text=LONG, label=label)
            sink.on_verdicts(0, [Judged(0, 0, req, Verdict(valid=valid, confidence=0.9, rationale="judged"),
                                        0.5, ("damaged_item", "missing_item"))])
    from playwright.sync_api import sync_playwright

    for url in serve(path):  # the shared start-up (browser_kit): streamlit run, wait for the port, stop after
        with sync_playwright() as pw:
            b = launch(pw)
            yield url, path, b
            b.close()


def _human(path):
    # the app holds the file open for writing: read a copy
    copy = path.with_name(f"read-{time.time_ns()}.duckdb")
    shutil.copy(path, copy)
    wal = path.with_name(path.name + ".wal")
    if wal.exists():
        shutil.copy(wal, copy.with_name(copy.name + ".wal"))
    with Project(copy, read_only=True) as p:
        return p.cursor().execute(
            """SELECT a.sample_id, a.label, a.verdict, a.actor, r.actor FROM annotations a
               LEFT JOIN revocations r USING (event_id) WHERE a.origin = 'human' ORDER BY a.event_id""").fetchall()


def _human_when(path, ready, timeout: float = 30.0):
    """The human rows once ``ready(rows)`` holds (or the last read after ``timeout``): the toast
    shows before the page's run has finished writing, and a copy taken while DuckDB moves
    its WAL into the file can miss the newest event."""
    deadline = time.time() + timeout
    while True:
        rows = _human(path)
        if ready(rows) or time.time() > deadline:
            return rows
        time.sleep(0.5)


def _shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))  # the viewport: what a 1440×900 screen shows


def _open(page, url):
    page.goto(url, wait_until="commit", timeout=120_000)
    page.get_by_role("heading", name="Review").first.wait_for(timeout=60_000)
    page.get_by_text("Item 1 of").first.wait_for(timeout=60_000)
    page.wait_for_timeout(1500)  # let the script finish its run


def _in_view(page, locator):
    box = locator.bounding_box()
    assert box is not None, locator
    assert 0 <= box["y"] and box["y"] + box["height"] <= H and box["x"] + box["width"] <= W, box
    return box


def _toast(page, text):
    page.get_by_test_id("stToast").filter(has_text=text).first.wait_for(timeout=30_000)


def _focus_in_picker(page) -> bool:
    """Is the keyboard focus in the "Another label" picker?"""
    return page.evaluate("""() => { const a = document.activeElement;
        const box = a && a.tagName === 'INPUT' && a.closest('[data-testid="stSelectbox"]');
        const label = box && box.querySelector('[data-testid="stWidgetLabel"]');
        return !!label && label.textContent.trim().startsWith('Another label'); }""")


def _picker(main):
    return main.get_by_test_id("stSelectbox").filter(has_text="Another label").locator("input")


def test_long_text_controls_in_view_and_earlier_verdicts(served):
    url, path, browser = served
    page = browser.new_page(viewport={"width": W, "height": H})
    _open(page, f"{url}/review?sample=long-1")
    main = page.get_by_test_id("stMain")
    _shot(page, "review-long-text")
    for name in ("Right", "Wrong", "Undo my last decision"):  # a button's name ends with its key
        _in_view(page, main.get_by_role("button", name=re.compile(f"^{name}")))
    _in_view(page, _picker(main))
    _in_view(page, main.get_by_text("Judge (simulated) said:").first)
    # the long text scrolls inside its box instead of pushing the controls down
    top = main.get_by_text(LONG[:60]).first.bounding_box()
    assert 0 <= top["y"] < H - 150  # its box starts on screen, beside the controls
    # the judge's earlier rejection of damaged_item is shown, and that label is not
    # offered as an alternative
    history = main.get_by_text("damaged_item invalid").first
    history.wait_for(timeout=10_000)
    assert "top alternatives: damaged" not in main.inner_text()
    assert "rejected before: damaged_item" in main.inner_text()
    _shot(page, "review-long-text")
    page.close()


def test_keyboard_right_wrong_another_and_undo_without_the_mouse(served):
    url, path, browser = served
    page = browser.new_page(viewport={"width": W, "height": H})
    _open(page, f"{url}/review")
    _shot(page, "review-1-queue")
    before = len(_human(path))
    page.keyboard.press("a")  # Right
    _toast(page, "recorded — right")
    rows = _human_when(path, lambda r: len(r) >= before + 1)
    assert len(rows) == before + 1 and rows[-1][2:4] == ("valid", ME)
    page.wait_for_timeout(800)
    page.keyboard.press("x")  # Wrong
    _toast(page, "recorded — wrong")
    rows = _human_when(path, lambda r: len(r) >= before + 2)
    assert len(rows) == before + 2 and rows[-1][2] == "invalid"
    page.wait_for_timeout(800)
    proposed = page.get_by_test_id("stMain").get_by_role("heading", level=5).first.inner_text()
    page.keyboard.press("o")  # focus the picker
    page.wait_for_timeout(500)
    assert _focus_in_picker(page)
    other = next(x for x in ("missing_item", "damaged_item", "store_hours") if x not in proposed)
    page.keyboard.type(other)
    page.wait_for_timeout(500)
    _shot(page, "review-2-picker")
    page.keyboard.press("Enter")
    _toast(page, f"another label: {other}")
    page.wait_for_timeout(1500)
    rows = _human_when(path, lambda r: len(r) >= before + 4)
    assert [r[2] for r in rows[-2:]] == ["invalid", "valid"] and rows[-1][1] == other
    # focus left the old picker with its item: the letter keys act again, nothing is typed
    assert not _focus_in_picker(page)
    page.keyboard.press("u")  # undo the override
    _toast(page, "undone")
    page.wait_for_timeout(1000)
    rows = _human_when(path, lambda r: r and r[-1][4] is not None)
    assert rows[-1][4] == ME and rows[-2][4] == ME and rows[-3][4] is None
    _shot(page, "review-3-undone")
    page.close()


def test_bulk_with_a_count_and_a_confirmation(served):
    url, path, browser = served
    page = browser.new_page(viewport={"width": W, "height": H})
    _open(page, f"{url}/review")
    main = page.get_by_test_id("stMain")
    main.get_by_text("Bulk: decide all").first.click()
    button = main.get_by_role("button", name=re.compile(r"^Decide \d"))
    button.wait_for(timeout=10_000)
    n = int(button.inner_text().split()[1].rstrip("…").replace(",", ""))
    before = len(_human(path))
    button.click()
    main.get_by_text(f"Record {n:,} decisions").wait_for(timeout=20_000)
    _shot(page, "review-4-bulk-confirm")
    assert len(_human(path)) == before  # nothing until confirmed
    main.get_by_role("button", name=re.compile("^Confirm")).click()
    _toast(page, f"recorded {n} decisions")
    assert len(_human_when(path, lambda r: len(r) >= before + n)) == before + n
    page.wait_for_timeout(1000)
    _shot(page, "review-5-bulk-done")
    page.keyboard.press("u")
    _toast(page, "undone")
    page.wait_for_timeout(1000)
    rows = _human_when(path, lambda r: all(x[4] is not None for x in r[-n:]))
    assert all(r[4] == ME for r in rows[-n:])
    page.close()
