"""A deep link as the very first visit to a fresh server (issue #12 walk-through, item 9):
the page opens inside the app's navigation, never Streamlit's legacy list of pages/ files.
Only a browser on a server nobody has visited yet shows this."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from browser_kit import VIEWPORT, idle, launch, need_browser, serve  # noqa: E402

pytestmark = pytest.mark.browser

APP_PAGES = ["Project", "Subsets", "Run", "Review", "Texts", "Discover", "Audit", "Export"]


def test_a_deep_link_as_the_first_visit_shows_the_apps_navigation(demo_built):
    need_browser()
    from playwright.sync_api import sync_playwright

    for url in serve(demo_built):  # a fresh server: no session has run app.py yet (no browser_kit.warm)
        with sync_playwright() as pw:
            browser = launch(pw)
            page = browser.new_page(viewport=VIEWPORT)
            # Export: a page only some roles get, so it must resolve before anyone is identified
            page.goto(url + "/export", wait_until="commit", timeout=120_000)
            page.get_by_role("heading", name="Export").first.wait_for(timeout=120_000)
            idle(page)
            nav = page.get_by_test_id("stSidebarNav")
            nav.get_by_text("Texts", exact=True).wait_for(timeout=30_000)
            # each link's text is its icon's name, then its title
            links = [t.strip().split("\n")[-1].strip() for t in nav.locator("a").all_inner_texts()]
            address = page.url
            browser.close()
    assert [x for x in links if x] == APP_PAGES, links  # not app / audit / common / … (the files)
    from urllib.parse import urlparse

    assert urlparse(address).path.endswith("/export")  # the page asked for (its query names the project)
