"""Seconds at a stop, as planning plans them.

The twin's vehicles and couriers serve each stop for these seconds (times a noise factor), and
the concierge estimates its options with them.
"""

from __future__ import annotations

__all__: list[str] = []  # the twin's own: imported by its modules, not by callers


def _service_s(demand: tuple[int, int, int]) -> int:
    """Planned seconds at a stop, as :mod:`orchestrator.planning.problem` plans it (no
    signature)."""
    from orchestrator.planning.problem import SERVICE_BASE_S, SERVICE_PER_PARCEL_S

    return SERVICE_BASE_S + SERVICE_PER_PARCEL_S * demand[2]
