"""Put the demo's shop into the store: a product catalogue, and stores that take returns with
months of daily sales and their stock, through the orchestrator's services.

The returns engine decides where a returned item goes from the catalogue (style, category,
size, colour, list price) and from each store's daily sales and stock of the SKU
(:mod:`orchestrator.returns_flow.decision`). The demo's day has lines with SKUs, so without
these a return cannot start ("order line 5 has no SKU", "load the stores' daily sales first").

* :data:`CATALOGUE` — a few dozen SKUs: apparel in sizes, shoes, home goods, each with its
  list price, shipping weight and volume; :func:`seed_catalogue` adds them with
  :func:`orchestrator.returns_flow.catalog.put_product`.
* :func:`seed_stores` — :data:`N_STORES` stores taking returns: on a real district, real shops
  of its apparel, shoe and home chains (spread out), on a synthetic city spread sites; each
  created with :func:`orchestrator.intake.catalog.create_store`, with :data:`SALES_DAYS` days
  of daily sales per SKU (:func:`~orchestrator.returns_flow.catalog.record_sales`) and its
  current stock (:func:`~orchestrator.returns_flow.catalog.replace_stock`). Each store leans to
  some categories (it sells them four times as often), so stores differ and the decision has
  something to weigh.

Idempotent: products are keyed by SKU, stores by a code derived from the depot's code; a
store whose stock is recorded is complete and left as it is. Same seed and day, same data.

Units: cents, grams, millilitres, degrees; sales in units per day.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from sqlmodel import Session

from orchestrator.intake.catalog import create_store
from orchestrator.returns_flow.catalog import (
    get_product,
    list_stores,
    put_product,
    record_sales,
    replace_stock,
    stock_of_store,
)
from routing.matrix import haversine_m
from routing.model import Location
from simulation.cities.city import City
from simulation.cities.helsinki import District

__all__ = [
    "CATALOGUE",
    "N_STORES",
    "SALES_DAYS",
    "DemoProduct",
    "popularity",
    "seed_catalogue",
    "seed_stores",
    "store_sites",
]

N_STORES = 4
"""Stores taking returns per demo depot."""

SALES_DAYS = 120
"""Days of daily sales recorded per store, ending the day before the demo's day (the returns
engine reads the last 112)."""

_STREAM = 0x5707E  # the stores' draws have their own stream
_LEANING = 4.0  # a store sells the categories it leans to this many times as often
# Units per day of a SKU at a store leaning to it, by size popularity.
_SIZE_RATE = {"XS": 0.10, "S": 0.22, "M": 0.30, "L": 0.25, "XL": 0.12}
_SHOE_RATE = 0.12
_ONE_SIZE_RATE = 0.30
_WEEKDAY_FACTOR = (0.9, 0.9, 1.0, 1.0, 1.2, 1.6, 0.6)  # Monday first: Saturdays sell most
# Shops of apparel, shoe and home chains in central Helsinki, matched on the OSM name.
_RETAIL_NAME = re.compile(
    r"^(marimekko|iittala|vero moda|lindex|dressman|kappahl|gina tricot|din sko|zio\b|"
    r"stadium|intersport|halti|partioaitta|muji|clas ohlson|noa noa|laura ashley)",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class DemoProduct:
    """One SKU of the demo catalogue.

    ``weight_g`` and ``volume_ml`` are the shipped unit's (the store's catalogue keeps only
    what the returns engine reads; order lines carry weight and volume).
    """

    sku: str
    style: str
    category: str
    size: str
    colour: str
    list_price_cents: int
    weight_g: int
    volume_ml: int
    name: str

    @property
    def description(self) -> str:
        """The order line's text: ``"Wrap dress, black, S"``."""
        size = "" if self.size == "one size" else f", {self.size}"
        return f"{self.name}, {self.colour}{size}"


# style, category, name, colours, sizes, list price (cents), weight (g), volume (ml)
_STYLES: tuple[tuple[str, str, str, tuple[str, ...], tuple[str, ...], int, int, int], ...] = (
    ("TEE-101", "tops", "Organic cotton T-shirt", ("white", "black"), ("S", "M", "L", "XL"),
     1_990, 180, 600),
    ("HOD-120", "tops", "Merino hoodie", ("grey",), ("S", "M", "L", "XL"), 8_990, 550, 2_500),
    ("DRS-014", "dresses", "Wrap dress", ("black", "green"), ("XS", "S", "M", "L"),
     7_990, 350, 1_500),
    ("JNS-204", "trousers", "Slim jeans", ("indigo",), ("S", "M", "L", "XL"), 6_990, 650, 2_000),
    ("JKT-310", "outerwear", "Rain jacket", ("yellow", "navy"), ("S", "M", "L"),
     12_990, 900, 4_000),
    ("SNK-501", "shoes", "Leather sneaker", ("white",), ("38", "40", "42", "44"),
     10_990, 1_100, 8_000),
    ("BOT-520", "shoes", "Winter boot", ("black",), ("38", "40", "42", "44"),
     15_990, 1_800, 12_000),
    ("MUG-701", "home", "Stoneware mugs, set of 4", ("blue",), ("one size",),
     3_490, 1_600, 6_000),
    ("CSH-712", "home", "Linen cushion cover", ("sand", "rust"), ("one size",), 2_990, 250, 1_000),
    ("LMP-730", "home", "Table lamp", ("white",), ("one size",), 5_990, 1_400, 9_000),
    ("THR-740", "home", "Wool throw", ("grey",), ("one size",), 8_990, 1_200, 5_000),
)  # fmt: skip


def _catalogue() -> tuple[DemoProduct, ...]:
    out = []
    for style, category, name, colours, sizes, price, weight, volume in _STYLES:
        for colour in colours:
            for size in sizes:
                code = "OS" if size == "one size" else size
                out.append(
                    DemoProduct(
                        sku=f"{style}-{colour[:3].upper()}-{code}",
                        style=style,
                        category=category,
                        size=size,
                        colour=colour,
                        list_price_cents=price,
                        weight_g=weight,
                        volume_ml=volume,
                        name=name,
                    )
                )
    return tuple(out)


CATALOGUE: tuple[DemoProduct, ...] = _catalogue()
"""The demo's SKUs (43): tops, dresses, trousers, outerwear in sizes XS-XL, shoes in EU sizes
38-44, home goods in one size."""

# Which categories each store leans to, in turn: fashion, shoes and sport, home, everything.
_LEANINGS: tuple[frozenset[str], ...] = (
    frozenset({"tops", "dresses", "trousers"}),
    frozenset({"shoes", "outerwear"}),
    frozenset({"home"}),
    frozenset({"tops", "dresses", "trousers", "outerwear", "shoes", "home"}),
)


def seed_catalogue(session: Session) -> tuple[DemoProduct, ...]:
    """Add the :data:`CATALOGUE` products the store lacks (or holds with other figures).

    Returns
    -------
    tuple of DemoProduct
        The whole catalogue.
    """
    for product in CATALOGUE:
        stored = get_product(session, product.sku)
        wanted = {
            "style": product.style,
            "category": product.category,
            "size": product.size,
            "colour": product.colour,
            "list_price_cents": product.list_price_cents,
        }
        if stored is None or any(getattr(stored, k) != v for k, v in wanted.items()):
            put_product(session, product.sku, wanted)
    return CATALOGUE


def store_sites(city: City, rng: np.random.Generator, n: int = N_STORES) -> list[Location]:
    """Where the stores are: on a real district, ``n`` real shops of apparel, shoe and home
    chains (named after the shop, spread out); elsewhere ``n`` spread points of the city,
    named by their direction from its centre (``"Store north-east"``)."""
    if isinstance(city, District):
        shops = [a for a in city.addresses if _RETAIL_NAME.search(a.id)]
        if len(shops) >= n:
            return _spread(shops, n, city.center)
    candidates = city.random_points(8 * n, rng)
    sites = _spread(candidates, n, city.center)
    named: list[Location] = []
    for site in sites:
        name = f"Store {_direction(city.center, site)}"
        if any(s.id == name for s in named):
            name = f"{name} {len(named) + 1}"
        named.append(Location(name, site.lat, site.lon))
    return named


def seed_stores(
    session: Session,
    city: City,
    *,
    depot_id: int,
    depot_code: str,
    day: date,
    seed: int,
    products: Sequence[DemoProduct] = CATALOGUE,
) -> tuple[int, ...]:
    """The demo depot's stores taking returns, each with its sales up to the day before
    ``day`` and its stock; created (with their sales and stock) when missing.

    Parameters
    ----------
    session
        The store (every service called commits its own work).
    city
        Where the stores are (:func:`store_sites`).
    depot_id, depot_code
        The demo depot: the stores are served from it and their codes derive from its code
        (``DEMO-SYN-S0-N200-R1``).
    day
        The demo's service day: sales cover the :data:`SALES_DAYS` days before it.
    seed
        Seed of the sites, sales and stock.
    products
        The SKUs sold (already in the catalogue).

    Returns
    -------
    tuple of int
        The stores' ids, ascending.
    """
    rng = np.random.default_rng((seed, _STREAM))
    sites = store_sites(city, rng)
    existing = {s.code: s for s in list_stores(session, depot_id=depot_id, limit=1_000)}
    first = day - timedelta(days=SALES_DAYS)
    days = [first + timedelta(days=d) for d in range(SALES_DAYS)]
    day_factor = np.array([_WEEKDAY_FACTOR[d.weekday()] for d in days])
    ids: list[int] = []
    for k, site in enumerate(sites):
        # Every store's draws are made whether or not it is stored, so each is the same data.
        leaning = _LEANINGS[k % len(_LEANINGS)]
        rates = (
            np.array(
                [popularity(p) * (_LEANING if p.category in leaning else 1.0) for p in products]
            )
            / _LEANING
        )
        units = rng.poisson(np.outer(day_factor, rates))
        stock = rng.poisson(np.where([p.category in leaning for p in products], 2.0, 0.5))
        code = f"{depot_code}-R{k + 1}"
        store = existing.get(code)
        if store is None:
            store = create_store(
                session,
                {
                    "code": code,
                    "name": site.id,
                    "lat": site.lat,
                    "lon": site.lon,
                    "depot_id": depot_id,
                    "accepts_returns": True,
                },
            )
        assert store.id is not None
        ids.append(store.id)
        if stock_of_store(session, store.id):
            continue  # complete: stock is recorded after the sales
        sales = [
            {"sku": products[j].sku, "day": days[i], "units": int(units[i, j])}
            for i, j in zip(*np.nonzero(units), strict=True)
        ]
        if sales:
            record_sales(session, store.id, {"sales": sales})
        replace_stock(
            session,
            store.id,
            {
                "stock": [
                    {"sku": p.sku, "units": int(u)} for p, u in zip(products, stock, strict=True)
                ]
            },
        )
    return tuple(sorted(ids))


def popularity(product: DemoProduct) -> float:
    """Units a day of the SKU at a store leaning to its category (middle sizes sell most)."""
    if product.size == "one size":
        return _ONE_SIZE_RATE
    if product.category == "shoes":
        return _SHOE_RATE
    return _SIZE_RATE.get(product.size, 0.1)


# -- implementation ---------------------------------------------------------------------------


def _spread(points: Sequence[Location], n: int, center: tuple[float, float]) -> list[Location]:
    """``n`` of ``points`` far apart: the one nearest ``center`` first, then each time the
    point farthest from those chosen (great circle)."""
    lat = np.array([p.lat for p in points])
    lon = np.array([p.lon for p in points])
    chosen = [int(np.argmin(haversine_m(lat, lon, center[0], center[1])))]
    nearest = haversine_m(lat, lon, lat[chosen[0]], lon[chosen[0]])
    while len(chosen) < min(n, len(points)):
        k = int(np.argmax(nearest))
        chosen.append(k)
        nearest = np.minimum(nearest, haversine_m(lat, lon, lat[k], lon[k]))
    return [points[k] for k in chosen]


def _direction(center: tuple[float, float], site: Location) -> str:
    """Compass direction of ``site`` from ``center``: ``"north-east"``, or ``"centre"``."""
    north = site.lat - center[0]
    east = (site.lon - center[1]) * math.cos(math.radians(center[0]))
    if math.hypot(north, east) < 1e-4:  # about 10 m
        return "centre"
    names = ("east", "north-east", "north", "north-west", "west", "south-west", "south",
             "south-east")  # fmt: skip
    return names[round(math.degrees(math.atan2(north, east)) / 45.0) % 8]
