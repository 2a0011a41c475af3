"""The label map: the map of label subsets shown (``label_map``, replaced on every
re-partition) and the cache of computed maps by fingerprint (``label_maps``,
``label_map_points``), with the digests a fingerprint is made from."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pyarrow as pa

from .core import CoreProject, insert_arrow, utcnow
from .schema import CURRENT_LABELS_SQL


class LabelMapsMixin(CoreProject):
    """The label-map tables of a :class:`~red_app.project.store.Project`."""

    MAPS_KEPT = 8  # computed label maps kept in the cache (one per fingerprint), newest first

    def save_label_map(self, labels: Sequence[str], subset_of: np.ndarray, coords: np.ndarray,
                       method: str, n: int, fingerprint: str | None = None, settings: dict | None = None) -> None:
        """Store the map shown; with a ``fingerprint`` (and its ``settings``: model, umap_dim,
        seed, seconds) it is also kept in the cache under that fingerprint, replacing an older
        map of the same fingerprint; only the newest :attr:`MAPS_KEPT` maps are kept."""
        now = utcnow()
        k = len(labels)
        points = {
            "label": pa.array(list(labels), pa.string()),
            "subset": pa.array(np.asarray(subset_of, dtype=np.int32)),
            "x": pa.array(np.asarray(coords[:, 0], dtype=np.float64)),
            "y": pa.array(np.asarray(coords[:, 1], dtype=np.float64)),
        }
        tbl = pa.table({**points,
                        "method": pa.array([method] * k, pa.string()),
                        "n": pa.array([n] * k, pa.int32()),
                        "created_at": pa.array([now] * k, pa.timestamp("us")),
                        "fingerprint": pa.array([fingerprint] * k, pa.string())})
        with self.transaction() as cur:
            cur.execute("DELETE FROM label_map")
            insert_arrow(cur, "label_map", tbl)
            if fingerprint is None:
                return
            st = settings or {}
            cur.execute("DELETE FROM label_map_points WHERE fingerprint = ?", [fingerprint])
            cur.execute("DELETE FROM label_maps WHERE fingerprint = ?", [fingerprint])
            cur.execute("INSERT INTO label_maps VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [fingerprint, str(st.get("model", "")), int(n), method, int(st.get("umap_dim", 0)),
                         int(st.get("seed", 0)), k, st.get("seconds"), now])
            insert_arrow(cur, "label_map_points", pa.table({**points, "fingerprint": pa.array([fingerprint] * k,
                                                                                                pa.string())}))
            old = [r[0] for r in cur.execute(
                "SELECT fingerprint FROM label_maps ORDER BY created_at DESC, fingerprint OFFSET ?",
                [self.MAPS_KEPT]).fetchall()]
            if old:
                cur.execute("DELETE FROM label_map_points WHERE list_contains(?, fingerprint)", [old])
                cur.execute("DELETE FROM label_maps WHERE list_contains(?, fingerprint)", [old])

    def label_map(self):
        """The map shown, one row per label (label, subset, x, y, method, n, created_at, fingerprint)."""
        return self.cursor().execute("SELECT * FROM label_map ORDER BY subset, label").df()

    def label_map_fingerprint(self) -> str | None:
        """The fingerprint of the map shown (None: none shown, or one stored before the cache)."""
        rows = self.cursor().execute("SELECT any_value(fingerprint) FROM label_map").fetchall()
        return rows[0][0] if rows else None

    def label_map_settings(self, fingerprint: str) -> dict | None:
        """A cached map's settings (model, n, method, umap_dim, seed, labels, seconds, created_at)."""
        cur = self.cursor()
        rows = cur.execute("SELECT * FROM label_maps WHERE fingerprint = ?", [fingerprint]).fetchall()
        if not rows:
            return None
        return dict(zip([d[0] for d in cur.description], rows[0]))

    def cached_label_map(self, fingerprint: str):
        """A cached map's points (label, subset, x, y), or None when none has this fingerprint."""
        df = self.cursor().execute("SELECT label, subset, x, y FROM label_map_points WHERE fingerprint = ?",
                                   [fingerprint]).df()
        return df if len(df) else None

    def show_cached_label_map(self, fingerprint: str) -> bool:
        """Make a cached map the one shown (False when the cache has no map of this fingerprint)."""
        with self.transaction() as cur:
            head = cur.execute("SELECT method, n FROM label_maps WHERE fingerprint = ?", [fingerprint]).fetchall()
            if not head:
                return False
            cur.execute("DELETE FROM label_map")
            cur.execute("""INSERT INTO label_map (label, subset, x, y, method, n, created_at, fingerprint)
                           SELECT label, subset, x, y, ?, ?, ?, fingerprint FROM label_map_points
                           WHERE fingerprint = ?""", [head[0][0], head[0][1], utcnow(), fingerprint])
        return True

    def label_map_inputs(self) -> tuple[int, str, str]:
        """What a label map is computed from, as digests: (number of labels, md5 of the label
        names, md5 of every seed's id and current label). A label added or renamed, a seed
        imported or its label changed by a person, changes them; the judge's accepted
        examples do not."""
        row = self.cursor().execute(f"""
            SELECT (SELECT count(*) FROM labels),
                   (SELECT md5(coalesce(string_agg(name, chr(30) ORDER BY name), '')) FROM labels),
                   (SELECT md5(coalesce(string_agg(c.sample_id || chr(31) || c.label, chr(30) ORDER BY c.sample_id), ''))
                    FROM ({CURRENT_LABELS_SQL}) c JOIN samples s ON s.id = c.sample_id WHERE s.role = 'seed')
        """).fetchall()[0]
        return int(row[0]), str(row[1]), str(row[2])
