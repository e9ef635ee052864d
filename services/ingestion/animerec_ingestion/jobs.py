"""Background jobs: ingestion and processing runs in one worker thread, one at a time."""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from animerec_shared.errors import AnimeRecError, ConflictError, NotFoundError

from .ingest import new_id

log = logging.getLogger("animerec.ingestion.jobs")
Work = Callable[[Callable[[str], None]], dict[str, Any]]  # called with a progress callback
MAX_KEPT_JOBS = 200


@dataclass
class Job:
    """One ingestion or processing run and its outcome."""

    id: str
    kind: str  # "ingestion" | "processing"
    state: str = "queued"
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    created_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    progress: str | None = None  # the latest progress line of the running work
    cleanup: Path | None = None

    def public_fields(self) -> dict[str, Any]:
        """Returns the fields every job answer (contracts.ingestion.JobPublic) shows."""
        return {
            "id": self.id,
            "state": self.state,
            "manifest": self.result,
            "error": self.error,
            "progress": self.progress,
            "created_at": self.created_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
        }


class JobRunner:
    """Runs jobs off the event loop in a single worker thread; refuses a second concurrent job."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingestion-job")
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()

    def busy(self) -> Job | None:
        """Returns the queued or running job, if any."""
        with self._lock:
            return self._active()

    def _active(self) -> Job | None:
        return next((j for j in self._jobs.values() if j.state in ("queued", "running")), None)

    def _ensure_idle_locked(self) -> None:
        active = self._active()
        if active is not None:
            raise ConflictError(
                f"{active.kind} job {active.id} is still {active.state}; retry when it finished",
                code="job_in_progress",
                details={"job_id": active.id, "kind": active.kind},
            )

    def ensure_idle(self) -> None:
        """Raises ConflictError (409 job_in_progress) while a job is queued or running."""
        with self._lock:
            self._ensure_idle_locked()

    def submit(self, kind: str, work: Work, cleanup: Path | None = None) -> Job:
        """Returns the new queued job; raises ConflictError (409) while another job is unfinished."""
        with self._lock:
            try:
                self._ensure_idle_locked()
            except ConflictError:
                if cleanup is not None:
                    shutil.rmtree(cleanup, ignore_errors=True)
                raise
            job = Job(id=new_id("ing" if kind == "ingestion" else "proc"), kind=kind, cleanup=cleanup)
            self._jobs[job.id] = job
            while len(self._jobs) > MAX_KEPT_JOBS:
                self._jobs.popitem(last=False)
        self._pool.submit(self._run, job, work)
        return job

    def _run(self, job: Job, work: Work) -> None:
        job.state, job.started_at = "running", time.time()
        try:
            job.result = work(lambda msg: setattr(job, "progress", msg))
            job.state = "succeeded"
        except AnimeRecError as exc:
            job.error, job.state = exc.to_body()["error"], "failed"
        except Exception as exc:  # a bug or an I/O failure: keep the service up, report it on the job
            log.exception("%s job %s crashed", job.kind, job.id)
            job.error, job.state = {"code": "internal_error", "message": f"{type(exc).__name__}: {exc}"}, "failed"
        finally:
            job.finished_at = time.time()
            if job.cleanup is not None:
                shutil.rmtree(job.cleanup, ignore_errors=True)

    def get(self, job_id: str, kind: str) -> Job:
        """Returns a job of the given kind; raises NotFoundError (404) for an unknown id."""
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None or job.kind != kind:
            code = "ingestion_not_found" if kind == "ingestion" else "processing_run_not_found"
            raise NotFoundError(f"no {kind} job {job_id!r}", code=code)
        return job

    def shutdown(self) -> None:
        """Stops accepting jobs and waits for the running one."""
        self._pool.shutdown(wait=True, cancel_futures=True)
