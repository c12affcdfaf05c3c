"""The returns back-test: a tiny world end to end, its JSON, determinism, the shelf rules."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np
import pytest

from benchmarks.returns import POLICIES, WorldConfig, _Shelf, build_world, main, run

TINY = [
    "--stores", "4", "--categories", "2", "--styles", "2", "--history-days", "42",
    "--return-days", "5", "--returns-per-day", "8", "--resamples", "200",
]  # fmt: skip
POLICY_KEYS = {
    "resale_rate_14d",
    "resale_rate_ci",
    "mean_days_to_resale",
    "net_recovery_per_item",
    "transfer_km",
    "co2_kg",
}


def tiny_config(seed: int = 0) -> WorldConfig:
    """The world of ``TINY``."""
    return WorldConfig(
        seed=seed,
        stores=4,
        categories=2,
        styles_per_category=2,
        history_days=42,
        return_days=5,
        returns_per_day=8,
    )


def test_tiny_run_prints_the_table_and_writes_well_formed_json(tmp_path: Path) -> None:
    out = io.StringIO()
    path = tmp_path / "returns.json"
    assert main([*TINY, "--json", str(path)], out=out) == 0
    text = out.getvalue()
    for name in (*POLICIES, "model_blind", "Brier", "model - origin", "model - top_sales"):
        assert name in text
    data = json.loads(path.read_text(encoding="utf-8"))
    assert set(data) == {"returns", "policies", "brier"}
    assert isinstance(data["returns"], int) and data["returns"] > 0
    assert set(data["policies"]) == set(POLICIES)
    for name, row in data["policies"].items():
        assert set(row) == POLICY_KEYS, name
        rate, (low, high) = row["resale_rate_14d"], row["resale_rate_ci"]
        assert 0.0 <= low <= rate <= high <= 1.0
        assert row["transfer_km"] >= 0 and row["co2_kg"] >= 0
        assert math.isfinite(row["net_recovery_per_item"])
        days = row["mean_days_to_resale"]
        assert days is None or 0 < days <= 14 + 3 + 1  # 14 days after a transit of up to 3
    assert 0.0 <= data["brier"] <= 1.0
    # the warehouse is ~100 km away, stores a few: going back to the origin costs the most km
    km = {name: row["transfer_km"] for name, row in data["policies"].items()}
    assert km["origin"] == max(km.values())


def test_same_seed_same_world_and_same_figures() -> None:
    a, b = build_world(tiny_config(3)), build_world(tiny_config(3))
    assert a.history == b.history
    assert a.returns == b.returns
    assert np.array_equal(a.stock, b.stock) and np.array_equal(a.record_error, b.record_error)
    assert run(tiny_config(3), 200).as_json() == run(tiny_config(3), 200).as_json()
    c = build_world(tiny_config(4))
    assert c.history.sales != a.history.sales and c.returns != a.returns


def test_the_world_is_what_the_docstring_says() -> None:
    world = build_world(WorldConfig())
    shops = world.history.destinations
    assert len(shops) == 12 + 2  # stores, the warehouse and the outlet keep a history
    stores = world.rate[:12]
    # the flagship sells most; every store's and the warehouse's units add up as documented
    assert stores.sum(axis=1).argmax() == 0
    assert world.rate[12].sum() == pytest.approx(600.0)
    # a store carries ~85 % of the SKUs; what it does not carry it never sold
    sold = {(s.destination, s.sku) for s in world.history.sales}
    share = len([k for k in sold if k[0].startswith("store-")]) / (12 * len(world.catalogue))
    assert 0.5 < share < 0.85
    grades = [r.item.condition.value for r in world.returns]
    assert 0.03 < grades.count("C") / len(grades) < 0.13
    assert all(0 <= r.time < 28 for r in world.returns)


def test_a_returned_unit_waits_behind_the_shelf_and_earlier_returns() -> None:
    customers = np.array([0.5, 1.5, 2.5, 3.5, 4.5])
    shelf = _Shelf(customers, level=2)
    assert shelf.add(1.0) == 3.5  # two units ahead: the 3rd customer after 1.0
    assert shelf.add(1.2) == 4.5  # and this one behind it
    assert shelf.stock(1.1) == 4  # 2 + one arrived + one on its way
    assert shelf.stock(2.0) == 3  # the 1.5 customer took a unit that is not replaced
    # 2.5 takes the last original unit, 3.5 the first returned one; then the shelf is below
    # its level and a replacement comes: the second returned unit and the replacement
    assert shelf.stock(4.0) == 2
    assert shelf.stock(5.0) == 2  # 4.5 took the second: two replacements, the level again


def test_a_variant_no_longer_stocked_sells_only_to_a_customer_after_the_unit() -> None:
    shelf = _Shelf(np.array([0.5, 2.0]), level=0)
    assert shelf.add(1.0) == 2.0
    assert shelf.add(1.5) == math.inf  # the only later customer is taken
    assert shelf.stock(1.7) == 2


@pytest.mark.parametrize(
    "args",
    [
        ["--stores", "1"],  # a comparison needs two stores
        ["--history-days", "20"],  # too short to calibrate on 14 days
        ["--resamples", "10"],
    ],
)
def test_usage_errors_exit_2(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(args, out=io.StringIO()) == 2
    assert "error:" in capsys.readouterr().err


@pytest.mark.slow
def test_the_default_world_meets_the_issue_targets() -> None:
    report = run(WorldConfig(), 2000)
    model = report.policies["model"]["resale_rate_14d"]
    assert model >= report.policies["origin"]["resale_rate_14d"] + 0.10
    assert model >= report.policies["top_sales"]["resale_rate_14d"] + 0.05
    assert report.leads["origin"][1] > 0 and report.leads["top_sales"][1] > 0
    assert report.brier < 0.25
