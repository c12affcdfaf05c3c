"""Fair shares of a pooled day (orchestrator.planning.day_shares), on SQLite and PostgreSQL.

Two retailers' orders in the same streets, planned together by the carrier on two vans of
120 EUR a day each: together one van serves them all, alone each retailer needs its own van,
so pooling helps and both must save. Real plans and real stand-alone solves (small days).
"""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest
from sqlmodel import Session

from orchestrator.errors import NotFound
from orchestrator.intake.catalog import add_place, create_customer
from orchestrator.intake.orders import register_order
from orchestrator.intake.retailers import create_retailer
from orchestrator.models import Plan
from orchestrator.planning.day_shares import (
    CACHE_KEY,
    NoSharesFound,
    plan_shares,
    retailer_day_shares,
)
from orchestrator.planning.plans import plan_day
from orchestrator.sharing import METRICS
from routing.solve import Limits
from tests.orchestrator.conftest import DAY, LIMITS, TRAVEL, World, order_data

ALONE = Limits(time_limit=5.0, solution_limit=30, seed_with="none")
"""A stand-alone budget as small as the plans' here (three stops each)."""


def _retailer_orders(session: Session, world: World, name: str, lats: list[float]) -> int:
    """A retailer with a customer at each latitude (same street), one order each; its id."""
    retailer = create_retailer(session, {"name": name}).id
    assert retailer is not None
    for n, lat in enumerate(lats):
        customer = create_customer(session, {"name": f"{name} {n}"}, retailer_id=retailer)
        assert customer.id is not None
        home = add_place(
            session, customer.id, {"kind": "home", "name": "home", "lat": lat, "lon": 24.9310}
        )
        data = order_data(world, customer_id=customer.id, place_id=home.id)
        assert register_order(session, data, f"{name}-{n}").retailer_id == retailer
    return retailer


def _pooled_day(session: Session, world: World) -> tuple[int, int, Plan]:
    a = _retailer_orders(session, world, "A", [60.1755, 60.1790, 60.1825])
    b = _retailer_orders(session, world, "B", [60.1770, 60.1805, 60.1840])
    plan = plan_day(session, world.depot.id or 0, DAY, limits=LIMITS, travel=TRAVEL)
    assert plan.n_served == 6 and plan.n_routes == 1, plan.stats  # pooled: one van
    return a, b, plan


def test_two_retailers_split_the_pooled_plan_exactly_and_both_save(
    session: Session, world: World
) -> None:
    a, b, plan = _pooled_day(session, world)
    parts = plan_shares(session, plan, travel=TRAVEL, limits=ALONE)
    assert set(parts) == {a, b}
    assert plan.cost is not None and plan.co2_g is not None and plan.distance_m is not None
    pooled = {"cost_cents": round(plan.cost * 100), "distance_m": plan.distance_m,
              "co2_g": round(plan.co2_g)}  # fmt: skip
    for metric in METRICS:
        assert parts[a]["share"][metric] + parts[b]["share"][metric] == pooled[metric]
    for retailer in (a, b):
        alone, share = parts[retailer]["alone"], parts[retailer]["share"]
        assert parts[retailer]["alone_unserved"] == 0
        assert alone["cost_cents"] > share["cost_cents"] > 0  # one van's day rate saved
        assert alone["cost_cents"] >= 12_000  # alone it needs a van of its own
    mine = retailer_day_shares(session, a, DAY, travel=TRAVEL, limits=ALONE)
    theirs = retailer_day_shares(session, b, DAY, travel=TRAVEL, limits=ALONE)
    assert mine.rule == "proportional" and mine.plan_ids == [plan.id] == theirs.plan_ids
    assert mine.retailers_on_day == 2 and mine.day_total_cost_eur == pooled["cost_cents"] / 100
    assert round(mine.cost_eur * 100) + round(theirs.cost_eur * 100) == pooled["cost_cents"]
    assert round(mine.km * 1000) + round(theirs.km * 1000) == pooled["distance_m"]
    assert round(mine.co2_kg * 1000) + round(theirs.co2_kg * 1000) == pooled["co2_g"]
    for one in (mine, theirs):
        assert one.saving_eur > 0 and one.saving_pct is not None
        assert one.saving_eur == pytest.approx(one.stand_alone_cost_eur - one.cost_eur)
    # Proportional rule: both save the same percentage, up to a cent of rounding.
    assert mine.saving_pct == pytest.approx(theirs.saving_pct, abs=0.1)


def test_a_plans_shares_are_cached_in_its_stats_and_read_back(
    session: Session, world: World
) -> None:
    a, _b, plan = _pooled_day(session, world)
    first = plan_shares(session, plan, travel=TRAVEL, limits=ALONE)
    stored = session.get(Plan, plan.id)
    assert stored is not None
    cache = copy.deepcopy(stored.stats[CACHE_KEY])
    assert cache["rule"] == "proportional" and cache["stand_alone_limits"]["time_limit"] == 5.0
    assert {int(r): v for r, v in cache["retailers"].items()} == first
    # A later request reads the cache, not a new solve: a changed cache is what it answers.
    cache["retailers"][str(a)]["alone"]["cost_cents"] += 100_000
    stored.stats = {**stored.stats, CACHE_KEY: cache}
    session.add(stored)
    session.commit()
    again = retailer_day_shares(session, a, DAY, travel=TRAVEL, limits=ALONE)
    assert again.stand_alone_cost_eur == first[a]["alone"]["cost_cents"] / 100 + 1_000


def test_a_day_of_one_retailer_is_all_its_own_with_no_saving(
    session: Session, world: World
) -> None:
    a = _retailer_orders(session, world, "A", [60.1755, 60.1790])
    plan = plan_day(session, world.depot.id or 0, DAY, limits=LIMITS, travel=TRAVEL)
    only = retailer_day_shares(session, a, DAY, travel=TRAVEL, limits=ALONE)
    assert plan.cost is not None and plan.distance_m is not None
    assert only.cost_eur == only.stand_alone_cost_eur == only.day_total_cost_eur
    assert only.cost_eur == round(plan.cost * 100) / 100
    assert only.km == plan.distance_m / 1000
    assert only.saving_eur == 0 and only.saving_pct == 0 and only.retailers_on_day == 1


def test_no_plan_or_no_orders_on_it_is_not_found_with_the_reason(
    session: Session, world: World
) -> None:
    a = _retailer_orders(session, world, "A", [60.1755])
    with pytest.raises(NoSharesFound, match=r"no depot has a current plan on 2025-03-03"):
        retailer_day_shares(session, a, DAY, travel=TRAVEL)
    plan_day(session, world.depot.id or 0, DAY, limits=LIMITS, travel=TRAVEL)
    b = create_retailer(session, {"name": "B"}).id or 0
    with pytest.raises(NoSharesFound, match=rf"carries retailer {b}'s orders"):
        retailer_day_shares(session, b, DAY, travel=TRAVEL)
    with pytest.raises(NoSharesFound, match="no depot has a current plan"):
        retailer_day_shares(session, a, DAY + timedelta(days=1), travel=TRAVEL)
    with pytest.raises(NotFound, match="retailer 999"):
        retailer_day_shares(session, 999, DAY, travel=TRAVEL)
