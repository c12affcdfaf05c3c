"""``simulation.run(scenario, *, seed) -> Report``: run the replications, gather the KPIs.

The report is a frozen value: its JSON (:meth:`Report.to_json`) is the same byte for byte for
the same scenario and seed — wall-clock figures live apart in :attr:`Report.performance` and
enter the JSON only when asked. :meth:`Report.to_csv` gives one row per replication and
vehicle type (plus an ``all`` row per replication), ready for a spreadsheet or pandas.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulation.kpis import Estimate, ReplicationKpis, replication_kpis, summarise
from simulation.scenario import Scenario
from simulation.twin import Twin

__all__ = ["Performance", "Report", "csv_to_parquet", "run", "run_replication"]


@dataclass(frozen=True, slots=True)
class Performance:
    """Wall-clock figures of a run (not part of the reproducible report).

    ``seconds``: the whole run; ``plan_seconds``: inside planning waves (problem building and
    solving); ``option_seconds``: the concierge's options; ``events``: SimPy events
    processed; ``events_per_second``: events over the seconds the event loop ran outside
    planning and options (the SimPy core with its processes; drawing the world excluded).
    """

    seconds: float
    plan_seconds: float
    option_seconds: float
    events: int
    events_per_second: float


@dataclass(frozen=True, slots=True)
class Report:
    """What a scenario's replications measured.

    Parameters
    ----------
    scenario
        The scenario that ran.
    scenario_digest
        sha256 of the scenario's canonical JSON.
    seed
        Seed of the run.
    replications
        KPIs of each replication.
    summary
        Means with 95 % CIs over replications, by metric.
    per_type
        The same per vehicle type.
    performance
        Wall-clock figures (left out of :meth:`to_json` unless asked).
    """

    scenario: Scenario
    scenario_digest: str
    seed: int
    replications: tuple[ReplicationKpis, ...]
    summary: Mapping[str, Estimate]
    per_type: Mapping[str, Mapping[str, Estimate]]
    performance: Performance

    def to_dict(self, *, performance: bool = False) -> dict[str, Any]:
        """A JSON-ready dict (``nan`` becomes ``None``)."""
        out: dict[str, Any] = {
            "scenario": self.scenario.name,
            "scenario_digest": self.scenario_digest,
            "seed": self.seed,
            "days": self.scenario.days,
            "summary": {k: dataclasses.asdict(v) for k, v in self.summary.items()},
            "per_type": {
                t: {k: dataclasses.asdict(v) for k, v in m.items()}
                for t, m in self.per_type.items()
            },
            "replications": [_replication(r) for r in self.replications],
        }
        if performance:
            out["performance"] = dataclasses.asdict(self.performance)
        cleaned: dict[str, Any] = _clean(out)
        return cleaned

    def to_json(self, *, performance: bool = False) -> str:
        """The report as JSON, keys sorted: same scenario and seed, same text."""
        return json.dumps(self.to_dict(performance=performance), sort_keys=True, indent=2) + "\n"

    def to_csv(self) -> str:
        """One row per replication and vehicle type, and an ``all`` row per replication."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(
            ["scenario", "seed", "replication", "vehicle_type", "delivered", "on_time_share",
             "first_attempt_success", "cost_per_parcel", "co2_g_per_parcel", "km",
             "utilisation", "failed", "unserved"]
        )  # fmt: skip
        for r in self.replications:
            writer.writerow(
                [self.scenario.name, self.seed, r.replication, "all", r.delivered,
                 _cell(r.on_time_share), _cell(r.first_attempt_success),
                 _cell(r.cost_per_parcel), _cell(r.co2_g_per_parcel), _cell(r.km),
                 _cell(r.utilisation), r.failed, r.unserved]
            )  # fmt: skip
            for t in r.per_type:
                writer.writerow(
                    [self.scenario.name, self.seed, r.replication, t.vehicle_type, t.delivered,
                     _cell(t.on_time_share), _cell(t.first_attempt_success),
                     _cell(t.cost_per_parcel), _cell(t.co2_g_per_parcel), _cell(t.km),
                     _cell(t.utilisation), "", ""]
                )  # fmt: skip
        return buffer.getvalue()

    def write(self, folder: str | Path) -> tuple[Path, Path]:
        """Write ``report.json`` and ``report.csv`` into ``folder``; their paths."""
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        json_path, csv_path = out / "report.json", out / "report.csv"
        json_path.write_text(self.to_json(), encoding="utf-8")
        csv_path.write_text(self.to_csv(), encoding="utf-8")
        return json_path, csv_path


def csv_to_parquet(text: str, path: str | Path) -> Path:
    """Write a report's CSV table (:meth:`Report.to_csv`, :meth:`SweepResult.to_csv`) as
    Parquet at ``path``: the same rows and columns, typed (integers, floats, text; an empty
    cell is null), for pandas, Polars, DuckDB or Spark. The same table gives the same bytes.
    """
    import pyarrow.csv as pa_csv  # only the Parquet output needs Arrow
    import pyarrow.parquet as pq

    table = pa_csv.read_csv(io.BytesIO(text.encode("utf-8")))
    out = Path(path)
    pq.write_table(table, out)
    return out


def run_replication(scenario: Scenario, replication: int, *, seed: int | None = None) -> Twin:
    """Run one replication and return the twin (its orders, agents and logs) for inspection."""
    twin = Twin(scenario, replication, seed=seed)
    twin.run()
    return twin


def run(
    scenario: Scenario,
    *,
    seed: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    """Run every replication of a scenario and gather the KPIs.

    Parameters
    ----------
    scenario
        The validated scenario (:func:`simulation.load_scenario`).
    seed
        Seed of the run (default: the scenario's ``seed``); replication ``r`` draws from
        ``SeedSequence((seed, r))``.
    progress
        Called with ``(replications done, replications)`` before the first replication and
        after each (a command's progress bar); it does not change the report.

    Returns
    -------
    Report
        Per replication and per vehicle type KPIs, means with 95 % CIs.

    Raises
    ------
    ScenarioError
        If the scenario's city cannot be loaded.
    InvariantError
        If the simulation broke one of its invariants (a bug: please report it).
    """
    seed = scenario.seed if seed is None else seed
    t0 = time.perf_counter()
    reps: list[ReplicationKpis] = []
    plan_s = option_s = run_s = 0.0
    events = 0
    if progress is not None:
        progress(0, scenario.replications)
    for r in range(scenario.replications):
        twin = run_replication(scenario, r, seed=seed)
        reps.append(replication_kpis(twin))
        if progress is not None:
            progress(r + 1, scenario.replications)
        plan_s += twin.plan_seconds
        option_s += twin.option_seconds
        run_s += twin.run_seconds
        events += twin.env.events_processed
    seconds = time.perf_counter() - t0
    core = max(run_s - plan_s - option_s, 1e-9)
    overall, per_type = summarise(reps)
    return Report(
        scenario=scenario,
        scenario_digest=scenario.digest(),
        seed=seed,
        replications=tuple(reps),
        summary=overall,
        per_type=per_type,
        performance=Performance(
            seconds=round(seconds, 3),
            plan_seconds=round(plan_s, 3),
            option_seconds=round(option_s, 3),
            events=events,
            events_per_second=round(events / core, 1),
        ),
    )


def _replication(r: ReplicationKpis) -> dict[str, Any]:
    """A replication's KPIs; without returns simulated, no ``returns`` key (the report of a
    scenario written before returns existed keeps its bytes)."""
    out = dataclasses.asdict(r)
    if out["returns"] is None:
        del out["returns"]
    return out


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _cell(x: float) -> str:
    return "" if math.isnan(x) else repr(x)
