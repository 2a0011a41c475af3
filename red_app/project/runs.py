"""Runs: their records and endings, iterations with the pool predictions, where a run's
judge calls went, the sets of model labels, and the fine-tuned encoders a run names."""

from __future__ import annotations

import json
import os
import socket
import sys
from datetime import timezone

import pyarrow as pa

from ..errors import ProjectError
from ..method.stopping import Termination
from .core import CoreProject, insert_arrow, utcnow
from .schema import NO_LABEL

# A run whose process has not said it is there for this long is taken for gone (a heartbeat
# comes with every write and every look at people's answers; a fit at 1,010 labels takes ~20 s).
STALE_AFTER_SECONDS = 300.0


def this_process() -> str:
    """``host:pid:command`` of this process, as a run records who runs it."""
    cmd = " ".join(os.path.basename(a) if k == 0 else a for k, a in enumerate(sys.argv[:4]))
    return f"{socket.gethostname()}:{os.getpid()}:{cmd[:120]}"


def _process_started(pid: int) -> float | None:
    """When process ``pid`` started (seconds since the epoch), from Linux's /proc; None
    where that cannot be read (another system)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            fields = f.read().rpartition(")")[2].split()  # the command name may hold spaces
        with open("/proc/stat", encoding="ascii") as f:
            boot = next(float(line.split()[1]) for line in f if line.startswith("btime "))
        return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22: start, in ticks after boot
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def owner_alive(owner: str | None, beat) -> bool:
    """Whether the process that recorded ``owner`` is still there: on this machine, whether
    its process exists and started before the run last said it was there (a process id used
    again — a container restarted, the app at pid 1 again — is another process); elsewhere,
    whether its last heartbeat is recent."""
    if not owner:
        return False
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host == socket.gethostname() and pid.isdigit():
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass
        started = _process_started(int(pid))
        if started is not None and beat is not None:
            said = beat.replace(tzinfo=timezone.utc).timestamp()
            return started <= said + 1.0  # the owner wrote its heartbeat while it lived (1 s: clock ticks)
        return True
    return beat is not None and (utcnow() - beat).total_seconds() < STALE_AFTER_SECONDS


# The per-iteration figures stored in ``iterations``, by name (IterationRecord's fields).
ITERATION_FIGURES = ("seconds", "pool_size", "labeled_size", "uncertain_count", "unassigned", "selected", "calls",
                     "accepted", "rejected", "errors", "eval_accuracy", "pool_accuracy", "held", "said_none",
                     "skipped_unlike")


class RunsMixin(CoreProject):
    """The ``runs``, ``iterations``, ``predictions``, ``model_label_sets`` and
    ``model_labels`` tables of a :class:`~red_app.project.store.Project`."""

    # -- runs -------------------------------------------------------------------------

    def start_run(self, config: dict) -> int:
        """Record a new run (status ``running``) with its settings; returns its id."""
        with self.transaction() as cur:
            run_id = cur.execute("SELECT coalesce(max(run_id), 0) + 1 FROM runs").fetchall()[0][0]
            cur.execute(
                "INSERT INTO runs (run_id, started_at, status, config, owner, heartbeat) VALUES (?, ?, 'running', ?, ?, ?)",
                [run_id, utcnow(), json.dumps(config), this_process(), utcnow()],
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

    def resumable_run(self) -> int | None:
        """The newest run, if it was interrupted, or is still marked running by a process that
        is gone (a killed `red run`, an app that was restarted).

        Only the newest: once a later run started, an older interrupted one is history
        (resuming it would train on state that the later run already moved on from).
        """
        rows = self.cursor().execute("SELECT run_id, status FROM runs ORDER BY run_id DESC LIMIT 1").fetchall()
        if not rows or rows[0][1] not in ("running", "interrupted"):
            return None
        return None if rows[0][1] == "running" and self.live_run() == int(rows[0][0]) else int(rows[0][0])

    def live_run(self) -> int | None:
        """The run a living process is running now (any process, any machine), or None."""
        rows = self.cursor().execute(
            "SELECT run_id, owner, heartbeat FROM runs WHERE status = 'running' ORDER BY run_id DESC LIMIT 1").fetchall()
        if not rows:
            return None
        run_id, owner, beat = rows[0]
        return int(run_id) if owner_alive(owner, beat) else None

    def run_owner(self, run_id: int) -> str | None:
        """Who runs run ``run_id``: ``host:pid:command``, as the process recorded itself."""
        rows = self.cursor().execute("SELECT owner FROM runs WHERE run_id = ?", [run_id]).fetchall()
        return rows[0][0] if rows else None

    def mark_running(self, run_id: int) -> None:
        """Mark a run as running again (a resumed run), by this process."""
        with self.transaction() as cur:
            cur.execute("UPDATE runs SET status = 'running', owner = ?, heartbeat = ? WHERE run_id = ?",
                        [this_process(), utcnow(), run_id])

    def beat(self, run_id: int) -> None:
        """Say that the process running run ``run_id`` is still there."""
        with self.transaction() as cur:
            cur.execute("UPDATE runs SET heartbeat = ? WHERE run_id = ?", [utcnow(), run_id])

    def runs(self):
        """Every run's record as a DataFrame, oldest first."""
        return self.cursor().execute("SELECT * FROM runs ORDER BY run_id").df()

    def run_config(self, run_id: int) -> dict:
        """A run's settings as stored when it started (and as later parts added to them)."""
        rows = self.cursor().execute("SELECT config FROM runs WHERE run_id = ?", [run_id]).fetchall()
        if not rows:
            raise ProjectError(f"no run {run_id} in {self.path}; see `red status`")
        return json.loads(rows[0][0])

    # -- a run's judge calls and the people it waits for ------------------------------------

    def run_answers(self, run_id: int) -> dict:
        """What people made of a run's proposals to them: ``proposals``, ``answered`` (texts a
        person decided after the proposal), ``labeled`` (given a label), ``fits_none`` (said
        to fit none of the labels) and ``none`` (labels rejected, none given)."""
        row = self.cursor().execute(
            """WITH p AS (SELECT sample_id, min(created_at) AS asked FROM judge_verdicts
                          WHERE run_id = ? AND coalesce(purpose, 'run') = 'run' AND valid IS NOT NULL
                            AND NOT coalesce(applied, TRUE) GROUP BY sample_id),
                    h AS (SELECT e.sample_id, bool_or(e.verdict = 'valid' AND e.label <> ?) AS labeled,
                                 bool_or(e.verdict = 'valid' AND e.label = ?) AS fits_none
                          FROM annotations e JOIN p ON p.sample_id = e.sample_id
                          WHERE e.origin = 'human' AND e.created_at >= p.asked
                            AND e.event_id NOT IN (SELECT event_id FROM revocations) GROUP BY e.sample_id)
               SELECT (SELECT count(*) FROM p), count(*), count(*) FILTER (WHERE labeled),
                      count(*) FILTER (WHERE fits_none AND NOT labeled),
                      count(*) FILTER (WHERE NOT labeled AND NOT fits_none) FROM h""",
            [run_id, NO_LABEL, NO_LABEL]).fetchall()[0]
        return dict(zip(("proposals", "answered", "labeled", "fits_none", "none"), (int(x or 0) for x in row)))

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

    def set_run_waiting(self, run_id: int, n: int) -> None:
        """How many of a run's proposals wait for people's answers (the human judge)."""
        if self.run_waiting(run_id) != n:
            self.set_setting(f"run_waiting:{int(run_id)}", str(int(n)))

    def run_waiting(self, run_id: int) -> int | None:
        """How many of a run's proposals wait for people (None: the run never said)."""
        value = self.get_setting(f"run_waiting:{int(run_id)}")
        return int(value) if value is not None else None

    # -- iterations -------------------------------------------------------------------

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

    def iterations(self, run_id: int | None = None):
        """The iterations' figures as a DataFrame (of one run, or of every run), in order."""
        sql = "SELECT * FROM iterations"
        params: list = []
        if run_id is not None:
            sql += " WHERE run_id = ?"
            params.append(run_id)
        return self.cursor().execute(sql + " ORDER BY run_id, iteration", params).df()

    def last_iteration(self, run_id: int) -> int:
        """A run's newest finished iteration (0 before the first)."""
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
        """Every set of model labels (its run, model, temperature, counts) as a DataFrame."""
        return self.cursor().execute("SELECT * FROM model_label_sets ORDER BY set_id").df()

    def model_labels(self, set_id: int | None = None):
        """One set of model labels (default: the newest) as a DataFrame."""
        if set_id is None:
            rows = self.cursor().execute("SELECT max(set_id) FROM model_label_sets").fetchall()
            set_id = rows[0][0]
        return self.cursor().execute(
            "SELECT * FROM model_labels WHERE set_id = ? ORDER BY sample_id", [set_id]).df()

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
