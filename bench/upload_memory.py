"""What a session that never logged in can make the server hold (issue 23, row 7): start the
app as `red app` does, with an account, open it in Chromium without logging in, PUT three
95 MB files (the cap is 100) for that session as Streamlit's file uploader would, and read
the server's resident memory before and after. Measured: without the gate every PUT 204 and
268 → 554 MB; with it every PUT 400 and 267 → 267 MB.

    PYTHONPATH=. .venv/bin/python bench/upload_memory.py
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "app"))
from browser_kit import ARGS, CHROMIUM, free_port  # noqa: E402

from red_app.workflows.accounts import add_user  # noqa: E402


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def session_of(url: str):
    """A Chromium tab on the login page: its session id and XSRF cookie."""
    from playwright.sync_api import sync_playwright
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    ids = []
    pw = sync_playwright().start()
    browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
    page = browser.new_page()

    def frames(ws):
        def seen(payload):
            if isinstance(payload, bytes):
                msg = ForwardMsg.FromString(payload)
                if msg.WhichOneof("type") == "new_session":
                    ids.append(msg.new_session.initialize.session_id)
        ws.on("framereceived", seen)

    page.on("websocket", frames)
    page.goto(url, wait_until="commit", timeout=120_000)
    page.get_by_role("heading", name="red — log in").first.wait_for(timeout=120_000)
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "_streamlit_xsrf")
    return pw, browser, ids[-1], token


def main() -> int:
    tmp = Path(tempfile.mkdtemp())
    add_user("ana", "ana-admin-pw", "admin", tmp / "users.yaml")
    port = free_port()
    env = dict(os.environ, RED_USERS=str(tmp / "users.yaml"), HF_HUB_OFFLINE="1")
    server = subprocess.Popen([sys.executable, "-m", "red_app.cli.main", "app", "--port", str(port),
                               "--project", str(tmp / "empty.duckdb"), "--users", str(tmp / "users.yaml")],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(180):
            try:
                httpx.get(url + "/_stcore/health", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.5)
        pw, browser, sid, token = session_of(url)
        before = rss_mb(server.pid)
        body = b"A" * (95 * 1024 * 1024)  # under the 100 MB cap with the form around it
        statuses = []
        for i in range(3):
            r = httpx.put(f"{url}/_stcore/upload_file/{sid}/f{i}", files={"file": ("pool.csv", body)},
                          headers={"X-Xsrftoken": token}, cookies={"_streamlit_xsrf": token}, timeout=120)
            statuses.append(r.status_code)
        after = rss_mb(server.pid)
        print(f"not logged in: 3 PUTs of 95 MB answered {statuses}; server memory {before:.0f} → {after:.0f} MB")
        browser.close()
        pw.stop()
    finally:
        server.terminate()
        server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
