"""Embedding vectors as the rest of red reads them (numpy only: imported by every layer)."""

from __future__ import annotations

import numpy as np

TINY = 1e-12


def flush_tiny(X: np.ndarray) -> np.ndarray:
    """X with its entries below 1e-12 in magnitude read as 0 (a copy where any is, else X).

    MiniLM leaves two components near 1e-38 in every vector. Their float32 products are
    subnormal and make every matrix product over X several times slower (at 1,010 classes ×
    9,901 rows: 0.13 → 0.06 s forward, 0.33 → 0.06 s for the gradient); a dot product with a
    unit vector moves by < 1e-10.
    """
    tiny = np.abs(X) < TINY
    tiny &= X != 0
    return np.where(tiny, X.dtype.type(0), X) if tiny.any() else X
