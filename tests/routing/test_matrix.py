"""Tests of routing.matrix: haversine distances and straight-line travel matrices."""

from __future__ import annotations

import math

import numpy as np
import pytest
from geopy.distance import great_circle
from hypothesis import given, settings
from hypothesis import strategies as st

from routing.errors import InvalidProblemError
from routing.matrix import (
    EARTH_RADIUS_M,
    ceil_seconds,
    haversine_m,
    haversine_matrix,
    straight_line_matrix,
)
from routing.model import Location

latitudes = st.floats(min_value=-90.0, max_value=90.0, allow_nan=False)
longitudes = st.floats(min_value=-180.0, max_value=180.0, allow_nan=False)


def geopy_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle metres by geopy, on the same sphere as routing.matrix."""
    return great_circle((lat1, lon1), (lat2, lon2), radius=EARTH_RADIUS_M / 1000.0).meters


@pytest.fixture
def helsinki() -> list[Location]:
    """Five points around Helsinki centre, a few kilometres apart."""
    return [
        Location("station", 60.1710, 24.9414),
        Location("kamppi", 60.1690, 24.9320),
        Location("kallio", 60.1841, 24.9497),
        Location("suomenlinna", 60.1454, 24.9881),
        Location("station-again", 60.1710, 24.9414),
    ]


@settings(max_examples=300, deadline=None)
@given(lat1=latitudes, lon1=longitudes, lat2=latitudes, lon2=longitudes)
def test_haversine_matches_geopy(lat1: float, lon1: float, lat2: float, lon2: float) -> None:
    expected = geopy_m(lat1, lon1, lat2, lon2)
    assert float(haversine_m(lat1, lon1, lat2, lon2)) == pytest.approx(expected, rel=1e-6, abs=1e-6)


def test_haversine_matches_geopy_on_seeded_city_points() -> None:
    rng = np.random.default_rng(42)
    lat = rng.uniform(60.10, 60.25, size=(2, 200))
    lon = rng.uniform(24.80, 25.10, size=(2, 200))
    ours = haversine_m(lat[0], lon[0], lat[1], lon[1])
    theirs = [geopy_m(*p) for p in zip(lat[0], lon[0], lat[1], lon[1], strict=True)]
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_one_degree_of_latitude() -> None:
    assert float(haversine_m(0.0, 0.0, 1.0, 0.0)) == pytest.approx(
        EARTH_RADIUS_M * math.pi / 180.0, rel=1e-12
    )


def test_haversine_broadcasts() -> None:
    lats = np.array([60.0, 60.1, 60.2])
    out = haversine_m(lats[:, None], 24.9, lats[None, :], 25.0)
    assert out.shape == (3, 3)


def test_haversine_matrix_is_symmetric_with_zero_diagonal() -> None:
    rng = np.random.default_rng(7)
    lats, lons = rng.uniform(-80, 80, 50), rng.uniform(-180, 180, 50)
    m = haversine_matrix(lats, lons)
    assert m.shape == (50, 50)
    np.testing.assert_allclose(m, m.T, rtol=1e-12)
    assert (np.diag(m) == 0).all()
    assert (m[~np.eye(50, dtype=bool)] > 0).all()


def test_haversine_matrix_rejects_mismatched_lengths() -> None:
    with pytest.raises(InvalidProblemError, match="latitudes"):
        haversine_matrix([60.0, 61.0], [24.0])


def test_straight_line_matrix_values(helsinki: list[Location]) -> None:
    m = straight_line_matrix(helsinki, speed_kmh=36.0, detour_factor=1.3)
    lats = [p.lat for p in helsinki]
    lons = [p.lon for p in helsinki]
    metres = haversine_matrix(lats, lons) * 1.3
    assert m.distances.dtype == np.int64 and m.durations.dtype == np.int64
    np.testing.assert_array_equal(m.distances, np.rint(metres))
    np.testing.assert_array_equal(m.durations, np.ceil(metres / 10.0))  # 36 km/h = 10 m/s
    np.testing.assert_array_equal(m.distances, m.distances.T)
    assert (np.diag(m.durations) == 0).all()
    assert m.durations[0, 4] == 0  # two locations at one spot


def test_detour_factor_stretches_distance(helsinki: list[Location]) -> None:
    straight = straight_line_matrix(helsinki, speed_kmh=30.0)
    detoured = straight_line_matrix(helsinki, speed_kmh=30.0, detour_factor=2.0)
    assert (detoured.distances >= 2 * straight.distances - 1).all()
    assert (detoured.durations >= straight.durations).all()


def test_empty_locations_give_an_empty_matrix() -> None:
    assert straight_line_matrix([], speed_kmh=30.0).size == 0


@pytest.mark.parametrize(
    "speed",
    [
        0.0,  # standing still
        -15.0,  # negative
        math.nan,  # not a number
        math.inf,  # teleporting
    ],
)
def test_invalid_speed_is_rejected(helsinki: list[Location], speed: float) -> None:
    with pytest.raises(InvalidProblemError, match="speed_kmh"):
        straight_line_matrix(helsinki, speed_kmh=speed)


@pytest.mark.parametrize(
    "factor",
    [
        0.9,  # shorter than a straight line
        math.nan,  # not a number
    ],
)
def test_invalid_detour_factor_is_rejected(helsinki: list[Location], factor: float) -> None:
    with pytest.raises(InvalidProblemError, match="detour_factor"):
        straight_line_matrix(helsinki, speed_kmh=30.0, detour_factor=factor)


def test_ceil_seconds_forgives_float_noise() -> None:
    out = ceil_seconds(np.array([0.0, 10.0 + 1e-9, 10.2, 3599.9999]))
    np.testing.assert_array_equal(out, [0, 10, 11, 3600])
