"""An offer's life in the store (SQLite and PostgreSQL): accepting takes the orders off the
vans for good; expiry, refusal and a no-show send them back — re-planned onto a van inside
their windows, or the customer told (``promise_at_risk``); a held order is offered once."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from orchestrator.commuting import (
    WITH_COURIER,
    accept_offer,
    create_courier,
    expire_due,
    pick_up,
    refuse_offer,
    register_trip,
    report_no_show,
)
from orchestrator.commuting.offers import offer_jobs
from orchestrator.errors import Conflict
from orchestrator.intake.orders import register_order
from orchestrator.models import (
    CourierOffer,
    OfferStatus,
    Order,
    OrderEventKind,
    OrderStatus,
    Route,
    RouteStop,
    TripCreate,
    UnservedOrder,
    Webhook,
    WebhookDelivery,
    WebhookEvent,
)
from orchestrator.planning.plans import current_plan, plan_day, replan
from orchestrator.store.events import order_events
from tests.orchestrator.conftest import DAY, LIMITS, TRAVEL, World, make_world, order_data

ZONE = ZoneInfo("Europe/Helsinki")
NOON = datetime(2025, 3, 3, 12, tzinfo=ZONE)
"""When the trips are registered: the morning of the service day."""


def at(hour: float) -> datetime:
    """``hour`` o'clock in Helsinki on the test day."""
    return datetime(2025, 3, 3, tzinfo=ZONE) + timedelta(hours=hour)


def trip(leave_h: float = 16, **changes: Any) -> TripCreate:
    """A bike ride past the customer's home, leaving ``leave_h``-``leave_h + 0.5``."""
    data: dict[str, Any] = {
        "origin_lat": 60.1690, "origin_lon": 24.9390,
        "destination_lat": 60.1900, "destination_lon": 24.9300,
        "leave_after": at(leave_h), "leave_before": at(leave_h + 0.5),
        "capacity_parcels": 3, "max_detour_min": 20, "payout_wanted_eur": 3.0,
    }  # fmt: skip
    data.update(changes)
    return TripCreate.model_validate(data)


def order(session: Session, world: World, key: str, start_h: float = 16, end_h: float = 18) -> int:
    """An order of the world's customer to their home, promised ``start_h``-``end_h``."""
    made = register_order(
        session,
        order_data(world, window_start=at(start_h).isoformat(), window_end=at(end_h).isoformat()),
        key,
    )
    assert made.id is not None
    return made.id


def offered(session: Session, leave_h: float = 16) -> CourierOffer:
    """A new courier's trip and its offer (asserted made)."""
    courier = create_courier(session, {"name": "Mikko"})
    assert courier.id is not None
    made, offer = register_trip(session, courier.id, trip(leave_h), travel=TRAVEL, now=NOON)
    assert offer is not None, made.no_offer_reason
    return offer


def kinds(session: Session, order_id: int) -> list[OrderEventKind]:
    """The order's event kinds, oldest first."""
    return [e.kind for e in order_events(session, order_id)]


def stop_of(session: Session, order_id: int) -> RouteStop | None:
    """The order's stop in its day's current plan, if any."""
    order = session.get(Order, order_id)
    assert order is not None
    plan = current_plan(session, order.depot_id, order.service_day)
    assert plan is not None
    return session.exec(
        select(RouteStop)
        .join(Route)
        .where(Route.plan_id == plan.id, RouteStop.order_id == order_id)
    ).first()


def test_accepting_takes_the_order_off_the_vans_for_good(session: Session) -> None:
    world = make_world(session)
    oid = order(session, world, "o1")
    plan = plan_day(session, world.depot.id or 0, DAY, limits=LIMITS, travel=TRAVEL)
    assert stop_of(session, oid) is not None
    offer = offered(session)
    accepted = accept_offer(session, offer.id or 0, courier_id=None, now=NOON)
    assert accepted.status is OfferStatus.ACCEPTED
    assert stop_of(session, oid) is None
    reasons = session.exec(select(UnservedOrder.reason).where(UnservedOrder.plan_id == plan.id))
    assert list(reasons) == [WITH_COURIER]
    assert session.get(Order, oid).status is OrderStatus.DISPATCHED  # type: ignore[union-attr]
    replan(session, plan.id or 0, limits=LIMITS, travel=TRAVEL)
    assert stop_of(session, oid) is None  # a re-plan gives it no van
    assert kinds(session, oid)[-1] is OrderEventKind.COURIER_ACCEPTED


def test_an_unanswered_offer_expires_and_its_order_is_replanned(session: Session) -> None:
    world = make_world(session)
    order(session, world, "o1")
    plan_day(session, world.depot.id or 0, DAY, limits=LIMITS, travel=TRAVEL)
    late = order(session, world, "late")  # after the plan: on no van
    offer = offered(session)
    assert late in {j for j in _jobs(session, offer)}
    assert expire_due(session, travel=TRAVEL, now=offer.deadline_at - timedelta(seconds=1)) == []
    assert expire_due(session, travel=TRAVEL, now=offer.deadline_at, limits=LIMITS) == [offer.id]
    session.refresh(offer)
    assert offer.status is OfferStatus.EXPIRED
    stop = stop_of(session, late)
    assert stop is not None and at(16) <= stop.service_start_at <= at(18)
    assert OrderEventKind.COURIER_RELEASED in kinds(session, late)
    with pytest.raises(Conflict, match="expired"):
        accept_offer(session, offer.id or 0, courier_id=None, now=offer.deadline_at)


def test_a_no_show_sends_the_orders_back_onto_the_vans(session: Session) -> None:
    world = make_world(session)
    oid = order(session, world, "o1")
    plan_day(session, world.depot.id or 0, DAY, limits=LIMITS, travel=TRAVEL)
    offer = offered(session)
    accept_offer(session, offer.id or 0, courier_id=None, now=NOON)
    back = report_no_show(session, offer.id or 0, travel=TRAVEL, now=NOON, limits=LIMITS)
    assert back.status is OfferStatus.NO_SHOW
    stop = stop_of(session, oid)
    assert stop is not None and at(16) <= stop.service_start_at <= at(18)
    assert session.get(Order, oid).status is OrderStatus.PLANNED  # type: ignore[union-attr]
    assert back.replan_note is not None and f"order {oid} on " in back.replan_note


def test_no_show_after_pickup_is_a_conflict(session: Session) -> None:
    world = make_world(session)
    order(session, world, "o1")
    offer = offered(session)
    accept_offer(session, offer.id or 0, courier_id=None, now=NOON)
    pick_up(session, offer.id or 0, courier_id=None)
    with pytest.raises(Conflict, match="picked parcels up"):
        report_no_show(session, offer.id or 0, travel=TRAVEL, now=NOON)


def test_a_customer_is_told_when_no_van_can_bring_it_back(session: Session) -> None:
    world = make_world(session)  # vans until 18:00
    session.add(
        Webhook(url="http://127.0.0.1:9/hook", events=[WebhookEvent.ORDER_PROMISE_AT_RISK],
                eta_moved_min=15, secret="s" * 32)
    )  # fmt: skip
    session.commit()
    order(session, world, "o1")
    plan_day(session, world.depot.id or 0, DAY, limits=LIMITS, travel=TRAVEL)
    evening = order(session, world, "evening", 18.5, 19.5)  # only a courier can
    offer = offered(session, leave_h=18.25)
    assert _jobs(session, offer) == [evening]
    refuse_offer(session, offer.id or 0, courier_id=None, travel=TRAVEL, now=NOON, limits=LIMITS)
    assert stop_of(session, evening) is None
    told = kinds(session, evening)
    assert OrderEventKind.COURIER_RELEASED in told
    assert told[-1] is OrderEventKind.PROMISE_AT_RISK
    sent = session.exec(select(WebhookDelivery).where(WebhookDelivery.order_id == evening)).all()
    assert [d.event_type for d in sent] == [WebhookEvent.ORDER_PROMISE_AT_RISK]
    assert '"choices"' in sent[0].body


def test_an_order_held_by_one_offer_is_not_offered_again(session: Session) -> None:
    world = make_world(session)
    order(session, world, "o1")
    offered(session)
    courier = create_courier(session, {"name": "Liisa"})
    made, second = register_trip(session, courier.id or 0, trip(), travel=TRAVEL, now=NOON)
    assert second is None and made.no_offer_reason is not None


def _jobs(session: Session, offer: CourierOffer) -> list[int]:
    """The offer's orders, in riding order."""
    return [j.order_id for j in offer_jobs(session, offer.id or 0)]


def test_an_expired_offer_leaves_alone_an_order_another_courier_took(session: Session) -> None:
    world = make_world(session)
    oid = order(session, world, "o1")
    plan_day(session, world.depot.id or 0, DAY, limits=LIMITS, travel=TRAVEL)
    first = offered(session)
    later = first.deadline_at + timedelta(seconds=1)  # the first is past, not yet expired
    courier = create_courier(session, {"name": "Liisa"})
    _, second = register_trip(session, courier.id or 0, trip(), travel=TRAVEL, now=later)
    assert second is not None and _jobs(session, second) == [oid]
    accept_offer(session, second.id or 0, courier_id=None, now=later)
    assert expire_due(session, travel=TRAVEL, now=later, limits=LIMITS) == [first.id]
    assert session.get(Order, oid).status is OrderStatus.DISPATCHED  # type: ignore[union-attr]
    assert stop_of(session, oid) is None
    session.refresh(second)
    assert second.status is OfferStatus.ACCEPTED
