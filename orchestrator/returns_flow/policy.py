"""What the returns flow assumes: destination ids, transfer tariffs and the policy's limits.

Transfer costs are a base plus a rate per road kilometre from where the item is
(:class:`Tariff`); the outlet and the liquidation channel take any item within their
``clearance_days`` and collect it at the depot. Money in EUR, distances in km."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from types import MappingProxyType

from orchestrator.errors import InvalidInput
from returns import (
    DecisionPolicy,
    DestinationKind,
    ResaleConfig,
)

__all__ = [
    "LIQUIDATION_ID",
    "OUTLET_ID",
    "ReturnsPolicy",
    "Tariff",
    "store_destination_id",
    "warehouse_id",
]

OUTLET_ID = "outlet"
"""Destination id of the outlet channel."""


LIQUIDATION_ID = "liquidation"
"""Destination id of the liquidation channel."""


@dataclass(frozen=True, slots=True)
class Tariff:
    """What sending one returned item to a destination of one kind costs, and fetches.

    Parameters
    ----------
    base_eur
        Fixed part of the transfer, EUR.
    per_km_eur
        EUR per road kilometre from where the item is.
    handling_eur
        Receiving, checking and shelving it there, EUR.
    markdown
        Share of the list price given away when it sells there, in [0, 1).
    clearance_days
        ``None``: judged on sales history. A number: takes any item within that many days.
    """

    base_eur: float
    per_km_eur: float
    handling_eur: float
    markdown: float = 0.0
    clearance_days: float | None = None


def _default_tariffs() -> Mapping[DestinationKind, Tariff]:
    return MappingProxyType(
        {
            # Collected on a passing delivery route, then shelved and tagged.
            DestinationKind.STORE: Tariff(2.0, 0.10, 2.0),
            # A parcel to the online warehouse: inspected, photographed, relisted at 20 % off.
            DestinationKind.WAREHOUSE: Tariff(5.5, 0.0, 3.5, markdown=0.2),
            # An outlet that takes every item and sells it at half price within 10 days.
            DestinationKind.OUTLET: Tariff(3.0, 0.10, 1.5, markdown=0.5, clearance_days=10.0),
            # A jobber buying anything at 15 % of the list price, collected at the depot.
            DestinationKind.LIQUIDATION: Tariff(5.5, 0.0, 0.5, markdown=0.85, clearance_days=2.0),
        }
    )


@dataclass(frozen=True, slots=True)
class ReturnsPolicy:
    """Settings of the returns flow.

    Parameters
    ----------
    tariffs
        Costs and prices per destination kind (every kind must be present).
    decision
        How the engine values options (CO2 price, condition factors, ...).
    resale
        Settings of the resale model (horizon 14 days by default).
    history_days
        Days of sales history read, ending the day before the return starts.
    pickup_window
        Width of the pickup windows offered.
    opening, closing
        Local times between which pickups are offered.
    lead
        Least time between asking and the start of a window offered.
    option_days
        Days offered, from today.
    store_options
        Drop-off stores offered, nearest first.
    eta_spread_s
        The ETA shown is the planned start ± this many seconds, inside the window.
    """

    tariffs: Mapping[DestinationKind, Tariff] = field(default_factory=_default_tariffs)
    decision: DecisionPolicy = field(default_factory=DecisionPolicy)
    resale: ResaleConfig = field(default_factory=ResaleConfig)
    history_days: int = 112
    pickup_window: timedelta = timedelta(hours=2)
    opening: time = time(8)
    closing: time = time(20)
    lead: timedelta = timedelta(hours=1)
    option_days: int = 3
    store_options: int = 3
    eta_spread_s: int = 900

    def __post_init__(self) -> None:
        missing = [k.value for k in DestinationKind if k not in self.tariffs]
        if missing:
            raise InvalidInput("tariffs", f"no tariff for {missing} — give one per kind")
        if self.history_days < 1:
            raise InvalidInput("history_days", "give 1 day of history or more")
        if self.pickup_window <= timedelta(0) or self.option_days < 1:
            raise InvalidInput("pickup_window", "give a positive window and 1 day or more")


def warehouse_id(depot_id: int) -> str:
    """Destination id of a depot's warehouse."""
    return f"depot-{depot_id}"


def store_destination_id(store_id: int) -> str:
    return f"store-{store_id}"
