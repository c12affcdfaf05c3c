"""How long a stop takes: the one service-time rule of planning, options, returns and the twin.

A stop costs :data:`SERVICE_BASE_S` (park, walk to the door, ring), plus
:data:`SERVICE_PER_PARCEL_S` per parcel handed over or collected, plus
:data:`SERVICE_SIGNATURE_S` when someone must sign, plus :data:`SERVICE_HEAVY_S` when the
heaviest load exceeds :data:`HEAVY_G` (carried with a trolley). Seconds throughout.
"""

from __future__ import annotations

__all__ = [
    "HEAVY_G",
    "SERVICE_BASE_S",
    "SERVICE_HEAVY_S",
    "SERVICE_PER_PARCEL_S",
    "SERVICE_SIGNATURE_S",
    "service_seconds",
]

SERVICE_BASE_S = 90
"""Seconds at every stop: park, walk to the door, ring."""
SERVICE_PER_PARCEL_S = 30
"""Extra seconds per parcel handed over."""
SERVICE_SIGNATURE_S = 60
"""Extra seconds when a signature is required."""
SERVICE_HEAVY_S = 60
"""Extra seconds when the stop's load is over :data:`HEAVY_G` (a trolley)."""
HEAVY_G = 25_000
"""Grams above which a stop's load is heavy."""


def service_seconds(parcels: int, *, signature: bool = False, weight_g: int = 0) -> int:
    """Planned seconds at a stop handing over (or collecting) ``parcels`` parcels weighing
    ``weight_g`` grams in all, with a signature when ``signature``."""
    return (
        SERVICE_BASE_S
        + SERVICE_PER_PARCEL_S * parcels
        + (SERVICE_SIGNATURE_S if signature else 0)
        + (SERVICE_HEAVY_S if weight_g > HEAVY_G else 0)
    )
