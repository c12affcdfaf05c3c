"""Plan jobs: solving a depot's day runs in the background; clients poll its status.

``POST /plans`` hands :meth:`PlanJobs.submit` a depot, a day and limits and answers 202 at
once; a worker thread runs :func:`orchestrator.planning.plan_day` (or
:func:`~orchestrator.planning.replan`) in its own session and records the outcome here. The
plan itself — routes, stops, unserved orders, or the failed plan with its error — is
persisted by the service in one transaction; this registry only keeps the job's life
(queued → running → succeeded | failed) in memory, so a job id is forgotten when the server
restarts (the plans it produced are not).

Progress is an estimate: the solver reports none while it searches, so a running job shows
the share of its time limit spent (at most 0.99) until it ends.
"""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from enum import StrEnum

from sqlalchemy.engine import Engine

from orchestrator.errors import OrchestratorError, PlanningFailed
from orchestrator.planning import plan_day, replan
from orchestrator.store import session_scope
from orchestrator.travel import TravelTimes
from routing.errors import RoutingError
from routing.solve import Limits

__all__ = ["JOB_PREFIX", "JobState", "PlanJob", "PlanJobs"]

JOB_PREFIX = "job_"
"""Job ids start with this, so they never look like a plan's integer id."""
_WORKERS = 2  # SQLite serialises writers anyway; two lets a second depot plan meanwhile


class JobState(StrEnum):
    """Life of a plan job."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class PlanJob:
    """A snapshot of one job; the registry replaces it as the job moves on."""

    id: str
    depot_id: int
    service_day: date
    time_limit_s: float
    seed: int
    replan_of_id: int | None = None
    state: JobState = JobState.QUEUED
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    started_at: datetime | None = None
    finished_at: datetime | None = None
    plan_id: int | None = None
    error: str | None = None

    def progress(self, now: float | None = None) -> float:
        """Share done, 0 to 1 (estimated from the time limit while running)."""
        if self.state in (JobState.SUCCEEDED, JobState.FAILED):
            return 1.0
        if self.state is JobState.QUEUED or self.started_at is None:
            return 0.0
        elapsed = (now or time.time()) - self.started_at.timestamp()
        return round(min(0.99, max(0.0, elapsed / self.time_limit_s)), 2)


class PlanJobs:
    """The in-process registry and thread pool of plan jobs.

    Parameters
    ----------
    engine
        The store the workers open their sessions on.
    travel
        Travel-time provider handed to the planning service.
    workers
        Jobs solved at the same time.
    """

    def __init__(self, engine: Engine, *, travel: TravelTimes, workers: int = _WORKERS) -> None:
        self._engine = engine
        self._travel = travel
        self._jobs: dict[str, PlanJob] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lastmile-plan")

    def submit(
        self,
        depot_id: int,
        day: date,
        limits: Limits,
        *,
        seed: int = 0,
        replan_of_id: int | None = None,
    ) -> PlanJob:
        """Queue a plan of ``depot_id``'s ``day`` (or a re-plan of ``replan_of_id``)."""
        job = PlanJob(
            id=f"{JOB_PREFIX}{uuid.uuid4().hex}",
            depot_id=depot_id,
            service_day=day,
            time_limit_s=limits.time_limit,
            seed=seed,
            replan_of_id=replan_of_id,
        )
        with self._lock:
            self._jobs[job.id] = job
        self._pool.submit(self._run, job.id, limits)
        return job

    def get(self, job_id: str) -> PlanJob | None:
        """The job's current snapshot, or ``None`` for an unknown id."""
        with self._lock:
            return self._jobs.get(job_id)

    def shutdown(self) -> None:
        """Drop queued jobs and wait for the running ones to finish."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _update(self, job_id: str, **changes: object) -> PlanJob:
        with self._lock:
            job = replace(self._jobs[job_id], **changes)  # type: ignore[arg-type]
            self._jobs[job_id] = job
            return job

    def _run(self, job_id: str, limits: Limits) -> None:
        job = self._update(job_id, state=JobState.RUNNING, started_at=datetime.now(UTC))
        try:
            with session_scope(self._engine) as session:
                if job.replan_of_id is not None:
                    plan = replan(
                        session, job.replan_of_id, limits=limits, travel=self._travel,
                        seed=job.seed,
                    )  # fmt: skip
                else:
                    plan = plan_day(
                        session, job.depot_id, job.service_day, limits=limits,
                        travel=self._travel, seed=job.seed,
                    )  # fmt: skip
                plan_id = plan.id
        except PlanningFailed as exc:
            self._fail(job_id, str(exc), exc.plan_id)
        except (OrchestratorError, RoutingError) as exc:
            self._fail(job_id, str(exc), None)
        except Exception as exc:  # a worker thread must never die silently
            self._fail(job_id, f"{type(exc).__name__}: {exc}", None)
        else:
            self._update(
                job_id, state=JobState.SUCCEEDED, plan_id=plan_id, finished_at=datetime.now(UTC)
            )

    def _fail(self, job_id: str, message: str, plan_id: int | None) -> None:
        self._update(
            job_id,
            state=JobState.FAILED,
            error=message,
            plan_id=plan_id,
            finished_at=datetime.now(UTC),
        )
