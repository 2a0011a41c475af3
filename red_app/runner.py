"""Runs of the R.E.D. loop on a project, persisted in DuckDB as they go.

Every judged chunk is committed at once (audit rows + annotation events), and every
finished iteration writes its figures and the pool's predictions. The loop's state is
*derived* from the event log when a run starts or resumes, so a run killed
mid-iteration resumes from the last finished iteration with every verdict kept.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Callable, Iterator

import numpy as np
import pyarrow as pa

from .inputs import load_inputs  # noqa: F401  (part of the runner's API)
from .judges.base import Judge
from .label_map import compute_partition, stored_partition
from .method.config import LoopConfig, config_from_dict
from .method.loop import IterationRecord, Judged, LoopData, RedLoop
from .project.store import Project


class ProjectSink:
    """Writes verdicts and iterations into the project as the loop produces them."""

    def __init__(self, project: Project, run_id: int, data: LoopData, judge: Judge):
        self.project = project
        self.run_id = run_id
        self.data = data
        self.judge = judge

    def on_verdicts(self, iteration: int, judged: list[Judged]) -> None:
        self.project.record_verdicts(self.run_id, iteration, [
            {"sample_id": j.request.sample_id, "label": j.request.label, "valid": j.verdict.valid,
             "confidence": float(j.verdict.confidence), "rationale": j.verdict.rationale,
             "judge_kind": self.judge.kind, "model": j.verdict.model or self.judge.model,
             "prompt_hash": j.verdict.prompt_hash, "prompt": j.verdict.prompt,
             "example_ids": [e.id for e in j.request.examples], "uncertainty": j.uncertainty,
             "alternatives": list(j.alternatives), "latency_ms": float(j.verdict.latency_ms),
             "cached": bool(j.verdict.cached), "error": j.verdict.error}
            for j in judged])

    def on_iteration(self, record: IterationRecord, predictions: dict) -> None:
        idx = predictions["index"]
        names = np.asarray(self.data.label_names, dtype=object)
        alts = predictions.get("alternatives")
        self.project.record_iteration(self.run_id, asdict(record), pa.table({
            "sample_id": pa.array([self.data.ids[i] for i in idx], pa.string()),
            "label": pa.array(names[predictions["label"]].tolist(), pa.string()),
            "score": pa.array(np.asarray(predictions["score"], dtype=np.float64)),
            "uncertainty": pa.array(np.asarray(predictions["uncertainty"], dtype=np.float64)),
            "alternatives": pa.array([list(a) for a in alts] if alts is not None else [None] * len(idx),
                                     pa.list_(pa.string())),
        }))


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
        state.calls = project.run_calls(run_id)
        state.iteration = project.last_iteration(run_id)
        project.mark_running(run_id)
    else:
        run_id = project.start_run({"loop": config.to_dict(), "judge": {"kind": judge.kind, "model": judge.model,
                                                                        **(judge_settings or {})}})
    if (state.y < 0).sum() == 0:
        project.finish_run(run_id, "finished", "pool exhausted")
        return
    loop = RedLoop(config, judge, ProjectSink(project, run_id, data, judge), partition=part)
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
