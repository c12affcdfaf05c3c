"""The product suite's runners and CLI: every solver's plan passes the independent checker."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from benchmarks.product import generate
from benchmarks.product_checker import check_plan
from benchmarks.product_runs import (
    PlanRun,
    evaluate,
    format_row,
    run_lastmile,
    run_pyvrp,
    run_vroom,
)
from benchmarks.routing import main
from routing import (
    Location,
    Problem,
    Stop,
    TimeWindow,
    TravelMatrix,
    Vehicle,
    VehicleType,
    _pyvrp,
)

JSON_KEYS = {
    "suite",
    "variant",
    "time_limit",
    "rows",
    "mean_ratio_pyvrp",
    "max_ratio_pyvrp",
    "mean_ratio_vroom",
    "peak_rss_mb",
}
ROW_KEYS = {
    "instance",
    "stops",
    "solver",
    "served",
    "cost",
    "feasible",
    "seconds",
    "first_plan_seconds",
}
needs_solve_alone = pytest.mark.skipif(
    not hasattr(_pyvrp, "solve_alone"), reason="routing._pyvrp.solve_alone not there yet"
)


def assert_checked(problem: Problem, run: PlanRun) -> None:
    """The run has a plan and the checker finds it feasible and complete."""
    assert run.routes is not None, run.error
    result = check_plan(problem, run.routes, run.breaks, run.reloads)
    assert result.feasible, (result.violations, result.missing)


@pytest.fixture
def two_trips() -> Problem:
    """One bike for 8 parcels and four 3-parcel stops 1-4 km east of its hub: two trips."""
    xs = np.array([0, 1000, 2000, 3000, 4000])
    dist = np.abs(xs[:, None] - xs[None, :])
    return Problem(
        locations=tuple(Location(f"p{k}", 60.0, 24.0 + k / 100) for k in range(5)),
        matrices={"bike": TravelMatrix(dist, dist // 4)},
        stops=tuple(
            Stop(f"s{k}", k, service=60, windows=(TimeWindow(0, 20_000),), demand=(3,))
            for k in range(1, 5)
        ),
        vehicle_types=(VehicleType("bike", capacity=(8,), profile="bike", cost_per_km=1.0),),
        vehicles=(
            Vehicle("bike-1", "bike", 0, 0, TimeWindow(0, 20_000), reload_at=(0,), reload_time=300),
        ),
    )


@pytest.mark.parametrize("variant", ["base", "breaks", "pairs"])
def test_lastmile_plan_passes_the_checker(variant: str) -> None:
    problem = generate(30, seed=0, variant=variant)
    run = run_lastmile(problem, 2.0)
    assert_checked(problem, run)
    assert run.seconds is not None and run.seconds < 6.0
    if variant == "breaks":
        used = {v.id for v in problem.vehicles if v.breaks} & set(run.routes or {})
        assert used and all(len(run.breaks[vid]) == 1 for vid in used)


@pytest.mark.parametrize("variant", ["base", "breaks", "pairs"])
def test_vroom_plan_passes_the_checker(variant: str) -> None:
    problem = generate(30, seed=1, variant=variant)
    run = run_vroom(problem, 1.0)
    assert_checked(problem, run)


@needs_solve_alone
def test_pyvrp_plan_passes_the_checker() -> None:
    problem = generate(30, seed=2)
    run = run_pyvrp(problem, 1.0)
    assert_checked(problem, run)


@pytest.mark.parametrize("runner", [run_lastmile, run_pyvrp])
def test_reloads_reach_the_checker(
    runner: Callable[[Problem, float], PlanRun], two_trips: Problem
) -> None:
    if runner is run_pyvrp and not hasattr(_pyvrp, "solve_alone"):
        pytest.skip("routing._pyvrp.solve_alone not there yet")
    run = runner(two_trips, 1.0)
    assert_checked(two_trips, run)
    assert sorted(run.routes["bike-1"]) == ["s1", "s2", "s3", "s4"]
    assert [loc for _, loc in run.reloads["bike-1"]] == [0]  # 12 parcels in two trips
    row = evaluate("two-trips", two_trips, run)
    assert (row.feasible, row.reloads) == (True, 1)
    assert format_row(row).endswith(" 1 reloads")


def test_a_plan_without_its_reloads_breaks_capacity(two_trips: Problem) -> None:
    routes = {"bike-1": ["s1", "s2", "s3", "s4"]}
    one_trip = evaluate("two-trips", two_trips, PlanRun("x", routes, 1.0))
    assert one_trip.feasible is False and "load at the start exceeds" in one_trip.violations[0]
    two = evaluate("two-trips", two_trips, PlanRun("x", routes, 1.0, reloads={"bike-1": [(2, 0)]}))
    assert two.feasible is True and two.reloads == 1
    # 1 + 1 km, back 2 km, then 3 + 1 + 4 km: 12 km at 1 EUR.
    assert (two.km, two.cost) == (12.0, 12.0)


def test_lastmile_plan_passes_the_checker_with_reloads() -> None:
    problem = generate(30, seed=0, variant="reloads")
    run = run_lastmile(problem, 2.0)
    assert_checked(problem, run)
    assert run.seconds is not None and run.seconds < 6.0


def test_vroom_does_not_run_with_reloads() -> None:
    run = run_vroom(generate(20, variant="reloads"), 1.0)
    assert run.routes is None
    assert run.not_run is not None and "VROOM cannot express reloads" in run.not_run


@needs_solve_alone
def test_pyvrp_does_not_run_with_breaks() -> None:
    run = run_pyvrp(generate(20, variant="breaks"), 1.0)
    assert run.routes is None
    assert run.not_run is not None and "breaks" in run.not_run


def test_cli_writes_the_json_keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "out" / "product.json"
    args = ["--suite", "product", "--sizes", "20", "--time-limit", "1", "--json", str(path)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "product-20-s0" in out and "lastmile" in out
    payload = json.loads(path.read_text(encoding="utf-8"))
    assert set(payload) == JSON_KEYS
    assert (payload["suite"], payload["variant"], payload["time_limit"]) == ("product", "base", 1.0)
    (row,) = payload["rows"]
    assert set(row) == ROW_KEYS
    assert (row["instance"], row["stops"], row["solver"], row["served"]) == (
        "product-20-s0",
        20,
        "lastmile",
        20,
    )
    assert row["feasible"] is True and row["cost"] > 0
    assert payload["mean_ratio_pyvrp"] is None and payload["peak_rss_mb"] > 0


def test_cli_compares_and_reports_not_run_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "p.json"
    args = ["--suite", "product", "--sizes", "15", "--time-limit", "1", "--variant", "breaks"]
    assert main([*args, "--compare", "pyvrp,vroom", "--seed", "3", "--json", str(path)]) == 0
    out = capsys.readouterr().out
    payload = json.loads(path.read_text(encoding="utf-8"))
    rows = {r["solver"]: r for r in payload["rows"]}
    assert list(rows) == ["lastmile", "pyvrp", "vroom"]
    assert all(r["instance"] == "product-breaks-15-s3" for r in rows.values())
    assert rows["vroom"]["feasible"] is True
    if hasattr(_pyvrp, "solve_alone"):
        assert "not run: " in out and rows["pyvrp"]["cost"] is None
        assert payload["mean_ratio_pyvrp"] is None  # left out of the ratios
    if rows["lastmile"]["feasible"]:
        assert payload["mean_ratio_vroom"] == pytest.approx(
            rows["lastmile"]["cost"] / rows["vroom"]["cost"], rel=1e-3
        )


def test_cli_runs_the_reloads_variant(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "reloads.json"
    args = ["--suite", "product", "--sizes", "15", "--time-limit", "1", "--variant", "reloads"]
    assert main([*args, "--compare", "pyvrp,vroom", "--json", str(path)]) == 0
    out = capsys.readouterr().out
    assert "not run: VROOM cannot express reloads" in out
    payload = json.loads(path.read_text(encoding="utf-8"))
    assert set(payload) == JSON_KEYS and payload["variant"] == "reloads"
    rows = {r["solver"]: r for r in payload["rows"]}
    assert list(rows) == ["lastmile", "pyvrp", "vroom"]
    assert all(set(r) == ROW_KEYS for r in rows.values())
    assert all(r["instance"] == "product-reloads-15-s0" for r in rows.values())
    assert rows["lastmile"]["served"] == 15
    assert rows["vroom"]["cost"] is None and payload["mean_ratio_vroom"] is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--suite", "solomon", "--compare", "vroom"], "only available with --suite product"),
        (["--suite", "product", "--variant", "holiday"], "use one of base, pairs, breaks"),
        (["--suite", "product", "--instances", "C101"], "takes --sizes"),
    ],
)
def test_cli_usage_errors(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*args, "--time-limit", "1"]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("bad", [["--compare", "gurobi"], ["--sizes", "0"], ["--sizes", "a,b"]])
def test_cli_rejects_bad_lists(bad: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--suite", "product", "--time-limit", "1", *bad])
    assert exc.value.code == 2
    assert bad[0] in capsys.readouterr().err
