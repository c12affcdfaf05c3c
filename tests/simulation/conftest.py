"""Tiny scenarios for the simulator's tests: a few blocks, a few dozen orders, a few vehicles."""

from __future__ import annotations

from typing import Any

import pytest

from simulation.scenario import Scenario


def tiny_dict(**overrides: Any) -> dict[str, Any]:
    """A tiny scenario as a mapping: a 6-block city, 40 orders, one hub with four vehicles
    and four couriers; ``overrides`` replace top-level sections."""
    data: dict[str, Any] = {
        "name": "tiny",
        "city": {"kind": "synthetic", "seed": 3, "blocks": 6},
        "demand": {"orders_per_day": 40},
        "fleet": {
            "hubs": [
                {"name": "hub", "vehicles": {"van": 1, "cargo-bike": 1, "robot": 2}, "chargers": 1}
            ],
            "couriers": {"size": 4},
        },
        "policies": {"solver_iterations": 50},
        "replications": 1,
        "seed": 7,
    }
    data.update(overrides)
    return data


@pytest.fixture
def tiny() -> Scenario:
    """The tiny scenario, validated."""
    return Scenario.from_dict(tiny_dict())
