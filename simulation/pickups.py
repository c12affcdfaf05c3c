"""Returns picked up on the way: the market the returns engine judges, and each return's path.

When a scenario's ``returns.share`` is above 0, a delivered parcel may come back: the customer
asks some days later (``returns.delay_weights``) and picks a two-hour window at home. Where the
item goes is decided by the production returns engine — :func:`returns.fit_resale_model` on a
sales history and :func:`returns.decide` over the stores, the hub's warehouse, an outlet and a
liquidation channel, valued with the production tariffs
(:class:`orchestrator.returns_flow.ReturnsPolicy`) — exactly as
:func:`orchestrator.returns_flow.start_return` does, except that the history and the stores
come from this module instead of the database (that function needs a database session).

The stores, the catalogue and the sales history are drawn from the replication's returns
generator: the same seed gives the same market. Units: seconds since the first simulated
day's midnight, metres, grams, EUR.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

import numpy as np

from orchestrator.returns_flow import ReturnsPolicy, destinations_from
from returns import (
    Condition,
    Decision,
    Point,
    ResaleModel,
    ReturnedItem,
    Sale,
    SalesHistory,
    Variant,
    decide,
    fit_resale_model,
)
from routing.matrix import haversine_m
from routing.model import Location
from simulation.scenario import Returns
from simulation.world import Customer

__all__ = ["Market", "ReturnState", "ReturnStatus", "ReturnVisit", "build_market"]

_CATEGORIES = ("tops", "bottoms", "shoes")
_SIZES = ("S", "M", "L")
_COLOURS = ("black", "blue")
_TASTE_SHAPE = 2.0  # gamma shape of a destination's taste for a SKU (spread between stores)


class ReturnStatus(StrEnum):
    """Where a return stands."""

    WAITING = "waiting"
    """Asked for, not on a route yet."""
    ASSIGNED = "assigned"
    """Its pickup is on a vehicle's route."""
    ON_BOARD = "on_board"
    """Picked up, on the vehicle."""
    COLLECTED = "collected"
    """Dropped at its store or brought to the hub (final)."""
    UNSERVED = "unserved"
    """Never collected, with a reason (final)."""


RETURN_FINAL = frozenset({ReturnStatus.COLLECTED, ReturnStatus.UNSERVED})


@dataclass(frozen=True, slots=True)
class Market:
    """What the returns engine knows: stores, the catalogue, the fitted resale model.

    ``stores``: store locations (announced to the world's travel tables); ``store_hub``: the
    hub each store is served from (the nearest); ``prices``: list price per SKU, EUR;
    ``popularity``: chance a returned item is each SKU.
    """

    stores: tuple[Location, ...]
    store_hub: tuple[int, ...]
    hubs: tuple[Location, ...]
    catalogue: tuple[Variant, ...]
    prices: tuple[float, ...]
    popularity: np.ndarray
    model: ResaleModel
    policy: ReturnsPolicy = field(default_factory=ReturnsPolicy)

    def decide(self, sku: int, condition: Condition, at: Location, hub: int) -> Decision:
        """Where one returned unit of SKU ``sku`` at ``at`` goes: the stores, the hub's
        warehouse, the outlet and the liquidation channel, as
        :func:`orchestrator.returns_flow.start_return` weighs them."""
        variant = self.catalogue[sku]
        origin = Point(at.lon, at.lat)
        depot = self.hubs[hub]
        destinations = destinations_from(
            origin,
            [(store_id(i), f"Store {i + 1}", Point(s.lon, s.lat), 0)
             for i, s in enumerate(self.stores)],
            (warehouse_id(hub), f"Warehouse {hub + 1}", Point(depot.lon, depot.lat)),
            self.policy,
        )  # fmt: skip
        item = ReturnedItem(
            sku=variant.sku,
            style=variant.style,
            category=variant.category,
            size=variant.size,
            colour=variant.colour,
            price=self.prices[sku],
            condition=condition,
            location=origin,
        )
        return decide(item, destinations, self.model, self.policy.decision)


def store_id(index: int) -> str:
    """Destination id of the ``index``-th store."""
    return f"store-{index + 1}"


def warehouse_id(hub: int) -> str:
    """Destination id of a hub's warehouse (the online channel)."""
    return f"depot-{hub + 1}"


def build_market(
    spec: Returns,
    stores: Sequence[Location],
    hubs: Sequence[Location],
    start: date,
    rng: np.random.Generator,
) -> Market:
    """Draw the catalogue and the stores' and warehouses' sales history, and fit the model.

    Parameters
    ----------
    spec
        The scenario's returns section.
    stores, hubs
        Store and hub locations.
    start
        First simulated day: the history ends the day before.
    rng
        The replication's returns generator.
    """
    catalogue = tuple(
        Variant(
            sku=f"SKU-{i + 1:04d}",
            style=f"style-{i // 6 + 1}",
            category=_CATEGORIES[(i // 6) % len(_CATEGORIES)],
            size=_SIZES[i % len(_SIZES)],
            colour=_COLOURS[(i // len(_SIZES)) % len(_COLOURS)],
        )
        for i in range(spec.skus)
    )
    low, high = spec.price_eur
    style_price = rng.uniform(low, high, size=spec.skus // 6 + 1)
    prices = tuple(round(float(style_price[i // 6]), 2) for i in range(spec.skus))
    weight = rng.gamma(1.0, 1.0, size=spec.skus)
    popularity = weight / weight.sum()
    destinations = [store_id(i) for i in range(len(stores))] + [
        warehouse_id(h) for h in range(len(hubs))
    ]
    taste = rng.gamma(_TASTE_SHAPE, 1.0 / _TASTE_SHAPE, size=(len(destinations), spec.skus))
    rates = spec.store_sales_per_day * popularity[None, :] * taste
    units = rng.poisson(rates[None, :, :], size=(spec.history_days, *rates.shape))
    end = start - timedelta(days=1)
    first = end - timedelta(days=spec.history_days - 1)
    sales = tuple(
        Sale(first + timedelta(days=int(d)), destinations[int(j)], catalogue[int(s)].sku, int(n))
        for d, j, s in zip(*np.nonzero(units), strict=True)
        for n in (units[d, j, s],)
    )
    history = SalesHistory(
        start=first,
        end=end,
        destinations=tuple(destinations),
        catalogue=catalogue,
        sales=sales,
    )
    policy = ReturnsPolicy()
    model = fit_resale_model(history, policy.resale)
    store_hub = tuple(
        int(
            np.argmin(
                haversine_m(
                    np.array([h.lat for h in hubs]), np.array([h.lon for h in hubs]), s.lat, s.lon
                )
            )
        )
        for s in stores
    )
    return Market(
        tuple(stores), store_hub, tuple(hubs), catalogue, prices, popularity, model, policy
    )


@dataclass(slots=True, eq=False)
class ReturnState:
    """One return through the simulation: where, when, where to, and what happened."""

    index: int
    order: int
    """Index of the returned order (its :class:`~simulation.world.OrderSpec`)."""
    hub: int
    customer: Customer
    """The customer returning it."""
    location: Location
    demand: tuple[int, int, int]
    """Grams, millilitres, parcels picked up."""
    day: int
    window: tuple[int, int]
    """Pickup window, seconds since the first day's midnight."""
    destination: str
    destination_kind: str
    store: int | None
    """Index of the destination store when it is served from the return's hub (the pickup is
    then paired with a drop there), else ``None``: the item goes to the hub."""
    resale_probability: float
    expected_net_eur: float
    status: ReturnStatus = ReturnStatus.WAITING
    attempts: int = 0
    picked_by: int | None = None
    dropped_by: int | None = None
    picked_at: int | None = None
    collected_at: int | None = None
    collected_to: str | None = None
    """``"store"`` or ``"hub"``."""
    on_tour: bool | None = None
    """Collected on a trip that also delivered orders (``False``: a dedicated trip)."""
    added_m: float = 0.0
    """Metres the pickup (and its drop) add to the planned route it rode on."""
    added_co2_g: float = 0.0
    unserved_reason: str | None = None


@dataclass(frozen=True, slots=True)
class ReturnVisit:
    """A stop of a trip that belongs to a return: its pickup, or its drop at the store."""

    ret: ReturnState
    drop: bool
