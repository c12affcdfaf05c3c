"""Run a scenario or a sweep and write what an analyst takes away into one folder.

Shared by ``lastmile simulate`` (:mod:`api.cli`) and ``POST /simulations``
(:mod:`api.routes.simulations`), so both write the same files:

* ``report.json`` — one scenario: its report (:meth:`simulation.Report.to_json`); a sweep:
  ``{"seed", "points": [{"label", "changes", "report"}]}``;
* ``report.csv`` — one scenario: a row per replication and vehicle type; a sweep: a row per
  point with the means and 95 % CIs of the summary KPIs;
* ``report.parquet`` — the same table as Parquet, typed (:func:`simulation.report.csv_to_parquet`);
* ``report.html`` — the self-contained report with its plots (:func:`simulation.plots.html_report`);
* ``plots/cost_co2.png``, ``plots/on_time.png``, ``plots/utilisation.png`` — the same plots;
* ``cache/`` — a sweep's cached points (a resumed sweep starts from them).

:func:`run_job` is what a server's worker process runs for a job stored by
``POST /simulations`` (:mod:`orchestrator.jobs.simulations`).
"""

from __future__ import annotations

import json
import math
import signal
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from orchestrator.jobs.simulations import fail_job, finish_job, get_job
from orchestrator.models import SimulationStatus
from orchestrator.store.engine import create_engine, session_scope
from simulation.errors import ScenarioError
from simulation.plots import (
    cost_co2_figure,
    html_report,
    kpi_label,
    on_time_figure,
    utilisation_figure,
)
from simulation.report import csv_to_parquet, run
from simulation.scenario import Scenario
from simulation.sweep import SweepResult, grid, sweep

__all__ = ["KPI_COLUMNS", "KPI_LABELS", "PLOTS", "kpi_table", "run_job", "run_to_folder"]

PLOTS = {"cost_co2": cost_co2_figure, "on_time": on_time_figure, "utilisation": utilisation_figure}
"""The plots written under ``plots/``, by name."""

KPI_COLUMNS = (
    "delivered",
    "on_time_share",
    "first_attempt_success",
    "cost_per_parcel",
    "co2_g_per_parcel",
    "km",
    "utilisation",
    "unserved",
    "promises_kept_share",
)
"""The summary KPIs shown in the table and in ``GET /simulations/{id}``."""

KPI_LABELS = {key: kpi_label(key) for key in ("label", *KPI_COLUMNS)}
"""Each column's heading in words with its unit ("Cost per parcel (EUR)"), for a table a person
reads (:data:`simulation.plots.KPI_LABELS`); the keys stay the columns' names in JSON."""


def run_to_folder(
    scenario: Scenario,
    out: str | Path,
    *,
    axes: Mapping[str, Sequence[Any]] | None = None,
    seed: int | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    progress: bool | Callable[[int, int], None] = True,
) -> SweepResult:
    """Run ``scenario`` (or the sweep of ``axes`` over it) and write the outputs into ``out``.

    Parameters
    ----------
    scenario
        The validated scenario.
    out
        Folder to write into (created).
    axes
        Dotted paths and their values; empty or ``None`` runs the scenario alone.
    seed
        Seed of the run (default: the scenario's).
    workers
        Local processes of a sweep (1: this process).
    scheduler
        Address of a Dask scheduler to run a sweep on.
    progress
        ``True``: tqdm's bar of a sweep on stderr (a single scenario shows none); or called
        with ``(done, total)`` before the work and after each replication of a single
        scenario, or each scenario of a sweep (cached ones counted done at once) — the
        command line's progress bar. The files written are the same either way.

    Returns
    -------
    SweepResult
        One point per scenario run, with its report as a dict.

    Raises
    ------
    ScenarioError
        A sweep point that does not validate, or a city that cannot be loaded.
    ConnectionError
        The Dask scheduler cannot be reached.
    """
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    points = grid(scenario, dict(axes or {}))
    if not axes:
        report = run(scenario, seed=seed, progress=progress if callable(progress) else None)
        result = SweepResult(tuple(points), (report.to_dict(),), report.seed)
        (folder / "report.json").write_text(report.to_json(), encoding="utf-8")
        table = report.to_csv()
    else:
        result = sweep(
            points,
            seed=seed,
            workers=workers,
            cache_dir=folder / "cache",
            progress=progress,
            scheduler=scheduler,
        )
        document = {
            "seed": result.seed,
            "points": [
                {"label": p.label, "changes": dict(p.changes), "report": r}
                for p, r in zip(result.points, result.reports, strict=True)
            ],
        }
        text = json.dumps(document, sort_keys=True, indent=2) + "\n"
        (folder / "report.json").write_text(text, encoding="utf-8")
        table = result.to_csv()
    (folder / "report.csv").write_text(table, encoding="utf-8")
    csv_to_parquet(table, folder / "report.parquet")
    (folder / "report.html").write_text(html_report(result, title=scenario.name), encoding="utf-8")
    plots = folder / "plots"
    plots.mkdir(exist_ok=True)
    for name, draw in PLOTS.items():
        draw(result).savefig(plots / f"{name}.png", format="png", dpi=100,
                             metadata={"Software": None})  # fmt: skip
    return result


def kpi_table(result: SweepResult) -> list[dict[str, Any]]:
    """One row per point: its label and the means of :data:`KPI_COLUMNS`."""
    out = []
    for row in result.rows():
        out.append({"label": row["label"], **{k: row.get(k) for k in KPI_COLUMNS}})
    return out


def _finite(value: Any) -> Any:
    """``None`` for NaN and infinities, which a JSON column cannot hold."""
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _stop(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # not an Exception: the job is not recorded failed


def run_job(job_id: int, token: str, database_url: str, root: str) -> str:
    """Run the simulation job ``job_id`` in this process (a worker process of the server,
    :class:`api.runtime.jobs.SimulationJobs`) and record how it ended; its final status.

    The server claimed the job (:func:`orchestrator.jobs.simulations.claim_job`) and hands
    over the run's ``token``: this reads the request from the store, runs the scenario or
    the sweep into the job's folder under ``root`` and records ``succeeded`` with the KPI
    table, or ``failed`` with the exception's message on one line (without the server's
    paths: :func:`~orchestrator.jobs.simulations.fail_job`). A scenario or sweep point with a
    city read from a file is refused, never opened. A sweep's points already in the folder's
    ``cache/`` (a run a restart stopped) are not run again. If the job is no longer this
    run's (a restart re-queued it), nothing is recorded.

    Parameters
    ----------
    job_id
        The job.
    token
        The claim of this run.
    database_url
        The store's SQLAlchemy URL (a file or a server: this is another process).
    root
        The simulations folder (``Settings.simulations_dir``); the job's files go into its
        sub-folder named by the job.
    """
    # Ctrl-C reaches the whole process group; the server decides when to stop a run, and
    # stops it with SIGTERM: exit cleanly (the store's connection closed, the cached points
    # of a sweep kept) at the next step of the simulation.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop)
    engine = create_engine(database_url)
    try:
        with session_scope(engine) as session:
            job = get_job(session, job_id)
            if job is None or job.claim != token:
                return "lost"
            folder, request = Path(root) / job.folder, job.request
        # No session is open while the job runs (it may run for hours).
        try:
            scenario = Scenario.from_dict(request["scenario"])
            axes = {path: list(values) for path, values in request["axes"]}
            # The API refuses these (api.routes.simulations); a job stored before it did,
            # or by other means, still opens no file its client named.
            for point in grid(scenario, axes):
                if point.scenario.server_files():
                    raise ScenarioError(
                        "city", "a graphml city names a file on the server — refused for a "
                        "job of the API; run it with `lastmile simulate` instead",
                    )  # fmt: skip
            result = run_to_folder(scenario, folder, axes=axes, seed=request["seed"],
                                   progress=False)  # fmt: skip
            # NaN (a KPI without parcels) is null in JSON, as the API has always shown it.
            kpis = [{k: _finite(v) for k, v in row.items()} for row in kpi_table(result)]
        except Exception as exc:  # recorded for the analyst: the job is theirs to fix
            reason = " ".join(str(exc).split()) or type(exc).__name__
            with session_scope(engine) as session:
                fail_job(session, job_id, token, reason)
            return SimulationStatus.FAILED.value
        with session_scope(engine) as session:
            finish_job(session, job_id, token, kpis)
        return SimulationStatus.SUCCEEDED.value
    finally:
        engine.dispose()
