"""Plan jobs: a depot's day planned in the background, with its state kept in the store.

The job *is* the plan's row. :func:`submit_plan` and :func:`submit_replan` check the request
the way :func:`~orchestrator.planning.plans.plan_day` and
:func:`~orchestrator.planning.plans.replan`
would and store a :class:`~orchestrator.models.Plan` with status ``queued``, its kind, time
limit, seed and limits; its id is the job id. :func:`run_job` — in whatever worker runs
jobs — claims the row (``queued`` → ``running``, ``started_at``) and plans the day into it:
the row becomes the day's ``current`` plan with its routes, stops and unserved orders in
one transaction, or ``failed`` with the error while the previous plan stays current,
exactly as a direct call would leave things.

Job states (:class:`JobState`) are the plan's status seen from outside: ``queued``,
``running``, ``succeeded`` (the plan is or was current) or ``failed``. Progress is an
estimate (:func:`job_progress`): the solver reports none while it searches, so a running
job shows the share of its time limit spent since the stored ``started_at``, at most 0.99.

After a restart nothing runs the jobs a stopped process had queued or started: on start-up
the runner calls :func:`interrupt_jobs`, which marks them ``failed`` with
:data:`INTERRUPTED` — they are not re-queued, because a plan requested minutes or hours ago
may no longer be wanted (orders moved on, a planner re-planned by hand) and re-running it
could supersede a newer plan; submitting again is one request. This assumes one process
runs the jobs of a store; a plan whose solve outlives that (an orphaned worker) finds its
row failed when it finishes and writes nothing.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable
from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Session, col, select

from orchestrator.errors import Conflict, NotFound, OrchestratorError, PlanningFailed
from orchestrator.jobs.redaction import public_error
from orchestrator.models import Plan, PlanKind, PlanStatus
from orchestrator.models.columns import utcnow
from orchestrator.planning.plans import check_day, check_plan_size, check_replan, plan_day, replan
from orchestrator.planning.travel import TravelTimes
from routing.solve import Limits

__all__ = [
    "DEFAULT_LIMITS",
    "INTERRUPTED",
    "JobState",
    "interrupt_jobs",
    "job_limits",
    "job_progress",
    "job_state",
    "run_job",
    "submit_plan",
    "submit_replan",
    "unfinished_jobs",
]

_log = logging.getLogger(__name__)

DEFAULT_LIMITS = Limits(time_limit=10.0)
"""Limits of a job submitted without any: 10 seconds of search."""

INTERRUPTED = "interrupted: the server stopped before this job finished — submit it again"
"""The error of a job that was queued or running when its server stopped."""

_UNFINISHED = (PlanStatus.QUEUED, PlanStatus.RUNNING)
_ERROR_CHARS = 2_000
_MAX_PROGRESS = 0.99


class JobState(StrEnum):
    """Life of a plan job."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


_STATE_OF = {
    PlanStatus.QUEUED: JobState.QUEUED,
    PlanStatus.RUNNING: JobState.RUNNING,
    PlanStatus.CURRENT: JobState.SUCCEEDED,
    PlanStatus.SUPERSEDED: JobState.SUCCEEDED,
    PlanStatus.FAILED: JobState.FAILED,
}


def submit_plan(
    session: Session,
    depot_id: int,
    day: date,
    *,
    limits: Limits | None = None,
    seed: int = 0,
) -> Plan:
    """Queue a plan of the depot's day from scratch; returns the queued row (the job).

    Parameters
    ----------
    session
        The store; the row is committed before this returns, so any worker may run it.
    depot_id, day
        The depot and its local service day.
    limits
        Solver limits (default :data:`DEFAULT_LIMITS`).
    seed
        Seed of the solver's randomised parts.

    Raises
    ------
    InvalidInput
        Unknown depot (field ``depot_id``), or a day with more stops or vehicles than a
        plan may have (see :func:`~orchestrator.planning.plans.check_day`).
    Conflict
        A route of the day is already dispatched: submit a re-plan instead.
    """
    check_day(session, depot_id, day)
    return _queue(session, depot_id, day, PlanKind.DAY, None, limits, seed)


def submit_replan(
    session: Session,
    plan_id: int,
    *,
    limits: Limits | None = None,
    seed: int = 0,
) -> Plan:
    """Queue a re-plan of the current plan ``plan_id``; returns the queued row (the job).

    Raises
    ------
    NotFound
        No such plan.
    Conflict
        The plan is not the day's current plan.
    InvalidInput
        The day has more stops or vehicles than a plan may have (the settings
        ``LASTMILE_MAX_PLAN_STOPS`` and ``LASTMILE_MAX_PLAN_VEHICLES``).
    """
    previous = check_replan(session, plan_id)
    check_plan_size(session, previous.depot_id, previous.service_day)
    return _queue(
        session, previous.depot_id, previous.service_day, PlanKind.REPLAN, plan_id, limits, seed
    )


def run_job(session: Session, plan_id: int, *, travel: TravelTimes) -> Plan:
    """Run the queued job ``plan_id`` to its end; returns its row, ``current`` or ``failed``.

    A job runs at most once: the row is claimed by a conditional update, so a second runner
    (or a job already interrupted) gets a :class:`Conflict` and changes nothing. Whatever
    goes wrong while it runs is recorded in the row (``failed``, ``error``) rather than
    raised: the caller is a worker with nobody to tell but the store.

    Parameters
    ----------
    session
        The store.
    plan_id
        The job's id.
    travel
        Travel-time provider (default from the settings).

    Raises
    ------
    NotFound
        No such job.
    Conflict
        The job is not queued (it ran, runs elsewhere, or was interrupted).
    """
    claimed = session.execute(
        sa.update(Plan)
        .where(col(Plan.id) == plan_id, col(Plan.status) == PlanStatus.QUEUED)
        .values(status=PlanStatus.RUNNING, started_at=utcnow())
    ).rowcount  # type: ignore[attr-defined]  # an UPDATE gives a CursorResult
    session.commit()
    job = session.get(Plan, plan_id)
    if job is None:
        raise NotFound("plan job", plan_id)
    if not claimed:
        raise Conflict(f"plan job {plan_id} is {job.status.value}, not queued — it cannot run")
    limits = job_limits(job)
    try:
        if job.kind is PlanKind.REPLAN:
            assert job.replan_of_id is not None
            replan(session, job.replan_of_id, limits=limits, travel=travel, seed=job.seed, job=job)
        else:
            plan_day(
                session, job.depot_id, job.service_day, limits=limits, travel=travel,
                seed=job.seed, job=job,
            )  # fmt: skip
    except PlanningFailed:
        # The row is failed with the solver's error already; its client reads it, so without
        # the server's paths (a road graph gone missing names its file).
        session.expire_all()
        failed = session.get(Plan, plan_id)
        if failed is not None and failed.error and public_error(failed.error) != failed.error:
            failed.error = public_error(failed.error)
            session.add(failed)
            session.commit()
    except Exception as exc:  # recorded, not raised: see the docstring
        session.rollback()
        if not isinstance(exc, OrchestratorError):
            _log.exception("plan job %s failed unexpectedly", plan_id)
        _fail(session, [plan_id], f"{type(exc).__name__}: {exc}")
    session.expire_all()
    done = session.get(Plan, plan_id)
    assert done is not None
    return done


def job_state(plan: Plan) -> JobState:
    """The plan's status as a job state (``current`` and ``superseded`` are ``succeeded``)."""
    return _STATE_OF[plan.status]


def job_progress(plan: Plan, *, now: datetime | None = None) -> float:
    """Estimated share done, 0 to 1 (two decimals).

    0 while queued, 1 once finished; while running, the share of the time limit elapsed
    since ``started_at`` (at most 0.99: the solve may run over its limit a little).
    """
    state = job_state(plan)
    if state in (JobState.SUCCEEDED, JobState.FAILED):
        return 1.0
    if state is JobState.QUEUED or plan.started_at is None:
        return 0.0
    elapsed = ((now or utcnow()) - plan.started_at).total_seconds()
    return round(min(_MAX_PROGRESS, max(0.0, elapsed / plan.time_limit_s)), 2)


def job_limits(plan: Plan) -> Limits:
    """The limits the job was submitted with (the time limit alone for older plans)."""
    if not plan.limits:
        return Limits(time_limit=plan.time_limit_s)
    known = {f.name for f in dataclasses.fields(Limits)}
    return Limits(**{k: v for k, v in plan.limits.items() if k in known})


def unfinished_jobs(session: Session) -> list[Plan]:
    """Jobs queued or running, oldest first."""
    return list(
        session.exec(
            select(Plan)
            .where(col(Plan.status).in_([s.value for s in _UNFINISHED]))
            .order_by(col(Plan.id))
        ).all()
    )


def interrupt_jobs(
    session: Session, plan_ids: Iterable[int] | None = None, *, reason: str = INTERRUPTED
) -> list[int]:
    """Mark queued or running jobs ``failed`` with ``reason``; returns the ids marked.

    Parameters
    ----------
    session
        The store.
    plan_ids
        The jobs to interrupt; ``None`` for every unfinished job (at start-up: nothing runs
        them any more). Finished jobs among them are left as they are.
    reason
        The error recorded (default :data:`INTERRUPTED`).
    """
    if plan_ids is None:
        ids = [p.id for p in unfinished_jobs(session) if p.id is not None]
    else:
        ids = sorted(set(plan_ids))
    return _fail(session, ids, reason) if ids else []


# -- implementation -----------------------------------------------------------------------------


def _queue(
    session: Session,
    depot_id: int,
    day: date,
    kind: PlanKind,
    replan_of_id: int | None,
    limits: Limits | None,
    seed: int,
) -> Plan:
    limits = limits or DEFAULT_LIMITS
    job = Plan(
        depot_id=depot_id,
        service_day=day,
        status=PlanStatus.QUEUED,
        kind=kind,
        replan_of_id=replan_of_id,
        time_limit_s=limits.time_limit,
        seed=seed,
        limits=dataclasses.asdict(limits),
    )
    session.add(job)
    session.commit()
    session.refresh(job)
    return job


def _fail(session: Session, plan_ids: list[int], reason: str) -> list[int]:
    """Fail those of ``plan_ids`` still unfinished (one conditional update); the ids failed."""
    unfinished = col(Plan.status).in_([s.value for s in _UNFINISHED])
    ids = list(
        session.exec(
            select(Plan.id).where(col(Plan.id).in_(plan_ids), unfinished).with_for_update()
        ).all()
    )
    if ids:
        session.execute(
            sa.update(Plan)
            .where(col(Plan.id).in_(ids), unfinished)
            .values(
                status=PlanStatus.FAILED,
                error=public_error(reason)[:_ERROR_CHARS],
                finished_at=utcnow(),
            )
        )
    session.commit()
    return sorted(i for i in ids if i is not None)
