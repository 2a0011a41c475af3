"""The simulated expert: knows the hidden gold label, errs at a set rate (seeded).

For tests and benchmarks only — it needs ``gold`` (sample id → label), which a real
project has only for samples imported with ``--mode hidden-gold``.
"""

from __future__ import annotations

import hashlib
import os
import time
from typing import Mapping

import numpy as np

from .base import BaseJudge, JudgeRequest, Verdict

# What the embedded Qwen2.5-Coder-1.5B judge did in the loop (bench/REPORT.md, "The embedded judge"): it
# says "valid" to nearly every right label and to about half of the wrong ones.
REALISTIC = (0.97, 0.55)


def parse_profile(text: str) -> tuple[float, float]:
    """``realistic`` or ``RIGHT,WRONG`` → (P(valid | right), P(valid | wrong))."""
    try:
        right, wrong = REALISTIC if text == "realistic" else (float(x) for x in text.split(","))
    except ValueError:
        raise ValueError(f"judge profile {text!r}: use realistic or two numbers, e.g. 0.97,0.55") from None
    return right, wrong


class SimulatedJudge(BaseJudge):
    """A judge that knows the hidden gold and errs as told; each (sample, label) pair's coin
    is fixed by ``seed``, so re-asking gives the same answer.

    Either symmetric — right with probability ``accuracy`` whatever the truth — or, with
    ``p_valid_right`` / ``p_valid_wrong``, biased the way real small judges are: P(says
    valid | the label is right) and P(says valid | it is wrong) set apart (``REALISTIC``
    is the embedded judge's measured profile). Only the perfect judge is ``trusted``: the
    loop takes its word without measuring it first.

    A *choose* question (``request.candidates``) is answered with the same two numbers read
    as the yes-leaning judge's habits; with r = P(valid | right), w = P(valid | wrong):

    - the gold label is among the candidates: it picks it with probability r; otherwise,
      with probability w, it picks the most plausible *wrong* candidate (the first other
      one offered), else "none";
    - the gold label is absent: with probability w it picks the first (most plausible)
      candidate anyway, else "none".

    The symmetric judge of accuracy a picks the gold (present) or "none" (absent) with
    probability a, and otherwise the first wrong candidate, or "none" when there is none.
    So REALISTIC (0.97, 0.55) misses a present gold 3% of the time and names a wrong label
    for 55% of the texts whose gold is not offered; the perfect judge never errs.
    """

    kind = "simulated"

    def __init__(self, gold: Mapping[str, str], accuracy: float = 1.0, seed: int = 0,
                 latency_ms: float | None = None, p_valid_right: float | None = None,
                 p_valid_wrong: float | None = None):
        if not 0.0 <= accuracy <= 1.0:
            raise ValueError("judge accuracy must be between 0 and 1")
        biased = p_valid_right is not None or p_valid_wrong is not None
        if biased:
            p_valid_right = 1.0 if p_valid_right is None else p_valid_right
            p_valid_wrong = 0.0 if p_valid_wrong is None else p_valid_wrong
            if not (0 <= p_valid_right <= 1 and 0 <= p_valid_wrong <= 1):
                raise ValueError("P(valid | right) and P(valid | wrong) must be between 0 and 1")
        self.gold = gold
        self.accuracy = accuracy
        self.seed = seed
        self.p_valid_right, self.p_valid_wrong = (p_valid_right, p_valid_wrong) if biased else (None, None)
        self.trusted = not biased and accuracy == 1.0
        self.model = (f"simulated(P(valid|right)={p_valid_right:g}, P(valid|wrong)={p_valid_wrong:g})" if biased
                      else f"simulated(accuracy={accuracy:g})")
        # an artificial delay per verdict (RED_SLOW_JUDGE_MS), so demos and the
        # kill-and-resume test can watch a run that takes as long as a real judge
        self.latency_ms = float(os.environ.get("RED_SLOW_JUDGE_MS", 0) if latency_ms is None else latency_ms)

    def _coin(self, request: JudgeRequest) -> float:
        h = hashlib.blake2b(f"{self.seed}|{request.sample_id}|{request.label}".encode(), digest_size=8)
        return np.random.default_rng(int.from_bytes(h.digest(), "little")).random()

    def _choice_coin(self, request: JudgeRequest) -> float:
        key = f"{self.seed}|{request.sample_id}|choose|{'|'.join(request.candidate_labels())}"
        h = hashlib.blake2b(key.encode(), digest_size=8)
        return np.random.default_rng(int.from_bytes(h.digest(), "little")).random()

    def _choose(self, request: JudgeRequest, truth: str) -> Verdict:
        labels = request.candidate_labels()
        present = truth in labels
        wrong = [lab for lab in labels if lab != truth]
        coin = self._choice_coin(request)
        if self.p_valid_right is not None:
            r, w = self.p_valid_right, self.p_valid_wrong
            if present:
                pick = truth if coin < r else (wrong[0] if wrong and coin < r + (1 - r) * w else None)
            else:
                pick = labels[0] if coin < w else None
        else:
            if coin < self.accuracy:
                pick = truth if present else None
            else:
                pick = wrong[0] if wrong else None
        honest = pick == (truth if present else None)
        why = "agrees with the hidden gold" if honest else "deliberately wrong"
        return Verdict(valid=pick is not None, confidence=1.0, model=self.model, rationale=f"simulated: {why}",
                       latency_ms=self.latency_ms, choice=pick)

    def judge(self, request: JudgeRequest) -> Verdict:
        if self.latency_ms:
            time.sleep(self.latency_ms / 1000)
        truth = self.gold.get(request.sample_id)
        if truth is None:
            return Verdict(
                valid=None, confidence=0.0, model=self.model,
                error=f"sample {request.sample_id!r} has no hidden gold label; the simulated "
                "judge only works on samples imported with --mode hidden-gold",
            )
        if request.is_choice:
            return self._choose(request, truth)
        correct = truth == request.label
        coin = self._coin(request)
        if self.p_valid_right is not None:
            valid = coin < (self.p_valid_right if correct else self.p_valid_wrong)
        else:
            valid = correct if coin < self.accuracy else not correct
        # Reviewers read the rationale beside the verdict: it must not tell them the gold label,
        # nor whether this answer is one of the deliberate errors (that would give gold away).
        why = ("a simulated judge answers from the hidden gold" if self.trusted else
               f"a simulated judge that errs on purpose ({self.model}); this answer may be wrong")
        return Verdict(valid=valid, confidence=1.0, model=self.model, rationale=why, latency_ms=self.latency_ms)
