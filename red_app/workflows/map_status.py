"""Is the stored label map (the subsets and their 2-D picture) still the project's? The map
is computed from the labels' examples; labels or examples added since make it out of date."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ..project.map_freshness import label_map_changes
from ..project.store import Project


STALE_SHARE = 0.1  # other changes to the examples that make the map out of date, as a share of them


@dataclass(frozen=True)
class MapFreshness:
    computed_at: datetime
    new_labels: tuple[str, ...] = ()
    removed_labels: tuple[str, ...] = ()
    examples_added: dict = field(default_factory=dict)
    undone: int = 0
    examples_now: int = 0

    @property
    def stale(self) -> bool:
        """Whether the map no longer shows the labels as they are: labels added or removed,
        seeds or imported examples added, or other changes to the examples (a run's accepted
        labels, people's decisions, undos) amounting to :data:`STALE_SHARE` of them. A few
        decisions move a centroid too little to redraw 1,000 labels after every review."""
        if self.new_labels or self.removed_labels:
            return True
        if self.examples_added.get("seed", 0) or self.examples_added.get("import", 0):
            return True
        changed = sum(self.examples_added.values()) + self.undone
        before = max(self.examples_now - sum(self.examples_added.values()), 1)
        return changed >= STALE_SHARE * before

    def summary(self) -> str:
        """One sentence: what changed since the map was computed (or that nothing did)."""
        when = f"{self.computed_at:%Y-%m-%d %H:%M} UTC"
        if not (self.new_labels or self.removed_labels or sum(self.examples_added.values()) or self.undone):
            return f"The label map is up to date (computed {when})."
        parts = []
        if self.new_labels:
            shown = ", ".join(self.new_labels[:3]) + (" …" if len(self.new_labels) > 3 else "")
            parts.append(f"{len(self.new_labels)} new label{'s' if len(self.new_labels) > 1 else ''} ({shown})")
        if self.removed_labels:
            parts.append(f"{len(self.removed_labels)} label(s) removed")
        n = sum(self.examples_added.values())
        if n:
            by = ", ".join(f"{v:,} {k}" for k, v in sorted(self.examples_added.items()))
            parts.append(f"{n:,} example{'s' if n > 1 else ''} added ({by})")
        if self.undone:
            parts.append(f"{self.undone:,} decision(s) undone")
        if not self.stale:
            return f"The label map is nearly up to date: {'; '.join(parts)} since it was computed ({when})."
        return (f"The label map is out of date: {'; '.join(parts)} since it was computed ({when}). "
                "Recompute it to see the labels as they are now.")


def map_freshness(project: Project) -> MapFreshness | None:
    """What changed since the label map was computed; None when there is no map yet."""
    ch = label_map_changes(project)
    if ch is None:
        return None
    return MapFreshness(ch["computed_at"], tuple(ch["new_labels"]), tuple(ch["removed_labels"]),
                        ch["examples_added"], ch["undone"], ch["examples_now"])
