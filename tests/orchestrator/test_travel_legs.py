"""The straight-line provider's legs to a new point agree with its matrices to the metre and
the second, so an option checked by insertion and the next full plan see the same travel."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.planning.travel import StraightLineTravel
from routing.model import Location

lat = st.floats(60.10, 60.25)
lon = st.floats(24.80, 25.10)


@settings(max_examples=40, deadline=None)
@given(
    points=st.lists(st.tuples(lat, lon), min_size=1, max_size=8),
    new=st.tuples(lat, lon),
    profile=st.sampled_from(["car", "bike", "walk", "hover"]),  # hover: unknown, car speed
    detour=st.floats(1.0, 1.6),
)
def test_legs_agree_with_the_matrix(
    points: list[tuple[float, float]], new: tuple[float, float], profile: str, detour: float
) -> None:
    travel = StraightLineTravel(detour_factor=detour)
    locations = [Location(f"p{i}", a, b) for i, (a, b) in enumerate(points)]
    matrix = travel.matrix([*locations, Location("new", *new)], profile)
    legs = travel.legs(
        np.array([a for a, _ in points]), np.array([b for _, b in points]), *new, profile
    )
    n = len(points)
    assert list(legs.to_distance) == list(matrix.distances[:n, n])
    assert list(legs.to_duration) == list(matrix.durations[:n, n])
    assert list(legs.from_distance) == list(matrix.distances[n, :n])
    assert list(legs.from_duration) == list(matrix.durations[n, :n])
