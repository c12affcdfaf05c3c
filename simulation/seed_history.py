"""Put a delivered day into the store, so that the demo's customers have orders to return.

A return starts only for a delivered order (:func:`orchestrator.returns_flow.lifecycle.
start_return`). :func:`seed_delivered_day` gives some of the demo's customers an order of
catalogue products on a day :data:`DAYS_BEFORE` days before the demo's day, and runs that day
as the depot would, through the orchestrator's services: registered
(:func:`~orchestrator.intake.orders.register_order`), planned with a short solve
(:func:`~orchestrator.planning.plans.plan_day`), every route dispatched
(:func:`~orchestrator.operations.dispatch.dispatch_route`) and every stop marked delivered at
its planned time (:func:`~orchestrator.operations.dispatch.mark_stop_outcome`, which also
teaches the concierge that those customers were in at those times).

Idempotent: the orders' idempotency keys derive from the demo's tag and the past day, and only
what is not done yet is done — a day already delivered is left as it is. A day that has a plan
of its own (an earlier demo's day, perhaps partly dispatched on its tour) is left alone: the
delivered day moves a day earlier until it finds a day without one.
Same seed, same orders; the solve is limited by a solution count, not the clock, so the same
routes too.

Units: grams, millilitres, cents; times aware.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from sqlmodel import Session

from orchestrator.errors import Conflict
from orchestrator.intake.orders import get_order, order_items, register_order
from orchestrator.operations.dispatch import dispatch_route, mark_stop_outcome
from orchestrator.planning.plans import current_plan, plan_day, plan_routes, replan, route_stops
from orchestrator.planning.travel import StraightLineTravel, TravelTimes
from routing import Limits
from simulation.seed_catalogue import CATALOGUE, DemoProduct, popularity

__all__ = [
    "DAYS_BEFORE",
    "HISTORY_LIMITS",
    "PAST_ORDERS",
    "RETRY_LIMITS",
    "DeliveredDay",
    "seed_delivered_day",
]

DAYS_BEFORE = 3
"""The delivered day lies this many days before the demo's day."""

PAST_ORDERS = 24
"""Orders on the delivered day (fewer when the demo has fewer customers)."""

HISTORY_LIMITS = Limits(time_limit=20.0, solution_limit=10, seed_with="none")
"""The delivered day's solve: OR-Tools alone, stopped after 10 improving solutions (0.2 s for
two dozen stops, where the clock alone would take all of it; repeatable). The clock's cap,
20 s, is far above that so the count, not the machine's load, stops the search (at 2 s a
machine short of memory stopped it earlier and the same seed gave another day)."""

RETRY_LIMITS = Limits(time_limit=2.0)
"""The re-plan when :data:`HISTORY_LIMITS` leaves some of the day's orders out: 2 s."""

_STREAM = 0x415707  # the delivered day's draws have their own stream
_MAX_LINES = 3  # order lines per past order, 1 to this
_LOOK_BACK_DAYS = 28  # days tried for the delivered day, from DAYS_BEFORE back


@dataclass(frozen=True, slots=True)
class DeliveredDay:
    """What :func:`seed_delivered_day` left in the store.

    Parameters
    ----------
    day
        The delivered day (the depot's local date).
    order_ids
        Its delivered orders, ascending.
    lines
        ``(order_id, order_item_id)`` of their lines, ascending: each can be returned.
    """

    day: date
    order_ids: tuple[int, ...]
    lines: tuple[tuple[int, int], ...]


def seed_delivered_day(
    session: Session,
    *,
    depot_id: int,
    day: date,
    tag: str,
    homes: Sequence[tuple[int, int]],
    seed: int,
    products: Sequence[DemoProduct] = CATALOGUE,
    travel: TravelTimes | None = None,
) -> DeliveredDay:
    """Register, plan, dispatch and deliver a past day of the demo depot.

    Parameters
    ----------
    session
        The store (every service called commits its own work).
    depot_id
        The demo depot.
    day
        The demo's service day; the delivered day is :data:`DAYS_BEFORE` days before it — or
        earlier, when that day has a plan of its own (another demo's day, say).
    tag
        The demo's name (city, seed, size) in the orders' idempotency keys.
    homes
        ``(customer_id, home place id)`` of the demo's customers; :data:`PAST_ORDERS` of them,
        drawn with ``seed``, get an order delivered at home.
    seed
        Seed of the draws and of the solve.
    products
        What the orders hold (in the catalogue already).
    travel
        Travel times of the solve (default: straight lines with the usual detour factor).

    Returns
    -------
    DeliveredDay
        The day, its delivered orders and their lines.

    Raises
    ------
    orchestrator.errors.Conflict
        An order under one of the keys has other content (the store holds another demo's
        data under the same name), or four weeks of days before ``day`` all have plans:
        seed a fresh store.
    orchestrator.planning.service.PlanningFailed
        The solve failed.
    """
    past = _past_day(session, depot_id, day, tag)
    rng = np.random.default_rng((seed, len(homes), _STREAM))
    n = min(PAST_ORDERS, len(homes))
    chosen = sorted(rng.choice(len(homes), size=n, replace=False).tolist()) if n else []
    # Online buyers buy what sells in the shops: the products in proportion to their sales.
    weights = np.array([popularity(p) for p in products])
    weights /= weights.sum()
    order_ids: list[int] = []
    for k in chosen:
        customer_id, place_id = homes[k]
        count = int(rng.integers(1, _MAX_LINES, endpoint=True))
        picks = sorted(rng.choice(len(products), size=count, replace=False, p=weights).tolist())
        lines = [products[j] for j in picks]
        order = register_order(
            session,
            {
                "customer_id": customer_id,
                "depot_id": depot_id,
                "service_day": past,
                "place_id": place_id,
                "mode": "hand_over",
                "value_cents": sum(p.list_price_cents for p in lines),
                "reference": f"past-{k + 1:04d}",
                "items": [
                    {
                        "description": p.description,
                        "sku": p.sku,
                        "quantity": 1,
                        "weight_g": p.weight_g,
                        "volume_ml": p.volume_ml,
                        "parcels": 1,
                    }
                    for p in lines
                ],
            },
            f"{_key_prefix(tag, past)}{k + 1:04d}",
        )
        assert order.id is not None
        order_ids.append(order.id)

    if any(_status(session, oid) != "delivered" for oid in order_ids):
        _run_the_day(session, depot_id, past, order_ids, seed, travel or StraightLineTravel())

    delivered = sorted(oid for oid in order_ids if _status(session, oid) == "delivered")
    returnable = sorted(
        (oid, item.id or 0)
        for oid in delivered
        for item in order_items(session, oid)
        if item.sku is not None
    )
    return DeliveredDay(past, tuple(delivered), tuple(returnable))


# -- implementation ---------------------------------------------------------------------------


def _key_prefix(tag: str, day: date) -> str:
    """The idempotency keys of the delivered day's orders start so."""
    return f"demo:{tag}:{day.isoformat()}:past:"


def _past_day(session: Session, depot_id: int, day: date, tag: str) -> date:
    """:data:`DAYS_BEFORE` days before ``day``, or the first day before that whose plan, if
    any, is this demo's own delivered day: another day's plan (an earlier demo's, partly
    dispatched on its tour) is never touched."""
    for back in range(DAYS_BEFORE, DAYS_BEFORE + _LOOK_BACK_DAYS):
        past = day - timedelta(days=back)
        plan = current_plan(session, depot_id, past)
        if plan is None:
            return past
        prefix = _key_prefix(tag, past)
        for route in plan_routes(session, plan.id or 0):
            for stop in route_stops(session, route.id or 0):
                order = get_order(session, stop.order_id)
                if order is not None and order.idempotency_key.startswith(prefix):
                    return past
    raise Conflict(
        f"every day from {day - timedelta(days=DAYS_BEFORE + _LOOK_BACK_DAYS - 1)} to "
        f"{day - timedelta(days=DAYS_BEFORE)} already has a plan of depot {depot_id} — seed "
        "the demo into a fresh database (another LASTMILE_DATABASE_URL)"
    )


def _status(session: Session, order_id: int) -> str:
    order = get_order(session, order_id)
    assert order is not None
    return str(order.status.value)


def _run_the_day(
    session: Session,
    depot_id: int,
    day: date,
    order_ids: Sequence[int],
    seed: int,
    travel: TravelTimes,
) -> None:
    """Plan the day (or re-plan it with the orders its plan lacks), dispatch every route and
    mark every stop on board delivered at its planned start."""
    plan = current_plan(session, depot_id, day)
    if plan is None:
        plan = plan_day(session, depot_id, day, limits=HISTORY_LIMITS, travel=travel, seed=seed)
    elif any(_status(session, oid) == "open" for oid in order_ids):
        plan = replan(
            session, plan.id or 0, limits=HISTORY_LIMITS, travel=travel, seed=seed,
            make_current="always",
        )  # fmt: skip
    if any(_status(session, oid) == "open" for oid in order_ids):
        # Ten solutions left some out (a day already under way, with its locked stops, is
        # harder): once more, on the clock.
        plan = replan(
            session, plan.id or 0, limits=RETRY_LIMITS, travel=travel, seed=seed,
            make_current="always",
        )  # fmt: skip
    for route in plan_routes(session, plan.id or 0):
        assert route.id is not None
        stops = route_stops(session, route.id)
        if any(s.status.value == "planned" for s in stops):
            dispatch_route(session, route.id)
        for stop in route_stops(session, route.id):
            if stop.status.value == "dispatched":
                assert stop.id is not None
                mark_stop_outcome(
                    session, stop.id, "delivered", at=stop.service_start_at,
                    detail="handed over (demo history)",
                )  # fmt: skip
