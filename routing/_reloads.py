"""Reloads inside the plain routes that pass between the seed, the repair and OR-Tools.

A plain route is a list of ints: a stop is its index in :attr:`~routing.model.Problem.stops`
(>= 0); a return to reload at location ``L`` is ``-(L + 1)`` (< 0), so stops and reloads keep
their order in one list.
"""

from __future__ import annotations

__all__ = ["location_of", "marker"]


def marker(location: int) -> int:
    """The entry for a reload at this location index."""
    return -(location + 1)


def location_of(entry: int) -> int | None:
    """The location of a reload entry, or None for a stop."""
    return -entry - 1 if entry < 0 else None
