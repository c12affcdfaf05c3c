"""Where travel times come from when a depot's day is planned.

Two providers, one :class:`TravelTimes` protocol:

* :class:`StraightLineTravel` (the default): great-circle distance stretched by a detour
  factor (1.3 by default, ``LASTMILE_DETOUR_FACTOR``), at a fixed speed per profile
  (:data:`PROFILE_SPEEDS_KMH`). Needs nothing but coordinates; good enough to plan a city
  day, and what the tests use. It also gives the legs between a planned day's points and
  one new point (:meth:`StraightLineTravel.legs`, the :class:`routing.insertion.LegTravel`
  protocol), rounded exactly as its matrices, so a delivery option checked by insertion
  and the next full plan agree to the second.
* :class:`RoadGraphTravel`: fastest paths on a street graph
  (:func:`routing.network.network_matrix`), used when ``LASTMILE_ROAD_GRAPH`` names a
  GraphML file following :mod:`routing.network`'s convention.

Both draw a leg on a map the way they time it (:class:`TravelPaths`, :func:`paths_for`):
along the street path for a road graph (:func:`routing.network.path_coordinates`, the one
path rule, which the demo's map uses too), straight for straight lines (no ``path``).

Units: metres and seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Protocol

import networkx as nx
import numpy as np

from orchestrator.settings import Settings
from routing.errors import InvalidProblemError
from routing.geojson import PathFunction
from routing.insertion import Legs, LegTravel, StraightLineLegs
from routing.matrix import URBAN_DETOUR_FACTOR, straight_line_matrix
from routing.model import Location, TravelMatrix
from routing.network import network_matrix, path_coordinates

__all__ = [
    "PROFILE_SPEEDS_KMH",
    "RoadGraphTravel",
    "StraightLineTravel",
    "TravelPaths",
    "TravelTimes",
    "legs_for",
    "paths_for",
    "travel_from_settings",
]

PROFILE_SPEEDS_KMH: Mapping[str, float] = MappingProxyType({"car": 30.0, "bike": 15.0, "walk": 6.0})
"""Average speeds in km/h per profile, the same as :data:`routing.network.PROFILES`."""


class TravelTimes(Protocol):
    """Gives the travel matrix between points for a vehicle profile."""

    def matrix(self, locations: Sequence[Location], profile: str) -> TravelMatrix:
        """Distances (metres) and durations (seconds) between every pair of ``locations``."""
        ...


class TravelPaths(Protocol):
    """Draws a leg on a map the way its provider times it."""

    def path(self, profile: str, a: Location, b: Location) -> Sequence[tuple[float, float]]:
        """``(lat, lon)`` points in degrees from ``a`` to ``b``; ``[]`` for a straight line
        (a :data:`routing.geojson.PathFunction`)."""
        ...


_PATHS_CACHED = 8_192
"""Legs a :class:`RoadGraphTravel` keeps drawn (a plan of 2,000 stops has about 2,100)."""


@dataclass(frozen=True, slots=True)
class StraightLineTravel:
    """Straight lines times ``detour_factor``, at the profile's speed from ``speeds_kmh``."""

    detour_factor: float = URBAN_DETOUR_FACTOR
    speeds_kmh: Mapping[str, float] = field(default_factory=lambda: PROFILE_SPEEDS_KMH)

    def matrix(self, locations: Sequence[Location], profile: str) -> TravelMatrix:
        """Straight-line travel matrix; an unknown profile moves at car speed."""
        speed = self.speeds_kmh.get(profile, self.speeds_kmh.get("car", 30.0))
        return straight_line_matrix(locations, speed_kmh=speed, detour_factor=self.detour_factor)

    def legs(
        self, lats: np.ndarray, lons: np.ndarray, lat: float, lon: float, profile: str
    ) -> Legs:
        """Metres and seconds between the points and ``(lat, lon)``, as :meth:`matrix` has
        them (:class:`routing.insertion.LegTravel`)."""
        speeds = dict(self.speeds_kmh)
        speeds.setdefault("car", 30.0)
        return StraightLineLegs(speeds, self.detour_factor).legs(lats, lons, lat, lon, profile)


@dataclass(frozen=True, slots=True, eq=False)
class RoadGraphTravel:
    """Fastest paths on ``graph`` (see :mod:`routing.network` for its convention)."""

    graph: nx.Graph
    _search: Callable[[str, Location, Location], tuple[tuple[float, float], ...]] = field(
        init=False, repr=False
    )

    def __post_init__(self) -> None:
        graph = self.graph

        @lru_cache(maxsize=_PATHS_CACHED)
        def search(profile: str, a: Location, b: Location) -> tuple[tuple[float, float], ...]:
            return tuple(path_coordinates(graph, profile, a, b))

        object.__setattr__(self, "_search", search)  # frozen: set once, here

    @classmethod
    def from_graphml(cls, path: Path) -> RoadGraphTravel:
        """Load a street graph saved with :func:`networkx.write_graphml`."""
        return cls(nx.read_graphml(path))

    def matrix(self, locations: Sequence[Location], profile: str) -> TravelMatrix:
        """Road-network travel matrix for the profile (``"car"``, ``"bike"``, ``"walk"``)."""
        return network_matrix(self.graph, locations, profile)

    def path(self, profile: str, a: Location, b: Location) -> Sequence[tuple[float, float]]:
        """The fastest path from ``a`` to ``b`` for the profile as ``(lat, lon)`` points in
        degrees (:func:`routing.network.path_coordinates`, routed as :meth:`matrix` times
        it); the last :data:`_PATHS_CACHED` legs are kept, so a plan drawn twice costs one
        search per leg. An unknown profile, or a graph it cannot travel, draws straight
        (``[]``)."""
        try:
            return self._search(profile, a, b)
        except InvalidProblemError:
            return []


def travel_from_settings(settings: Settings | None = None) -> TravelTimes:
    """The provider the settings ask for: the road graph when configured, else straight lines."""
    settings = settings or Settings()
    if settings.road_graph is not None:
        return RoadGraphTravel.from_graphml(settings.road_graph)
    return StraightLineTravel(detour_factor=settings.detour_factor)


def paths_for(travel: TravelTimes) -> PathFunction | None:
    """How to draw the legs of routes planned on ``travel``: its :meth:`TravelPaths.path` when
    it has one (along the streets for a road graph), else ``None``: straight lines, as
    :class:`StraightLineTravel` travels."""
    path = getattr(travel, "path", None)
    return path if callable(path) else None


def legs_for(travel: TravelTimes) -> LegTravel:
    """The legs between a planned day's points and one new point that agree with ``travel``.

    :class:`StraightLineTravel` gives its own (rounded exactly as its matrices, so an option
    checked by insertion and the next full plan agree to the second); for a road graph the legs
    are straight lines at :data:`PROFILE_SPEEDS_KMH` with the default detour — an estimate for
    insertion checks: the next full plan uses the streets.
    """
    if isinstance(travel, StraightLineTravel):
        return travel
    return StraightLineLegs(PROFILE_SPEEDS_KMH, StraightLineTravel().detour_factor)
