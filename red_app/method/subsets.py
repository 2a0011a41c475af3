"""Label subsets: centroids → UMAP → greedy groups of mutually dissimilar labels.

The article's rule (``method="greedy"``): a subset starts from an unassigned label and
repeatedly takes the unassigned label *least similar to the subset's mean* until it
holds ``n``; then the next subset starts. Every label lands in exactly one subset.
Similarity is the negative Euclidean distance in the UMAP space (UMAP is fitted with
the cosine metric on the raw centroids, so its output space is Euclidean).
"""

from __future__ import annotations

import functools
import threading
import warnings
from dataclasses import dataclass, field

import numpy as np

from .config import PARTITION_METHODS  # noqa: F401  (declared with the settings)


def label_centroids(X: np.ndarray, y: np.ndarray, n_labels: int) -> np.ndarray:
    """Mean embedding of each label's examples (``y`` holds label indices), L2-normalised."""
    y = np.asarray(y)
    counts = np.bincount(y, minlength=n_labels)
    if len(counts) > n_labels:
        raise ValueError(f"label index {int(y.max())} out of range for {n_labels} labels")
    if np.any(counts == 0):
        missing = np.flatnonzero(counts == 0)
        raise ValueError(f"labels without examples: indices {missing[:5].tolist()}")
    # each label's rows summed in float64 in their order, as np.add.at sums them (the same
    # bits), by contiguous runs: 0.24 → 0.05 s at 9,901 rows × 1,010 labels
    order = np.argsort(y, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    sums = np.add.reduceat(np.asarray(X)[order], starts, axis=0, dtype=np.float64)
    cent = sums / counts[:, None].astype(np.float64)
    cent /= np.linalg.norm(cent, axis=1, keepdims=True) + 1e-12
    return cent.astype(np.float32)


def reduce(centroids: np.ndarray, n_components: int, random_state: int = 0) -> np.ndarray:
    """UMAP (cosine) of the centroids; too few labels for UMAP keep the raw space."""
    n = len(centroids)
    if n <= max(n_components + 1, 4):
        return centroids.astype(np.float32)
    import umap

    k = min(15, n - 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "n_jobs overridden by random_state" and friends
        reducer = umap.UMAP(
            n_components=n_components, metric="cosine", n_neighbors=k,
            min_dist=0.1, random_state=random_state, init="random" if n < 2 * n_components + 4 else "spectral",
            precomputed_knn=small_data_knn(centroids, k) if n < SMALL_DATA else (None, None, None),
        )
        return reducer.fit_transform(centroids).astype(np.float32)


SMALL_DATA = 4096  # below this many rows UMAP finds neighbours from all pairwise distances


def small_data_knn(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The nearest neighbours UMAP finds itself below :data:`SMALL_DATA` rows, the same
    numbers computed faster.

    UMAP (0.5) fills that distance matrix through scikit-learn's ``pairwise_distances`` with
    its compiled cosine as a Python callable: one Python call per pair, 7.7 s of an 11 s map
    at 1,010 labels. Here the same compiled cosine runs over every pair inside numba
    (the diagonal too, as scikit-learn does), then UMAP's own top-k of a precomputed matrix.
    """
    from umap.utils import fast_knn_indices

    d = _all_cosine()(np.ascontiguousarray(x))
    idx = fast_knn_indices(d, k)
    return idx, d[np.arange(len(x))[:, None], idx].copy()


@functools.lru_cache(maxsize=1)
def _all_cosine():
    """UMAP's compiled cosine over every pair (diagonal included), compiled once and cached
    on disk by numba, so a new process (``red run``, ``red subsets``) does not compile it."""
    import numba
    from umap.distances import cosine

    @numba.njit(cache=True)
    def all_pairs(x):
        n = x.shape[0]
        d = np.zeros((n, n))
        for i in range(n):
            d[i, i] = cosine(x[i], x[i])
            for j in range(i + 1, n):
                d[i, j] = cosine(x[i], x[j])
                d[j, i] = d[i, j]
        return d

    return all_pairs


_warm_lock = threading.Lock()
_warm: list[threading.Thread] = []


def warm_umap(background: bool = True) -> threading.Thread | None:
    """Pay UMAP's numba compilation (~6.5 s, once per process, measured here) ahead of time.

    A server calls it once at start (in a daemon thread by default) so that the first map
    a person asks for does not wait for the compiler. Later calls are free.
    """
    def work() -> None:
        rng = np.random.default_rng(0)
        x = rng.normal(size=(40, 16)).astype(np.float32)
        for k in (2, 5):  # the map's 2-D layout and the partition's default dimension
            reduce(x, k)

    with _warm_lock:
        if _warm:
            return _warm[0]
        t = threading.Thread(target=work, name="red-umap-warmup", daemon=True)
        _warm.append(t)
        if background:
            t.start()
        else:
            t.run()
        return t


def greedy_dissimilar(Z: np.ndarray, n: int, random_state: int = 0) -> list[list[int]]:
    """Partition rows of ``Z`` into subsets of at most ``n`` mutually dissimilar rows.

    Each subset is seeded with a random unassigned label (seeded RNG), then grows by the
    unassigned label farthest from the subset's current mean.
    """
    if n < 1:
        raise ValueError("subset size n must be at least 1")
    rng = np.random.default_rng(random_state)
    unassigned = np.ones(len(Z), dtype=bool)
    subsets: list[list[int]] = []
    while unassigned.any():
        start = int(rng.choice(np.flatnonzero(unassigned)))
        members = [start]
        unassigned[start] = False
        total = Z[start].astype(np.float64).copy()
        while len(members) < n and unassigned.any():
            mean = total / len(members)
            cand = np.flatnonzero(unassigned)
            d = np.linalg.norm(Z[cand] - mean, axis=1)
            pick = int(cand[np.argmax(d)])
            members.append(pick)
            unassigned[pick] = False
            total += Z[pick]
        subsets.append(members)
    return subsets


def random_partition(n_labels: int, n: int, random_state: int = 0) -> list[list[int]]:
    order = np.random.default_rng(random_state).permutation(n_labels)
    return [order[i : i + n].tolist() for i in range(0, n_labels, n)]


@dataclass
class LabelPartition:
    """Subsets of label indices, with the map coordinates of every label."""

    subsets: list[list[int]]
    coords2d: np.ndarray
    method: str
    n: int
    subset_of: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        n_labels = sum(len(s) for s in self.subsets)
        self.subset_of = np.full(n_labels, -1, dtype=np.int64)
        for k, members in enumerate(self.subsets):
            self.subset_of[members] = k


def partition_labels(
    centroids: np.ndarray,
    n: int = 10,
    method: str = "greedy",
    umap_dim: int = 5,
    random_state: int = 0,
    with_map: bool = True,
) -> LabelPartition:
    """Split labels into subsets of at most ``n`` (see module docstring)."""
    if method not in PARTITION_METHODS:
        raise ValueError(f"unknown partition method {method!r}; use one of {PARTITION_METHODS}")
    if method == "greedy":
        Z = reduce(centroids, umap_dim, random_state)
        subsets = greedy_dissimilar(Z, n, random_state)
    else:
        subsets = random_partition(len(centroids), n, random_state)
    coords = reduce(centroids, 2, random_state)[:, :2] if with_map else np.zeros((len(centroids), 2), np.float32)
    return LabelPartition(subsets=subsets, coords2d=coords, method=method, n=n)
