"""Each retailer's fair share of a day's plans: what a retailer pays of the pooled fleet.

A carrier's planner plans a depot's day across every retailer it serves
(:func:`orchestrator.planning.plans.plan_day`); this module splits each such plan's cost (EUR),
kilometres and CO2 among the retailers whose orders it carries, and tells each retailer what it
saves against planning alone.

**The rule** is :attr:`orchestrator.sharing.Rule.PROPORTIONAL` (the default of
:mod:`orchestrator.sharing.shares`): a retailer's part of the plan's cost, metres and grams is
proportional to its own **stand-alone** figures, in whole cents, metres and grams that add up
exactly to the plan's (largest remainders, :func:`orchestrator.sharing.apportion`). Every
retailer on a plan that costs less than their stand-alone days together saves the same
percentage (up to a cent).

**A retailer's stand-alone day** is that retailer's orders on the plan's routes planned alone
on the same depot's fleets as they are now, through the path a day's plan takes
(:func:`~orchestrator.planning.plans.order_inputs`,
:func:`~orchestrator.planning.problem.build_problem` on the plan's own buffer,
:func:`routing.solve`), with the short, repeatable budget :data:`STAND_ALONE_LIMITS` and the
plan's seed. Only orders: the plan's return pickups are not re-planned alone, and their part of
the plan's cost is shared by the same proportions. A stand-alone solve that leaves an order out
is kept and counted (``alone_unserved`` in the cache); its cost is then lower than serving
everything would be, which makes the saving smaller, never larger. The budget is short (a
stand-alone day is one solve per retailer per plan, when first asked): a stand-alone plan
further from optimal than the pooled plan makes the saving look larger than a longer solve
would.

**A plan with one retailer** needs no solve: its share is the whole plan, stand-alone the
same, saving 0.

**Cached per plan id** in the plan's ``stats["shares"]`` (a plan's figures never change once
made; a new plan of the day is a new row): the rule, the budget and per retailer its
stand-alone and share in cents, metres and grams. The first request for a plan solves, later
ones read. A day's figures sum the retailer's parts over every depot's current plan of the
day that carries its orders.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue
from sqlmodel import Session, col, select

from orchestrator.errors import NotFound
from orchestrator.intake.catalog import depot_fleets
from orchestrator.intake.retailers import get_retailer
from orchestrator.models import Depot, Order, Plan, PlanStatus, Route, RouteStop
from orchestrator.planning.inputs import fleets_on_day
from orchestrator.planning.plans import order_inputs
from orchestrator.planning.problem import build_problem
from orchestrator.planning.rows import depot_input, fleet_inputs
from orchestrator.planning.spread import Buffer
from orchestrator.planning.travel import TravelTimes
from orchestrator.sharing import METRICS, Footprint, Rule, StandAlone, proportional_shares
from routing.solve import Limits, solve

__all__ = [
    "CACHE_KEY",
    "EXAMPLE",
    "STAND_ALONE_LIMITS",
    "NoSharesFound",
    "RetailerShares",
    "plan_shares",
    "retailer_day_shares",
]

STAND_ALONE_LIMITS = Limits(time_limit=10.0, seed_iterations=1_000, solution_limit=1)
"""The budget of a retailer's stand-alone day: 1,000 PyVRP iterations, then OR-Tools' first
solution (repeatable: the same orders and seed give the same plan), 10 seconds at most."""

EXAMPLE: dict[str, JsonValue] = {
    "retailer_id": 2, "day": "2025-03-03", "rule": "proportional", "cost_eur": 67.42,
    "km": 2.047, "co2_kg": 0.409, "stand_alone_cost_eur": 130.09, "saving_eur": 62.67,
    "saving_pct": 48.17, "retailers_on_day": 2, "plan_ids": [1], "day_total_cost_eur": 135.14,
}  # fmt: skip
"""An answer as the API tests' day gives it (two retailers, one order each, one van)."""

CACHE_KEY = "shares"
"""Where a plan's shares are cached in its ``stats``."""


class NoSharesFound(NotFound):
    """No current plan of the day carries the retailer's orders (404); the message says why."""

    def __init__(self, message: str) -> None:
        self.resource = "shares"
        self.ident = message
        Exception.__init__(self, message)

    def __reduce__(self) -> tuple[object, ...]:
        return type(self), (self.ident,)


class RetailerShares(BaseModel):
    """A retailer's part of a day's pooled plans, and its saving against planning alone."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE]})

    retailer_id: int
    day: date = Field(description="The service day (the depots' local date).")
    rule: str = Field(description="How the day is shared: 'proportional' to stand-alone cost.")
    cost_eur: float = Field(description="The retailer's share of the plans' cost, EUR.")
    km: float = Field(description="Its share of the kilometres driven.")
    co2_kg: float = Field(description="Its share of the CO2, kg.")
    stand_alone_cost_eur: float = Field(
        description="What its orders cost planned alone on the same fleet, EUR."
    )
    saving_eur: float = Field(description="Stand-alone cost minus share, EUR (>= 0: it saves).")
    saving_pct: float | None = Field(
        description="The saving, percent of the stand-alone cost (null when that is 0)."
    )
    retailers_on_day: int = Field(description="Retailers whose orders these plans carry.")
    plan_ids: list[int] = Field(description="The depots' current plans carrying its orders.")
    day_total_cost_eur: float = Field(
        description="Those plans' cost, EUR to the cent (their shares add up to it)."
    )


def plan_shares(
    session: Session,
    plan: Plan,
    *,
    travel: TravelTimes,
    limits: Limits = STAND_ALONE_LIMITS,
) -> dict[int, dict[str, Any]]:
    """Each retailer's share of ``plan`` and its stand-alone figures, cached in the plan.

    Returns
    -------
    dict
        Retailer id -> ``{"alone": {...}, "share": {...}, "alone_unserved": n}``, figures in
        whole ``cost_cents``, ``distance_m`` and ``co2_g``; the shares add up exactly to the
        plan's. Empty when the plan carries no order.
    """
    cached = (plan.stats or {}).get(CACHE_KEY)
    if isinstance(cached, Mapping) and cached.get("rule") == Rule.PROPORTIONAL.value:
        return {int(r): dict(v) for r, v in dict(cached["retailers"]).items()}
    assert plan.id is not None
    orders = session.exec(
        select(Order)
        .join(RouteStop, col(RouteStop.order_id) == col(Order.id))
        .join(Route, col(Route.id) == col(RouteStop.route_id))
        .where(Route.plan_id == plan.id)
        .order_by(col(Order.id))
    ).all()
    by_retailer: dict[int, list[Order]] = {}
    for order in orders:
        by_retailer.setdefault(order.retailer_id, []).append(order)
    pooled = Footprint.of(plan.cost or 0.0, plan.distance_m or 0, plan.co2_g or 0.0)
    unserved: dict[int, int] = {}
    if len(by_retailer) == 1:
        alone = [StandAlone(str(r), pooled) for r in by_retailer]
    else:
        alone = []
        for retailer, theirs in sorted(by_retailer.items()):
            footprint, unserved[retailer] = _stand_alone(session, plan, theirs, travel, limits)
            alone.append(StandAlone(str(retailer), footprint))
    result: dict[int, dict[str, Any]] = {}
    if alone:
        for share in proportional_shares(alone, pooled).shares:
            result[int(share.retailer)] = {
                "alone": _figures(share.alone),
                "share": _figures(share.share),
                "alone_unserved": unserved.get(int(share.retailer), 0),
            }
    _cache(session, plan, result, limits)
    return result


def retailer_day_shares(
    session: Session,
    retailer_id: int,
    day: date,
    *,
    travel: TravelTimes,
    limits: Limits = STAND_ALONE_LIMITS,
) -> RetailerShares:
    """The retailer's part of every depot's current plan of ``day`` that carries its orders.

    Raises
    ------
    NotFound
        No such retailer; or (:class:`NoSharesFound`) no current plan of the day, or none
        carrying the retailer's orders — the message says which.
    """
    if get_retailer(session, retailer_id) is None:
        raise NotFound("retailer", retailer_id)
    plans = session.exec(
        select(Plan)
        .where(Plan.service_day == day, Plan.status == PlanStatus.CURRENT)
        .order_by(col(Plan.id))
    ).all()
    if not plans:
        raise NoSharesFound(
            f"no depot has a current plan on {day} — plan the day first (POST /plans), "
            "then ask for its shares"
        )
    mine: list[int] = []
    retailers: set[int] = set()
    alone = share = Footprint(0, 0, 0)
    total_cents = 0
    for plan in plans:
        parts = plan_shares(session, plan, travel=travel, limits=limits)
        if retailer_id not in parts:
            continue
        assert plan.id is not None
        mine.append(plan.id)
        retailers.update(parts)
        alone = alone + _footprint(parts[retailer_id]["alone"])
        share = share + _footprint(parts[retailer_id]["share"])
        total_cents += sum(int(p["share"]["cost_cents"]) for p in parts.values())
    if not mine:
        raise NoSharesFound(
            f"no current plan on {day} carries retailer {retailer_id}'s orders "
            f"(plans {[p.id for p in plans]}) — its orders of that day are not planned yet"
        )
    saving = alone.cost_cents - share.cost_cents
    return RetailerShares(
        retailer_id=retailer_id,
        day=day,
        rule=Rule.PROPORTIONAL.value,
        cost_eur=share.cost_cents / 100,
        km=share.distance_m / 1_000,
        co2_kg=share.co2_g / 1_000,
        stand_alone_cost_eur=alone.cost_cents / 100,
        saving_eur=saving / 100,
        saving_pct=None if alone.cost_cents == 0 else round(100 * saving / alone.cost_cents, 2),
        retailers_on_day=len(retailers),
        plan_ids=mine,
        day_total_cost_eur=total_cents / 100,
    )


def _stand_alone(
    session: Session, plan: Plan, orders: Sequence[Order], travel: TravelTimes, limits: Limits
) -> tuple[Footprint, int]:
    """One retailer's orders of the plan planned alone on the depot's fleets: the footprint
    and how many orders that solve left out."""
    depot = session.get(Depot, plan.depot_id)
    assert depot is not None and depot.id is not None
    fleets = depot_fleets(session, depot.id)
    mapped = build_problem(
        depot_input(depot),
        fleets_on_day(fleet_inputs(fleets), depot.timezone, plan.service_day),
        order_inputs(session, orders),
        day=plan.service_day,
        travel=travel,
        buffer=Buffer.from_stats((plan.stats or {}).get("buffer")),
    )
    solution = solve(mapped.problem, limits, seed=plan.seed)
    left_out = len(mapped.left_out) + sum(
        1 for u in solution.unserved if u.stop_id in mapped.order_of_stop
    )
    return Footprint.of(solution.cost, solution.distance, solution.co2_g), left_out


def _figures(footprint: Footprint) -> dict[str, int]:
    return {metric: footprint.get(metric) for metric in METRICS}


def _footprint(figures: Mapping[str, Any]) -> Footprint:
    return Footprint(*(int(figures[metric]) for metric in METRICS))


def _cache(
    session: Session, plan: Plan, result: Mapping[int, Mapping[str, Any]], limits: Limits
) -> None:
    """Keep the shares in the plan's stats (only that column is written) and commit."""
    plan.stats = {
        **(plan.stats or {}),
        CACHE_KEY: {
            "rule": Rule.PROPORTIONAL.value,
            "stand_alone_limits": dataclasses.asdict(limits),
            "retailers": {str(r): dict(v) for r, v in result.items()},
        },
    }
    session.add(plan)
    session.commit()
    session.refresh(plan)
