"""``lastmile simulate``: a tiny scenario and a tiny sweep really run, their files, the errors."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from api.cli import main
from api.cli.simulate_command import kpi_lines
from api.runtime.simulation_runs import KPI_COLUMNS
from simulation import plots

TINY = """\
name = "tiny"
seed = 7
replications = 1

[city]
kind = "synthetic"
seed = 3
blocks = 6

[demand]
orders_per_day = 40

[[fleet.hubs]]
name = "hub"
vehicles = { van = 1, cargo-bike = 1, robot = 2 }
chargers = 1

[fleet.couriers]
size = 4

[policies]
solver_iterations = 50
"""


def simulate(argv: list[str]) -> tuple[int, str, str]:
    """Run ``lastmile simulate ARGV``: exit code, stdout, stderr."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(["simulate", *argv])
    return code, stdout.getvalue(), stderr.getvalue()


def assert_lists_every_file(out: Path, lines: list[str]) -> None:
    """``lines`` (the end of the output) name the folder and every file in it, with its size;
    a sweep's cache as one line."""
    assert lines[0] == f"wrote into {out}:"
    files = [p for p in out.rglob("*") if p.is_file() and p.parent.name != "cache"]
    files.sort(key=lambda p: (len(p.parts), p.name))  # the folder's own files first
    assert "report.parquet" in {p.name for p in files}
    named = [line.split()[0] for line in lines[1:]]
    expected = [p.relative_to(out).as_posix() for p in files]
    cached = len(list((out / "cache").glob("*.json")))
    assert named == expected + (["cache/"] if cached else [])
    for line, path in zip(lines[1:], files, strict=False):
        assert line.split()[-1] in ("B", "kB", "MB")
        assert path.stat().st_size > 0
    if cached:
        assert lines[-1].split()[1:3] == [str(cached), "points"]


@pytest.fixture
def tiny_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY, encoding="utf-8")
    return path


def test_one_scenario_writes_its_reports(tiny_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, stdout, stderr = simulate([str(tiny_file), "--out", str(out)])
    assert code == 0, stderr
    announced, *bar = stderr.splitlines()
    assert announced == "lastmile simulate: tiny: 1 scenario x 1 replication"
    assert bar[0] == "simulating tiny: 0% (0/1 replications)"
    assert bar[-1] == "simulating tiny: 100% (1/1 replications) — writing the reports"
    heading, (_, row), written = table_of(stdout)
    assert heading[-1].split()[:3] == ["Scenario", "(orders)", "(share)"]
    assert row.startswith("tiny ")
    assert_lists_every_file(out, written)
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["scenario"] == "tiny" and report["seed"] == 7
    delivered = report["summary"]["delivered"]["mean"]
    assert delivered > 0 and f" {delivered:.3g} " in f" {row} "
    rows = list(csv.DictReader(io.StringIO((out / "report.csv").read_text(encoding="utf-8"))))
    assert {r["vehicle_type"] for r in rows} >= {"all", "van"}
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>") and html.count("data:image/png;base64,") == 3
    for name in ("cost_co2", "on_time", "utilisation"):
        assert (out / "plots" / f"{name}.png").read_bytes().startswith(b"\x89PNG")
    # Same scenario and seed, same report, byte for byte; another seed, another report.
    again = tmp_path / "again"
    assert simulate([str(tiny_file), "--out", str(again)])[0] == 0
    assert (again / "report.json").read_bytes() == (out / "report.json").read_bytes()
    other = tmp_path / "other"
    assert simulate([str(tiny_file), "--out", str(other), "--seed", "8"])[0] == 0
    assert json.loads((other / "report.json").read_text(encoding="utf-8"))["seed"] == 8


def test_a_sweep_from_axes_and_from_a_file(tiny_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "axes"
    code, stdout, stderr = simulate(
        [str(tiny_file), "--out", str(out), "--axis", "policies.concierge=true,false"]
    )
    assert code == 0, stderr
    assert stderr.splitlines() == [
        "lastmile simulate: tiny: 2 scenarios x 1 replication",
        "sweep of tiny: 0% (0/2 scenarios)",
        "sweep of tiny: 100% (2/2 scenarios) — writing the reports",
    ]
    _, (_, *rows), written = table_of(stdout)
    assert_lists_every_file(out, written)
    labels = [line.split()[0] for line in rows]
    assert labels == ["concierge=True", "concierge=False"]
    document = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert [p["changes"] for p in document["points"]] == [
        {"policies.concierge": True},
        {"policies.concierge": False},
    ]
    assert len(list((out / "cache").glob("*.json"))) == 2
    rows = list(csv.DictReader(io.StringIO((out / "report.csv").read_text(encoding="utf-8"))))
    assert [r["label"] for r in rows] == ["concierge=True", "concierge=False"]
    sweep_file = tmp_path / "sweep.toml"
    sweep_file.write_text('[axes]\n"policies.concierge" = [true, false]\n', encoding="utf-8")
    from_file = tmp_path / "file"
    assert simulate([str(tiny_file), "--out", str(from_file), "--sweep", str(sweep_file)])[0] == 0
    assert (from_file / "report.json").read_bytes() == (out / "report.json").read_bytes()


def test_a_bad_scenario_is_one_line_naming_the_field(tiny_file: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(TINY.replace("orders_per_day = 40", "orders_per_day = -4"), encoding="utf-8")
    code, stdout, stderr = simulate([str(bad), "--out", str(tmp_path / "x")])
    assert code == 2 and stdout == ""
    assert len(stderr.splitlines()) == 1
    assert "demand.orders_per_day" in stderr and "greater than or equal to 1" in stderr
    code, _, stderr = simulate([str(tiny_file), "--axis", "noise.presence=0.5,2"])
    progress, error = stderr.splitlines()  # the announcement, then one line of error
    assert code == 2 and "tiny: 2 scenarios" in progress
    assert "noise.presence" in error and "sweep point [presence=2]" in error


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (["--axis", "policies.concierge"], "write PATH=V1,V2"),
        (["--scheduler", "tcp://127.0.0.1:9"], "a scheduler runs sweeps"),
        (["--workers", "0"], "out of range"),
    ],
)
def test_bad_options_exit_2(tiny_file: Path, extra: list[str], says: str) -> None:
    code, stdout, stderr = simulate([str(tiny_file), *extra])
    assert code == 2 and stdout == ""
    assert len(stderr.splitlines()) == 1 and says in stderr


def test_a_sweep_file_without_axes_is_refused(tiny_file: Path, tmp_path: Path) -> None:
    sweep_file = tmp_path / "sweep.toml"
    sweep_file.write_text("robots = [1, 2]\n", encoding="utf-8")
    code, _, stderr = simulate([str(tiny_file), "--sweep", str(sweep_file)])
    assert code == 2 and "add an [axes] table" in stderr


def table_of(stdout: str) -> tuple[list[str], list[str], list[str]]:
    """The KPI table's heading lines (down to the rule of dashes), its rows, and the lines
    after it (the files written)."""
    lines = stdout.splitlines()
    rule = next(i for i, line in enumerate(lines) if line and set(line) <= {"-", " "})
    end = next(i for i, line in enumerate(lines) if line.startswith("wrote into "))
    return lines[:rule], lines[rule:end], lines[end:]


def test_the_kpi_table_heads_its_columns_with_the_reports_words() -> None:
    row: dict[str, object] = {key: 0.123456 for key in KPI_COLUMNS}
    row.update(label="concierge=True", delivered=40, unserved=None)
    lines = kpi_lines([row])
    heading, (rule, body) = lines[:-2], lines[-2:]
    # The rule's dashes mark each column; read down, a column's heading is the report's label.
    spans = [m.span() for m in re.finditer(r"-+", rule)]
    assert len(spans) == 1 + len(KPI_COLUMNS)
    for (start, end), key in zip(spans, ("label", *KPI_COLUMNS), strict=True):
        words = " ".join(line[start:end].strip() for line in heading if line[start:end].strip())
        assert words == plots.KPI_LABELS[key]
        assert body[start:end].strip() == {"label": "concierge=True", "delivered": "40",
                                           "unserved": "–"}.get(key, "0.123")  # fmt: skip
    assert "_" not in "".join(heading)


def test_other_commands_do_not_import_the_simulator() -> None:
    probe = "import sys, api.cli; print(any(m.startswith('simulation') for m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_a_sweep_on_a_dask_scheduler_matches_the_local_one(tiny_file: Path, tmp_path: Path) -> None:
    from distributed import LocalCluster

    axis = ["--axis", "fleet.hubs.0.vehicles.robot=0,2"]
    local = tmp_path / "local"
    assert simulate([str(tiny_file), "--out", str(local), *axis])[0] == 0
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address="127.0.0.1:0") as cluster:  # fmt: skip
        remote = tmp_path / "remote"
        code, _, stderr = simulate(
            [str(tiny_file), "--out", str(remote), "--scheduler", cluster.scheduler_address, *axis]
        )
    assert code == 0, stderr
    for name in ("report.json", "report.csv"):
        assert (remote / name).read_bytes() == (local / name).read_bytes()


def test_an_unreachable_scheduler_fails_with_one_line(tiny_file: Path) -> None:
    import dask

    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        code, stdout, stderr = simulate(
            [str(tiny_file), "--axis", "policies.concierge=true,false", "--scheduler",
             "tcp://127.0.0.1:9"]
        )  # fmt: skip
    assert code == 1 and stdout == ""
    assert stderr.splitlines()[-1].startswith("error: lastmile simulate: cannot reach the Dask")


def test_run_to_folder_reports_progress_per_replication_and_per_scenario(
    tiny_file: Path, tmp_path: Path
) -> None:
    from api.runtime.simulation_runs import run_to_folder
    from simulation import load_scenario

    scenario = load_scenario(tiny_file).model_copy(update={"replications": 2})
    seen: list[tuple[int, ...]] = []
    run_to_folder(
        scenario, tmp_path / "one", progress=lambda done, total: seen.append((done, total))
    )
    assert seen == [(0, 2), (1, 2), (2, 2)]  # replications
    seen.clear()
    axes = {"policies.concierge": [True, False]}
    run_to_folder(scenario, tmp_path / "sweep", axes=axes, progress=lambda *d: seen.append(d))
    assert seen == [(0, 2), (1, 2), (2, 2)]  # scenarios
    seen.clear()
    run_to_folder(scenario, tmp_path / "sweep", axes=axes, progress=lambda *d: seen.append(d))
    assert seen == [(2, 2)]  # both cached
