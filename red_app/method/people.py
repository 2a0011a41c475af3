"""People's answers as they come: a person's decision is authoritative and the loop reads
it between chunks; with a person as the judge, the loop waits for the answers it asked for."""

from __future__ import annotations

import time
from typing import Callable

from .stopping import Termination

# The label index a sink gives a text decided to fit none of the labels (red_app.method.loop
# re-exports it); any other negative index is a label the loop does not know.
FITS_NONE = -2


class People:
    """What people decided, read from the loop's sink (a bare loop has no sink: no people)."""

    def __init__(self, sink, judge):
        self.sink = sink
        self.judge = judge
        self.accepted = 0  # decisions read so far that gave a text a label
        self.rejected = 0  # decisions read so far that rejected a label (and gave none)
        self.said_none = 0  # decisions read so far that the text fits none of the labels

    def take(self, state) -> None:
        """Apply what people decided since the last look.

        People are authoritative: their label replaces the loop's, their rejections are
        excluded, and the sample is never proposed or relabeled by the loop again — until
        they undo the decision (the sink's ``revoked_decisions``).
        """
        if self.sink is None:
            return
        unsure = []  # texts a person rejected a label of while the loop holds another for them
        decisions = self.sink.human_decisions()
        fits_none = {i for i, lab, valid in decisions if lab == FITS_NONE and valid}
        for i, lab, valid in decisions:
            state.decided.add(i)
            state.held.discard(i)
            if lab == FITS_NONE and valid:  # fits none of the labels: no label, never asked again
                state.y[i] = -1
                state.none.add(i)
                self.said_none += 1
                continue
            if valid:
                state.none.discard(i)  # a label, known to the loop or new, says it fits one
            if not valid and i in fits_none:  # "fits none" rejects the proposal too: counted once
                if lab >= 0:
                    state.excluded.add((i, lab))
                continue
            if lab < 0:  # a label the loop does not know yet: the sample is simply left to people
                continue
            if valid:
                state.y[i] = lab
                self.accepted += 1
            else:
                self.rejected += 1
                state.excluded.add((i, lab))
                if state.y[i] == lab:
                    state.y[i] = -1
                elif state.y[i] >= 0:
                    unsure.append(i)
        # the loop's label may be a judge's that the log never kept (a person decided the text
        # while the judge was asked): the text's label is what the log says now
        for i, lab, _excluded, _decided, _held in self.sink.states_now(unsure) if unsure else []:
            state.y[i] = max(lab, -1)
        # An undo: the sample is as the log now says (its label, rejections, whether a person
        # decided it, whether a verdict waits for one), so a revoked decision stops protecting it.
        changes = self.sink.revoked_decisions()
        if not changes:
            return
        touched = {c[0] for c in changes}
        state.excluded.difference_update({p for p in state.excluded if p[0] in touched})
        for i, lab, excluded, decided, held in changes:
            state.y[i] = max(lab, -1)
            (state.none.add if lab == FITS_NONE else state.none.discard)(i)
            state.excluded.update((i, x) for x in excluded)
            (state.decided.add if decided else state.decided.discard)(i)
            (state.held.add if held else state.held.discard)(i)

    def wait(self, state, should_stop: Callable[[], bool] | None = None, open_at_most: int = 0) -> Termination | None:
        """Wait until at most ``open_at_most`` held proposals are still unanswered (a judge that
        ``waits_for_people``).

        Reads people's answers every ``judge.poll`` seconds (each is applied at once, see
        :meth:`take`) and tells the sink how many are still open. Returns None once few enough
        are left, or why it stopped waiting: stopped by the user, or ``judge.wait`` seconds
        passed without an answer to one of the run's proposals (decisions on other texts do
        not count; the run is then resumable and waits again on resume).
        """
        wait, poll = self.judge.wait, float(self.judge.poll)
        deadline = None if wait is None else time.monotonic() + float(wait)
        still_open = None
        while True:
            self.take(state)
            n = len(state.held)
            if self.sink:
                self.sink.on_waiting(n)
            if n <= open_at_most:
                return None
            if should_stop and should_stop():
                return Termination.stopped()
            if still_open is not None and n < still_open:  # a proposal was answered: the wait starts again
                deadline = None if wait is None else time.monotonic() + float(wait)
            still_open = n
            if deadline is not None and time.monotonic() >= deadline:
                return Termination.paused(f"waiting for {n} answer{'s' if n != 1 else ''} in Review: answer them "
                                          "there, then resume the run")
            time.sleep(poll if deadline is None else max(min(poll, deadline - time.monotonic()), 0.0))
