"""The columns of an orders CSV file and how each cell is read.

:data:`COLUMNS` names every column the importer (:mod:`orchestrator.intake.importer`) reads,
with what it should hold — the words of its error messages; :data:`PARSERS` reads a cell of
each column, raising :class:`BadCell` with what to write instead.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any

from orchestrator.intake.orders import MAX_KEY_LENGTH
from orchestrator.models import DeliveryMode, PlaceKind

__all__ = [
    "COLUMNS",
    "ITEM_COLUMNS",
    "KIND_NAMES",
    "PARSERS",
    "REQUIRED",
    "BadCell",
    "degrees",
]

COLUMNS: dict[str, str] = {
    "order_key": "the order's key, unique per order (the shop's order number will do)",
    "depot": "the code or id of the depot that delivers the order",
    "service_day": "the delivery date, YYYY-MM-DD",
    "customer_id": "the id of a customer in the store",
    "customer_email": "the customer's email",
    "customer_name": "the customer's name",
    "customer_phone": "the customer's phone number",
    "place": "the name of one of the customer's places, e.g. home",
    "place_kind": "home, office, cafe, locker or other",
    "lat": "the latitude of the delivery point in decimal degrees, e.g. 60.1699",
    "lon": "the longitude of the delivery point in decimal degrees, e.g. 24.9384",
    "address": "the street address of the delivery point",
    "window_start": "a time of day (09:00) or a date-time with offset (2025-03-03T09:00+02:00)",
    "window_end": "a time of day (11:00) or a date-time with offset (2025-03-03T11:00+02:00)",
    "mode": "hand_over, leave_at_door or locker",
    "value_cents": "the value of the goods in cents",
    "fragile": "yes or no",
    "signature_required": "yes or no",
    "cold_chain": "yes or no",
    "reference": "the shop's order number",
    "description": "what the item is",
    "quantity": "the number of units, 1 or more",
    "weight_g": "the mass of one unit in grams",
    "volume_ml": "the volume of one unit in millilitres",
    "parcels": "the number of parcels one unit ships in",
    "sku": "the product's stock-keeping unit, at most 64 characters",
}
"""Every column the importer reads, with what it should hold (used in error messages)."""

ITEM_COLUMNS = frozenset({"description", "quantity", "weight_g", "volume_ml", "parcels", "sku"})
"""Columns that describe one item; all the others describe the order."""

REQUIRED = ("order_key", "depot", "service_day", "weight_g", "volume_ml")

_FLAGS = {"true": True, "yes": True, "y": True, "1": True}
_FLAGS.update({"false": False, "no": False, "n": False, "0": False, "": False})
KIND_NAMES = frozenset(k.value for k in PlaceKind)
_KINDS = ", ".join(k.value for k in PlaceKind)
_MODES = ", ".join(m.value for m in DeliveryMode)


class BadCell(ValueError):
    """A cell's value is wrong; the message says what to write instead."""


def _whole(text: str, column: str, least: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise BadCell(f"{text!r} is not a whole number — give {COLUMNS[column]}") from None
    if value < least:
        what = "negative" if value < 0 else "too small"
        raise BadCell(f"{value} is {what} — give {COLUMNS[column]}, {least} or more")
    return value


def degrees(text: str, column: str, other: str) -> float:
    """A latitude or longitude in decimal degrees; ``other`` is the row's other coordinate
    (to spot lat and lon swapped)."""
    limit = 90.0 if column == "lat" else 180.0
    try:
        value = float(text)
    except ValueError:
        point = " with a point, not a comma, before the decimals" if "," in text else ""
        raise BadCell(f"{text!r} is not a number — give {COLUMNS[column]}{point}") from None
    if not math.isfinite(value) or abs(value) > limit:
        hint = ""
        try:
            if column == "lat" and abs(float(other)) <= 90.0:
                hint = " (are lat and lon swapped?)"
        except ValueError:
            pass
        raise BadCell(f"{text} is outside -{limit:g}..{limit:g} — give {COLUMNS[column]}{hint}")
    return value


def _day(text: str, column: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadCell(f"{text!r} is not a date — write it YYYY-MM-DD, e.g. 2025-03-03") from None


def _moment(text: str, column: str) -> datetime | time:
    """A date-time with offset, or a time of day (made a date-time once the depot is known)."""
    try:
        return time.fromisoformat(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadCell(
            f"{text!r} is not a time — give a time of day (09:00) or a date-time with offset "
            "(2025-03-03T09:00+02:00)"
        ) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise BadCell(
            f"{text!r} has no UTC offset — add one (2025-03-03T09:00+02:00), or give only the "
            "time of day (09:00) to read it in the depot's timezone"
        )
    return moment


def _flag(text: str, column: str) -> bool:
    try:
        return _FLAGS[text.lower()]
    except KeyError:
        raise BadCell(
            f"{text!r} is not yes or no — write true/false, yes/no or 1/0 (empty means no)"
        ) from None


def _mode(text: str, column: str) -> DeliveryMode:
    try:
        return DeliveryMode(text.lower())
    except ValueError:
        raise BadCell(f"unknown mode {text!r} — use one of {_MODES}, or leave it empty") from None


def _kind(text: str, column: str) -> PlaceKind:
    try:
        return PlaceKind(text.lower())
    except ValueError:
        raise BadCell(f"unknown kind {text!r} — use one of {_KINDS}, or leave it empty") from None


def _text(limit: int) -> Callable[[str, str], str]:
    def parse(text: str, column: str) -> str:
        if len(text) > limit:
            raise BadCell(f"is {len(text)} characters long — shorten it to {limit} at most")
        return text

    return parse


PARSERS: dict[str, Callable[[str, str], Any]] = {
    "order_key": _text(MAX_KEY_LENGTH),
    "depot": _text(40),
    "service_day": _day,
    "customer_id": lambda text, column: _whole(text, column, 1),
    "customer_email": _text(320),
    "customer_name": _text(200),
    "customer_phone": _text(40),
    "place": _text(100),
    "place_kind": _kind,
    "address": _text(300),
    "window_start": _moment,
    "window_end": _moment,
    "mode": _mode,
    "value_cents": lambda text, column: _whole(text, column, 0),
    "fragile": _flag,
    "signature_required": _flag,
    "cold_chain": _flag,
    "reference": _text(100),
    "description": _text(200),
    "quantity": lambda text, column: _whole(text, column, 1),
    "weight_g": lambda text, column: _whole(text, column, 0),
    "volume_ml": lambda text, column: _whole(text, column, 0),
    "parcels": lambda text, column: _whole(text, column, 0),
    "sku": _text(64),
}
