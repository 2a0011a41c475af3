"""A project as the doors see it: open or create the file, import texts, embed them and get
everything ready for a run, export the labels. ``red init/import/embed/export`` and the
Project and Export pages call these, so what happens after embedding is written once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..errors import RedError
from ..project.dataio import (  # noqa: F401  (re-exported: the import and export vocabulary of the doors)
    DEFAULT_MIN_EXAMPLES,
    DELIMITERS,
    EXPORT_ORIGINS,
    MODES,
    detect_delimiter,
    export_labels,
    import_file,
    preview_file,
    save_upload,
)
from ..project.embed import EmbedReport, embed_project, missing_texts, project_model  # noqa: F401
from ..project.filters import OPERATORS, Condition, build_filter  # noqa: F401
from ..project.store import Project
from .label_map import map_after_embedding
from .runner import fit_after_embedding


def open_project(path: str | Path, read_only: bool = False, wait: float | None = None) -> Project:
    """An existing project file (a clear error when there is none); ``wait``: seconds to wait
    while another process holds it ($RED_LOCK_WAIT, default 30)."""
    return Project(Path(path), read_only=read_only, wait=wait)


def create_project(path: str | Path) -> Path:
    """A new, empty project file (its folder made if needed); refuses to overwrite one."""
    path = Path(path)
    if path.exists():
        raise RedError(f"{path} already exists; open it instead or pick another name")
    path.parent.mkdir(parents=True, exist_ok=True)
    Project(path, create=True).close()
    return path


@dataclass
class Prepared:
    """What embedding and getting ready for a run did."""

    report: EmbedReport
    map_seconds: float | None = None   # the label map (None: nothing to map, or another engine's key)
    fit_seconds: float | None = None   # the seeds' model a run starts from (0: already cached)
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [self.report.summary()]
        if self.map_seconds:
            out.append(f"label map: computed in {self.map_seconds:.1f} s (the Subsets page shows it at once)")
        if self.fit_seconds:
            out.append(f"seed model: fitted in {self.fit_seconds:.1f} s (a run's first iteration reuses it)")
        return out


def embed_and_prepare(project: Project, model: str | None = None, batch_size: int = 64, engine: str | None = None,
                      workers: int | None = None, progress: Callable[[int, int], None] | None = None,
                      stage: Callable[[str], None] | None = None) -> Prepared:
    """Embed every text not embedded yet, then compute the label map and fit the seeds'
    model a run starts from (both kept in the project), so the Subsets page and a run's
    first iteration find them ready. ``stage`` is told each step after embedding."""
    tell = stage or (lambda what: None)
    rep = embed_project(project, model=model, batch_size=batch_size, progress=progress, engine=engine, workers=workers)
    out = Prepared(rep, notes=list(rep.notes))
    if rep.model != project_model(project):
        return out  # another engine's vectors: not the ones the app and runs use
    tell("grouping the labels for the Subsets map")
    out.map_seconds = map_after_embedding(project)
    tell("fitting the seeds' model for the first run")
    out.fit_seconds = fit_after_embedding(project)
    return out


def embedding_status(project: Project) -> tuple[str, int]:
    """(the project's embedding key, texts not embedded with it yet)."""
    model = project_model(project)
    return model, missing_texts(project, model)


# What a file's columns are usually called, most telling first (lower case).
TEXT_NAMES = ("text", "message", "utterance", "sentence", "body", "description", "comment")
LABEL_NAMES = ("label", "category", "intent", "class", "gold", "topic", "tag")


def guess_columns(columns: list[str]) -> dict[str, str | None]:
    """The text, label and id columns an import form offers first: by their usual names, and
    for the id any ``…_id`` / ``… id`` column (``ticket_id``) where there is no plain ``id``."""
    low = {c.lower().strip(): c for c in columns}

    def first(names) -> str | None:
        return next((low[n] for n in names if n in low), None)

    ids = [c for c in columns if c.lower().strip() == "id"] + [
        c for c in columns if c.lower().strip().endswith(("_id", " id", "-id"))]
    return {"text": first(TEXT_NAMES), "label": first(LABEL_NAMES), "id": ids[0] if ids else None}
