"""Returns back-test: where should a returned item go so that it sells again soon?

Run from the repository root::

    python -m benchmarks.returns                      # the default world, seed 0
    python -m benchmarks.returns --seed 3 --json out/returns.json

A synthetic retail world is drawn from the seed. Stores sit in neighbourhoods of a city with
their own tastes — a category mix, favourite styles, sizes running small or large, favourite
colours, and local favourites no taste explains — and their own traffic (a flagship in the
centre sells the most). An online warehouse ~100 km away sells to the whole country with the
national taste, an outlet sells at half price, and a liquidation channel buys anything for a
pittance. Demand per destination and SKU is a Poisson process whose rate follows a seasonal
curve per category, scaled by the destination's footfall that day (a weekday pattern and a
random shock, so demand is over-dispersed): that is the **hidden truth**. From it come four
months of daily sales (the history; a store records nothing of the 15 % of SKUs it does not
carry), the stock on every shelf at the cut-off (Gamma-distributed days of cover, so some
variants run low or out), stock records of which 30 % are off by one or two units, and, after
the cut-off, returns: online orders of the city's customers that come back, each drawn from
its neighbourhood's taste, with a condition grade and a pick-up place near home.

The resale model is calibrated and fitted on the history only. Each policy then routes the same
returns, in time order, seeing the stock records (with the units it has sent itself), and the
future is simulated **from the hidden truth** with common random numbers (every policy meets
the same customers at each destination). Replenishment holds each shelf at its cut-off level;
a returned unit stands in for a replacement, joins the shelf behind the units there and sells
when a customer comes for that SKU after them (a variant a store has stopped carrying sells
only to the first customer who asks for it after the returned unit arrives). Policies:

* ``origin``: everything back to the online warehouse (it resells, slowly, at 20 % off);
* ``nearest``: the store nearest to the pick-up place;
* ``top_sales``: the store that sold most of the item's category in the history;
* ``model``: :func:`returns.decide` with the fitted model and the stock each policy's own
  shelves hold at the time.

``nearest`` and ``top_sales`` send condition C to the outlet, as the model must; ``origin``
sends everything to the warehouse. A return counts as **resold within 14 days** when a
customer buys it within 14 days of its arrival at a store, the warehouse or the outlet (the
liquidation channel's purchase is a recovery, not a resale). Reported per policy: that rate
with a bootstrap 95 % interval (returns resampled), the mean days from the return to the
resale among those resold, the realised net recovery per item (revenue of a resale within 14
days, or the liquidation price, less transfer, handling and CO2 costs), and the total transfer
km and kg CO2; paired bootstrap intervals of the model's lead; and the model's calibration on
the returns it sent to a store, the warehouse or the outlet (Brier score and reliability
table; the probability of the destination it chose, so the test includes the winner's curse).

The table goes to stdout, the wall time to stderr. ``--json FILE`` writes
``{"returns": n, "policies": {name: {resale_rate_14d, resale_rate_ci, mean_days_to_resale,
net_recovery_per_item, transfer_km, co2_kg}}, "brier": b}``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import IO, Any, Protocol

import numpy as np
from numpy.typing import NDArray

from returns import (
    Condition,
    DecisionPolicy,
    Destination,
    DestinationKind,
    Point,
    ResaleModel,
    ReturnedItem,
    Sale,
    SalesHistory,
    Variant,
    calibrate,
    decide,
    fit_resale_model,
    transfer_co2_kg,
    transfer_km,
)

__all__ = [
    "POLICIES",
    "Outcome",
    "Return",
    "World",
    "WorldConfig",
    "build_world",
    "main",
    "run",
]

HORIZON_DAYS = 14
"""A resale counts within this many days of the item's arrival."""
POLICIES: tuple[str, ...] = ("origin", "nearest", "top_sales", "model")
ABLATION = "model_blind"
"""The model told every shelf is empty: shown in the table (how much the stock is worth),
not in the JSON."""
START = date(2026, 3, 2)
"""First day of the history (a Monday)."""
CENTRE = Point(24.9384, 60.1699)
"""City centre (Helsinki Central)."""
WAREHOUSE_AT = Point(24.4590, 60.9959)
"""The online warehouse, ~100 km north (Hämeenlinna)."""
OUTLET_AT = Point(24.9650, 60.2920)
"""The outlet, ~14 km north (Vantaa)."""

SIZES = ("XS", "S", "M", "L", "XL")
SIZE_MIX = np.array([0.10, 0.24, 0.32, 0.22, 0.12])
"""National size mix."""
COLOURS = ("black", "white", "navy", "grey", "beige", "red", "green", "pink")
COLOUR_MIX = np.array([0.22, 0.15, 0.14, 0.12, 0.10, 0.10, 0.08, 0.09])
"""National colour mix."""
CATEGORIES = ("dresses", "jeans", "shirts", "knitwear", "jackets", "skirts")
STYLE_STEM = {
    "dresses": "dress",
    "jeans": "jeans",
    "shirts": "shirt",
    "knitwear": "knit",
    "jackets": "jacket",
    "skirts": "skirt",
}
"""Style names are ``stem-k``: ``dress-3``."""

STORE_UNITS_PER_DAY = 40.0
"""Median units a store sells per day, all SKUs together; traffic varies around it."""
FLAGSHIP_UNITS_PER_DAY = 100.0
ONLINE_UNITS_PER_DAY = 600.0
"""The online warehouse's national sales, units per day."""
OUTLET_UNITS_PER_DAY = 60.0

STORE_COVER_DAYS = 21.0
"""Mean days of demand on a store's shelf per SKU at the cut-off (Gamma-distributed)."""
COVER_SHAPE = 2.0
"""Shape of the days-of-cover distribution: some variants run low or out, few are empty."""
WAREHOUSE_COVER_DAYS = 30.0
OUTLET_COVER_DAYS = 20.0
ASSORTMENT_SHARE = 0.85
"""Share of the SKUs a store (or the outlet) carries; the others have no sales in the history
and no stock, though customers would buy a returned unit of them."""
LOCAL_SIGMA = 0.4
"""Log-sd of a store's SKU-level quirks beyond its category, style, size and colour tastes."""
RECORD_ERROR_SHARE = 0.3
"""Share of (store or outlet, SKU) stock records that are off by one or two units, either way
(the warehouse's records are exact); policies see the record, customers buy real units."""

WEEKDAY = np.array([0.85, 0.85, 0.9, 0.95, 1.1, 1.4, 0.95])
"""Footfall Monday to Sunday (mean 1)."""
BUSY_SHAPE = 8.0
"""Shape of a destination's daily footfall shock (Gamma, mean 1, CV 0.35): demand is
over-dispersed, not the Poisson process the model assumes."""

CONDITION_MIX = {Condition.A: 0.70, Condition.B: 0.22, Condition.C: 0.08}
"""Share of returns per grade."""
TRANSIT_DAYS = {
    DestinationKind.STORE: 1,  # collected on a delivery tour the next day
    DestinationKind.OUTLET: 2,
    DestinationKind.WAREHOUSE: 3,  # parcel network
    DestinationKind.LIQUIDATION: 3,  # via the warehouse
}
"""Days from the return to the arrival at a destination of each kind."""


@dataclass(frozen=True, slots=True)
class Tariff:
    """Costs of one destination kind: transfer = base + per_km × road km; handling."""

    base: float
    per_km: float
    handling: float
    markdown: float
    clearance_days: float | None = None


TARIFFS = {
    # A pick-up on a passing delivery tour, then shelving and tagging.
    DestinationKind.STORE: Tariff(base=2.0, per_km=0.10, handling=2.0, markdown=0.0),
    # A prepaid parcel label; inspection, photos and relisting online, at 20 % off.
    DestinationKind.WAREHOUSE: Tariff(base=5.5, per_km=0.0, handling=3.5, markdown=0.2),
    DestinationKind.OUTLET: Tariff(base=3.0, per_km=0.10, handling=1.5, markdown=0.5),
    # A jobber buys everything at 15 % of the list price, collected at the warehouse.
    DestinationKind.LIQUIDATION: Tariff(
        base=5.5, per_km=0.0, handling=0.5, markdown=0.85, clearance_days=2.0
    ),
}


@dataclass(frozen=True, slots=True)
class WorldConfig:
    """Size of the synthetic world.

    Parameters
    ----------
    seed
        Everything random follows from it.
    stores
        Stores in the city (the first is the flagship in the centre).
    categories, styles_per_category, colours_per_style
        The catalogue: every style comes in five sizes and this many colours.
    history_days
        Days of sales history before the cut-off.
    return_days
        Days after the cut-off on which returns arrive.
    returns_per_day
        Mean returns per day in the city.
    """

    seed: int = 0
    stores: int = 12
    categories: int = 6
    styles_per_category: int = 8
    colours_per_style: int = 4
    history_days: int = 120
    return_days: int = 28
    returns_per_day: float = 40.0

    def __post_init__(self) -> None:
        if self.stores < 2:
            raise ValueError(f"stores={self.stores}: give 2 or more")
        if not 1 <= self.categories <= len(CATEGORIES):
            raise ValueError(f"categories={self.categories}: give 1 to {len(CATEGORIES)}")
        if self.styles_per_category < 1:
            raise ValueError(f"styles_per_category={self.styles_per_category}: give 1 or more")
        if not 1 <= self.colours_per_style <= len(COLOURS):
            raise ValueError(f"colours_per_style={self.colours_per_style}: give 1 to 8")
        if self.history_days < 2 * HORIZON_DAYS:
            raise ValueError(f"history_days={self.history_days}: give {2 * HORIZON_DAYS}+")
        if self.return_days < 1 or self.returns_per_day <= 0:
            raise ValueError("return_days and returns_per_day must be positive")


@dataclass(frozen=True, slots=True)
class Return:
    """One return: the item, when it was handed over, and the customer's neighbourhood."""

    item: ReturnedItem
    time: float  # days after the cut-off
    neighbourhood: int


@dataclass(frozen=True, slots=True, eq=False)
class World:
    """The synthetic world: what the engine may see, and the hidden truth it may not.

    ``destinations`` are templates (stock 0, no transfer cost); the policies price them per
    return. ``rate[d, s]`` is the base demand (units/day), ``season[c, t]`` its multiplier in
    category ``c`` on day ``t`` counted from the start of the history, and ``busy[d, t]`` the
    destination's footfall that day (weekday pattern and a random shock, mean 1).
    """

    config: WorldConfig
    destinations: tuple[Destination, ...]
    catalogue: tuple[Variant, ...]
    prices: NDArray[np.float64]  # per SKU, EUR
    history: SalesHistory
    stock: NDArray[np.int64]  # destinations × SKUs at the cut-off
    record_error: NDArray[np.int64]  # destinations × SKUs: stock record − real stock
    returns: tuple[Return, ...]
    rate: NDArray[np.float64] = field(repr=False)
    season: NDArray[np.float64] = field(repr=False)
    busy: NDArray[np.float64] = field(repr=False)  # destinations × days: weekday and shocks
    cat_of_sku: NDArray[np.int64] = field(repr=False)

    @property
    def cutoff(self) -> date:
        """The first day after the history: day 0 of the back-test."""
        return self.history.end + timedelta(days=1)


def _offset(point: Point, east_km: float, north_km: float) -> Point:
    lat = point.lat + north_km / 111.32
    lon = point.lon + east_km / (111.32 * math.cos(math.radians(point.lat)))
    return Point(round(lon, 6), round(lat, 6))


def _softmax(logits: NDArray[np.float64]) -> NDArray[np.float64]:
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def build_world(config: WorldConfig) -> World:
    """Draw the world of ``config.seed``: same seed, same world, sale for sale."""
    rng = np.random.default_rng([config.seed, 0])
    n_cat, n_sty = config.categories, config.styles_per_category

    # -- catalogue ------------------------------------------------------------------------------
    variants: list[Variant] = []
    prices: list[float] = []
    sku_cat, sku_style, sku_size, sku_colour = [], [], [], []
    style_pop = rng.dirichlet(np.full(n_sty, 2.0), size=n_cat)  # national taste per category
    for c in range(n_cat):
        category = CATEGORIES[c]
        base_price = rng.uniform(30.0, 90.0)
        for k in range(n_sty):
            style = f"{STYLE_STEM[category]}-{k + 1}"
            price = round(base_price * rng.uniform(0.7, 1.4))
            colours = np.sort(rng.choice(len(COLOURS), config.colours_per_style, replace=False))
            for col in colours:
                for z, size in enumerate(SIZES):
                    sku = f"{style}-{COLOURS[col]}-{size}"
                    variants.append(Variant(sku, style, category, size, COLOURS[col]))
                    prices.append(float(price))
                    sku_cat.append(c)
                    sku_style.append(c * n_sty + k)
                    sku_size.append(z)
                    sku_colour.append(int(col))
    cat_of_sku = np.array(sku_cat)
    style_of_sku = np.array(sku_style)
    size_of_sku = np.array(sku_size)
    colour_of_sku = np.array(sku_colour)
    sku_noise = rng.lognormal(0.0, 0.3, size=len(variants))

    # -- places and tastes ----------------------------------------------------------------------
    n_st = config.stores
    places = [CENTRE]
    for _ in range(n_st - 1):
        radius, angle = rng.uniform(2.0, 9.0), rng.uniform(0.0, 2 * math.pi)
        places.append(_offset(CENTRE, radius * math.cos(angle), radius * math.sin(angle)))
    traffic = STORE_UNITS_PER_DAY * rng.lognormal(0.0, 0.35, size=n_st)
    traffic[0] = FLAGSHIP_UNITS_PER_DAY
    cat_mix = rng.dirichlet(np.full(n_cat, 12.0), size=n_st)
    style_taste = (
        np.stack([rng.dirichlet(8.0 * style_pop[c]) for c in range(n_cat) for _ in range(n_st)])
        .reshape(n_cat, n_st, n_sty)
        .transpose(1, 0, 2)
    )
    size_shift = rng.normal(0.0, 0.4, size=n_st)
    size_taste = _softmax(np.log(SIZE_MIX)[None, :] + size_shift[:, None] * (np.arange(5) - 2))
    colour_taste = rng.dirichlet(12.0 * COLOUR_MIX, size=n_st)

    def rates(
        units: NDArray[np.float64],
        cats: NDArray[np.float64],
        styles: NDArray[np.float64],
        sizes: NDArray[np.float64],
        colours: NDArray[np.float64],
    ) -> NDArray[np.float64]:
        """Base demand per SKU (units/day) for a place with these tastes."""
        col = colours[colour_of_sku]
        # The style's colours share its demand in proportion to the place's colour taste.
        col_norm = np.zeros(n_cat * n_sty)
        np.add.at(col_norm, style_of_sku, col / len(SIZES))
        out = (
            cats[cat_of_sku]
            * styles.reshape(-1)[style_of_sku]
            * sizes[size_of_sku]
            * col
            / col_norm[style_of_sku]
            * sku_noise
        )
        return out * units / out.sum()

    national = (np.full(n_cat, 1.0 / n_cat), style_pop, SIZE_MIX, COLOUR_MIX)
    base = [
        rates(traffic[d], cat_mix[d], style_taste[d], size_taste[d], colour_taste[d])
        for d in range(n_st)
    ]
    # Local quirks no hierarchy explains: this store's regulars love that one SKU.
    base = [b * rng.lognormal(0.0, LOCAL_SIGMA, size=b.size) for b in base]
    base.append(rates(ONLINE_UNITS_PER_DAY, *national))
    base.append(rates(OUTLET_UNITS_PER_DAY, *national))
    base.append(np.zeros(len(variants)))  # liquidation: not a shop
    rate = np.stack(base)

    span = config.history_days + config.return_days + max(TRANSIT_DAYS.values()) + 2 * HORIZON_DAYS
    amplitude = rng.uniform(0.15, 0.35, size=n_cat)
    phase = rng.uniform(0.0, 365.0, size=n_cat)
    days = np.arange(span)
    season = 1.0 + amplitude[:, None] * np.sin(2 * math.pi * (days[None, :] - phase[:, None]) / 365)

    weekday = WEEKDAY[(START.weekday() + days) % 7]
    busy = weekday[None, :] * rng.gamma(BUSY_SHAPE, 1.0 / BUSY_SHAPE, size=(n_st + 3, span))

    destinations = [
        Destination(
            id=f"store-{d + 1:02d}",
            name="Flagship" if d == 0 else f"Store {d + 1}",
            kind=DestinationKind.STORE,
            location=places[d],
            transfer_cost=0.0,
            handling_cost=TARIFFS[DestinationKind.STORE].handling,
        )
        for d in range(n_st)
    ]
    for ident, name, kind, at in (
        ("warehouse", "Warehouse", DestinationKind.WAREHOUSE, WAREHOUSE_AT),
        ("outlet", "Outlet", DestinationKind.OUTLET, OUTLET_AT),
        ("liquidation", "Liquidation", DestinationKind.LIQUIDATION, WAREHOUSE_AT),
    ):
        tariff = TARIFFS[kind]
        destinations.append(
            Destination(
                id=ident,
                name=name,
                kind=kind,
                location=at,
                transfer_cost=0.0,
                handling_cost=tariff.handling,
                markdown=tariff.markdown,
                clearance_days=tariff.clearance_days,
            )
        )

    # -- history --------------------------------------------------------------------------------
    sales_rng = np.random.default_rng([config.seed, 1])
    shops = len(destinations) - 1  # the liquidation channel keeps no sales history
    season_by_sku = season[cat_of_sku][:, : config.history_days]  # SKUs × days
    footfall = busy[:shops, None, : config.history_days]
    counts = sales_rng.poisson(rate[:shops, :, None] * season_by_sku[None, :, :] * footfall)
    # What a store does not carry, it does not sell: its demand is there but never recorded.
    carried = sales_rng.uniform(size=rate.shape) < ASSORTMENT_SHARE
    carried[n_st] = True  # the online warehouse lists everything
    counts *= carried[:shops, :, None]
    d_idx, s_idx, t_idx = np.nonzero(counts)
    day_of = [START + timedelta(days=int(t)) for t in range(config.history_days)]
    ids = [d.id for d in destinations]
    sales = tuple(
        Sale(day_of[t], ids[d], variants[s].sku, int(counts[d, s, t]))
        for d, s, t in zip(d_idx.tolist(), s_idx.tolist(), t_idx.tolist(), strict=True)
    )
    history = SalesHistory(
        start=START,
        end=day_of[-1],
        destinations=tuple(ids[:shops]),
        catalogue=tuple(variants),
        sales=sales,
    )

    # -- stock at the cut-off -------------------------------------------------------------------
    stock_rng = np.random.default_rng([config.seed, 2])
    cover = np.zeros(len(destinations))
    cover[:n_st] = STORE_COVER_DAYS
    cover[n_st], cover[n_st + 1] = WAREHOUSE_COVER_DAYS, OUTLET_COVER_DAYS
    days_on_shelf = stock_rng.gamma(COVER_SHAPE, 1.0 / COVER_SHAPE, size=rate.shape)
    days_on_shelf *= cover[:, None]
    now = season[cat_of_sku, config.history_days][None, :]
    stock = stock_rng.poisson(rate * now * days_on_shelf).astype(np.int64) * carried
    wrong = stock_rng.uniform(size=rate.shape) < RECORD_ERROR_SHARE
    wrong[n_st] = False
    record_error = np.where(wrong, stock_rng.choice([-2, -1, 1, 2], size=rate.shape), 0)

    # -- returns: the city's online orders that come back ---------------------------------------
    ret_rng = np.random.default_rng([config.seed, 3])
    population = traffic / traffic.sum()
    grades = list(CONDITION_MIX)
    grade_p = np.array([CONDITION_MIX[g] for g in grades])
    returns: list[Return] = []
    for day in range(config.return_days):
        t = config.history_days + day
        for _ in range(ret_rng.poisson(config.returns_per_day)):
            n = int(ret_rng.choice(n_st, p=population))
            want = rate[n] * season[cat_of_sku, t]
            s = int(ret_rng.choice(len(variants), p=want / want.sum()))
            v = variants[s]
            home = _offset(places[n], *ret_rng.normal(0.0, 1.5, size=2))
            item = ReturnedItem(
                sku=v.sku,
                style=v.style,
                category=v.category,
                size=v.size,
                colour=v.colour,
                price=prices[s],
                condition=grades[int(ret_rng.choice(len(grades), p=grade_p))],
                location=home,
            )
            returns.append(Return(item, day + float(ret_rng.uniform()), n))
    returns.sort(key=lambda r: r.time)
    return World(
        config=config,
        destinations=tuple(destinations),
        catalogue=tuple(variants),
        prices=np.array(prices),
        history=history,
        stock=stock,
        record_error=record_error,
        returns=tuple(returns),
        rate=rate,
        season=season,
        busy=busy,
        cat_of_sku=cat_of_sku,
    )


# -- the future: shelves fed by the hidden truth ------------------------------------------------


class _Demand:
    """Customer arrivals per (destination, SKU) after the cut-off, drawn once from the truth.

    Each stream has its own seed, so every policy meets the same customers.
    """

    def __init__(self, world: World) -> None:
        self.world = world
        self._streams: dict[tuple[int, int], NDArray[np.float64]] = {}
        self._days = world.season.shape[1] - world.config.history_days

    def times(self, d: int, s: int) -> NDArray[np.float64]:
        """Sorted arrival times (days after the cut-off) of customers for SKU ``s`` at ``d``."""
        key = (d, s)
        if key not in self._streams:
            w = self.world
            rng = np.random.default_rng([w.config.seed, 4, d, s])
            h = w.config.history_days
            lam = w.rate[d, s] * w.season[w.cat_of_sku[s], h:] * w.busy[d, h:]
            per_day = rng.poisson(lam)
            day = np.repeat(np.arange(self._days, dtype=np.float64), per_day)
            self._streams[key] = np.sort(day + rng.uniform(size=day.size))
        return self._streams[key]


class _Shelf:
    """One SKU at one destination under one policy: the units there and who buys them.

    Replenishment holds the shelf at its cut-off level ``k`` (a unit sold is replaced at the
    back of the shelf, unless returned units have lifted the shelf above ``k``: then the
    returned unit stands in for the replacement). Customers take units first come, first
    served, so a returned unit arriving when ``n`` units are on the shelf is bought by the
    ``n + 1``-th customer after its arrival. A variant at level 0 is no longer stocked there:
    its customers leave unless a returned unit waits for them.
    """

    def __init__(self, customers: NDArray[np.float64], level: int) -> None:
        self.customers = customers
        self.level = level
        self.excess = 0  # returned units on the shelf above `level`
        self.clock = -math.inf  # `excess` is as of this time (days)
        self.in_transit: list[float] = []  # arrival times, ascending

    def _served(self, since: float, until: float) -> int:
        """Customers arriving in ``(since, until]``."""
        c = self.customers
        return max(0, int(np.searchsorted(c, until, "right") - np.searchsorted(c, since, "right")))

    def _excess_at(self, t: float, *, commit: bool) -> int:
        """Returned units above the level at ``t``; ``commit`` moves the shelf's clock to ``t``."""
        excess, clock, arrived = self.excess, self.clock, 0
        for a in self.in_transit:
            if a > t:
                break
            excess = max(0, excess - self._served(clock, a)) + 1
            clock, arrived = a, arrived + 1
        excess = max(0, excess - self._served(clock, t))
        if commit:
            self.excess, self.clock = excess, t
            self.in_transit = self.in_transit[arrived:]
        return excess

    def stock(self, t: float) -> int:
        """Units on the shelf or on their way at time ``t`` (days; never earlier than before)."""
        excess = self._excess_at(t, commit=True)
        return self.level + excess + len(self.in_transit)

    def add(self, arrival: float) -> float:
        """A returned unit reaches the shelf at ``arrival``; its sale time (``inf``: unsold)."""
        ahead = self.level + self._excess_at(arrival, commit=False)
        self.in_transit.append(arrival)
        k = int(np.searchsorted(self.customers, arrival, side="right")) + ahead
        return float(self.customers[k]) if k < self.customers.size else math.inf


# -- policies -----------------------------------------------------------------------------------


class Policy(Protocol):
    """A disposition rule: where a return goes, and the resale probability it expected."""

    def choose(
        self, ret: Return, candidates: Sequence[Destination]
    ) -> tuple[str, float | None]: ...


def _only(kind: DestinationKind, candidates: Sequence[Destination]) -> list[Destination]:
    return [c for c in candidates if c.kind is kind]


class OriginPolicy:
    """Everything back to the online warehouse."""

    def choose(self, ret: Return, candidates: Sequence[Destination]) -> tuple[str, float | None]:
        return _only(DestinationKind.WAREHOUSE, candidates)[0].id, None


class NearestPolicy:
    """The store nearest to the pick-up place; condition C to the outlet."""

    def choose(self, ret: Return, candidates: Sequence[Destination]) -> tuple[str, float | None]:
        if ret.item.condition is Condition.C:
            return _only(DestinationKind.OUTLET, candidates)[0].id, None
        stores = _only(DestinationKind.STORE, candidates)
        near = min(stores, key=lambda c: transfer_km(ret.item.location, c.location))
        return near.id, None


class TopSalesPolicy:
    """The store with the highest sales of the item's category; condition C to the outlet."""

    def __init__(self, history: SalesHistory) -> None:
        totals: dict[tuple[str, str], int] = {}
        for sale in history.sales:
            variant = history.variant(sale.sku)
            assert variant is not None
            key = (variant.category, sale.destination)
            totals[key] = totals.get(key, 0) + sale.units
        self._totals = totals

    def choose(self, ret: Return, candidates: Sequence[Destination]) -> tuple[str, float | None]:
        if ret.item.condition is Condition.C:
            return _only(DestinationKind.OUTLET, candidates)[0].id, None
        stores = _only(DestinationKind.STORE, candidates)
        top = max(stores, key=lambda c: self._totals.get((ret.item.category, c.id), 0))
        return top.id, None


class ModelPolicy:
    """:func:`returns.decide` with the fitted resale model."""

    def __init__(
        self, model: ResaleModel, cutoff: date, policy: DecisionPolicy, *, sees_stock: bool = True
    ) -> None:
        self.model = model
        self.cutoff = cutoff
        self.policy = policy
        self.sees_stock = sees_stock

    def choose(self, ret: Return, candidates: Sequence[Destination]) -> tuple[str, float | None]:
        if not self.sees_stock:  # the ablation: as if every shelf were empty
            candidates = [replace(c, stock=0) for c in candidates]
        as_of = self.cutoff + timedelta(days=math.floor(ret.time) + 1)
        decision = decide(ret.item, candidates, self.model, self.policy, as_of=as_of)
        clearance = decision.chosen.destination.clearance_days is not None
        return decision.destination, None if clearance else decision.chosen.estimate.probability


# -- evaluation ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one return under one policy."""

    destination: str
    resold: bool  # bought by a customer within 14 days of arrival
    days_to_resale: float  # from the return to the sale (nan when not resold)
    net: float  # realised net recovery, EUR
    km: float
    co2_kg: float
    predicted: float | None  # the model's probability of a resale within 14 days


def _candidates(
    world: World, ret: Return, shelves: dict[tuple[int, int], _Shelf], demand: _Demand, s: int
) -> list[Destination]:
    out = []
    for d, template in enumerate(world.destinations):
        tariff = TARIFFS[template.kind]
        km = transfer_km(ret.item.location, template.location)
        stock = 0
        if template.clearance_days is None:
            real = _shelf(world, shelves, demand, d, s).stock(ret.time)
            stock = max(0, real + int(world.record_error[d, s]))
        out.append(
            replace(
                template,
                transfer_cost=round(tariff.base + tariff.per_km * km, 2),
                stock=stock,
            )
        )
    return out


def _shelf(
    world: World, shelves: dict[tuple[int, int], _Shelf], demand: _Demand, d: int, s: int
) -> _Shelf:
    key = (d, s)
    if key not in shelves:
        shelves[key] = _Shelf(demand.times(d, s), int(world.stock[d, s]))
    return shelves[key]


def simulate(
    world: World, policy: Policy, demand: _Demand, pricing: DecisionPolicy
) -> list[Outcome]:
    """Route every return with ``policy`` in time order and follow each to its sale."""
    shelves: dict[tuple[int, int], _Shelf] = {}
    index = {d.id: k for k, d in enumerate(world.destinations)}
    sku_index = {v.sku: j for j, v in enumerate(world.catalogue)}
    outcomes = []
    for ret in world.returns:
        s = sku_index[ret.item.sku]
        candidates = _candidates(world, ret, shelves, demand, s)
        chosen, predicted = policy.choose(ret, candidates)
        d = index[chosen]
        dest = candidates[d]
        arrival = ret.time + TRANSIT_DAYS[dest.kind]
        price = ret.item.price * pricing.condition_factors[ret.item.condition]
        price *= 1.0 - dest.markdown
        km = transfer_km(ret.item.location, dest.location, detour_factor=pricing.detour_factor)
        co2 = transfer_co2_kg(km, kg_per_item_km=pricing.co2_kg_per_item_km)
        cost = dest.transfer_cost + dest.handling_cost + co2 * pricing.co2_price_per_kg
        if dest.clearance_days is not None:
            resold, days, revenue = False, math.nan, price
        else:
            sale = _shelf(world, shelves, demand, d, s).add(arrival)
            resold = sale - arrival <= HORIZON_DAYS
            days = sale - ret.time if resold else math.nan
            revenue = price if resold else 0.0
        outcomes.append(Outcome(chosen, resold, days, revenue - cost, km, co2, predicted))
    return outcomes


def _bootstrap(
    resold: dict[str, NDArray[np.float64]], resamples: int, seed: int
) -> tuple[dict[str, tuple[float, float]], dict[str, tuple[float, float, float]]]:
    """95 % percentile intervals of each rate and of the model's lead (paired resampling)."""
    rng = np.random.default_rng([seed, 5])
    n = next(iter(resold.values())).size
    idx = rng.integers(0, n, size=(resamples, n))
    means = {name: values[idx].mean(axis=1) for name, values in resold.items()}
    ci = {
        name: (float(np.percentile(m, 2.5)), float(np.percentile(m, 97.5)))
        for name, m in means.items()
    }
    diffs = {}
    for other in ("origin", "nearest", "top_sales", ABLATION):
        lead = means["model"] - means[other]
        point = float(resold["model"].mean() - resold[other].mean())
        diffs[other] = (point, float(np.percentile(lead, 2.5)), float(np.percentile(lead, 97.5)))
    return ci, diffs


def reliability(
    predicted: NDArray[np.float64], observed: NDArray[np.float64], bins: int = 10
) -> list[dict[str, Any]]:
    """Reliability table: per band of predicted probability, count, mean prediction, rate."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    band = np.clip(np.digitize(predicted, edges[1:-1]), 0, bins - 1)
    rows = []
    for b in range(bins):
        mask = band == b
        if mask.any():
            rows.append(
                {
                    "low": float(edges[b]),
                    "high": float(edges[b + 1]),
                    "n": int(mask.sum()),
                    "predicted": float(predicted[mask].mean()),
                    "observed": float(observed[mask].mean()),
                }
            )
    return rows


@dataclass(frozen=True, slots=True)
class Report:
    """Everything the table and the JSON show."""

    world: WorldConfig
    returns: int
    skus: int
    policies: dict[str, dict[str, Any]]
    leads: dict[str, tuple[float, float, float]]
    brier: float
    calibrated_on: int
    reliability: list[dict[str, Any]]
    model_choices: dict[str, int]
    strengths: dict[str, float]
    half_life_days: float | None
    trend_days: int | None

    def as_json(self) -> dict[str, Any]:
        """The result file's content (the keys the issue names, nothing else)."""
        policies = {name: self.policies[name] for name in POLICIES}
        return {"returns": self.returns, "policies": policies, "brier": self.brier}


def run(config: WorldConfig, resamples: int = 2000) -> Report:
    """Build the world, fit the model on its history, route its returns with every policy."""
    world = build_world(config)
    resale_config = calibrate(world.history)
    model = fit_resale_model(world.history, resale_config)
    pricing = DecisionPolicy()
    policies: dict[str, Policy] = {
        "origin": OriginPolicy(),
        "nearest": NearestPolicy(),
        "top_sales": TopSalesPolicy(world.history),
        "model": ModelPolicy(model, world.cutoff, pricing),
        ABLATION: ModelPolicy(model, world.cutoff, pricing, sees_stock=False),
    }
    demand = _Demand(world)
    outcomes = {name: simulate(world, p, demand, pricing) for name, p in policies.items()}
    resold = {
        name: np.array([o.resold for o in out], dtype=np.float64) for name, out in outcomes.items()
    }
    ci, leads = _bootstrap(resold, resamples, config.seed)
    summary: dict[str, dict[str, Any]] = {}
    for name, out in outcomes.items():
        days = [o.days_to_resale for o in out if o.resold]
        summary[name] = {
            "resale_rate_14d": round(float(resold[name].mean()), 4),
            "resale_rate_ci": [round(ci[name][0], 4), round(ci[name][1], 4)],
            "mean_days_to_resale": round(float(np.mean(days)), 2) if days else None,
            "net_recovery_per_item": round(float(np.mean([o.net for o in out])), 2),
            "transfer_km": round(float(sum(o.km for o in out)), 1),
            "co2_kg": round(float(sum(o.co2_kg for o in out)), 2),
        }
    judged = [o for o in outcomes["model"] if o.predicted is not None]
    p = np.array([o.predicted for o in judged], dtype=np.float64)
    y = np.array([o.resold for o in judged], dtype=np.float64)
    brier = float(np.mean((p - y) ** 2)) if judged else math.nan
    kinds = {d.id: d.kind.value for d in world.destinations}
    choices: dict[str, int] = {}
    for o in outcomes["model"]:
        choices[kinds[o.destination]] = choices.get(kinds[o.destination], 0) + 1
    return Report(
        world=config,
        returns=len(world.returns),
        skus=len(world.catalogue),
        policies=summary,
        leads=leads,
        brier=round(brier, 4),
        calibrated_on=len(judged),
        reliability=reliability(p, y),
        model_choices=choices,
        strengths={k: round(v, 2) for k, v in model.strengths.items()},
        half_life_days=resale_config.half_life_days,
        trend_days=resale_config.trend_days,
    )


# -- output -------------------------------------------------------------------------------------


def _fmt(value: float | None, spec: str) -> str:
    return "—" if value is None else format(value, spec)


def format_report(report: Report) -> list[str]:
    """The table, line by line."""
    w = report.world
    lines = [
        f"returns back-test: seed {w.seed}, {report.returns} returns over {w.return_days} days, "
        f"{w.stores} stores, {report.skus} SKUs, {w.history_days} days of history",
        "",
        f"{'policy':<10} {'resold 14d':>10} {'95% CI':>16} {'days':>6} {'net EUR/item':>13} "
        f"{'transfer km':>12} {'CO2 kg':>9}",
    ]
    for name in (*POLICIES, ABLATION):
        row = report.policies[name]
        low, high = row["resale_rate_ci"]
        lines.append(
            f"{name:<10} {100 * row['resale_rate_14d']:>9.1f}% "
            f"{f'[{100 * low:.1f}, {100 * high:.1f}]':>16} "
            f"{_fmt(row['mean_days_to_resale'], '.1f'):>6} "
            f"{row['net_recovery_per_item']:>13.2f} {row['transfer_km']:>12.0f} "
            f"{row['co2_kg']:>9.1f}"
        )
    lines += [
        f"({ABLATION}: the model told every shelf is empty — what knowing the stock is worth)",
        "",
        "model's lead in resale rate, points (paired bootstrap 95% CI):",
    ]
    for other, target in (
        ("origin", 10.0),
        ("nearest", None),
        ("top_sales", 5.0),
        (ABLATION, None),
    ):
        point, low, high = report.leads[other]
        verdict = ""
        if target is not None:
            met = 100 * point >= target and low > 0
            verdict = f"   target >= +{target:g} with CI above 0: {'met' if met else 'NOT met'}"
        lines.append(
            f"  model - {other:<10} {100 * point:+6.1f}  [{100 * low:+.1f}, {100 * high:+.1f}]"
            f"{verdict}"
        )
    choices = ", ".join(f"{k} {v}" for k, v in sorted(report.model_choices.items()))
    recency = (
        "no recency weighting"
        if report.half_life_days is None
        else f"sales weighted with a half-life of {report.half_life_days:g} days"
    )
    trend = (
        "no trend" if report.trend_days is None else f"trend of the last {report.trend_days} days"
    )
    lines += [
        "",
        f"model: sent {choices}; {recency}, {trend} (chosen by back-test on the history)",
        f"calibration on the {report.calibrated_on} returns it sent to a shop: "
        f"Brier {report.brier:.4f}",
        f"  {'predicted':<11} {'n':>5} {'mean predicted':>15} {'observed':>9}",
    ]
    for row in report.reliability:
        lines.append(
            f"  {row['low']:.1f}-{row['high']:.1f}     {row['n']:>5} {row['predicted']:>15.3f} "
            f"{row['observed']:>9.3f}"
        )
    return lines


def _parser() -> argparse.ArgumentParser:
    d = WorldConfig()
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.returns",
        description="Back-test the returns engine on a synthetic retail world against simple "
        "disposition rules.",
    )
    p.add_argument("--seed", type=int, default=d.seed, help="world seed (default: %(default)s)")
    p.add_argument("--stores", type=int, default=d.stores, help="default: %(default)s")
    p.add_argument("--categories", type=int, default=d.categories, help="default: %(default)s")
    p.add_argument(
        "--styles", type=int, default=d.styles_per_category, help="per category (%(default)s)"
    )
    p.add_argument("--history-days", type=int, default=d.history_days, help="default: %(default)s")
    p.add_argument("--return-days", type=int, default=d.return_days, help="default: %(default)s")
    p.add_argument(
        "--returns-per-day", type=float, default=d.returns_per_day, help="default: %(default)s"
    )
    p.add_argument(
        "--resamples", type=int, default=2000, help="bootstrap resamples (default: %(default)s)"
    )
    p.add_argument("--json", type=Path, help="write the figures to this JSON file")
    return p


def main(argv: Sequence[str] | None = None, out: IO[str] | None = None) -> int:
    """Run the back-test; returns the process exit code (2 on a usage error)."""
    args = _parser().parse_args(argv)
    out = sys.stdout if out is None else out
    try:
        config = WorldConfig(
            seed=args.seed,
            stores=args.stores,
            categories=args.categories,
            styles_per_category=args.styles,
            history_days=args.history_days,
            return_days=args.return_days,
            returns_per_day=args.returns_per_day,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.resamples < 100:
        print(f"error: --resamples {args.resamples}: give 100 or more", file=sys.stderr)
        return 2
    began = time.perf_counter()
    report = run(config, args.resamples)
    if report.returns == 0:
        print("error: the world produced no returns — raise --returns-per-day", file=sys.stderr)
        return 2
    for line in format_report(report):
        print(line, file=out)
    out.flush()
    print(f"wall time {time.perf_counter() - began:.1f} s", file=sys.stderr)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report.as_json(), indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
