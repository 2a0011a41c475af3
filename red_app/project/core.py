"""The project file itself: its connection, write transactions, schema version and settings.

:class:`CoreProject` is what every part of :class:`~red_app.project.store.Project` stands
on; the parts (samples, events, verdicts, runs, embeddings, label maps) each extend it
with one noun's tables, and ``store.py`` puts them together.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, Self

import duckdb
import pyarrow as pa

from ..errors import ProjectError
from .schema import MIGRATIONS, SCHEMA_VERSION


def insert_arrow(cur: duckdb.DuckDBPyConnection, table: str, tbl: pa.Table, returning: str | None = None) -> list:
    """Insert an Arrow table into ``table`` by column name (the fastest bulk path measured: ~0.5 s for 100k vectors).

    Parameters
    ----------
    cur : duckdb.DuckDBPyConnection
        The cursor of the caller's transaction.
    table : str
        The table written to.
    tbl : pyarrow.Table
        The rows; its column names are ``table``'s.
    returning : str, optional
        Columns of the inserted rows to return (a ``RETURNING`` clause).

    Returns
    -------
    list
        The ``returning`` rows, or an empty list.
    """
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
    """The time now in UTC, without a time zone (as the project's TIMESTAMP columns hold it)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


LOCK_WAIT = 30.0  # seconds a process waits for another to let go of a project file

_WRITE_LOCKS: dict[str, threading.RLock] = {}
_WRITE_LOCKS_GUARD = threading.Lock()


_OPEN_LOCKS: dict[str, threading.Lock] = {}


def _open_lock_for(path: Path) -> threading.Lock:
    """One lock per project file per process around opening and closing its connections:
    DuckDB keeps one database per file per process and shuts it down when the last
    connection closes; a connection opened by another thread in the middle of that shutdown
    came up broken ("Table Function with name python_arrow_scan does not exist")."""
    key = str(path.resolve())
    with _WRITE_LOCKS_GUARD:
        return _OPEN_LOCKS.setdefault(key, threading.Lock())


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


class CoreProject:
    """The file under every part of a project: connection, transactions, schema, settings.

    Parameters
    ----------
    path : str or Path
        The project file.
    create : bool
        Create the file if it does not exist (otherwise a missing file is an error).
    read_only : bool
        Open without taking the write lock (several readers may share the file).
    wait : float, optional
        Seconds to wait while another process holds the file ($RED_LOCK_WAIT, default 30).
    """

    def __init__(self, path: str | Path, *, create: bool = False, read_only: bool = False,
                 wait: float | None = None):
        self.path = Path(path)
        # seconds to wait for another process to let go of the file ($RED_LOCK_WAIT, default 30)
        self.wait = float(os.environ.get("RED_LOCK_WAIT", LOCK_WAIT) if wait is None else wait)
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
        """Open the file; while another process holds it, try again until ``wait`` seconds have
        passed (writers hold it for one transaction at a time: a run between its writes, the app
        between page runs), then say who holds it."""
        deadline = time.monotonic() + self.wait
        pause = 0.02
        while True:
            try:
                with _open_lock_for(self.path):
                    con = duckdb.connect(str(self.path), read_only=self.read_only)
                break
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower():
                    raise ProjectError(f"cannot open {self.path}: {exc}") from exc
                if time.monotonic() >= deadline:
                    raise ProjectError(
                        f"{self.path} is open for writing in {lock_holder(str(exc))}; wait for it to finish or "
                        "close it first"
                    ) from exc
                time.sleep(min(pause, max(deadline - time.monotonic(), 0.0)))
                pause = min(pause * 1.5, 0.25)
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
        object opens it again (the app releases its project after every page run). A write
        transaction another thread has open on it ends first (it shares the connection)."""
        with self._write_lock, self._con_guard:
            con, self._con = self._con, None
        if con is None:
            return
        try:
            with _open_lock_for(self.path):
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
        """Release the connection (see :meth:`release`)."""
        self.release()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor for one thread (a DuckDB connection is not thread-safe)."""
        if self._pending_schema:
            with self.transaction():
                pass
        return self._new_cursor()

    def _new_cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor on the connection, opened again if another thread let it go meanwhile (a
        run's sink releases the file after each step while a reviewer's thread reads)."""
        con = self.con
        try:
            return con.cursor()
        except duckdb.ConnectionException:
            with self._con_guard:
                if self._con is con:
                    self._con = None
            return self.con.cursor()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One write transaction: everything inside commits together or not at all."""
        if self.read_only:
            raise ProjectError(f"{self.path} is open read-only")
        with self._write_lock:
            cur = self._new_cursor()
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

    # -- schema -----------------------------------------------------------------------

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
        """A project setting (a row of ``meta``), or ``default`` when it has none."""
        rows = self.cursor().execute("SELECT value FROM meta WHERE key = ?", [key]).fetchall()
        return rows[0][0] if rows else default

    def set_setting(self, key: str, value: str) -> None:
        """Set a project setting (a row of ``meta``), replacing its earlier value."""
        with self.transaction() as cur:
            cur.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, value])
