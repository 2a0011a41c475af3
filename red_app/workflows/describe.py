"""Label descriptions written by a model from each label's examples: `red describe`.

Written once per label (unless forced), stored versioned in the project with the model
that wrote them; people edit them on the Subsets page, and the judges always use the
latest version.
"""

from __future__ import annotations

import json
import re
from typing import Callable, Sequence

from ..errors import RedError
from .judging import JudgeSettings
from ..project.store import Project

PROMPT = (
    "Here are example texts that all carry the label {label}:\n{examples}\n\n"
    "In one or two plain sentences, describe what a text must be about to carry this label, "
    "so that someone could tell it apart from similar labels. Do not list the examples."
)


def _prompt(label: str, examples: Sequence[str]) -> list[dict]:
    ex = "\n".join(f"- {json.dumps(t, ensure_ascii=False)}" for t in examples)
    return [{"role": "user", "content": PROMPT.format(label=json.dumps(label), examples=ex)}]


def _clean(text: str) -> str:
    text = re.sub(r"\s+", " ", (text or "")).strip().strip('"')
    return text[:1000]


def writer_for(kind: str, *, host: str | None = None, model: str | None = None, threads: int | None = None,
               project: Project | None = None, urls=None) -> tuple[Callable[[list[dict]], str], str]:
    """(write(messages) -> text, model name) for an Ollama, embedded or OpenAI-compatible model."""
    if kind not in ("ollama", "embedded", "openai"):
        raise RedError(f"descriptions are written by an LLM: use ollama, embedded or openai, not {kind!r}")
    # openai: one or several servers (--judge-url); the model: --model or the first listed
    judge = JudgeSettings(kind=kind, host=host, model=model, urls=urls, threads=threads, timeout=120).build(project)
    judge.check()
    return (lambda msgs: judge.complete(msgs, max_tokens=120)), judge.model


def draft_descriptions(project: Project, write: Callable[[list[dict]], str], *,
                       labels: Sequence[str] | None = None, force: bool = False, n_examples: int = 8,
                       progress: Callable[[int, int], None] | None = None) -> dict[str, str]:
    """Descriptions a model writes from each label's examples, *not saved*: for a preview
    that a person edits before :func:`save_descriptions`. Labels that have a description
    are skipped unless ``force`` (or named in ``labels``)."""
    have = project.descriptions()
    todo = list(labels) if labels else project.labels()
    project.check_labels(todo)
    if not force and not labels:
        todo = [l for l in todo if l not in have]
    cur = project.current_labels()
    drafts: dict[str, str] = {}
    for k, label in enumerate(todo):
        ids = cur.loc[cur["label"] == label, "sample_id"].tolist()[:n_examples]
        texts = list(project.texts(ids).values())
        text = _clean(write(_prompt(label, texts)))
        if text:
            drafts[label] = text
        if progress:
            progress(k + 1, len(todo))
    return drafts


def save_descriptions(project: Project, descriptions: dict[str, str], *, model: str | None,
                      author: str = "llm") -> dict[str, int]:
    """Store each (edited) description as a new version; returns label -> version."""
    project.check_labels(list(descriptions))
    out = {}
    for label, text in descriptions.items():
        text = _clean(text)
        if text:
            out[label] = project.set_description(label, text, author=author or "llm", model=model)
    return out


def describe_labels(project: Project, write: Callable[[list[dict]], str], model: str, *,
                    labels: Sequence[str] | None = None, force: bool = False, n_examples: int = 8,
                    progress: Callable[[int, int], None] | None = None) -> dict[str, str]:
    """Write a description for each label that has none (or every one, with ``force``)."""
    if labels and not force:
        have = project.descriptions()
        labels = [l for l in labels if l not in have]
        if not labels:
            return {}
    drafts = draft_descriptions(project, write, labels=labels, force=force, n_examples=n_examples,
                                progress=progress)
    save_descriptions(project, drafts, model=model)
    return drafts
