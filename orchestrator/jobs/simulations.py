"""Simulation jobs in the store: what to run, who runs it, and how it ended.

A what-if simulation (``POST /simulations``) is a job like a plan, but the orchestrator does
not know the simulator (the layering forbids importing it): a job's request is plain JSON —
the scenario's JSON dump, the sweep axes and the seed — that the API's worker turns back
into a scenario. The row is the job's state, so every server process of a store answers for
every job, and a restart loses none.

Life of a job (:class:`~orchestrator.models.SimulationStatus`)::

    queued --claim_job--> running --finish_job--> succeeded
       ^                     |  \\--fail_job----> failed
       +---- release_job ----+
       +-- requeue_interrupted (start-up)

* :func:`create_job` stores it ``queued`` with a fresh folder name.
* :func:`claim_job` takes a queued job for one run: a conditional ``UPDATE ... WHERE
  status = 'queued'``, so of any number of processes trying at once exactly one wins (it
  gets a token; the others get ``None``).
* :func:`finish_job`, :func:`fail_job` and :func:`release_job` record the end of a run, or
  give the job back to the queue (a server stopping); each applies only while the job is
  running under the caller's token, so a run that lost its claim changes nothing.
* :func:`requeue_interrupted` — at start-up, once per store, before any process runs jobs —
  gives back the jobs a stopped server left running. Unlike plans
  (:func:`orchestrator.jobs.plans.interrupt_jobs`, which fails them: a re-plan could supersede a
  newer plan), a simulation has no effect on the world and its result does not age: the
  same request gives the same numbers, and a sweep's finished points are cached in its
  folder, so resuming it costs only the points still missing.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from orchestrator.jobs.redaction import public_error
from orchestrator.models import Simulation, SimulationStatus
from orchestrator.models.columns import utcnow

__all__ = [
    "claim_job",
    "create_job",
    "fail_job",
    "finish_job",
    "get_job",
    "queued_jobs",
    "release_job",
    "requeue_interrupted",
]

_ERROR_CHARS = 2_000


def create_job(
    session: Session,
    *,
    scenario: str,
    request: dict[str, Any],
    points: int,
    replications: int,
) -> Simulation:
    """Store a queued job; returns its row (committed, so any process may run it).

    Parameters
    ----------
    session
        The store.
    scenario
        The scenario's name (shown with the job).
    request
        What to run, as JSON: ``{"scenario": ..., "axes": [[path, values], ...], "seed": ...}``.
    points
        Scenarios the job runs (1, or the sweep's combinations).
    replications
        Replications per scenario.
    """
    job = Simulation(
        scenario=scenario,
        request=request,
        points=points,
        replications=replications,
        status=SimulationStatus.QUEUED,
        # Never a reused name, even after the database is replaced: a folder holds one job.
        folder=uuid.uuid4().hex,
    )
    session.add(job)
    session.commit()
    session.refresh(job)
    return job


def get_job(session: Session, job_id: int) -> Simulation | None:
    """The job ``job_id``, read afresh from the store (another process may have moved it)."""
    job = session.get(Simulation, job_id, populate_existing=True)
    return job


def claim_job(session: Session, job_id: int) -> str | None:
    """Take the queued job ``job_id`` for one run; its token, or ``None`` when it is not
    queued (another process won it, it has ended, or there is no such job).

    The job becomes ``running`` with ``started_at`` now and one more attempt.
    """
    token = uuid.uuid4().hex
    claimed = session.execute(
        sa.update(Simulation)
        .where(col(Simulation.id) == job_id, col(Simulation.status) == SimulationStatus.QUEUED)
        .values(
            status=SimulationStatus.RUNNING,
            claim=token,
            started_at=utcnow(),
            attempts=col(Simulation.attempts) + 1,
        )
    ).rowcount  # type: ignore[attr-defined]  # an UPDATE gives a CursorResult
    session.commit()
    return token if claimed else None


def finish_job(session: Session, job_id: int, token: str, kpis: list[dict[str, Any]]) -> bool:
    """Record the run ``token`` of ``job_id`` succeeded with ``kpis``; whether it held it."""
    return _end(session, job_id, token, status=SimulationStatus.SUCCEEDED, kpis=kpis,
                finished_at=utcnow())  # fmt: skip


def fail_job(session: Session, job_id: int, token: str, error: str) -> bool:
    """Record the run ``token`` of ``job_id`` failed with ``error`` (one line saying why,
    stored without the server's paths: :func:`~orchestrator.jobs.redaction.public_error`);
    whether it held the job."""
    return _end(session, job_id, token, status=SimulationStatus.FAILED,
                error=public_error(error)[:_ERROR_CHARS], finished_at=utcnow())  # fmt: skip


def release_job(session: Session, job_id: int, token: str) -> bool:
    """Give the running job back to the queue (its server stops before it ends); whether
    the run ``token`` held it. The folder keeps what the run finished."""
    return _end(session, job_id, token, status=SimulationStatus.QUEUED, claim=None,
                started_at=None)  # fmt: skip


def requeue_interrupted(session: Session) -> list[int]:
    """Queue again the jobs a stopped server left running; their ids.

    Call it once per store at start-up, before any process runs jobs: a job running then
    has no live run (its token is dropped, so if an orphaned run of it still ends, it
    records nothing).
    """
    running = col(Simulation.status) == SimulationStatus.RUNNING
    ids = [i for i in session.exec(select(Simulation.id).where(running)).all() if i is not None]
    if ids:
        session.execute(
            sa.update(Simulation)
            .where(col(Simulation.id).in_(ids), running)
            .values(status=SimulationStatus.QUEUED, claim=None, started_at=None)
        )
    session.commit()
    return sorted(ids)


def queued_jobs(session: Session) -> list[int]:
    """Ids of the queued jobs, oldest first."""
    return [
        i
        for i in session.exec(
            select(Simulation.id)
            .where(col(Simulation.status) == SimulationStatus.QUEUED)
            .order_by(col(Simulation.id))
        ).all()
        if i is not None
    ]


def _end(session: Session, job_id: int, token: str, **values: Any) -> bool:
    changed = session.execute(
        sa.update(Simulation)
        .where(
            col(Simulation.id) == job_id,
            col(Simulation.status) == SimulationStatus.RUNNING,
            col(Simulation.claim) == token,
        )
        .values(**values)
    ).rowcount  # type: ignore[attr-defined]  # an UPDATE gives a CursorResult
    session.commit()
    return bool(changed)
