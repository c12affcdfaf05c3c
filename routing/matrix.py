"""Straight-line travel matrices: great-circle distance at a constant speed.

This is the travel-time provider that needs no road network: tests, quick what-ifs, and the
fallback when a city has no graph. Distances are great-circle (haversine, spherical Earth of
mean radius :data:`EARTH_RADIUS_M`), optionally stretched by a *detour factor* because roads
are never straight (1.3 is a common urban value). For road-network travel see
:mod:`routing.network`.

Units: coordinates in WGS84 degrees, distances in metres, durations in seconds.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from routing.errors import InvalidProblemError
from routing.model import Location, TravelMatrix

__all__ = [
    "EARTH_RADIUS_M",
    "URBAN_DETOUR_FACTOR",
    "ceil_seconds",
    "haversine_m",
    "haversine_matrix",
    "straight_line_matrix",
]

EARTH_RADIUS_M = 6_371_008.8
"""Mean Earth radius in metres (IUGG), the sphere all straight-line distances use."""

URBAN_DETOUR_FACTOR = 1.3
"""Road distance over straight-line distance in a city, a common urban value: the default of
every straight-line estimate in lastmile (planning, options, VROOM input, the simulator)."""

# Float sums such as 100 m / (36 km/h / 3.6) land a hair above the whole second; rounding up
# must not turn an exact 10 s into 11 s.
_CEIL_TOLERANCE_S = 1e-6


def haversine_m(
    lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike
) -> NDArray[np.float64]:
    """Great-circle distance between points, vectorised with numpy broadcasting.

    Parameters
    ----------
    lat1, lon1
        Latitude and longitude of the first point(s), degrees.
    lat2, lon2
        Latitude and longitude of the second point(s), degrees. All four arguments are
        broadcast against each other, so ``haversine_m(lats[:, None], lons[:, None], lats,
        lons)`` gives an all-pairs matrix.

    Returns
    -------
    numpy.ndarray
        Distances in metres (float64), of the broadcast shape.
    """
    phi1 = np.radians(np.asarray(lat1, dtype=np.float64))
    phi2 = np.radians(np.asarray(lat2, dtype=np.float64))
    dphi = phi2 - phi1
    dlam = np.radians(np.asarray(lon2, dtype=np.float64) - np.asarray(lon1, dtype=np.float64))
    a: NDArray[np.float64] = (
        np.sin(dphi / 2.0) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(dlam / 2.0) ** 2
    )
    a = np.clip(a, 0.0, 1.0)
    # atan2 rather than arcsin keeps full precision for nearly antipodal points.
    return 2.0 * EARTH_RADIUS_M * np.arctan2(np.sqrt(a), np.sqrt(1.0 - a))


def haversine_matrix(lats: ArrayLike, lons: ArrayLike) -> NDArray[np.float64]:
    """All-pairs great-circle distances.

    Parameters
    ----------
    lats, lons
        Latitudes and longitudes of ``n`` points, degrees (1-D, same length).

    Returns
    -------
    numpy.ndarray
        ``(n, n)`` float64 matrix of distances in metres; symmetric with a zero diagonal.
    """
    la = np.asarray(lats, dtype=np.float64).reshape(-1)
    lo = np.asarray(lons, dtype=np.float64).reshape(-1)
    if la.shape != lo.shape:
        raise InvalidProblemError(
            f"got {la.size} latitudes but {lo.size} longitudes — give one of each per point"
        )
    return haversine_m(la[:, None], lo[:, None], la[None, :], lo[None, :])


def straight_line_matrix(
    locations: Sequence[Location], *, speed_kmh: float, detour_factor: float = 1.0
) -> TravelMatrix:
    """Travel matrix along straight lines at a constant speed.

    Parameters
    ----------
    locations
        The points, in the order of :attr:`routing.Problem.locations`.
    speed_kmh
        Average travel speed in km/h (> 0).
    detour_factor
        Multiplier (>= 1) from great-circle distance to travelled distance, to account for
        roads not being straight lines.

    Returns
    -------
    TravelMatrix
        ``distances`` in whole metres (rounded to nearest) and ``durations`` in whole seconds
        (the unrounded distance divided by the speed, rounded up).

    Raises
    ------
    InvalidProblemError
        If the speed is not a positive number or the detour factor is below 1.
    """
    if not (np.isfinite(speed_kmh) and speed_kmh > 0):
        raise InvalidProblemError(
            f"speed_kmh {speed_kmh} must be a positive number of km/h (e.g. 30 for a van in "
            "town, 15 for a cargo bike)"
        )
    if not (np.isfinite(detour_factor) and detour_factor >= 1.0):
        raise InvalidProblemError(
            f"detour_factor {detour_factor} must be a number >= 1 (1 for straight lines, about "
            "1.3 for city streets)"
        )
    lats = np.array([loc.lat for loc in locations], dtype=np.float64)
    lons = np.array([loc.lon for loc in locations], dtype=np.float64)
    metres = haversine_matrix(lats, lons) * detour_factor
    return TravelMatrix(
        distances=np.rint(metres).astype(np.int64),
        durations=ceil_seconds(metres / (speed_kmh / 3.6)),
    )


def ceil_seconds(seconds: np.ndarray) -> np.ndarray:
    """Round float seconds up to whole seconds, forgiving float noise of a microsecond.

    Parameters
    ----------
    seconds
        Durations in seconds (float, >= 0).

    Returns
    -------
    numpy.ndarray
        Whole seconds as int64, never negative.
    """
    return np.maximum(np.ceil(np.asarray(seconds) - _CEIL_TOLERANCE_S), 0).astype(np.int64)
