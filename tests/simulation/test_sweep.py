"""Sweeps: the grid, the cache that lets an interrupted sweep resume, local processes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from simulation.errors import ScenarioError
from simulation.scenario import Scenario
from simulation.sweep import grid, sweep


def test_grid_is_every_combination_in_order(tiny: Scenario) -> None:
    axes = {"fleet.hubs.0.vehicles.robot": [0, 2], "policies.concierge": [True, False]}
    points = grid(tiny, axes)
    assert [p.label for p in points] == [
        "robot=0, concierge=True",
        "robot=0, concierge=False",
        "robot=2, concierge=True",
        "robot=2, concierge=False",
    ]
    assert points[3].scenario.fleet.hubs[0].vehicles["robot"] == 2
    assert points[3].scenario.policies.concierge is False


def test_grid_names_a_bad_point(tiny: Scenario) -> None:
    with pytest.raises(ScenarioError, match=r"sweep point \[presence=2\]") as caught:
        grid(tiny, {"noise.presence": [0.5, 2]})
    assert caught.value.field == "noise.presence"
    with pytest.raises(ScenarioError, match="at least one value"):
        grid(tiny, {"noise.presence": []})


def test_cached_points_are_not_run_again(tiny: Scenario, tmp_path: Path) -> None:
    points = grid(tiny, {"policies.concierge": [True, False]})
    first = sweep(points, cache_dir=tmp_path, progress=False)
    files = sorted(tmp_path.glob("*.json"))
    assert len(files) == 2
    # Tamper with one cached report: a resumed sweep must read it, not recompute it.
    data = json.loads(files[0].read_text(encoding="utf-8"))
    data["summary"]["delivered"]["mean"] = -1.0
    files[0].write_text(json.dumps(data), encoding="utf-8")
    again = sweep(points, cache_dir=tmp_path, progress=False)
    assert sorted(r["summary"]["delivered"]["mean"] for r in again.reports)[0] == -1.0
    assert [r["scenario_digest"] for r in again.reports] == [
        r["scenario_digest"] for r in first.reports
    ]


def test_half_written_cache_file_is_run_again(tiny: Scenario, tmp_path: Path) -> None:
    (point,) = grid(tiny, {"policies.concierge": [True]})
    sweep([point], cache_dir=tmp_path, progress=False)
    (path,) = tmp_path.glob("*.json")
    path.write_text('{"summary": ', encoding="utf-8")
    result = sweep([point], cache_dir=tmp_path, progress=False)
    assert result.reports[0]["summary"]["delivered"]["mean"] > 0
    stored = json.loads(path.read_text(encoding="utf-8"))
    assert stored["scenario_digest"] == point.scenario.digest()


def test_rows_and_csv(tiny: Scenario) -> None:
    result = sweep(grid(tiny, {"policies.concierge": [True, False]}), progress=False)
    rows = result.rows()
    assert rows[0]["policies.concierge"] is True and "cost_per_parcel_low" in rows[0]
    assert result.to_csv().splitlines()[0].startswith("label,policies.concierge,")


@pytest.mark.slow
def test_local_processes_give_the_same_numbers(tiny: Scenario) -> None:
    points = grid(tiny, {"fleet.hubs.0.vehicles.robot": [0, 2]})
    alone = sweep(points, progress=False)
    pooled = sweep(points, workers=2, progress=False)
    assert alone.reports == pooled.reports
