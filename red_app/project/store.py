"""The project store: one DuckDB file per project.

Nothing about a sample's label is ever overwritten. Every decision — a seed label, a
judge verdict, a human review — is appended to ``annotations``; a sample's current
label is *derived* from that log (the latest ``valid`` event whose label has not been
revoked by a later ``invalid`` event for the same label). A person's undo appends a row to
``revocations`` and the event stops counting, though it stays in the log. Machine verdicts
keep their full audit record in ``judge_verdicts``; the annotation they produced points at it.

Every write goes through :meth:`Project.transaction`, so a failure leaves the file as
it was before the write began.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, Sequence

import duckdb
import numpy as np
import pyarrow as pa

from ..errors import ProjectError, UnknownLabelError
from ..method.stopping import Termination
from ..method.vectors import flush_tiny
from .schema import (  # noqa: F401  (re-exported: the store's vocabulary)
    CURRENT_LABELS_SQL,
    EXCLUDED_PAIRS_SQL,
    HELD_SAMPLES_SQL,
    LIVE_EVENTS_SQL,
    MIGRATIONS,
    ORIGINS,
    ROLES,
    SCHEMA_VERSION,
    VERDICTS,
)

# The per-iteration figures stored in ``iterations``, by name (IterationRecord's fields).
ITERATION_FIGURES = ("seconds", "pool_size", "labeled_size", "uncertain_count", "unassigned", "selected", "calls",
                     "accepted", "rejected", "errors", "eval_accuracy", "pool_accuracy", "held")
PURPOSES = ("run", "calibration", "eval")


def insert_arrow(cur: duckdb.DuckDBPyConnection, table: str, tbl: pa.Table, returning: str | None = None) -> list:
    """Insert an Arrow table into ``table`` by column name (the fast bulk path, FACTS)."""
    cols = ", ".join(tbl.column_names)
    name = f"_insert_{table}"
    cur.register(name, tbl)
    try:
        sql = f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {name}"
        if returning:
            return cur.execute(sql + f" RETURNING {returning}").fetchall()
        cur.execute(sql)
        return []
    finally:
        cur.unregister(name)


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


@dataclass(frozen=True)
class Event:
    """One annotation event: a decision about one (sample, label) pair."""

    sample_id: str
    label: str
    origin: str
    verdict: str
    actor: str
    iteration: int | None = None
    run_id: int | None = None
    model: str | None = None
    confidence: float | None = None
    verdict_id: int | None = None
    note: str | None = None
    action_id: int | None = None  # one person's action (what an undo takes back); set on append

    def __post_init__(self) -> None:
        if self.origin not in ORIGINS:
            raise ValueError(f"origin must be one of {ORIGINS}, got {self.origin!r}")
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")


_WRITE_LOCKS: dict[str, threading.RLock] = {}
_WRITE_LOCKS_GUARD = threading.Lock()


def _write_lock_for(path: Path) -> threading.RLock:
    """One write lock per project file per process, shared by every Project object on it
    (the app opens one per session and one per background run)."""
    key = str(path.resolve())
    with _WRITE_LOCKS_GUARD:
        return _WRITE_LOCKS.setdefault(key, threading.RLock())


def lock_holder(message: str) -> str:
    """Which process holds a DuckDB file lock, from DuckDB's error ("… (PID 123) …"):
    its id and command line, for a message that says whom to close."""
    m = re.search(r"PID (\d+)", message)
    if not m:
        return "another process"
    pid = m.group(1)
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        cmd = " ".join(a.decode(errors="replace") for a in argv if a)
    except OSError:
        cmd = ""
    if len(cmd) > 160:
        cmd = cmd[:157] + "..."
    what = ""
    if "streamlit" in cmd:
        what = " — the app, while a run goes on or a page is loading"
    elif " run " in f" {cmd} ":
        what = " — a `red run`"
    return f"process {pid}" + (f" ({cmd}){what}" if cmd else "")


class Project:
    """A red project: one DuckDB file.

    Parameters
    ----------
    path : str or Path
        The project file.
    create : bool
        Create the file if it does not exist (otherwise a missing file is an error).
    read_only : bool
        Open without taking the write lock (several readers may share the file).
    """

    def __init__(self, path: str | Path, *, create: bool = False, read_only: bool = False):
        self.path = Path(path)
        if not self.path.exists() and not create:
            raise ProjectError(
                f"no project at {self.path}: create one with `red init {self.path}`"
            )
        if self.path.exists() and self.path.is_dir():
            raise ProjectError(f"{self.path} is a directory, not a project file")
        self.read_only = read_only
        self._con: duckdb.DuckDBPyConnection | None = None
        self._con_guard = threading.Lock()
        self._connect()
        # DuckDB has one writer; writers from several threads (two reviewers in the app)
        # are serialised here so each transaction sees the previous one's result.
        self._write_lock = _write_lock_for(self.path)
        # An empty DuckDB file opened without ``create`` gets its schema inside the first
        # write transaction, so a write that fails (a refused import) leaves it byte-identical.
        self._pending_schema = False
        self._migrate(defer_empty=not create)

    # -- plumbing ---------------------------------------------------------------------

    def _connect(self) -> duckdb.DuckDBPyConnection:
        try:
            con = duckdb.connect(str(self.path), read_only=self.read_only)
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                raise ProjectError(
                    f"{self.path} is open for writing in {lock_holder(str(exc))}; wait for it to finish or "
                    "close it first"
                ) from exc
            raise ProjectError(f"cannot open {self.path}: {exc}") from exc
        except duckdb.ConnectionException as exc:
            raise ProjectError(f"{self.path} is already open in this process in another mode: {exc}") from exc
        except duckdb.Error as exc:
            raise ProjectError(f"{self.path} is not a red project (DuckDB says: {exc})") from exc
        self._con = con
        return con

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """The connection, opened again on first use after :meth:`release`."""
        con = self._con
        if con is None:
            with self._con_guard:
                con = self._con or self._connect()
        return con

    def release(self) -> None:
        """Close the connection so other processes can open the file; the next use of this
        object opens it again (the app releases its project after every page run)."""
        with self._con_guard:
            con, self._con = self._con, None
        if con is None:
            return
        try:
            con.close()
        except duckdb.Error as exc:
            # another thread is mid-call on it (a page's fragment stopped by a rerun while
            # the page's main run reads): keep it for the next use instead of failing
            if "busy" not in str(exc).lower():
                raise
            with self._con_guard:
                if self._con is None:
                    self._con = con

    def close(self) -> None:
        self.release()

    def __enter__(self) -> "Project":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor for one thread (a DuckDB connection is not thread-safe)."""
        if self._pending_schema:
            with self.transaction():
                pass
        return self.con.cursor()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One write transaction: everything inside commits together or not at all."""
        if self.read_only:
            raise ProjectError(f"{self.path} is open read-only")
        with self._write_lock:
            cur = self.con.cursor()
            cur.execute("BEGIN TRANSACTION")
            pending = self._pending_schema
            try:
                if pending:
                    self._create_schema(cur, 0)
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            else:
                cur.execute("COMMIT")
                if pending:
                    self._pending_schema = False
            finally:
                cur.close()

    def _schema_version(self) -> int:
        cur = self.con.cursor()
        has_meta = cur.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'meta'"
        ).fetchall()[0][0]
        if not has_meta:
            other = cur.execute("SELECT count(*) FROM information_schema.tables").fetchall()[0][0]
            if other:
                raise ProjectError(f"{self.path} is a DuckDB file but not a red project")
            return 0
        damaged = f"{self.path} is damaged or not a red project: its meta table"
        try:
            rows = cur.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
        except duckdb.Error as exc:
            raise ProjectError(f"{damaged} cannot be read ({str(exc).splitlines()[0]}); "
                               "restore the file from a backup") from exc
        if not rows:
            raise ProjectError(f"{damaged} has no schema_version; restore the file from a backup")
        value = rows[0][0]
        try:
            version = int(str(value).strip())
        except ValueError:
            version = -1
        if version < 1:
            raise ProjectError(f"{damaged} says schema_version {value!r}, not a version number; "
                               "restore the file from a backup")
        return version

    def _create_schema(self, cur: duckdb.DuckDBPyConnection, version: int) -> None:
        for step in MIGRATIONS[version:]:
            for sql in step:
                cur.execute(sql)
        cur.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])
        if version == 0:
            cur.execute("INSERT INTO meta VALUES ('created_at', ?)", [utcnow().isoformat()])

    def _migrate(self, defer_empty: bool = False) -> None:
        version = self._schema_version()
        if version > SCHEMA_VERSION:
            raise ProjectError(
                f"{self.path} has schema version {version}, newer than this red "
                f"({SCHEMA_VERSION}); upgrade red"
            )
        if version == SCHEMA_VERSION:
            return
        if self.read_only:
            raise ProjectError(f"{self.path} needs a schema upgrade; open it for writing once")
        if version == 0 and defer_empty:
            self._pending_schema = True
            return
        with self.transaction() as cur:
            self._create_schema(cur, version)

    # -- settings ---------------------------------------------------------------------

    def get_setting(self, key: str, default: str | None = None) -> str | None:
        rows = self.cursor().execute("SELECT value FROM meta WHERE key = ?", [key]).fetchall()
        return rows[0][0] if rows else default

    def set_setting(self, key: str, value: str) -> None:
        with self.transaction() as cur:
            cur.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, value])

    def set_run_waiting(self, run_id: int, n: int) -> None:
        """How many of a run's proposals wait for people's answers (the human judge)."""
        if self.run_waiting(run_id) != n:
            self.set_setting(f"run_waiting:{int(run_id)}", str(int(n)))

    def run_waiting(self, run_id: int) -> int | None:
        value = self.get_setting(f"run_waiting:{int(run_id)}")
        return int(value) if value is not None else None

    # -- samples and labels ------------------------------------------------------------

    def labels(self) -> list[str]:
        return [r[0] for r in self.cursor().execute("SELECT name FROM labels ORDER BY name").fetchall()]

    def check_labels(self, names: Sequence[str]) -> None:
        known = set(self.labels())
        unknown = sorted(set(names) - known)
        if unknown:
            shown = ", ".join(repr(u) for u in unknown[:5])
            raise UnknownLabelError(
                f"unknown label(s) {shown}{' …' if len(unknown) > 5 else ''}: the project "
                f"has {len(known)} labels; see `red status` for their names"
            )

    def add_labels(self, cur: duckdb.DuckDBPyConnection, names: Sequence[str]) -> int:
        """Add labels not yet known (inside the caller's transaction); returns how many."""
        known = {r[0] for r in cur.execute("SELECT name FROM labels").fetchall()}
        new = sorted(set(names) - known)
        now = utcnow()
        if new:
            cur.executemany("INSERT INTO labels VALUES (?, ?)", [(n, now) for n in new])
        return len(new)

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

    def sample_count(self) -> int:
        return int(self.cursor().execute("SELECT count(*) FROM samples").fetchall()[0][0])

    def sources(self) -> set[str]:
        """The names of the files samples were imported from."""
        return {r[0] for r in self.cursor().execute("SELECT DISTINCT source FROM samples").fetchall()}

    def next_seq(self, cur: duckdb.DuckDBPyConnection) -> int:
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
        if not len(ids):
            return {}
        tbl = pa.table({"id": pa.array(list(ids), pa.string())})
        cur = self.cursor()
        cur.register("_ids", tbl)
        rows = cur.execute("SELECT s.id, s.text FROM samples s JOIN _ids USING (id)").fetchall()
        return dict(rows)

    # -- annotations ------------------------------------------------------------------

    def append_events(self, events: Sequence[Event], cur: duckdb.DuckDBPyConnection | None = None) -> list[int]:
        """Append events in one transaction (or the caller's); returns their event ids.

        Human events without an ``action_id`` get one new id together: one call is one
        person's action, which :meth:`revoke_action` takes back as a whole.
        """
        if not events:
            return []
        now = utcnow()
        rows = [
            (e.sample_id, e.label, e.origin, e.verdict, e.actor, e.iteration, e.run_id,
             e.model, e.confidence, e.verdict_id, e.note, now, e.action_id)
            for e in events
        ]
        tbl = pa.table(
            {
                "sample_id": pa.array([r[0] for r in rows], pa.string()),
                "label": pa.array([r[1] for r in rows], pa.string()),
                "origin": pa.array([r[2] for r in rows], pa.string()),
                "verdict": pa.array([r[3] for r in rows], pa.string()),
                "actor": pa.array([r[4] for r in rows], pa.string()),
                "iteration": pa.array([r[5] for r in rows], pa.int32()),
                "run_id": pa.array([r[6] for r in rows], pa.int32()),
                "model": pa.array([r[7] for r in rows], pa.string()),
                "confidence": pa.array([r[8] for r in rows], pa.float64()),
                "verdict_id": pa.array([r[9] for r in rows], pa.int64()),
                "note": pa.array([r[10] for r in rows], pa.string()),
                "created_at": pa.array([r[11] for r in rows], pa.timestamp("us")),
            }
        )

        def _write(c: duckdb.DuckDBPyConnection) -> list[int]:
            nonlocal tbl
            actions = [r[12] for r in rows]
            if any(e.origin == "human" and e.action_id is None for e in events):
                new = int(c.execute("SELECT nextval('action_seq')").fetchall()[0][0])
                actions = [new if e.origin == "human" and a is None else a for e, a in zip(events, actions)]
            tbl = tbl.append_column("action_id", pa.array(actions, pa.int64()))
            c.register("_events", tbl)
            try:
                unknown = c.execute(
                    "SELECT DISTINCT label FROM _events WHERE label NOT IN (SELECT name FROM labels)"
                ).fetchall()
                if unknown:
                    raise UnknownLabelError(
                        f"unknown label {unknown[0][0]!r}: add it to the project first "
                        "(import examples of it)"
                    )
                missing = c.execute(
                    "SELECT DISTINCT sample_id FROM _events WHERE sample_id NOT IN (SELECT id FROM samples)"
                ).fetchall()
                if missing:
                    raise ProjectError(f"no sample with id {missing[0][0]!r} in the project")
                ids = c.execute(
                    """INSERT INTO annotations (sample_id, label, origin, verdict, actor, iteration,
                           run_id, model, confidence, verdict_id, note, created_at, action_id)
                       SELECT * FROM _events RETURNING event_id"""
                ).fetchall()
            finally:
                c.unregister("_events")
            return sorted(r[0] for r in ids)

        if cur is not None:
            return _write(cur)
        with self.transaction() as c:
            return _write(c)

    def current_labels(self):
        """DataFrame: sample_id, label, origin, actor, iteration, model, event_id, decided_at."""
        return self.cursor().execute(CURRENT_LABELS_SQL + " ORDER BY l.sample_id").df()

    def seed_labels(self) -> dict[str, str]:
        """{sample id: label} of the seeds (their label as imported, or as people changed it)."""
        return dict(self.cursor().execute(
            f"SELECT c.sample_id, c.label FROM ({CURRENT_LABELS_SQL}) c JOIN samples s ON s.id = c.sample_id "
            "WHERE s.role = 'seed'").fetchall())

    def excluded_pairs(self) -> set[tuple[str, str]]:
        return {(s, l) for s, l in self.cursor().execute(EXCLUDED_PAIRS_SQL).fetchall()}

    def history(self, sample_id: str):
        """Every event on a sample, oldest first, revoked ones too (``revoked_at``/``revoked_by`` say so)."""
        return self.cursor().execute(
            """SELECT a.*, r.created_at AS revoked_at, r.actor AS revoked_by FROM annotations a
               LEFT JOIN revocations r USING (event_id) WHERE a.sample_id = ? ORDER BY a.event_id""", [sample_id]
        ).df()

    # -- undo: revocations ------------------------------------------------------------

    def last_action(self, actor: str, cur: duckdb.DuckDBPyConnection | None = None) -> dict | None:
        """A person's newest action still in force: {action_id, event_ids, sample_ids, created_at}.

        Events from before actions had ids are grouped by who recorded them and when."""
        rows = (cur or self.cursor()).execute(
            f"""WITH e AS (SELECT event_id, sample_id, created_at,
                                  coalesce(CAST(action_id AS VARCHAR), 'at ' || CAST(created_at AS VARCHAR)) AS grp,
                                  action_id
                           FROM ({LIVE_EVENTS_SQL}) WHERE origin = 'human' AND actor = ?),
                    last AS (SELECT arg_max(grp, event_id) AS grp FROM e)
                SELECT e.event_id, e.sample_id, e.created_at, e.action_id FROM e, last
                WHERE e.grp = last.grp ORDER BY e.event_id""", [actor]).fetchall()
        if not rows:
            return None
        return {"action_id": rows[0][3], "event_ids": [r[0] for r in rows],
                "sample_ids": list(dict.fromkeys(r[1] for r in rows)), "created_at": rows[-1][2]}

    def revoke(self, event_ids: Sequence[int], actor: str, note: str | None = None,
               cur: duckdb.DuckDBPyConnection | None = None) -> int:
        """Revoke people's events (an undo): the events stay, a revocation row is appended.

        Returns the revocation's ``seq`` (in the events' order). Only human events still in
        force can be revoked."""
        ids = sorted({int(e) for e in event_ids})
        if not ids:
            raise ProjectError("nothing to undo")

        def _write(c: duckdb.DuckDBPyConnection) -> int:
            c.register("_rev", pa.table({"event_id": pa.array(ids, pa.int64())}))
            try:
                bad = c.execute(
                    """SELECT r.event_id, a.origin, v.event_id IS NOT NULL FROM _rev r
                       LEFT JOIN annotations a USING (event_id) LEFT JOIN revocations v USING (event_id)
                       WHERE a.origin IS DISTINCT FROM 'human' OR v.event_id IS NOT NULL LIMIT 1""").fetchall()
                if bad:
                    eid, origin, revoked = bad[0]
                    why = ("it was undone already" if revoked else
                           "there is no such event" if origin is None else f"it is a {origin} event, not a person's")
                    raise ProjectError(f"cannot undo event {eid}: {why}")
                seq = int(c.execute("SELECT nextval('event_seq')").fetchall()[0][0])
                c.execute("INSERT INTO revocations SELECT event_id, ?, ?, ?, ? FROM _rev",
                          [seq, actor, note, utcnow()])
            finally:
                c.unregister("_rev")
            return seq

        if cur is not None:
            return _write(cur)
        with self.transaction() as c:
            return _write(c)

    def revoked_since(self, seq: int) -> list[tuple[int, str]]:
        """(seq, sample_id) of the revocations after ``seq``, in order."""
        return [tuple(r) for r in self.cursor().execute(
            """SELECT DISTINCT r.seq, a.sample_id FROM revocations r JOIN annotations a USING (event_id)
               WHERE r.seq > ? ORDER BY r.seq, a.sample_id""", [seq]).fetchall()]

    def last_revocation(self) -> int:
        return int(self.cursor().execute("SELECT coalesce(max(seq), 0) FROM revocations").fetchall()[0][0])

    def sample_states(self, sample_ids: Sequence[str]) -> dict[str, dict]:
        """Each sample's state derived from the events in force: {id: {label, excluded,
        decided, held}} (label None when it has none; excluded: its rejected labels)."""
        if not len(sample_ids):
            return {}
        cur = self.cursor()
        cur.register("_s", pa.table({"sample_id": pa.array(list(sample_ids), pa.string())}))
        try:
            out = {s: {"label": None, "excluded": set(), "decided": False, "held": False} for s in sample_ids}
            for sid, lab in cur.execute(
                    f"SELECT c.sample_id, c.label FROM ({CURRENT_LABELS_SQL}) c JOIN _s USING (sample_id)").fetchall():
                out[sid]["label"] = lab
            for sid, lab in cur.execute(
                    f"SELECT x.sample_id, x.label FROM ({EXCLUDED_PAIRS_SQL}) x JOIN _s USING (sample_id)").fetchall():
                out[sid]["excluded"].add(lab)
            for (sid,) in cur.execute(
                    f"""SELECT DISTINCT e.sample_id FROM ({LIVE_EVENTS_SQL}) e JOIN _s USING (sample_id)
                        WHERE e.origin = 'human'""").fetchall():
                out[sid]["decided"] = True
            held = f"SELECT h.sample_id FROM ({HELD_SAMPLES_SQL}) h JOIN _s USING (sample_id)"
            for (sid,) in cur.execute(held).fetchall():
                out[sid]["held"] = True
        finally:
            cur.unregister("_s")
        return out

    def hidden_gold(self, role: str | None = None) -> dict[str, str]:
        """{sample id: gold label} of samples imported with hidden gold (for simulated judges)."""
        sql = "SELECT id, gold_label FROM samples WHERE gold_label IS NOT NULL"
        params: list = []
        if role is not None:
            sql += " AND role = ?"
            params.append(role)
        return dict(self.cursor().execute(sql, params).fetchall())

    def cached_verdict(self, prompt_hash: str, model: str | None) -> tuple[bool, float, str] | None:
        """The newest answered verdict to this exact question (the judges' verdict cache)."""
        rows = self.cursor().execute(
            """SELECT valid, confidence, rationale FROM judge_verdicts
               WHERE prompt_hash = ? AND model = ? AND valid IS NOT NULL ORDER BY verdict_id DESC LIMIT 1""",
            [prompt_hash, model]).fetchall()
        return tuple(rows[0]) if rows else None

    # -- judge verdicts ----------------------------------------------------------------

    def record_verdicts(self, run_id: int | None, iteration: int | None, rows: Sequence[dict]) -> list[int]:
        """Store judge verdicts and, for each answered one, its annotation event, together.

        Each row names its ``judge_verdicts`` columns (sample_id, label, valid, confidence,
        rationale, judge_kind, model, prompt_hash, prompt, example_ids, uncertainty,
        alternatives, latency_ms, cached, error, p_right, applied, purpose); returns the new
        verdict ids in order. Only an *applied* answer (``applied`` true, the default for
        a run's verdicts) on a sample no person has decided becomes an annotation event.
        """
        if not rows:
            return []
        now = utcnow()
        n = len(rows)

        def col(name, typ):
            return pa.array([r.get(name) for r in rows], typ)

        tbl = pa.table({
            "run_id": pa.array([run_id] * n, pa.int32()),
            "iteration": pa.array([iteration] * n, pa.int32()),
            "sample_id": col("sample_id", pa.string()), "label": col("label", pa.string()),
            "valid": col("valid", pa.bool_()), "confidence": col("confidence", pa.float64()),
            "rationale": col("rationale", pa.string()), "judge_kind": col("judge_kind", pa.string()),
            "model": col("model", pa.string()), "prompt_hash": col("prompt_hash", pa.string()),
            "prompt": col("prompt", pa.string()), "example_ids": col("example_ids", pa.list_(pa.string())),
            "uncertainty": col("uncertainty", pa.float64()),
            "alternatives": col("alternatives", pa.list_(pa.string())),
            "latency_ms": col("latency_ms", pa.float64()),
            "cached": pa.array([bool(r.get("cached")) for r in rows], pa.bool_()),
            "error": col("error", pa.string()),
            "created_at": pa.array([now] * n, pa.timestamp("us")),
            "p_right": col("p_right", pa.float64()),
            "applied": pa.array([r.get("applied", r.get("purpose", "run") == "run") for r in rows], pa.bool_()),
            "purpose": pa.array([r.get("purpose", "run") for r in rows], pa.string()),
            "candidates": col("candidates", pa.list_(pa.string())), "choice": col("choice", pa.string()),
        })
        if any(p not in PURPOSES for p in tbl.column("purpose").to_pylist()):
            raise ProjectError(f"a verdict's purpose must be one of {', '.join(PURPOSES)}")
        with self.transaction() as cur:
            # People are authoritative: a verdict on a sample a person has decided (it raced
            # the decision) is kept for the audit and never applied, checked in this transaction.
            cur.register("_v", tbl)
            decided = {r[0] for r in cur.execute(
                f"""SELECT DISTINCT sample_id FROM ({LIVE_EVENTS_SQL})
                    WHERE origin = 'human' AND sample_id IN (SELECT sample_id FROM _v)""").fetchall()}
            cur.unregister("_v")
            if decided:
                applied = [a and sid not in decided for a, sid in
                           zip(tbl.column("applied").to_pylist(), tbl.column("sample_id").to_pylist())]
                tbl = tbl.set_column(tbl.schema.get_field_index("applied"), "applied", pa.array(applied, pa.bool_()))
            vids = sorted(r[0] for r in insert_arrow(cur, "judge_verdicts", tbl, returning="verdict_id"))
            # a choose answer of "none" rejects every candidate it was offered
            events = [
                Event(sample_id=r["sample_id"], label=lab, origin="judge",
                      verdict="valid" if r["valid"] else "invalid", actor=r["judge_kind"],
                      iteration=iteration, run_id=run_id, model=r.get("model"),
                      confidence=r.get("confidence"), verdict_id=vid)
                for r, vid, applied in zip(rows, vids, tbl.column("applied").to_pylist())
                if r.get("valid") is not None and applied
                for lab in ([r["label"]] if r["valid"] or not r.get("candidates") else r["candidates"])
            ]
            self.append_events(events, cur=cur)
        return vids

    def held_and_decided(self) -> tuple[set[str], set[str]]:
        """Samples whose run verdict waits for a person, and samples a person decided."""
        cur = self.cursor()
        decided = {r[0] for r in cur.execute(
            f"SELECT DISTINCT sample_id FROM ({LIVE_EVENTS_SQL}) WHERE origin = 'human'").fetchall()}
        held = {r[0] for r in cur.execute(HELD_SAMPLES_SQL).fetchall()}
        return held, decided

    def last_human_event(self) -> int:
        return int(self.cursor().execute(
            "SELECT coalesce(max(event_id), 0) FROM annotations WHERE origin = 'human'").fetchall()[0][0])

    def human_events_since(self, event_id: int) -> list[tuple[int, str, str, str]]:
        """(event_id, sample_id, label, verdict) of people's decisions in force after ``event_id``, in order
        (one already undone is left out; :meth:`revoked_since` names the samples undone)."""
        return [tuple(r) for r in self.cursor().execute(
            f"""SELECT event_id, sample_id, label, verdict FROM ({LIVE_EVENTS_SQL})
                WHERE origin = 'human' AND event_id > ? ORDER BY event_id""", [event_id]).fetchall()]

    def save_calibration(self, run_id: int, calibration: dict) -> None:
        with self.transaction() as cur:
            cur.execute("UPDATE runs SET calibration = ? WHERE run_id = ?", [json.dumps(calibration), run_id])

    def run_calibration(self, run_id: int) -> dict | None:
        rows = self.cursor().execute("SELECT calibration FROM runs WHERE run_id = ?", [run_id]).fetchall()
        return json.loads(rows[0][0]) if rows and rows[0][0] else None

    def run_calls(self, run_id: int) -> int:
        """Judge calls charged to a run's budget: every answered verdict (failed calls are free)."""
        return int(self.cursor().execute(
            "SELECT count(*) FROM judge_verdicts WHERE run_id = ? AND valid IS NOT NULL", [run_id]).fetchall()[0][0])

    def iteration_verdict_counts(self, run_id: int, iteration: int) -> dict:
        """What a run's judge verdicts of one iteration add up to, as the iteration figures
        count them: calls (answered or failed), accepted / rejected (applied), errors
        (failed), held (answered, not applied). For an iteration a kill cut short."""
        row = self.cursor().execute(
            """SELECT count(*), count(*) FILTER (applied AND valid), count(*) FILTER (applied AND NOT valid),
                      count(*) FILTER (valid IS NULL), count(*) FILTER (valid IS NOT NULL AND NOT applied)
               FROM judge_verdicts WHERE run_id = ? AND iteration = ? AND purpose = 'run'""",
            [run_id, iteration]).fetchall()[0]
        return dict(zip(("calls", "accepted", "rejected", "errors", "held"), map(int, row)))

    def verdict_iterations(self) -> list[int]:
        """The iterations that have judge verdicts, in order."""
        return [r[0] for r in self.cursor().execute(
            "SELECT DISTINCT iteration FROM judge_verdicts WHERE iteration IS NOT NULL ORDER BY 1").fetchall()]

    # -- label descriptions -------------------------------------------------------------

    def set_description(self, label: str, text: str, author: str, model: str | None = None) -> int:
        """Store a new version of a label's description; returns the version number."""
        if not (author or "").strip():
            raise ProjectError("enter your name first: every description records who wrote it")
        text = (text or "").strip()
        if not text:
            raise ProjectError(f"the description of {label!r} is empty; write a sentence or two")
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
        return {
            r[0]: {"description": r[1], "version": r[2], "author": r[3], "model": r[4]} for r in rows
        }

    # -- embeddings ------------------------------------------------------------------

    def cached_hashes(self, model: str) -> set[str]:
        return {
            r[0]
            for r in self.cursor().execute(
                "SELECT text_hash FROM embeddings WHERE model = ?", [model]
            ).fetchall()
        }

    def put_embeddings(self, model: str, hashes: Sequence[str], vecs: np.ndarray) -> None:
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

    # -- label subsets (derived data: replaced on every re-partition) ----------------

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

    def label_map(self):
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

    # -- runs and iterations ------------------------------------------------------------

    def start_run(self, config: dict) -> int:
        with self.transaction() as cur:
            run_id = cur.execute("SELECT coalesce(max(run_id), 0) + 1 FROM runs").fetchall()[0][0]
            cur.execute(
                "INSERT INTO runs (run_id, started_at, status, config) VALUES (?, ?, 'running', ?)",
                [run_id, utcnow(), json.dumps(config)],
            )
        return int(run_id)

    def finish_run(self, run_id: int, termination: Termination) -> None:
        """Record how a run ended: its status (finished, stopped, interrupted), the reason in
        words, and the kind of ending (:class:`~red_app.method.stopping.Termination`)."""
        with self.transaction() as cur:
            cur.execute(
                "UPDATE runs SET finished_at = ?, status = ?, termination = ?, outcome = ? WHERE run_id = ?",
                [utcnow(), termination.status, termination.reason, termination.kind, run_id],
            )

    def run_termination(self, run_id: int) -> Termination | None:
        """How run ``run_id`` ended (None while it runs). Runs stored before the kind was kept
        read it back from their status and reason."""
        rows = self.cursor().execute("SELECT status, termination, outcome FROM runs WHERE run_id = ?",
                                     [run_id]).fetchall()
        if not rows or rows[0][0] == "running":
            return None
        status, reason, kind = rows[0]
        if kind is None:
            failed = (reason or "").startswith(("judge unavailable", "judge failing"))
            kind = {"finished": "finished", "stopped": "stopped"}.get(status, "failed" if failed else "paused")
        return Termination(kind, reason or "")

    def save_run_judge_stats(self, run_id: int, stats: dict) -> None:
        """Keep a judge's per-server figures in the run's judge settings (``judge.server_stats``).

        A resumed run replaces them with the figures of its latest part.
        """
        with self.transaction() as cur:
            rows = cur.execute("SELECT config FROM runs WHERE run_id = ?", [run_id]).fetchall()
            if not rows:
                raise ProjectError(f"no run {run_id} in {self.path}; see `red status`")
            config = json.loads(rows[0][0])
            config.setdefault("judge", {})["server_stats"] = stats
            cur.execute("UPDATE runs SET config = ? WHERE run_id = ?", [json.dumps(config), run_id])

    # -- fine-tuned encoders (folders beside the project file; see red_app.workflows.finetune) ---------

    def save_encoder(self, key: str, record: dict, run_id: int | None = None) -> None:
        """Name a fine-tuned encoder (its folder, checksum, what it learned from) in the project,
        and in run ``run_id``'s record (``config.final_model``) where the encoder serves a run."""
        with self.transaction() as cur:
            cur.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [f"encoder:{key}", json.dumps(record)])
            if run_id is not None:
                rows = cur.execute("SELECT config FROM runs WHERE run_id = ?", [run_id]).fetchall()
                if not rows:
                    raise ProjectError(f"no run {run_id} in {self.path}; see `red status`")
                config = json.loads(rows[0][0])
                config["final_model"] = {"encoder": key, **record}
                cur.execute("UPDATE runs SET config = ? WHERE run_id = ?", [json.dumps(config), run_id])

    def encoders(self) -> dict[str, dict]:
        """Every fine-tuned encoder the project names: key → record."""
        rows = self.cursor().execute("SELECT key, value FROM meta WHERE key LIKE 'encoder:%' ORDER BY key").fetchall()
        return {k.split(":", 1)[1]: json.loads(v) for k, v in rows}

    def resumable_run(self) -> int | None:
        """The newest run, if it was interrupted (or is still marked running).

        Only the newest: once a later run started, an older interrupted one is history
        (resuming it would train on state that the later run already moved on from).
        """
        rows = self.cursor().execute("SELECT run_id, status FROM runs ORDER BY run_id DESC LIMIT 1").fetchall()
        return int(rows[0][0]) if rows and rows[0][1] in ("running", "interrupted") else None

    def run_budget(self, run_id: int) -> dict:
        """Where a run's judge calls went: measuring the judge, accepted, rejected, sent to
        people, failed (free), and retries (a proposal for a text whose earlier proposal in
        this run the judge rejected)."""
        row = self.cursor().execute(
            """SELECT
                 count(*) FILTER (WHERE purpose = 'calibration' AND valid IS NOT NULL) AS measuring,
                 count(*) FILTER (WHERE coalesce(purpose, 'run') = 'run' AND valid IS NOT NULL) AS proposals,
                 count(*) FILTER (WHERE coalesce(purpose, 'run') = 'run' AND valid AND applied) AS accepted,
                 count(*) FILTER (WHERE coalesce(purpose, 'run') = 'run' AND NOT valid AND applied) AS rejected,
                 count(*) FILTER (WHERE coalesce(purpose, 'run') = 'run' AND valid IS NOT NULL AND NOT coalesce(applied, TRUE))
                   AS to_people,
                 count(*) FILTER (WHERE valid IS NULL) AS failed,
                 count(*) FILTER (WHERE coalesce(purpose, 'run') = 'run' AND valid IS NOT NULL AND EXISTS (
                     SELECT 1 FROM judge_verdicts w
                     WHERE w.run_id = v.run_id AND w.sample_id = v.sample_id AND w.verdict_id < v.verdict_id
                       AND coalesce(w.purpose, 'run') = 'run' AND NOT w.valid)) AS retries
               FROM judge_verdicts v WHERE run_id = ?""", [run_id]).fetchall()[0]
        keys = ("measuring", "proposals", "accepted", "rejected", "to_people", "failed", "retries")
        return {k: int(v or 0) for k, v in zip(keys, row)}

    def mark_running(self, run_id: int) -> None:
        with self.transaction() as cur:
            cur.execute("UPDATE runs SET status = 'running' WHERE run_id = ?", [run_id])

    def record_iteration(self, run_id: int, record: dict, predictions: pa.Table) -> None:
        """Store one finished iteration's figures (by column name) and replace the run's
        pool predictions (sample_id, label, score, uncertainty, alternatives)."""
        now = utcnow()
        row = {"run_id": run_id, "iteration": record["iteration"], "started_at": now, "finished_at": now,
               **{k: record[k] for k in ITERATION_FIGURES}, "subset_stats": json.dumps(record["subset_stats"])}
        n = predictions.num_rows
        pred = predictions.add_column(0, "iteration", pa.array([record["iteration"]] * n, pa.int32())) \
                          .add_column(0, "run_id", pa.array([run_id] * n, pa.int32()))
        cols = ", ".join(row)
        with self.transaction() as cur:
            cur.execute(f"INSERT INTO iterations ({cols}) VALUES ({', '.join('?' * len(row))})", list(row.values()))
            cur.execute("DELETE FROM predictions WHERE run_id = ?", [run_id])
            insert_arrow(cur, "predictions", pred)

    def runs(self):
        return self.cursor().execute("SELECT * FROM runs ORDER BY run_id").df()

    def run_config(self, run_id: int) -> dict:
        rows = self.cursor().execute("SELECT config FROM runs WHERE run_id = ?", [run_id]).fetchall()
        if not rows:
            raise ProjectError(f"no run {run_id} in {self.path}; see `red status`")
        return json.loads(rows[0][0])

    def iterations(self, run_id: int | None = None):
        sql = "SELECT * FROM iterations"
        params: list = []
        if run_id is not None:
            sql += " WHERE run_id = ?"
            params.append(run_id)
        return self.cursor().execute(sql + " ORDER BY run_id, iteration", params).df()

    def last_iteration(self, run_id: int) -> int:
        row = self.cursor().execute(
            "SELECT coalesce(max(iteration), 0) FROM iterations WHERE run_id = ?", [run_id]
        ).fetchall()
        return int(row[0][0])

    # -- model labels (predictions for every undecided text) ------------------------------

    def save_model_labels(self, run_id: int | None, model: str, temperature: float, labeled: int,
                          labels: pa.Table) -> int:
        """Store one set of predictions (sample_id, label, confidence, alternatives,
        alternative_confidences); earlier sets are kept. Returns the new set's id."""
        with self.transaction() as cur:
            set_id = int(cur.execute("SELECT coalesce(max(set_id), 0) + 1 FROM model_label_sets").fetchall()[0][0])
            cur.execute(
                """INSERT INTO model_label_sets (set_id, run_id, created_at, model, temperature, labeled, predicted)
                   VALUES (?, ?, ?, ?, ?, ?, ?)""", [set_id, run_id, utcnow(), model, temperature, labeled, labels.num_rows])
            insert_arrow(cur, "model_labels",
                         labels.add_column(0, "set_id", pa.array([set_id] * labels.num_rows, pa.int32())))
        return set_id

    def model_label_sets(self):
        return self.cursor().execute("SELECT * FROM model_label_sets ORDER BY set_id").df()

    def model_labels(self, set_id: int | None = None):
        """One set of model labels (default: the newest) as a DataFrame."""
        if set_id is None:
            rows = self.cursor().execute("SELECT max(set_id) FROM model_label_sets").fetchall()
            set_id = rows[0][0]
        return self.cursor().execute(
            "SELECT * FROM model_labels WHERE set_id = ? ORDER BY sample_id", [set_id]).df()

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
        pool_unlabeled = cur.execute(
            f"""SELECT count(*) FROM samples s WHERE role = 'pool'
                AND s.id NOT IN (SELECT sample_id FROM ({cur_labels}))"""
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
                    AND m.sample_id NOT IN (SELECT sample_id FROM ({cur_labels}))""").fetchall()[0][0]),
            "events": int(events),
            "per_label": per_label,
            "runs": int(cur.execute("SELECT count(*) FROM runs").fetchall()[0][0]),
        }
