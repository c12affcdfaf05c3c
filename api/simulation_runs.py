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
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from simulation.plots import cost_co2_figure, html_report, on_time_figure, utilisation_figure
from simulation.report import csv_to_parquet, run
from simulation.scenario import Scenario
from simulation.sweep import SweepResult, grid, sweep

__all__ = ["KPI_COLUMNS", "PLOTS", "STARTED", "kpi_table", "run_job", "run_to_folder"]

STARTED = "started"
"""Marker file :func:`run_job` writes into its folder when a worker picks the job up."""

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
)
"""The summary KPIs shown in the table and in ``GET /simulations/{id}``."""


def run_to_folder(
    scenario: Scenario,
    out: str | Path,
    *,
    axes: Mapping[str, Sequence[Any]] | None = None,
    seed: int | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    progress: bool = True,
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
        Progress bar of a sweep on stderr.

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
        report = run(scenario, seed=seed)
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


def run_job(
    scenario_data: Mapping[str, Any],
    axes: Mapping[str, Sequence[Any]],
    seed: int | None,
    folder: str,
) -> list[dict[str, Any]]:
    """What a worker process runs for ``POST /simulations``: mark the folder started, run
    the scenario (its JSON dump) or the sweep into it in this process, return the KPI table.
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    (out / STARTED).write_text("", encoding="utf-8")
    scenario = Scenario.from_dict(scenario_data)
    return kpi_table(run_to_folder(scenario, out, axes=axes, seed=seed, progress=False))
