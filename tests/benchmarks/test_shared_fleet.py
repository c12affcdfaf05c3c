"""The shared-fleet benchmark on a tiny day: its JSON has the issue's keys, every plan is
checked, each city's shares add up exactly to the pooled plan's figures, the budget is read
both ways (same total effort; every solve at the pool's), and the hours on duty add up."""

from __future__ import annotations

import json
from typing import Any

import pytest

from benchmarks.shared_fleet import (
    ALONE_AT_POOL_BUDGET,
    QUICK_BLOCKS,
    QUICK_ITERATIONS,
    QUICK_ORDERS,
    READINGS,
    RETAILERS,
    SAME_EFFORT,
    coalition_budget,
    coalition_problem,
    coalitions,
    main,
    shared_day,
    solves,
)
from simulation.cities.synthetic import generate_city

KEYS = {
    "retailers",
    "km_saved_pct",
    "co2_saved_pct",
    "cost_saved_pct",
    "min_retailer_saving_pct",
    "helsinki_km_saved_pct",
}
"""The keys issue #16 asks of ``--json``."""


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The figures of ``--quick`` (a tiny synthetic day, 3 x 8 orders), run once."""
    out = tmp_path_factory.mktemp("shared") / "figures.json"
    assert main(["--quick", "--json", str(out)]) == 0
    data: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return data


def test_the_json_has_the_issues_keys(quick: dict[str, Any]) -> None:
    assert set(quick) >= KEYS
    assert [r["retailer"] for r in quick["retailers"]] == list(RETAILERS)
    assert quick["helsinki_km_saved_pct"] is None  # --quick runs the synthetic city only
    assert quick["settings"]["iterations"] == QUICK_ITERATIONS


@pytest.mark.parametrize("reading", READINGS)
def test_every_plan_serves_its_orders_and_keeps_every_rule(
    quick: dict[str, Any], reading: str
) -> None:
    plans = quick["cities"]["synthetic"][reading]["plans"]
    assert sorted(plans) == ["A", "A+B", "A+B+C", "A+C", "B", "B+C", "C"]
    for label, plan in plans.items():
        assert plan["served"] == plan["orders"] == QUICK_ORDERS * len(label.split("+")), label
        assert plan["violations"] == [] and plan["complete"], label
        assert plan["checker_km"] == pytest.approx(plan["km"], abs=0.002), label
        parts = plan["fixed_eur"] + plan["km_eur"] + plan["hours_eur"]
        assert parts == pytest.approx(plan["cost_eur"], abs=0.02), label


@pytest.mark.parametrize("reading", READINGS)
@pytest.mark.parametrize("rule", ["proportional", "shapley"])
def test_the_shares_add_up_exactly_to_the_pooled_plan(
    quick: dict[str, Any], rule: str, reading: str
) -> None:
    city = quick["cities"]["synthetic"][reading]
    pooled = city["plans"]["A+B+C"]["footprint"]
    shares = [city[rule]["retailers"][r]["share"] for r in RETAILERS]
    for metric in ("cost_cents", "distance_m", "co2_g"):
        assert sum(s[metric] for s in shares) == pooled[metric], metric


def test_the_same_budget_is_the_same_total_effort_and_alone_is_checked_at_the_pools() -> None:
    # Finding (issue #16): every solve got the same iterations, so the 900-stop pool had a
    # third of the search per stop that a 300-stop retailer had. Same total effort: k x N.
    n, its, secs = len(RETAILERS), 3_000, 300.0
    for k in (1, 2, 3):
        same = coalition_budget(SAME_EFFORT, k, n, its, secs)
        assert (same.seed_iterations, same.time_limit) == (k * its, k * secs)
        check = coalition_budget(ALONE_AT_POOL_BUDGET, k, n, its, secs)
        assert (check.seed_iterations, check.time_limit) == (n * its, n * secs)
        assert same.solution_limit == check.solution_limit == 1 and same.workers == 1
    with pytest.raises(ValueError, match="reading"):
        coalition_budget("per_solve", 1, n, its, secs)
    # Alone x3 and pairs x2 at their own budget, alone x3 and pairs x3 at the pool's, one pool.
    assert solves(RETAILERS) == 13


def test_the_quick_run_gives_each_coalition_its_readings_budget(quick: dict[str, Any]) -> None:
    cities = quick["cities"]["synthetic"]
    same = cities[SAME_EFFORT]["budget_iterations"]
    check = cities[ALONE_AT_POOL_BUDGET]["budget_iterations"]
    for label in same:
        k = len(label.split("+"))
        assert same[label] == k * QUICK_ITERATIONS, label
        assert check[label] == len(RETAILERS) * QUICK_ITERATIONS, label
    # The pool is the same plan under both readings (solved once).
    assert cities[SAME_EFFORT]["plans"]["A+B+C"] == cities[ALONE_AT_POOL_BUDGET]["plans"]["A+B+C"]
    assert quick["reading"] == SAME_EFFORT
    conv = quick["convergence"]["synthetic"]
    for r in RETAILERS:
        assert conv[r]["iterations"] == [QUICK_ITERATIONS, len(RETAILERS) * QUICK_ITERATIONS]
        assert conv[r]["cost_eur"] == [
            cities[SAME_EFFORT]["plans"][r]["cost_eur"],
            cities[ALONE_AT_POOL_BUDGET]["plans"][r]["cost_eur"],
        ]


@pytest.mark.parametrize("reading", READINGS)
def test_the_hours_on_duty_add_up_and_the_doors_are_the_orders_service(
    quick: dict[str, Any], reading: str
) -> None:
    city = quick["cities"]["synthetic"][reading]
    for label, plan in city["plans"].items():
        parts = plan["drive_h"] + plan["service_h"] + plan["break_h"] + plan["idle_h"]
        assert parts == pytest.approx(plan["duty_h"], abs=0.03), label
        assert min(plan["drive_h"], plan["service_h"], plan["break_h"], plan["idle_h"]) >= 0
    # Time at the doors is the orders' own service, whoever carries them.
    day = shared_day(
        generate_city(0, blocks=QUICK_BLOCKS), name="synthetic", orders_per_retailer=QUICK_ORDERS
    )
    service_h = sum(s.service for s in day.base.stops) / 3600
    assert city["plans"]["A+B+C"]["service_h"] == pytest.approx(service_h, abs=0.01)
    # The decomposition is the retailers alone, added up, against the pool.
    parts = city["decomposition"]
    for key, saved in parts["saved"].items():
        alone = sum(city["plans"][r][key] for r in RETAILERS)
        assert parts["alone"][key] == pytest.approx(alone, abs=0.01), key
        assert saved == pytest.approx(alone - city["plans"]["A+B+C"][key], abs=0.01), key


def test_the_headline_figures_are_the_synthetic_citys(quick: dict[str, Any]) -> None:
    city = quick["cities"]["synthetic"][SAME_EFFORT]
    for key in ("km_saved_pct", "co2_saved_pct", "cost_saved_pct"):
        assert quick[key] == city[key] == quick["readings"][SAME_EFFORT][key]
        assert (
            quick["readings"][ALONE_AT_POOL_BUDGET][key]
            == (quick["cities"]["synthetic"][ALONE_AT_POOL_BUDGET][key])
        )
    alone = sum(r["alone"]["km"] for r in quick["retailers"])
    pooled = city["plans"]["A+B+C"]["km"]
    assert quick["km_saved_pct"] == pytest.approx(100 * (alone - pooled) / alone, abs=0.01)
    savings = [r["proportional"]["saving_cost_eur_pct"] for r in quick["retailers"]]
    assert quick["min_retailer_saving_pct"] == pytest.approx(min(savings), abs=0.01)


def test_a_coalition_plans_its_own_orders_on_its_own_fleets() -> None:
    day = shared_day(generate_city(0, blocks=6), name="tiny", seed=3, orders_per_retailer=5)
    assert sorted(day.owner.count(r) for r in RETAILERS) == [5, 5, 5]
    pair = frozenset({"A", "C"})
    problem = coalition_problem(day, pair)
    mine = {s.id for k, s in enumerate(day.base.stops) if day.owner[k] in pair}
    assert {s.id for s in problem.stops} == mine
    assert all(s.penalty is None for s in problem.stops)  # every order must be served
    assert {v.id.split(":")[0] for v in problem.vehicles} == {"A", "C"}
    assert len(problem.vehicles) == 2 * len(day.base.vehicles)
    # The cut matrices are the day's own between the same points.
    stop = problem.stops[0]
    original = day.base.stop(stop.id).location
    car = day.base.matrices["car"].distances
    assert problem.matrices["car"].distances[0, stop.location] == car[0, original]
    assert len(coalitions(RETAILERS)) == 7
