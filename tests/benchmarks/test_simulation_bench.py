"""The simulator benchmark on a tiny run: its table and its JSON keys."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from benchmarks import simulation
from benchmarks.simulation import day_scenario, main, sweep_points
from simulation.sweep import SweepPoint

KEYS = {"orders", "agents", "day_seconds", "events_per_second", "sweep_workers", "sweep_speedup"}


def test_tiny_run_writes_the_figures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The benchmark's own sweep points on 60 orders a day instead of 300: the command and its
    # figures are what is tested here (the points themselves below), not the simulator's load.
    def smaller(count: int, replications: int) -> list[SweepPoint]:
        return [
            dataclasses.replace(p, scenario=p.scenario.with_changes({"demand.orders_per_day": 60}))
            for p in sweep_points(count, replications)
        ]

    monkeypatch.setattr(simulation, "sweep_points", smaller)
    out = tmp_path / "sim.json"
    argv = ["--orders", "60", "--agents", "8", "--sweep-scenarios", "2", "--replications", "1",
            "--json", str(out)]  # fmt: skip
    assert main(argv) == 0
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert set(figures) >= KEYS
    assert figures["orders"] == 60 and figures["agents"] == 8 and figures["sweep_workers"] == 2
    assert figures["day_seconds"] > 0 and figures["events_per_second"] > 0
    assert figures["sweep_speedup"] > 0
    assert "speed-up" in capsys.readouterr().out


def test_the_day_has_the_agents_asked_for() -> None:
    scenario = day_scenario(500, 100)
    vehicles = sum(n for hub in scenario.fleet.hubs for n in hub.vehicles.values())
    assert vehicles + scenario.fleet.couriers.size == 100
    assert scenario.demand.orders_per_day == 500 and scenario.replications == 1


def test_sweep_points_are_distinct() -> None:
    points = sweep_points(12, 3)
    assert len(points) == 12
    assert len({p.scenario.digest() for p in points}) == 12
    assert all(p.scenario.replications == 3 for p in points)


def test_bad_arguments_exit_2() -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--workers", "1"])
    assert caught.value.code == 2
