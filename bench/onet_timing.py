"""Time the 1,010-label O*NET project as a person meets it (issue 13 goal 3, issue 12 item 5).

    flock /work/heavy.lock .venv/bin/python bench/onet_timing.py             # library calls
    flock /work/heavy.lock .venv/bin/python bench/onet_timing.py --browser   # + streamlit run and Chromium

The project is built once as a user would (``red init``, ``red import`` of 10 seeds per
label and of a 10,000-text pool with hidden gold, ``red embed``) under
``bench/out/onet_timing/`` and copied fresh for every measurement. Every figure is taken in
a new Python process (a fresh server), with the library calls the pages make:

- first Project page: the imports of ``app.py`` and ``pages/project.py`` and the project's
  figures (``Project.status``), the page's own work;
- Subsets, first visit: ``label_map.current_map`` (centroids, UMAP, greedy subsets, stored)
  and the figure the page draws — with UMAP's compilation paid (the server warms it at
  start) and, apart, cold (UMAP compiled inside the visit);
- Subsets, a second visit in a new process (the map is stored in the project);
- a run's first iteration: ``runner.run_project`` with the simulated judge (budget 100,
  batch 50), from the call until the first iteration's record.

``--browser`` adds the same three page figures through a real ``streamlit run`` and Chromium
(tests/app/browser_kit.py): from the click until Streamlit's script run ended.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = (ROOT.parent / "shared" / "data" / "onet1000.parquet").resolve()
OUT = ROOT / "bench" / "out" / "onet_timing"
SEEDS, POOL = 10, 10_000
CODE = ROOT  # the red whose speed is measured (--code: another checkout, e.g. the code before a change)


def env() -> dict:
    return dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false", PYTHONPATH=str(CODE))
RED = [sys.executable, "-c", "import sys; from red_app.cli import main; sys.exit(main())"]


def build() -> Path:
    """The embedded project (built once; ``red`` commands as a user types them)."""
    done = OUT / "onet1000.duckdb"
    if done.exists():
        return done
    import duckdb

    OUT.mkdir(parents=True, exist_ok=True)
    ranked = (f"SELECT text, label, row_number() OVER (PARTITION BY label ORDER BY hash(text)) AS k "
              f"FROM read_parquet('{DATA}') WHERE split = 'train'")
    duckdb.sql(f"COPY (SELECT text, label FROM ({ranked}) WHERE k <= {SEEDS} ORDER BY label, k) "
               f"TO '{OUT}/seeds.parquet'")
    duckdb.sql(f"COPY (SELECT text, label FROM ({ranked}) WHERE k > {SEEDS} ORDER BY hash(text || label) "
               f"LIMIT {POOL}) TO '{OUT}/pool.parquet'")
    tmp = OUT / "building.duckdb"
    tmp.unlink(missing_ok=True)
    t0 = time.perf_counter()
    for args in (["init", tmp], ["import", tmp, OUT / "seeds.parquet", "--min-examples", "1"],
                 ["import", tmp, OUT / "pool.parquet", "--mode", "hidden-gold"], ["embed", tmp]):
        subprocess.run(RED + [str(a) for a in args], env=env(), cwd=CODE, check=True)
    print(f"built {done.name} in {time.perf_counter() - t0:.0f} s (init, 2 imports, embed)", flush=True)
    tmp.rename(done)
    return done


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fresh(src: Path, name: str) -> Path:
    dst = OUT / f"{name}.duckdb"
    shutil.copyfile(src, dst)
    return dst


# -- each measurement runs in its own process: python bench/onet_timing.py --child KIND PATH --

def child(kind: str, path: str) -> dict:
    global CODE
    CODE = Path(os.environ["PYTHONPATH"].split(os.pathsep)[0])
    t0 = time.perf_counter()
    if kind == "project_page":
        import pandas
        import plotly.express  # noqa: F401
        import streamlit  # noqa: F401

        sys.path.insert(0, str(CODE / "pages"))
        import common  # noqa: F401  (app.py's shared page helpers, and what they import)

        from red_app.project.dataio import import_file  # noqa: F401  (pages/project.py's imports)
        from red_app.project.embed import embed_project  # noqa: F401
        from red_app.project.store import Project

        with Project(path) as p:
            status = p.status()
            assert len(status["per_label"]) == 1010
        return {"seconds": time.perf_counter() - t0}
    if kind.startswith("subsets"):
        import pandas  # noqa: F401
        import plotly.express as px

        from red_app.workflows.label_map import label_table, repartition, subset_table
        from red_app.method.subsets import warm_umap
        from red_app.project.store import Project

        warm = 0.0
        if kind == "subsets_warm":  # the server warmed UMAP at start (app.py)
            warm_umap(background=False)
            warm = time.perf_counter() - t0
        t1 = time.perf_counter()
        with Project(path) as p:
            try:
                from red_app.workflows.label_map import current_map
            except ImportError:  # the code before the cache: the page computed a map only when none was stored
                if not len(p.label_map()):
                    repartition(p, 10, "greedy")
            else:
                current_map(p)
            m = label_table(p)
            subset_table(m)
            fig = px.scatter(m, x="x", y="y", hover_name="label", render_mode="svg")
            fig.to_json()
        assert len(m) == 1010
        return {"seconds": time.perf_counter() - t1, "warm_up": warm}
    if kind == "first_iteration":
        from red_app.judges.simulated import SimulatedJudge
        from red_app.method.config import LoopConfig
        from red_app.method.subsets import warm_umap
        from red_app.project.store import Project
        from red_app.workflows.runner import run_project

        warm_umap(background=False)  # a run is a thread of the server, which warmed UMAP at start
        with Project(path) as p:
            gold = p.hidden_gold()
            judge = SimulatedJudge(gold)
            t1 = time.perf_counter()
            for record in run_project(p, judge, LoopConfig(budget=100, batch=50), label_everything=False):
                first = time.perf_counter() - t1
                break
        return {"seconds": first, "setup": t1 - t0}
    raise SystemExit(f"unknown measurement {kind}")


def measure(kind: str, path: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", kind, str(path)], env=env(), cwd=CODE,
                         capture_output=True, text=True, check=False)
    if out.returncode:
        raise SystemExit(f"{kind} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def library(src: Path, codes: list[Path]) -> dict[str, dict[str, float]]:
    """Each measurement for each checkout in turn (interleaved: the machine's load changes)."""
    global CODE
    res: dict[str, dict[str, float]] = {}

    def each(name: str, fn) -> None:
        global CODE
        for code in codes:
            CODE = code
            v = fn()
            res.setdefault(name, {})[str(code)] = v
            print(f"  {code.name}: {name}: {v:.1f} s", flush=True)

    each("first Project page (fresh process: imports + project figures)",
         lambda: measure("project_page", fresh(src, "project_page"))["seconds"])
    # since session 5 `red embed` computes the label map when it ends (its output says how
    # long), so a project built with it has the map stored: these first visits find it
    each("Subsets first visit, UMAP cold (compiled inside the visit if a map is computed)",
         lambda: measure("subsets_cold", fresh(src, "subsets_cold"))["seconds"])
    warm = {}

    def first_warm() -> float:
        r = measure("subsets_warm", fresh(src, f"subsets_warm_{CODE.name}"))
        warm[str(CODE)] = r["warm_up"]
        return r["seconds"]

    each("Subsets first visit, UMAP warmed at server start", first_warm)
    res["  (UMAP warm-up at server start, out of the page's way)"] = warm
    each("Subsets second visit (new process, map stored in the project)",
         lambda: measure("subsets_cold", OUT / f"subsets_warm_{CODE.name}.duckdb")["seconds"])
    each("a run's first iteration, map stored by the Subsets visit (simulated judge, budget 100, batch 50)",
         lambda: measure("first_iteration", OUT / f"subsets_warm_{CODE.name}.duckdb")["seconds"])
    each("a run's first iteration, no map stored (the run computes it)",
         lambda: measure("first_iteration", fresh(src, "first_iteration"))["seconds"])
    CODE = codes[0]
    return res


def serve(project: Path):
    """`streamlit run CODE/app.py -- --project PROJECT` (browser_kit.serve, for any checkout)."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(CODE / "app.py"), "--server.port", str(port),
         "--server.headless", "true", "--", "--project", str(project)],
        cwd=CODE, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def browser(src: Path) -> dict[str, float]:
    sys.path.insert(0, str(ROOT / "tests" / "app"))
    from browser_kit import VIEWPORT, idle, launch, open_page, switch
    from playwright.sync_api import sync_playwright

    res = {}
    p = fresh(src, "browser")
    os.environ.update(HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    with sync_playwright() as pw:
        b = launch(pw)
        for url in serve(p):
            page = b.new_page(viewport=VIEWPORT)
            res["browser: first Project page after the server started"] = open_page(page, f"{url}/", "Project")
            t0 = time.perf_counter()
            page.get_by_test_id("stSidebarNav").get_by_text("Subsets", exact=True).click()
            page.locator(".js-plotly-plot .scatterlayer .point").first.wait_for(timeout=300_000)
            idle(page)
            res["browser: Subsets first visit (map computed)"] = time.perf_counter() - t0
            switch(page, "Project", "Project")
            res["browser: Subsets second visit"] = switch(page, "Subsets", "Label subsets")
            page.close()
        for url in serve(p):  # a second server on the same project: the map is stored
            page = b.new_page(viewport=VIEWPORT)
            open_page(page, f"{url}/", "Project")
            t0 = time.perf_counter()
            page.get_by_test_id("stSidebarNav").get_by_text("Subsets", exact=True).click()
            page.locator(".js-plotly-plot .scatterlayer .point").first.wait_for(timeout=300_000)
            idle(page)
            res["browser: Subsets first visit on a new server (map stored)"] = time.perf_counter() - t0
            page.close()
        b.close()
    return res


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        # no thread pinning here: a child is the server process, which pins what the app pins
        print(json.dumps(child(sys.argv[2], sys.argv[3])))
        sys.exit(0)
    ap = argparse.ArgumentParser()
    ap.add_argument("--browser", action="store_true", help="also time the pages in streamlit run + Chromium")
    ap.add_argument("--build-only", action="store_true")
    ap.add_argument("--code", type=Path, action="append",
                    help="time this checkout of red (its app.py and red_app; repeat to compare checkouts "
                         "side by side, each measurement taken for each in turn); default: this one")
    a = ap.parse_args()
    codes = [c.resolve() for c in (a.code or [ROOT])]
    CODE = codes[0]
    src = build()  # with the first checkout: an older one cannot open a newer schema
    if a.build_only:
        sys.exit(0)
    columns = library(src, codes)
    if a.browser:
        for code in codes:
            CODE = code
            for k, v in browser(src).items():
                columns.setdefault(k, {})[str(code)] = v
    print(f"\n{'seconds':<100}" + "".join(f"{Path(c).name[:14]:>16}" for c in codes))
    for k, row in columns.items():
        print(f"{k:<100}" + "".join(f"{row.get(str(c), float('nan')):>16.1f}" for c in codes), flush=True)
