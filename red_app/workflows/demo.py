"""The bundled demo project: 30 support intents, 20 seeds each, 600 pool texts with hidden gold."""

from __future__ import annotations

from pathlib import Path

from ..project.dataio import import_file
from ..project.embed import embed_project
from ..project.store import Project

ASSETS = Path(__file__).resolve().parents[2] / "assets"


def build_demo(path: str | Path, progress=None, embed: bool = True) -> Path:
    """Create (or finish) the demo project at ``path``; safe to call again."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with Project(path, create=True) as p:
        have = p.sources()
        if "demo_seeds.csv" not in have:
            import_file(p, ASSETS / "demo_seeds.csv", id="id", actor="demo")
        if "demo_pool.csv" not in have:
            import_file(p, ASSETS / "demo_pool.csv", id="id", label="gold_intent", mode="hidden-gold")
        if embed:
            embed_project(p, progress=progress)
    return path
