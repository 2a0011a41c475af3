"""Label subsets of a project: compute them, reuse a stored partition, and the tables
the Subsets page shows (one row per label, one row per subset)."""

from __future__ import annotations

import hashlib
import json
import time

import numpy as np
import pandas as pd

from .inputs import load_inputs
from ..method.config import CHOICES, DEFAULTS
from ..method.loop import LoopData, LoopState
from ..method.map_view import FOUND, MAX_COLOURS, OTHERS, group_order, map_groups, subset_of  # noqa: F401  (re-exported for the Subsets page)
from ..method.subsets import LabelPartition, label_centroids, partition_labels
from ..project.embed import project_model
from ..project.store import Project

# the map a run draws by default: LoopConfig's own defaults, read from the declarations
DEFAULT_N, DEFAULT_METHOD, DEFAULT_UMAP_DIM, DEFAULT_SEED = DEFAULTS.n, DEFAULTS.partition_method, DEFAULTS.umap_dim, DEFAULTS.seed


def map_fingerprint(project: Project, n: int, method: str, umap_dim: int = DEFAULT_UMAP_DIM,
                    seed: int = DEFAULT_SEED, model: str | None = None) -> str:
    """What a label map depends on, as one digest: the labels, the seeds' current labels,
    the embedding model and the partition's settings (cheap: no embedding is read)."""
    n_labels, names, seeds = project.label_map_inputs()
    key = {"labels": n_labels, "names": names, "seeds": seeds, "model": model or project_model(project),
           "n": int(n), "method": method, "umap_dim": int(umap_dim), "seed": int(seed)}
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:32]


def compute_partition(project: Project, data: LoopData, state: LoopState, n: int, method: str,
                      umap_dim: int = DEFAULT_UMAP_DIM, seed: int = DEFAULT_SEED, save: bool = True,
                      model: str | None = None) -> LabelPartition:
    """Partition the labels by their current examples' centroids; stored (shown, and cached
    under its fingerprint) unless ``save`` is off."""
    t0 = time.perf_counter()
    lab = state.y >= 0
    cent = label_centroids(data.X[lab], state.y[lab], len(data.label_names))
    part = partition_labels(cent, n=n, method=method, umap_dim=umap_dim, random_state=seed)
    if save and not project.read_only:
        model = model or project_model(project)
        fp = map_fingerprint(project, n, method, umap_dim, seed, model)
        project.save_label_map(data.label_names, part.subset_of, part.coords2d, method, n, fingerprint=fp,
                               settings={"model": model, "umap_dim": umap_dim, "seed": seed,
                                         "seconds": time.perf_counter() - t0})
    return part


def _partition_of(points: pd.DataFrame, labels: list[str], n: int, method: str) -> LabelPartition | None:
    """A stored map as a partition of ``labels`` (in their order), or None if it does not cover them."""
    if len(points) != len(labels) or set(points["label"]) != set(labels):
        return None
    m = points.set_index("label").loc[labels]
    subset_ids = m["subset"].to_numpy()
    subsets = [np.flatnonzero(subset_ids == k).tolist() for k in range(int(subset_ids.max()) + 1)]
    return LabelPartition(subsets=[s for s in subsets if s], coords2d=m[["x", "y"]].to_numpy(np.float32),
                          method=method, n=n)


def stored_partition(project: Project, labels: list[str], n: int, method: str, umap_dim: int = DEFAULT_UMAP_DIM,
                     seed: int = DEFAULT_SEED, model: str | None = None) -> LabelPartition | None:
    """The cached partition computed from these labels, seeds, model and settings, if any."""
    points = project.cached_label_map(map_fingerprint(project, n, method, umap_dim, seed, model))
    return None if points is None else _partition_of(points, labels, n, method)


def current_map(project: Project, n: int | None = None, method: str | None = None,
                umap_dim: int | None = None, seed: int | None = None) -> str:
    """Make the map shown match the project as it is now; its fingerprint.

    Settings left out are those of the map shown (else the defaults). Instant when the map
    shown is current; a cached map of these inputs is shown again without computing; only
    a change of labels, seeds, model or settings computes a new one (UMAP + subsets).
    """
    shown = project.label_map_fingerprint()
    have = project.label_map_settings(shown) if shown else None
    n = int(n if n is not None else have["n"] if have else DEFAULT_N)
    method = method or (have["method"] if have else DEFAULT_METHOD)
    umap_dim = int(umap_dim if umap_dim is not None else have["umap_dim"] if have else DEFAULT_UMAP_DIM)
    seed = int(seed if seed is not None else have["seed"] if have else DEFAULT_SEED)
    model = project_model(project)
    fp = map_fingerprint(project, n, method, umap_dim, seed, model)
    if fp == shown or project.read_only:
        return fp
    if not project.show_cached_label_map(fp):
        data, state = load_inputs(project, model)
        compute_partition(project, data, state, n, method, umap_dim, seed, model=model)
    return fp


def map_after_embedding(project: Project) -> float | None:
    """Compute the label map right after an embedding run, so the Subsets page's first visit
    shows a stored map instead of computing one (at 1,010 labels a few seconds of UMAP, next
    to minutes of embedding). Seconds it took (0 when the map shown was current); None when
    there is nothing to map yet (read-only, or fewer than two labels)."""
    if project.read_only:
        return None
    if project.label_map_inputs()[0] < 2:
        return None
    shown = project.label_map_fingerprint()
    t0 = time.perf_counter()
    if current_map(project) == shown:
        return 0.0
    return time.perf_counter() - t0


def repartition(project: Project, n: int, method: str) -> LabelPartition:
    """Compute and store the label map of the project as it is now (every current example)."""
    data, state = load_inputs(project)
    return compute_partition(project, data, state, n, method)


NO_DESCRIPTION = "(none yet)"


def label_table(project: Project) -> pd.DataFrame:
    """The stored map, one row per label: label, subset (as text), x, y, examples, description."""
    m = project.label_map()
    if not len(m):
        return m
    counts = project.status()["per_label"].set_index("label")["labeled"]
    desc = project.descriptions()
    m["examples"] = m["label"].map(counts).fillna(0).astype(int)
    m["description"] = m["label"].map(lambda l: (desc.get(l) or {}).get("description", NO_DESCRIPTION))
    m["subset"] = m["subset"].astype(str)
    return m


def subset_table(labels: pd.DataFrame) -> pd.DataFrame:
    """One row per subset, in subset order: its labels, size and examples."""
    table = labels.groupby("subset", sort=False).agg(labels=("label", lambda s: ", ".join(s)),
                                                     size=("label", "size"), examples=("examples", "sum"))
    table = table.reset_index()
    return table.iloc[table["subset"].astype(int).argsort()].reset_index(drop=True)


def warm_up_maps() -> None:
    """UMAP's one-time compilation, started in a background thread (once per server)."""
    from ..method.subsets import warm_umap

    warm_umap(background=True)


PARTITION_METHODS = CHOICES["partition_method"]  # the map's rules, for the Subsets page
