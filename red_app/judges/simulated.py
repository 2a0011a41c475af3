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


class SimulatedJudge(BaseJudge):
    """Answers correctly with probability ``accuracy``; the coin for each (sample, label)
    pair is fixed by ``seed``, so re-asking gives the same answer."""

    kind = "simulated"

    def __init__(self, gold: Mapping[str, str], accuracy: float = 1.0, seed: int = 0,
                 latency_ms: float | None = None):
        if not 0.0 <= accuracy <= 1.0:
            raise ValueError("judge accuracy must be between 0 and 1")
        self.gold = gold
        self.accuracy = accuracy
        self.seed = seed
        self.model = f"simulated(accuracy={accuracy:g})"
        # an artificial delay per verdict (RED_SLOW_JUDGE_MS), so demos and the
        # kill-and-resume test can watch a run that takes as long as a real judge
        self.latency_ms = float(os.environ.get("RED_SLOW_JUDGE_MS", 0) if latency_ms is None else latency_ms)

    def _coin(self, request: JudgeRequest) -> float:
        h = hashlib.blake2b(f"{self.seed}|{request.sample_id}|{request.label}".encode(), digest_size=8)
        return np.random.default_rng(int.from_bytes(h.digest(), "little")).random()

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
        correct = truth == request.label
        honest = self._coin(request) < self.accuracy
        valid = correct if honest else not correct
        why = "matches" if correct else f"gold is {truth!r}"
        return Verdict(
            valid=valid, confidence=1.0, model=self.model,
            rationale=f"simulated: {why}" + ("" if honest else " (deliberate error)"),
            latency_ms=self.latency_ms,
        )
