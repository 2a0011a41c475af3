"""The SQL behind human review and its audit: the review queue, human decisions with
their conflict check, and the frames the agreement figures are computed from."""

from __future__ import annotations

from typing import Sequence

from ..errors import RedError
from .schema import CURRENT_LABELS_SQL
from .store import Event, Project

QUEUE_SQL = """
WITH last_human AS (
    SELECT sample_id, max(event_id) AS event_id FROM annotations WHERE origin = 'human' GROUP BY sample_id
)
SELECT v.verdict_id, v.run_id, v.iteration, v.sample_id, s.text, v.label, v.valid, v.confidence,
       v.rationale, v.judge_kind, v.model, v.uncertainty, v.alternatives, v.example_ids, v.latency_ms,
       v.prompt_hash, v.created_at, s.gold_label, coalesce(v.applied, TRUE) AS applied, v.p_right,
       h.actor AS reviewer, h.label AS human_label, h.verdict AS human_verdict, h.created_at AS reviewed_at,
       coalesce(lh.event_id, 0) AS last_human_event
FROM judge_verdicts v
JOIN samples s ON s.id = v.sample_id
LEFT JOIN last_human lh ON lh.sample_id = v.sample_id
LEFT JOIN annotations h ON h.event_id = lh.event_id
WHERE v.valid IS NOT NULL AND coalesce(v.purpose, 'run') = 'run'
"""

_NEWEST_PER_SAMPLE = ("v.verdict_id IN (SELECT max(verdict_id) FROM judge_verdicts WHERE valid IS NOT NULL "
                      "AND coalesce(purpose, 'run') = 'run' GROUP BY sample_id)")
# pending: no person has decided the sample; needs_review: pending, and the judge's verdict was
# not applied (it did not clear the precision target), so the sample waits for a person
_STATUS = {"pending": "lh.event_id IS NULL", "reviewed": "lh.event_id IS NOT NULL",
           "needs_review": "lh.event_id IS NULL AND NOT coalesce(v.applied, TRUE)"}
STATUSES = ("pending", "needs_review", "reviewed", "all")
_ORDER = {"uncertainty": "v.uncertainty DESC NULLS LAST", "confidence": "v.confidence ASC",
          "newest": "v.verdict_id DESC"}


def review_queue(project: Project, *, label: str | None = None, verdict: str | None = None,
                 min_conf: float | None = None, max_conf: float | None = None,
                 iteration: int | None = None, status: str = "pending", sort: str = "uncertainty",
                 sample_id: str | None = None, limit: int = 200, offset: int = 0):
    """Judge verdicts to review, filtered and paged in SQL (values always as parameters).

    ``status`` is ``pending`` (no human decision on the sample yet), ``needs_review`` (pending,
    and the verdict was sent to people instead of being applied), ``reviewed`` or ``all``.
    Only the newest verdict of each sample is listed (older ones are in the audit).
    """
    filters = [("v.label = ?", label), ("v.valid = ?", None if verdict not in ("valid", "invalid") else verdict == "valid"),
               ("v.confidence >= ?", min_conf), ("v.confidence <= ?", max_conf),
               ("v.sample_id = ?", sample_id), ("v.iteration = ?", iteration)]
    where = [_NEWEST_PER_SAMPLE] + [cond for cond, value in filters if value is not None]
    params = [value for _, value in filters if value is not None]
    if status in _STATUS:
        where.append(_STATUS[status])
    order = _ORDER.get(sort, _ORDER["uncertainty"])
    sql = f"{QUEUE_SQL} AND {' AND '.join(where)} ORDER BY {order}, v.verdict_id LIMIT ? OFFSET ?"
    return project.cursor().execute(sql, params + [limit, offset]).df()


def queue_size(project: Project, status: str = "pending") -> int:
    cond = _STATUS.get(status, "TRUE")
    sql = f"SELECT count(*) FROM ({QUEUE_SQL} AND {cond} AND {_NEWEST_PER_SAMPLE})"
    return int(project.cursor().execute(sql).fetchall()[0][0])


def label_members(project: Project, label: str, exclude: str | None = None) -> list[str]:
    """Ids of the samples whose current label is ``label`` (optionally but one)."""
    return [r[0] for r in project.cursor().execute(
        f"SELECT sample_id FROM ({CURRENT_LABELS_SQL}) WHERE label = ? AND sample_id IS DISTINCT FROM ?",
        [label, exclude]).fetchall()]


class ReviewConflictError(RedError):
    """Someone else decided this sample after the reviewer loaded it."""


def append_human_decision(project: Project, sample_id: str, events: Sequence[Event], seen_event: int) -> list[int]:
    """Append a person's events unless another human decision on the sample came after
    ``seen_event`` (the last one the reviewer saw): then :class:`ReviewConflictError`."""
    with project.transaction() as cur:
        rows = cur.execute(
            """SELECT event_id, actor, label, verdict FROM annotations
               WHERE sample_id = ? AND origin = 'human' ORDER BY event_id DESC LIMIT 1""", [sample_id]).fetchall()
        if rows and rows[0][0] > seen_event:
            eid, actor, lab, verdict = rows[0]
            raise ReviewConflictError(
                f"{actor} already decided this sample ({lab!r} {verdict}) after you opened it; "
                "reload to see their decision, then decide again if you disagree")
        return project.append_events(events, cur=cur)


def judge_human_pairs(project: Project):
    """label, valid (the judge's newest verdict on the pair), human_valid (a person's newest decision)."""
    return project.cursor().execute(
        """WITH v AS (SELECT * FROM judge_verdicts WHERE valid IS NOT NULL AND verdict_id IN
                      (SELECT max(verdict_id) FROM judge_verdicts WHERE valid IS NOT NULL GROUP BY sample_id, label)),
                h AS (SELECT sample_id, label, arg_max(verdict, event_id) AS verdict,
                             arg_max(actor, event_id) AS actor
                      FROM annotations WHERE origin = 'human' GROUP BY sample_id, label)
           SELECT v.label, v.valid, h.verdict = 'valid' AS human_valid
           FROM v JOIN h USING (sample_id, label)""").df()


def judge_gold_pairs(project: Project):
    """label, valid, gold_valid for every answered verdict on a sample with hidden gold."""
    return project.cursor().execute(
        """SELECT v.label, v.valid, s.gold_label = v.label AS gold_valid
           FROM judge_verdicts v JOIN samples s ON s.id = v.sample_id
           WHERE v.valid IS NOT NULL AND s.gold_label IS NOT NULL""").df()


def override_counts(project: Project):
    """judge_label → human_label counts of the overrides that stand (a person's invalid then valid
    on one sample, with no later human decision on it)."""
    return project.cursor().execute(
        """SELECT a.label AS judge_label, b.label AS human_label, count(*) AS n
           FROM annotations a JOIN annotations b
             ON a.sample_id = b.sample_id AND b.event_id = a.event_id + 1
           WHERE a.origin = 'human' AND a.verdict = 'invalid' AND b.origin = 'human' AND b.verdict = 'valid'
             AND a.actor = b.actor
             -- only overrides that still stand: a later human decision on the text corrected it
             AND NOT EXISTS (SELECT 1 FROM annotations c
                             WHERE c.sample_id = b.sample_id AND c.origin = 'human' AND c.event_id > b.event_id)
           GROUP BY ALL ORDER BY n DESC""").df()


def verdict_record(project: Project, verdict_id: int) -> dict | None:
    df = project.cursor().execute("SELECT * FROM judge_verdicts WHERE verdict_id = ?", [verdict_id]).df()
    return df.iloc[0].to_dict() if len(df) else None


def decision_log(project: Project, limit: int = 500):
    """The newest decisions that are not seeds, newest first."""
    return project.cursor().execute(
        """SELECT a.event_id, a.sample_id, a.label, a.origin, a.verdict, a.actor, a.iteration, a.model,
                  a.confidence, a.verdict_id, a.created_at
           FROM annotations a WHERE a.origin <> 'seed' ORDER BY a.event_id DESC LIMIT ?""", [limit]).df()
