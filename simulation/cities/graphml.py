"""A city read from a GraphML street graph: any network a scenario points at with a file.

Nodes carry ``lat``/``lon`` (or ``y``/``x``) and edges follow
:mod:`routing.network`'s convention; addresses are random graph nodes.

Units: coordinates in degrees.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import numpy as np

from routing.model import Location
from simulation.errors import ScenarioError

__all__ = ["GraphCity"]


@dataclass(frozen=True, slots=True, eq=False)
class GraphCity:
    """A street graph read from GraphML, with addresses at random graph nodes."""

    graph: nx.Graph
    center: tuple[float, float]

    @classmethod
    def read(cls, path: Path) -> GraphCity:
        """Read a GraphML street graph (nodes with ``lat``/``lon`` or ``y``/``x``)."""
        try:
            graph = nx.read_graphml(path)
        except (OSError, nx.NetworkXError, ValueError) as exc:
            raise ScenarioError("city.path", f"cannot read GraphML {path}: {exc}") from None
        lat, lon = _node_coords(graph)
        if lat.size == 0:
            raise ScenarioError("city.path", f"{path} has no nodes with coordinates")
        return cls(nx.freeze(graph), (float(lat.mean()), float(lon.mean())))

    def random_points(
        self, n: int, rng: np.random.Generator, *, prefix: str = "addr-"
    ) -> list[Location]:
        """``n`` random graph nodes as addresses."""
        lat, lon = _node_coords(self.graph)
        pick = rng.integers(0, lat.size, size=n)
        return [Location(f"{prefix}{k}", float(lat[i]), float(lon[i])) for k, i in enumerate(pick)]


def _node_coords(graph: nx.Graph) -> tuple[np.ndarray, np.ndarray]:
    lats, lons = [], []
    for _, data in graph.nodes(data=True):
        lat, lon = data.get("lat", data.get("y")), data.get("lon", data.get("x"))
        if lat is not None and lon is not None:
            lats.append(float(lat))
            lons.append(float(lon))
    return np.array(lats), np.array(lons)
