"""A customer's delivery profile: see it, correct it, export it, delete it, learn from it.

The profile (table ``customer_profiles``) keeps only what delivery options need: where the
customer is by weekday (rules naming *their own* places), the times they prefer, whether a
robot or a crowdsourced courier may bring their parcels, how green and how patient they are,
their language and hand-off instructions, and what their choices and deliveries taught
(:class:`orchestrator.concierge.learning.SlotStats`, as JSON). A customer who stored nothing has the
defaults: at their home all week, no robot, couriers fine, no eco wait.

Privacy, as the services here implement it:

* :func:`get_profile` and :func:`put_profile` — see and correct (validated: a rule must name
  one of the customer's places; a preferred window must lie inside one day);
* :func:`export_customer` — everything stored about the customer, as one JSON document: the
  customer, the profile with what was learned, their places, orders with lines, the orders'
  events and the holds on delivery options;
* :func:`delete_profile` — removes the profile and the learned statistics, every hold, and
  every place no order still to be delivered needs. Kept, and why: the customer record itself
  (the shop's account; deleting it is the shop's decision), orders still to be delivered with
  their places (the parcel is on its way), and delivered or failed orders for bookkeeping —
  the day, value, status and event log — *detached* from the place they went to, which is
  deleted. Nothing else about the customer remains.

Learning: :func:`record_outcome` adds one observation to the customer's statistics in the
caller's transaction; :func:`on_stop_outcome` is the hook :func:`orchestrator.planning.plans.
mark_stop_outcome` calls (delivered → ``delivered``, failed → ``not_at_home``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from sqlmodel import Session, col, select

from orchestrator._validation import validated
from orchestrator.concierge.learning import Outcome, SlotKey, SlotStats, daypart_of
from orchestrator.concierge.options import PlaceInfo, PreferredWindow
from orchestrator.concierge.schedule import WEEKDAYS, ScheduleRule, WeeklySchedule
from orchestrator.errors import InvalidInput, NotFound
from orchestrator.intake.catalog import customer_places
from orchestrator.intake.orders import order_public
from orchestrator.models import (
    Customer,
    CustomerExport,
    CustomerProfile,
    CustomerPublic,
    HoldPublic,
    LearnedSlot,
    OptionHold,
    Order,
    OrderEventPublic,
    OrderStatus,
    Place,
    PlaceKind,
    PlacePublic,
    PreferredWindowIn,
    ProfileDeleted,
    ProfilePublic,
    ProfileUpdate,
    RouteStop,
    ScheduleRulePublic,
    StopStatus,
)
from orchestrator.models.columns import utcnow
from orchestrator.store.events import order_events

__all__ = [
    "DEFAULT_TIMEZONE",
    "LIVE_STATUSES",
    "CustomerPreferences",
    "delete_profile",
    "export_customer",
    "get_profile",
    "on_stop_outcome",
    "preferences",
    "preferences_of",
    "put_profile",
    "record_outcome",
]

DEFAULT_TIMEZONE = "Europe/Helsinki"
"""The time zone of a customer who stored no profile."""

LIVE_STATUSES = (OrderStatus.OPEN, OrderStatus.PLANNED, OrderStatus.DISPATCHED)
"""Orders still to be delivered: their places are kept when a profile is deleted."""


@dataclass(frozen=True, slots=True)
class CustomerPreferences:
    """A customer's profile as the option engine needs it (plain values, no table rows).

    ``place_ids`` maps each place name to its id; ``declared`` says whether the schedule has
    any rule (without one, look-alike customers supply the prior).
    """

    customer_id: int
    schedule: WeeklySchedule
    places: Mapping[str, PlaceInfo]
    place_ids: Mapping[str, int]
    stats: SlotStats
    preferred_windows: tuple[PreferredWindow, ...]
    accepts_robot: bool
    accepts_courier: bool
    prefers_eco: bool
    eco_max_wait_days: int

    @property
    def declared(self) -> bool:
        """Whether the customer declared any schedule rule."""
        return bool(self.schedule.rules)


def _customer(session: Session, customer_id: int) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound("customer", customer_id)
    return customer


def _default_place(places: Sequence[Place], wanted: int | None) -> Place | None:
    by_id = {p.id: p for p in places}
    if wanted is not None and wanted in by_id:
        return by_id[wanted]
    homes = [p for p in places if p.kind is PlaceKind.HOME]
    return homes[0] if homes else next(iter(places), None)


def _days(names: Sequence[str]) -> frozenset[int]:
    return frozenset(WEEKDAYS.index(n) for n in names)


def _clock(value: str) -> time:
    return time.fromisoformat(value)


def get_profile(session: Session, customer_id: int) -> ProfilePublic:
    """The customer's profile as shown (the defaults when nothing is stored).

    Raises
    ------
    NotFound
        No such customer.
    """
    _customer(session, customer_id)
    return _public(session, customer_id, session.get(CustomerProfile, customer_id))


def put_profile(
    session: Session,
    customer_id: int,
    data: ProfileUpdate | Mapping[str, Any],
    *,
    now: datetime | None = None,
) -> ProfilePublic:
    """Replace the customer's preferences (the learned statistics stay) and commit.

    Raises
    ------
    NotFound
        No such customer.
    InvalidInput
        Bad input, with the field path: a rule naming a place that is not the customer's
        (``schedule.0.place_id``), a window outside the day (``preferred_windows.0``), an
        unknown time zone, an unknown field.
    """
    _customer(session, customer_id)
    update = validated(ProfileUpdate, data)
    places = customer_places(session, customer_id)
    by_id = {p.id: p for p in places}
    by_name = {p.name: p for p in places}
    names = sorted(by_name)
    if update.default_place_id is not None and update.default_place_id not in by_id:
        raise InvalidInput(
            "default_place_id",
            f"place {update.default_place_id} is not one of your places {names} — give the id "
            "of one of them, or add the place first",
        )
    rules: list[dict[str, Any]] = []
    for i, rule in enumerate(update.schedule):
        place = (
            by_id.get(rule.place_id)
            if rule.place_id is not None
            else by_name.get(rule.place)
            if rule.place is not None
            else None
        )
        if place is None:
            field, value = (
                ("place_id", rule.place_id) if rule.place_id is not None else ("place", rule.place)
            )
            raise InvalidInput(
                ("schedule", i, field),
                f"{value!r} is not one of your places {names} — add it first "
                "(POST /customers/{id}/places) or name one of them",
            )
        if rule.place is not None and rule.place != place.name:
            raise InvalidInput(
                ("schedule", i, "place"),
                f"place_id {place.id} is {place.name!r}, not {rule.place!r} — give one of them",
            )
        try:
            ScheduleRule(place.name, _days(rule.weekdays), rule.start, rule.end)
        except InvalidInput as exc:
            raise InvalidInput(("schedule", i, *exc.field), exc.message) from None
        rules.append(
            {
                "place_id": place.id,
                "weekdays": list(dict.fromkeys(rule.weekdays)),
                "start": rule.start.isoformat(),
                "end": rule.end.isoformat(),
            }
        )
    windows = [
        {
            "weekdays": list(dict.fromkeys(w.weekdays)),
            "start": w.start.isoformat(),
            "end": w.end.isoformat(),
        }
        for w in update.preferred_windows
    ]
    profile = session.get(CustomerProfile, customer_id) or CustomerProfile(customer_id=customer_id)
    profile.sqlmodel_update(
        {
            "timezone": update.timezone,
            "default_place_id": update.default_place_id,
            "schedule": rules,
            "preferred_windows": windows,
            "accepts_robot": update.accepts_robot,
            "accepts_courier": update.accepts_courier,
            "prefers_eco": update.prefers_eco,
            "eco_max_wait_days": update.eco_max_wait_days,
            "language": update.language,
            "handoff_instructions": update.handoff_instructions,
            "updated_at": now or utcnow(),
        }
    )
    session.add(profile)
    session.commit()
    session.refresh(profile)
    return _public(session, customer_id, profile)


def preferences(session: Session, customer_id: int) -> CustomerPreferences:
    """The customer's profile as plain values for :mod:`orchestrator.concierge.options`.

    Raises
    ------
    NotFound
        No such customer.
    InvalidInput
        The customer has no place yet (field ``place_id``): there is nowhere to deliver.
    """
    _customer(session, customer_id)
    places = customer_places(session, customer_id)
    profile = session.get(CustomerProfile, customer_id)
    return preferences_of(customer_id, profile, places)


def preferences_of(
    customer_id: int, profile: CustomerProfile | None, places: Sequence[Place]
) -> CustomerPreferences:
    """:func:`preferences` from rows already read: the customer's profile (``None`` when
    nothing is stored) and places, oldest first.

    Raises
    ------
    InvalidInput
        The customer has no place yet (field ``place_id``).
    """
    default = _default_place(places, profile.default_place_id if profile else None)
    if default is None:
        raise InvalidInput(
            "place_id",
            f"customer {customer_id} has no place yet — add one (POST /customers/"
            f"{customer_id}/places) before asking for delivery options",
        )
    by_id = {p.id: p for p in places}
    rules = []
    for rule in profile.schedule if profile else []:
        place = by_id.get(rule["place_id"])
        if place is None:
            continue  # the place is gone: so is the rule
        rules.append(
            ScheduleRule(
                place.name, _days(rule["weekdays"]), _clock(rule["start"]), _clock(rule["end"])
            )
        )
    timezone = profile.timezone if profile else DEFAULT_TIMEZONE
    return CustomerPreferences(
        customer_id=customer_id,
        schedule=WeeklySchedule(default.name, tuple(rules), timezone=timezone),
        places={p.name: PlaceInfo(p.name, p.lat, p.lon, p.kind.value) for p in places},
        place_ids={p.name: p.id or 0 for p in places},
        stats=_stats(profile),
        preferred_windows=tuple(
            PreferredWindow(_days(w["weekdays"]), _clock(w["start"]), _clock(w["end"]))
            for w in (profile.preferred_windows if profile else [])
        ),
        accepts_robot=profile.accepts_robot if profile else False,
        accepts_courier=profile.accepts_courier if profile else True,
        prefers_eco=profile.prefers_eco if profile else False,
        eco_max_wait_days=profile.eco_max_wait_days if profile else 0,
    )


def record_outcome(
    session: Session,
    customer_id: int,
    place: str,
    when: datetime,
    outcome: Outcome,
    *,
    at: datetime | None = None,
    passed_over: Sequence[str] = (),
) -> None:
    """Add one observation to the customer's statistics (not committed: the caller's
    transaction).

    Parameters
    ----------
    place
        The place's name.
    when
        The instant the slot is about (the window's start): its local weekday and part of
        the day in the customer's time zone make the slot.
    outcome
        What happened.
    at
        When it was observed (evidence fades from then); default now.
    passed_over
        For a choice: the other places offered that day.
    """
    profile = session.get(CustomerProfile, customer_id)
    if profile is None:
        profile = CustomerProfile(customer_id=customer_id, timezone=DEFAULT_TIMEZONE)
    local = when.astimezone(WeeklySchedule("x", timezone=profile.timezone).zone)
    key = SlotKey(place, local.weekday(), daypart_of(local.time()))
    stats = _stats(profile).record(key, outcome, at or utcnow(), passed_over=passed_over)
    profile.stats = stats.to_json()
    session.add(profile)


def on_stop_outcome(session: Session, stop: RouteStop, outcome: StopStatus, at: datetime) -> None:
    """Learn from a closed stop: ``delivered`` or ``failed`` (counted as not at home) at the
    order's place and window. Called by :func:`orchestrator.operations.dispatch.mark_stop_outcome`
    before it commits."""
    order = session.get(Order, stop.order_id)
    if order is None or order.place_id is None:
        return
    place = session.get(Place, order.place_id)
    if place is None:
        return
    when = order.window_start or stop.service_start_at
    learned = Outcome.DELIVERED if outcome is StopStatus.DELIVERED else Outcome.NOT_AT_HOME
    record_outcome(session, order.customer_id, place.name, when, learned, at=at)


def export_customer(
    session: Session, customer_id: int, *, now: datetime | None = None
) -> CustomerExport:
    """Everything stored about the customer, as one document.

    Raises
    ------
    NotFound
        No such customer.
    """
    customer = _customer(session, customer_id)
    orders = session.exec(
        select(Order).where(Order.customer_id == customer_id).order_by(col(Order.id))
    ).all()
    events = [
        OrderEventPublic.model_validate(e) for o in orders for e in order_events(session, o.id or 0)
    ]
    holds = session.exec(
        select(OptionHold).where(OptionHold.customer_id == customer_id).order_by(col(OptionHold.id))
    ).all()
    return CustomerExport(
        exported_at=now or utcnow(),
        customer=CustomerPublic.model_validate(customer),
        profile=get_profile(session, customer_id),
        places=[PlacePublic.model_validate(p) for p in customer_places(session, customer_id)],
        orders=[order_public(session, o) for o in orders],
        events=events,
        holds=[HoldPublic.model_validate(h) for h in holds],
    )


def delete_profile(session: Session, customer_id: int) -> ProfileDeleted:
    """Delete the customer's profile, learned statistics, holds and the places no order still
    to be delivered needs; commit. See the module's docstring for what is kept and why.

    Raises
    ------
    NotFound
        No such customer.
    """
    _customer(session, customer_id)
    deleted = {"profile": 0, "holds": 0, "places": 0}
    profile = session.get(CustomerProfile, customer_id)
    if profile is not None:
        session.delete(profile)
        deleted["profile"] = 1
    for hold in session.exec(select(OptionHold).where(OptionHold.customer_id == customer_id)):
        session.delete(hold)
        deleted["holds"] += 1
    session.flush()
    orders = session.exec(select(Order).where(Order.customer_id == customer_id)).all()
    live = [o for o in orders if o.status in LIVE_STATUSES]
    closed = [o for o in orders if o.status not in LIVE_STATUSES]
    needed = {o.place_id for o in live if o.place_id is not None}
    for order in closed:
        if order.place_id is not None and order.place_id not in needed:
            order.place_id = None  # bookkeeping keeps the order, not where it went
            session.add(order)
    session.flush()
    for place in customer_places(session, customer_id):
        if place.id not in needed:
            session.delete(place)
            deleted["places"] += 1
    session.commit()
    return ProfileDeleted(
        deleted=deleted,
        kept={
            "live_orders": len(live),
            "places_of_live_orders": len(needed),
            "closed_orders": len(closed),
        },
        note="The profile, what was learned, the holds and the places no order still to be "
        "delivered needs are deleted. Kept: the customer record, orders still to be delivered "
        "with their places, and delivered or failed orders for bookkeeping, without their "
        "place.",
    )


# -- implementation -----------------------------------------------------------------------------


def _stats(profile: CustomerProfile | None) -> SlotStats:
    if profile is None or not profile.stats:
        return SlotStats()
    return SlotStats.from_json(profile.stats)


def _public(session: Session, customer_id: int, profile: CustomerProfile | None) -> ProfilePublic:
    places = customer_places(session, customer_id)
    by_id = {p.id: p for p in places}
    default = _default_place(places, profile.default_place_id if profile else None)
    rules = []
    for rule in profile.schedule if profile else []:
        place = by_id.get(rule["place_id"])
        if place is not None and place.id is not None:
            rules.append(
                ScheduleRulePublic(
                    place_id=place.id,
                    place=place.name,
                    weekdays=rule["weekdays"],
                    start=_clock(rule["start"]),
                    end=_clock(rule["end"]),
                )
            )
    stats = _stats(profile)
    learned = [
        LearnedSlot(
            place=key.place,
            weekday=WEEKDAYS[key.weekday],  # type: ignore[arg-type]  # a Weekday literal by construction
            daypart=key.daypart,
            successes=round(e.successes, 3),
            failures=round(e.failures, 3),
            as_of=e.as_of,
        )
        for key, e in sorted(stats.evidence.items())
    ]
    return ProfilePublic(
        customer_id=customer_id,
        timezone=profile.timezone if profile else DEFAULT_TIMEZONE,
        default_place_id=default.id if default else None,
        default_place=default.name if default else None,
        schedule=rules,
        preferred_windows=[
            PreferredWindowIn(
                weekdays=w["weekdays"], start=_clock(w["start"]), end=_clock(w["end"])
            )
            for w in (profile.preferred_windows if profile else [])
        ],
        accepts_robot=profile.accepts_robot if profile else False,
        accepts_courier=profile.accepts_courier if profile else True,
        prefers_eco=profile.prefers_eco if profile else False,
        eco_max_wait_days=profile.eco_max_wait_days if profile else 0,
        language=profile.language if profile else None,
        handoff_instructions=profile.handoff_instructions if profile else None,
        learned=learned,
        updated_at=profile.updated_at if profile else None,
    )
