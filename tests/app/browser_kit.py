"""Shared parts of the Chromium suites: start `streamlit run` on a project, launch
Debian's Chromium, open a page, wait for Streamlit to finish, save a screenshot."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = ROOT / "artifacts" / "screenshots"
LOGS = ROOT / "artifacts" / "logs"  # each test server's output
VIEWPORT = {"width": 1440, "height": 900}
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def need_browser() -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (make test installs it with apt-get where it can)")
    pytest.importorskip("playwright")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(project: Path, **extra_env):
    """Yield the URL of `app_server.py run app.py -- --project PROJECT` (what `red app` runs) (``extra_env`` added to
    its environment, e.g. RED_USERS); stop it afterwards."""
    port = free_port()
    env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false", **extra_env)
    # The server's output goes to a file, never to a pipe nobody reads: once a pipe's 64 KiB
    # buffer is full (llama.cpp's model-loading log, a logged traceback), every write blocks
    # and the whole server stops answering HTTP.
    LOGS.mkdir(parents=True, exist_ok=True)
    log_path = LOGS / f"streamlit-{Path(project).stem}-{port}.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "app_server.py"), "run", str(ROOT / "app.py"), "--server.port", str(port),
             "--server.headless", "true", "--server.maxUploadSize", "20", "--", "--project", str(project)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        proc.wait(timeout=20)
        pytest.fail("streamlit did not start: " + log_path.read_text()[-4000:])
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def warm(browser, url: str) -> None:
    """Open the entry page once: the first visit after a server start registers
    st.navigation; a deep link as the very first visit got Streamlit's legacy page list."""
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(url + "/", wait_until="commit", timeout=120_000)
    page.get_by_role("heading", name="Project").first.wait_for(timeout=120_000)
    page.close()


def launch(pw):
    return pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)


def idle(page, timeout: float = 120_000) -> None:
    """Wait until Streamlit's script run ends (its 'running' status widget is gone)."""
    page.wait_for_timeout(300)
    page.wait_for_function(
        "() => { const a = document.querySelector('[data-testid=\"stApp\"]');"
        " return a && a.dataset.testScriptState === 'notRunning'"
        " && !document.querySelector('[data-testid=\"stStatusWidgetRunningIcon\"]'); }", timeout=timeout)
    page.wait_for_timeout(300)


def open_page(page, url: str, heading: str, timeout: float = 120_000) -> float:
    """Open a page, wait for its heading and the end of its run; seconds it took."""
    t0 = time.perf_counter()
    # "commit", not "load": on a busy 2-core CI machine the load event of Streamlit's bundle
    # took longer than Playwright's 30 s default; the heading wait below is the real check.
    page.goto(url, wait_until="commit", timeout=timeout)
    page.get_by_role("heading", name=heading).first.wait_for(timeout=timeout)
    idle(page, timeout)
    return time.perf_counter() - t0


def switch(page, title: str, heading: str, timeout: float = 120_000) -> float:
    """A page switch through the sidebar (what a person does); seconds until it settled."""
    t0 = time.perf_counter()
    page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
    page.get_by_role("heading", name=heading).first.wait_for(timeout=timeout)
    idle(page, timeout)
    return time.perf_counter() - t0


def shot(page, name: str) -> Path:
    """The page as a person sees it at 1440×900 (NAME.png) and its whole length (NAME-full.png:
    Streamlit scrolls inside its main section, so a full-page capture needs a tall window)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    out = SHOTS / f"{name}.png"
    page.screenshot(path=str(out))
    height = page.evaluate("() => Math.max(...[...document.querySelectorAll('[data-testid=\"stMain\"], "
                           "[data-testid=\"stMainBlockContainer\"]')].map(e => e.scrollHeight), 900)")
    if height > VIEWPORT["height"] + 50:
        page.set_viewport_size({"width": VIEWPORT["width"], "height": min(int(height) + 100, 8000)})
        page.wait_for_timeout(800)
        page.screenshot(path=str(SHOTS / f"{name}-full.png"))
        page.set_viewport_size(VIEWPORT)
        page.wait_for_timeout(300)
    return out


def pick(page, label: str, value: str) -> None:
    """Choose ``value`` in the selectbox labelled ``label`` by typing (the search a person uses)."""
    box = page.get_by_label(label, exact=True).first
    box.click()
    page.keyboard.type(value)
    page.get_by_role("option", name=value, exact=True).first.click()
