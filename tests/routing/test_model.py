"""Invalid input fails on construction with a message that names the culprit and the fix."""

from __future__ import annotations

import dataclasses
import types

import numpy as np
import pytest

import routing
from routing import (
    InvalidProblemError,
    Location,
    PickupDelivery,
    Problem,
    Stop,
    StopKind,
    TimeWindow,
    TravelMatrix,
    Vehicle,
    VehicleType,
)


def matrix(n: int) -> TravelMatrix:
    m = np.ones((n, n), dtype=int) - np.eye(n, dtype=int)
    return TravelMatrix(m * 100, m * 10)


def problem(**overrides: object) -> Problem:
    args: dict[str, object] = {
        "locations": (Location("depot", 60.0, 24.0), Location("a", 60.1, 24.1)),
        "matrices": {"car": matrix(2)},
        "stops": (Stop("s1", 1, demand=(1,)),),
        "vehicle_types": (VehicleType("van", capacity=(5,), skills=frozenset({"fragile"})),),
        "vehicles": (Vehicle("v1", "van", 0, 0),),
    }
    args.update(overrides)
    return Problem(**args)  # type: ignore[arg-type]


def test_valid_problem_builds_and_is_frozen() -> None:
    p = problem()
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.stops = ()  # type: ignore[misc]
    assert p.matrices["car"].distances.flags.writeable is False


@pytest.mark.parametrize(
    ("build", "match"),
    [
        # window end before start: names both times and says to swap them
        (lambda: TimeWindow(9 * 3600, 8 * 3600), "before it starts .* swap start and end"),
        # negative demand names the stop
        (lambda: Stop("s9", 1, demand=(1, -2)), "stop 's9'.*negative"),
        # NaN coordinate names the location
        (lambda: Location("x", float("nan"), 24.0), "location 'x': latitude nan"),
        # lon out of range
        (lambda: Location("y", 60.0, 200.0), "location 'y': longitude 200"),
        # overlapping windows
        (
            lambda: Stop("s2", 1, windows=(TimeWindow(0, 100), TimeWindow(50, 200))),
            "stop 's2'.*overlap",
        ),
        # negative service
        (lambda: Stop("s3", 1, service=-5), "stop 's3'.*negative"),
        # negative penalty
        (lambda: Stop("s4", 1, penalty=-1.0), "stop 's4'.*penalty"),
        # negative capacity
        (lambda: VehicleType("van", capacity=(-1,)), "vehicle type 'van'.*negative"),
        # NaN cost
        (lambda: VehicleType("van", cost_per_km=float("nan")), "cost_per_km"),
        # negative matrix entries
        (lambda: TravelMatrix(-np.ones((2, 2)), np.ones((2, 2))), "negative"),
        # non-square matrix
        (lambda: TravelMatrix(np.ones((2, 3)), np.ones((2, 3))), "square"),
    ],
)
def test_invalid_parts_raise_clear_errors(build, match) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidProblemError, match=match):
        build()


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        # unknown skill names the stop and lists the known skills
        (
            {"stops": (Stop("s1", 1, skills=frozenset({"frgile"})),)},
            "stop 's1'.*unknown skill.*frgile.*fragile",
        ),
        # stop location outside the locations
        ({"stops": (Stop("s1", 7),)}, "stop 's1': location index 7"),
        # duplicate stop id
        ({"stops": (Stop("s1", 1), Stop("s1", 1))}, "'s1' appears twice"),
        # demand longer than dimensions
        ({"stops": (Stop("s1", 1, demand=(1, 2)),)}, "more entries than the dimensions"),
        # vehicle with unknown type
        (
            {"vehicles": (Vehicle("v1", "truck", 0, 0),)},
            "vehicle 'v1': unknown vehicle type 'truck'",
        ),
        # vehicle type on a profile without matrix
        (
            {"vehicle_types": (VehicleType("van", profile="walk", skills=frozenset({"fragile"})),)},
            "no travel matrix for profile 'walk'",
        ),
        # matrix of the wrong size
        ({"matrices": {"car": matrix(3)}}, "covers 3 locations but the problem has 2"),
        # locked stop that does not exist
        ({"vehicles": (Vehicle("v1", "van", 0, 0, locked=("zz",)),)}, "locked stop 'zz'"),
        # shipment pickup with the wrong kind
        (
            {"shipments": (PickupDelivery("s1", "s2"),), "stops": (Stop("s1", 1), Stop("s2", 1))},
            "must have kind 'pickup'",
        ),
        # shipment with different demands
        (
            {
                "shipments": (PickupDelivery("p", "d"),),
                "stops": (
                    Stop("p", 1, kind=StopKind.PICKUP, demand=(1,)),
                    Stop("d", 1, kind=StopKind.DELIVERY, demand=(2,)),
                ),
            },
            "demands differ",
        ),
    ],
)
def test_invalid_problems_raise_clear_errors(overrides, match) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidProblemError, match=match):
        problem(**overrides)


def test_invalid_problem_error_is_a_value_error() -> None:
    assert issubclass(InvalidProblemError, ValueError)
    assert issubclass(InvalidProblemError, routing.RoutingError)


def test_windows_are_sorted() -> None:
    s = Stop("s", 0, windows=(TimeWindow(500, 600), TimeWindow(0, 100)))
    assert [w.start for w in s.windows] == [0, 500]


def test_public_names_are_exported() -> None:
    for name in routing.__all__:
        assert hasattr(routing, name), name
    public = {
        n
        for n in dir(routing)
        if not n.startswith("_") and not isinstance(getattr(routing, n), types.ModuleType)
    }
    assert public == set(routing.__all__)
