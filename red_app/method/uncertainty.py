"""Uncertainty measures (pure functions over score arrays) and top-k selection."""

from __future__ import annotations

import numpy as np

from .config import MEASURES  # noqa: F401  (declared with the settings)


def _normalise(scores: np.ndarray) -> np.ndarray:
    s = np.clip(np.asarray(scores, dtype=np.float64), 0.0, None)
    tot = s.sum(axis=1, keepdims=True)
    return np.divide(s, tot, out=np.full_like(s, 1.0 / s.shape[1]), where=tot > 0)


def _top_normalised(scores: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` largest entries of each normalised row, ascending: ``_normalise(scores)``'s,
    the same float64 numbers, without building the normalised matrix (at 100k × 1,000 a
    float64 copy, clip and divide took ~4 s; this takes a partition and a sum)."""
    s = np.asarray(scores)
    if s.dtype not in (np.float32, np.float64):
        s = s.astype(np.float64)
    if s.size and s.min() < 0:
        s = np.clip(s, 0.0, None)
    # summed as _normalise sums them (a float64 copy of the row: the same order, the same bits
    # at any width), by blocks of rows so the copy stays small
    tot = np.empty((len(s), 1))
    for i in range(0, len(s), 1024):
        tot[i : i + 1024, 0] = s[i : i + 1024].astype(np.float64).sum(axis=1)
    top = (np.partition(s, -k, axis=1)[:, -k:] if k > 1 else s.max(axis=1, keepdims=True)).astype(np.float64)
    return np.divide(top, tot, out=np.full(top.shape, 1.0 / s.shape[1]), where=tot > 0)


def entropy(scores: np.ndarray) -> np.ndarray:
    """Shannon entropy (nats) of each row, after normalising rows to sum to 1."""
    p = _normalise(scores)
    with np.errstate(divide="ignore", invalid="ignore"):
        logp = np.where(p > 0, np.log(p), 0.0)
    return -(p * logp).sum(axis=1)


def margin(scores: np.ndarray) -> np.ndarray:
    """1 − (top-1 − top-2) of the normalised rows: higher means more uncertain."""
    if np.shape(scores)[1] < 2:
        return 1.0 - _normalise(scores)[:, 0]
    top2 = _top_normalised(scores, 2)
    return 1.0 - (top2[:, 1] - top2[:, 0])


def least_confident(scores: np.ndarray) -> np.ndarray:
    return 1.0 - _top_normalised(scores, 1)[:, 0]


def band(scores: np.ndarray, target: float = 0.3) -> np.ndarray:
    """Closeness of the top probability to ``target``: higher for rows nearest it.

    With self-training above ``target``, the judge is best spent just below it: those
    samples are not yet used, and their top label is still often right.
    """
    return -np.abs(_top_normalised(scores, 1)[:, 0] - target)


def uncertainty(scores: np.ndarray, measure: str = "entropy", target: float = 0.3) -> np.ndarray:
    if measure not in MEASURES:
        raise ValueError(f"unknown uncertainty measure {measure!r}; use one of {MEASURES}")
    if measure == "band":
        return band(scores, target)
    return {"entropy": entropy, "margin": margin, "least_confident": least_confident}[measure](scores)


def select_top_k(
    u: np.ndarray,
    predicted: np.ndarray,
    k: int,
    per_label_cap: int | None = None,
) -> np.ndarray:
    """Indices of the ``k`` highest ``u``, at most ``per_label_cap`` per predicted label.

    Ties break by index (stable), so the choice is deterministic.
    """
    order = np.argsort(-u, kind="stable")
    if per_label_cap is None:
        return order[:k]
    taken: dict[int, int] = {}
    out: list[int] = []
    for i in order:
        lab = int(predicted[i])
        if taken.get(lab, 0) >= per_label_cap:
            continue
        taken[lab] = taken.get(lab, 0) + 1
        out.append(int(i))
        if len(out) == k:
            break
    return np.asarray(out, dtype=np.int64)
