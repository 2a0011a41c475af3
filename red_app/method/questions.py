"""The question a judge is asked about one proposal, built the same way everywhere (the
loop, judge measurement, judge-eval), so a judge is measured exactly as it is used."""

from __future__ import annotations

import numpy as np

from ..judges.base import Example, JudgeRequest


def build_request(data, state, i: int, lab: int, alternatives: tuple[str, ...] = (),
                  c_examples: int = 5) -> JudgeRequest:
    """The question a judge gets about sample ``i`` under label ``lab``: the label's
    description and the ``c_examples`` current examples of it nearest to the sample."""
    name = data.label_names[lab]
    members = np.flatnonzero(state.y == lab)
    members = members[members != i]  # a text is never shown as its own example
    examples: tuple[Example, ...] = ()
    if len(members) and c_examples > 0:
        sims = data.X[members] @ data.X[i]
        top = members[np.argsort(-sims, kind="stable")[:c_examples]]
        examples = tuple(Example(data.ids[j], data.texts[j]) for j in top)
    return JudgeRequest(sample_id=data.ids[i], text=data.texts[i], label=name,
                        description=data.descriptions.get(name), examples=examples, alternatives=alternatives)
