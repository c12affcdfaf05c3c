"""run() and its report: determinism, conservation, KPIs and confidence intervals."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

import simulation
from simulation import Scenario, run
from simulation.errors import InvariantError
from simulation.kpis import estimate, replication_kpis
from simulation.report import csv_to_parquet
from simulation.twin import Status, Twin


def test_same_seed_same_report_byte_for_byte(tiny: Scenario) -> None:
    scenario = tiny.with_changes({"replications": 2})
    first = run(scenario).to_json()
    assert run(scenario).to_json() == first
    assert run(scenario, seed=99).to_json() != first


def test_report_is_valid_json_and_csv(tiny: Scenario, tmp_path: Path) -> None:
    report = run(tiny)
    data = json.loads(report.to_json(performance=True))
    assert data["scenario_digest"] == tiny.digest()
    assert data["performance"]["events"] > 0
    rows = list(csv.DictReader(io.StringIO(report.to_csv())))
    assert {r["vehicle_type"] for r in rows} >= {"all", "van"}
    json_path, csv_path = report.write(tmp_path / "out")
    assert json.loads(json_path.read_text(encoding="utf-8")) == json.loads(report.to_json())
    assert csv_path.read_text(encoding="utf-8") == report.to_csv()


def test_kpis_add_up(tiny: Scenario) -> None:
    report = run(tiny.with_changes({"days": 2}))
    (r,) = report.replications
    assert r.delivered + r.failed + r.unserved == r.orders
    assert r.delivered == r.delivered_at_place + r.delivered_to_locker
    assert sum(t.delivered for t in r.per_type) == r.delivered_at_place
    assert sum(count for _, count in r.unserved_reasons) == r.unserved
    assert 0 <= r.on_time_share <= 1 and 0 <= r.first_attempt_success <= 1
    assert r.cost_eur == pytest.approx(sum(t.cost_eur for t in r.per_type), rel=1e-6)
    assert r.co2_g == pytest.approx(sum(t.co2_g for t in r.per_type), rel=1e-6)
    assert r.robot_min_charge_m >= 0
    assert r.events > 0 and r.plans > 0


def test_a_lost_order_is_caught(tiny: Scenario) -> None:
    twin = Twin(tiny)
    twin.run()
    twin.orders.pop()
    with pytest.raises(InvariantError, match="tracked"):
        replication_kpis(twin)


def test_an_order_left_open_is_caught(tiny: Scenario) -> None:
    twin = Twin(tiny)
    twin.run()
    twin.orders[0].status = Status.WAITING
    with pytest.raises(InvariantError):
        twin.check_conservation()


@given(st.lists(st.floats(-1e3, 1e3), min_size=2, max_size=30))
def test_estimate_is_the_student_t_interval(values: list[float]) -> None:
    e = estimate(values)
    x = np.array(values)
    assert e.n == len(values)
    assert e.mean == pytest.approx(x.mean(), abs=1e-5)
    if x.std() > 1e-9:
        low, high = stats.t.interval(0.95, x.size - 1, loc=x.mean(), scale=stats.sem(x))
        assert (e.low, e.high) == (pytest.approx(low, abs=1e-5), pytest.approx(high, abs=1e-5))
    assert e.low <= e.mean <= e.high


def test_estimate_of_one_value_has_no_interval() -> None:
    e = estimate([3.0])
    assert e.mean == 3.0 and math.isnan(e.low) and math.isnan(e.high)
    assert estimate([math.nan]).n == 0


def test_public_names_are_exported() -> None:
    for name in simulation.__all__:
        assert hasattr(simulation, name), name
    assert simulation.__all__ == sorted(simulation.__all__)


def test_parquet_holds_the_csv_table_typed(tiny: Scenario, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    report = run(tiny.with_changes({"replications": 2}))
    path = csv_to_parquet(report.to_csv(), tmp_path / "report.parquet")
    table = pq.read_table(path)
    rows = list(csv.DictReader(io.StringIO(report.to_csv())))
    assert table.num_rows == len(rows) and table.column_names == list(rows[0])
    assert table.column("replication").to_pylist() == [int(r["replication"]) for r in rows]
    assert table.column("cost_per_parcel").to_pylist() == [
        float(r["cost_per_parcel"]) if r["cost_per_parcel"] else None for r in rows
    ]
    again = csv_to_parquet(report.to_csv(), tmp_path / "again.parquet")
    assert again.read_bytes() == path.read_bytes()  # same table, same bytes
