"""The annotation log: events appended, people's undos (revocations), and what the events
in force say about each sample (its current label, rejected labels, whether a person
decided it or a verdict waits for one)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import duckdb
import pyarrow as pa

from ..errors import ProjectError, UnknownLabelError
from .core import CoreProject, utcnow
from .schema import (
    CURRENT_LABELS_SQL,
    EXCLUDED_PAIRS_SQL,
    HELD_SAMPLES_SQL,
    LIVE_EVENTS_SQL,
    NO_LABEL,
    NO_LABEL_SQL,
    ORIGINS,
    VERDICTS,
)


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


# The annotations columns an Event fills, in the order the INSERT names them (action_id last:
# it is settled inside the write transaction).
_EVENT_COLUMNS = (("sample_id", pa.string()), ("label", pa.string()), ("origin", pa.string()),
                  ("verdict", pa.string()), ("actor", pa.string()), ("iteration", pa.int32()),
                  ("run_id", pa.int32()), ("model", pa.string()), ("confidence", pa.float64()),
                  ("verdict_id", pa.int64()), ("note", pa.string()))


def _events_table(events: Sequence[Event]) -> pa.Table:
    """The events as annotations rows, all stamped with one time, without their action ids."""
    now = utcnow()
    cols = {name: pa.array([getattr(e, name) for e in events], typ) for name, typ in _EVENT_COLUMNS}
    cols["created_at"] = pa.array([now] * len(events), pa.timestamp("us"))
    return pa.table(cols)


def _action_ids(cur: duckdb.DuckDBPyConnection, events: Sequence[Event]) -> list[int | None]:
    """Each event's action id: human events without one share one new id (one call is one
    person's action, which an undo takes back as a whole)."""
    actions = [e.action_id for e in events]
    if any(e.origin == "human" and e.action_id is None for e in events):
        new = int(cur.execute("SELECT nextval('action_seq')").fetchall()[0][0])
        actions = [new if e.origin == "human" and a is None else a for e, a in zip(events, actions)]
    return actions


def _refuse_unknown_references(cur: duckdb.DuckDBPyConnection) -> None:
    """Refuse registered ``_events`` that name a label or a sample the project lacks."""
    unknown = cur.execute(
        "SELECT DISTINCT label FROM _events WHERE label NOT IN (SELECT name FROM labels) AND label <> ?", [NO_LABEL]
    ).fetchall()
    if unknown:
        raise UnknownLabelError(
            f"unknown label {unknown[0][0]!r}: add it to the project first "
            "(import examples of it)"
        )
    missing = cur.execute(
        "SELECT DISTINCT sample_id FROM _events WHERE sample_id NOT IN (SELECT id FROM samples)"
    ).fetchall()
    if missing:
        raise ProjectError(f"no sample with id {missing[0][0]!r} in the project")


def _insert_events(cur: duckdb.DuckDBPyConnection, events: Sequence[Event], tbl: pa.Table) -> list[int]:
    """Write the events' rows ``tbl`` inside the transaction ``cur``; returns their event ids."""
    tbl = tbl.append_column("action_id", pa.array(_action_ids(cur, events), pa.int64()))
    cur.register("_events", tbl)
    try:
        _refuse_unknown_references(cur)
        ids = cur.execute(
            """INSERT INTO annotations (sample_id, label, origin, verdict, actor, iteration,
                   run_id, model, confidence, verdict_id, note, created_at, action_id)
               SELECT * FROM _events RETURNING event_id"""
        ).fetchall()
    finally:
        cur.unregister("_events")
    return sorted(r[0] for r in ids)


class EventsMixin(CoreProject):
    """The ``annotations`` and ``revocations`` tables of a
    :class:`~red_app.project.store.Project`, and the states derived from them."""

    # -- annotations ------------------------------------------------------------------

    def append_events(self, events: Sequence[Event], cur: duckdb.DuckDBPyConnection | None = None) -> list[int]:
        """Append events in one transaction (or the caller's); returns their event ids.

        Human events without an ``action_id`` get one new id together: one call is one
        person's action, which :meth:`revoke_action` takes back as a whole.
        """
        if not events:
            return []
        tbl = _events_table(events)
        if cur is not None:
            return _insert_events(cur, events, tbl)
        with self.transaction() as c:
            return _insert_events(c, events, tbl)

    def current_labels(self):
        """DataFrame: sample_id, label, origin, actor, iteration, model, event_id, decided_at."""
        return self.cursor().execute(CURRENT_LABELS_SQL + " ORDER BY l.sample_id").df()

    def seed_labels(self) -> dict[str, str]:
        """{sample id: label} of the seeds (their label as imported, or as people changed it)."""
        return dict(self.cursor().execute(
            f"SELECT c.sample_id, c.label FROM ({CURRENT_LABELS_SQL}) c JOIN samples s ON s.id = c.sample_id "
            "WHERE s.role = 'seed'").fetchall())

    def fits_none(self) -> dict[str, str]:
        """{sample id: origin} of the texts decided to fit none of the labels (the newest
        decision on them says so: a person's, or a judge's "none of these")."""
        return dict(self.cursor().execute(f"SELECT sample_id, origin FROM ({NO_LABEL_SQL})").fetchall())

    def excluded_pairs(self) -> set[tuple[str, str]]:
        """(sample id, label) pairs whose latest verdict is ``invalid``: never proposed again."""
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
        """The newest revocation's ``seq`` (0 when nothing was undone)."""
        return int(self.cursor().execute("SELECT coalesce(max(seq), 0) FROM revocations").fetchall()[0][0])

    # -- what the events in force say ---------------------------------------------------

    def sample_states(self, sample_ids: Sequence[str]) -> dict[str, dict]:
        """Each sample's state derived from the events in force: {id: {label, excluded,
        decided, held, none}} (label None when it has none; excluded: its rejected labels;
        none: decided to fit none of the labels).

        This is the log's view, which a run trains on: ``label`` is a decided label only,
        never a model's (for the label a text shows, see
        :func:`red_app.project.texts.shown_labels`).
        """
        if not len(sample_ids):
            return {}
        cur = self.cursor()
        cur.register("_s", pa.table({"sample_id": pa.array(list(sample_ids), pa.string())}))
        try:
            out = {s: {"label": None, "excluded": set(), "decided": False, "held": False, "none": False}
                   for s in sample_ids}
            for sid, lab in cur.execute(
                    f"SELECT c.sample_id, c.label FROM ({CURRENT_LABELS_SQL}) c JOIN _s USING (sample_id)").fetchall():
                out[sid]["label"] = lab
            for (sid,) in cur.execute(f"SELECT c.sample_id FROM ({NO_LABEL_SQL}) c JOIN _s USING (sample_id)").fetchall():
                out[sid]["none"] = True
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

    def held_and_decided(self) -> tuple[set[str], set[str]]:
        """Samples whose run verdict waits for a person, and samples a person decided."""
        cur = self.cursor()
        decided = {r[0] for r in cur.execute(
            f"SELECT DISTINCT sample_id FROM ({LIVE_EVENTS_SQL}) WHERE origin = 'human'").fetchall()}
        held = {r[0] for r in cur.execute(HELD_SAMPLES_SQL).fetchall()}
        return held, decided

    def last_human_event(self) -> int:
        """The newest human event's id, revoked or not (0 when there is none)."""
        return int(self.cursor().execute(
            "SELECT coalesce(max(event_id), 0) FROM annotations WHERE origin = 'human'").fetchall()[0][0])

    def human_events_since(self, event_id: int) -> list[tuple[int, str, str, str]]:
        """(event_id, sample_id, label, verdict) of people's decisions in force after ``event_id``, in order
        (one already undone is left out; :meth:`revoked_since` names the samples undone)."""
        return [tuple(r) for r in self.cursor().execute(
            f"""SELECT event_id, sample_id, label, verdict FROM ({LIVE_EVENTS_SQL})
                WHERE origin = 'human' AND event_id > ? ORDER BY event_id""", [event_id]).fetchall()]
