"""Time the Review page's first paint with 100k samples in the project.

    .venv/bin/python bench/review_timing.py [--samples 100000] [--labels 1000] [--browser]

Builds a project of synthetic texts (1000 labels x 30 seeds, the rest a hidden-gold pool)
with random unit vectors as embeddings (timing only), runs one R.E.D. iteration with the
simulated judge so the review queue is real, then times (1) the library calls the page
makes, warm, and (2) with --browser, the first paint in headless Chromium: from
navigation to the first review item on screen, with a fresh session each time.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from red_app.judges.simulated import SimulatedJudge
from red_app.method.config import LoopConfig
from red_app.project.dataio import import_file
from red_app.project.embed import DEFAULT_MODEL, set_threads
from red_app.project.store import Project
from red_app.workflows.review import (earlier_verdicts, model_label_queue, model_queue_size, nearest_examples, queue_size,
                            rejected_labels, review_queue)
from red_app.workflows.runner import run_project

OUT = Path(__file__).resolve().parent / "out"


def build(path: Path, n: int, n_labels: int, seeds: int = 30) -> None:
    rng = np.random.default_rng(0)
    labels = [f"intent_{k:04d}" for k in range(n_labels)]
    y = np.concatenate([np.repeat(np.arange(n_labels), seeds), rng.integers(0, n_labels, n - n_labels * seeds)])
    words = np.array("card refund order parcel account charge transfer balance pin cash fee limit".split())
    texts = [f"{' '.join(rng.choice(words, 6))} number {i}" for i in range(n)]
    seed_part = pa.table({"id": [f"s{i}" for i in range(n_labels * seeds)], "text": texts[: n_labels * seeds],
                          "label": [labels[k] for k in y[: n_labels * seeds]]})
    pool_part = pa.table({"id": [f"p{i}" for i in range(n - n_labels * seeds)], "text": texts[n_labels * seeds:],
                          "label": [labels[k] for k in y[n_labels * seeds:]]})
    pacsv.write_csv(seed_part, OUT / "rt_seeds.csv")
    pacsv.write_csv(pool_part, OUT / "rt_pool.csv")
    with Project(path, create=True) as p:
        import_file(p, OUT / "rt_seeds.csv", id="id")
        import_file(p, OUT / "rt_pool.csv", id="id", mode="hidden-gold")
        hashes = [r[0] for r in p.cursor().execute("SELECT text_hash FROM samples ORDER BY seq").fetchall()]
        centers = rng.normal(size=(n_labels, 384)).astype(np.float32)
        X = centers[y] + rng.normal(scale=1.5, size=(n, 384)).astype(np.float32)
        X /= np.linalg.norm(X, axis=1, keepdims=True)
        p.put_embeddings(DEFAULT_MODEL, hashes, X)
        p.set_setting("embedding_model", DEFAULT_MODEL)
        gold = dict(p.cursor().execute("SELECT id, gold_label FROM samples WHERE role = 'pool'").fetchall())
        cfg = LoopConfig(budget=2000, batch=2000, patience=None, self_training=None, on_reject="skip")
        list(run_project(p, SimulatedJudge(gold), cfg))


def library_timing(path: Path) -> None:
    with Project(path) as p:
        times = []
        for _ in range(5):
            t = time.perf_counter()
            labels = p.labels()
            q = review_queue(p, status="pending", limit=200)
            queue_size(p, "pending")
            item = q.iloc[0]
            nearest_examples(p, item.sample_id, item.label, k=5)
            times.append(time.perf_counter() - t)
        n = p.cursor().execute("SELECT count(*) FROM samples").fetchall()[0][0]
        print(f"library calls of the Review page, {n:,} samples, {len(labels)} labels: "
              f"median {statistics.median(times) * 1000:.0f} ms (min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}) over 5 warm runs")
        # what the page asks besides (since #12): the counts it shows, every earlier word on the
        # item and the labels rejected for it; and the model-label queue's first screen
        more, model = [], []
        for _ in range(5):
            t = time.perf_counter()
            item = review_queue(p, status="pending", limit=200).iloc[0]
            queue_size(p, "pending"), queue_size(p, "needs_review"), queue_size(p, "pending", verdict="valid")
            earlier_verdicts(p, item.sample_id)
            rejected_labels(p, item.sample_id)
            more.append(time.perf_counter() - t)
            t = time.perf_counter()
            mq = model_label_queue(p, 0.6, limit=200)
            model_queue_size(p, 0.6)
            if len(mq):
                rejected_labels(p, mq.sample_id.iloc[0])
                earlier_verdicts(p, mq.sample_id.iloc[0])
            model.append(time.perf_counter() - t)
        print(f"the page's further calls for one item (counts, earlier verdicts, rejected labels): median "
              f"{statistics.median(more) * 1000:.0f} ms; model labels below 0.6 ({model_queue_size(p, 0.6):,}): "
              f"median {statistics.median(model) * 1000:.0f} ms over 5 warm runs")


def browser_timing(path: Path, runs: int = 5) -> None:
    import os
    import socket
    import subprocess

    from playwright.sync_api import sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(root / "app.py"), "--server.port", str(port),
                             "--server.headless", "true", "--", "--project", str(path)], cwd=root,
                            env=dict(os.environ, HF_HUB_OFFLINE="1"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(120):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as pw:
            b = pw.chromium.launch(executable_path="/usr/bin/chromium", args=[
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"])
            times, shell, export = [], [], []
            for k in range(runs + 1):  # the first load warms the server (imports, cached connection)
                page = b.new_page()
                t = time.perf_counter()
                page.goto(f"http://127.0.0.1:{port}/review")
                page.get_by_role("heading", name="Review").wait_for(timeout=120_000)
                t_head = time.perf_counter() - t
                page.get_by_text("Item 1 of").wait_for(timeout=120_000)
                page.get_by_text("Nearest examples of").first.wait_for(timeout=120_000)
                dt = time.perf_counter() - t
                page.close()
                # baseline: the lightest page, to separate Streamlit's own start-up from ours
                page = b.new_page()
                t = time.perf_counter()
                page.goto(f"http://127.0.0.1:{port}/export")
                page.get_by_role("button", name="Prepare export").wait_for(timeout=120_000)
                te = time.perf_counter() - t
                page.close()
                if k:
                    times.append(dt)
                    shell.append(t_head)
                    export.append(te)
                else:
                    print(f"first load after server start (cold): {dt:.2f} s")
            # how analysts arrive: switching pages inside the app (no new tab, no JS reload)
            nav = []
            page = b.new_page()
            page.goto(f"http://127.0.0.1:{port}/export")
            page.get_by_role("button", name="Prepare export").wait_for(timeout=120_000)
            for _ in range(runs):
                t = time.perf_counter()
                page.get_by_role("link", name="Review").click()
                page.get_by_text("Item 1 of").wait_for(timeout=120_000)
                page.get_by_text("Nearest examples of").first.wait_for(timeout=120_000)
                nav.append(time.perf_counter() - t)
                page.get_by_role("link", name="Export").click()
                page.get_by_role("button", name="Prepare export").wait_for(timeout=120_000)
            b.close()
        print(f"Review page shown after switching to it inside the app: median {statistics.median(nav):.2f} s, "
              f"min {min(nav):.2f}, max {max(nav):.2f} over {runs} switches")
        med = statistics.median
        print(f"Review page first paint in Chromium (navigation → first item and its nearest examples shown): "
              f"median {med(times):.2f} s, min {min(times):.2f}, max {max(times):.2f} over {runs} loads; "
              f"page title shown after {med(shell):.2f} s; the Export page (almost no data) takes {med(export):.2f} s")
    finally:
        proc.terminate()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=100_000)
    ap.add_argument("--labels", type=int, default=1000)
    ap.add_argument("--browser", action="store_true")
    a = ap.parse_args()
    set_threads()
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"review_{a.samples}.duckdb"
    if not path.exists():
        t = time.perf_counter()
        build(path, a.samples, a.labels)
        print(f"built {path.name} in {time.perf_counter() - t:.0f} s")
    library_timing(path)
    if a.browser:
        browser_timing(path)
