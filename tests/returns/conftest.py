"""Builders for hand-made catalogues, sales histories, items and destinations.

Every history starts on :data:`START` and runs :data:`DAYS` days; sales are laid out by rule
(one unit every ``n`` days) so a reader can count them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta

from returns import (
    Destination,
    DestinationKind,
    Point,
    ReturnedItem,
    Sale,
    SalesHistory,
    Variant,
)

__all__ = [
    "DAYS",
    "END",
    "HERE",
    "START",
    "destination",
    "every",
    "history",
    "item",
    "tees",
]

START = date(2026, 1, 5)
DAYS = 84
END = START + timedelta(days=DAYS - 1)
HERE = Point(24.94, 60.17)
"""Where the returned items are (central Helsinki)."""


def tees(
    colours: Sequence[str] = ("black", "white"),
    sizes: Sequence[str] = ("S", "M", "L"),
    styles: Sequence[str] = ("tee",),
    category: str = "tops",
) -> tuple[Variant, ...]:
    """A catalogue: every style in every colour and size, SKU ``style-colour-size``."""
    return tuple(
        Variant(f"{style}-{c}-{z}", style, category, z, c)
        for style in styles
        for c in colours
        for z in sizes
    )


def every(dest: str, sku: str, n: int, *, first: int = 0, last: int = DAYS - 1) -> list[Sale]:
    """One unit of ``sku`` at ``dest`` every ``n`` days, from day ``first`` to ``last``."""
    return [Sale(START + timedelta(days=d), dest, sku) for d in range(first, last + 1, n)]


def history(
    sales: Iterable[Sale],
    destinations: Sequence[str],
    catalogue: Sequence[Variant] | None = None,
    *,
    opened: dict[str, date] | None = None,
) -> SalesHistory:
    """The history of ``DAYS`` days with these sales."""
    return SalesHistory(
        start=START,
        end=END,
        destinations=tuple(destinations),
        catalogue=tuple(tees() if catalogue is None else catalogue),
        sales=tuple(sales),
        opened=opened or {},
    )


def item(sku: str = "tee-black-S", *, price: float = 40.0, condition: str = "A") -> ReturnedItem:
    """A returned unit of a ``tees()`` SKU at :data:`HERE`."""
    style, colour, size = sku.split("-")
    return ReturnedItem(sku, style, "tops", size, colour, price, condition, HERE)  # type: ignore[arg-type]


def destination(
    ident: str,
    *,
    kind: DestinationKind = DestinationKind.STORE,
    stock: int = 0,
    transfer_cost: float = 2.0,
    handling_cost: float = 1.0,
    markdown: float = 0.0,
    clearance_days: float | None = None,
    at: Point = HERE,
) -> Destination:
    """A destination named after its id, at the item's place unless told otherwise."""
    return Destination(
        id=ident,
        name=ident.replace("-", " ").title(),
        kind=kind,
        location=at,
        transfer_cost=transfer_cost,
        handling_cost=handling_cost,
        stock=stock,
        markdown=markdown,
        clearance_days=clearance_days,
    )
