"""Background runs for long-lived processes (the app): one run per project at a time.

The run's progress lives in DuckDB (iterations, verdicts), so any page, tab or reload
reads the same run; this registry only holds the thread and its stop flag.
"""

from __future__ import annotations

import threading
import time
import traceback
from dataclasses import dataclass, field

from ..judges.base import Judge
from ..method.config import LoopConfig
from ..method.loop import Stage
from ..project.embed import embed_missing
from ..project.store import Project
from .judging import JudgeSettings, settings_for_resume
from .runner import run_project


@dataclass
class RunJob:
    project: Project
    judge: Judge
    config: LoopConfig | None
    resume: int | None = None
    started_by: str | None = None
    settings: JudgeSettings | None = None  # what the judge was built from, stored with the run
    stop_event: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    error: str | None = None
    iterations_done: int = 0
    run_id: int | None = None  # set once the run is recorded in the project
    stage: Stage | None = None
    stage_since: float = 0.0   # time.monotonic() when the stage began (judging: its first chunk)
    first_run_after: int = 0   # the newest run id when the job started

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def _on_stage(self, stage: Stage) -> None:
        same = self.stage is not None and (self.stage.iteration, self.stage.stage) == (stage.iteration, stage.stage)
        if not same:
            self.stage_since = time.monotonic()
        self.stage = stage

    def status(self) -> dict | None:
        """The live stage in words: ``{"iteration", "stage", "done", "total", "seconds", "eta"}``
        (``eta`` in seconds where judging has answered some of its proposals), or None."""
        st = self.stage
        if st is None or not self.running:
            return None
        elapsed = time.monotonic() - self.stage_since
        eta = None
        if st.stage == "judging" and 0 < st.done < st.total:
            eta = elapsed / st.done * (st.total - st.done)
        return {"iteration": st.iteration, "stage": st.stage, "done": st.done, "total": st.total,
                "seconds": elapsed, "eta": eta}

    def stop(self) -> None:
        self.stop_event.set()

    def _work(self) -> None:
        try:
            # like `red run`: texts imported but not embedded yet are embedded first, with a stage
            embed_missing(self.project, progress=lambda done, total: self._on_stage(
                Stage(0, "embedding the texts not embedded yet", done, total)))
            settings = self.settings.resolved(self.project).to_dict() if self.settings else None
            for _ in run_project(self.project, self.judge, self.config, resume=self.resume,
                                 should_stop=self.stop_event.is_set, progress=self._on_stage,
                                 started_by=self.started_by, judge_settings=settings):
                self.iterations_done += 1
        except Exception as exc:  # shown on the Run page; the run stays resumable
            self.error = f"{type(exc).__name__}: {exc}"
            traceback.print_exc()
        finally:
            self.project.close()  # the file is free again once the run ends


class JobRegistry:
    """One background run per project path, shared by every session of the process."""

    def __init__(self) -> None:
        self._jobs: dict[str, RunJob] = {}
        self._lock = threading.Lock()

    def get(self, project: Project) -> RunJob | None:
        return self._jobs.get(_key(project))

    def start(self, project: Project, judge: JudgeSettings, config: LoopConfig | None,
              started_by: str | None = None, resume: int | None = None) -> RunJob:
        """Start (or resume) a run in a thread, on a connection of its own (the caller's may be
        released while the run goes on); its judge is built on that connection, so the
        verdict cache is the run's own too. A run already going on this project is returned,
        never a second one."""
        with self._lock:
            job = self._jobs.get(_key(project))
            if job and job.running:
                return job  # a second tab sees the same run, never starts another
            own = Project(project.path)
            try:
                built = judge.build(own)
            except BaseException:
                own.close()
                raise
            job = RunJob(own, built, None if resume else config, resume=resume, started_by=started_by,
                         settings=judge)
            job.first_run_after = _newest_run(project)  # the run this job makes is newer than this
            job.thread = threading.Thread(target=job._work, name=f"red-run-{project.path.name}", daemon=True)
            self._jobs[_key(project)] = job
            job.thread.start()
            return job

    def resume(self, project: Project, run_id: int, judge: JudgeSettings | None = None,
               fields_given: set[str] = frozenset()) -> RunJob:
        """Resume run ``run_id`` with the judge it started with (what ``judge`` gives in
        ``fields_given`` laid over it)."""
        return self.start(project, settings_for_resume(project, run_id, judge, fields_given), None, resume=run_id)


def _newest_run(project: Project) -> int:
    runs = project.runs()
    return int(runs["run_id"].max()) if len(runs) else 0


def _key(project: Project) -> str:
    """A project's file by its real identity: the same file under two spellings
    (``a/x.duckdb``, ``a/b/../x.duckdb``, a link) is one project with one run."""
    return str(project.path.resolve())
