"""Simulation jobs: a what-if simulation (a scenario or a sweep) the server runs in the
background."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlmodel import Field

from orchestrator.models._fields import (
    StorableModel,
    created_at_field,
    enum_field,
    json_field,
    timestamp_field,
)

__all__ = ["Simulation", "SimulationStatus"]


class SimulationStatus(StrEnum):
    """Life of a simulation job (:mod:`orchestrator.jobs.simulations`)."""

    QUEUED = "queued"
    """Waiting for a server process to run it (new, or left unfinished by a stopped server)."""
    RUNNING = "running"
    """Claimed by one server process, whose worker is simulating."""
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Simulation(StorableModel, table=True):
    """Table ``simulation_jobs``: one what-if simulation (a scenario or a sweep) run as a job.

    ``request`` is what to run, as plain JSON — the orchestrator does not know the simulator:
    ``{"scenario": <the scenario's JSON dump>, "axes": [[dotted path, [values]], ...],
    "seed": int | null}`` (axes as pairs, so their order, which orders the sweep's points,
    survives any JSON column). ``folder`` names the job's folder under the server's
    simulations folder, where the worker writes the report, the plots and a sweep's cached
    points. ``claim`` is the token of the run that holds a running job: only that run may
    record its end, so a run a restart gave up on cannot overwrite the one that resumed it.
    """

    __tablename__ = "simulation_jobs"

    id: int | None = Field(default=None, primary_key=True)
    scenario: str = Field(max_length=200, description="The scenario's name.")
    request: dict[str, Any] = json_field(description="Scenario JSON dump, axes and seed.")
    points: int = Field(ge=1, description="Scenarios to run: 1, or the sweep's combinations.")
    replications: int = Field(ge=1, description="Replications per scenario.")
    status: SimulationStatus = enum_field(SimulationStatus, SimulationStatus.QUEUED, index=True)
    folder: str = Field(max_length=64, unique=True, description="Folder name of the files.")
    kpis: list[dict[str, Any]] | None = json_field(
        default=None, description="Once succeeded: per scenario its label and KPI means."
    )
    error: str | None = Field(default=None, max_length=2_000)
    claim: str | None = Field(default=None, max_length=32, description="Token of the run.")
    attempts: int = Field(default=0, description="Runs started (more than 1: resumed).")
    created_at: datetime = created_at_field()
    started_at: datetime | None = timestamp_field(default=None, description="Last run started.")
    finished_at: datetime | None = timestamp_field(default=None, description="Job ended.")
