"""Runs of the R.E.D. loop on a project, persisted in DuckDB as they go.

Every judged chunk is committed at once (audit rows + annotation events), and every
finished iteration writes its figures and the pool's predictions. The loop's state is
*derived* from the event log when a run starts or resumes, so a run killed
mid-iteration resumes from the last finished iteration with every verdict kept.
"""

from __future__ import annotations

import json
from dataclasses import fields
from typing import Callable, Iterator

import numpy as np
import pyarrow as pa

from .embed import require_embeddings
from .errors import ProjectError, RedError
from .judges.base import Judge
from .loop import IterationRecord, Judged, LoopConfig, LoopData, LoopState, RedLoop
from .store import Event, Project, utcnow
from .subsets import LabelPartition, label_centroids, partition_labels


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
    return data, LoopState(y=y, excluded=excluded)


def compute_partition(project: Project, data: LoopData, state: LoopState, n: int, method: str,
                      umap_dim: int = 5, seed: int = 0, save: bool = True) -> LabelPartition:
    lab = state.y >= 0
    cent = label_centroids(data.X[lab], state.y[lab], len(data.label_names))
    part = partition_labels(cent, n=n, method=method, umap_dim=umap_dim, random_state=seed)
    if save and not project.read_only:
        project.save_label_map(data.label_names, part.subset_of, part.coords2d, method, n)
    return part


def stored_partition(project: Project, labels: list[str], n: int, method: str) -> LabelPartition | None:
    m = project.label_map()
    if not len(m) or set(m["label"]) != set(labels) or int(m["n"].iloc[0]) != n or m["method"].iloc[0] != method:
        return None
    m = m.set_index("label").loc[labels]
    subset_of = m["subset"].to_numpy()
    subsets = [np.flatnonzero(subset_of == k).tolist() for k in range(int(subset_of.max()) + 1)]
    return LabelPartition(subsets=[s for s in subsets if s], coords2d=m[["x", "y"]].to_numpy(np.float32),
                          method=method, n=n)


class ProjectSink:
    """Writes verdicts and iterations into the project as the loop produces them."""

    def __init__(self, project: Project, run_id: int, data: LoopData, judge: Judge):
        self.project = project
        self.run_id = run_id
        self.data = data
        self.judge = judge

    def on_verdicts(self, iteration: int, judged: list[Judged]) -> None:
        if not judged:
            return
        now = utcnow()
        v = [j.verdict for j in judged]
        tbl = pa.table({
            "run_id": pa.array([self.run_id] * len(judged), pa.int32()),
            "iteration": pa.array([iteration] * len(judged), pa.int32()),
            "sample_id": pa.array([j.request.sample_id for j in judged], pa.string()),
            "label": pa.array([j.request.label for j in judged], pa.string()),
            "valid": pa.array([x.valid for x in v], pa.bool_()),
            "confidence": pa.array([float(x.confidence) for x in v], pa.float64()),
            "rationale": pa.array([x.rationale for x in v], pa.string()),
            "judge_kind": pa.array([self.judge.kind] * len(judged), pa.string()),
            "model": pa.array([x.model or self.judge.model for x in v], pa.string()),
            "prompt_hash": pa.array([x.prompt_hash for x in v], pa.string()),
            "prompt": pa.array([x.prompt for x in v], pa.string()),
            "example_ids": pa.array([[e.id for e in j.request.examples] for j in judged], pa.list_(pa.string())),
            "uncertainty": pa.array([j.uncertainty for j in judged], pa.float64()),
            "alternatives": pa.array([list(j.alternatives) for j in judged], pa.list_(pa.string())),
            "latency_ms": pa.array([float(x.latency_ms) for x in v], pa.float64()),
            "cached": pa.array([bool(x.cached) for x in v], pa.bool_()),
            "error": pa.array([x.error for x in v], pa.string()),
            "created_at": pa.array([now] * len(judged), pa.timestamp("us")),
        })
        cols = ", ".join(tbl.column_names)
        with self.project.transaction() as cur:
            cur.register("_v", tbl)
            vids = [r[0] for r in cur.execute(
                f"INSERT INTO judge_verdicts ({cols}) SELECT {cols} FROM _v RETURNING verdict_id").fetchall()]
            cur.unregister("_v")
            events = [
                Event(sample_id=j.request.sample_id, label=j.request.label, origin="judge",
                      verdict="valid" if j.verdict.valid else "invalid", actor=self.judge.kind,
                      iteration=iteration, run_id=self.run_id, model=j.verdict.model or self.judge.model,
                      confidence=float(j.verdict.confidence), verdict_id=vid)
                for j, vid in zip(judged, sorted(vids)) if j.verdict.valid is not None
            ]
            self.project.append_events(events, cur=cur)

    def on_iteration(self, record: IterationRecord, predictions: dict) -> None:
        now = utcnow()
        idx = predictions["index"]
        names = np.asarray(self.data.label_names, dtype=object)
        alts = predictions.get("alternatives")
        pred_tbl = pa.table({
            "run_id": pa.array([self.run_id] * len(idx), pa.int32()),
            "iteration": pa.array([record.iteration] * len(idx), pa.int32()),
            "sample_id": pa.array([self.data.ids[i] for i in idx], pa.string()),
            "label": pa.array(names[predictions["label"]].tolist(), pa.string()),
            "score": pa.array(np.asarray(predictions["score"], dtype=np.float64)),
            "uncertainty": pa.array(np.asarray(predictions["uncertainty"], dtype=np.float64)),
            "alternatives": pa.array([list(a) for a in alts] if alts is not None else [None] * len(idx),
                                     pa.list_(pa.string())),
        })
        with self.project.transaction() as cur:
            cur.execute(
                "INSERT INTO iterations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [self.run_id, record.iteration, now, now, record.seconds, record.pool_size,
                 record.labeled_size, record.uncertain_count, record.unassigned, record.selected,
                 record.calls, record.accepted, record.rejected, record.errors, record.eval_accuracy,
                 record.pool_accuracy, json.dumps(record.subset_stats)],
            )
            cur.execute("DELETE FROM predictions WHERE run_id = ?", [self.run_id])
            cur.register("_p", pred_tbl)
            cur.execute("INSERT INTO predictions SELECT * FROM _p")
            cur.unregister("_p")


def config_from_dict(d: dict) -> LoopConfig:
    names = {f.name for f in fields(LoopConfig)}
    return LoopConfig(**{k: v for k, v in d.items() if k in names})


def resumable_run(project: Project) -> int | None:
    rows = project.cursor().execute(
        "SELECT run_id FROM runs WHERE status IN ('running', 'interrupted') ORDER BY run_id DESC LIMIT 1"
    ).fetchall()
    return int(rows[0][0]) if rows else None


def run_project(
    project: Project,
    judge: Judge,
    config: LoopConfig | None = None,
    resume: int | None = None,
    should_stop: Callable[[], bool] | None = None,
    judge_settings: dict | None = None,
) -> Iterator[IterationRecord]:
    """Start (or resume) a run; yields each finished iteration's record.

    Resuming re-reads the event log, so every verdict committed before a kill counts,
    and spends only the budget the run has left.
    """
    data, state = load_inputs(project)
    if resume is not None:
        config = config_from_dict(project.run_config(resume)["loop"])
    config = config or LoopConfig()
    part = stored_partition(project, data.label_names, config.n, config.partition_method)
    if part is None:
        part = compute_partition(project, data, state, config.n, config.partition_method,
                                 config.umap_dim, config.seed)
    if resume is not None:
        run_id = resume
        state.calls = int(project.cursor().execute(
            "SELECT count(*) FROM judge_verdicts WHERE run_id = ?", [run_id]).fetchall()[0][0])
        state.iteration = project.last_iteration(run_id)
        with project.transaction() as cur:
            cur.execute("UPDATE runs SET status = 'running' WHERE run_id = ?", [run_id])
    else:
        run_id = project.start_run({"loop": config.to_dict(), "judge": {"kind": judge.kind, "model": judge.model,
                                                                        **(judge_settings or {})}})
    if (state.y < 0).sum() == 0:
        project.finish_run(run_id, "finished", "pool exhausted")
        return
    loop = RedLoop(config, judge, ProjectSink(project, run_id, data, judge), partition=part)
    loop.run_id = run_id
    status = "interrupted"
    try:
        for record in loop.run(data, state, should_stop=should_stop):
            yield record
        status = "finished"
    finally:
        termination = loop.termination_condition_
        if status == "finished" and termination == "stopped by user":
            status = "stopped"
        if termination and termination.startswith("judge unavailable"):
            status = "interrupted"
        project.finish_run(run_id, status, termination)
