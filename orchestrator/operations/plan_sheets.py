"""A stored plan as three tables a dispatch team opens in a spreadsheet: its routes, its stops
and the orders it leaves out (:func:`plan_sheets`).

The tables are plain values (:class:`Sheet`: named columns with their units, rows of text,
numbers, aware instants and ``None``); :mod:`api.tabular` writes them as CSV or ``.xlsx`` and
the API shows the instants in the depot's zone. Nothing here is a rule of its own: a stop's
door-level facts (what kind of stop, its address and place, parcels, handling flags, hand-off
instructions, outcome) are the driver's manifest's (:func:`~orchestrator.operations.manifest.
route_manifest`), a route's totals and the unserved orders with their reasons are the
board's (:func:`~orchestrator.planning.board_view.day_view`); this module only adds each
stop's timing and load as stored (service start, wait, leg, load after) and lays them out.

A plan holds at most ``LASTMILE_MAX_PLAN_STOPS`` stops (2,000 by default), so the tables are
bounded and built in memory: two queries for the timings, the board's five and the
manifest's five per route.

Units: metres, seconds, EUR, grams CO2, grams / millilitres / parcels of load; coordinates
WGS 84 degrees; instants aware (UTC) until the API shows them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from orchestrator.errors import Conflict, NotFound
from orchestrator.models import Plan, PlanStatus, ReturnStop, Route, RouteStop
from orchestrator.operations.manifest import ManifestStop, route_manifest
from orchestrator.planning.board_view import RouteTable, day_view

__all__ = [
    "ROUTE_COLUMNS",
    "STOP_COLUMNS",
    "UNSERVED_COLUMNS",
    "Cell",
    "Column",
    "PlanSheets",
    "Sheet",
    "plan_sheets",
]

Cell = str | int | float | datetime | None
"""One value of a table: text, a number, an aware instant, or nothing."""


@dataclass(frozen=True, slots=True)
class Column:
    """A column: its ``name`` (the header) and what it holds, with its unit."""

    name: str
    meaning: str


@dataclass(frozen=True, slots=True)
class Sheet:
    """A table: its ``name`` (the workbook's sheet), ``columns`` and ``rows`` (one value per
    column each)."""

    name: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]

    @property
    def header(self) -> tuple[str, ...]:
        """The columns' names."""
        return tuple(c.name for c in self.columns)


@dataclass(frozen=True, slots=True)
class PlanSheets:
    """A plan's tables, and what names and dates them: ``timezone`` is the depot's IANA zone
    (the zone every instant is shown in), ``service_day`` its local date."""

    plan_id: int
    depot_code: str
    timezone: str
    service_day: date
    routes: Sheet
    stops: Sheet
    unserved: Sheet

    @property
    def sheets(self) -> tuple[Sheet, Sheet, Sheet]:
        """Routes, stops, unserved: the workbook's order."""
        return (self.routes, self.stops, self.unserved)


_LOAD = (
    Column("load_weight_g", "on board, grams"),
    Column("load_volume_ml", "on board, millilitres"),
    Column("load_parcels", "on board, parcels"),
)

ROUTE_COLUMNS = (
    Column("plan_id", "the plan"),
    Column("route_id", "the route (GET /routes/{id}, its manifest)"),
    Column("vehicle_id", "the vehicle, stable across re-plans of the day"),
    Column("vehicle_type", "its vehicle type"),
    Column("status", "planned or dispatched"),
    Column("start", "leaves the depot (instant)"),
    Column("end", "the route ends as planned (instant)"),
    Column("stops", "stops on the route, deliveries and return pickups and drop-offs"),
    Column("parcels", "parcels handed over or collected at its stops"),
    Column("distance_m", "metres driven"),
    Column("duration_s", "seconds on duty"),
    Column("cost_eur", "EUR, fixed cost included"),
    Column("co2_g", "grams CO2"),
    *(Column(c.name, c.meaning.replace("on board", "on board at the start")) for c in _LOAD),
    Column("timezone", "the depot's IANA zone the instants are shown in"),
)
"""The routes sheet: one row per route, its totals."""

STOP_COLUMNS = (
    Column("plan_id", "the plan"),
    Column("route_id", "the route"),
    Column("vehicle_id", "the vehicle"),
    Column("vehicle_type", "its vehicle type"),
    Column("sequence", "visiting order on the route, from 1"),
    Column("kind", "delivery, pickup (a return) or dropoff (returns left at a store)"),
    Column("stop_id", "the route stop (a delivery's outcome is recorded on it) or return stop"),
    Column("order_id", "the order"),
    Column("reference", "the shop's own order reference"),
    Column("return_id", "the return, for a pickup or drop-off"),
    Column("place_name", "the place's name as the customer gave it (or the store's)"),
    Column("address", "the street address"),
    Column("lat", "latitude, WGS 84 degrees"),
    Column("lon", "longitude, WGS 84 degrees"),
    Column("window_start", "the delivery window opens (instant)"),
    Column("window_end", "the delivery window closes (instant)"),
    Column("eta", "planned arrival (instant)"),
    Column("service_start", "planned start of the hand-over, after any wait (instant)"),
    Column("departure", "planned departure (instant)"),
    Column("wait_s", "seconds waiting for the window to open"),
    Column("leg_distance_m", "metres from the previous stop or the depot"),
    Column("parcels", "parcels handed over or collected"),
    *_LOAD,
    Column("handling", "what the order asks of the vehicle: fragile, signature, cold"),
    Column("handoff_instructions", "the customer's, then the place's own"),
    Column("status", "planned, dispatched, delivered, failed (a return: its status)"),
    Column("outcome", "what the driver recorded at a closed delivery"),
    Column("closed_at", "when the delivery was recorded delivered or failed (instant)"),
)
"""The stops sheet (and the CSV): one row per stop, routes in id order, stops in visiting
order."""

UNSERVED_COLUMNS = (
    Column("plan_id", "the plan"),
    Column("order_id", "the order the plan leaves out"),
    Column("reference", "the shop's own order reference"),
    Column("reason", "why, as a code: window_unreachable, demand_exceeds_capacity, ..."),
    Column("detail", "why, in a sentence, and what to change"),
    Column("place_name", "the place's name"),
    Column("address", "the street address"),
    Column("window_start", "the delivery window opens (instant)"),
    Column("window_end", "the delivery window closes (instant)"),
    Column("handling", "vehicle skills the order needs: fragile, signature, cold"),
)
"""The unserved sheet: one row per order the plan leaves out."""

_UNFINISHED = (PlanStatus.QUEUED, PlanStatus.RUNNING)


def plan_sheets(session: Session, plan_id: int) -> PlanSheets:
    """Plan ``plan_id``'s routes, stops and unserved orders as tables.

    Raises
    ------
    NotFound
        No such plan.
    Conflict
        Its job has not finished: it has no routes yet.
    """
    plan = session.get(Plan, plan_id)
    if plan is None or plan.id is None:
        raise NotFound("plan", plan_id)
    if plan.status in _UNFINISHED:
        raise Conflict(
            f"plan job {plan_id} is {plan.status.value} and has no routes yet — poll "
            f"GET /plans/{plan_id} until it succeeds"
        )
    view = day_view(session, plan.depot_id, plan.service_day, plan_id=plan.id)
    timings = _timings(session, plan.id)
    references = {s.id: s.reference for r in view.routes for s in r.stops}
    route_rows: list[tuple[Cell, ...]] = []
    stop_rows: list[tuple[Cell, ...]] = []
    for route in view.routes:
        stops = route_manifest(session, route.id).stops
        route_rows.append(_route_row(plan.id, route, stops, view.timezone))
        stop_rows.extend(_stop_row(plan.id, route, stop, timings, references) for stop in stops)
    unserved = tuple(
        (
            plan.id,
            u.order_id,
            u.reference,
            u.reason,
            u.detail,
            u.place_name,
            u.address,
            u.window_start,
            u.window_end,
            " ".join(u.skills),
        )
        for u in view.unserved
    )
    return PlanSheets(
        plan_id=plan.id,
        depot_code=view.depot_code,
        timezone=view.timezone,
        service_day=plan.service_day,
        routes=Sheet("routes", ROUTE_COLUMNS, tuple(route_rows)),
        stops=Sheet("stops", STOP_COLUMNS, tuple(stop_rows)),
        unserved=Sheet("unserved", UNSERVED_COLUMNS, unserved),
    )


# -- implementation ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Timing:
    """A stop's stored timing and load."""

    service_start: datetime
    wait_s: int
    leg_distance_m: int
    load_after: tuple[int | None, ...]


def _load(values: Sequence[int] | None) -> tuple[int | None, ...]:
    """Grams, millilitres, parcels (``None`` where a dimension is missing)."""
    got = tuple(values or ())
    return tuple(got[k] if k < len(got) else None for k in range(len(_LOAD)))


def _timings(session: Session, plan_id: int) -> dict[tuple[str, int], _Timing]:
    """The plan's stops' timings by ``("delivery", route stop id)`` and ``("return", return
    stop id)``: one query per table (the two keep the same columns)."""
    found: dict[tuple[str, int], _Timing] = {}
    for kind, table in (("delivery", RouteStop), ("return", ReturnStop)):
        rows: Sequence[Any] = session.exec(
            select(  # type: ignore[call-overload]  # select() is typed for at most four columns
                table.id,
                table.service_start_at,
                table.wait_s,
                table.leg_distance_m,
                table.load_after,
            )
            .join(Route, col(Route.id) == table.route_id)
            .where(Route.plan_id == plan_id)
        ).all()
        for stop_id, start, wait, leg, load in rows:
            found[kind, stop_id] = _Timing(start, wait, leg, _load(load))
    return found


def _route_row(
    plan_id: int, route: RouteTable, stops: Sequence[ManifestStop], zone: str
) -> tuple[Cell, ...]:
    return (
        plan_id,
        route.id,
        route.vehicle_id,
        route.vehicle_type,
        route.status.value,
        route.start_at,
        route.end_at,
        len(stops),
        sum(s.parcels for s in stops),
        route.distance_m,
        route.duration_s,
        round(route.cost, 2),
        round(route.co2_g, 1),
        *_load(route.load_at_start),
        zone,
    )


def _stop_row(
    plan_id: int,
    route: RouteTable,
    stop: ManifestStop,
    timings: dict[tuple[str, int], _Timing],
    references: dict[int, str | None],
) -> tuple[Cell, ...]:
    delivery = stop.kind == "delivery"
    timing = timings.get(("delivery" if delivery else "return", stop.id))
    return (
        plan_id,
        route.id,
        route.vehicle_id,
        route.vehicle_type,
        stop.sequence + 1,
        stop.kind,
        stop.id,
        stop.order_id,
        references.get(stop.id) if delivery else None,
        stop.return_id,
        stop.place_name,
        stop.address,
        None if stop.lat is None else round(stop.lat, 6),
        None if stop.lon is None else round(stop.lon, 6),
        stop.window_start,
        stop.window_end,
        stop.eta,
        timing.service_start if timing else None,
        stop.departure_at,
        timing.wait_s if timing else None,
        timing.leg_distance_m if timing else None,
        stop.parcels,
        *(timing.load_after if timing else _load(None)),
        " ".join(stop.handling),
        stop.handoff_instructions,
        stop.status,
        stop.outcome,
        stop.closed_at,
    )
