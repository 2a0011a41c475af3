"""The question a judge is asked about one proposal, built the same way everywhere (the
loop, judge measurement, judge-eval), so a judge is measured exactly as it is used."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..judges.base import Candidate, Example, JudgeRequest

# nearest examples shown per candidate in a choose question (k candidates share one prompt)
CHOOSE_EXAMPLES = 3
# "None of these" says the text fits none of the labels (issue 20) only where the right label
# is nearly always among the candidates when there is one: the labeled texts' own label is
# among the top k for at least this share of them (open_world.top_k_recall; 0.97-0.99 on
# CLINC150 and BANKING77). With 1,000 labels (O*NET: 0.61) "none" is just a rejection: 62% of
# the "none" answers there were texts of a project label.
NONE_MEANS_FITS_NONE = 0.9


def nearest_examples(data, state, i: int, lab: int, c_examples: int) -> tuple[Example, ...]:
    """The ``c_examples`` current examples of label ``lab`` nearest to sample ``i`` (never ``i`` itself)."""
    members = np.flatnonzero(state.y == lab)
    members = members[members != i]  # a text is never shown as its own example
    if not len(members) or c_examples <= 0:
        return ()
    sims = data.X[members] @ data.X[i]
    top = members[np.argsort(-sims, kind="stable")[:c_examples]]
    return tuple(Example(data.ids[j], data.texts[j]) for j in top)


def build_request(data, state, i: int, lab: int, alternatives: tuple[str, ...] = (),
                  c_examples: int = 5) -> JudgeRequest:
    """The question a judge gets about sample ``i`` under label ``lab``: the label's
    description and the ``c_examples`` current examples of it nearest to the sample."""
    name = data.label_names[lab]
    return JudgeRequest(sample_id=data.ids[i], text=data.texts[i], label=name,
                        description=data.descriptions.get(name),
                        examples=nearest_examples(data, state, i, lab, c_examples), alternatives=alternatives)


def build_choose_request(data, state, i: int, labels: Sequence[int],
                         c_examples: int = CHOOSE_EXAMPLES) -> JudgeRequest:
    """A choose question about sample ``i``: the candidate labels in the order given (the
    classifier's, best first), each with its description and nearest examples. Pairs a
    judge or person rejected must already be left out by the caller."""
    if len(labels) < 1:
        raise ValueError("a choose question needs at least one candidate label")
    cands = tuple(Candidate(data.label_names[lab], data.descriptions.get(data.label_names[lab]),
                            nearest_examples(data, state, i, lab, c_examples)) for lab in labels)
    first = cands[0]
    return JudgeRequest(sample_id=data.ids[i], text=data.texts[i], label=first.label,
                        description=first.description, examples=first.examples,
                        alternatives=tuple(c.label for c in cands[1:]), candidates=cands)


# -- question forms: what the loop asks about one proposal, and what an answer means ---------


@dataclass(frozen=True)
class Proposal:
    """One proposal: the position ``kp`` in the pool scores, the label(s) offered and their ranks."""

    kp: int
    labels: tuple[int, ...]
    ranks: tuple[int, ...]


@dataclass(frozen=True)
class Outcome:
    """What one answer means: ``decision`` (valid, invalid, review, error), P(right), the
    label it names, the labels a rejection excludes, and why a charged answer failed."""

    decision: str
    p_right: float | None
    label: int
    excluded: tuple[int, ...]
    candidates: tuple[int, ...] = ()
    failure: str | None = None
    none: bool = False  # "none of these" (a choose question): the text may fit none of the labels


class BinaryQuestion:
    """"Is label X right?" about the top label; after a "no", optionally the next label."""

    name = "binary"

    def __init__(self, config):
        self.c_examples = config.c_examples
        self.retry_next = config.on_reject == "next"

    @property
    def top_k_recall(self) -> None:
        """Always None: a "no" to one label never says a text fits no label."""
        return None

    @top_k_recall.setter
    def top_k_recall(self, value) -> None:
        pass

    def width(self) -> int:
        return 3

    def eligible(self, delegation, prior: np.ndarray) -> np.ndarray:
        return prior[:, 0] >= delegation.min_prior()

    def applied(self, delegation, prior: np.ndarray) -> np.ndarray:
        """P(the answer about the top label is applied), per row of ``prior``."""
        return delegation.binary_applied(prior[:, 0])

    def proposals(self, scores, chunk: Sequence[tuple[int, int, int]]) -> list[Proposal]:
        return [Proposal(kp, (lab,), (rank,)) for kp, lab, rank in chunk]

    def request(self, data, state, scores, p: Proposal) -> JudgeRequest:
        return build_request(data, state, int(scores.pool[p.kp]), p.labels[0],
                             scores.alternatives(p.kp, data.label_names), c_examples=self.c_examples)

    def outcome(self, delegation, verdict, request, scores, p: Proposal) -> Outcome:
        decision, p_right = delegation.decide(verdict, float(scores.prior[p.kp, p.ranks[0]]))
        return Outcome(decision, p_right, p.labels[0], p.labels)

    def retry(self, state, scores, p: Proposal, delegation) -> tuple[int, int, int] | None:
        """After a rejection: the text's next label, if it is plausible and not rejected."""
        rank = p.ranks[0]
        if not self.retry_next or rank + 1 >= scores.order.shape[1]:
            return None
        i, nxt = int(scores.pool[p.kp]), int(scores.order[p.kp, rank + 1])
        if scores.S[p.kp, nxt] > 0 and (i, nxt) not in state.excluded \
                and scores.prior[p.kp, rank + 1] >= delegation.min_prior():
            return (p.kp, nxt, rank + 1)
        return None


class ChooseQuestion:
    """"Which of these k labels, or none?" about the top ``choose_k`` labels not rejected yet."""

    name = "choose"

    def __init__(self, config):
        self.k = config.choose_k
        self.top_k_recall: float | None = None  # set by the loop from the labeled texts

    @property
    def none_fits_none(self) -> bool:
        """Whether a "none" answer says the text fits none of the labels (see NONE_MEANS_FITS_NONE)."""
        return self.top_k_recall is not None and self.top_k_recall >= NONE_MEANS_FITS_NONE

    def width(self) -> int:
        return max(3, self.k)

    def eligible(self, delegation, prior: np.ndarray) -> np.ndarray:
        return delegation.choice_eligible(prior[:, :min(self.k, prior.shape[1])])

    def applied(self, delegation, prior: np.ndarray) -> np.ndarray:
        """P(the answer is applied), per row of ``prior``."""
        return delegation.choice_applied(prior[:, :min(self.k, prior.shape[1])])

    def proposals(self, scores, chunk: Sequence[tuple[int, int, int]]) -> list[Proposal]:
        out = []
        for kp, _, _ in chunk:
            labels, ranks = scores.candidates(kp, self.k)
            if len(labels):  # none left: nothing to ask
                out.append(Proposal(kp, tuple(int(x) for x in labels), tuple(int(r) for r in ranks)))
        return out

    def request(self, data, state, scores, p: Proposal) -> JudgeRequest:
        return build_choose_request(data, state, int(scores.pool[p.kp]), p.labels)

    def outcome(self, delegation, verdict, request, scores, p: Proposal) -> Outcome:
        names = request.candidate_labels()
        decision, p_right = delegation.decide_choice(verdict, names, scores.prior[p.kp, list(p.ranks)])
        failure = None
        if decision == "error" and verdict.valid is not None:  # an answer naming no candidate: charged, yet failed
            failure = f"the judge chose {verdict.choice!r}, not one of the candidates"
        label = p.labels[names.index(verdict.choice)] if verdict.choice in names else p.labels[0]
        return Outcome(decision, p_right, label, p.labels, candidates=p.labels, failure=failure,
                       none=decision == "invalid" and verdict.choice is None and self.none_fits_none)

    def retry(self, state, scores, p: Proposal, delegation) -> None:
        return None


QUESTION_FORMS = {"binary": BinaryQuestion, "choose": ChooseQuestion}


def question_form(config):
    """The question form a run's settings ask for."""
    return QUESTION_FORMS[config.question](config)
