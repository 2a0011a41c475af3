"""A judge by name. Concrete judges are imported only when chosen, so a missing optional
runtime (llama.cpp) costs nothing until it is asked for. Wiring a judge to a project (gold,
settings, verdict cache) is :class:`red_app.workflows.judging.JudgeSettings`'s job."""

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
