"""The SQL behind audit samples: the labeled pool they are drawn from, the stored samples,
and the people's answers (ordinary human events after the audit was drawn)."""

from __future__ import annotations

import pyarrow as pa

from .schema import EXPORT_SQL, LIVE_EVENTS_SQL
from .store import Project, insert_arrow, utcnow

# Every pool text with a current label that is not a seed: label, confidence, origin as
# the export computes them (decided labels first, else the newest model label) — and every
# text the judge decided fits none of the labels (issue 20), with the label NO_LABEL: the
# judge's word takes a text out of the pool for good, so it is audited like a label.
_POOL_WHERE = "(label IS NOT NULL OR (fits_none AND origin = 'judge')) AND role = 'pool' AND origin <> 'seed'"


def _labeled_pool_sql() -> str:
    return EXPORT_SQL.format(decisions="NULL", review_below="NULL",
                             where=_POOL_WHERE, drop=", decisions", as_list="")


def labeled_pool(project: Project):
    """id, label, confidence, origin of every labeled pool text (seeds and holdout aside)."""
    return project.cursor().execute(
        f"SELECT id AS sample_id, coalesce(label, '') AS label, coalesce(confidence, 0.0) AS confidence, origin "
        f"FROM ({_labeled_pool_sql()}) "
        "ORDER BY sample_id").df()


def save_audit(project: Project, n: int, seed: int | None, population: int, items: pa.Table) -> int:
    """Store a drawn audit (items: sample_id, stratum, label, origin, confidence, weight);
    returns its id. The newest audit is the active one."""
    with project.transaction() as cur:
        audit_id = int(cur.execute("SELECT coalesce(max(audit_id), 0) + 1 FROM audit_samples").fetchall()[0][0])
        last = int(cur.execute("SELECT coalesce(max(event_id), 0) FROM annotations").fetchall()[0][0])
        cur.execute("INSERT INTO audit_samples (audit_id, created_at, n, seed, population, last_event) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    [audit_id, utcnow(), n, seed, population, last])
        insert_arrow(cur, "audit_items",
                     items.add_column(0, "audit_id", pa.array([audit_id] * items.num_rows, pa.int32())))
    return audit_id


def audits(project: Project):
    return project.cursor().execute("SELECT * FROM audit_samples ORDER BY audit_id").df()


def active_audit(project: Project) -> dict | None:
    """The newest audit sample, or None."""
    df = project.cursor().execute("SELECT * FROM audit_samples ORDER BY audit_id DESC LIMIT 1").df()
    return df.iloc[0].to_dict() if len(df) else None


# An item is answered when a person decided its sample after the audit was drawn (and did not undo it); it is
# right when that person's newest word on the item's own label is 'valid'.
AUDIT_ITEMS_SQL = """
WITH a AS (SELECT * FROM audit_samples WHERE audit_id = ?),
h AS (
    SELECT e.sample_id, e.label, e.verdict, e.actor, e.event_id
    FROM (""" + LIVE_EVENTS_SQL + """) e, a WHERE e.origin = 'human' AND e.event_id > a.last_event
),
per_sample AS (
    SELECT sample_id, max(event_id) AS last_human_event, arg_max(actor, event_id) AS reviewer,
           arg_max(label, event_id) FILTER (WHERE verdict = 'valid') AS human_label
    FROM h GROUP BY sample_id
),
on_label AS (
    SELECT h.sample_id, arg_max(h.verdict, h.event_id) AS verdict
    FROM h JOIN audit_items i ON i.sample_id = h.sample_id AND i.label = h.label AND i.audit_id = (SELECT audit_id FROM a)
    GROUP BY h.sample_id
)
SELECT i.sample_id, s.text, i.stratum, i.label, i.origin, i.confidence, i.weight, s.gold_label,
       ps.sample_id IS NOT NULL AS answered,
       CASE WHEN ps.sample_id IS NULL THEN NULL ELSE coalesce(ol.verdict = 'valid', FALSE) END AS correct,
       ps.human_label, ps.reviewer,
       (SELECT coalesce(max(event_id), 0) FROM (""" + LIVE_EVENTS_SQL + """) x
        WHERE x.sample_id = i.sample_id AND x.origin = 'human') AS last_human_event
FROM audit_items i
JOIN samples s ON s.id = i.sample_id
LEFT JOIN per_sample ps ON ps.sample_id = i.sample_id
LEFT JOIN on_label ol ON ol.sample_id = i.sample_id
WHERE i.audit_id = (SELECT audit_id FROM a)
ORDER BY i.stratum, i.sample_id
"""


def audit_items(project: Project, audit_id: int):
    """Every item of one audit with its text, gold (if hidden gold exists) and answer."""
    return project.cursor().execute(AUDIT_ITEMS_SQL, [audit_id]).df()


def audited_population(project: Project, audit_id: int):
    """The labeled pool as the audit saw it: the current labels, with each audited sample's
    label, origin and confidence as drawn (so people's answers do not move the truth), and
    the hidden gold label."""
    # audited samples stay in even where an answer took their label away (a model label
    # answered "wrong" with no right label leaves the text unlabeled)
    return project.cursor().execute(
        f"""SELECT s.id AS sample_id, coalesce(i.label, p.label) AS label, coalesce(i.origin, p.origin) AS origin,
                   coalesce(i.confidence, p.confidence) AS confidence, s.gold_label
            FROM samples s
            LEFT JOIN (SELECT id AS sample_id, coalesce(label, '') AS label, coalesce(confidence, 0.0) AS confidence,
                              origin
                       FROM ({_labeled_pool_sql()})) p
              ON p.sample_id = s.id
            LEFT JOIN audit_items i ON i.sample_id = s.id AND i.audit_id = ?
            WHERE p.sample_id IS NOT NULL OR i.sample_id IS NOT NULL""", [audit_id]).df()
