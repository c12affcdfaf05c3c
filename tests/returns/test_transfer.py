"""Transfer kilometres (geopy great circle × detour) and CO2, checked against a haversine."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from returns import InvalidReturnInput, Point, transfer_co2_kg, transfer_km

EARTH_KM = 6371.0088  # mean radius, as geopy's great_circle


def haversine_km(a: Point, b: Point) -> float:
    """Great-circle km, written out independently of geopy."""
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp, dl = p2 - p1, math.radians(b.lon - a.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_KM * math.asin(math.sqrt(h))


def test_a_tenth_of_a_degree_north_is_eleven_km_straight() -> None:
    a, b = Point(24.94, 60.17), Point(24.94, 60.27)
    assert transfer_km(a, b, detour_factor=1.0) == pytest.approx(11.1195, abs=1e-3)
    assert transfer_km(a, b) == pytest.approx(1.3 * 11.1195, abs=1e-3)


coords = st.builds(Point, st.floats(-179.9, 179.9), st.floats(-89.9, 89.9))


@given(a=coords, b=coords, detour=st.floats(1.0, 2.0))
def test_transfer_km_matches_a_haversine_and_is_symmetric(
    a: Point, b: Point, detour: float
) -> None:
    km = transfer_km(a, b, detour_factor=detour)
    assert km == pytest.approx(detour * haversine_km(a, b), rel=1e-6, abs=1e-6)
    assert km == pytest.approx(transfer_km(b, a, detour_factor=detour), rel=1e-9, abs=1e-9)


def test_co2_is_kilometres_times_the_factor() -> None:
    assert transfer_co2_kg(120.0) == pytest.approx(0.6)
    assert transfer_co2_kg(10.0, kg_per_item_km=0.2) == pytest.approx(2.0)


def test_bad_arguments_are_named() -> None:
    with pytest.raises(InvalidReturnInput) as info:
        transfer_km(Point(0, 0), Point(1, 1), detour_factor=0.9)
    assert info.value.field == ("detour_factor",)
    with pytest.raises(InvalidReturnInput) as info:
        transfer_co2_kg(-1.0)
    assert info.value.field == ("km",)
