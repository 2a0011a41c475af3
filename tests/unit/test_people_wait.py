"""How long a run waits for people (red_app.method.people.People.wait). The sink here is a
stand-in for the project file (named as such): it hands over decisions as the store would."""

import time
from types import SimpleNamespace

import numpy as np

from red_app.judges.human import HumanJudge
from red_app.method.people import People


class DecisionsStandIn:
    """A stand-in for the project's sink: each look finds one new decision, on a text the
    run did not propose (someone labeling elsewhere), or, with ``answer``, on a proposal."""

    def __init__(self, answer: list[int] | None = None):
        self.answer = list(answer or [])
        self.other = 100
        self.waiting = []

    def human_decisions(self):
        if self.answer:
            return [(self.answer.pop(0), 0, True)]
        self.other += 1
        return [(self.other, 0, True)]

    def revoked_decisions(self):
        return []

    def on_waiting(self, n):
        self.waiting.append(n)


def _state(held):
    return SimpleNamespace(y=np.full(200, -1), decided=set(), held=set(held), excluded=set(), none=set())


def test_decisions_on_other_texts_do_not_keep_the_run_waiting():
    people = People(DecisionsStandIn(), HumanJudge(wait=0.3, poll=0.02))
    t0 = time.monotonic()
    ended = people.wait(_state({1, 2}))
    assert ended is not None and ended.kind == "paused" and "waiting for 2 answers" in ended.reason
    assert time.monotonic() - t0 < 2.0  # someone answering elsewhere did not restart the wait


def test_an_answer_to_a_proposal_starts_the_wait_again_and_the_last_one_ends_it():
    sink = DecisionsStandIn(answer=[1, 2])
    people = People(sink, HumanJudge(wait=5, poll=0.02))
    assert people.wait(_state({1, 2})) is None
    assert sink.waiting[-1] == 0


class LogStandIn(DecisionsStandIn):
    """A stand-in for the log: a person rejected label 3 of text 5, and the log keeps no
    label for it (the judge's label 7, given meanwhile, was withheld)."""

    def human_decisions(self):
        out, self._given = ([(5, 3, False)] if not getattr(self, "_given", False) else []), True
        return out

    def states_now(self, positions):
        return [(i, -1, [3], True, False) for i in positions]


def test_a_label_the_log_never_kept_leaves_the_loop_when_a_person_rejects_another():
    state = _state(set())
    state.y[5] = 7  # the judge's label, applied in memory while the person was deciding
    People(LogStandIn(), HumanJudge()).take(state)
    assert state.y[5] == -1 and (5, 3) in state.excluded and 5 in state.decided
