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


SMALL_LABELS = 15  # a small real-data slice: every test that embeds stays fast on 2 cores


@pytest.fixture(scope="session")
def small_project(tmp_path_factory, banking_path):
    """A real project: 15 BANKING77 intents, shot10 seeds, hidden-gold pool, test holdout, embedded."""
    import duckdb

    from red_app.project.dataio import import_file
    from red_app.project.embed import embed_project
    from red_app.project.store import Project

    labels = [r[0] for r in duckdb.sql(
        f"SELECT DISTINCT label FROM read_parquet('{banking_path}') ORDER BY label LIMIT {SMALL_LABELS}").fetchall()]
    in_labels = "label IN (" + ", ".join("'" + l + "'" for l in labels) + ")"
    path = tmp_path_factory.mktemp("banking") / "small.duckdb"
    with Project(path, create=True) as p:
        import_file(p, banking_path, where=f"{in_labels} AND split = 'train' AND shot10")
        import_file(p, banking_path, where=f"{in_labels} AND split = 'train' AND NOT shot10", mode="hidden-gold")
        import_file(p, banking_path, where=f"{in_labels} AND split = 'test'", mode="holdout")
        embed_project(p)
    return path


@pytest.fixture
def small_copy(small_project, tmp_path):
    """A private copy of the small real project for tests that write."""
    import shutil

    dst = tmp_path / "p.duckdb"
    shutil.copy(small_project, dst)
    return dst
