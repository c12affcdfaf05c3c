"""The shared-fleet benchmark on a tiny day: its JSON has the issue's keys, every plan is
checked, and each city's shares add up exactly to the pooled plan's figures."""

from __future__ import annotations

import json
from typing import Any

import pytest

from benchmarks.shared_fleet import (
    RETAILERS,
    coalition_problem,
    coalitions,
    main,
    shared_day,
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
    assert quick["settings"]["iterations"] == 50


def test_every_plan_serves_its_orders_and_keeps_every_rule(quick: dict[str, Any]) -> None:
    plans = quick["cities"]["synthetic"]["plans"]
    assert sorted(plans) == ["A", "A+B", "A+B+C", "A+C", "B", "B+C", "C"]
    for label, plan in plans.items():
        assert plan["served"] == plan["orders"] == 8 * len(label.split("+")), label
        assert plan["violations"] == [] and plan["complete"], label
        assert plan["checker_km"] == pytest.approx(plan["km"], abs=0.002), label
        parts = plan["fixed_eur"] + plan["km_eur"] + plan["hours_eur"]
        assert parts == pytest.approx(plan["cost_eur"], abs=0.02), label


@pytest.mark.parametrize("rule", ["proportional", "shapley"])
def test_the_shares_add_up_exactly_to_the_pooled_plan(quick: dict[str, Any], rule: str) -> None:
    city = quick["cities"]["synthetic"]
    pooled = city["plans"]["A+B+C"]["footprint"]
    shares = [city[rule]["retailers"][r]["share"] for r in RETAILERS]
    for metric in ("cost_cents", "distance_m", "co2_g"):
        assert sum(s[metric] for s in shares) == pooled[metric], metric


def test_the_headline_figures_are_the_synthetic_citys(quick: dict[str, Any]) -> None:
    city = quick["cities"]["synthetic"]
    for key in ("km_saved_pct", "co2_saved_pct", "cost_saved_pct"):
        assert quick[key] == city[key]
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
