"""The SQL behind "is the label map out of date?": what changed in the labels and their
examples since the stored map was computed."""

from __future__ import annotations

from .schema import CURRENT_LABELS_SQL, LIVE_EVENTS_SQL
from .store import Project


def label_map_changes(project: Project) -> dict | None:
    """What changed since the stored label map was computed (None: no map yet).

    Returns computed_at, new_labels and removed_labels (sorted lists), examples_added
    ({origin: count} of label-giving events in force made since, seeds and imports
    included), undone (decisions revoked since) and examples_now (texts with a label in force)."""
    cur = project.cursor()
    at = cur.execute("SELECT max(created_at) FROM label_map").fetchall()[0][0]
    if at is None:
        return None
    new = [r[0] for r in cur.execute(
        "SELECT name FROM labels WHERE name NOT IN (SELECT label FROM label_map) ORDER BY name").fetchall()]
    gone = [r[0] for r in cur.execute(
        "SELECT label FROM label_map WHERE label NOT IN (SELECT name FROM labels) ORDER BY label").fetchall()]
    added = dict(cur.execute(
        f"""SELECT origin, count(*) FROM ({LIVE_EVENTS_SQL})
            WHERE verdict = 'valid' AND created_at > ? GROUP BY origin ORDER BY origin""", [at]).fetchall())
    undone = int(cur.execute("SELECT count(*) FROM revocations WHERE created_at > ?", [at]).fetchall()[0][0])
    examples = int(cur.execute(f"SELECT count(*) FROM ({CURRENT_LABELS_SQL})").fetchall()[0][0])
    return {"computed_at": at, "new_labels": new, "removed_labels": gone,
            "examples_added": {k: int(v) for k, v in added.items()}, "undone": undone, "examples_now": examples}
