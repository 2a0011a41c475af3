"""The Judge protocol and its nouns."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol, Sequence, runtime_checkable

from ..errors import RedError


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


def cached_verdict(cache, prompt_hash: str, model: str | None, prompt: str | None = None) -> Verdict | None:
    """A verdict already recorded in a project for this exact question, or None.

    ``cache`` is a Project (its judge_verdicts are the cache) or None for no caching.
    """
    if cache is None:
        return None
    rows = cache.cursor().execute(
        """SELECT valid, confidence, rationale FROM judge_verdicts
           WHERE prompt_hash = ? AND model = ? AND valid IS NOT NULL ORDER BY verdict_id DESC LIMIT 1""",
        [prompt_hash, model]).fetchall()
    if not rows:
        return None
    valid, conf, why = rows[0]
    return Verdict(valid=valid, confidence=conf, rationale=why, model=model, prompt_hash=prompt_hash,
                   prompt=prompt, cached=True)


JUDGE_KINDS = ("simulated", "ollama", "embedded")


def make_judge(kind: str, **options) -> Judge:
    """Build a judge by name; options are the judge's own keyword arguments."""
    if kind == "simulated":
        from .simulated import SimulatedJudge

        return SimulatedJudge(**options)
    if kind == "ollama":
        from .ollama_judge import OllamaJudge

        return OllamaJudge(**options)
    if kind == "embedded":
        from .embedded import EmbeddedJudge

        return EmbeddedJudge(**options)
    raise RedError(f"unknown judge {kind!r}; use one of {', '.join(JUDGE_KINDS)}")


def judge_for_project(project, kind: str, *, accuracy: float = 1.0, seed: int = 0, host: str | None = None,
                      model: str | None = None, timeout: float = 60.0, concurrency: int = 4,
                      threads: int | None = None) -> Judge:
    """A judge wired to a project: gold for the simulated one, settings and cache for LLMs."""
    if kind == "simulated":
        gold = dict(project.cursor().execute(
            "SELECT id, gold_label FROM samples WHERE gold_label IS NOT NULL AND role = 'pool'").fetchall())
        if not gold:
            raise RedError("the simulated judge needs hidden gold labels: import the pool with --mode hidden-gold, "
                           "or use an LLM judge (ollama / embedded)")
        return make_judge("simulated", gold=gold, accuracy=accuracy, seed=seed)
    if kind == "ollama":
        from .ollama_judge import ollama_settings

        host, model = ollama_settings(project, host, model)
        return make_judge("ollama", host=host, model=model, timeout=timeout, concurrency=concurrency, cache=project)
    if kind == "embedded":
        return make_judge("embedded", model=model, threads=threads, cache=project)
    raise RedError(f"unknown judge {kind!r}; use one of {', '.join(JUDGE_KINDS)}")
