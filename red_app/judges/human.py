"""People as the judge: the loop's proposals go to Review and the run waits for answers.

As in Prodigy's active learning, a person answers what the model proposes. The human judge
answers nothing itself: each proposal comes back *pending* — stored as an unapplied run
verdict, so it appears in Review's ``needs_review`` queue — and the loop then waits until
people have answered (polling every ``poll`` seconds) or ``wait`` seconds have passed; it
then stops as interrupted, and ``red run --resume`` waits again for what is still open.
A person's answer is an ordinary human decision: the loop reads it between chunks, the
sample joins the training set with the label they gave, and nothing can overwrite it.
"""

from __future__ import annotations

from .base import BaseJudge, JudgeRequest, Verdict

PENDING_RATIONALE = "the classifier's proposal, waiting for a person in Review"


class HumanJudge(BaseJudge):
    """Proposals for people. ``wait``: seconds a run waits for answers (None: until they come);
    ``poll``: seconds between looks at the answers."""

    kind = "human"
    model = None
    trusted = True            # a person's answer is taken at its word (and never overwritten)
    waits_for_people = True   # the loop waits for the answers after each batch of proposals

    def __init__(self, wait: float | None = 3600.0, poll: float = 2.0):
        if wait is not None and wait < 0:
            raise ValueError("the wait for people's answers must be >= 0 seconds")
        if poll <= 0:
            raise ValueError("the poll interval must be > 0 seconds")
        self.wait = wait
        self.poll = poll

    def describe(self) -> str:
        how = "until they answer" if self.wait is None else f"up to {self.wait:g} s per batch"
        return f"human judge (proposals wait in Review; the run waits {how})"

    def run_settings(self) -> dict:
        return {"wait": self.wait, "poll": self.poll}

    def judge(self, request: JudgeRequest) -> Verdict:
        return Verdict(valid=None, pending=True, confidence=0.0, rationale=PENDING_RATIONALE)
