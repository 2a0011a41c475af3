"""The SQL behind human review and its audit: the review queue, human decisions with
their conflict check, undo and bulk decisions, the model-label queue, every earlier word on
a text, and the frames the agreement figures are computed from.

Every query reads the events still in force (:data:`~red_app.project.schema.LIVE_EVENTS_SQL`):
a decision a person undid no longer counts, though it stays in the log and the history."""

from __future__ import annotations

from datetime import timedelta
from typing import Sequence

import pyarrow as pa

from ..errors import RedError
from .schema import CURRENT_LABELS_SQL, DECISIONS_SQL, EXCLUDED_PAIRS_SQL, LIVE_EVENTS_SQL, NO_LABEL
from .store import Event, Project, utcnow

QUEUE_SQL = """
WITH last_human AS (
    SELECT sample_id, max(event_id) AS event_id FROM (""" + LIVE_EVENTS_SQL + """)
    WHERE origin = 'human' GROUP BY sample_id
)
SELECT v.verdict_id, v.run_id, v.iteration, v.sample_id, s.text, v.label, v.valid, v.confidence,
       v.rationale, v.judge_kind, v.model, v.uncertainty, v.alternatives, v.candidates, v.choice,
       v.example_ids, v.latency_ms,
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
UNDECIDED = ("pending", "needs_review")  # the statuses of verdicts nobody decided yet (what bulk decisions take)
_ORDER = {"uncertainty": "v.uncertainty DESC NULLS LAST", "confidence": "v.confidence ASC",
          "newest": "v.verdict_id DESC"}
# what the judge said: its answer, or that the answer was not applied and waits for a person
JUDGE_SAID = ("valid", "invalid", "needs_review")
_JUDGE = {"valid": "v.valid", "invalid": "NOT v.valid", "needs_review": "NOT coalesce(v.applied, TRUE)"}


def _queue_where(label, verdict, min_conf, max_conf, iteration, status, sample_id):
    if verdict is not None and verdict not in _JUDGE and verdict != "any":
        raise RedError(f"unknown judge verdict {verdict!r}; use one of {', '.join(JUDGE_SAID)}")
    if status not in STATUSES:
        raise RedError(f"unknown review status {status!r}; use one of {', '.join(STATUSES)}")
    filters = [("v.label = ?", label), ("v.confidence >= ?", min_conf), ("v.confidence <= ?", max_conf),
               ("v.sample_id = ?", sample_id), ("v.iteration = ?", iteration)]
    where = [_NEWEST_PER_SAMPLE] + [cond for cond, value in filters if value is not None]
    params = [value for _, value in filters if value is not None]
    if verdict in _JUDGE:
        where.append(_JUDGE[verdict])
    if status in _STATUS:
        where.append(_STATUS[status])
    return " AND ".join(where), params


CLAIM_SECONDS = 300  # how long an open proposal stays a person's own before others are shown it


def review_queue(project: Project, *, label: str | None = None, verdict: str | None = None,
                 min_conf: float | None = None, max_conf: float | None = None,
                 iteration: int | None = None, status: str = "pending", sort: str = "uncertainty",
                 sample_id: str | None = None, limit: int = 200, offset: int = 0, reviewer: str | None = None):
    """Judge verdicts to review, filtered and paged in SQL (values always as parameters).

    ``status`` is ``pending`` (no human decision on the sample yet), ``needs_review`` (pending,
    and the verdict was sent to people instead of being applied), ``reviewed`` or ``all``.
    ``verdict`` is what the judge said: ``valid``, ``invalid`` or ``needs_review`` (its answer
    was not applied). Only the newest verdict of each sample is listed (older ones are in
    :func:`earlier_verdicts` and the audit).
    """
    where, params = _queue_where(label, verdict, min_conf, max_conf, iteration, status, sample_id)
    if reviewer is not None:  # texts another person has open are left to them
        where += (" AND v.sample_id NOT IN (SELECT sample_id FROM claims WHERE reviewer <> ? "
                  "AND claimed_at > ?)")
        params += [reviewer, utcnow() - timedelta(seconds=CLAIM_SECONDS)]
    order = _ORDER.get(sort, _ORDER["uncertainty"])
    sql = f"{QUEUE_SQL} AND {where} ORDER BY {order}, v.verdict_id LIMIT ? OFFSET ?"
    return project.cursor().execute(sql, params + [limit, offset]).df()


def claim(project: Project, sample_id: str, reviewer: str) -> bool:
    """Hold a text for ``reviewer`` while they answer it (:data:`CLAIM_SECONDS`), so nobody
    else sharing the queue is shown it; False when someone else holds it now."""
    now = utcnow()
    with project.transaction() as cur:
        held = cur.execute("SELECT reviewer, claimed_at FROM claims WHERE sample_id = ?", [sample_id]).fetchall()
        if held and held[0][0] != reviewer and held[0][1] > now - timedelta(seconds=CLAIM_SECONDS):
            return False
        cur.execute("INSERT OR REPLACE INTO claims VALUES (?, ?, ?)", [sample_id, reviewer, now])
    return True


def release_claims(project: Project, reviewer: str, keep: str | None = None) -> None:
    """Let go of every text ``reviewer`` holds (but ``keep``)."""
    with project.transaction() as cur:
        cur.execute("DELETE FROM claims WHERE reviewer = ? AND sample_id IS DISTINCT FROM ?", [reviewer, keep])


def answering(project: Project, seconds: float = CLAIM_SECONDS) -> list[str]:
    """Who has a text open now (claimed within ``seconds``): the people answering."""
    rows = project.cursor().execute(
        "SELECT DISTINCT reviewer FROM claims WHERE claimed_at > ? ORDER BY reviewer",
        [utcnow() - timedelta(seconds=seconds)]).fetchall()
    return [r[0] for r in rows]


def queue_size(project: Project, status: str = "pending", *, label: str | None = None,
               verdict: str | None = None, min_conf: float | None = None, max_conf: float | None = None,
               iteration: int | None = None) -> int:
    """How many verdicts :func:`review_queue` lists with these filters (no limit)."""
    where, params = _queue_where(label, verdict, min_conf, max_conf, iteration, status, None)
    sql = f"SELECT count(*) FROM ({QUEUE_SQL} AND {where})"
    return int(project.cursor().execute(sql, params).fetchall()[0][0])


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
        _check_unchanged(cur, {sample_id: seen_event})
        return project.append_events(events, cur=cur)


def _check_unchanged(cur, seen: dict[str, int]) -> None:
    """Raise :class:`ReviewConflictError` if a person decided one of these samples after the
    event the reviewer saw (``seen``: sample id → last human event id seen)."""
    cur.register("_seen", pa.table({"sample_id": pa.array(list(seen), pa.string()),
                                    "seen": pa.array([int(v) for v in seen.values()], pa.int64())}))
    try:
        rows = cur.execute(
            f"""SELECT e.sample_id, arg_max(e.actor, e.event_id), arg_max(e.label, e.event_id),
                       arg_max(e.verdict, e.event_id), count(DISTINCT e.sample_id) OVER ()
                FROM ({LIVE_EVENTS_SQL}) e JOIN _seen s ON s.sample_id = e.sample_id
                WHERE e.origin = 'human' AND e.event_id > s.seen GROUP BY e.sample_id
                ORDER BY e.sample_id LIMIT 1""").fetchall()
    finally:
        cur.unregister("_seen")
    if rows:
        sid, actor, lab, verdict, n = rows[0]
        if len(seen) == 1:
            raise ReviewConflictError(
                f"{actor} already decided this sample ({lab!r} {verdict}) after you opened it; "
                "reload to see their decision, then decide again if you disagree")
        raise ReviewConflictError(
            f"{n} of the {len(seen)} samples were decided by someone else after you counted them "
            f"(e.g. {sid!r}: {actor} marked {lab!r} {verdict}); nothing was recorded — count again")


def append_human_decisions(project: Project, decisions: Sequence[tuple[str, Sequence[Event], int]]) -> list[int]:
    """Append many people's decisions as one action in one transaction — all or none.

    ``decisions``: (sample_id, its events, the last human event id seen on it). Each sample's
    decision is its own events; they share one action id, so one undo takes them all back."""
    if not decisions:
        return []
    with project.transaction() as cur:
        _check_unchanged(cur, {sid: seen for sid, _, seen in decisions})
        action = int(cur.execute("SELECT nextval('action_seq')").fetchall()[0][0])
        events = [Event(**{**e.__dict__, "action_id": action}) for _, evs, _ in decisions for e in evs]
        return project.append_events(events, cur=cur)


def undo_last_action(project: Project, actor: str, note: str | None = None) -> dict | None:
    """Revoke ``actor``'s newest action still in force (all its events), in one transaction.

    Returns what was undone ({action_id, event_ids, sample_ids, created_at, seq}) or None."""
    with project.transaction() as cur:
        last = project.last_action(actor, cur=cur)
        if last is None:
            return None
        last["seq"] = project.revoke(last["event_ids"], actor, note=note, cur=cur)
        return last


# A judge's own answers: a run with people as the judge records each proposal to people as a
# verdict of kind 'human' (the classifier's label, sent to them), which says nothing of a judge.
_A_JUDGE = "coalesce(judge_kind, '') <> 'human'"


def judge_human_pairs(project: Project):
    """label, valid (the judge's newest verdict on the pair), human_valid (a person's newest decision)."""
    return project.cursor().execute(
        f"""WITH v AS (SELECT * FROM judge_verdicts WHERE verdict_id IN
                      (SELECT max(verdict_id) FROM judge_verdicts WHERE valid IS NOT NULL AND {_A_JUDGE}
                       GROUP BY sample_id, label)),
                h AS (SELECT sample_id, label, arg_max(verdict, event_id) AS verdict,
                             arg_max(actor, event_id) AS actor
                      FROM ({LIVE_EVENTS_SQL}) WHERE origin = 'human' GROUP BY sample_id, label)
           SELECT v.label, v.valid, h.verdict = 'valid' AS human_valid
           FROM v JOIN h USING (sample_id, label)""").df()


def judge_gold_pairs(project: Project):
    """label, valid, gold_valid for every answered verdict on a sample with hidden gold."""
    return project.cursor().execute(
        f"""SELECT v.label, v.valid, s.gold_label = v.label AS gold_valid
           FROM judge_verdicts v JOIN samples s ON s.id = v.sample_id
           WHERE v.valid IS NOT NULL AND {_A_JUDGE} AND s.gold_label IS NOT NULL""").df()


def override_counts(project: Project):
    """judge_label → human_label counts of the overrides that stand (a person's invalid then valid
    on one sample, with no later human decision on it)."""
    return project.cursor().execute(
        f"""SELECT a.label AS judge_label, b.label AS human_label, count(*) AS n
           FROM ({LIVE_EVENTS_SQL}) a JOIN ({LIVE_EVENTS_SQL}) b
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
    """The newest decisions that are not seeds, newest first; an undone one says by whom and when."""
    return project.cursor().execute(
        """SELECT a.event_id, a.sample_id, a.label, a.origin, a.verdict, a.actor, a.iteration, a.model,
                  a.confidence, a.verdict_id, a.created_at, r.actor AS revoked_by, r.created_at AS revoked_at
           FROM annotations a LEFT JOIN revocations r USING (event_id)
           WHERE a.origin <> 'seed' ORDER BY a.event_id DESC LIMIT ?""", [limit]).df()


def earlier_verdicts(project: Project, sample_id: str):
    """Every word on one text, oldest first: each judge verdict (applied, sent to people, or
    a measurement) and each person's decision (undone ones too). Columns: said_at, who, kind
    (judge / person), label, said (valid / invalid), status, confidence, rationale, verdict_id.
    A judge's "none of these" names its candidates; a decision that the text fits none of
    the labels reads so (its label is NO_LABEL in the log)."""
    return project.cursor().execute(
        """SELECT created_at AS said_at, judge_kind || coalesce(' (' || model || ')', '') AS who, 'judge' AS kind,
                  CASE WHEN candidates IS NOT NULL AND choice IS NULL AND NOT valid
                       THEN 'none of ' || array_to_string(candidates, ', ') ELSE label END AS label, CASE WHEN valid THEN 'valid' ELSE 'invalid' END AS said,
                  CASE WHEN coalesce(purpose, 'run') <> 'run' THEN purpose || ' (never applied)'
                       WHEN coalesce(applied, TRUE) THEN 'applied'
                       ELSE 'not applied: sent to people' END AS status,
                  confidence, rationale, verdict_id, NULL::BIGINT AS event_id
           FROM judge_verdicts WHERE sample_id = ? AND valid IS NOT NULL
           UNION ALL
           SELECT a.created_at, a.actor, 'person',
                  CASE WHEN a.label = ? THEN '(fits none of the labels)' ELSE a.label END, a.verdict,
                  CASE WHEN r.event_id IS NULL THEN 'in force'
                       ELSE 'undone by ' || r.actor || ' at ' || strftime(r.created_at, '%Y-%m-%d %H:%M:%S') END,
                  NULL, a.note, a.verdict_id, a.event_id
           FROM annotations a LEFT JOIN revocations r USING (event_id)
           WHERE a.sample_id = ? AND a.origin = 'human'
           ORDER BY said_at, event_id NULLS FIRST, verdict_id""", [sample_id, NO_LABEL, sample_id]).df()


def rejected_labels(project: Project, sample_id: str) -> set[str]:
    """Labels already rejected for a text: the newest word on the (text, label) pair — a judge
    verdict (applied or not) or an event in force — is 'invalid'. A person's word outranks a
    judge's on the same pair whatever their order."""
    rows = project.cursor().execute(
        f"""WITH words AS (
                SELECT label, NOT valid AS invalid, 0 AS rank, created_at FROM judge_verdicts
                WHERE sample_id = ? AND valid IS NOT NULL AND coalesce(purpose, 'run') = 'run'
                UNION ALL
                SELECT label, verdict = 'invalid', CASE WHEN origin = 'human' THEN 2 ELSE 1 END, created_at
                FROM ({LIVE_EVENTS_SQL}) WHERE sample_id = ?)
            SELECT label FROM words GROUP BY label
            HAVING arg_max(invalid, (rank, created_at))""", [sample_id, sample_id]).fetchall()
    return {r[0] for r in rows}


# Undecided texts (no label in force) with the newest model label, least sure first; a model
# label someone already rejected is not asked about again (the text waits for a label).
_MODEL_QUEUE_SQL = f"""
WITH ml AS (SELECT * FROM model_labels WHERE set_id = (SELECT max(set_id) FROM model_label_sets)),
cur AS ({DECISIONS_SQL}),  -- a label, or "fits none of the labels": decided either way
lh AS (SELECT sample_id, max(event_id) AS event_id FROM ({LIVE_EVENTS_SQL})
       WHERE origin = 'human' GROUP BY sample_id)
SELECT ml.sample_id, s.text, ml.label, ml.confidence, ml.alternatives, ml.alternative_confidences,
       ml.set_id, coalesce(lh.event_id, 0) AS last_human_event
FROM ml JOIN samples s ON s.id = ml.sample_id
LEFT JOIN cur ON cur.sample_id = ml.sample_id
LEFT JOIN lh ON lh.sample_id = ml.sample_id
WHERE cur.sample_id IS NULL AND s.role = 'pool' AND ml.confidence < ?
  AND NOT EXISTS (SELECT 1 FROM ({EXCLUDED_PAIRS_SQL}) x WHERE x.sample_id = ml.sample_id AND x.label = ml.label)
"""


def model_label_queue(project: Project, below: float = 0.6, *, label: str | None = None,
                      limit: int = 200, offset: int = 0):
    """Model labels (``red predict``'s newest set) less confident than ``below`` on texts
    nobody decided, least sure first: sample_id, text, label, confidence, alternatives,
    alternative_confidences, set_id, last_human_event."""
    sql = _MODEL_QUEUE_SQL + (" AND ml.label = ?" if label is not None else "")
    params = [below] + ([label] if label is not None else [])
    return project.cursor().execute(sql + " ORDER BY ml.confidence, ml.sample_id LIMIT ? OFFSET ?",
                                    params + [limit, offset]).df()


def model_queue_size(project: Project, below: float = 0.6, *, label: str | None = None) -> int:
    sql = _MODEL_QUEUE_SQL + (" AND ml.label = ?" if label is not None else "")
    params = [below] + ([label] if label is not None else [])
    return int(project.cursor().execute(f"SELECT count(*) FROM ({sql})", params).fetchall()[0][0])
