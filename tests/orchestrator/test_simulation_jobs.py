"""Simulation jobs in the store (SQLite and PostgreSQL): exactly one claimer wins a queued
job, only the run holding it records its end, a restart queues running jobs again, and
revision 0006 adds the table without touching other rows and downgrades."""

from __future__ import annotations

import threading
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from orchestrator.jobs.simulations import (
    claim_job,
    create_job,
    fail_job,
    finish_job,
    get_job,
    queued_jobs,
    release_job,
    requeue_interrupted,
)
from orchestrator.models import SimulationStatus
from orchestrator.settings import Settings
from tests.orchestrator.test_migrations import _fill_0001, _migrate, _snapshot, empty_engine

__all__ = ["empty_engine"]  # the fixture, re-used from the 0001/0002 tests

REQUEST: dict[str, Any] = {
    "scenario": {"name": "tiny", "replications": 1},
    # The second axis sorts before the first: their order must survive the JSON column.
    "axes": [["policies.concierge", [True, False]], ["fleet.hubs.0.vehicles.robot", [0, 2]]],
    "seed": 7,
}
KPIS = [{"label": "concierge=True, robot=0", "delivered": 34.0, "utilisation": None}]


def _job(session: Session) -> int:
    job = create_job(session, scenario="tiny", request=REQUEST, points=4, replications=1)
    assert job.id is not None
    return job.id


def test_a_job_is_stored_queued_with_its_request(session: Session) -> None:
    first, second = _job(session), _job(session)
    job = get_job(session, first)
    assert job is not None
    assert job.status is SimulationStatus.QUEUED and job.attempts == 0
    assert job.request == REQUEST  # axes in their order, booleans and nulls kept
    assert (job.scenario, job.points, job.replications) == ("tiny", 4, 1)
    assert job.created_at.tzinfo is UTC and job.started_at is job.finished_at is None
    other = get_job(session, second)
    assert other is not None and len(job.folder) == 32 and job.folder != other.folder
    assert get_job(session, 999) is None
    assert queued_jobs(session) == [first, second]


def test_exactly_one_of_many_claimers_wins(engine: Engine) -> None:
    with Session(engine) as session:
        job_id = _job(session)
    claimers = 8
    start = threading.Barrier(claimers)
    won: list[str | None] = []

    def claim() -> None:
        with Session(engine) as own:
            start.wait()
            won.append(claim_job(own, job_id))

    threads = [threading.Thread(target=claim) for _ in range(claimers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    tokens = [t for t in won if t is not None]
    assert len(won) == claimers and len(tokens) == 1
    with Session(engine) as session:
        job = get_job(session, job_id)
        assert job is not None
        assert job.status is SimulationStatus.RUNNING and job.claim == tokens[0]
        assert job.attempts == 1 and job.started_at is not None
        assert claim_job(session, job_id) is None  # running: not claimable
        assert claim_job(session, 999) is None
        assert queued_jobs(session) == []


def test_only_the_run_holding_a_job_records_its_end(session: Session) -> None:
    done, failed = _job(session), _job(session)
    token = claim_job(session, done)
    assert token is not None
    assert not finish_job(session, done, "not-the-token", KPIS)
    assert get_job(session, done).status is SimulationStatus.RUNNING  # type: ignore[union-attr]
    assert finish_job(session, done, token, KPIS)
    job = get_job(session, done)
    assert job is not None and job.status is SimulationStatus.SUCCEEDED
    assert job.kpis == KPIS and job.finished_at is not None and job.error is None
    assert not fail_job(session, done, token, "too late")  # ended: nothing changes
    assert get_job(session, done).status is SimulationStatus.SUCCEEDED  # type: ignore[union-attr]

    token = claim_job(session, failed)
    assert token is not None
    assert fail_job(session, failed, token, "x" * 5_000)
    job = get_job(session, failed)
    assert job is not None and job.status is SimulationStatus.FAILED
    assert job.error == "x" * 2_000 and job.kpis is None


def test_a_released_or_interrupted_job_is_queued_again(session: Session) -> None:
    released, interrupted, queued, succeeded = (_job(session) for _ in range(4))
    token = claim_job(session, released)
    assert token is not None and release_job(session, released, token)
    job = get_job(session, released)
    assert job is not None and job.status is SimulationStatus.QUEUED
    assert job.claim is None and job.started_at is None and job.attempts == 1

    stale = claim_job(session, interrupted)
    finished = claim_job(session, succeeded)
    assert stale is not None and finished is not None
    assert finish_job(session, succeeded, finished, KPIS)

    # A server stopped without releasing ``interrupted``: the next start queues it again.
    assert requeue_interrupted(session) == [interrupted]
    assert requeue_interrupted(session) == []
    assert queued_jobs(session) == [released, interrupted, queued]
    # An orphaned run of the old claim ends later: it records nothing.
    assert not finish_job(session, interrupted, stale, KPIS)
    assert not release_job(session, interrupted, stale)
    job = get_job(session, interrupted)
    assert job is not None and job.status is SimulationStatus.QUEUED and job.kpis is None
    # The resumed run holds it now.
    resumed = claim_job(session, interrupted)
    assert resumed is not None and resumed != stale
    assert finish_job(session, interrupted, resumed, KPIS)
    job = get_job(session, interrupted)
    assert job is not None and job.attempts == 2 and job.status is SimulationStatus.SUCCEEDED
    succeeded_job = get_job(session, succeeded)
    assert succeeded_job is not None and succeeded_job.status is SimulationStatus.SUCCEEDED


def test_the_files_go_beside_the_default_database_unless_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LASTMILE_SIMULATIONS_DIR", raising=False)
    monkeypatch.delenv("LASTMILE_DATABASE_URL", raising=False)
    settings = Settings()
    assert settings.simulations_dir == tmp_path / "var" / "simulations"
    assert settings.database_url == f"sqlite:///{tmp_path / 'var' / 'lastmile.db'}"
    monkeypatch.setenv("LASTMILE_SIMULATIONS_DIR", str(tmp_path / "elsewhere"))
    assert Settings().simulations_dir == tmp_path / "elsewhere"


def test_0006_adds_the_table_and_downgrades(empty_engine: Engine) -> None:
    _migrate(empty_engine, "0001")
    _fill_0001(empty_engine)
    _migrate(empty_engine, "0005")
    old = sa.MetaData()
    old.reflect(empty_engine)
    tables = [t for t in old.sorted_tables if t.name != "alembic_version"]
    before = _snapshot(empty_engine, tables)
    assert "simulation_jobs" not in old.tables

    _migrate(empty_engine, "0006")

    assert _snapshot(empty_engine, tables) == before
    inspector = sa.inspect(empty_engine)
    columns = {c["name"] for c in inspector.get_columns("simulation_jobs")}
    assert columns >= {"id", "scenario", "request", "points", "replications", "status",
                       "folder", "kpis", "error", "claim", "attempts", "created_at",
                       "started_at", "finished_at"}  # fmt: skip
    indexes = {i["name"]: i["column_names"] for i in inspector.get_indexes("simulation_jobs")}
    assert indexes["ix_simulation_jobs_status"] == ["status"]
    with Session(empty_engine) as session:
        job_id = _job(session)
        token = claim_job(session, job_id)
        assert token is not None and finish_job(session, job_id, token, KPIS)

    _migrate(empty_engine, "0005", down=True)

    assert "simulation_jobs" not in sa.inspect(empty_engine).get_table_names()
    assert _snapshot(empty_engine, tables) == before
