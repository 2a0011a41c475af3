"""The question a judge is asked about one proposal, built the same way everywhere (the
loop, judge measurement, judge-eval), so a judge is measured exactly as it is used."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..judges.base import Candidate, Example, JudgeRequest

# nearest examples shown per candidate in a choose question (k candidates share one prompt)
CHOOSE_EXAMPLES = 3


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
