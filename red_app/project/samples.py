"""A project's texts and its label vocabulary: samples, labels, imports, label
descriptions, and the counts ``red status`` shows."""

from __future__ import annotations

from typing import Sequence

import duckdb
import pyarrow as pa

from ..errors import ImportValidationError, ProjectError, UnknownLabelError
from .core import CoreProject, utcnow
from .schema import CURRENT_LABELS_SQL, DECISIONS_SQL, NO_LABEL_SQL, ORIGINS, ROLES
from .names import MAX_DESCRIPTION_CHARS, checked_label, refuse_lookalikes


class SamplesMixin(CoreProject):
    """The ``samples``, ``labels``, ``imports`` and ``label_descriptions`` tables of a
    :class:`~red_app.project.store.Project`."""

    # -- labels -----------------------------------------------------------------------

    def labels(self) -> list[str]:
        """The project's label names, sorted."""
        return [r[0] for r in self.cursor().execute("SELECT name FROM labels ORDER BY name").fetchall()]

    def check_labels(self, names: Sequence[str]) -> None:
        """Raise :class:`UnknownLabelError` naming the first few of ``names`` the project lacks."""
        known = set(self.labels())
        unknown = sorted(set(names) - known)
        if unknown:
            shown = ", ".join(repr(u) for u in unknown[:5])
            raise UnknownLabelError(
                f"unknown label(s) {shown}{' …' if len(unknown) > 5 else ''}: the project "
                f"has {len(known)} labels; see `red status` for their names"
            )

    def add_labels(self, cur: duckdb.DuckDBPyConnection, names: Sequence[str]) -> int:
        """Add labels not yet known (inside the caller's transaction); returns how many.

        Every new name must be a label name as :mod:`red_app.project.names` says (NFC, visible,
        no control or invisible character, not too long) and look like no other label."""
        known = {r[0] for r in cur.execute("SELECT name FROM labels").fetchall()}
        new = sorted(set(names) - known)
        for n in new:
            if checked_label(n) != n:
                raise ImportValidationError(f"the label name {n!r} is not stored as typed: use {checked_label(n)!r}")
        refuse_lookalikes(new, known)
        now = utcnow()
        if new:
            cur.executemany("INSERT INTO labels VALUES (?, ?)", [(n, now) for n in new])
        return len(new)

    # -- imports ----------------------------------------------------------------------

    def record_import(self, cur: duckdb.DuckDBPyConnection, source: str, sha256: str, mode: str,
                      filter: str | None, source_rows: Sequence[int]) -> int:
        """Record one import (inside the caller's transaction); returns its import id."""
        return int(cur.execute(
            """INSERT INTO imports (source, sha256, mode, filter, source_rows, rows, imported_at)
               VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING import_id""",
            [source, sha256, mode, filter, list(source_rows), len(source_rows), utcnow()]).fetchall()[0][0])

    def imports(self, cur: duckdb.DuckDBPyConnection | None = None, sha256: str | None = None,
                source: str | None = None) -> list[dict]:
        """Earlier imports, oldest first, optionally of one content hash or one source name."""
        sql = "SELECT import_id, source, sha256, mode, filter, source_rows, rows, imported_at FROM imports"
        conds, params = [], []
        if sha256 is not None:
            conds.append("sha256 = ?")
            params.append(sha256)
        if source is not None:
            conds.append("source = ?")
            params.append(source)
        if conds:
            sql += " WHERE " + " AND ".join(conds)
        rows = (cur or self.cursor()).execute(sql + " ORDER BY import_id", params).fetchall()
        keys = ("import_id", "source", "sha256", "mode", "filter", "source_rows", "rows", "imported_at")
        return [dict(zip(keys, r)) for r in rows]

    # -- samples ----------------------------------------------------------------------

    def sample_count(self) -> int:
        """How many samples the project holds (every role)."""
        return int(self.cursor().execute("SELECT count(*) FROM samples").fetchall()[0][0])

    def sources(self) -> set[str]:
        """The names of the files samples were imported from."""
        return {r[0] for r in self.cursor().execute("SELECT DISTINCT source FROM samples").fetchall()}

    def next_seq(self, cur: duckdb.DuckDBPyConnection) -> int:
        """The import-order number the next sample gets (inside the caller's transaction)."""
        return int(cur.execute("SELECT coalesce(max(seq), 0) FROM samples").fetchall()[0][0]) + 1

    def samples(self, role: str | None = None, columns: str = "*"):
        """Samples as a pandas DataFrame, in import order."""
        sql = f"SELECT {columns} FROM samples"
        params: list = []
        if role is not None:
            sql += " WHERE role = ?"
            params.append(role)
        return self.cursor().execute(sql + " ORDER BY seq", params).df()

    def texts(self, ids: Sequence[str]) -> dict[str, str]:
        """{id: text} of the known ones among ``ids``."""
        if not len(ids):
            return {}
        tbl = pa.table({"id": pa.array(list(ids), pa.string())})
        cur = self.cursor()
        cur.register("_ids", tbl)
        rows = cur.execute("SELECT s.id, s.text FROM samples s JOIN _ids USING (id)").fetchall()
        return dict(rows)

    def hidden_gold(self, role: str | None = None) -> dict[str, str]:
        """{sample id: gold label} of samples imported with hidden gold (for simulated judges)."""
        sql = "SELECT id, gold_label FROM samples WHERE gold_label IS NOT NULL"
        params: list = []
        if role is not None:
            sql += " AND role = ?"
            params.append(role)
        return dict(self.cursor().execute(sql, params).fetchall())

    # -- label descriptions -------------------------------------------------------------

    def set_description(self, label: str, text: str, author: str, model: str | None = None) -> int:
        """Store a new version of a label's description; returns the version number."""
        if not (author or "").strip():
            raise ProjectError("enter your name first: every description records who wrote it")
        text = (text or "").strip()
        if not text:
            raise ProjectError(f"the description of {label!r} is empty; write a sentence or two")
        if len(text) > MAX_DESCRIPTION_CHARS:
            raise ProjectError(f"the description of {label!r} has {len(text):,} characters; keep it to "
                               f"{MAX_DESCRIPTION_CHARS:,} (a sentence or two: the judge reads one per candidate)")
        self.check_labels([label])
        with self.transaction() as cur:
            version = cur.execute(
                "SELECT coalesce(max(version), 0) + 1 FROM label_descriptions WHERE label = ?", [label]
            ).fetchall()[0][0]
            cur.execute(
                "INSERT INTO label_descriptions VALUES (?, ?, ?, ?, ?, ?)",
                [label, version, text, author, model, utcnow()],
            )
        return int(version)

    def descriptions(self) -> dict[str, dict]:
        """Latest description of every label that has one: {label: {description, version, author, model}}."""
        rows = self.cursor().execute(
            """SELECT label, arg_max(description, version), max(version),
                      arg_max(author, version), arg_max(model, version)
               FROM label_descriptions GROUP BY label"""
        ).fetchall()
        # a description stored before the limit is cut to it: every prompt stays bounded
        return {
            r[0]: {"description": r[1][:MAX_DESCRIPTION_CHARS], "version": r[2], "author": r[3], "model": r[4]}
            for r in rows
        }

    # -- status ----------------------------------------------------------------------

    def status(self) -> dict:
        """Counts per role, per origin of current labels and per label."""
        cur = self.cursor()
        roles = dict(cur.execute("SELECT role, count(*) FROM samples GROUP BY role").fetchall())
        cur_labels = CURRENT_LABELS_SQL
        by_origin = dict(
            cur.execute(f"SELECT origin, count(*) FROM ({cur_labels}) GROUP BY origin").fetchall()
        )
        per_label = cur.execute(
            f"""SELECT l.name AS label, count(c.sample_id) AS labeled,
                       count(c.sample_id) FILTER (WHERE c.origin = 'seed') AS seed,
                       count(c.sample_id) FILTER (WHERE c.origin = 'judge') AS judge,
                       count(c.sample_id) FILTER (WHERE c.origin = 'human') AS human
                FROM labels l LEFT JOIN ({cur_labels}) c ON c.label = l.name
                GROUP BY l.name ORDER BY l.name"""
        ).df()
        decided = DECISIONS_SQL  # a label, or "fits none of the labels"
        pool_unlabeled = cur.execute(
            f"""SELECT count(*) FROM samples s WHERE role = 'pool'
                AND s.id NOT IN (SELECT sample_id FROM ({decided}))"""
        ).fetchall()[0][0]
        events = cur.execute("SELECT count(*) FROM annotations").fetchall()[0][0]
        return {
            "path": str(self.path),
            "samples": int(sum(roles.values())),
            "roles": {r: int(roles.get(r, 0)) for r in ROLES},
            "labels": len(per_label),
            "labeled_by_origin": {o: int(by_origin.get(o, 0)) for o in ORIGINS},
            "pool_unlabeled": int(pool_unlabeled),
            "model_labeled": int(cur.execute(
                f"""SELECT count(*) FROM model_labels m WHERE m.set_id = (SELECT max(set_id) FROM model_label_sets)
                    AND m.sample_id NOT IN (SELECT sample_id FROM ({decided}))""").fetchall()[0][0]),
            "fits_none": int(cur.execute(f"SELECT count(*) FROM ({NO_LABEL_SQL})").fetchall()[0][0]),
            "events": int(events),
            "per_label": per_label,
            "runs": int(cur.execute("SELECT count(*) FROM runs").fetchall()[0][0]),
        }
