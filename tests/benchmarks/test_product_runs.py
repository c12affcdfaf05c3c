"""The product suite's runners and CLI: every solver's plan passes the independent checker."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.product import generate
from benchmarks.product_checker import check_plan
from benchmarks.product_runs import run_lastmile, run_pyvrp, run_vroom
from benchmarks.routing import main
from routing import _pyvrp

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


def assert_checked(problem: object, run: object) -> None:
    """The run has a plan and the checker finds it feasible and complete."""
    assert run.routes is not None, run.error  # type: ignore[attr-defined]
    result = check_plan(problem, run.routes, run.breaks)  # type: ignore[arg-type,attr-defined]
    assert result.feasible, (result.violations, result.missing)


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
