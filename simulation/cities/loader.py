"""The city a scenario names, built or read once per process.

A scenario's ``[city]`` section (:class:`~simulation.scenario.CitySynthetic`,
:class:`~simulation.scenario.CityHelsinki` or :class:`~simulation.scenario.CityGraphML`)
becomes a :class:`~simulation.cities.city.City`; each is cached, so the replications and the
points of a sweep run in one process share one street graph.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from simulation.cities.city import City
from simulation.cities.graphml import GraphCity
from simulation.cities.helsinki import load_helsinki
from simulation.cities.synthetic import generate_city
from simulation.errors import ScenarioError
from simulation.scenario import CityGraphML, CityHelsinki, CitySynthetic, Scenario

__all__ = ["load_city"]


def load_city(scenario: Scenario) -> City:
    """The scenario's city (cached per process: the same spec gives the same object)."""
    spec = scenario.city
    if isinstance(spec, CitySynthetic):
        return _synthetic(spec.seed, spec.blocks, spec.block_m)
    if isinstance(spec, CityHelsinki):
        return _helsinki()
    assert isinstance(spec, CityGraphML)
    return _graphml(spec.path.resolve())


@lru_cache(maxsize=8)
def _synthetic(seed: int, blocks: int, block_m: float) -> City:
    return generate_city(seed, blocks=blocks, block_m=block_m)


@lru_cache(maxsize=1)
def _helsinki() -> City:
    try:
        return load_helsinki()  # reads OpenStreetMap: a few seconds
    except ModuleNotFoundError as exc:
        raise ScenarioError("city.kind", str(exc)) from None


@lru_cache(maxsize=4)
def _graphml(path: Path) -> City:
    return GraphCity.read(path)
