"""The routing benchmark: instance readers, the CLI's table, CSV and JSON, custom folders."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import pyvrp

from benchmarks.instances import (
    CVRP_HORIZON,
    DEFAULT_DATA_DIR,
    Bks,
    Instance,
    Kind,
    cvrp_fleet,
    find_instances,
    read_instance,
    read_suite,
    to_problem,
)
from benchmarks.routing import CSV_COLUMNS, main, pyvrp_data

ROW_KEYS = {*CSV_COLUMNS, "feasible", "violations"}
SUMMARY_KEYS = {"suite", "time_limit", "mean_gap_pct", "max_gap_pct", "infeasible", "rows"}


@pytest.fixture
def shared() -> Path:
    """The shared benchmark folder; the test is skipped where it is absent."""
    if not DEFAULT_DATA_DIR.is_dir():
        pytest.skip(f"shared benchmark data absent ({DEFAULT_DATA_DIR})")
    return DEFAULT_DATA_DIR


def same_data(a: Instance, b: Instance) -> None:
    """Assert two instances hold the same integers, fleet and BKS."""
    for field in ("matrix", "demand", "ready", "due", "service"):
        assert np.array_equal(getattr(a, field), getattr(b, field)), field
    assert (a.name, a.kind, a.capacity, a.fleet, a.bks) == (
        b.name,
        b.kind,
        b.capacity,
        b.fleet,
        b.bks,
    )


# -- readers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("suite", "name"),
    [
        ("solomon", "C101"),  # clustered, the txt file has CRLF endings
        ("solomon", "RC208"),  # wide windows
        ("homberger", "C1_2_1"),  # 200 customers, lower-case name line in the txt file
    ],
)
def test_txt_and_vrp_twins_read_the_same(shared: Path, suite: str, name: str) -> None:
    (txt,) = read_suite(shared, suite, [name], fmt="txt")
    (vrp,) = read_suite(shared, suite, [name], fmt="vrplib")
    assert (txt.path.suffix, vrp.path.suffix) == (".txt", ".vrp")
    same_data(txt, vrp)


def test_solomon_reader_applies_the_dimacs_convention(shared: Path) -> None:
    (inst,) = read_suite(shared, "solomon", ["C101"], fmt="txt")
    assert inst.kind is Kind.VRPTW
    assert (inst.customers, inst.fleet, inst.capacity) == (100, 25, 200)
    # Depot (40, 50) to customer 1 (45, 68): 18.68... -> 186; C101 row 1: 912 967 90.
    assert inst.matrix[0, 1] == 186
    assert (inst.ready[1], inst.due[1], inst.service[1]) == (9120, 9670, 900)
    assert (inst.ready[0], inst.due[0], inst.service[0]) == (0, 12360, 0)
    # The distance-only DIMACS BKS, not the hierarchical 828.94.
    assert inst.bks is not None and inst.bks.distance == 827.3


def test_reader_matrix_equals_pyvrp_read(shared: Path) -> None:
    for suite, name, rounding in [("solomon", "R101", "dimacs"), ("x", "X-n101-k25", "round")]:
        (inst,) = read_suite(shared, suite, [name])
        data = pyvrp.read(inst.path, round_func=rounding)
        assert np.array_equal(data.distance_matrix(0), inst.matrix), name


def test_x_instance_is_a_cvrp_with_a_loose_fleet(shared: Path) -> None:
    (inst,) = read_suite(shared, "x", ["X-n101-k25"])
    assert inst.kind is Kind.CVRP
    assert (inst.customers, inst.capacity, inst.fleet) == (100, 206, 32)
    assert inst.bks is not None and inst.bks.distance == 27591
    problem = to_problem(inst)
    assert problem.stops[0].windows == ()
    assert problem.vehicles[0].shift.end == CVRP_HORIZON


@pytest.mark.parametrize(
    ("name", "fleet"),
    [
        ("X-n101-k25", 32),  # 25 + ceil(6.25)
        ("X-n153-k22", 28),  # 22 + ceil(5.5)
        ("X-n251-k28", 35),  # 28 + 7
        ("X-n303-k8", 11),  # 8 + max(3, 2)
    ],
)
def test_cvrp_fleet_follows_the_baseline_rule(name: str, fleet: int) -> None:
    assert cvrp_fleet(name, np.array([0, 1]), 10) == fleet


def test_to_problem_is_a_distance_only_problem(shared: Path) -> None:
    (inst,) = read_suite(shared, "solomon", ["R101"])
    problem = to_problem(inst)
    assert len(problem.stops) == 100 and len(problem.vehicles) == 25
    (vtype,) = problem.vehicle_types
    assert (vtype.cost_per_km, vtype.fixed_cost, vtype.cost_per_hour) == (0.1, 0.0, 0.0)
    assert vtype.capacity == (200,)
    assert np.array_equal(problem.matrices["car"].distances, inst.matrix)
    assert np.array_equal(problem.matrices["car"].durations, inst.matrix)
    stop = problem.stop("1")
    assert (stop.location, stop.service, stop.penalty) == (1, 100, None)
    assert (stop.windows[0].start, stop.windows[0].end) == (inst.ready[1], inst.due[1])
    assert problem.vehicles[0].shift.end == inst.due[0]


def test_pyvrp_gets_the_same_data_from_txt_and_vrp(shared: Path) -> None:
    (txt,) = read_suite(shared, "solomon", ["RC208"], fmt="txt")
    (vrp,) = read_suite(shared, "solomon", ["RC208"], fmt="vrplib")
    built, read = pyvrp_data(txt), pyvrp_data(vrp)
    assert np.array_equal(built.distance_matrix(0), read.distance_matrix(0))
    for a, b in zip(built.clients(), read.clients(), strict=True):
        assert (a.location, a.service_duration, a.tw_early, a.tw_late) == (
            b.location,
            b.service_duration,
            b.tw_early,
            b.tw_late,
        )
        assert a.delivery[0] * 10 == b.delivery[0]  # "dimacs" also scales demands by 10
    assert built.num_vehicles == read.num_vehicles == 25


SMALL_TXT = (
    "tiny\r\n\r\nVEHICLE\r\nNUMBER     CAPACITY\r\n  2         10\r\n\r\nCUSTOMER\r\n"
    "CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME\r\n \r\n"
    "    0      0          0          0          0        100          0   \r\n"
    "    1      3          4          4          5         50         10   \r\n"
    "    2      1          1          6          0         60         10   \r\n"
)


def test_a_hand_written_crlf_solomon_file(tmp_path: Path) -> None:
    path = tmp_path / "tiny.txt"
    path.write_bytes(SMALL_TXT.encode())
    inst = read_instance(path)
    assert inst.name == "tiny" and inst.bks is None
    assert (inst.customers, inst.fleet, inst.capacity) == (2, 2, 10)
    # floor(10 * 5) = 50, floor(10 * sqrt(2)) = 14, floor(10 * sqrt(13)) = 36
    assert inst.matrix.tolist() == [[0, 50, 14], [50, 0, 36], [14, 36, 0]]
    assert inst.ready.tolist() == [0, 50, 0] and inst.due.tolist() == [1000, 500, 600]
    assert inst.service.tolist() == [0, 100, 100] and inst.demand.tolist() == [0, 4, 6]


# -- custom folders ---------------------------------------------------------------------------


@pytest.fixture
def custom(shared: Path, tmp_path: Path) -> Path:
    """A flat folder with C101.txt and R101.vrp only (no BKS table, no .sol)."""
    shutil.copy(shared / "solomon" / "txt" / "C101.txt", tmp_path)
    shutil.copy(shared / "solomon" / "vrplib" / "R101.vrp", tmp_path)
    return tmp_path


def test_custom_folder_without_bks(custom: Path) -> None:
    paths = find_instances(custom, "solomon")
    assert [p.name for p in paths] == ["C101.txt", "R101.vrp"]
    insts = read_suite(custom, "solomon")
    assert [i.bks for i in insts] == [None, None]
    assert insts[0].fleet == insts[1].fleet == 25


def test_custom_folder_bks_from_csv_then_sol(custom: Path, shared: Path) -> None:
    (custom / "my_bks.csv").write_text("instance,bks\nC101,827.3\n", encoding="utf-8")
    shutil.copy(shared / "solomon" / "vrplib" / "R101.sol", custom)
    c101, r101 = read_suite(custom, "solomon")
    assert c101.bks == Bks(827.3, "my_bks.csv:bks")
    # The VRPTW .sol Cost is already in the reported convention (objective / 10).
    assert r101.bks == Bks(1637.7, "R101.sol:Cost")


def test_twins_in_one_folder_are_read_once(custom: Path, shared: Path) -> None:
    shutil.copy(shared / "solomon" / "vrplib" / "C101.vrp", custom)
    assert [p.name for p in find_instances(custom)] == ["C101.vrp", "R101.vrp"]
    assert [p.name for p in find_instances(custom, fmt="txt")] == ["C101.txt"]


def test_cli_on_a_custom_folder_skips_stray_files(
    custom: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (custom / "R101.vrp").unlink()
    (custom / "README.txt").write_text("notes, not an instance\n", encoding="utf-8")
    code = main(["--suite", "solomon", "--data-dir", str(custom), "--time-limit", "1"])
    captured = capsys.readouterr()
    assert code == 0
    assert "skipping README.txt" in captured.err
    (row,) = [line for line in captured.out.splitlines() if line.startswith("C101")]
    assert row.split()[-1] == "yes"  # checker-feasible; the BKS column shows "—"
    assert "—" in row


def test_cli_rejects_an_unknown_instance(shared: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--suite", "solomon", "--time-limit", "1", "--instances", "C101,NOPE"])
    assert code == 2
    assert "NOPE" in capsys.readouterr().err


# -- smoke run --------------------------------------------------------------------------------


def test_smoke_run_writes_csv_and_json(
    shared: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv_path, json_path = tmp_path / "out" / "bench.csv", tmp_path / "out" / "bench.json"
    args = ["--suite", "solomon", "--time-limit", "1", "--instances", "C101,R101"]
    args += ["--compare", "pyvrp", "--csv", str(csv_path), "--json", str(json_path)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "lastmile[seed=auto][workers=2]:" in out and "pyvrp:" in out

    with csv_path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames or ()) == CSV_COLUMNS
        rows = list(reader)
    assert [(r["instance"], r["solver"]) for r in rows] == [
        ("C101", "lastmile[seed=auto][workers=2]"),
        ("R101", "lastmile[seed=auto][workers=2]"),
        ("C101", "pyvrp"),
        ("R101", "pyvrp"),
    ]
    assert {r["suite"] for r in rows} == {"solomon"}
    assert all(r["customers"] == "100" and r["bks"] for r in rows)

    payload = json.loads(json_path.read_text(encoding="utf-8"))
    assert set(payload) == SUMMARY_KEYS | {"pyvrp"}
    assert set(payload["pyvrp"]) == SUMMARY_KEYS
    for summary, solver in [
        (payload, "lastmile[seed=auto][workers=2]"),
        (payload["pyvrp"], "pyvrp"),
    ]:
        assert summary["suite"] == "solomon" and summary["time_limit"] == 1.0
        assert len(summary["rows"]) == 2
        for row in summary["rows"]:
            assert set(row) == ROW_KEYS
            assert row["solver"] == solver
            # Feasible by the independent checker: every customer, capacity, windows, fleet.
            assert row["feasible"] is True, row["violations"]
            assert row["violations"] == []
            assert row["gap_pct"] is not None and row["gap_pct"] >= -1e-9
            assert row["vehicles"] <= 25
        assert summary["infeasible"] == 0
        assert summary["max_gap_pct"] == max(r["gap_pct"] for r in summary["rows"])
