"""Put a simulated delivery day into the store, through the orchestrator's services.

The demo, and anyone who wants a realistic store to try the API on, need more than a routing
problem: a depot, its vehicle types and fleets, customers with their named places, and the
day's orders with their windows. :func:`seed_store` takes the day
:func:`simulation.workload.demo_day` draws for a city and registers it with
:mod:`orchestrator.intake.catalog` and :func:`orchestrator.intake.orders.register_order` — the same
services the HTTP API calls — so what the demo plans is what a planner would see.

From the workload to the store:

* the depot is the workload's depot, with the code :func:`demo_depot_code`; its vehicles
  become one fleet per vehicle type and shift (with the type's break, open routes for
  couriers), its vehicle types keep their names;
* every order has its own customer, whose **home** is the workload's address. Customers who
  want delivery in business hours get it at their **office** (another address of the city);
  about one in seven customers has a **café** they like (on a real district, the nearest real
  café or bakery; on a synthetic city, the nearest of a dozen sites), and an order that may
  come at any time goes there;
* the store keeps one window per order: a customer offered "morning or evening" has chosen
  one of the two slots; the workload's optional low-priority drops become ordinary orders
  (the store has no drop penalty yet);
* volumes go from litres to millilitres; handling needs become the order's flags
  (``fragile``, ``signature_required``, ``cold_chain``);
* each order's line is a product of the demo catalogue (its SKU and name, with the
  workload's weight and volume), so it can be returned once delivered; cold-chain orders
  hold groceries, without a SKU.

Around the day, so that every feature can be tried on the demo's store (``world=True``, the
default), each in its own module:

* :mod:`simulation.seed_catalogue` — the catalogue (always: the lines name its SKUs), and
  stores taking returns with months of daily sales and their stock;
* :mod:`simulation.seed_profiles` — the customers' profiles: weekly schedules (the office on
  weekdays, the café on Saturdays), preferred windows and learned slots;
* :mod:`simulation.seed_history` — a day three days earlier, delivered: orders of catalogue
  products, planned, dispatched and marked delivered, whose lines
  (:attr:`SeedSummary.returnable_lines`) a return can be started for.

Seeding is idempotent: the depot code, the customers' e-mail addresses and the orders'
idempotency keys are derived from the city's name, the seed, the number of orders and the
order's index (the keys also from the day), and whatever already exists is reused — seeding
the same day twice changes nothing, and another seed, size or day sits beside it in the same
store. Same city, seed and size, same data, byte for byte.

Units as in :mod:`orchestrator.models`: degrees, grams, millilitres, cents, seconds since
the depot's local midnight.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from sqlmodel import Session, col, select

from orchestrator.errors import Conflict
from orchestrator.intake.catalog import (
    add_fleet,
    add_place,
    create_customer,
    create_depot,
    create_vehicle_type,
    depot_fleets,
    vehicle_type_by_name,
)
from orchestrator.intake.orders import register_order
from orchestrator.models import (
    Customer,
    DeliveryMode,
    Depot,
    FleetCreate,
    Order,
    Place,
    PlaceKind,
    VehicleTypeCreate,
)
from orchestrator.planning.problem import local_midnight
from orchestrator.planning.travel import TravelTimes
from routing.matrix import haversine_m
from routing.model import Location, Stop, TimeWindow, Vehicle
from routing.model import VehicleType as EngineVehicleType
from simulation.cities.city import City
from simulation.cities.helsinki import District
from simulation.seed_catalogue import DemoProduct, seed_catalogue, seed_stores
from simulation.seed_history import seed_delivered_day
from simulation.seed_profiles import seed_profiles
from simulation.workload import BUSINESS_HOURS, demo_day

__all__ = [
    "DEMO_TIMEZONE",
    "EMAIL_DOMAIN",
    "SeedSummary",
    "demo_depot_code",
    "seed_store",
]

DEMO_TIMEZONE = "Europe/Helsinki"
"""Timezone of the demo depot: both demo cities lie in Helsinki."""

EMAIL_DOMAIN = "demo.lastmile.invalid"
"""Domain of the demo customers' addresses (``.invalid`` is reserved: no mail goes out)."""

LITRE_ML = 1_000
"""Millilitres per litre (the workload counts litres, the store millilitres)."""

P_CAFE = 0.15
"""Share of customers with a favourite café among their places."""

SYNTHETIC_CAFES = 12
"""Cafés placed on a synthetic city (a real district has its own)."""

# Real places that take parcels for their regulars: cafés and bakeries, by name.
_CAFE_NAME = re.compile(r"caf[eéè]|kahvila|coffee|espresso|leipomo|bakery", re.IGNORECASE)
# The seeding draws come from their own stream, so demo_day's draws stay untouched.
_STREAM = 0x5EED
_VALUE_CENTS = (1_000, 25_000)  # goods value of an order, cents
_SKU_STREAM = 1  # sub-stream of the SKU each order holds


@dataclass(frozen=True, slots=True)
class SeedSummary:
    """What :func:`seed_store` put into (or found in) the store.

    Parameters
    ----------
    depot_id, depot_code
        The demo depot.
    day
        The service day of the orders (the depot's local date).
    vehicle_types
        Vehicle types the fleet uses.
    fleets, vehicles
        Fleet rows at the depot and the vehicles in them.
    customers, places
        The day's customers and their places (home, office, café).
    orders
        The day's orders, one per customer.
    new_orders
        Of those, how many this call registered (0 when the day was seeded before).
    products
        SKUs in the demo catalogue (apparel in sizes, shoes, home goods).
    stores
        Stores that take returns, each with daily sales and stock.
    store_ids
        Their ids, ascending.
    past_day
        The delivered day whose orders can be returned: three days before ``day``, or earlier
        when that day has a plan of its own (``None``: ``world=False``).
    returnable_order_ids
        Delivered orders with catalogued lines (their SKUs in the catalogue), ids ascending.
    returnable_lines
        ``(order_id, order_item_id)`` of each line a return can be started for, ascending:
        ``POST /returns`` with ``{"order_id": ..., "order_item_id": ..., "condition": "A",
        "reason": "too_small"}`` starts one (a planner's or admin's key, or the customer's
        own); the stores are judged on the sales up to the day before the request, so ask
        within a few weeks of ``day``.
    profiles
        The day's customers with a stored profile (weekly schedule, preferred windows,
        learned slots); every customer with a café is among them.
    customer_ids
        The day's customers, ids ascending.
    """

    depot_id: int
    depot_code: str
    day: date
    vehicle_types: int
    fleets: int
    vehicles: int
    customers: int
    places: int
    orders: int
    new_orders: int
    products: int = 0
    stores: int = 0
    store_ids: tuple[int, ...] = ()
    past_day: date | None = None
    returnable_order_ids: tuple[int, ...] = ()
    returnable_lines: tuple[tuple[int, int], ...] = ()
    profiles: int = 0
    customer_ids: tuple[int, ...] = ()


def demo_depot_code(city_name: str, seed: int, n_orders: int) -> str:
    """The depot code of a demo: ``DEMO-SYN-S0-N200`` for the synthetic city, seed 0, 200
    orders. Each city, seed and size has its own depot, customers and orders."""
    return f"DEMO-{city_name[:3].upper()}-S{seed}-N{n_orders}"


def seed_store(
    session: Session,
    city: City,
    *,
    city_name: str,
    day: date,
    seed: int = 0,
    n_orders: int = 200,
    timezone: str = DEMO_TIMEZONE,
    travel: TravelTimes | None = None,
    world: bool = True,
) -> SeedSummary:
    """Register a simulated day of ``city`` in the store, reusing whatever is already there.

    Parameters
    ----------
    session
        The store (its schema created); every service called commits its own work.
    city
        Where: a :class:`~simulation.cities.synthetic.SyntheticCity` or a
        :class:`~simulation.cities.helsinki.District`.
    city_name
        Name of the city in the depot code, the e-mail addresses and the idempotency keys
        (``"synthetic"``, ``"helsinki"``): give each city its own.
    day
        The service day, the depot's local date.
    seed
        Seed of the day (:func:`~simulation.workload.demo_day`'s and the seeding's draws).
    n_orders
        Orders of the day, >= 1; one customer each.
    timezone
        IANA timezone of the depot; the windows are local times of day there.
    travel
        Travel times of the delivered past day's solve (default: straight lines).
    world
        Also what lets every feature be tried (the default): the stores taking returns with
        their sales and stock, the customers' profiles and the delivered past day. ``False``:
        the day alone (its lines still name the catalogue's SKUs, which is always seeded).

    Returns
    -------
    SeedSummary
        The depot and what the day holds.

    Raises
    ------
    routing.errors.InvalidProblemError
        ``n_orders`` below 1.
    orchestrator.errors.Conflict
        The store has a vehicle type of a demo name (``van``, ``robot``, ...) with other
        figures, or an order under a demo key with other content: seed a fresh store.
    orchestrator.errors.InvalidInput
        A value the store refuses (a depot code beyond 40 characters for a huge seed).
    """
    problem = demo_day(city, seed=seed, n_orders=n_orders)
    rng = np.random.default_rng((seed, n_orders, _STREAM))
    products = seed_catalogue(session)
    tag = f"{city_name}-s{seed}-n{n_orders}"

    depot = _depot(session, problem.locations[0], city_name, seed, n_orders, timezone)
    assert depot.id is not None
    type_ids = {vt.name: _vehicle_type(session, vt) for vt in problem.vehicle_types}
    fleets = _fleets(session, depot.id, problem.vehicles, type_ids)

    n = len(problem.stops)
    real = isinstance(city, District)
    offices = city.random_points(n, rng)
    likes_cafe = rng.random(n) < P_CAFE
    slot_pick = rng.integers(0, 2, size=n)
    value_cents = rng.integers(*_VALUE_CENTS, size=n, endpoint=True)
    # What each order holds: its own stream, so the draws above stay as they were.
    sku_pick = np.random.default_rng((seed, n_orders, _STREAM, _SKU_STREAM)).integers(
        0, len(products), size=n
    )
    cafes = _cafes(city, rng)
    homes = [problem.locations[stop.location] for stop in problem.stops]
    nearest_cafe = _nearest(homes, cafes)
    customers = _customers(session, tag, n)
    places = _places(
        session,
        customers,
        homes=homes,
        offices=[offices[k] if _business(s) else None for k, s in enumerate(problem.stops)],
        cafes=[cafes[nearest_cafe[k]] if likes_cafe[k] else None for k in range(n)],
        labelled=real,
    )

    keys = [f"demo:{tag}:{day.isoformat()}:{k + 1:04d}" for k in range(n)]
    known = set(
        session.exec(select(Order.idempotency_key).where(col(Order.idempotency_key).in_(keys)))
    )
    midnight = local_midnight(depot, day)
    for k, stop in enumerate(problem.stops):
        mine = places[k]
        window: TimeWindow | None
        if _business(stop):
            kind, window = PlaceKind.OFFICE, stop.windows[0]
        elif not stop.windows and PlaceKind.CAFE in mine:
            kind, window = PlaceKind.CAFE, None
        else:
            kind = PlaceKind.HOME
            window = stop.windows[int(slot_pick[k]) % len(stop.windows)] if stop.windows else None
        product = None if "cold" in stop.skills else products[int(sku_pick[k])]
        data = _order_data(
            stop, customers[k], depot.id, day, mine[kind], kind, window, midnight, product
        )
        data["value_cents"] = int(value_cents[k])
        register_order(session, data, keys[k])

    summary = SeedSummary(
        depot_id=depot.id,
        depot_code=depot.code,
        day=day,
        vehicle_types=len(type_ids),
        fleets=len(fleets),
        vehicles=len(problem.vehicles),
        customers=n,
        places=sum(len(p) for p in places),
        orders=n,
        new_orders=len(keys) - len(known),
        products=len(products),
        customer_ids=tuple(sorted(customers)),
    )
    if not world:
        return summary
    store_ids = seed_stores(
        session, city, depot_id=depot.id, depot_code=depot.code, day=day, seed=seed,
        products=products,
    )  # fmt: skip
    names = {PlaceKind.HOME: "home", PlaceKind.OFFICE: "office", PlaceKind.CAFE: "café"}
    profiles = seed_profiles(
        session, customers, [{names[kind] for kind in mine} for mine in places], day=day,
        seed=seed,
    )  # fmt: skip
    past = seed_delivered_day(
        session,
        depot_id=depot.id,
        day=day,
        tag=tag,
        homes=[(cid, mine[PlaceKind.HOME]) for cid, mine in zip(customers, places, strict=True)],
        seed=seed,
        products=products,
        travel=travel,
    )
    return dataclasses.replace(
        summary,
        stores=len(store_ids),
        store_ids=store_ids,
        past_day=past.day,
        returnable_order_ids=past.order_ids,
        returnable_lines=past.lines,
        profiles=profiles,
    )


# -- implementation ---------------------------------------------------------------------------


def _business(stop: Stop) -> bool:
    """Whether the workload gave the order business hours (it goes to an office)."""
    return stop.windows == (BUSINESS_HOURS,)


def _depot(
    session: Session, site: Location, city_name: str, seed: int, n_orders: int, timezone: str
) -> Depot:
    code = demo_depot_code(city_name, seed, n_orders)
    depot = session.exec(select(Depot).where(Depot.code == code)).first()
    if depot is not None:
        return depot
    return create_depot(
        session,
        {
            "code": code,
            "name": f"lastmile demo depot ({city_name} city, seed {seed}, {n_orders} orders)",
            "lat": site.lat,
            "lon": site.lon,
            "timezone": timezone,
        },
    )


def _vehicle_type(session: Session, vt: EngineVehicleType) -> int:
    """The id of the stored type of that name, created when missing."""
    wanted = VehicleTypeCreate.model_validate(
        {
            "name": vt.name,
            "kind": vt.kind,
            "profile": vt.profile,
            "capacity_weight_g": vt.capacity[0],
            "capacity_volume_ml": vt.capacity[1] * LITRE_ML,
            "capacity_parcels": vt.capacity[2],
            "range_m": vt.range_m,
            "max_shift_s": vt.max_shift,
            "fixed_cost": vt.fixed_cost,
            "cost_per_km": vt.cost_per_km,
            "cost_per_hour": vt.cost_per_hour,
            "co2_g_per_km": vt.co2_g_per_km,
            "skills": sorted(vt.skills),
        }
    )
    stored = vehicle_type_by_name(session, vt.name)
    if stored is None:
        stored = create_vehicle_type(session, wanted)
    else:
        have = VehicleTypeCreate.model_validate(stored.model_dump(exclude={"id"}))
        have.skills = sorted(have.skills)
        if have != wanted:
            raise Conflict(
                f"the store has a vehicle type {vt.name!r} that differs from the demo's — "
                "seed the demo into a fresh database (another LASTMILE_DATABASE_URL)"
            )
    assert stored.id is not None
    return stored.id


def _fleets(
    session: Session, depot_id: int, vehicles: Sequence[Vehicle], type_ids: dict[str, int]
) -> list[FleetCreate]:
    """One fleet per type and shift (vehicles of a type share their break rule)."""
    counts: dict[tuple[Any, ...], int] = {}
    for v in vehicles:
        brk = v.breaks[0] if v.breaks else None
        spec = (
            type_ids[v.type],
            v.shift.start,
            v.shift.end,
            v.end is None,
            brk.duration if brk else None,
            brk.window.start if brk else None,
            brk.window.end if brk else None,
        )
        counts[spec] = counts.get(spec, 0) + 1
    wanted = [
        FleetCreate(
            depot_id=depot_id,
            vehicle_type_id=type_id,
            count=count,
            shift_start_s=start,
            shift_end_s=end,
            open_route=open_route,
            break_duration_s=duration,
            break_earliest_s=earliest,
            break_latest_s=latest,
        )
        for (type_id, start, end, open_route, duration, earliest, latest), count in counts.items()
    ]
    existing = [
        FleetCreate.model_validate(fleet.model_dump(exclude={"id"}))
        for fleet, _ in depot_fleets(session, depot_id)
    ]
    for fleet in wanted:
        if fleet in existing:
            existing.remove(fleet)
        else:
            add_fleet(session, fleet)
    return wanted


def _cafes(city: City, rng: np.random.Generator) -> list[Location]:
    """The city's cafés: a district's real ones (by name), else a dozen sites of the city."""
    if isinstance(city, District):
        real = [a for a in city.addresses if _CAFE_NAME.search(a.id)]
        if real:
            return real
    sites = city.random_points(SYNTHETIC_CAFES, rng)
    return [Location(f"Café {k + 1}", s.lat, s.lon) for k, s in enumerate(sites)]


def _nearest(points: Sequence[Location], candidates: Sequence[Location]) -> list[int]:
    """Index of the nearest candidate to each point (great circle)."""
    lat = np.array([c.lat for c in candidates])
    lon = np.array([c.lon for c in candidates])
    return [int(np.argmin(haversine_m(lat, lon, p.lat, p.lon))) for p in points]


def _customers(session: Session, tag: str, n: int) -> list[int]:
    """Ids of the day's ``n`` customers, found by their e-mail address or created."""
    emails = [f"c{k + 1:04d}.{tag}@{EMAIL_DOMAIN}" for k in range(n)]
    found = {
        c.email: c.id for c in session.exec(select(Customer).where(col(Customer.email).in_(emails)))
    }
    ids: list[int] = []
    for k, email in enumerate(emails):
        cid = found.get(email)
        if cid is None:
            cid = create_customer(
                session, {"name": f"Demo customer {k + 1} ({tag})", "email": email}
            ).id
        assert cid is not None
        ids.append(cid)
    return ids


def _places(
    session: Session,
    customers: Sequence[int],
    *,
    homes: Sequence[Location],
    offices: Sequence[Location | None],
    cafes: Sequence[Location | None],
    labelled: bool,
) -> list[dict[PlaceKind, int]]:
    """Each customer's place ids by kind, found by name or added."""
    found: dict[tuple[int, str], int] = {
        (p.customer_id, p.name): p.id or 0
        for p in session.exec(select(Place).where(col(Place.customer_id).in_(list(customers))))
    }
    out: list[dict[PlaceKind, int]] = []
    for cid, home, office, cafe in zip(customers, homes, offices, cafes, strict=True):
        mine: dict[PlaceKind, int] = {}
        for kind, name, site in (
            (PlaceKind.HOME, "home", home),
            (PlaceKind.OFFICE, "office", office),
            (PlaceKind.CAFE, "café", cafe),
        ):
            if site is None:
                continue
            pid = found.get((cid, name))
            if pid is None:
                address = site.id if labelled or kind is PlaceKind.CAFE else None
                place = add_place(
                    session,
                    cid,
                    {"kind": kind, "name": name, "lat": site.lat, "lon": site.lon,
                     "address": address},
                )  # fmt: skip
                pid = place.id or 0
            mine[kind] = pid
        out.append(mine)
    return out


def _order_data(
    stop: Stop,
    customer_id: int,
    depot_id: int,
    day: date,
    place_id: int,
    kind: PlaceKind,
    window: TimeWindow | None,
    midnight: datetime,
    product: DemoProduct | None,
) -> dict[str, Any]:
    """The order of ``stop`` (to ``place_id``, a place of that ``kind``) as the store takes it;
    its line is ``product`` (with the workload's weight and volume), or groceries without a
    SKU when ``None``."""
    weight_g, volume_l, parcels = stop.demand
    cold = "cold" in stop.skills
    signature = "signature" in stop.skills
    unattended = kind is PlaceKind.HOME and not (cold or signature)
    return {
        "customer_id": customer_id,
        "depot_id": depot_id,
        "service_day": day,
        "place_id": place_id,
        "window_start": midnight + timedelta(seconds=window.start) if window else None,
        "window_end": midnight + timedelta(seconds=window.end) if window else None,
        "mode": DeliveryMode.LEAVE_AT_DOOR if unattended else DeliveryMode.HAND_OVER,
        "fragile": "fragile" in stop.skills,
        "signature_required": signature,
        "cold_chain": cold,
        "reference": stop.id,
        "items": [
            {
                "description": product.description if product else "groceries in cool boxes",
                "sku": product.sku if product else None,
                "quantity": 1,
                "weight_g": weight_g,
                "volume_ml": volume_l * LITRE_ML,
                "parcels": parcels,
            }
        ],
    }
