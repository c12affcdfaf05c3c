"""Plan jobs kept in the store: queued rows, run once into the same row, failed with the reason,
interrupted after a restart, and the same one-transaction guarantees as a direct plan."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from orchestrator.errors import Conflict, InvalidInput, NotFound
from orchestrator.intake.orders import register_order
from orchestrator.jobs.plans import (
    DEFAULT_LIMITS,
    INTERRUPTED,
    JobState,
    interrupt_jobs,
    job_limits,
    job_progress,
    job_state,
    run_job,
    submit_plan,
    submit_replan,
    unfinished_jobs,
)
from orchestrator.models import Plan, PlanKind, PlanStatus, Route, RouteStop, StopStatus
from orchestrator.operations.dispatch import dispatch_route
from orchestrator.planning import plans as planning
from orchestrator.planning.plans import current_plan, plan_routes, route_stops
from routing import Limits, SolverError
from tests.orchestrator.conftest import DAY, LIMITS, TRAVEL, World, order_data


def _orders(session: Session, world: World, n: int, *, tag: str = "o") -> None:
    for k in range(n):
        register_order(session, order_data(world), f"{tag}-{k}")


def _count(session: Session, model: type) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def _done(session: Session, world: World) -> Plan:
    """A queued job of the world's day, run to its end."""
    job = submit_plan(session, world.depot.id or 0, DAY, limits=LIMITS)
    return run_job(session, job.id or 0, travel=TRAVEL)


def test_submit_queues_a_row_with_the_request(session: Session, world: World) -> None:
    job = submit_plan(session, world.depot.id or 0, DAY, limits=LIMITS, seed=7)
    assert job.id is not None
    assert job.status is PlanStatus.QUEUED and job_state(job) is JobState.QUEUED
    assert job.kind is PlanKind.DAY and job.seed == 7 and job.time_limit_s == 5.0
    assert job.started_at is None and job.finished_at is None and job_progress(job) == 0
    assert job_limits(job) == LIMITS
    assert current_plan(session, world.depot.id or 0, DAY) is None  # nothing planned yet
    assert unfinished_jobs(session) == [job]


def test_submit_checks_the_request_at_once(session: Session, world: World) -> None:
    with pytest.raises(InvalidInput) as caught:
        submit_plan(session, 999, DAY)
    assert caught.value.field == ("depot_id",)
    with pytest.raises(NotFound):
        submit_replan(session, 999)
    assert _count(session, Plan) == 0


def test_run_fills_the_job_row_with_the_plan(session: Session, world: World) -> None:
    _orders(session, world, 3)
    job = submit_plan(session, world.depot.id or 0, DAY, limits=LIMITS)
    assert job.id is not None

    done = run_job(session, job.id, travel=TRAVEL)

    assert done.id == job.id and done.status is PlanStatus.CURRENT
    assert job_state(done) is JobState.SUCCEEDED and job_progress(done) == 1
    assert done.n_served == 3 and done.error is None
    assert done.started_at is not None and done.finished_at is not None
    assert done.created_at <= done.started_at <= done.finished_at
    assert current_plan(session, world.depot.id or 0, DAY) == done
    assert _count(session, Plan) == 1  # the job is the plan: no second row
    assert sum(len(route_stops(session, r.id or 0)) for r in plan_routes(session, job.id)) == 3


def test_a_job_runs_once(session: Session, world: World) -> None:
    done = _done(session, world)
    with pytest.raises(Conflict, match="not queued"):
        run_job(session, done.id or 0, travel=TRAVEL)
    with pytest.raises(NotFound):
        run_job(session, 999_999, travel=TRAVEL)


def test_second_job_supersedes_the_first(session: Session, world: World) -> None:
    _orders(session, world, 2)
    first = _done(session, world)
    second = _done(session, world)
    session.refresh(first)
    assert first.status is PlanStatus.SUPERSEDED and job_state(first) is JobState.SUCCEEDED
    assert second.status is PlanStatus.CURRENT and second.replan_of_id == first.id


def test_failed_solve_fails_the_job_and_keeps_the_previous_plan(
    session: Session, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    _orders(session, world, 3)
    first = _done(session, world)
    routes_before = _count(session, Route)

    def broken(*_args: object, **_kwargs: object) -> None:
        raise SolverError("solver crashed")

    monkeypatch.setattr(planning, "solve", broken)
    failed = _done(session, world)

    assert failed.status is PlanStatus.FAILED and job_state(failed) is JobState.FAILED
    assert "solver crashed" in (failed.error or "") and failed.finished_at is not None
    assert job_progress(failed) == 1
    assert current_plan(session, world.depot.id or 0, DAY) == first
    assert _count(session, Route) == routes_before


def test_failed_write_fails_the_job_and_writes_nothing(
    session: Session, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    _orders(session, world, 2)
    first = _done(session, world)
    stops_before = _count(session, RouteStop)
    real = planning._persist

    def half_written(*args: object, **kwargs: object) -> Plan:
        real(*args, **kwargs)  # type: ignore[arg-type]
        raise RuntimeError("disk full")

    monkeypatch.setattr(planning, "_persist", half_written)
    failed = _done(session, world)

    assert failed.status is PlanStatus.FAILED and failed.error == "RuntimeError: disk full"
    assert _count(session, RouteStop) == stops_before
    session.refresh(first)
    assert first.status is PlanStatus.CURRENT


def test_plan_job_on_a_dispatched_day_is_refused(session: Session, world: World) -> None:
    _orders(session, world, 2)
    first = _done(session, world)
    dispatch_route(session, plan_routes(session, first.id or 0)[0].id or 0, stops=1)
    with pytest.raises(Conflict, match="replan"):
        submit_plan(session, world.depot.id or 0, DAY)


def test_replan_job_keeps_dispatched_stops(session: Session, world: World) -> None:
    _orders(session, world, 4)
    first = _done(session, world)
    route = plan_routes(session, first.id or 0)[0]
    dispatch_route(session, route.id or 0, stops=1)
    locked = route_stops(session, route.id or 0)[0].order_id
    _orders(session, world, 1, tag="late")

    job = submit_replan(session, first.id or 0, limits=LIMITS, seed=3)
    assert job.kind is PlanKind.REPLAN and job.replan_of_id == first.id
    done = run_job(session, job.id or 0, travel=TRAVEL)

    assert done.status is PlanStatus.CURRENT and done.n_served == 5
    same = [r for r in plan_routes(session, done.id or 0) if r.vehicle_id == route.vehicle_id]
    first_stop = route_stops(session, same[0].id or 0)[0]
    assert (first_stop.order_id, first_stop.status) == (locked, StopStatus.DISPATCHED)


def test_replan_job_of_a_plan_superseded_meanwhile_fails(session: Session, world: World) -> None:
    _orders(session, world, 2)
    first = _done(session, world)
    job = submit_replan(session, first.id or 0, limits=LIMITS)
    newer = _done(session, world)  # the day was planned again before the re-plan ran

    failed = run_job(session, job.id or 0, travel=TRAVEL)

    assert failed.status is PlanStatus.FAILED and "superseded" in (failed.error or "")
    assert current_plan(session, world.depot.id or 0, DAY) == newer


def test_interrupt_fails_queued_and_running_jobs_only(session: Session, world: World) -> None:
    _orders(session, world, 1)
    done = _done(session, world)
    queued = submit_plan(session, world.depot.id or 0, DAY, limits=LIMITS)
    running = submit_plan(session, world.depot.id or 0, DAY, limits=LIMITS)
    running.status, running.started_at = PlanStatus.RUNNING, running.created_at
    session.add(running)
    session.commit()

    assert interrupt_jobs(session) == sorted([queued.id or 0, running.id or 0])

    for job in (queued, running):
        session.refresh(job)
        assert job.status is PlanStatus.FAILED and job.error == INTERRUPTED
        assert job.finished_at is not None
    session.refresh(done)
    assert done.status is PlanStatus.CURRENT and done.error is None
    assert unfinished_jobs(session) == [] and interrupt_jobs(session) == []
    with pytest.raises(Conflict):
        run_job(session, queued.id or 0, travel=TRAVEL)


def test_interrupt_only_the_given_jobs(session: Session, world: World) -> None:
    one = submit_plan(session, world.depot.id or 0, DAY)
    two = submit_plan(session, world.depot.id or 0, DAY)
    assert interrupt_jobs(session, [two.id or 0], reason="cancelled") == [two.id]
    session.refresh(one)
    session.refresh(two)
    assert one.status is PlanStatus.QUEUED
    assert (two.status, two.error) == (PlanStatus.FAILED, "cancelled")


def test_a_job_interrupted_while_it_solves_writes_nothing(
    engine: Engine, session: Session, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A new server marked the job interrupted while an orphaned worker was still solving it.
    _orders(session, world, 2)
    job = submit_plan(session, world.depot.id or 0, DAY, limits=LIMITS)
    real = planning.solve

    def solve_then_restart(*args: object, **kwargs: object) -> object:
        solution = real(*args, **kwargs)  # type: ignore[arg-type]
        with Session(engine) as other:
            assert interrupt_jobs(other) == [job.id]
        return solution

    monkeypatch.setattr(planning, "solve", solve_then_restart)
    done = run_job(session, job.id or 0, travel=TRAVEL)

    assert done.status is PlanStatus.FAILED and done.error == INTERRUPTED
    assert _count(session, Route) == 0
    assert current_plan(session, world.depot.id or 0, DAY) is None


def test_progress_is_the_share_of_the_time_limit(session: Session, world: World) -> None:
    job = submit_plan(session, world.depot.id or 0, DAY, limits=Limits(time_limit=4.0))
    job.status = PlanStatus.RUNNING
    job.started_at = job.created_at
    assert job_progress(job, now=job.created_at) == 0
    assert job_progress(job, now=job.created_at + timedelta(seconds=1)) == 0.25
    assert job_progress(job, now=job.created_at + timedelta(seconds=60)) == 0.99


def test_limits_of_older_plans_are_their_time_limit(session: Session, world: World) -> None:
    job = submit_plan(session, world.depot.id or 0, DAY)
    assert job_limits(job) == DEFAULT_LIMITS
    job.limits = None  # as migrated from revision 0001
    assert job_limits(job) == Limits(time_limit=DEFAULT_LIMITS.time_limit)
