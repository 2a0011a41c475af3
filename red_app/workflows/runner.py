"""Runs of the R.E.D. loop on a project, persisted in DuckDB as they go.

Every judged chunk is committed at once (audit rows + annotation events), and every
finished iteration writes its figures and the pool's predictions. The loop's state is
*derived* from the event log when a run starts or resumes, so a run killed
mid-iteration resumes from the last finished iteration with every verdict kept.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Callable, Iterator

import numpy as np
import pyarrow as pa

from ..errors import RedError
from .inputs import load_inputs
from ..judges.base import Judge
from .label_map import compute_partition, stored_partition
from ..method.config import LoopConfig, config_from_dict
from ..method.delegation import Calibration, Delegation
from ..method.model import RedModel
from ..method.stopping import Termination
from ..method.loop import FITS_NONE, BaseSink, IterationRecord, Judged, LoopData, RedLoop, Stage
from ..project.embed import set_threads
from ..project.store import NO_LABEL, Project


def verdict_row(req, v, judge: Judge) -> dict:
    """A verdict and its question as a ``judge_verdicts`` row (the audit record).

    A choose question's row names the picked label (or, for "none", the first candidate,
    invalid) and keeps every candidate offered and the choice."""
    # a proposal handed to people (the human judge) is stored as the classifier's "valid"
    # proposal, never applied: it waits in Review's needs_review queue until a person answers
    return {"sample_id": req.sample_id, "label": v.choice or req.label, "valid": True if v.pending else v.valid,
            "candidates": list(req.candidate_labels()) or None, "choice": v.choice,
            "confidence": float(v.confidence), "rationale": v.rationale, "judge_kind": judge.kind,
            "model": v.model or judge.model, "prompt_hash": v.prompt_hash, "prompt": v.prompt,
            "example_ids": [e.id for e in req.examples], "latency_ms": float(v.latency_ms),
            "cached": bool(v.cached), "error": v.error}


BEAT_SECONDS = 10.0  # how often a run says it is still there (runs.heartbeat)


def _letting_go(method):
    """Release the project file after the sink's step: a run holds it only while it reads or
    writes, so people answering in the app or with `red review` (other processes) get in
    between — DuckDB lets one process hold a file at a time."""
    import functools

    @functools.wraps(method)
    def step(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        finally:
            self.project.release()

    return step


class ProjectSink(BaseSink):
    """Writes verdicts and iterations into the project as the loop produces them, and reads
    people's decisions; the project file is let go after every step."""

    def __init__(self, project: Project, run_id: int, data: LoopData, judge: Judge, seen_human: int | None = None):
        self.project = project
        self.run_id = run_id
        self.data = data
        self.judge = judge
        self._pos = {s: k for k, s in enumerate(data.ids)}
        self._label = {name: k for k, name in enumerate(data.label_names)}
        # people's decisions after this event are read by the loop; pass the last one seen *before*
        # the loop's inputs were loaded, so an answer given in between is not lost
        self._seen_human = project.last_human_event() if seen_human is None else seen_human
        self._seen_revocation = project.last_revocation()
        self._last_beat = time.monotonic()
        # A resumed run: verdicts a kill left in the iteration it cut short count in that
        # iteration's figures when the resumed run finishes it (same iteration number).
        self._carried: tuple[int, dict] | None = None
        if run_id is not None:
            nxt = project.last_iteration(run_id) + 1
            counts = project.iteration_verdict_counts(run_id, nxt)
            if counts["calls"]:
                self._carried = (nxt, counts)

    @_letting_go
    def human_decisions(self) -> list[tuple[int, int, bool]]:
        """People's decisions since the last look, as (sample index, label index, valid)."""
        out = []
        for eid, sid, label, verdict in self.project.human_events_since(self._seen_human):
            self._seen_human = eid
            if sid in self._pos:
                # a label people created during the run is not one the loop can train on yet
                lab = FITS_NONE if label == NO_LABEL else self._label.get(label, -1)
                out.append((self._pos[sid], lab, verdict == "valid"))
        return out

    @_letting_go
    def revoked_decisions(self) -> list[tuple[int, int, list[int], bool, bool]]:
        """Samples whose decision a person undid since the last look, as the log now has
        them: (sample index, label index or -1, rejected label indices, decided, held)."""
        revoked = self.project.revoked_since(self._seen_revocation)
        if not revoked:
            return []
        self._seen_revocation = revoked[-1][0]
        return self._states(sorted({sid for _, sid in revoked if sid in self._pos}))

    @_letting_go
    def states_now(self, positions: list[int]) -> list[tuple[int, int, list[int], bool, bool]]:
        """Samples as the log has them now: (sample index, label index or -1, rejected label
        indices, decided, held)."""
        return self._states(sorted({self.data.ids[i] for i in positions}))

    def _states(self, sids: list[str]) -> list[tuple[int, int, list[int], bool, bool]]:
        states = self.project.sample_states(sids)
        out = []
        for sid, st in states.items():
            lab = self._label.get(st["label"], -1) if st["label"] is not None else FITS_NONE if st["none"] else -1
            # a label people created during the run is not one the loop can train on: left to people
            decided = st["decided"] or (st["label"] is not None and lab < 0)
            out.append((self._pos[sid], lab, [self._label[x] for x in st["excluded"] if x in self._label],
                        decided, st["held"]))
        return out

    @_letting_go
    def on_waiting(self, n: int) -> None:
        """How many proposals still wait for people (the Run page shows it); the run says it is
        still there every :data:`BEAT_SECONDS` while it waits."""
        self.project.set_run_waiting(self.run_id, n)
        self._beat()

    def _beat(self) -> None:
        now = time.monotonic()
        if self.run_id is not None and now - self._last_beat >= BEAT_SECONDS:
            self.project.beat(self.run_id)
            self._last_beat = now

    @_letting_go
    def on_calibration(self, cal) -> None:
        """The judge's measurement on seeds: its verdicts (never applied) and its figures."""
        self.project.record_verdicts(self.run_id, 0, [
            {**self._row(req, v), "purpose": "calibration", "applied": False} for req, v, _ in cal.judged])
        self.project.save_calibration(self.run_id, cal.to_dict())
        # the run's measurement is this judge's latest: shown wherever it is chosen, as judge-eval's is
        loop = self.project.run_config(self.run_id)["loop"] if self.run_id is not None else {}
        question = loop.get("question", "binary")
        figures = {**cal.as_result(question, loop.get("choose_k")), "judge": self.judge.describe(),
                   "kind": self.judge.kind, "model": self.judge.model}
        self.project.remember_judge(self.judge.kind, self.judge.model, figures)

    def _row(self, req, v) -> dict:
        return verdict_row(req, v, self.judge)

    @_letting_go
    def on_verdicts(self, iteration: int, judged: list[Judged]) -> None:
        self._beat()
        self.project.record_verdicts(self.run_id, iteration, [
            {**self._row(j.request, j.verdict), "uncertainty": j.uncertainty, "alternatives": list(j.alternatives),
             "p_right": j.p_right, "applied": j.applied, "fits_none": j.fits_none}
            for j in judged])

    @_letting_go
    def on_iteration(self, record: IterationRecord, predictions: dict) -> None:
        figures = asdict(record)
        if self._carried and self._carried[0] == record.iteration:
            for k, v in self._carried[1].items():
                figures[k] += v
            self._carried = None
        idx = predictions["index"]
        names = np.asarray(self.data.label_names, dtype=object)
        alts = predictions.get("alternatives")
        self.project.record_iteration(self.run_id, figures, pa.table({
            "sample_id": pa.array([self.data.ids[i] for i in idx], pa.string()),
            "label": pa.array(names[predictions["label"]].tolist(), pa.string()),
            "score": pa.array(np.asarray(predictions["score"], dtype=np.float64)),
            "uncertainty": pa.array(np.asarray(predictions["uncertainty"], dtype=np.float64)),
            "alternatives": pa.array([list(a) for a in alts] if alts is not None else [None] * len(idx),
                                     pa.list_(pa.string())),
        }))


def _open_run(project: Project, judge: Judge, config: LoopConfig, resume: int | None,
              judge_settings: dict | None, started_by: str | None) -> int:
    """The run's id: a resumed run's own, or a new run recorded with its settings and judge.
    Never a second run beside one a living process is running (here, or the same file under
    another path, or another machine): the two would ask about the same texts twice."""
    live = project.live_run()
    if live is not None:
        raise RedError(f"run {live} is going on this project in {project.run_owner(live)}; wait for it to end, or stop "
                       "it there (Ctrl-C, or Stop on the Run page), then start or resume a run")
    if resume is not None:
        project.mark_running(resume)
        return resume
    # e.g. the openai judge's URLs, so a resume asks the same servers
    judge_record = {**(judge_settings or {}), "kind": judge.kind, "model": judge.model, **judge.run_settings()}
    return project.start_run({"loop": config.to_dict(), "judge": judge_record, "started_by": started_by})


def _resumed_delegation(project: Project, run_id: int, judge: Judge, config: LoopConfig,
                        calls: int) -> Delegation | None:
    """How far a resumed run applies its judge's verdicts: as measured when it started."""
    stored = project.run_calibration(run_id)
    if stored is not None and stored.get("answered"):
        return Delegation(Calibration.from_dict(stored), config.precision_target, config.trust_judge)
    if judge.trusted or (stored is None and calls):
        return Delegation(None)
    return None  # measured first, as a new run is


def run_project(
    project: Project,
    judge: Judge,
    config: LoopConfig | None = None,
    resume: int | None = None,
    should_stop: Callable[[], bool] | None = None,
    judge_settings: dict | None = None,
    label_everything: bool = True,
    progress: Callable[[Stage], None] | None = None,
    started_by: str | None = None,
) -> Iterator[IterationRecord]:
    """Start (or resume) a run; yields each finished iteration's record.

    ``started_by`` (the account or OS user who started it) is kept in the run's config, and
    ``judge_settings`` (:class:`~red_app.workflows.judging.JudgeSettings`) with its judge.
    Resuming re-reads the event log, so every verdict committed before a kill counts,
    and spends only the budget the run has left. ``progress`` is told each stage inside an
    iteration (:class:`red_app.method.loop.Stage`), for a live status.
    """
    # BLAS pinned as `red embed` pins it: unpinned, a 1,010-class fit took 36.8 s against 27.2 s
    # on one thread with other work on the 2 cores (bench/REPORT.md, "1,010 labels in seconds")
    set_threads(torch=False)
    seen_human = project.last_human_event()
    tell = progress or (lambda stage: None)
    tell(Stage(0, "loading the project"))
    data, state = load_inputs(project)
    if resume is not None:
        config = config_from_dict(project.run_config(resume)["loop"])
    config = config or LoopConfig()
    part = stored_partition(project, data.label_names, config.n, config.partition_method, config.umap_dim, config.seed)
    if part is None:
        tell(Stage(0, "grouping the labels into subsets"))
        part = compute_partition(project, data, state, config.n, config.partition_method,
                                 config.umap_dim, config.seed)
    run_id = _open_run(project, judge, config, resume, judge_settings, started_by)
    loop, termination = None, None
    try:  # from here on the run is recorded as running: however this ends, its ending is recorded
        delegation = None  # a new run measures its judge first (RedLoop.measure_judge)
        if resume is not None:
            state.calls = project.run_calls(run_id)
            state.iteration = project.last_iteration(run_id)
            delegation = _resumed_delegation(project, run_id, judge, config, state.calls)
        if (state.y < 0).sum() == 0:
            termination = Termination.finished("pool exhausted")
            return
        loop = RedLoop(config, judge, ProjectSink(project, run_id, data, judge, seen_human), partition=part,
                       delegation=delegation, progress=progress, fit_memo=_CountingMemo(project))
        project.release()  # from here on the run holds the file only while it reads or writes
        yield from loop.run(data, state, should_stop=should_stop)
        if label_everything and not loop.termination_condition_.resumable:
            # a label for every text after every run (a prediction, never a decision)
            from .predict import predict_project

            tell(Stage(int(state.iteration), "labeling every text with the final model"))
            predict_project(project, config, run_id)
    finally:
        _close_run(project, run_id, judge, loop.termination_condition_ if loop is not None else termination)


def _close_run(project: Project, run_id: int, judge: Judge, termination: Termination | None) -> None:
    """Record how the run ended (an exception or a kill mid-iteration: interrupted, resumable)."""
    if termination is None:
        termination = Termination.failed("interrupted before it ended")
    try:
        if judge.waits_for_people and termination.kind != "paused":
            project.set_run_waiting(run_id, 0)  # a run no longer waiting shows no count
    finally:
        project.finish_run(run_id, termination)
    stats = judge.server_stats()
    if stats:  # which servers answered, how often and how fast
        project.save_run_judge_stats(run_id, stats)


def fit_after_embedding(project: Project, config: LoopConfig | None = None) -> float | None:
    """Fit the selector a run starts with (the flat model on the current labels, then its
    self-training refit) and keep both in the project's fit cache, right after embedding.

    A run's first iteration then takes them from the cache, the same numbers bit for bit
    (red_app.method.softmax): at 1,010 labels that is most of its fitting. Seconds it took
    (0 when both were cached already); None when there is nothing to fit (read-only, no
    labels or no pool, a selector other than the flat model, or embeddings missing).
    """
    config = config or LoopConfig()
    if project.read_only or config.selector != "flat" or not config.warm_start:
        return None
    try:
        data, state = load_inputs(project)
    except RedError:
        return None
    if not (state.y < 0).any():
        return None
    set_threads(torch=False)
    t0 = time.perf_counter()
    memo = _CountingMemo(project)
    RedModel.from_config(config, len(data.label_names), "flat").fit(data.X, state.y, state.excluded, memo=memo)
    return time.perf_counter() - t0 if memo.stored else 0.0


class _CountingMemo:
    """The project's fit cache, counting the fits it had to store (computed, not found); the
    file is let go after each look (the fit itself, seconds to minutes, holds nothing)."""

    def __init__(self, project: Project):
        self.project = project
        self.stored = 0

    def cached_fit(self, key: str):
        try:
            return self.project.cached_fit(key)
        finally:
            self.project.release()

    def store_fit(self, *args, **kw) -> None:
        try:
            self.project.store_fit(*args, **kw)
        finally:
            self.project.release()
        self.stored += 1  # counted once kept: a failed write is not "fitted for the next run"


REJECTIONS_DOMINATE = 0.5  # share of the proposals the judge rejected above which the page warns


def budget_report(project: Project, run_id: int) -> dict:
    """Where a run's judge calls went, with a plain-words warning when rejections dominate.

    Keys: ``measuring`` (calls measuring the judge on seeds), ``proposals`` (answered
    proposals), ``accepted``, ``rejected``, ``to_people``, ``failed`` (free), ``retries``
    (proposals of a text's next label after a rejection; for choose questions, a text asked
    again after "none"), ``budget``, ``question`` (binary or choose), ``not_asked`` (texts the
    newest iteration did not ask about: they look like they fit none of the labels),
    ``fits_none`` (answers that the text fits none of the labels, issue 20), ``warning`` (or
    None). For choose questions ``rejected`` counts every answer "none of these"; those that
    say the text fits none of the labels are ``fits_none`` of them.
    """
    out = project.run_budget(run_id)
    loop = project.run_config(run_id)["loop"]
    its = project.iterations(run_id)
    out["not_asked"] = int(its["skipped_unlike"].fillna(0).iloc[-1]) if len(its) else 0
    out["fits_none"] = int(its["said_none"].fillna(0).sum()) if len(its) else 0
    out["budget"] = int(loop["budget"])
    out["question"] = loop.get("question", "binary")  # runs stored before the setting asked binary ones
    out["warning"] = None
    if out["proposals"] < 10 or out["rejected"] <= REJECTIONS_DOMINATE * out["proposals"]:
        return out
    share = f"{out['rejected']:,} of {out['proposals']:,}"
    if out["question"] == "choose":
        out["warning"] = (
            f"The judge answered \"none of these\" to {share} questions "
            f"({out['rejected'] / out['proposals']:.0%}). Many of these texts may fit none of the project's labels: "
            "open Discover (or `red discover`) to see them in groups and make new labels of them. Where they do "
            f"fit a label that was not among the classifier's top {loop.get('choose_k', 5)} candidates, add seeds to "
            "the labels it confuses (Texts, Subsets), write label descriptions, or offer more candidates (choose_k).")
    else:
        out["warning"] = (
            f"The judge rejected {share} proposals "
            f"({out['rejected'] / out['proposals']:.0%}); {out['retries']:,} calls went to a text's next label after "
            "a rejection. The classifier's proposals are mostly wrong here: add seeds to the labels it confuses "
            "(Texts, Subsets), write label descriptions, or lower the batch so each iteration learns from fewer, "
            "better proposals.")
    return out


def calibration_summary(project: Project, run_id: int) -> str | None:
    """The judge's measurement on seeds before run ``run_id`` applied any verdict, in words."""
    stored = project.run_calibration(run_id)
    return Calibration.from_dict(stored).summary() if stored else None


def last_loop_settings(project: Project) -> dict:
    """The loop settings of the project's newest run ({} before any): a form starts from them."""
    runs = project.runs()
    if not len(runs):
        return {}
    return dict(project.run_config(int(runs["run_id"].max())).get("loop") or {})
