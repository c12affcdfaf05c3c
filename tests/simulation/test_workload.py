"""Tests of simulation.workload: the fleet catalogue and the seeded demo day."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from routing import InvalidProblemError, Problem, VehicleKind
from routing.matrix import haversine_m
from simulation.cities.synthetic import SyntheticCity, generate_city
from simulation.workload import (
    DEFAULT_FLEET,
    DIMENSIONS,
    FLEET_CATALOGUE,
    SLOTS,
    demo_day,
    street_paths,
)

H = 3600


@pytest.fixture(scope="module")
def city() -> SyntheticCity:
    """The default synthetic city, seed 0."""
    return generate_city(0)


@pytest.fixture(scope="module")
def day(city: SyntheticCity) -> Problem:
    """The default 200-order day, seed 0."""
    return demo_day(city, seed=0)


def snapshot(p: Problem) -> tuple[object, ...]:
    """Everything in a problem, the matrices as lists."""
    return (
        p.locations,
        p.stops,
        p.vehicle_types,
        p.vehicles,
        p.dimensions,
        {k: (m.distances.tolist(), m.durations.tolist()) for k, m in p.matrices.items()},
    )


def test_same_seed_same_problem(city: SyntheticCity, day: Problem) -> None:
    assert snapshot(demo_day(city, seed=0)) == snapshot(day)


def test_other_seed_other_problem(city: SyntheticCity, day: Problem) -> None:
    other = demo_day(city, seed=1)
    assert other.stops != day.stops
    assert other.locations != day.locations


def test_every_stop_servable_by_some_vehicle_type_in_principle(day: Problem) -> None:
    for stop in day.stops:
        assert any(
            stop.skills <= vt.skills
            and all(d <= c for d, c in zip(day.demand(stop), day.capacity(vt), strict=True))
            for vt in day.vehicle_types
        ), stop


def test_shape_of_the_day(day: Problem) -> None:
    assert len(day.stops) == 200
    assert day.dimensions == DIMENSIONS == ("weight_g", "volume_l", "parcels")
    assert day.locations[0].id == "depot"
    assert [s.location for s in day.stops] == list(range(1, 201))
    assert Counter(v.type for v in day.vehicles) == DEFAULT_FLEET
    assert set(day.matrices) == {"car", "bike", "walk"}
    assert all(m.size == 201 for m in day.matrices.values())


def test_windows_are_slots_between_8_and_20(day: Problem) -> None:
    counts = Counter(len(s.windows) for s in day.stops)
    assert set(counts) == {0, 1, 2}  # any time, one window, "morning or evening"
    assert counts[2] >= 10
    for s in day.stops:
        for w in s.windows:
            assert 8 * H <= w.start < w.end <= 20 * H
        if len(s.windows) == 2:
            assert set(s.windows) <= set(SLOTS)
            assert s.windows[0].end <= 12 * H and s.windows[1].start >= 16 * H


def test_optional_and_skilled_stops(day: Problem) -> None:
    optional = [s for s in day.stops if s.optional]
    assert 2 <= len(optional) <= 25
    assert all(s.penalty is not None and s.penalty > 0 for s in optional)
    skills = Counter(k for s in day.stops for k in s.skills)
    assert set(skills) == {"cold", "fragile", "signature"}


def test_parcel_mix_has_robot_sized_and_big_parcels(day: Problem) -> None:
    def fits(vehicle_type: str, stop_demand: tuple[int, ...]) -> bool:
        cap = day.capacity(day.vehicle_type(vehicle_type))
        return all(d <= c for d, c in zip(stop_demand, cap, strict=True))

    demands = [day.demand(s) for s in day.stops if not s.skills]
    assert sum(fits("robot", d) for d in demands) >= 50
    assert sum(not fits("robot", d) and not fits("courier", d) for d in demands) >= 10
    assert all(s.service > 0 for s in day.stops)


def test_fleet_shifts_breaks_and_open_routes(day: Problem) -> None:
    for v in day.vehicles:
        kind = day.vehicle_type(v.type).kind
        assert v.start == 0
        assert (v.end is None) == (kind is VehicleKind.COURIER)
        if kind in (VehicleKind.VAN, VehicleKind.E_VAN):
            (brk,) = v.breaks
            assert brk.duration == 30 * 60
            assert v.shift.start < brk.window.start < brk.window.end < v.shift.end
        else:
            assert v.breaks == ()
    # Someone works the evening slots.
    assert max(v.shift.end for v in day.vehicles) >= 20 * H


def test_catalogue_units_and_skills() -> None:
    by_name = {vt.name: vt for vt in FLEET_CATALOGUE}
    assert by_name["van"].capacity[0] >= 500_000  # grams, not kilograms
    assert by_name["robot"].profile == "walk" and by_name["robot"].range_m is not None
    assert by_name["robot"].skills == frozenset()
    assert by_name["cargo-bike"].profile == "bike"
    assert [vt.name for vt in FLEET_CATALOGUE if "cold" in vt.skills] == ["van-cold"]
    assert by_name["e-van"].co2_g_per_km < by_name["van"].co2_g_per_km


def test_depot_is_near_the_centre(city: SyntheticCity, day: Problem) -> None:
    depot = day.locations[0]
    assert float(haversine_m(depot.lat, depot.lon, *city.center)) < 600


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_orders": 0}, "n_orders 0"),  # nothing to deliver
        ({"fleet": {"hovercraft": 1}}, "hovercraft"),  # unknown type
        ({"fleet": {"van": 0}}, "1 at least"),  # no vehicle at all
    ],
)
def test_bad_arguments(city: SyntheticCity, kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(InvalidProblemError, match=match):
        demo_day(city, **kwargs)  # type: ignore[arg-type]


def test_smaller_fleet_without_cold_van_drops_cold_orders(city: SyntheticCity) -> None:
    day = demo_day(city, seed=3, n_orders=50, fleet={"van": 2, "robot": 1})
    assert {vt.name for vt in day.vehicle_types} == {"van", "robot"}
    assert set(day.matrices) == {"car", "walk"}
    assert not any("cold" in s.skills for s in day.stops)


def test_street_paths_follow_the_streets(city: SyntheticCity, day: Problem) -> None:
    paths = street_paths(city.graph)
    a, b = day.locations[0], day.locations[1]
    leg = paths("car", a, b)
    assert leg[0] == (a.lat, a.lon) and leg[-1] == (b.lat, b.lon)
    assert len(leg) >= 3  # at least one intersection between two addresses
    assert paths("car", a, b) == leg  # cached, same answer
    lats, lons = np.array(leg).T
    assert np.all(np.abs(lats - a.lat) < 0.05) and np.all(np.abs(lons - a.lon) < 0.1)
