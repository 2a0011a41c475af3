"""The SQL behind the Texts view: every non-holdout text with its label, searched and
filtered in DuckDB, and what labeling one text needs to know about it.

The rows are the export's (:data:`~red_app.project.schema.LABEL_ROWS_SQL`), so a text shows
the same label, confidence, origin and needs_review here as in an export. Every value a
person typed reaches DuckDB as a parameter.
"""

from __future__ import annotations

from typing import Sequence

import pyarrow as pa

from ..errors import RedError
from .schema import EXPORT_ORIGINS, LABEL_ROWS_SQL, LIVE_EVENTS_SQL
from .store import Project

SORTS = ("confidence", "id")
_ORDER = {"confidence": "confidence ASC NULLS FIRST, seq", "id": "id"}

# the rows CTE with its one setting (review_below) as the first parameter
_ROWS = LABEL_ROWS_SQL.format(decisions="NULL", as_list="",
                              review_below="CAST(? AS DOUBLE)")
_COLUMNS = ("id, text, label, confidence, origin, coalesce(needs_review, FALSE) AS needs_review, "
            "out_of_scope, p_in_scope, alternatives")


def like_pattern(query: str) -> str:
    """``query`` as an ILIKE pattern (escape character ``\\``) that matches it literally anywhere."""
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _review_below(project: Project) -> float | None:
    saved = project.get_setting("review_below")  # the threshold of `red quality --review-below`
    return float(saved) if saved else None


def _where(query, label, origin, band, needs_review, unlabeled) -> tuple[list[str], list]:
    conds: list[str] = []
    params: list = []
    if query is not None and query.strip():
        conds.append("text ILIKE ? ESCAPE '\\'")
        params.append(like_pattern(query.strip()))
    if label is not None:
        conds.append("label = ?")
        params.append(label)
    if origin:
        origins = [origin] if isinstance(origin, str) else list(origin)
        bad = sorted(set(origins) - set(EXPORT_ORIGINS))
        if bad:
            raise RedError(f"unknown origin {bad[0]!r}: use {', '.join(EXPORT_ORIGINS)}")
        conds.append("origin IN (" + ", ".join("?" for _ in origins) + ")")
        params.extend(origins)
    if band is not None:
        lo, hi = (float(band[0]), float(band[1]))
        if not (0.0 <= lo <= hi <= 1.0):
            raise RedError(f"the confidence range must lie within 0 and 1 with low ≤ high, not {lo:g}–{hi:g}")
        conds.append("label IS NOT NULL AND confidence BETWEEN ? AND ?")
        params.extend([lo, hi])
    if needs_review is not None:
        conds.append("coalesce(needs_review, FALSE) = ?")
        params.append(bool(needs_review))
    if unlabeled:  # no label, and nobody decided it fits none
        conds.append("label IS NULL AND NOT fits_none")
    return conds or ["TRUE"], params


def search_rows(project: Project, *, query=None, label=None, origin=None, band=None, needs_review=None,
                unlabeled=False, sort="confidence", limit=100, offset=0):
    """One page of texts matching every filter given (see :func:`red_app.workflows.texts.search_texts`)."""
    if sort not in _ORDER:
        raise RedError(f"unknown sort {sort!r}; use {', '.join(SORTS)}")
    conds, params = _where(query, label, origin, band, needs_review, unlabeled)
    sql = (f"{_ROWS} SELECT {_COLUMNS} FROM rows WHERE {' AND '.join(conds)} "
           f"ORDER BY {_ORDER[sort]} LIMIT ? OFFSET ?")
    return project.cursor().execute(sql, [_review_below(project), *params, int(limit), int(offset)]).df()


def count_rows(project: Project, *, query=None, label=None, origin=None, band=None, needs_review=None,
               unlabeled=False) -> int:
    """How many texts match the filters (every page together)."""
    conds, params = _where(query, label, origin, band, needs_review, unlabeled)
    sql = f"{_ROWS} SELECT count(*) FROM rows WHERE {' AND '.join(conds)}"
    return int(project.cursor().execute(sql, [_review_below(project), *params]).fetchall()[0][0])


def text_row(project: Project, sample_id: str) -> dict | None:
    """One text with its label etc., the last human event on it (for the conflict check) and
    its model alternatives (the newest prediction's, for a text someone already decided)."""
    sql = f"""{_ROWS}
        SELECT {_COLUMNS},
               (SELECT coalesce(max(event_id), 0) FROM ({LIVE_EVENTS_SQL})
                WHERE sample_id = rows.id AND origin = 'human') AS last_human_event,
               (SELECT alternatives FROM predictions WHERE sample_id = rows.id
                ORDER BY run_id DESC LIMIT 1) AS predicted_alternatives
        FROM rows WHERE id = ?"""
    df = project.cursor().execute(sql, [_review_below(project), sample_id]).df()
    return df.iloc[0].to_dict() if len(df) else None


def shown_labels(project: Project, ids: Sequence[str]) -> dict[str, dict]:
    """For each known id: its role and the label and origin the Texts view shows for it.

    The label is the decided one or, for a text nobody decided, the newest model label
    that nothing rejected (origin ``model``); unknown ids are left out. The log's own view,
    decided labels only with the rejected ones and whether a person decided or a verdict
    waits for one, is :meth:`red_app.project.store.Project.sample_states`.

    Parameters
    ----------
    project : Project
        The project.
    ids : sequence of str
        Sample ids.

    Returns
    -------
    dict
        ``{id: {"role": ..., "label": ... or None, "origin": ... or None}}``.
    """
    if not len(ids):
        return {}
    cur = project.cursor()
    cur.register("_want", pa.table({"id": pa.array(list(ids), pa.string())}))
    try:
        rows = cur.execute(
            f"""{_ROWS}
                SELECT s.id, s.role, r.label, r.origin FROM samples s JOIN _want USING (id)
                LEFT JOIN rows r ON r.id = s.id""", [_review_below(project)]).fetchall()
    finally:
        cur.unregister("_want")
    return {sid: {"role": role, "label": label, "origin": origin} for sid, role, label, origin in rows}
