"""The returns engine's inputs: a returned item, candidate destinations and sales history.

Units, everywhere in this package:

* money: float in the caller's currency (EUR in the examples and the benchmark);
* time: whole **days** (:class:`datetime.date` for calendar days, floats for durations);
* distance: **kilometres**; CO2: **kilograms**;
* coordinates: WGS84 degrees, longitude first (``Point(lon, lat)``, as in GeoJSON).

All classes are frozen; build variants with :func:`dataclasses.replace`. Each validates itself
on construction and raises :class:`~returns.errors.InvalidReturnInput` naming the field and the
fix, so a malformed input fails before any estimate is made.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from types import MappingProxyType

from returns.errors import InvalidReturnInput

__all__ = [
    "Condition",
    "Destination",
    "DestinationKind",
    "Point",
    "ReturnedItem",
    "Sale",
    "SalesHistory",
    "Variant",
]


def _text(value: object, name: str, what: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidReturnInput(name, f"{value!r} is not a usable {what} — give a non-empty text")


def _amount(value: object, name: str, what: str, *, positive: bool = False) -> None:
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        raise InvalidReturnInput(name, f"{value!r} is not a number — give the {what}")
    if value < 0:
        bound = "above 0" if positive else "0 or more"
        raise InvalidReturnInput(name, f"{value} is negative — give the {what}, {bound}")
    if positive and value == 0:
        raise InvalidReturnInput(name, f"{value} is zero — give the {what}, above 0")


def _count(value: object, name: str, what: str, *, minimum: int = 0) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise InvalidReturnInput(
            name, f"{value!r} is not a whole number >= {minimum} — give the {what}"
        )


def _day(value: object, name: str) -> None:
    if not isinstance(value, date):
        raise InvalidReturnInput(name, f"{value!r} is not a date — give a datetime.date")


class Condition(StrEnum):
    """The returned item's condition grade, as graded at the return.

    ``A``: as new, tags on, sellable at full price. ``B``: tried, small signs of wear or a
    repair; sellable with a discount. ``C``: damaged or soiled; only an outlet or a
    liquidation channel takes it.
    """

    A = "A"
    B = "B"
    C = "C"


class DestinationKind(StrEnum):
    """What a destination is: it decides which items may go there.

    ``STORE`` and ``WAREHOUSE`` (the online channel's stock) sell at list price less their
    usual markdown; ``OUTLET`` sells at outlet prices and also takes condition C;
    ``LIQUIDATION`` buys whatever it is given at a low price (a jobber, a recycler).
    """

    STORE = "store"
    WAREHOUSE = "warehouse"
    OUTLET = "outlet"
    LIQUIDATION = "liquidation"


@dataclass(frozen=True, slots=True)
class Point:
    """A place on the map.

    Parameters
    ----------
    lon, lat
        WGS84 longitude and latitude in degrees (longitude first, as in GeoJSON).
    """

    lon: float
    lat: float

    def __post_init__(self) -> None:
        for name, value, bound in (("lon", self.lon, 180.0), ("lat", self.lat, 90.0)):
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            if not (ok and math.isfinite(value) and -bound <= value <= bound):
                raise InvalidReturnInput(
                    name,
                    f"{value!r} is not a number in [-{bound:g}, {bound:g}] — give WGS84 "
                    "degrees, longitude first (did you swap lon and lat?)",
                )


def _coerce_condition(value: object) -> Condition:
    if isinstance(value, Condition):
        return value
    if isinstance(value, str) and value.strip().upper() in Condition.__members__:
        return Condition(value.strip().upper())
    raise InvalidReturnInput(
        "condition",
        f"{value!r} is not a condition grade — use A (as new), B (worn or repaired) or C (damaged)",
    )


def _coerce_kind(value: object) -> DestinationKind:
    if isinstance(value, DestinationKind):
        return value
    if isinstance(value, str) and value.strip().lower() in {k.value for k in DestinationKind}:
        return DestinationKind(value.strip().lower())
    kinds = ", ".join(k.value for k in DestinationKind)
    raise InvalidReturnInput("kind", f"{value!r} is not a destination kind — use one of {kinds}")


@dataclass(frozen=True, slots=True)
class ReturnedItem:
    """One returned unit.

    Parameters
    ----------
    sku
        The SKU of the variant (style × colour × size); must be in the history's catalogue.
    style, category, size, colour
        The variant's place in the product hierarchy; must agree with the catalogue.
    price
        List price of one unit, currency (EUR), above 0.
    condition
        Grade A, B or C (a :class:`Condition` or its letter).
    location
        Where the item is now: the customer's place or the drop-off point.
    """

    sku: str
    style: str
    category: str
    size: str
    colour: str
    price: float
    condition: Condition
    location: Point

    def __post_init__(self) -> None:
        for name in ("sku", "style", "category", "size", "colour"):
            _text(getattr(self, name), name, name)
        _amount(self.price, "price", "list price in EUR", positive=True)
        object.__setattr__(self, "condition", _coerce_condition(self.condition))
        if not isinstance(self.location, Point):
            raise InvalidReturnInput(
                "location", f"{self.location!r} is not a Point — give Point(lon, lat)"
            )


@dataclass(frozen=True, slots=True)
class Destination:
    """A place a returned item may be sent to, as seen from one returned item.

    Parameters
    ----------
    id
        The destination's id; stores, warehouses and outlets must appear in the sales history.
    name
        Name used in explanations (``"Store Leith"``).
    kind
        Store, warehouse, outlet or liquidation (a :class:`DestinationKind` or its value).
    location
        Where it is.
    transfer_cost
        Cost of moving this item there from where it is, currency (EUR), 0 or more.
    handling_cost
        Cost of receiving, checking and shelving it there, currency (EUR), 0 or more.
    stock
        Units of the returned item's SKU already there or on their way (units, 0 or more);
        the returned unit sells only after them.
    markdown
        Expected share of the list price given away when it sells there (0 for full price,
        0.5 at an outlet selling at half price); in [0, 1).
    clearance_days
        ``None``: the destination is judged on its sales history. A number: the destination
        takes any item and pays for it within that many days (a liquidation channel, an
        outlet with a buy-all agreement); no history is needed.
    """

    id: str
    name: str
    kind: DestinationKind
    location: Point
    transfer_cost: float
    handling_cost: float
    stock: int = 0
    markdown: float = 0.0
    clearance_days: float | None = None

    def __post_init__(self) -> None:
        _text(self.id, "id", "destination id")
        _text(self.name, "name", "destination name")
        object.__setattr__(self, "kind", _coerce_kind(self.kind))
        if not isinstance(self.location, Point):
            raise InvalidReturnInput(
                "location", f"{self.location!r} is not a Point — give Point(lon, lat)"
            )
        _amount(self.transfer_cost, "transfer_cost", "transfer cost in EUR")
        _amount(self.handling_cost, "handling_cost", "handling cost in EUR")
        _count(self.stock, "stock", "units of this SKU on hand or on their way")
        _amount(self.markdown, "markdown", "share of the list price given away")
        if self.markdown >= 1:
            raise InvalidReturnInput(
                "markdown",
                f"{self.markdown} leaves nothing of the price — give a share in [0, 1), "
                "e.g. 0.3 for 30 % off",
            )
        if self.clearance_days is not None:
            _amount(self.clearance_days, "clearance_days", "days until the channel pays")
        elif self.kind is DestinationKind.LIQUIDATION:
            raise InvalidReturnInput(
                "clearance_days",
                "a liquidation channel has no sales history to judge it on — give the days "
                "until it takes and pays for an item (0 for at once)",
            )


@dataclass(frozen=True, slots=True)
class Variant:
    """One catalogue entry: a SKU and its place in the hierarchy category → style → SKU.

    A SKU is one colour and one size of a style.
    """

    sku: str
    style: str
    category: str
    size: str
    colour: str

    def __post_init__(self) -> None:
        for name in ("sku", "style", "category", "size", "colour"):
            _text(getattr(self, name), name, name)


@dataclass(frozen=True, slots=True)
class Sale:
    """Units of one SKU sold at one destination on one day.

    Parameters
    ----------
    day
        The calendar day of the sale.
    destination
        Id of the destination that sold it.
    sku
        The SKU sold.
    units
        Units sold that day (1 or more; days without a sale are simply absent).
    """

    day: date
    destination: str
    sku: str
    units: int = 1

    def __post_init__(self) -> None:
        _day(self.day, "day")
        _text(self.destination, "destination", "destination id")
        _text(self.sku, "sku", "SKU")
        _count(self.units, "units", "units sold that day", minimum=1)


@dataclass(frozen=True, slots=True)
class SalesHistory:
    """Daily sales of every destination over one period, and the catalogue they refer to.

    Parameters
    ----------
    start, end
        First and last day covered, both included. A day in the period without a sale
        record at a destination means it sold nothing that day.
    destinations
        Ids of every destination the history covers, those without a single sale included.
    catalogue
        Every SKU the sales (and the returned items) may name, with its hierarchy.
    sales
        The sale records.
    opened
        Destinations whose history starts later than ``start`` (a store that opened in the
        period): id → first day covered.
    """

    start: date
    end: date
    destinations: tuple[str, ...]
    catalogue: tuple[Variant, ...]
    sales: tuple[Sale, ...]
    opened: Mapping[str, date] = field(default_factory=lambda: MappingProxyType({}))
    _variants: Mapping[str, Variant] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _day(self.start, "start")
        _day(self.end, "end")
        if self.end < self.start:
            raise InvalidReturnInput(
                "end", f"{self.end} is before start {self.start} — swap start and end"
            )
        object.__setattr__(self, "destinations", tuple(self.destinations))
        object.__setattr__(self, "catalogue", tuple(self.catalogue))
        object.__setattr__(self, "sales", tuple(self.sales))
        object.__setattr__(self, "opened", MappingProxyType(dict(self.opened)))
        if not self.destinations:
            raise InvalidReturnInput("destinations", "is empty — list the destinations covered")
        seen: set[str] = set()
        for i, dest in enumerate(self.destinations):
            _text(dest, f"destinations[{i}]", "destination id")
            if dest in seen:
                raise InvalidReturnInput(
                    ("destinations", i), f"{dest!r} is listed twice — list each id once"
                )
            seen.add(dest)
        variants: dict[str, Variant] = {}
        for i, variant in enumerate(self.catalogue):
            if not isinstance(variant, Variant):
                raise InvalidReturnInput(("catalogue", i), f"{variant!r} is not a Variant")
            if variant.sku in variants:
                raise InvalidReturnInput(
                    ("catalogue", i, "sku"),
                    f"{variant.sku!r} is in the catalogue twice — list each SKU once",
                )
            variants[variant.sku] = variant
        if not variants:
            raise InvalidReturnInput("catalogue", "is empty — list the SKUs the sales refer to")
        object.__setattr__(self, "_variants", MappingProxyType(variants))
        for dest, first in self.opened.items():
            if dest not in seen:
                raise InvalidReturnInput(
                    ("opened", dest), f"{dest!r} is not in destinations — add it there"
                )
            _day(first, f"opened[{dest}]")
            if not self.start <= first <= self.end:
                raise InvalidReturnInput(
                    ("opened", dest),
                    f"{first} is outside the period {self.start}..{self.end} — give a day in it",
                )
        for i, sale in enumerate(self.sales):
            self._check_sale(i, sale, seen)

    def _check_sale(self, i: int, sale: object, destinations: set[str]) -> None:
        if not isinstance(sale, Sale):
            raise InvalidReturnInput(("sales", i), f"{sale!r} is not a Sale")
        if sale.destination not in destinations:
            raise InvalidReturnInput(
                ("sales", i, "destination"),
                f"{sale.destination!r} is not in the history's destinations — add it there",
            )
        if sale.sku not in self._variants:
            raise InvalidReturnInput(
                ("sales", i, "sku"), f"{sale.sku!r} is not in the catalogue — add it there"
            )
        first = self.first_day(sale.destination)
        if not first <= sale.day <= self.end:
            raise InvalidReturnInput(
                ("sales", i, "day"),
                f"{sale.day} is outside {sale.destination!r}'s period {first}..{self.end} — "
                "drop the record or widen the period",
            )

    def first_day(self, destination: str) -> date:
        """First day of ``destination``'s history (its opening day, or :attr:`start`)."""
        return self.opened.get(destination, self.start)

    def variant(self, sku: str) -> Variant | None:
        """The catalogue entry of ``sku``, or ``None`` when the catalogue lacks it."""
        return self._variants.get(sku)
