"""A project's samples as the loop's arrays: seeds and pool (never the holdout), current
labels and exclusions derived from the event log, hidden gold where there is some."""

from __future__ import annotations

import numpy as np

from ..errors import ProjectError, RedError
from ..method.loop import LoopData, LoopState
from ..project.embed import require_embeddings
from ..project.store import Project


def load_inputs(project: Project, model: str | None = None) -> tuple[LoopData, LoopState]:
    """Arrays for the loop: seeds + pool (never the holdout), current labels, exclusions."""
    model = require_embeddings(project, model)
    labels = project.labels()
    if len(labels) < 2:
        raise RedError("the project needs at least 2 labels with examples: import labeled seeds first")
    li = {name: k for k, name in enumerate(labels)}
    df = project.samples(columns="id, text, role, gold_label")
    ids_all, X_all = project.embedding_matrix(model)
    if list(df["id"]) != ids_all:
        raise ProjectError("embeddings and samples are out of step; run `red embed` again")
    train = (df["role"] != "holdout").to_numpy()
    hold = ~train
    ids = df["id"][train].tolist()
    pos = {s: k for k, s in enumerate(ids)}
    y = np.full(len(ids), -1, dtype=np.int64)
    cur = project.current_labels()
    for s, lab in zip(cur["sample_id"], cur["label"]):
        if s in pos:
            y[pos[s]] = li[lab]
    missing = sorted(set(labels) - {labels[k] for k in np.unique(y[y >= 0])})
    if missing:
        raise RedError(
            f"{len(missing)} label(s) have no current example (e.g. {missing[0]!r}); "
            "import seeds for them or remove their rejections"
        )
    excluded = {(pos[s], li[lab]) for s, lab in project.excluded_pairs() if s in pos and lab in li}
    gold = np.array([li.get(g, -1) if isinstance(g, str) else -1 for g in df["gold_label"][train]], dtype=np.int64)
    hold_gold = df["gold_label"][hold]
    keep = np.array([isinstance(g, str) and g in li for g in hold_gold], dtype=bool)
    X_eval = X_all[hold][keep] if keep.any() else None
    y_eval = np.array([li[g] for g in hold_gold[keep]], dtype=np.int64) if keep.any() else None
    data = LoopData(
        ids=ids, texts=df["text"][train].tolist(), X=X_all[train], label_names=labels,
        descriptions={k: v["description"] for k, v in project.descriptions().items()},
        X_eval=X_eval, y_eval=y_eval, gold=gold if (gold >= 0).any() else None,
    )
    held, decided = project.held_and_decided()
    return data, LoopState(y=y, excluded=excluded, held={pos[s] for s in held if s in pos},
                           decided={pos[s] for s in decided if s in pos},
                           none={pos[s] for s in project.fits_none() if s in pos})
