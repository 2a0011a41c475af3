"""Judge verdicts: their full audit record (``judge_verdicts``), the annotation events the
applied ones become, the judges' verdict cache, and a run's judge measurement."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Sequence

import duckdb
import pyarrow as pa

from ..errors import ProjectError
from .core import insert_arrow, utcnow
from .events import Event, EventsMixin
from .schema import LIVE_EVENTS_SQL, NO_LABEL

PURPOSES = ("run", "calibration", "eval")

# The judge_verdicts columns a verdict row names, with their Arrow types (run_id, iteration,
# cached, created_at, applied and purpose are filled in by _verdicts_table).
_VERDICT_COLUMNS = (
    ("sample_id", pa.string()), ("label", pa.string()), ("valid", pa.bool_()), ("confidence", pa.float64()),
    ("rationale", pa.string()), ("judge_kind", pa.string()), ("model", pa.string()),
    ("prompt_hash", pa.string()), ("prompt", pa.string()), ("example_ids", pa.list_(pa.string())),
    ("uncertainty", pa.float64()), ("alternatives", pa.list_(pa.string())), ("latency_ms", pa.float64()),
)


def _verdicts_table(run_id: int | None, iteration: int | None, rows: Sequence[dict], now: datetime) -> pa.Table:
    """The verdict rows as ``judge_verdicts`` rows; a purpose outside :data:`PURPOSES` is refused.

    A run's verdict is applied unless its row says otherwise; other purposes never are.
    """
    n = len(rows)

    def col(name, typ):
        return pa.array([r.get(name) for r in rows], typ)

    tbl = pa.table({
        "run_id": pa.array([run_id] * n, pa.int32()),
        "iteration": pa.array([iteration] * n, pa.int32()),
        **{name: col(name, typ) for name, typ in _VERDICT_COLUMNS},
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
    return tbl


def _withhold_decided(cur: duckdb.DuckDBPyConnection, tbl: pa.Table) -> pa.Table:
    """``tbl`` with ``applied`` false on every sample a person has decided.

    People are authoritative: a verdict on a sample a person has decided (it raced the
    decision) is kept for the audit and never applied, checked in the caller's transaction.
    """
    cur.register("_v", tbl)
    decided = {r[0] for r in cur.execute(
        f"""SELECT DISTINCT sample_id FROM ({LIVE_EVENTS_SQL})
            WHERE origin = 'human' AND sample_id IN (SELECT sample_id FROM _v)""").fetchall()}
    cur.unregister("_v")
    if not decided:
        return tbl
    applied = [a and sid not in decided for a, sid in
               zip(tbl.column("applied").to_pylist(), tbl.column("sample_id").to_pylist())]
    return tbl.set_column(tbl.schema.get_field_index("applied"), "applied", pa.array(applied, pa.bool_()))


def _verdict_events(run_id: int | None, iteration: int | None, rows: Sequence[dict], vids: Sequence[int],
                    applied: Sequence[bool]) -> list[Event]:
    """The annotation events of the applied, answered verdicts (``vids``: their ids, in order).

    A choose answer of "none" rejects every candidate it was offered; where the row says it
    ``fits_none`` (the run found the right label nearly always among the candidates when there
    is one) it also says the text fits none of the labels (an event for NO_LABEL, issue 20):
    the text leaves the pool with no label until a person says otherwise."""
    def labels(r):
        if r["valid"] or not r.get("candidates"):
            return [(r["label"], "valid" if r["valid"] else "invalid")]
        return [(c, "invalid") for c in r["candidates"]] + [(NO_LABEL, "valid")] * bool(r.get("fits_none"))

    return [
        Event(sample_id=r["sample_id"], label=lab, origin="judge", verdict=verdict, actor=r["judge_kind"],
              iteration=iteration, run_id=run_id, model=r.get("model"),
              confidence=r.get("confidence"), verdict_id=vid)
        for r, vid, ok in zip(rows, vids, applied)
        if r.get("valid") is not None and ok
        for lab, verdict in labels(r)
    ]


class VerdictsMixin(EventsMixin):
    """The ``judge_verdicts`` table of a :class:`~red_app.project.store.Project` and a run's
    judge calibration; applied verdicts are appended as events (hence the events' base)."""

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
        tbl = _verdicts_table(run_id, iteration, rows, utcnow())
        with self.transaction() as cur:
            tbl = _withhold_decided(cur, tbl)
            vids = sorted(r[0] for r in insert_arrow(cur, "judge_verdicts", tbl, returning="verdict_id"))
            events = _verdict_events(run_id, iteration, rows, vids, tbl.column("applied").to_pylist())
            self.append_events(events, cur=cur)
        return vids

    def cached_verdict(self, prompt_hash: str, model: str | None) -> tuple[bool, float, str, str | None] | None:
        """The newest answered verdict to this exact question (the judges' verdict cache):
        valid, confidence, rationale and, for a choose question, the label chosen."""
        rows = self.cursor().execute(
            """SELECT valid, confidence, rationale, choice FROM judge_verdicts
               WHERE prompt_hash = ? AND model = ? AND valid IS NOT NULL ORDER BY verdict_id DESC LIMIT 1""",
            [prompt_hash, model]).fetchall()
        return tuple(rows[0]) if rows else None

    def save_calibration(self, run_id: int, calibration: dict) -> None:
        """Keep a run's judge measurement (its figures as a dict) in the run's record."""
        with self.transaction() as cur:
            cur.execute("UPDATE runs SET calibration = ? WHERE run_id = ?", [json.dumps(calibration), run_id])

    def run_calibration(self, run_id: int) -> dict | None:
        """A run's judge measurement, or None when it has none."""
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

    # -- a judge's latest measured figures ---------------------------------------------------

    def remember_judge(self, kind: str, model: str | None, figures: dict) -> None:
        """Keep a judge's latest measured figures (`red judge-eval`, or a run measuring it)."""
        import json

        self.set_setting(f"judge_eval:{kind}:{model}", json.dumps(figures, default=str))

    def remembered_judge(self, kind: str, model: str | None) -> dict | None:
        """The figures :meth:`remember_judge` kept for this judge, or None."""
        import json

        raw = self.get_setting(f"judge_eval:{kind}:{model}")
        return json.loads(raw) if raw else None
