"""A depot's learned spread in the store (orchestrator/planning/spread_store.py): recorded and
read back, learned from the outcomes of a planned day, and planned on (SQLite and
PostgreSQL)."""

from __future__ import annotations

import math
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from orchestrator.intake.catalog import add_place
from orchestrator.intake.orders import register_order
from orchestrator.models import Order, Place, Plan, SpreadStat
from orchestrator.operations.dispatch import dispatch_route, mark_stop_outcome
from orchestrator.planning.plans import plan_day, plan_routes, route_stops
from orchestrator.planning.spread import Buffer, SpreadBook, SpreadKey, zone_of
from orchestrator.planning.spread_store import (
    load_book,
    outcome_ratios,
    promise_buffer,
    record,
)
from orchestrator.settings import Settings
from tests.orchestrator.conftest import DAY, LIMITS, POINTS, TRAVEL, World, order_data

KEY = SpreadKey("travel", "car", 9, "6680:1386")
DAY_ZONE = ZoneInfo("Europe/Helsinki")


def _orders(session: Session, world: World, n: int) -> list[Order]:
    """``n`` orders of the world's customer, each to its own new place."""
    out = []
    for k in range(n):
        lat, lon = POINTS[k % len(POINTS)]
        place = add_place(
            session, world.customer.id or 0, {"kind": "other", "name": f"p{k}", "lat": lat,
                                              "lon": lon},
        )  # fmt: skip
        out.append(register_order(session, order_data(world, place_id=place.id), f"order-{k}"))
    return out


def _plan(session: Session, world: World, confidence: float) -> Plan:
    settings = Settings(promise_confidence=confidence)
    return plan_day(
        session, world.depot.id or 0, DAY, limits=LIMITS, travel=TRAVEL, settings=settings
    )


def test_a_depot_without_outcomes_plans_on_the_default(session: Session, world: World) -> None:
    depot_id = world.depot.id or 0
    assert load_book(session, depot_id) == SpreadBook()
    assert promise_buffer(session, depot_id, ["car"], Settings(promise_confidence=0.9)) == (
        Buffer.of(SpreadBook(), ["car"], 0.9)
    )
    assert promise_buffer(session, depot_id, ["car"], Settings(promise_confidence=0)) == Buffer()


def test_recorded_outcomes_read_back_as_the_book(session: Session, world: World) -> None:
    depot_id = world.depot.id or 0
    outcomes = [(KEY, 1.2), (KEY, 0.9), (SpreadKey("travel", "bike", 17, "1:1"), 1.5)]
    assert record(session, depot_id, outcomes[:2]) == 2
    session.commit()
    record(session, depot_id, outcomes[2:])  # the same rows again, and new ones
    session.commit()
    stored = load_book(session, depot_id)
    expected = SpreadBook().observe_many(outcomes)
    assert stored.spreads.keys() == expected.spreads.keys()
    for key, spread in expected.spreads.items():
        got = stored.spreads[key]
        assert (got.n, got.mean, got.m2) == pytest.approx((spread.n, spread.mean, spread.m2))
    rows = session.exec(select(SpreadStat).where(SpreadStat.depot_id == depot_id)).all()
    assert len(rows) == 6  # three levels of two keys, one row each


def test_a_plan_is_made_on_the_buffer_and_says_so(session: Session, world: World) -> None:
    _orders(session, world, 5)
    plain = _plan(session, world, 0.0)
    cautious = _plan(session, world, 0.9)
    assert plain.stats["buffer"]["confidence"] is None
    assert cautious.stats["buffer"]["confidence"] == 0.9
    assert cautious.stats["buffer"]["travel"]["car"] == pytest.approx(
        math.exp(1.2815515655 * 0.15), abs=1e-5
    )
    assert (cautious.duration_s or 0) > (plain.duration_s or 0)  # legs, service planned longer
    comparison = cautious.stats["comparison"]
    assert comparison["made_current"] is True
    assert "promise confidence 0.9" in comparison["why"] and "not compared" in comparison["why"]


def test_outcomes_teach_the_spread_of_the_leg(session: Session, world: World) -> None:
    """The second stop's hand-over 1.5 x the nominal leg (plus the nominal service) after the
    first stop's: the depot learns a travel ratio of 1.5 at its profile, hour and zone."""
    _orders(session, world, 4)
    plan = _plan(session, world, 0.9)
    buffer = Buffer.from_stats(plan.stats["buffer"])
    route = plan_routes(session, plan.id or 0)[0]
    stops = route_stops(session, route.id or 0)
    dispatch_route(session, route.id or 0)
    first, second = stops[0], stops[1]
    start = first.departure_at
    mark_stop_outcome(session, first.id or 0, "delivered", at=start)
    assert load_book(session, world.depot.id or 0) == SpreadBook()  # a first stop teaches nothing
    leg = (second.arrival_at - first.departure_at).total_seconds() / buffer.travel_factor("car")
    service = (second.departure_at - second.service_start_at).total_seconds() / buffer.service
    at = start + timedelta(seconds=1.5 * leg + service)
    if second.wait_s:
        pytest.skip("the plan has the second stop wait for its window")
    mark_stop_outcome(session, second.id or 0, "delivered", at=at)
    book = load_book(session, world.depot.id or 0)
    spread = book.spreads[SpreadKey("travel", "car")]
    assert spread.n == 1
    assert math.exp(spread.mean) == pytest.approx(1.5, abs=0.01)
    order = session.get(Order, second.order_id)
    assert order is not None
    place = session.get(Place, order.place_id)
    assert place is not None
    hour = second.arrival_at.astimezone(DAY_ZONE).hour
    assert SpreadKey("travel", "car", hour, zone_of(place.lat, place.lon)) in book.spreads


def test_a_stop_whose_previous_stop_is_open_teaches_nothing(session: Session, world: World) -> None:
    _orders(session, world, 3)
    plan = _plan(session, world, 0.9)
    route = plan_routes(session, plan.id or 0)[0]
    dispatch_route(session, route.id or 0)
    stops = route_stops(session, route.id or 0)
    stop = mark_stop_outcome(session, stops[1].id or 0, "failed")
    assert outcome_ratios(session, stop) == []
    assert session.exec(select(SpreadStat)).all() == []


def test_outcomes_recorded_out_of_order_teach_each_leg_once(session: Session, world: World) -> None:
    """The second stop's outcome first (nothing to learn yet), then the first's: the leg
    between them is learned then, once."""
    _orders(session, world, 4)
    plan = _plan(session, world, 0.9)
    route = plan_routes(session, plan.id or 0)[0]
    stops = route_stops(session, route.id or 0)
    if stops[1].wait_s:
        pytest.skip("the plan has the second stop wait for its window")
    dispatch_route(session, route.id or 0)
    start = stops[0].departure_at
    mark_stop_outcome(session, stops[1].id or 0, "delivered", at=start + timedelta(minutes=9))
    assert load_book(session, world.depot.id or 0) == SpreadBook()
    mark_stop_outcome(session, stops[0].id or 0, "delivered", at=start)
    assert load_book(session, world.depot.id or 0).spreads[SpreadKey("travel", "car")].n == 1


def test_a_depot_that_learned_slow_legs_plans_them_longer(session: Session, world: World) -> None:
    _orders(session, world, 5)
    before = _plan(session, world, 0.9)
    record(session, world.depot.id or 0, [(SpreadKey("travel", "car"), 1.6)] * 200)
    session.commit()
    after = _plan(session, world, 0.9)
    assert after.stats["buffer"]["travel"]["car"] > 1.6 > before.stats["buffer"]["travel"]["car"]
    assert (after.duration_s or 0) > (before.duration_s or 0)
