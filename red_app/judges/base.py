"""The Judge protocol and its nouns."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol, Sequence, runtime_checkable


@dataclass(frozen=True)
class Example:
    """A known-good example of a label shown to the judge."""

    id: str
    text: str


@dataclass(frozen=True)
class Candidate:
    """One label offered in a *choose* question, with its description and nearest examples."""

    label: str
    description: str | None = None
    examples: tuple[Example, ...] = ()


@dataclass(frozen=True)
class JudgeRequest:
    """Is ``label`` right for ``text``? With the label's description and nearest examples.

    A *choose* question carries ``candidates`` (the classifier's top labels, best first):
    the judge picks one of them or none. ``label`` is then the first candidate, so every
    request still names one label (the audit row's and the cache's key).
    """

    sample_id: str
    text: str
    label: str
    description: str | None = None
    examples: tuple[Example, ...] = ()
    alternatives: tuple[str, ...] = ()
    candidates: tuple[Candidate, ...] = ()

    @property
    def is_choice(self) -> bool:
        return bool(self.candidates)

    def candidate_labels(self) -> tuple[str, ...]:
        return tuple(c.label for c in self.candidates)


@dataclass(frozen=True)
class Verdict:
    """A judge's answer. ``valid is None`` means the judge failed (see ``error``).

    For a choose question ``choice`` is the picked candidate's label (``valid`` True) or
    None with ``valid`` False ("none of them"); ``extra["choice_probs"]`` may hold the
    judge's probability of each candidate and of "none". ``pending`` marks a question
    handed to people (the human judge): no answer yet, the sample waits in Review.
    """

    valid: bool | None
    confidence: float
    rationale: str = ""
    model: str | None = None
    latency_ms: float = 0.0
    prompt_hash: str | None = None
    prompt: str | None = None
    cached: bool = False
    error: str | None = None
    extra: dict = field(default_factory=dict, compare=False)
    choice: str | None = None
    pending: bool = False


@runtime_checkable
class Judge(Protocol):
    """What the loop and the workflows may ask of any judge (:class:`BaseJudge` declares
    the optional parts with their defaults)."""

    kind: str
    model: str | None
    trusted: bool
    waits_for_people: bool
    wait: float | None
    poll: float
    cache: "VerdictCache | None"

    def check(self) -> None: ...

    def run_settings(self) -> dict: ...

    def server_stats(self) -> dict: ...

    def judge(self, request: JudgeRequest) -> Verdict: ...

    def judge_many(self, requests: Sequence[JudgeRequest]) -> list[Verdict]: ...


class BaseJudge:
    """Shared ``judge_many`` (bounded concurrency over ``judge``; order is preserved) and
    every optional capability a judge may have, declared here with its default, so the
    loop and the workflows ask a judge directly instead of probing it.
    """

    kind = "base"
    model: str | None = None
    concurrency = 1
    #: the loop takes its verdicts at their word, without measuring it on seeds first
    #: (a person, the perfect simulated judge)
    trusted = False
    #: its answers come from people: the loop waits for them (``wait`` and ``poll`` seconds)
    waits_for_people = False
    wait: float | None = None
    poll: float = 2.0
    #: where it looks up answers already given to the same question (a project), or None
    cache: "VerdictCache | None" = None

    def check(self) -> None:
        """Raise a RedError with the fix when the judge cannot answer (a server down); a judge
        that runs in this process has nothing to check."""

    def run_settings(self) -> dict:
        """What a run records about this judge besides kind and model, to resume it."""
        return {}

    def server_stats(self) -> dict:
        """Per server: how often and how fast it answered, and whether it was set aside."""
        return {}

    def judge(self, request: JudgeRequest) -> Verdict:  # pragma: no cover - abstract
        raise NotImplementedError

    def judge_many(self, requests: Sequence[JudgeRequest]) -> list[Verdict]:
        if self.concurrency <= 1 or len(requests) <= 1:
            return [self.judge(r) for r in requests]
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(self.judge, requests))

    def describe(self) -> str:
        return f"{self.kind} judge" + (f" ({self.model})" if self.model else "")


class VerdictCache(Protocol):
    """What a judge may ask of a project: an earlier answer to this exact question.

    Returns ``(valid, confidence, rationale, choice)`` of the newest answered verdict with
    this prompt hash and model, or None. The project implements it; judges never see SQL.
    """

    def cached_verdict(self, prompt_hash: str, model: str | None) -> tuple[bool, float, str, str | None] | None: ...


def cached_verdict(cache: VerdictCache | None, prompt_hash: str, model: str | None,
                   prompt: str | None = None) -> Verdict | None:
    """A verdict already recorded for this exact question, or None (``cache`` None: no caching)."""
    if cache is None:
        return None
    hit = cache.cached_verdict(prompt_hash, model)
    if hit is None:
        return None
    valid, conf, why, *rest = hit
    return Verdict(valid=valid, confidence=conf, rationale=why, model=model, prompt_hash=prompt_hash,
                   prompt=prompt, cached=True, choice=rest[0] if rest else None)
