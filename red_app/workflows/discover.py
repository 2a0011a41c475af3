"""Discover (issue 20): the texts that fit none of the project's labels, in groups, each one
a new label waiting for a name — `red discover`, headless first.

The texts looked at are the pool's texts nobody labeled (a model's prediction is not a
label) that are unlike every label's known texts (:mod:`red_app.method.open_world`), and
those a person or the judge answered "fits none of the labels" (or where people rejected
labels and gave none). A group becomes a label with
:func:`label_from_group`: its texts are the new label's first examples, as a person's
decisions (one undo takes them back), and the next run trains on it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import RedError
from ..method.open_world import DISCOVER_ALPHA, group_texts, min_group_for, nearest_labels, out_of_scope
from ..project.store import Project
from .inputs import load_inputs
from .texts import add_label

TYPICAL_SHOWN = 5


@dataclass(frozen=True)
class FoundGroup:
    """One group: ``number`` (1 = the least like any label), its texts (most typical first),
    its distinctive words, how like the labels its texts are (mean p-value: small is unlike
    all of them), and the known label nearest its centre with their cosine similarity."""

    number: int
    sample_ids: list[str]
    typical: list[str]
    words: list[str]
    p_mean: float
    nearest_label: str
    nearest_similarity: float

    @property
    def size(self) -> int:
        return len(self.sample_ids)


@dataclass(frozen=True)
class Discovery:
    """What :func:`discover` found: the texts looked at, those in no group, and the groups."""

    looked_at: int
    unlabeled: int
    said_none: int
    groups: list[FoundGroup]
    min_group: int
    alpha: float

    @property
    def grouped(self) -> int:
        return sum(g.size for g in self.groups)

    def summary(self) -> str:
        return (f"{self.looked_at:,} of {self.unlabeled:,} unlabeled texts look unlike every label "
                f"(p < {self.alpha:g}; {self.said_none:,} of them people or the judge said fit none of the labels "
                f"shown); {len(self.groups)} group{'' if len(self.groups) == 1 else 's'} of at least {self.min_group} "
                f"hold {self.grouped:,} of them")


def discover(project: Project, alpha: float | None = None, min_group: int | None = None, seed: int = 0) -> Discovery:
    """Group the unlabeled texts that fit none of the labels (see the module's docstring).
    The same project state and seed give the same groups, numbered the same way."""
    alpha = DISCOVER_ALPHA if alpha is None else alpha
    if not 0 < alpha < 1:
        raise RedError("--alpha is a share of texts: give a number between 0 and 1")
    if min_group is not None and min_group < 2:
        raise RedError("--min-group must be at least 2 texts")
    # the texts as a run reads them (holdout aside), their labels and the labels rejected
    data, state = load_inputs(project)
    known = state.y >= 0
    # texts answered "fits none of the labels", or where two or more labels were rejected (a
    # "none of these") and no label given since
    rejected = np.bincount([i for i, _lab in state.excluded], minlength=len(known))
    answered_none = state.none_mask()
    said_none = ((rejected >= 2) | answered_none) & ~known
    oos = out_of_scope(data.X, known, alpha=alpha, none=answered_none)
    look = ((oos.p < alpha) | said_none) & ~known
    unlabeled = int((~known).sum())
    if min_group is None:
        min_group = min_group_for(unlabeled, len(data.label_names))
    idx = np.flatnonzero(look)
    groups = group_texts(data.X[idx], [data.texts[i] for i in idx], min_group=min_group, seed=seed)
    members = [idx[g.members] for g in groups]
    found = [(float(oos.p[m].mean()), m, g.words, data.label_names[best], sim)
             for m, g, (best, sim) in zip(members, groups, nearest_labels(data.X, state.y, members))]
    found.sort(key=lambda f: (f[0], -len(f[1])))  # the least like any label first
    out = [FoundGroup(number=k + 1, sample_ids=[data.ids[i] for i in members],
                      typical=[data.texts[i] for i in members[:TYPICAL_SHOWN]], words=list(words), p_mean=p_mean,
                      nearest_label=near, nearest_similarity=sim)
           for k, (p_mean, members, words, near, sim) in enumerate(found)]
    return Discovery(looked_at=int(look.sum()), unlabeled=unlabeled, said_none=int((said_none & look).sum()),
                     groups=out, min_group=min_group, alpha=alpha)


def label_from_group(project: Project, found: Discovery, number: int, name: str, reviewer: str,
                     description: str | None = None, take: int | None = None) -> tuple[str, int]:
    """Make group ``number`` the new label ``name``: its texts (or the ``take`` most typical)
    become the label's first examples, as ``reviewer``'s decisions. Returns (name, texts)."""
    group = next((g for g in found.groups if g.number == number), None)
    if group is None:
        raise RedError(f"no group {number}: {len(found.groups)} were found (see `red discover` without --make-label)")
    if take is not None and take < 1:
        raise RedError("--take must be at least 1 text")
    chosen = group.sample_ids[:take] if take else group.sample_ids
    return add_label(project, name, chosen, reviewer=reviewer, description=description), len(chosen)
