"""Shared fixtures. Real parts only: real DuckDB files, the real MiniLM model, real data."""

import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# One BLAS/OpenMP thread per process, as `red run` and the app pin them (RED_THREADS): tests
# that drive RedLoop directly fitted unpinned, and on two busy cores one such test went from
# 33 s to over 200 s (FACTS: oversubscription costs 4-100x). Set before numpy is imported.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, os.environ.get("RED_THREADS", "1"))

import pytest  # noqa: E402

# Accounts: no test reads the developer's own ~/.config/red/users.yaml. Tests that need
# accounts point RED_USERS at a file of their own (local single-user mode otherwise).
os.environ["RED_USERS"] = str(Path(__file__).resolve().parent / ".no-accounts.yaml")
os.environ.pop("RED_REVIEWER", None)

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = (ROOT.parent / "shared" / "data").resolve()


def shared_file(name: str) -> Path:
    path = SHARED_DATA / name
    if not path.exists():
        pytest.skip(f"{path} is absent (the shared benchmark data sits beside the repo in CI)")
    return path


@pytest.fixture(scope="session")
def clinc_path() -> Path:
    return shared_file("clinc150.parquet")


@pytest.fixture(scope="session")
def banking_path() -> Path:
    return shared_file("banking77.parquet")


def shared_project(tmp_path_factory, name: str, build) -> Path:
    """The fixture project ``name``, built once per test session — once for every xdist worker
    too (a file lock, pytest-xdist's recipe): ``build(path)`` writes it. Read it, or copy it
    (:func:`copy_project`) to write: it is shared."""
    from filelock import FileLock

    base = tmp_path_factory.getbasetemp()
    root = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "shared-projects"
    root.mkdir(exist_ok=True)
    path = root / f"{name}.duckdb"
    with FileLock(str(root / f"{name}.lock")):
        if not path.exists():
            building = root / f"{name}.building.duckdb"
            building.unlink(missing_ok=True)
            build(building)
            building.rename(path)
    return path


def copy_project(src: Path, dst_dir: Path, name: str = "p.duckdb") -> Path:
    """A private copy of a shared fixture project, for a test that writes."""
    import shutil

    dst = Path(dst_dir) / name
    shutil.copy(src, dst)
    return dst


SMALL_LABELS = 15  # a small real-data slice: every test that embeds stays fast on 2 cores


def _build_small(path: Path, banking_path: Path) -> None:
    import duckdb

    from red_app.project.dataio import import_file
    from red_app.project.embed import embed_project
    from red_app.project.store import Project

    labels = [r[0] for r in duckdb.sql(
        f"SELECT DISTINCT label FROM read_parquet('{banking_path}') ORDER BY label LIMIT {SMALL_LABELS}").fetchall()]
    in_labels = "label IN (" + ", ".join("'" + l + "'" for l in labels) + ")"
    with Project(path, create=True) as p:
        import_file(p, banking_path, where=f"{in_labels} AND split = 'train' AND shot10")
        import_file(p, banking_path, where=f"{in_labels} AND split = 'train' AND NOT shot10", mode="hidden-gold")
        import_file(p, banking_path, where=f"{in_labels} AND split = 'test'", mode="holdout")
        embed_project(p)


@pytest.fixture(scope="session")
def small_project(tmp_path_factory, banking_path):
    """A real project: 15 BANKING77 intents, shot10 seeds, hidden-gold pool, test holdout, embedded."""
    return shared_project(tmp_path_factory, "small-banking", lambda path: _build_small(path, banking_path))


@pytest.fixture
def small_copy(small_project, tmp_path):
    """A private copy of the small real project for tests that write."""
    return copy_project(small_project, tmp_path)


@pytest.fixture(scope="session")
def demo_project(tmp_path_factory):
    """The bundled demo as `red demo` builds it (30 intents, embedded, map and seed model
    ready), built once: copy it to write (``demo_copy``)."""
    from red_app.workflows.demo import build_demo

    return shared_project(tmp_path_factory, "demo", build_demo)


@pytest.fixture
def demo_copy(demo_project, tmp_path):
    return copy_project(demo_project, tmp_path, "demo.duckdb")


def _run_demo(path: Path) -> None:
    from red_app.judges.simulated import SimulatedJudge
    from red_app.method.config import LoopConfig
    from red_app.project.store import Project
    from red_app.workflows.demo import build_demo
    from red_app.workflows.runner import run_project

    build_demo(path)
    with Project(path) as p:
        # the default (choose) questions, a yes-leaning judge taken at its word: it picks the
        # gold when offered 80% of the time, else a wrong candidate half the time, else none;
        # so the Review page has picks, wrong picks and "none" answers to show
        judge = SimulatedJudge(p.hidden_gold(role="pool"), p_valid_right=0.8, p_valid_wrong=0.5, seed=1)
        list(run_project(p, judge, LoopConfig(budget=60, batch=30, patience=None, calibration_seeds=0)))


@pytest.fixture(scope="session")
def demo_built(tmp_path_factory):
    """The demo after one short run with a yes-leaning simulated judge (built once)."""
    return shared_project(tmp_path_factory, "demo-after-a-run", _run_demo)


# The demo with three labels' seeds withheld: their texts sit in the pool fitting none of
# the project's labels (issue 20: red discover, the Discover page, the out-of-scope mark).
OPEN_POOL_HIDDEN = ("discount_code", "store_hours", "warranty")


def _build_open_pool(path: Path) -> None:
    import pandas as pd

    from red_app.project.dataio import import_file
    from red_app.project.embed import embed_project
    from red_app.project.store import Project

    assets = Path(__file__).resolve().parents[1] / "assets"
    seeds = pd.read_csv(assets / "demo_seeds.csv")
    kept = path.with_name(path.stem + "-seeds.csv")
    seeds[~seeds.label.isin(OPEN_POOL_HIDDEN)].to_csv(kept, index=False)
    with Project(path, create=True) as p:
        import_file(p, kept, label="label")
        import_file(p, assets / "demo_pool.csv", label="gold_intent", mode="hidden-gold")
        embed_project(p)


@pytest.fixture(scope="session")
def open_pool(tmp_path_factory):
    """The open-pool demo (see OPEN_POOL_HIDDEN), built once: copy it to write."""
    return shared_project(tmp_path_factory, "open-pool", _build_open_pool)

