"""A synthetic city: a reproducible street graph to plan and simulate on without map data.

The what-if simulator, the demo and the tests need a road network with the features that make
last-mile routing interesting — fast arterials, one-way streets, pedestrian zones that only
bikes and robots may cross, missing links — but must not depend on downloading OpenStreetMap.
:func:`generate_city` builds such a network from a seed: a jittered grid of blocks around a
centre (Helsinki by default), following the graph convention of :mod:`routing.network`, so
:func:`routing.network.network_matrix` runs on it directly.

The street plan:

* every ``arterial_every``-th street (both directions of the grid, the outer ring included)
  is an arterial at :data:`ARTERIAL_KMH`; some have a bike lane, the others are closed to bikes;
* a few whole streets are collectors at :data:`COLLECTOR_KMH`, the rest residential at
  :data:`RESIDENTIAL_KMH`;
* a stretch of one street plus a few scattered blocks are pedestrian-only (walk and bike);
* a few residential streets are one-way for cars (bikes ride both ways, people walk both ways);
* a few residential blocks are missing altogether;

and every change is kept only if the car, bike and walk networks each stay strongly connected
over all intersections. Same seed ⇒ same graph, edge for edge.

Units: coordinates in degrees, lengths in metres, speeds in km/h.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import networkx as nx
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from routing.errors import InvalidProblemError
from routing.matrix import EARTH_RADIUS_M, haversine_m
from routing.model import Location

__all__ = [
    "ARTERIAL_KMH",
    "COLLECTOR_KMH",
    "HELSINKI",
    "RESIDENTIAL_KMH",
    "SyntheticCity",
    "generate_city",
]

ARTERIAL_KMH = 50.0
"""Car speed on arterials, km/h."""
COLLECTOR_KMH = 40.0
"""Car speed on collector streets, km/h."""
RESIDENTIAL_KMH = 30.0
"""Car speed on residential streets, km/h."""

HELSINKI = (60.1699, 24.9384)
"""Default city centre (Helsinki Central), degrees (lat, lon)."""

_JITTER = 0.12  # intersections move up to this fraction of a block, so blocks are not square
_MISSING_SHARE = 0.07  # residential blocks removed
_PEDESTRIAN_SHARE = 0.03  # scattered residential blocks closed to cars
_ARTERIAL_BIKE_LANE_P = 0.5  # chance an arterial has a bike lane


@dataclass(frozen=True, slots=True, eq=False)
class SyntheticCity:
    """A generated street network and how it was made.

    Parameters
    ----------
    graph
        Frozen :class:`networkx.DiGraph` following :mod:`routing.network`'s convention. Nodes
        are intersections ``row * (blocks + 1) + col`` with ``lat``, ``lon`` (degrees), ``row``
        and ``col``; each street block is a pair of opposite edges with ``length`` (metres),
        ``speed_kmh`` (car speed, km/h), flags ``car``, ``bike``, ``walk``, and descriptive
        ``highway``, ``name``, ``oneway`` and ``bike_lane``.
    seed
        Seed the city was generated from.
    blocks
        Number of blocks along each side of the grid.
    block_m
        Nominal block length in metres (before jitter).
    center
        ``(lat, lon)`` of the grid's centre, degrees.
    arterial_every
        Every this many-th street is an arterial.
    """

    graph: nx.DiGraph
    seed: int
    blocks: int
    block_m: float
    center: tuple[float, float]
    arterial_every: int

    def center_point(self, id: str = "center") -> Location:
        """The centre of the city as a :class:`~routing.model.Location` (a hub site, say)."""
        return Location(id, self.center[0], self.center[1])

    def random_points(
        self, n: int, rng: np.random.Generator, *, prefix: str = "addr-"
    ) -> list[Location]:
        """Random addresses on the street network.

        Each point lies on a street block picked with probability proportional to its length,
        at a uniform position along it (away from the intersections at both ends).

        Parameters
        ----------
        n
            Number of points.
        rng
            Source of randomness; the same generator state gives the same points.
        prefix
            Location ids are ``prefix`` followed by ``0 .. n-1``.

        Returns
        -------
        list of Location
            The points, coordinates in degrees.
        """
        if n < 0:
            raise InvalidProblemError(f"cannot draw {n} points — ask for 0 or more")
        u_lat: list[float] = []
        u_lon: list[float] = []
        v_lat: list[float] = []
        v_lon: list[float] = []
        length: list[float] = []
        nodes = self.graph.nodes
        for u, v, data in self.graph.edges(data=True):
            if u < v:  # each block once, whichever ways it may be travelled
                u_lat.append(nodes[u]["lat"])
                u_lon.append(nodes[u]["lon"])
                v_lat.append(nodes[v]["lat"])
                v_lon.append(nodes[v]["lon"])
                length.append(data["length"])
        weight = np.array(length)
        block = rng.choice(weight.size, size=n, p=weight / weight.sum())
        t = rng.uniform(0.05, 0.95, size=n)
        ua, uo = np.array(u_lat)[block], np.array(u_lon)[block]
        lat = ua + t * (np.array(v_lat)[block] - ua)
        lon = uo + t * (np.array(v_lon)[block] - uo)
        return [Location(f"{prefix}{k}", float(lat[k]), float(lon[k])) for k in range(n)]


def generate_city(
    seed: int = 0,
    *,
    blocks: int = 20,
    block_m: float = 150.0,
    center: tuple[float, float] = HELSINKI,
    arterial_every: int = 5,
) -> SyntheticCity:
    """Generate a synthetic city, the same one for the same arguments.

    Parameters
    ----------
    seed
        Seed of the random street plan.
    blocks
        Blocks along each side of the square grid (>= 2); there are ``(blocks + 1) ** 2``
        intersections.
    block_m
        Nominal block length in metres (> 0); intersections are jittered by up to 12 % of it.
    center
        ``(lat, lon)`` of the grid's centre, degrees.
    arterial_every
        Every this many-th street is an arterial (>= 2).

    Returns
    -------
    SyntheticCity
        The city, its graph frozen.
    """
    if blocks < 2:
        raise InvalidProblemError(f"blocks {blocks} must be at least 2")
    if not (math.isfinite(block_m) and block_m > 0):
        raise InvalidProblemError(f"block_m {block_m} must be a positive number of metres")
    if arterial_every < 2:
        raise InvalidProblemError(f"arterial_every {arterial_every} must be at least 2")
    origin = Location("center", float(center[0]), float(center[1]))
    rng = np.random.default_rng(seed)
    side = blocks + 1
    n_nodes = side * side

    # Intersections: a grid in metres east/north of the centre, jittered, then to degrees.
    row, col = np.divmod(np.arange(n_nodes), side)
    north = (row - blocks / 2) * block_m + rng.uniform(-_JITTER, _JITTER, n_nodes) * block_m
    east = (col - blocks / 2) * block_m + rng.uniform(-_JITTER, _JITTER, n_nodes) * block_m
    lat = origin.lat + np.degrees(north / EARTH_RADIUS_M)
    lon = origin.lon + np.degrees(east / (EARTH_RADIUS_M * math.cos(math.radians(origin.lat))))

    # Street blocks, a < b; "line" numbers east-west streets 0..blocks and north-south
    # streets blocks+1..2*blocks+1.
    a_list: list[int] = []
    b_list: list[int] = []
    line_list: list[int] = []
    for r in range(side):
        for c in range(blocks):
            a_list.append(r * side + c)
            b_list.append(r * side + c + 1)
            line_list.append(r)
    for c in range(side):
        for r in range(blocks):
            a_list.append(r * side + c)
            b_list.append((r + 1) * side + c)
            line_list.append(side + c)
    a = np.array(a_list)
    b = np.array(b_list)
    line = np.array(line_list)
    n_lines = 2 * side

    # Street classes, decided per whole street.
    arterial_line = (np.arange(n_lines) % side) % arterial_every == 0
    bike_lane_line = arterial_line & (rng.random(n_lines) < _ARTERIAL_BIKE_LANE_P)
    minor_lines = np.flatnonzero(~arterial_line)
    n_collectors = max(1, blocks // 10)
    collector_line = np.zeros(n_lines, dtype=bool)
    collector_line[rng.choice(minor_lines, size=n_collectors, replace=False)] = True
    arterial = arterial_line[line]
    collector = collector_line[line]
    residential = ~arterial & ~collector

    present = np.ones(a.size, dtype=bool)
    car_ab = np.ones(a.size, dtype=bool)  # cars may drive a -> b
    car_ba = np.ones(a.size, dtype=bool)  # cars may drive b -> a
    pedestrian = np.zeros(a.size, dtype=bool)
    # Where two arterials without bike lanes cross, the crossing is cut off for bikes: give
    # more arterials a lane until bikes reach every intersection.
    for extra in rng.permutation(np.flatnonzero(arterial_line & ~bike_lane_line)):
        lanes = ~arterial | bike_lane_line[line]
        if _strongly_connected(a, b, lanes, lanes, n_nodes):
            break
        bike_lane_line[extra] = True
    bike = ~arterial | bike_lane_line[line]

    def connected(*, cars_only: bool = False) -> bool:
        """Whether every mode (or just cars) still reaches every intersection both ways."""
        modes = [(present & car_ab, present & car_ba)]
        if not cars_only:
            modes += [(present & bike, present & bike), (present, present)]
        return all(_strongly_connected(a, b, ab, ba, n_nodes) for ab, ba in modes)

    # A pedestrian street: a stretch of one residential east-west street near the middle.
    quiet_rows = [r for r in range(1, blocks) if not (arterial_line[r] or collector_line[r])]
    if quiet_rows:
        stretch = max(2, blocks // 4)
        ped_row = int(rng.choice(quiet_rows))
        first_col = int(rng.integers(0, blocks - stretch + 1))
        zone = (line == ped_row) & (a % side >= first_col) & (a % side < first_col + stretch)
        car_ab[zone] = car_ba[zone] = False
        pedestrian[zone] = True
        if not connected(cars_only=True):
            car_ab[zone] = car_ba[zone] = True
            pedestrian[zone] = False

    # One-way residential streets for cars, each with a random direction.
    plain_lines = np.flatnonzero(~arterial_line & ~collector_line)
    one_way_lines = rng.choice(
        plain_lines, size=min(plain_lines.size, max(1, blocks // 5)), replace=False
    )
    for one_line in one_way_lines:
        blocks_on = (line == one_line) & residential & ~pedestrian
        direction = car_ba if rng.random() < 0.5 else car_ab
        direction[blocks_on] = False
        if not connected(cars_only=True):
            direction[blocks_on] = True

    # Scattered pedestrian blocks, then missing blocks, each kept only if nothing breaks.
    candidates = np.flatnonzero(residential & ~pedestrian & car_ab & car_ba)
    for i in rng.permutation(candidates)[: round(_PEDESTRIAN_SHARE * a.size)]:
        car_ab[i] = car_ba[i] = False
        pedestrian[i] = True
        if not connected(cars_only=True):
            car_ab[i] = car_ba[i] = True
            pedestrian[i] = False
    candidates = np.flatnonzero(residential & ~pedestrian)
    for i in rng.permutation(candidates)[: round(_MISSING_SHARE * a.size)]:
        present[i] = False
        if not connected():
            present[i] = True

    graph = nx.DiGraph(name=f"synthetic city seed={seed}", seed=seed, crs="EPSG:4326")
    for k in range(n_nodes):
        graph.add_node(k, lat=float(lat[k]), lon=float(lon[k]), row=int(row[k]), col=int(col[k]))
    length = haversine_m(lat[a], lon[a], lat[b], lon[b])
    for i in np.flatnonzero(present):
        if pedestrian[i]:
            highway = "pedestrian"
        elif arterial[i]:
            highway = "primary"
        elif collector[i]:
            highway = "tertiary"
        else:
            highway = "residential"
        speed = ARTERIAL_KMH if arterial[i] else COLLECTOR_KMH if collector[i] else RESIDENTIAL_KMH
        ln = int(line[i])
        common = {
            "length": float(length[i]),
            "speed_kmh": speed,
            "bike": bool(bike[i]),
            "walk": True,
            "highway": highway,
            "name": f"Avenue {ln}" if ln < side else f"Street {ln - side}",
            "oneway": bool(car_ab[i] != car_ba[i]),
            "bike_lane": bool(bike_lane_line[ln]),
        }
        u, v = int(a[i]), int(b[i])
        graph.add_edge(u, v, car=bool(car_ab[i]), **common)
        graph.add_edge(v, u, car=bool(car_ba[i]), **common)
    return SyntheticCity(
        graph=nx.freeze(graph),
        seed=seed,
        blocks=blocks,
        block_m=float(block_m),
        center=(origin.lat, origin.lon),
        arterial_every=arterial_every,
    )


def _strongly_connected(
    a: np.ndarray, b: np.ndarray, ab: np.ndarray, ba: np.ndarray, n: int
) -> bool:
    """Whether arcs ``a -> b`` where ``ab`` and ``b -> a`` where ``ba`` connect all ``n`` nodes."""
    src = np.concatenate((a[ab], b[ba]))
    dst = np.concatenate((b[ab], a[ba]))
    arcs = sp.csr_matrix((np.ones(src.size), (src, dst)), shape=(n, n))
    count, _ = connected_components(arcs, directed=True, connection="strong")
    return bool(count == 1)
