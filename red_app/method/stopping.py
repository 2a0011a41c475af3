"""Stopping rules: each a small object with one question — "stop after this iteration?".

In the spirit of small-text's stopping criteria: a rule looks at the finished
iteration's record (and the loop's state) and answers ``None`` (go on) or the reason to
stop, which becomes the run's ``termination_condition_``. :func:`default_rules` builds
the loop's rules from a :class:`~red_app.method.config.LoopConfig`, in the order their
reasons take precedence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol, Sequence

import numpy as np

OUTCOMES = ("finished", "paused", "stopped", "failed")


@dataclass(frozen=True)
class Termination:
    """Why a run ended, as a value (scikit-learn's ``termination_condition_``, typed).

    ``kind``: *finished* (the budget, the pool or a stopping rule ended it), *paused*
    (waiting for people's answers), *stopped* (a person stopped it), *failed* (the judge
    failed; resumable once it is fixed). ``reason`` says it in words.
    """

    kind: str
    reason: str

    def __post_init__(self) -> None:
        if self.kind not in OUTCOMES:
            raise ValueError(f"termination kind must be one of {OUTCOMES}, got {self.kind!r}")

    def __str__(self) -> str:
        return self.reason

    @property
    def resumable(self) -> bool:
        """Paused or failed: the run is interrupted, and a resume goes on where it ended."""
        return self.kind in ("paused", "failed")

    @property
    def status(self) -> str:
        """The run's status as stored: finished, stopped or interrupted."""
        return "interrupted" if self.resumable else self.kind

    @classmethod
    def finished(cls, reason: str) -> "Termination":
        return cls("finished", reason)

    @classmethod
    def paused(cls, reason: str) -> "Termination":
        return cls("paused", reason)

    @classmethod
    def stopped(cls, reason: str = "stopped by user") -> "Termination":
        return cls("stopped", reason)

    @classmethod
    def failed(cls, reason: str) -> "Termination":
        return cls("failed", reason)


class StoppingRule(Protocol):
    def stop(self, record, state) -> str | None: ...


class Saturation:
    """Stop when the uncertain count has not fallen for ``patience`` iterations."""

    def __init__(self, patience: int):
        self.patience = patience
        self.best = math.inf
        self.stale = 0

    def stop(self, record, state) -> str | None:
        if record.uncertain_count < self.best:
            self.best, self.stale = record.uncertain_count, 0
        else:
            self.stale += 1
        if self.stale >= self.patience:
            return f"saturated: uncertain count has not fallen for {self.stale} iterations"
        return None


class NoNewLabels:
    """Stop when the judge answered every proposal and validated none."""

    def stop(self, record, state) -> str | None:
        if record.accepted == 0 and not record.errors and record.selected:
            return "saturated: no new validated samples"
        return None


class MaxIterations:
    def __init__(self, max_iterations: int):
        self.max_iterations = max_iterations

    def stop(self, record, state) -> str | None:
        return "max iterations reached" if record.iteration >= self.max_iterations else None


class BudgetSpent:
    def __init__(self, budget: int):
        self.budget = budget

    def stop(self, record, state) -> str | None:
        return "budget spent" if state.calls >= self.budget else None


class PoolExhausted:
    def stop(self, record, state) -> str | None:
        return "pool exhausted" if int((np.asarray(state.y) < 0).sum()) == 0 else None


class FirstOf:
    """Ask every rule (so each keeps its own count), answer the first reason given."""

    def __init__(self, rules: Sequence[StoppingRule]):
        self.rules = list(rules)

    def stop(self, record, state) -> str | None:
        reasons = [r.stop(record, state) for r in self.rules]
        return next((r for r in reasons if r), None)


def default_rules(config, people: bool = False) -> FirstOf:
    """The loop's rules: saturation (with ``patience``), then the hard limits. With people as
    the judge (``people``) the loop never calls itself saturated: they decide when to stop,
    and the budget or the pool ends the run."""
    rules: list[StoppingRule] = []
    if config.patience is not None and not people:
        rules += [Saturation(config.patience), NoNewLabels()]
    rules += [MaxIterations(config.max_iterations), BudgetSpent(config.budget), PoolExhausted()]
    return FirstOf(rules)
