"""Texts: find any text, see its label, label it directly, or start a new label from it.

Labeling a text is a human decision like a review's override: a ``valid`` event for the
new label and an ``invalid`` one for the label it had, appended to the event log. A label
people create from a few texts needs no minimum number of examples (``--min-examples``
guards imports); the next run trains on it like any other.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Sequence

from ..errors import RedError
from ..project.reviews import earlier_verdicts
from ..project.store import Event, Project
from ..project.texts import SORTS, count_rows, search_rows, shown_labels, text_row  # noqa: F401
from ..project.names import MAX_DESCRIPTION_CHARS, MAX_LABEL_CHARS, checked_label  # noqa: F401  (the limits: one rule)
from .review import checked_reviewer, decide, decide_many, plan_decision



def search_texts(project: Project, query: str | None = None, label: str | None = None,
                 origin: str | Sequence[str] | None = None, band: tuple[float, float] | None = None,
                 needs_review: bool | None = None, unlabeled: bool = False, sort: str = "confidence",
                 limit: int = 100, offset: int = 0):
    """Texts (holdout aside) matching every filter given, one page of them.

    Parameters
    ----------
    query : str, optional
        Case-insensitive substring of the text; ``%`` and ``_`` match themselves.
    label : str, optional
        Current label (decided or the model's).
    origin : str or list of str, optional
        seed, import, judge, human or model.
    band : (float, float), optional
        Confidence between these bounds (inclusive); texts without a label drop out.
    needs_review : bool, optional
        Only texts that wait for a person (True) or only the others (False).
    unlabeled : bool
        Only texts with no label at all (neither decided nor predicted).
    sort : {"confidence", "id"}
        Least confident first (unlabeled texts before them), or by id.

    Returns
    -------
    DataFrame with columns id, text, label, confidence, origin, needs_review, alternatives.
    """
    return search_rows(project, query=query, label=label, origin=origin, band=band, needs_review=needs_review,
                       unlabeled=unlabeled, sort=sort, limit=limit, offset=offset)


def count_texts(project: Project, query: str | None = None, label: str | None = None,
                origin: str | Sequence[str] | None = None, band: tuple[float, float] | None = None,
                needs_review: bool | None = None, unlabeled: bool = False) -> int:
    """How many texts :func:`search_texts` finds with these filters, every page together."""
    return count_rows(project, query=query, label=label, origin=origin, band=band, needs_review=needs_review,
                      unlabeled=unlabeled)


def text_details(project: Project, sample_id: str) -> dict:
    """One text: id, text, label, confidence, origin, needs_review, the top alternative label
    (``alternative``), ``last_human_event`` (pass it to :func:`label_text` as ``seen_event``)
    and ``history``: every judge verdict and person's decision on it, oldest first (see
    :func:`red_app.project.reviews.earlier_verdicts`; a rejected label shows there)."""
    row = text_row(project, sample_id)
    if row is None:
        raise RedError(f"no text with id {sample_id!r} (held-out texts are not listed)")
    lists = [row.pop("alternatives"), row.pop("predicted_alternatives")]
    for key in ("label", "origin"):  # missing as None, whatever pandas made of it
        if not isinstance(row[key], str):
            row[key] = None
    candidates = [a for src in lists if src is not None and not isinstance(src, float) for a in list(src)]
    row["alternative"] = next((a for a in candidates if a and a != row["label"]), None)
    row["last_human_event"] = int(row["last_human_event"])
    row["history"] = earlier_verdicts(project, sample_id)
    return row


def text_alternatives(project: Project, sample_id: str) -> list[str]:
    """The labels the model would give a text after its current one, best first."""
    row = text_row(project, sample_id)
    if row is None:
        return []
    lists = [row.get("alternatives"), row.get("predicted_alternatives")]
    out = [a for src in lists if src is not None and not isinstance(src, float) for a in list(src) if a]
    return list(dict.fromkeys(out))


def _labelable(project: Project, sample_ids: Sequence[str]) -> dict[str, dict]:
    states = shown_labels(project, sample_ids)
    unknown = [s for s in sample_ids if s not in states]
    if unknown:
        more = f" and {len(unknown) - 1} more" if len(unknown) > 1 else ""
        raise RedError(f"no text with id {unknown[0]!r}{more} in the project")
    held = [s for s in sample_ids if states[s]["role"] == "holdout"]
    if held:
        raise RedError(f"text {held[0]!r} is held out to measure accuracy; it is never labeled")
    return states


def label_text(project: Project, sample_id: str, label: str, reviewer: str,
               seen_event: int | None = None) -> list[int]:
    """Give one text ``label`` as a person's decision; returns the new event ids.

    A ``valid`` event for ``label``, and an ``invalid`` one for the text's previous label
    (decided or the model's) when it differs — the same events as a review's override.
    ``seen_event`` is the last human event the person saw on this text (from
    :func:`text_details`); if someone decided it since, :class:`ReviewConflictError`.
    """
    state = _labelable(project, [sample_id])[sample_id]
    return decide(project, **_label_plan(project, sample_id, label, reviewer, state, seen_event))


def mark_fits_none(project: Project, sample_id: str, reviewer: str, seen_event: int | None = None) -> list[int]:
    """A person's decision that the text fits none of the project's labels (issue 20): it
    leaves the pool with no label (the export marks it out of scope) and Discover groups it
    with texts like it. Its label (decided or the model's), if any, is recorded as wrong."""
    state = _labelable(project, [sample_id])[sample_id]
    reviewer = checked_reviewer(reviewer)
    if seen_event is None:
        seen_event = int(text_row(project, sample_id)["last_human_event"])
    return decide(project, sample_id=sample_id, proposed=state["label"] or "", action="fits_none",
                  reviewer=reviewer, seen_event=seen_event, note="fits no label")


def label_texts(project: Project, rows: Sequence[dict], reviewer: str) -> int:
    """Label many texts at once (``sample_id`` and ``label`` each, e.g. from a file): every row
    is checked first, then all are recorded in one transaction as one action — all or none,
    and one undo takes them back. Returns how many were recorded."""
    ids = [r.get("sample_id") for r in rows]
    dup = next((i for k, i in enumerate(ids) if i in ids[:k]), None)
    if dup is not None:
        raise RedError(f"{dup!r} is labeled twice in the file; keep one")
    states = _labelable(project, ids)
    plans = []
    for k, r in enumerate(rows, start=1):
        try:
            plans.append(plan_decision(project, **_label_plan(project, r["sample_id"], r.get("label") or "",
                                                              reviewer, states[r["sample_id"]], None)))
        except RedError as exc:
            raise RedError(f"row {k} ({r['sample_id']!r}): {exc}; nothing was recorded") from None
    return decide_many(project, plans)


def _label_plan(project: Project, sample_id: str, label: str, reviewer: str, state: dict,
                seen_event: int | None) -> dict:
    reviewer = checked_reviewer(reviewer)
    project.check_labels([label])
    if seen_event is None:
        seen_event = int(text_row(project, sample_id)["last_human_event"])
    previous = state["label"]
    if previous is None or previous == label:
        return dict(sample_id=sample_id, proposed=label, action="accept", reviewer=reviewer,
                    seen_event=seen_event, note="labeled directly")
    return dict(sample_id=sample_id, proposed=previous, action="override", label=label, reviewer=reviewer,
                seen_event=seen_event, note="labeled directly")


def label_key(name: str) -> str:
    """What two label names that differ only by case, spaces, ``_`` or ``-`` share."""
    return re.sub(r"[\s_\-]+", "", unicodedata.normalize("NFKC", name).casefold())


def check_new_label(project: Project, name: str) -> str:
    """The name, trimmed, if it can be a new label; a clear :class:`RedError` otherwise."""
    name = " ".join((name or "").split())
    if not name:
        raise RedError("the new label's name is empty; type a name")
    name = checked_label(name)  # NFC, visible, no control or invisible character, not too long
    key = label_key(name)
    if not key:
        raise RedError("the new label's name has no letters or digits; type a name")
    same = [x for x in project.labels() if label_key(x) == key]
    if same:
        if same[0] == name:
            raise RedError(f"the label {same[0]!r} already exists; label the texts with it instead")
        raise RedError(f"{name!r} differs from the existing label {same[0]!r} only by case or spacing; "
                       f"label the texts with {same[0]!r} instead, or choose a clearly different name")
    return name


def add_label(project: Project, name: str, sample_ids: Sequence[str], reviewer: str,
              description: str | None = None) -> str:
    """Create the label ``name`` from one or more texts; returns the name as stored.

    One transaction adds the label and a person's ``valid`` event for each text (with an
    ``invalid`` one for the label each had before, decided or predicted). ``description``,
    when given, becomes the label's first description version.
    """
    reviewer = checked_reviewer(reviewer)
    name = check_new_label(project, name)
    ids = list(dict.fromkeys(s for s in (sample_ids or []) if s is not None))
    if not ids:
        raise RedError(f"pick at least one text that is an example of {name!r}")
    states = _labelable(project, ids)
    description = (description or "").strip() or None
    events = []
    for sid in ids:
        if states[sid]["label"] is not None:
            events.append(Event(sid, states[sid]["label"], "human", "invalid", reviewer, note=f"new label {name}"))
        events.append(Event(sid, name, "human", "valid", reviewer, note=f"new label {name}"))
    with project.transaction() as cur:
        project.add_labels(cur, [name])
        project.append_events(events, cur=cur)
    if description:
        project.set_description(name, description, reviewer)
    return name
