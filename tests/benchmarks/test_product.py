"""The product-shaped generator: deterministic, the documented shares, every stop servable."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import product
from benchmarks.product import generate, instance_name
from routing import Problem, StopKind
from routing.diagnose import diagnose


def same(a: Problem, b: Problem) -> bool:
    """Whether two problems have the same stops, fleet, places and matrices."""
    return (
        a.stops == b.stops
        and a.vehicles == b.vehicles
        and a.locations == b.locations
        and a.shipments == b.shipments
        and a.matrices.keys() == b.matrices.keys()
        and all(
            np.array_equal(a.matrices[k].distances, b.matrices[k].distances)
            and np.array_equal(a.matrices[k].durations, b.matrices[k].durations)
            for k in a.matrices
        )
    )


@pytest.mark.parametrize("variant", product.VARIANTS)
def test_the_same_seed_gives_the_same_problem(variant: str) -> None:
    assert same(generate(60, seed=3, variant=variant), generate(60, seed=3, variant=variant))
    assert not same(generate(60, seed=3, variant=variant), generate(60, seed=4, variant=variant))


def test_variants_share_the_base_stops() -> None:
    base = generate(80, seed=1)
    pairs = generate(80, seed=1, variant="pairs")
    breaks = generate(80, seed=1, variant="breaks")
    assert breaks.stops == base.stops
    assert pairs.stops[:80] == base.stops


@pytest.mark.parametrize("seed", [0, 1])
def test_documented_shares(seed: int) -> None:
    p = generate(1000, seed=seed)
    skilled = np.mean([bool(s.skills) for s in p.stops])
    two = np.mean([len(s.windows) == 2 for s in p.stops])
    assert abs(skilled - product.SKILL_SHARE) < 0.04
    assert abs(two - product.TWO_WINDOW_SHARE) < 0.04
    assert {k for s in p.stops for k in s.skills} == set(product.STOP_SKILLS)
    assert all(len(s.skills) <= 1 for s in p.stops)
    assert 80 <= len(p.vehicles) <= 90  # about 85 at 1000 stops


def test_stops_follow_the_constants() -> None:
    p = generate(400, seed=2)
    day_start, day_end = product.DAY_S
    for s in p.stops:
        assert product.SERVICE_S[0] <= s.service <= product.SERVICE_S[1]
        assert product.PARCELS[0] <= s.demand[0] <= product.PARCELS[1]
        assert s.kind is StopKind.DELIVERY and s.penalty is None
        assert all(day_start <= w.start and w.end <= day_end for w in s.windows)
        widths = {w.end - w.start for w in s.windows}
        if len(s.windows) == 2:
            assert widths == {product.TWO_WINDOW_WIDTH_S}
        else:
            (width,) = widths
            assert product.ONE_WINDOW_WIDTH_S[0] <= width <= product.ONE_WINDOW_WIDTH_S[1]
    assert [s.id for s in p.stops[:2]] == ["s0001", "s0002"]


def test_city_and_matrices() -> None:
    p = generate(200, seed=0)
    lats = np.array([loc.lat for loc in p.locations])
    lons = np.array([loc.lon for loc in p.locations])
    lat0, lon0 = product.CITY_CENTRE
    assert np.abs(lats - lat0).max() < 0.07  # 7.5 km is 0.067 degrees of latitude
    assert np.abs(lons - lon0).max() < 0.14  # and 0.135 degrees of longitude at 60 N
    car, bike = p.matrices["car"], p.matrices["bike"]
    assert car.distances.dtype == np.int64 and car.durations.dtype == np.int64
    assert np.array_equal(car.distances, bike.distances)
    # 25 km/h against 15 km/h, both on the same detoured distance.
    far = car.distances > 1_000
    ratio = bike.durations[far] / car.durations[far]
    assert np.allclose(ratio, 25 / 15, rtol=0.01)
    assert car.durations[0, 2] == pytest.approx(car.distances[0, 2] / (25 / 3.6), abs=1)


def test_fleet() -> None:
    p = generate(1000, seed=0)
    by_type = {vt.name: vt for vt in p.vehicle_types}
    assert by_type["van"].capacity[0] > by_type["e-van"].capacity[0] > by_type["bike"].capacity[0]
    assert by_type["bike"].profile == "bike" and by_type["van"].profile == "car"
    assert by_type["van"].cost_per_km > by_type["e-van"].cost_per_km > by_type["bike"].cost_per_km
    for name in ("van", "e-van", "bike"):
        mine = [v for v in p.vehicles if v.type == name]
        # every type works both shifts from both hubs
        assert {(v.shift.start, v.shift.end) for v in mine} == set(product.SHIFTS_S)
        assert {v.start for v in mine} == set(range(len(product.HUBS)))
        assert all(v.start == v.end for v in mine)
    assert p.vehicles[0].id == "van-01"


@pytest.mark.parametrize("variant", product.VARIANTS)
@pytest.mark.parametrize("stops", [20, 300])
def test_every_stop_is_servable_alone(variant: str, stops: int) -> None:
    for seed in (0, 1, 2):
        assert diagnose(generate(stops, seed=seed, variant=variant)).unserved == ()


def test_pairs_variant() -> None:
    p = generate(200, seed=0, variant="pairs")
    assert len(p.shipments) == round(product.PAIR_SHARE * 200) == 40
    assert len(p.stops) == 280
    store_locations = set()
    for pd in p.shipments:
        pickup, delivery = p.stop(pd.pickup), p.stop(pd.delivery)
        assert pickup.kind is StopKind.PICKUP and delivery.kind is StopKind.DELIVERY
        assert pickup.demand == delivery.demand
        assert delivery.windows[0].end - delivery.windows[0].start >= 10 * 3600
        store_locations.add(delivery.location)
    assert len(store_locations) <= product.STORE_COUNT
    assert p.stops[-1].id == "s0280"


def test_breaks_variant() -> None:
    p = generate(200, seed=0, variant="breaks")
    for v in p.vehicles:
        if v.type not in product.BREAK_TYPES:
            assert v.breaks == ()
            continue
        (b,) = v.breaks
        middle = (v.shift.start + v.shift.end) // 2
        assert b.duration == product.BREAK_S
        assert b.window.start <= middle <= b.window.end
        assert v.shift.start <= b.window.start and b.window.end + b.duration <= v.shift.end


def test_bad_arguments_say_what_to_fix() -> None:
    with pytest.raises(ValueError, match="use one of base, pairs, breaks, reloads"):
        generate(10, variant="holiday")
    with pytest.raises(ValueError, match="stops must be 1 or more"):
        generate(0)


def test_instance_names() -> None:
    assert instance_name(200, 0) == "product-200-s0"
    assert instance_name(200, 1, "pairs") == "product-pairs-200-s1"


def test_reloads_variant_keeps_the_base_day_and_its_vans() -> None:
    base = generate(200, seed=0)
    day = generate(200, seed=0, variant="reloads")
    assert day.stops == base.stops
    assert day.locations[:-1] == base.locations
    assert day.locations[-1].id == product.MICRO_HUB_NAME
    vans = [v for v in day.vehicles if v.type in ("van", "e-van")]
    assert vans == [v for v in base.vehicles if v.type in ("van", "e-van")]
    assert all(not v.reloads for v in vans)
    by_type = {vt.name: vt for vt in day.vehicle_types}
    assert by_type["van"] == product.VEHICLE_TYPES[0]
    assert by_type["e-van"] == product.VEHICLE_TYPES[1]
    assert product.fleet_size(200, "reloads") == {"van": 7, "e-van": 5, "bike": 5, "robot": 4}


def test_reloads_variant_bikes_and_robots_reload_at_the_micro_hub() -> None:
    p = generate(400, seed=1, variant="reloads")
    micro = len(p.locations) - 1
    by_type = {vt.name: vt for vt in p.vehicle_types}
    for name in ("bike", "robot"):
        mine = [v for v in p.vehicles if v.type == name]
        max_reloads, reload_time = product.RELOADS[name]
        assert mine and all(
            (v.start, v.end, v.reload_at, v.max_reloads, v.reload_time)
            == (micro, micro, (micro,), max_reloads, reload_time)
            for v in mine
        )
        assert {(v.shift.start, v.shift.end) for v in mine} == set(product.SHIFTS_S)
    assert 3 <= product.RELOADS["bike"][0] <= 4 and 300 <= product.RELOADS["bike"][1] <= 600
    # One trip cannot carry a vehicle's share of the day.
    share = sum(s.demand[0] for s in p.stops) / len(p.vehicles)
    assert by_type["bike"].capacity[0] == product.RELOAD_BIKE_CAPACITY < share
    assert by_type["robot"].capacity[0] < by_type["bike"].capacity[0]
    # Robots: the walking profile, cheap, a short range.
    robot = by_type["robot"]
    assert robot.profile == "walk" and robot.range_m is not None and robot.range_m <= 20_000
    assert robot.fixed_cost < by_type["bike"].fixed_cost
    assert robot.cost_per_hour < by_type["bike"].cost_per_hour
    far = p.matrices["car"].distances > 1_000
    ratio = p.matrices["walk"].durations[far] / p.matrices["car"].durations[far]
    assert np.allclose(ratio, 25 / product.RELOAD_SPEED_KMH["walk"], rtol=0.01)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_micro_hub_is_in_the_densest_part(seed: int) -> None:
    p = generate(400, seed=seed, variant="reloads")
    straight = p.matrices["car"].distances / product.DETOUR_FACTOR
    stop_locs = [s.location for s in p.stops]

    def near(loc: int) -> int:
        return int((straight[loc, stop_locs] <= product.MICRO_HUB_RADIUS_M + 1).sum())

    densest = max(near(loc) for loc in stop_locs)
    micro = len(p.locations) - 1
    assert near(micro) >= 0.75 * densest
    assert near(micro) > max(near(hub) for hub in range(len(product.HUBS)))
