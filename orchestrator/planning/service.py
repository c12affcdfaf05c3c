"""How long a stop takes: the one service-time rule of planning, options, returns and the twin.

A stop costs :data:`SERVICE_BASE_S` (park, walk to the door, ring), plus
:data:`SERVICE_PER_PARCEL_S` per parcel handed over or collected, plus
:data:`SERVICE_SIGNATURE_S` when someone must sign. Seconds throughout.
"""

from __future__ import annotations

__all__ = [
    "SERVICE_BASE_S",
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


def service_seconds(parcels: int, *, signature: bool = False) -> int:
    """Planned seconds at a stop handing over (or collecting) ``parcels`` parcels, with a
    signature when ``signature``."""
    return (
        SERVICE_BASE_S + SERVICE_PER_PARCEL_S * parcels + (SERVICE_SIGNATURE_S if signature else 0)
    )
