"""Kilometres and CO2 of moving one returned item to a destination.

The engine prices CO2 but does not plan the trip: a transfer is a great-circle distance
(geopy) stretched by a detour factor for the road network, and each item-kilometre is charged
a share of the emissions of the vehicle that carries it.
"""

from __future__ import annotations

import math

from geopy.distance import great_circle

from returns.errors import InvalidReturnInput
from returns.model import Point

__all__ = ["DEFAULT_CO2_KG_PER_ITEM_KM", "DEFAULT_DETOUR_FACTOR", "transfer_co2_kg", "transfer_km"]

DEFAULT_DETOUR_FACTOR = 1.3
"""Road kilometres per great-circle kilometre, a common rule of thumb for urban and regional
trips."""
DEFAULT_CO2_KG_PER_ITEM_KM = 0.005
"""kg CO2 per item and road kilometre: a diesel van's ~180 g/km shared by the ~35 parcels or
returns it carries on a collection round."""


def transfer_km(
    origin: Point, destination: Point, *, detour_factor: float = DEFAULT_DETOUR_FACTOR
) -> float:
    """Road kilometres from ``origin`` to ``destination``.

    Parameters
    ----------
    origin, destination
        The two places (WGS84).
    detour_factor
        Road distance per great-circle distance (1 or more).
    """
    if not (math.isfinite(detour_factor) and detour_factor >= 1):
        raise InvalidReturnInput(
            "detour_factor", f"{detour_factor} — give road km per straight km, 1 or more"
        )
    km = great_circle((origin.lat, origin.lon), (destination.lat, destination.lon)).km
    return float(km) * detour_factor


def transfer_co2_kg(km: float, *, kg_per_item_km: float = DEFAULT_CO2_KG_PER_ITEM_KM) -> float:
    """kg CO2 of carrying one item ``km`` road kilometres."""
    if not (math.isfinite(km) and km >= 0):
        raise InvalidReturnInput("km", f"{km} — give a distance in km, 0 or more")
    return km * kg_per_item_km
