"""What every city offers: a street graph, a centre and random addresses.

:class:`~simulation.cities.synthetic.SyntheticCity`, the Helsinki
:class:`~simulation.cities.helsinki.District` and a
:class:`~simulation.cities.graphml.GraphCity` read from a file are three; the demo day
(:func:`simulation.workload.demo_day`), the store seeding and the simulator's world take any of
them.
"""

from __future__ import annotations

from typing import Protocol

import networkx as nx
import numpy as np

from routing.model import Location

__all__ = ["City"]


class City(Protocol):
    """What :func:`~simulation.workload.demo_day` needs of a city: a street graph, a centre and
    random addresses.

    :class:`simulation.cities.synthetic.SyntheticCity` and
    :class:`simulation.cities.helsinki.District` are two.
    """

    @property
    def graph(self) -> nx.Graph:
        """Street graph following :mod:`routing.network`'s convention."""
        ...

    @property
    def center(self) -> tuple[float, float]:
        """``(lat, lon)`` of the centre, degrees."""
        ...

    def random_points(self, n: int, rng: np.random.Generator) -> list[Location]:
        """``n`` addresses drawn with ``rng`` (same state, same addresses)."""
        ...
