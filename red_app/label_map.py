"""Label subsets of a project: compute them, reuse a stored partition, and the tables
the Subsets page shows (one row per label, one row per subset)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .inputs import load_inputs
from .method.loop import LoopData, LoopState
from .method.subsets import LabelPartition, label_centroids, partition_labels
from .project.store import Project


def compute_partition(project: Project, data: LoopData, state: LoopState, n: int, method: str,
                      umap_dim: int = 5, seed: int = 0, save: bool = True) -> LabelPartition:
    """Partition the labels by their current examples' centroids; stored unless ``save`` is off."""
    lab = state.y >= 0
    cent = label_centroids(data.X[lab], state.y[lab], len(data.label_names))
    part = partition_labels(cent, n=n, method=method, umap_dim=umap_dim, random_state=seed)
    if save and not project.read_only:
        project.save_label_map(data.label_names, part.subset_of, part.coords2d, method, n)
    return part


def stored_partition(project: Project, labels: list[str], n: int, method: str) -> LabelPartition | None:
    """The stored partition if it covers exactly these labels with these settings."""
    m = project.label_map()
    if not len(m) or set(m["label"]) != set(labels) or int(m["n"].iloc[0]) != n or m["method"].iloc[0] != method:
        return None
    m = m.set_index("label").loc[labels]
    subset_of = m["subset"].to_numpy()
    subsets = [np.flatnonzero(subset_of == k).tolist() for k in range(int(subset_of.max()) + 1)]
    return LabelPartition(subsets=[s for s in subsets if s], coords2d=m[["x", "y"]].to_numpy(np.float32),
                          method=method, n=n)


def repartition(project: Project, n: int, method: str) -> LabelPartition:
    """Compute and store the label map of the project as it is now."""
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
