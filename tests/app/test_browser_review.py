"""Review in a real headless Chromium at 1440×900: one key per answer (a candidate's number,
0 for none of them, o to search every label), undo, keys pressed faster than the page
runs (queued, none lost), bulk with a confirmation, the judge's earlier words on the text,
and the controls inside the viewport even for a long text. Screenshots go to
artifacts/screenshots/ (ignored by git)."""

import re
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from browser_kit import idle, launch, need_browser, serve  # noqa: E402

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
    # the app lets go of the file between page runs: read it, waiting a moment if a page holds it
    with Project(path, read_only=True, wait=30) as p:
        return p.cursor().execute(
            """SELECT a.sample_id, a.label, a.verdict, a.actor, r.actor FROM annotations a
               LEFT JOIN revocations r USING (event_id) WHERE a.origin = 'human' ORDER BY a.event_id""").fetchall()


def _human_when(path, ready, timeout: float = 30.0):
    """The human rows once ``ready(rows)`` holds (or the last read after ``timeout``): the toast
    shows before the page's run has finished writing."""
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
    page.get_by_text(re.compile(r"Text 1 of \d")).first.wait_for(timeout=60_000)
    idle(page)


def _in_view(page, locator):
    box = locator.bounding_box()
    assert box is not None, locator
    assert 0 <= box["y"] and box["y"] + box["height"] <= H and box["x"] + box["width"] <= W, box
    return box


def _toast(page, text):
    page.get_by_test_id("stToast").filter(has_text=text).first.wait_for(timeout=30_000)


def _focus_in_search(page) -> bool:
    """Is the keyboard focus in the search over every label?"""
    return page.evaluate("""() => { const a = document.activeElement;
        const box = a && a.tagName === 'INPUT' && a.closest('[data-testid="stSelectbox"]');
        const label = box && box.querySelector('[data-testid="stWidgetLabel"]');
        return !!label && label.textContent.trim().startsWith('Search every label'); }""")


def _position(page) -> int:
    m = re.search(r"Text (\d+) of (\d+)", page.get_by_test_id("stMain").inner_text())
    return int(m.group(1))


def _no_error(page) -> None:
    main = page.get_by_test_id("stMain")
    assert main.get_by_test_id("stException").count() == 0
    assert main.get_by_test_id("stAlertContentError").count() == 0, main.get_by_test_id("stAlertContentError").all_inner_texts()


def test_long_text_controls_in_view_and_earlier_words(served):
    url, path, browser = served
    page = browser.new_page(viewport={"width": W, "height": H})
    _open(page, f"{url}/review?sample=long-1")
    main = page.get_by_test_id("stMain")
    for name in (r"1 · ", "0 · None of these", "u · Undo my last"):
        _in_view(page, main.get_by_role("button", name=re.compile(f"^{name}")).first)
    # the long text scrolls inside its box instead of pushing the controls down
    top = main.get_by_text(LONG[:60]).first.bounding_box()
    assert 0 <= top["y"] < H - 150  # its box starts on screen, beside the controls
    # every earlier word on the text: the judge's rejection of damaged_item among them
    main.get_by_text(re.compile(r"^Every earlier word on this text")).first.click()
    main.get_by_text("damaged_item invalid").first.wait_for(timeout=10_000)
    _shot(page, "review-long-text")
    page.close()


def test_one_key_per_answer_none_search_and_undo(served):
    url, path, browser = served
    page = browser.new_page(viewport={"width": W, "height": H})
    _open(page, f"{url}/review")
    _shot(page, "review-1-queue")
    before = len(_human(path))
    page.keyboard.press("1")  # the first candidate is right
    _toast(page, "recorded")
    rows = _human_when(path, lambda r: len(r) >= before + 1)
    assert rows[-1][2:4] == ("valid", ME)
    page.wait_for_timeout(800)
    n = len([b for b in page.get_by_test_id("stMain").get_by_role("button").all_inner_texts() if re.match(r"^[1-9] · ", b)])
    page.keyboard.press("0")  # none of these: every candidate shown is wrong
    rows = _human_when(path, lambda r: len(r) >= before + 1 + n)
    assert {r[2] for r in rows[before + 1:]} == {"invalid"} and len(rows) == before + 1 + n
    page.wait_for_timeout(800)
    page.keyboard.press("o")  # the search over every label
    page.wait_for_timeout(500)
    assert _focus_in_search(page)
    page.keyboard.type("store_hours")
    page.wait_for_timeout(500)
    _shot(page, "review-2-search")
    page.keyboard.press("Enter")
    rows = _human_when(path, lambda r: r and r[-1][1] == "store_hours")
    assert rows[-1][1:3] == ("store_hours", "valid")
    # the next text is on the screen (the search's answer reran the page; keys pressed while
    # its key listener reloads are not queued: a known limit, in the closing notes)
    idle(page)
    page.wait_for_timeout(500)
    assert not _focus_in_search(page)  # focus left the search: the keys act again
    page.keyboard.press("u")  # undo
    rows = _human_when(path, lambda r: r and r[-1][4] is not None)
    assert rows[-1][4] == ME
    _no_error(page)
    _shot(page, "review-3-undone")
    page.close()


def test_keys_faster_than_the_page_are_queued_never_lost(served):
    url, path, browser = served
    page = browser.new_page(viewport={"width": W, "height": H})
    _open(page, f"{url}/review?project={path}")
    # nothing waits for people in this project: the queue is every undecided verdict (55+)
    assert "0 waiting for people" in page.get_by_test_id("stMain").inner_text()
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    start = _position(page)
    for _ in range(30):  # 30 presses of j (next), 50 ms apart: far faster than a page run
        page.keyboard.press("j")
        page.wait_for_timeout(50)
    page.wait_for_function("() => /Text 31 of/.test(document.body.innerText)", timeout=60_000)
    idle(page)
    assert _position(page) == start + 30
    before = len(_human(path))
    for _ in range(10):  # and ten answers, 50 ms apart: each on the text after the one before
        page.keyboard.press("1")
        page.wait_for_timeout(50)
    # ten texts answered (an answer naming another label than the first is two events)
    rows = _human_when(path, lambda r: len({x[0] for x in r[before:]}) >= 10, timeout=60)
    assert len({r[0] for r in rows[before:]}) == 10
    idle(page)
    _no_error(page)
    _shot(page, "review-4-fast-keys")
    page.close()


def test_a_key_for_a_text_someone_else_just_decided_records_nothing(served):
    from red_app.project.reviews import review_queue
    from red_app.workflows.review import decide

    url, path, browser = served
    page = browser.new_page(viewport={"width": W, "height": H})
    _open(page, f"{url}/review")
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    shown = page.get_by_test_id("stMain").get_by_test_id("stText").first.inner_text()
    # someone else decides the text on this person's screen (their own tab, their own connection)
    with Project(path, wait=30) as p:
        sid = p.cursor().execute("SELECT id FROM samples WHERE text = ?", [shown]).fetchall()[0][0]
        row = review_queue(p, status="all", sample_id=sid, limit=5).iloc[0]
        decide(p, sample_id=sid, proposed=row.label, action="accept", reviewer="someone-else",
               seen_event=p.last_human_event())
    before = _human(path)
    page.keyboard.press("1")  # typed for the text read, which is no longer in the queue
    page.get_by_text("changed before your key arrived").first.wait_for(timeout=30_000)
    idle(page)
    after = _human(path)
    assert after == before  # nothing recorded, least of all on a text the person never saw
    # the next key answers the text now shown
    now = page.get_by_test_id("stMain").get_by_test_id("stText").first.inner_text()
    assert now != shown
    page.keyboard.press("1")
    rows = _human_when(path, lambda r: len(r) > len(after))
    with Project(path, read_only=True, wait=30) as p:
        now_id = p.cursor().execute("SELECT id FROM samples WHERE text = ?", [now]).fetchall()[0][0]
    assert {r[0] for r in rows[len(after):]} == {now_id} and rows[-1][3] == ME
    _no_error(page)
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
    assert len(_human_when(path, lambda r: len(r) >= before + n)) == before + n
    page.wait_for_timeout(1000)
    _shot(page, "review-5-bulk-done")
    page.keyboard.press("u")
    rows = _human_when(path, lambda r: all(x[4] is not None for x in r[-n:]))
    assert all(r[4] == ME for r in rows[-n:])
    page.close()
