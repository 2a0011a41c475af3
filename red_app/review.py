"""Human review of judge verdicts, and the agreement figures that audit them.

Machine suggestions (``judge_verdicts``) stay apart from human responses (``human``
events in ``annotations``). A decision is checked against the last human decision the
reviewer saw, so two reviewers deciding the same sample get a clear conflict instead of
silently overwriting each other.
"""

from __future__ import annotations

import numpy as np

from .errors import RedError
from .project.embed import project_model
from .project.reviews import (  # noqa: F401  (queue and conflict are part of review's API)
    ReviewConflictError,
    append_human_decision,
    decision_log,
    judge_gold_pairs,
    judge_human_pairs,
    label_members,
    override_counts,
    queue_size,
    review_queue,
    verdict_record,
)
from .project.store import Event, Project

ACTIONS = ("accept", "reject", "override")


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
    return append_human_decision(project, sample_id, events, seen_event)


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
