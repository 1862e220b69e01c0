"""Re-plan previews run off the request path: one worker thread, progress kept for polling.

Rule: a preview never writes to the store; its plan carries the store revision it was
computed from, so Apply can refuse it when anything changed since. A job belongs to the user
who started it.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Literal

from scheduler.errors import VisitplanError

if TYPE_CHECKING:
    from scheduler.replan import ReplanReport

log = logging.getLogger("visitplan.desk")
KEEP_JOBS = 20

JobStatus = Literal["waiting", "running", "done", "failed", "applied", "stale"]
"""`stale`: Apply was refused because the store changed since; `refusal` says what changed."""


@dataclass
class Job:
    """One re-plan preview."""

    id: str
    owner: str
    team_id: str
    from_date: date
    status: JobStatus = "waiting"
    progress: list[str] = field(default_factory=list)
    report: ReplanReport | None = None
    error: str | None = None
    refusal: str | None = None
    note: str | None = None
    """A word for the manager about what started the preview (an absence already over)."""
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None

    @property
    def seconds(self) -> float:
        """Seconds since it started, or how long it took."""
        return (self.finished or time.monotonic()) - self.started

    def say(self, message: str) -> None:
        """Progress from the planner (kept short: the last few lines are shown)."""
        self.status = "running"
        self.progress = [*self.progress[-4:], message]


class JobRunner:
    """Runs previews one at a time on a worker thread; the server stays responsive."""

    def __init__(self) -> None:
        """An idle runner."""
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="replan")
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()

    def start(self, job: Job, work: Callable[[Job], ReplanReport]) -> Job:
        """Queue `work(job)`; its report (or error message) lands on the job."""
        with self._lock:
            self._jobs[job.id] = job
            while len(self._jobs) > KEEP_JOBS:
                self._jobs.popitem(last=False)

        def run() -> None:
            job.status = "running"
            try:
                # The report before the status: a page reads the status first, so it never
                # sees "done" without the report (absences.replan_page).
                job.report = work(job)
                job.status = "done"
            except VisitplanError as exc:
                job.error, job.status = str(exc), "failed"
            except Exception:
                log.exception("re-plan preview %s failed", job.id)
                job.error = "the re-plan could not be worked out; the server log has details"
                job.status = "failed"
            finally:
                job.finished = time.monotonic()

        self._pool.submit(run)
        return job

    def get(self, job_id: str, owner: str) -> Job | None:
        """The job, if it exists and belongs to `owner`."""
        with self._lock:
            job = self._jobs.get(job_id)
        return job if job is not None and job.owner == owner else None

    def shutdown(self) -> None:
        """Stop taking jobs (running ones finish)."""
        self._pool.shutdown(wait=False, cancel_futures=True)


def new_job_id() -> str:
    """An unguessable job id."""
    return secrets.token_urlsafe(12)
