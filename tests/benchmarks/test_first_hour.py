"""The first-hour benchmark: its shell keeps a terminal's variables and exit codes, its table
names every step, and (slow) a tiny walk runs every step of the tour as printed."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from benchmarks.first_hour import StepTime, _Shell, _swap_scenario, main, table

ROOT = Path(__file__).resolve().parents[2]


def test_the_shell_keeps_variables_and_says_which_command_failed(tmp_path: Path) -> None:
    shell = _Shell(tmp_path, {"PATH": "/usr/bin:/bin"})
    try:
        assert shell.run("KEY=$(echo secret | tail -n 1)") == (0, "\n")
        assert shell.run('echo "key is $KEY"') == (0, "key is secret\n\n")
        # pipefail: a failing command in a pipe fails the line, as curl's would
        code, _ = shell.run("false | cat")
        assert code == 1
        assert shell.run("echo still here")[0] == 0
    finally:
        shell.close()


def test_the_table_and_the_scenario_swap() -> None:
    lines = table([StepTime("demo", 12.34, True), StepTime("redirect", 1.0, False, "exit 22")])
    assert lines[2].split() == ["demo", "12.3", "yes"]
    assert lines[3].split()[:3] == ["redirect", "1.0", "NO:"]
    assert lines[-1].split() == ["total", "13.3"]
    swapped = _swap_scenario("lastmile simulate /x/sparse.toml --out out/simulation", Path("s"))
    assert swapped == "lastmile simulate s --out out/simulation"


@pytest.mark.slow
def test_a_tiny_walk_runs_every_step(tmp_path: Path) -> None:
    scenario = tmp_path / "small.toml"
    text = (ROOT / "examples" / "scenarios" / "sparse_suburb.toml").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^orders_per_day = \d+", "orders_per_day = 20", text)
    scenario.write_text(re.sub(r"(?m)^replications = \d+", "replications = 1", text), "utf-8")
    target = tmp_path / "first_hour.json"
    out = io.StringIO()
    argv = ["--orders", "20", "--time-limit", "1", "--scenario", str(scenario)]
    assert main([*argv, "--json", str(target)], out) == 0, out.getvalue()
    data = json.loads(target.read_text(encoding="utf-8"))
    steps = [s["step"] for s in data["steps"]]
    for step in ("demo", "serve", "keys", "pages", "option_confirmed", "redirect",
                 "return_started", "replan", "simulation_report", "import_dry_run"):  # fmt: skip
        assert step in steps
    assert data["all_ok"] and all(s["seconds"] > 0 for s in data["steps"])
