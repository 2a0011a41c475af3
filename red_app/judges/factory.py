"""A judge by name, wired to a project: gold for the simulated one, settings and the
verdict cache for the LLM judges. Concrete judges are imported only when chosen, so a
missing optional runtime (llama.cpp) costs nothing until it is asked for."""

from __future__ import annotations

from ..errors import RedError
from .base import Judge

JUDGE_KINDS = ("simulated", "ollama", "embedded", "openai", "human")


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
    if kind == "openai":
        from .openai_judge import OpenAIJudge

        return OpenAIJudge(**options)
    if kind == "human":
        from .human import HumanJudge

        return HumanJudge(**options)
    raise RedError(f"unknown judge {kind!r}; use one of {', '.join(JUDGE_KINDS)}")


def judge_for_project(project, kind: str, *, accuracy: float = 1.0, seed: int = 0, host: str | None = None,
                      model: str | None = None, timeout: float = 60.0, concurrency: int | None = None,
                      threads: int | None = None, p_valid_right: float | None = None,
                      p_valid_wrong: float | None = None, urls=None, wait: float | None = 3600.0,
                      poll: float = 2.0) -> Judge:
    """A judge wired to a project: gold for the simulated one, settings and cache for LLMs."""
    if kind == "simulated":
        # the pool's hidden gold, and the seeds' own labels (the judge is measured on seeds first)
        gold = {**project.seed_labels(), **project.hidden_gold(role="pool")}
        if not project.hidden_gold(role="pool"):
            raise RedError("the simulated judge needs hidden gold labels: import the pool with --mode hidden-gold, "
                           "or use an LLM judge (ollama / embedded)")
        return make_judge("simulated", gold=gold, accuracy=accuracy, seed=seed, p_valid_right=p_valid_right,
                          p_valid_wrong=p_valid_wrong)
    if kind == "ollama":
        from .ollama_judge import ollama_settings

        host, model = ollama_settings(project, host, model)
        return make_judge("ollama", host=host, model=model, timeout=timeout, concurrency=concurrency or 4,
                          cache=project)
    if kind == "embedded":
        return make_judge("embedded", model=model, threads=threads, cache=project)
    if kind == "openai":
        # concurrency None: two requests in flight per server
        return make_judge("openai", urls=urls, model=model, timeout=timeout, concurrency=concurrency, cache=project)
    if kind == "human":
        return make_judge("human", wait=wait, poll=poll)
    raise RedError(f"unknown judge {kind!r}; use one of {', '.join(JUDGE_KINDS)}")
