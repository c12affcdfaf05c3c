"""Returns picked up on the way: scenario section, the returns engine's choices, pickups on
routes paired with their store drops, capacity with pickups on board, conservation, KPIs."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from simulation.errors import InvariantError, ScenarioError
from simulation.pickups import RETURN_FINAL, ReturnStatus
from simulation.plots import html_report
from simulation.report import csv_to_parquet, run, run_replication
from simulation.scenario import Scenario
from simulation.sweep import grid, sweep
from simulation.twin import Twin
from simulation.twin.vehicles import _check_load
from tests.simulation.conftest import tiny_dict


def returns_dict(**returns: Any) -> dict[str, Any]:
    """The tiny scenario over three days with vans and bikes only and returns on."""
    data = tiny_dict(days=3, returns={"share": 0.4, **returns})
    data["fleet"]["hubs"][0]["vehicles"] = {"van": 2, "cargo-bike": 2}
    return data


@pytest.fixture(scope="module")
def twin() -> Twin:
    """One replication of the tiny returns scenario, run."""
    return run_replication(Scenario.from_dict(returns_dict()), 0)


def test_every_return_ends_collected_or_unserved_with_a_reason(twin: Twin) -> None:
    assert twin.returns, "the scenario must produce returns to test anything"
    assert all(r.status in RETURN_FINAL for r in twin.returns)
    assert all(r.unserved_reason for r in twin.returns if r.status is ReturnStatus.UNSERVED)
    collected = [r for r in twin.returns if r.status is ReturnStatus.COLLECTED]
    assert collected, "some returns must be collected"
    assert all(r.collected_to in ("store", "hub") for r in collected)
    # Asked for on a later day than the delivery, in a two-hour window on its day.
    delivered = {o.spec.index: o for o in twin.orders}
    for r in twin.returns:
        assert r.day * 86_400 > (delivered[r.order].delivered_at or 0) // 86_400 * 86_400
        assert r.window[1] - r.window[0] == 7_200
        assert r.day * 86_400 <= r.window[0] < (r.day + 1) * 86_400


def test_a_pickup_and_its_drop_ride_the_same_vehicle(twin: Twin) -> None:
    collected = [r for r in twin.returns if r.status is ReturnStatus.COLLECTED]
    assert any(r.collected_to == "store" for r in collected)
    for r in collected:
        assert r.picked_by is not None and r.picked_by == r.dropped_by
        assert r.picked_at is not None and r.collected_at is not None
        assert r.picked_at <= r.collected_at
        # A store drop means the engine chose that store and the hub serves it.
        assert (r.collected_to == "store") == (r.store is not None)


def test_capacity_is_never_exceeded_with_pickups_on_board(twin: Twin) -> None:
    assert 0 < twin.max_load_share <= 1


def test_the_load_check_catches_an_overloaded_vehicle(twin: Twin) -> None:
    agent = twin.agents[0]
    over = [c + (i == 1) for i, c in enumerate(agent.vtype.capacity)]
    with pytest.raises(InvariantError, match="beyond"):
        _check_load(twin, agent, over)


def test_conservation_catches_a_return_left_open() -> None:
    t = run_replication(Scenario.from_dict(returns_dict()), 0)
    t.returns[0].status = ReturnStatus.ON_BOARD
    with pytest.raises(InvariantError, match="return 0"):
        t.check_conservation()


def test_pickups_are_never_given_to_robots() -> None:
    data = returns_dict()
    data["fleet"]["hubs"][0]["vehicles"] = {"van": 1, "robot": 3}
    t = run_replication(Scenario.from_dict(data), 0)
    robots = {a.index for a in t.agents if a.battery is not None}
    assert all(r.picked_by not in robots for r in t.returns)


def test_same_seed_same_report_bytes() -> None:
    scenario = Scenario.from_dict({**returns_dict(), "replications": 2, "days": 2})
    first, second = run(scenario), run(scenario)
    assert first.to_json() == second.to_json()
    assert first.to_csv() == second.to_csv()
    summary = json.loads(first.to_json())["summary"]
    assert 0 <= summary["returns_collected_share"]["mean"] <= 1
    assert summary["returns_asked"]["mean"] > 0


def test_returns_off_leaves_the_report_as_it_was(tiny: Scenario) -> None:
    short = tiny.with_changes({"days": 2})
    explicit = Scenario.from_dict({**short.model_dump(mode="json"), "returns": {"share": 0}})
    assert explicit.digest() == short.digest()
    assert "returns" not in short.canonical()
    text = run(short).to_json()
    assert text == run(explicit).to_json()
    assert "returns" not in text


def test_kpis_add_up(twin: Twin) -> None:
    from simulation.kpis import replication_kpis

    k = replication_kpis(twin).returns
    assert k is not None
    assert k.asked == len(twin.returns) == k.collected + k.unserved
    assert sum(n for _, n in k.unserved_reasons) == k.unserved
    assert 0 <= k.on_tour_share <= 1 and 0 <= k.to_store_share <= 1
    assert 0 < k.expected_resale_share <= 1
    assert k.added_km >= 0 and k.added_co2_g >= 0


def test_same_world_with_returns_on_or_off() -> None:
    on = Twin(Scenario.from_dict(returns_dict()), 0)
    off = Twin(Scenario.from_dict({**returns_dict(), "returns": {"share": 0}}), 0)
    assert [o.customer.places for o in on.world.orders] == [
        o.customer.places for o in off.world.orders
    ]
    assert on.world.stores and not off.world.stores


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"share": 1.5}, "returns.share", "less than or equal to 1"),  # a share above 1
        ({"delay_weights": [0, 0]}, "returns.delay_weights", "positive weight"),  # all zero
        ({"delay_weights": [1, -1]}, "returns.delay_weights", "negative"),  # negative weight
        ({"price_eur": [50, 10]}, "returns.price_eur", "low <= high"),  # swapped range
        ({"conditions": {"A": 0, "B": 0, "C": 0}}, "returns.conditions", "positive share"),
        ({"stores": -1}, "returns.stores", "greater than or equal to 0"),  # negative count
        ({"shar": 0.1}, "returns.shar", "unknown field"),  # a typo
    ],
)
def test_a_bad_returns_field_is_named(changes: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        Scenario.from_dict(returns_dict(**changes))
    assert caught.value.field == field
    assert words in str(caught.value)


def test_returns_are_an_axis_of_a_sweep(tiny: Scenario) -> None:
    changed = tiny.with_changes({"returns.share": 0.2})
    assert changed.returns.enabled and changed.digest() != tiny.digest()
    # One simulated day: every return is asked for after it, so none is planned.
    t = run_replication(changed, 0)
    assert t.market is not None and not t.returns and t.returns_beyond_horizon > 0


def test_every_collected_pickup_is_charged_on_its_own_route(twin: Twin) -> None:
    # A pickup on a trip without deliveries is a dedicated trip and adds metres of its own; one
    # on a delivery tour is marked so. Counted per route, not over the wave's routes so far.
    collected = [r for r in twin.returns if r.status is ReturnStatus.COLLECTED]
    assert any(not r.on_tour for r in collected) or any(r.on_tour for r in collected)
    for r in collected:
        assert r.on_tour or r.added_m > 0, f"return {r.index} rode a dedicated trip for free"


def test_a_sweep_turning_returns_on_writes_every_kpi_column(tmp_path: Path) -> None:
    # The returns KPIs exist only where returns are simulated: the first point has none.
    points = grid(Scenario.from_dict(returns_dict()), {"returns.share": [0, 0.4]})
    result = sweep(points, progress=False)
    header, off, on = list(csv.reader(io.StringIO(result.to_csv())))
    assert "returns_collected" in header
    column = header.index("returns_collected")
    assert off[column] == "" and float(on[column]) > 0
    csv_to_parquet(result.to_csv(), tmp_path / "report.parquet")
    html_report(result, title="returns on and off")
