"""Stored computations keyed by what they are computed from: text embeddings (by model and
text hash) and flat-model fits (by their inputs' digest)."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pyarrow as pa

from ..method.vectors import flush_tiny
from .core import CoreProject, utcnow


class EmbeddingsMixin(CoreProject):
    """The ``embeddings`` and ``fit_cache`` tables of a :class:`~red_app.project.store.Project`."""

    # -- embeddings ------------------------------------------------------------------

    def cached_hashes(self, model: str) -> set[str]:
        """The text hashes already embedded with ``model``."""
        return {
            r[0]
            for r in self.cursor().execute(
                "SELECT text_hash FROM embeddings WHERE model = ?", [model]
            ).fetchall()
        }

    def put_embeddings(self, model: str, hashes: Sequence[str], vecs: np.ndarray) -> None:
        """Store ``model``'s vectors of the texts with these hashes (one row of ``vecs`` each);
        a hash already stored keeps its vector."""
        vecs = np.ascontiguousarray(vecs, dtype=np.float32)
        flat = pa.array(vecs.reshape(-1), pa.float32())
        tbl = pa.table(
            {
                "model": pa.array([model] * len(hashes), pa.string()),
                "text_hash": pa.array(list(hashes), pa.string()),
                "vec": pa.ListArray.from_arrays(
                    pa.array(np.arange(0, vecs.size + 1, vecs.shape[1], dtype=np.int32)), flat
                ),
            }
        )
        with self.transaction() as cur:
            cur.register("_emb", tbl)
            cur.execute("INSERT OR IGNORE INTO embeddings SELECT * FROM _emb")
            cur.unregister("_emb")

    def embedding_matrix(self, model: str, ids: Sequence[str] | None = None, role: str | None = None):
        """(ids, float32 matrix) of samples' embeddings, in import order.

        Samples whose text has not been embedded with ``model`` are left out; callers
        compare the ids they get with the ids they asked for.
        """
        cur = self.cursor()
        sql = """SELECT s.id, e.vec FROM samples s
                 JOIN embeddings e ON e.text_hash = s.text_hash AND e.model = ?"""
        params: list = [model]
        if ids is not None:
            cur.register("_want", pa.table({"id": pa.array(list(ids), pa.string())}))
            sql += " JOIN _want w ON w.id = s.id"
        if role is not None:
            sql += " WHERE s.role = ?"
            params.append(role)
        tbl = cur.sql(sql + " ORDER BY s.seq", params=params).to_arrow_table()
        out_ids = tbl.column("id").to_pylist()
        if not out_ids:
            return [], np.zeros((0, 0), np.float32)
        vec = tbl.column("vec").combine_chunks()
        X = vec.flatten().to_numpy(zero_copy_only=False).astype(np.float32, copy=False).reshape(len(out_ids), -1)
        return out_ids, flush_tiny(X)  # once per load, so no product over X meets a subnormal

    # -- flat-model fits ----------------------------------------------------------------

    FITS_KEPT = 6  # flat-model fits kept in the fit cache, newest first (~3 MB each at 1,000 labels)

    def cached_fit(self, key: str) -> dict | None:
        """A stored fit (classes, coef, intercept as arrays; n_iter), or None when none has ``key``."""
        rows = self.cursor().execute(
            "SELECT classes, coef, intercept, n_classes, n_features, n_iter FROM fit_cache WHERE key = ?",
            [key]).fetchall()
        if not rows:
            return None
        classes, coef, intercept, k, d, n_iter = rows[0]
        return {"classes": np.frombuffer(classes, dtype=np.int64).copy(),
                "coef": np.frombuffer(coef, dtype=np.float64).reshape(k, d).copy(),
                "intercept": np.frombuffer(intercept, dtype=np.float64).copy(), "n_iter": int(n_iter)}

    def store_fit(self, key: str, classes: np.ndarray, coef: np.ndarray, intercept: np.ndarray,
                  n_iter: int, seconds: float | None = None) -> None:
        """Keep a fit under ``key`` (its inputs' digest); only the newest :attr:`FITS_KEPT` stay."""
        coef = np.ascontiguousarray(coef, dtype=np.float64)
        with self.transaction() as cur:
            cur.execute("DELETE FROM fit_cache WHERE key = ?", [key])
            cur.execute("INSERT INTO fit_cache VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [key, np.ascontiguousarray(classes, dtype=np.int64).tobytes(), coef.tobytes(),
                         np.ascontiguousarray(intercept, dtype=np.float64).tobytes(), coef.shape[0], coef.shape[1],
                         int(n_iter), seconds, utcnow()])
            cur.execute("DELETE FROM fit_cache WHERE key IN (SELECT key FROM fit_cache "
                        "ORDER BY created_at DESC, key OFFSET ?)", [self.FITS_KEPT])
