"""Human review of judge verdicts, and the agreement figures that audit them.

Machine suggestions (``judge_verdicts``) stay apart from human responses (``human``
events in ``annotations``). A decision is checked against the last human decision the
reviewer saw, so two reviewers deciding the same sample get a clear conflict instead of
silently overwriting each other.

A person answers what the proposed label *is*: ``right`` (accept), ``wrong`` (reject) or
``another`` label (override), whatever the judge said. Every decision is one action that
:func:`undo_last` takes back with a revocation (never a delete); :func:`bulk_decide`
records one decision per verdict a filter matches, in one transaction, as one action.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..errors import RedError
from ..project.embed import project_model
from ..project.reviews import (  # noqa: F401  (queue and conflict are part of review's API)
    JUDGE_SAID,
    STATUSES,
    UNDECIDED,
    ReviewConflictError,
    append_human_decision,
    append_human_decisions,
    decision_log,
    earlier_verdicts,
    judge_gold_pairs,
    judge_human_pairs,
    label_members,
    model_label_queue,
    model_queue_size,
    override_counts,
    queue_size,
    rejected_labels,
    review_queue,
    undo_last_action,
    verdict_record,
)
from ..project.store import NO_LABEL, Event, Project

ACTIONS = ("accept", "reject", "override", "fits_none")
# what a person says about the proposed label → the action it records
MEANINGS = {"right": "accept", "wrong": "reject", "another": "override", "fits-none": "fits_none",
            "none": "fits_none"}
BULK_LIMIT = 5000


def _action(action: str) -> str:
    action = MEANINGS.get(action, action)
    if action not in ACTIONS:
        raise RedError(f"unknown review action {action!r}; use right, wrong, another or fits-none "
                       f"(or {', '.join(ACTIONS)})")
    return action


def checked_reviewer(reviewer: str | None) -> str:
    """The reviewer's name, trimmed; a clear error when there is none."""
    reviewer = (reviewer or "").strip()
    if not reviewer:
        raise RedError("enter your name before reviewing: every decision records who made it")
    return reviewer


def _events(sample_id: str, proposed: str, action: str, reviewer: str, label: str | None,
            verdict_id: int | None, note: str | None) -> list[Event]:
    if action == "accept":
        return [Event(sample_id, proposed, "human", "valid", reviewer, verdict_id=verdict_id, note=note)]
    if action == "reject":
        return [Event(sample_id, proposed, "human", "invalid", reviewer, verdict_id=verdict_id, note=note)]
    if action == "fits_none":  # the proposed label (if any) is wrong, and so is every other: the text fits none
        return [Event(sample_id, proposed, "human", "invalid", reviewer, verdict_id=verdict_id, note=note)] * bool(
            proposed) + [Event(sample_id, NO_LABEL, "human", "valid", reviewer, verdict_id=verdict_id, note=note)]
    return [Event(sample_id, proposed, "human", "invalid", reviewer, verdict_id=verdict_id, note=note),
            Event(sample_id, label, "human", "valid", reviewer, verdict_id=verdict_id, note=note)]


def nearest_examples(project: Project, sample_id: str, label: str, k: int = 5, model: str | None = None):
    """The ``k`` current examples of ``label`` nearest to the sample: [(id, text, similarity)]."""
    model = model or project_model(project)
    ids, X = project.embedding_matrix(model, ids=[sample_id])
    if not ids:
        return []
    members = label_members(project, label, exclude=sample_id)
    if not members:
        return []
    mids, M = project.embedding_matrix(model, ids=members)
    sims = M @ X[0]
    top = np.argsort(-sims, kind="stable")[:k]
    texts = project.texts([mids[i] for i in top])
    return [(mids[i], texts[mids[i]], float(sims[i])) for i in top]


def decide(project: Project, *, sample_id: str, proposed: str, action: str, reviewer: str,
           label: str | None = None, seen_event: int = 0, verdict_id: int | None = None,
           note: str | None = None) -> list[int]:
    """Record a human decision on a proposed label (a judge's or the model's); returns the
    new event ids.

    accept (``right``): the proposed label is right. reject (``wrong``): it is wrong (the
    sample goes back to the pool with that label excluded). override (``another``): it is
    wrong and ``label`` is right. ``seen_event`` is the last human event id the reviewer saw
    for this sample; if a newer one exists, someone else decided meanwhile and
    :class:`ReviewConflictError` is raised.
    """
    return append_human_decision(project, *plan_decision(
        project, sample_id=sample_id, proposed=proposed, action=action, reviewer=reviewer, label=label,
        seen_event=seen_event, verdict_id=verdict_id, note=note))


def plan_decision(project: Project, *, sample_id: str, proposed: str, action: str, reviewer: str,
                  label: str | None = None, seen_event: int = 0, verdict_id: int | None = None,
                  note: str | None = None) -> tuple[str, list[Event], int]:
    """A decision checked and turned into its events, not recorded yet: (sample id, events,
    the last human event seen), for :func:`decide` or, many at once, :func:`decide_many`."""
    reviewer = checked_reviewer(reviewer)
    action = _action(action)
    if action == "override":
        if not label:
            raise RedError("pick the right label to override with")
        if label == proposed:
            action = "accept"
    project.check_labels([proposed] * bool(proposed) + ([label] if label else []))
    return sample_id, _events(sample_id, proposed, action, reviewer, label, verdict_id, note), seen_event


def decide_many(project: Project, plans: Sequence[tuple[str, list[Event], int]]) -> int:
    """Record planned decisions (:func:`plan_decision`) in one transaction, as one action:
    all or none, and one undo takes them back. Returns how many were recorded."""
    append_human_decisions(project, list(plans))
    return len(plans)


def undo_last(project: Project, reviewer: str) -> dict:
    """Take back ``reviewer``'s newest decision still in force (a bulk decision as a whole).

    The events stay in the log; a revocation is appended, so the sample's label, the loop and
    the audit go back to what they were without the decision. Returns {action_id,
    event_ids, sample_ids, created_at, seq}; a clear error when there is nothing to undo.
    """
    reviewer = checked_reviewer(reviewer)
    done = undo_last_action(project, reviewer, note="undo")
    if done is None:
        raise RedError(f"{reviewer} has no decision to undo")
    return done


def bulk_fingerprint(items) -> str:
    """Which verdicts a bulk decision covers, in a few characters (the same count can hide
    another set: one verdict decided meanwhile, another come in)."""
    import hashlib

    ids = ",".join(str(int(v)) for v in sorted(items.verdict_id))
    return hashlib.sha256(ids.encode()).hexdigest()[:16]


def bulk_matches(project: Project, *, status: str = "pending", **filters) -> tuple[int, str]:
    """(count, fingerprint) of the verdicts a bulk decision with these filters would cover:
    what the person confirms, passed back to :func:`bulk_decide`."""
    items = review_queue(project, status=status, limit=BULK_LIMIT + 1, **filters)
    return len(items), bulk_fingerprint(items)


def bulk_decide(project: Project, *, reviewer: str, action: str, expected: int, label: str | None = None,
                verdict: str | None = None, min_conf: float | None = None, max_conf: float | None = None,
                iteration: int | None = None, status: str = "pending", to_label: str | None = None,
                note: str | None = None, fingerprint: str | None = None) -> int:
    """Decide every verdict the filters match (as :func:`review_queue` lists them) the same way.

    Each verdict gets its own events, all in one transaction and as one action (one undo
    takes them back). ``expected`` is the count the person confirmed (from
    :func:`queue_size` with the same filters): if the queue changed since, nothing is
    recorded and the error says so. ``fingerprint`` (from :func:`bulk_matches`) checks the
    verdicts themselves, not only their count. Returns how many decisions were recorded.
    """
    reviewer = checked_reviewer(reviewer)
    action = _action(action)
    if action == "override":
        if not to_label:
            raise RedError("pick the right label for the bulk override")
        project.check_labels([to_label])
    if status not in UNDECIDED:
        raise RedError("bulk decisions are for undecided verdicts: use status pending or needs_review")
    items = review_queue(project, label=label, verdict=verdict, min_conf=min_conf, max_conf=max_conf,
                         iteration=iteration, status=status, limit=BULK_LIMIT + 1)
    if len(items) > BULK_LIMIT:
        raise RedError(f"more than {BULK_LIMIT} verdicts match: narrow the filters (a label, a confidence range)")
    if len(items) != expected:
        raise ReviewConflictError(f"the filters now match {len(items)} verdicts, not the {expected} you confirmed; "
                                  "nothing was recorded — look at the count again")
    if fingerprint is not None and bulk_fingerprint(items) != fingerprint:
        raise ReviewConflictError(f"the filters still match {len(items)} verdicts, but not the ones you confirmed "
                                  "(some were decided meanwhile, others came in); nothing was recorded — look "
                                  "at them again")
    if not len(items):
        return 0
    note = note or "bulk"
    decisions = []
    for r in items.itertuples(index=False):
        act = "accept" if action == "override" and to_label == r.label else action
        decisions.append((r.sample_id, _events(r.sample_id, r.label, act, reviewer, to_label, int(r.verdict_id), note),
                          int(r.last_human_event)))
    append_human_decisions(project, decisions)
    return len(decisions)


def offered_labels(labels: list[str], proposed: str, alternatives, rejected: set[str]) -> tuple[list[str], list[str]]:
    """(top alternatives, picker order) for a text: the model's alternatives that nobody
    rejected, then every other label by name, then the labels already rejected for the text
    (never offered first); the proposed label itself is left out of both."""
    known = set(labels)
    alts = [a for a in (list(alternatives) if alternatives is not None else [])
            if a != proposed and a not in rejected and a in known]
    seen = set(alts) | {proposed}
    rest = [x for x in labels if x not in seen and x not in rejected]
    tail = [x for x in labels if x in rejected and x != proposed]
    return alts, alts + rest + tail


def agreement(project: Project) -> dict:
    """Judge–human agreement, judge–gold agreement, per label, and override confusion.

    A judge verdict *agrees* with the human when the human's latest decision on that
    sample keeps the judge's answer: accept of a valid verdict, or a reject / override of
    an invalid one.
    """
    pairs = judge_human_pairs(project)
    gold = judge_gold_pairs(project)
    out: dict = {"human_reviewed": int(len(pairs)), "gold_known": int(len(gold)), "overrides": override_counts(project)}
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
    rec = verdict_record(project, verdict_id)
    if rec is None:
        raise RedError(f"no judge verdict {verdict_id}")
    rec["history"] = project.history(rec["sample_id"])
    return rec
