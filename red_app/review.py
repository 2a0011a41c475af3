"""Human review of judge verdicts, and the agreement figures that audit them.

Machine suggestions (``judge_verdicts``) stay apart from human responses (``human``
events in ``annotations``). A decision is checked against the last human decision the
reviewer saw, so two reviewers deciding the same sample get a clear conflict instead of
silently overwriting each other.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import RedError
from .store import Event, Project

ACTIONS = ("accept", "reject", "override")


class ReviewConflictError(RedError):
    """Someone else decided this sample after the reviewer loaded it."""


QUEUE_SQL = """
WITH last_human AS (
    SELECT sample_id, max(event_id) AS event_id FROM annotations WHERE origin = 'human' GROUP BY sample_id
)
SELECT v.verdict_id, v.run_id, v.iteration, v.sample_id, s.text, v.label, v.valid, v.confidence,
       v.rationale, v.judge_kind, v.model, v.uncertainty, v.alternatives, v.example_ids, v.latency_ms,
       v.prompt_hash, v.created_at, s.gold_label,
       h.actor AS reviewer, h.label AS human_label, h.verdict AS human_verdict, h.created_at AS reviewed_at,
       coalesce(lh.event_id, 0) AS last_human_event
FROM judge_verdicts v
JOIN samples s ON s.id = v.sample_id
LEFT JOIN last_human lh ON lh.sample_id = v.sample_id
LEFT JOIN annotations h ON h.event_id = lh.event_id
WHERE v.valid IS NOT NULL
"""


def review_queue(project: Project, *, label: str | None = None, verdict: str | None = None,
                 min_conf: float | None = None, max_conf: float | None = None,
                 iteration: int | None = None, status: str = "pending", sort: str = "uncertainty",
                 sample_id: str | None = None,
                 limit: int = 200, offset: int = 0):
    """Judge verdicts to review, newest decision per verdict, filtered and paged in SQL.

    ``status`` is ``pending`` (no human decision on the sample yet), ``reviewed`` or ``all``.
    Only the newest verdict of each sample is listed (older ones are in the audit).
    """
    where, params = ["v.verdict_id IN (SELECT max(verdict_id) FROM judge_verdicts WHERE valid IS NOT NULL GROUP BY sample_id)"], []
    if label:
        where.append("v.label = ?")
        params.append(label)
    if verdict in ("valid", "invalid"):
        where.append("v.valid = ?")
        params.append(verdict == "valid")
    if min_conf is not None:
        where.append("v.confidence >= ?")
        params.append(min_conf)
    if max_conf is not None:
        where.append("v.confidence <= ?")
        params.append(max_conf)
    if sample_id is not None:
        where.append("v.sample_id = ?")
        params.append(sample_id)
    if iteration is not None:
        where.append("v.iteration = ?")
        params.append(iteration)
    if status == "pending":
        where.append("lh.event_id IS NULL")
    elif status == "reviewed":
        where.append("lh.event_id IS NOT NULL")
    order = {"uncertainty": "v.uncertainty DESC NULLS LAST", "confidence": "v.confidence ASC",
             "newest": "v.verdict_id DESC"}.get(sort, "v.uncertainty DESC NULLS LAST")
    sql = f"{QUEUE_SQL} AND {' AND '.join(where)} ORDER BY {order}, v.verdict_id LIMIT ? OFFSET ?"
    return project.cursor().execute(sql, params + [limit, offset]).df()


def queue_size(project: Project, status: str = "pending") -> int:
    cond = {"pending": "lh.event_id IS NULL", "reviewed": "lh.event_id IS NOT NULL"}.get(status, "TRUE")
    sql = f"""SELECT count(*) FROM ({QUEUE_SQL} AND {cond} AND v.verdict_id IN
              (SELECT max(verdict_id) FROM judge_verdicts WHERE valid IS NOT NULL GROUP BY sample_id))"""
    return int(project.cursor().execute(sql).fetchall()[0][0])


def nearest_examples(project: Project, sample_id: str, label: str, k: int = 5, model: str | None = None):
    """The ``k`` current examples of ``label`` nearest to the sample: [(id, text, similarity)]."""
    from .embed import project_model

    model = model or project_model(project)
    cur = project.cursor()
    ids, X = project.embedding_matrix(model, ids=[sample_id])
    if not ids:
        return []
    members = [r[0] for r in cur.execute(
        "SELECT sample_id FROM (" + _current() + ") WHERE label = ? AND sample_id <> ?", [label, sample_id]).fetchall()]
    if not members:
        return []
    mids, M = project.embedding_matrix(model, ids=members)
    sims = M @ X[0]
    top = np.argsort(-sims, kind="stable")[:k]
    texts = project.texts([mids[i] for i in top])
    return [(mids[i], texts[mids[i]], float(sims[i])) for i in top]


def _current() -> str:
    from .store import CURRENT_LABELS_SQL

    return CURRENT_LABELS_SQL


@dataclass(frozen=True)
class Decision:
    sample_id: str
    action: str
    proposed: str
    label: str | None
    reviewer: str


def decide(project: Project, *, sample_id: str, proposed: str, action: str, reviewer: str,
           label: str | None = None, seen_event: int = 0, verdict_id: int | None = None,
           note: str | None = None) -> list[int]:
    """Record a human decision on a judge's proposal; returns the new event ids.

    accept: the proposed label is right. reject: it is wrong (the sample goes back to the
    pool with that label excluded). override: it is wrong and ``label`` is right.
    ``seen_event`` is the last human event id the reviewer saw for this sample; if a newer
    one exists, someone else decided meanwhile and :class:`ReviewConflictError` is raised.
    """
    reviewer = (reviewer or "").strip()
    if not reviewer:
        raise RedError("enter your name before reviewing: every decision records who made it")
    if action not in ACTIONS:
        raise RedError(f"unknown review action {action!r}; use {', '.join(ACTIONS)}")
    if action == "override":
        if not label:
            raise RedError("pick the right label to override with")
        if label == proposed:
            action = "accept"
    project.check_labels([proposed] + ([label] if label else []))
    if action == "accept":
        events = [Event(sample_id, proposed, "human", "valid", reviewer, verdict_id=verdict_id, note=note)]
    elif action == "reject":
        events = [Event(sample_id, proposed, "human", "invalid", reviewer, verdict_id=verdict_id, note=note)]
    else:
        events = [Event(sample_id, proposed, "human", "invalid", reviewer, verdict_id=verdict_id, note=note),
                  Event(sample_id, label, "human", "valid", reviewer, verdict_id=verdict_id, note=note)]
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


def agreement(project: Project) -> dict:
    """Judge–human agreement, judge–gold agreement, per label, and override confusion.

    A judge verdict *agrees* with the human when the human's latest decision on that
    sample keeps the judge's answer: accept of a valid verdict, or a reject / override of
    an invalid one.
    """
    cur = project.cursor()
    pairs = cur.execute(
        """WITH v AS (SELECT * FROM judge_verdicts WHERE valid IS NOT NULL AND verdict_id IN
                      (SELECT max(verdict_id) FROM judge_verdicts WHERE valid IS NOT NULL GROUP BY sample_id, label)),
                h AS (SELECT sample_id, label, arg_max(verdict, event_id) AS verdict,
                             arg_max(actor, event_id) AS actor
                      FROM annotations WHERE origin = 'human' GROUP BY sample_id, label)
           SELECT v.label, v.valid, h.verdict = 'valid' AS human_valid
           FROM v JOIN h USING (sample_id, label)""").df()
    gold = cur.execute(
        """SELECT v.label, v.valid, s.gold_label = v.label AS gold_valid
           FROM judge_verdicts v JOIN samples s ON s.id = v.sample_id
           WHERE v.valid IS NOT NULL AND s.gold_label IS NOT NULL""").df()
    overrides = cur.execute(
        """SELECT a.label AS judge_label, b.label AS human_label, count(*) AS n
           FROM annotations a JOIN annotations b
             ON a.sample_id = b.sample_id AND b.event_id = a.event_id + 1
           WHERE a.origin = 'human' AND a.verdict = 'invalid' AND b.origin = 'human' AND b.verdict = 'valid'
             AND a.actor = b.actor
           GROUP BY ALL ORDER BY n DESC""").df()
    out: dict = {"human_reviewed": int(len(pairs)), "gold_known": int(len(gold)), "overrides": overrides}
    if len(pairs):
        agree = pairs["valid"] == pairs["human_valid"]
        out["judge_human_agreement"] = float(agree.mean())
        per = pairs.assign(agree=agree).groupby("label")["agree"].agg(["mean", "count"]).reset_index()
        out["per_label_human"] = per.rename(columns={"mean": "agreement", "count": "reviewed"})
    if len(gold):
        g = gold["valid"] == gold["gold_valid"]
        out["judge_gold_accuracy"] = float(g.mean())
        tp = int((gold["valid"] & gold["gold_valid"]).sum())
        out["judge_gold_precision_valid"] = tp / max(int(gold["valid"].sum()), 1)
        out["judge_gold_recall_valid"] = tp / max(int(gold["gold_valid"].sum()), 1)
        per = gold.assign(agree=g).groupby("label")["agree"].agg(["mean", "count"]).reset_index()
        out["per_label_gold"] = per.rename(columns={"mean": "accuracy", "count": "verdicts"})
    return out


def decision_record(project: Project, verdict_id: int) -> dict:
    """The full audit record of one judge verdict, with every later human decision."""
    cur = project.cursor()
    df = cur.execute("SELECT * FROM judge_verdicts WHERE verdict_id = ?", [verdict_id]).df()
    if not len(df):
        raise RedError(f"no judge verdict {verdict_id}")
    rec = df.iloc[0].to_dict()
    rec["history"] = project.history(rec["sample_id"])
    return rec
