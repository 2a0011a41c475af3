"""Background runs for long-lived processes (the app): one run per project at a time.

The run's progress lives in DuckDB (iterations, verdicts), so any page, tab or reload
reads the same run; this registry only holds the thread and its stop flag.
"""

from __future__ import annotations

import threading
import traceback
from dataclasses import dataclass, field

from .judges.base import Judge
from .method.config import LoopConfig
from .project.store import Project
from .runner import run_project


@dataclass
class RunJob:
    project: Project
    judge: Judge
    config: LoopConfig | None
    resume: int | None = None
    started_by: str | None = None
    stop_event: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    error: str | None = None
    iterations_done: int = 0

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def stop(self) -> None:
        self.stop_event.set()

    def _work(self) -> None:
        try:
            for _ in run_project(self.project, self.judge, self.config, resume=self.resume,
                                 should_stop=self.stop_event.is_set, started_by=self.started_by):
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
        return self._jobs.get(str(project.path))

    def start(self, project: Project, judge: Judge, config: LoopConfig | None, resume: bool = False,
              started_by: str | None = None) -> RunJob:
        """Start a run in a thread, on a connection of its own (the caller's may be released
        while the run goes on); the judge's verdict cache moves to it too."""
        with self._lock:
            job = self._jobs.get(str(project.path))
            if job and job.running:
                return job  # a second tab sees the same run, never starts another
            rid = project.resumable_run() if resume else None
            own = Project(project.path)
            if getattr(judge, "cache", None) is not None:
                judge.cache = own
            job = RunJob(own, judge, None if rid else config, resume=rid, started_by=started_by)
            job.thread = threading.Thread(target=job._work, name=f"red-run-{project.path.name}", daemon=True)
            self._jobs[str(project.path)] = job
            job.thread.start()
            return job
