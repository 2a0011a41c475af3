"""Uploads only after login (issue 23, row 7), in a real Chromium against the server `red app`
starts: a session's file reaches the server only while its person may import (an admin).
Before, Streamlit took a file from any live websocket session, logged in or not, and held it
in memory until that session ended."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from browser_kit import idle, launch, need_browser, serve  # noqa: E402

pytestmark = pytest.mark.browser
PASSWORDS = {"ana": "ana-admin-pw", "rev": "rev-reviewer-pw"}
PUT = """async ([url, token, size]) => {
  const form = new FormData();
  form.append("file", new Blob([new Uint8Array(size).fill(65)]), "pool.csv");
  const r = await fetch(url, {method: "PUT", body: form, headers: {"X-Xsrftoken": token}});
  return r.status;
}"""


@pytest.fixture(scope="module")
def served(tmp_path_factory, demo_project):
    need_browser()
    from conftest import copy_project
    from red_app.workflows.accounts import add_user

    tmp = tmp_path_factory.mktemp("uploads")
    users = tmp / "users.yaml"
    add_user("ana", PASSWORDS["ana"], "admin", users)
    add_user("rev", PASSWORDS["rev"], "reviewer", users)
    path = copy_project(demo_project, tmp, "demo.duckdb")
    from playwright.sync_api import sync_playwright

    for url in serve(path, RED_USERS=str(users)):
        with sync_playwright() as pw:
            b = launch(pw)
            yield url, b
            b.close()


def _open(browser, url: str):
    """A fresh browser (no cookies) on the login page, and the ids of its Streamlit sessions
    as the server announces them on the websocket."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    ids: list[str] = []

    def frames(ws):
        def seen(payload):
            if isinstance(payload, bytes):
                msg = ForwardMsg.FromString(payload)
                if msg.WhichOneof("type") == "new_session" and msg.new_session.initialize.session_id:
                    ids.append(msg.new_session.initialize.session_id)
        ws.on("framereceived", seen)

    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.on("websocket", frames)
    page.goto(url, wait_until="commit", timeout=120_000)
    page.get_by_role("heading", name="red — log in").first.wait_for(timeout=60_000)
    idle(page)
    return context, page, ids


def _login(page, name: str) -> None:
    page.get_by_role("textbox", name="User name").fill(name)
    page.get_by_role("textbox", name="Password").fill(PASSWORDS[name])
    page.get_by_role("button", name="Log in").click()
    page.get_by_text("Logged in as").first.wait_for(timeout=120_000)
    idle(page)


def _put(page, url: str, session_id: str, size: int = 2_000_000) -> int:
    """What the file uploader does: PUT one file for this session (the page's own XSRF token)."""
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "_streamlit_xsrf")
    return page.evaluate(PUT, [f"{url}/_stcore/upload_file/{session_id}/file-1", token, size])


def test_only_a_logged_in_admin_session_can_upload_a_file(served):
    url, browser = served
    statuses = {}
    for who in ("nobody", "rev", "ana"):
        context, page, ids = _open(browser, url)
        assert ids, "the server announced no session"
        if who != "nobody":
            _login(page, who)
        statuses[who] = _put(page, url, ids[-1])
        if who == "ana":
            # a logged-out session is refused again
            page.get_by_role("button", name="Log out").click()
            page.get_by_role("heading", name="red — log in").first.wait_for(timeout=60_000)
            idle(page)
            statuses["ana, logged out"] = _put(page, url, ids[-1])
        context.close()
    # 400 is Streamlit's answer for a session it will not take a file from (the body is not read)
    assert statuses == {"nobody": 400, "rev": 400, "ana": 204, "ana, logged out": 400}
