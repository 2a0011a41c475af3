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
class JudgeRequest:
    """Is ``label`` right for ``text``? With the label's description and nearest examples."""

    sample_id: str
    text: str
    label: str
    description: str | None = None
    examples: tuple[Example, ...] = ()
    alternatives: tuple[str, ...] = ()


@dataclass(frozen=True)
class Verdict:
    """A judge's answer. ``valid is None`` means the judge failed (see ``error``)."""

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


@runtime_checkable
class Judge(Protocol):
    kind: str
    model: str | None

    def judge(self, request: JudgeRequest) -> Verdict: ...

    def judge_many(self, requests: Sequence[JudgeRequest]) -> list[Verdict]: ...


class BaseJudge:
    """Shared ``judge_many``: bounded concurrency over ``judge``; order is preserved."""

    kind = "base"
    model: str | None = None
    concurrency = 1

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

    Returns ``(valid, confidence, rationale)`` of the newest answered verdict with this
    prompt hash and model, or None. The project implements it; judges never see SQL.
    """

    def cached_verdict(self, prompt_hash: str, model: str | None) -> tuple[bool, float, str] | None: ...


def cached_verdict(cache: VerdictCache | None, prompt_hash: str, model: str | None,
                   prompt: str | None = None) -> Verdict | None:
    """A verdict already recorded for this exact question, or None (``cache`` None: no caching)."""
    if cache is None:
        return None
    hit = cache.cached_verdict(prompt_hash, model)
    if hit is None:
        return None
    valid, conf, why = hit
    return Verdict(valid=valid, confidence=conf, rationale=why, model=model, prompt_hash=prompt_hash,
                   prompt=prompt, cached=True)
