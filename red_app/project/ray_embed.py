"""``red embed --engine ray``: the missing embeddings computed with Ray Data.

The texts travel as a Ray dataset of (text_hash, text) blocks; ``map_batches`` runs them
through a pool of actors that each hold the model once (the project's own engine, onnx
or torch, one core each, the same normalisation as the local path); the driver writes
the vectors into the project's cache in bulk as they stream back, so an interrupted run
keeps every written chunk and the next run computes only what is still missing.

A local Ray instance starts when ``RAY_ADDRESS`` is unset; with ``RAY_ADDRESS`` set (e.g.
``ray://head:10001`` or ``auto``) the work goes to that cluster, whose nodes need
``red-app[ray]`` installed (the model comes with it, nothing is downloaded).
"""

from __future__ import annotations

import os
from typing import Callable

import numpy as np

from ..errors import RedError
from .encoders import split_key

RAY_INSTALL = "pip install 'red-app[ray]'"


def ray_missing() -> str | None:
    """Why the ray engine cannot run here (a sentence), or None when it can."""
    try:
        import ray  # noqa: F401
        import ray.data  # noqa: F401
    except ImportError as exc:
        return f"{exc.name or exc} is not installed ({RAY_INSTALL})"
    return None


class _Embedder:
    """One Ray actor: loads the model once, then embeds batch after batch."""

    def __init__(self, base: str, engine: str, batch_size: int):
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        from .encoders import OnnxEncoder, set_threads

        set_threads(1)
        self.base, self.engine, self.batch_size = base, engine, batch_size
        self.onnx = OnnxEncoder(base, sessions=1) if engine == "onnx" else None

    def __call__(self, batch: dict) -> dict:
        from .encoders import encode_torch

        texts = [str(t) for t in batch["text"]]
        if self.onnx is not None:
            vecs = self.onnx.encode(texts, self.batch_size)
        else:
            vecs = encode_torch(texts, self.base, self.batch_size)
        return {"text_hash": batch["text_hash"], "vec": np.asarray(vecs, dtype=np.float32)}


def _connect(workers: int) -> None:
    import ray

    if ray.is_initialized():
        return
    address = os.environ.get("RAY_ADDRESS")
    try:
        if address:
            ray.init(log_to_driver=False)  # the cluster named by RAY_ADDRESS
        else:
            ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False,
                     configure_logging=False)
    except Exception as exc:  # ray raises ConnectionError, RuntimeError, ValueError here
        where = f"the Ray cluster at RAY_ADDRESS={address}" if address else "a local Ray instance"
        raise RedError(
            f"cannot start {where} ({type(exc).__name__}: {exc}). Check the address, or unset "
            "RAY_ADDRESS for a local instance, or embed on this machine: red embed PROJECT"
        ) from exc


def embed_on_ray(
    project,
    key: str,
    todo: list[tuple[str, str]],
    batch_size: int = 64,
    workers: int | None = None,
    chunk: int = 1024,
    progress: Callable[[int, int], None] | None = None,
    notes: list[str] | None = None,
) -> None:
    """Embed ``todo`` (hash, text) pairs on an actor pool and write them under ``key``."""
    why = ray_missing()
    if why:
        raise RedError(f"the ray engine cannot run: {why}. Or embed on this machine: red embed PROJECT")
    import pandas as pd
    import ray

    base, engine = split_key(key)
    if engine == "onnx":
        from .encoders import onnx_path

        onnx_path(base)  # build the exported model once here, not once per actor
    workers = int(workers or os.environ.get("RED_RAY_WORKERS") or os.cpu_count() or 1)
    _connect(workers)
    ray.data.DataContext.get_current().enable_progress_bars = False
    df = pd.DataFrame(todo, columns=["text_hash", "text"])
    # blocks of a few hundred texts, so every actor has work from the start
    size = max(64, min(chunk, -(-len(df) // (workers * 4))))
    blocks = [df.iloc[i : i + size] for i in range(0, len(df), size)]
    ds = ray.data.from_pandas(blocks).map_batches(
        _Embedder, fn_constructor_kwargs={"base": base, "engine": engine, "batch_size": batch_size},
        batch_size=size, batch_format="numpy", num_cpus=1,
        compute=ray.data.ActorPoolStrategy(size=workers),
    )
    done = 0
    for out in ds.iter_batches(batch_size=chunk, batch_format="numpy"):
        project.put_embeddings(key, [str(h) for h in out["text_hash"]], np.stack(out["vec"]))
        done += len(out["text_hash"])
        if progress:
            progress(done, len(todo))
    if notes is not None:
        where = os.environ.get("RAY_ADDRESS") or "a local Ray instance"
        notes.append(f"embedded on {where} with {workers} actor(s)")
