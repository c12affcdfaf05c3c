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
        and all(
            np.array_equal(a.matrices[k].distances, b.matrices[k].distances)
            and np.array_equal(a.matrices[k].durations, b.matrices[k].durations)
            for k in ("car", "bike")
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
    with pytest.raises(ValueError, match="use one of base, pairs, breaks"):
        generate(10, variant="holiday")
    with pytest.raises(ValueError, match="stops must be 1 or more"):
        generate(0)


def test_instance_names() -> None:
    assert instance_name(200, 0) == "product-200-s0"
    assert instance_name(200, 1, "pairs") == "product-pairs-200-s1"
