"""A newcomer's first hour, timed: ``lastmile demo``, then its printed tour, step by step.

The walk uses nothing but what the demo printed. ``lastmile demo`` runs as a subprocess (the
installed command, its defaults: 200 orders, a 20 s solve) into a temporary folder and
store; its tour is read back (:func:`api.cli.tour.parse_tour`); the first step's command
(``lastmile serve``) is started as printed and waited for; every later command runs as
printed in one ``bash`` (so the keys the second step sets serve the rest, as in a terminal),
and every printed link is fetched. Each step is timed from its first command to its last
answer (wall clock, ``time.perf_counter``); a command that exits non-zero (``curl
--fail-with-body`` does on any 4xx/5xx) or a link that does not answer 2xx marks the step
failed, and the walk goes on.

The milestones the issue names, and the tour steps they are:

========================  ================================================================
``demo``                   ``lastmile demo`` to a planned day (seeding, solve, map, tour)
``serve``                  ``lastmile serve`` started until ``/health`` answers
``keys``                   a planner's and a customer's key created
``pages``                  the board, a customer's page and a driver's manifest fetched
``option_confirmed``       an order's options, the best one chosen and confirmed
``redirect``               "find me at the café": an order on its way redirected
``return_started``         a delivered line's return started
``replan``                 the day's re-plan queued, the day's plans listed
``routes_csv``             the plan's routes as CSV (when the API has it)
``simulation_report``      ``lastmile simulate`` of the printed scenario, to report.html
``import_dry_run``         ``lastmile import ORDERS.csv --dry-run``
========================  ================================================================

Run ``python -m benchmarks.first_hour [--json FILE] [--orders 200] [--time-limit 20]``; it
prints a table of the steps' times and, with ``--json``, writes ``{"orders", "time_limit_s",
"steps": [{"step", "seconds", "ok", "detail"}], "total_s", "all_ok", "load_average_1m_after",
"cpus", "timing"}`` — wall-clock times, so the machine's load (printed) weighs on them.
``--scenario FILE`` swaps the printed scenario for another (the smoke test's small one).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TextIO

from api.cli.tour import Step, parse_tour

__all__ = ["StepTime", "main", "walk"]

STARTUP_S = 60.0
"""Longest wait for ``lastmile serve`` to answer ``/health``, seconds."""

COMMAND_TIMEOUT_S = 600.0
"""Longest a printed command may run, seconds (the simulation is the longest, ~30 s)."""

# Tour steps by what their titles say, in the order of the table above.
_MILESTONES = (
    ("keys", "in another terminal"),
    ("pages", "board"),
    ("pages", "page of order"),
    ("pages", "manifest of route"),
    ("option_confirmed", "delivery options"),
    ("redirect", "find me at the café"),
    ("return_started", "start a return"),
    ("replan", "re-plan the day"),
    ("routes_csv", "as CSV"),
    ("simulation_report", "simulation"),
    ("import_dry_run", "CSV of orders"),
)
_MARK = "__first_hour_rc__"


@dataclass(frozen=True, slots=True)
class StepTime:
    """One milestone: its wall-clock seconds, whether every command and link of it worked,
    and the first failure's words (empty when none)."""

    step: str
    seconds: float
    ok: bool
    detail: str = ""


class _Shell:
    """One ``bash`` that runs commands in turn, as a terminal does (variables persist)."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            ["bash", "--norc", "--noprofile"],
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        self.run("set -o pipefail")

    def run(self, command: str) -> tuple[int, str]:
        """Run ``command``; its exit code and what it printed."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(f"{command}\n__rc=$?; echo; echo {_MARK}$__rc\n")
        self.process.stdin.flush()
        printed: list[str] = []
        for line in self.process.stdout:
            if line.startswith(_MARK):
                return int(line[len(_MARK) :]), "".join(printed)
            printed.append(line)
        return 255, "".join(printed)  # bash ended

    def close(self) -> None:
        """End the shell."""
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, timeout: float = 60.0) -> int:
    """The status code of ``GET url`` (an error status too, not raised)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            answer.read()
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def _newcomer_env() -> dict[str, str]:
    """The caller's environment without any LASTMILE_* setting: only what the tour prints."""
    return {k: v for k, v in os.environ.items() if not k.startswith("LASTMILE_")}


def _lastmile() -> str:
    beside = Path(sys.executable).parent / "lastmile"
    return str(beside) if beside.is_file() else "lastmile"


def walk(
    folder: Path,
    *,
    orders: int = 200,
    time_limit: float = 20.0,
    scenario: Path | None = None,
    log: TextIO | None = None,
) -> list[StepTime]:
    """The demo and its tour in ``folder``, each milestone timed (see the module's table)."""
    port = _free_port()
    env = _newcomer_env()
    env["LASTMILE_DATABASE_URL"] = f"sqlite:///{folder / 'lastmile.db'}"  # the demo's store
    t0 = time.perf_counter()
    demo = subprocess.run(
        [_lastmile(), "demo", "--orders", str(orders), "--time-limit", f"{time_limit:g}",
         "--out", str(folder / "out" / "demo"), "--port", str(port)],
        cwd=folder, env=env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S,
    )  # fmt: skip
    failed = demo.stderr[-500:] if demo.returncode else ""
    times = [StepTime("demo", time.perf_counter() - t0, demo.returncode == 0, failed)]
    if log is not None:
        log.write(demo.stdout)
    steps = parse_tour(demo.stdout)
    if demo.returncode != 0 or not steps:
        return times
    serve, *rest = steps
    newcomer = _newcomer_env()
    t0 = time.perf_counter()
    server = subprocess.Popen(
        ["bash", "-c", serve.commands[0]],
        cwd=folder,
        env=newcomer,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    shell = _Shell(folder, newcomer)
    try:
        up = _wait_for(f"http://127.0.0.1:{port}/health", server)
        times.append(StepTime("serve", time.perf_counter() - t0, up, "" if up else "no answer"))
        if up:
            times += _milestones(rest, shell, scenario)
    finally:
        shell.close()
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGINT)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
    return times


def _wait_for(url: str, server: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if _get(url, timeout=2.0) == 200:
                return True
        except OSError:  # not listening yet
            pass
        time.sleep(0.1)
    return False


def _milestones(steps: Sequence[Step], shell: _Shell, scenario: Path | None) -> list[StepTime]:
    """Each tour step run and timed, grouped by milestone (the pages are one)."""
    totals: dict[str, list[float | bool | str]] = {}
    for step in steps:
        name = next((m for m, words in _MILESTONES if words in step.title), step.title[:30])
        t0 = time.perf_counter()
        ok, detail = True, ""
        for command in step.commands:
            if scenario is not None and " simulate " in command:
                command = _swap_scenario(command, scenario)
            code, printed = shell.run(command)
            if code != 0:
                ok, detail = False, f"exit {code}: {printed.strip()[-300:]}"
                break
        for link in step.links if ok else ():
            status = _get(link)
            if not 200 <= status < 300:
                ok, detail = False, f"{link.split('?')[0]} answered {status}"
                break
        seconds = time.perf_counter() - t0
        if name in totals:
            before = totals[name]
            totals[name] = [
                float(before[0]) + seconds,
                bool(before[1]) and ok,
                str(before[2]) or detail,
            ]
        else:
            totals[name] = [seconds, ok, detail]
    return [StepTime(name, float(s), bool(ok), str(d)) for name, (s, ok, d) in totals.items()]


def _swap_scenario(command: str, scenario: Path) -> str:
    """The ``lastmile simulate`` command with another scenario file (the smoke test's)."""
    words = command.split(" ")
    at = words.index("simulate") + 1
    words[at] = str(scenario)
    return " ".join(words)


def table(times: Sequence[StepTime]) -> list[str]:
    """The printed table: one line per milestone and the total."""
    lines = [f"{'step':<20} {'seconds':>8}  ok", "-" * 34]
    for t in times:
        lines.append(f"{t.step:<20} {t.seconds:>8.1f}  {'yes' if t.ok else 'NO: ' + t.detail}")
    lines += ["-" * 34, f"{'total':<20} {sum(t.seconds for t in times):>8.1f}"]
    return lines


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the walk, print the table, write the JSON; 0 when every step worked, else 1."""
    out = out or sys.stdout
    parser = argparse.ArgumentParser(prog="python -m benchmarks.first_hour", description=__doc__)
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--orders", type=int, default=200, help="the demo's orders (200)")
    parser.add_argument("--time-limit", type=float, default=20.0, help="its solve, s (20)")
    parser.add_argument("--scenario", type=Path, help="simulate this instead of the printed one")
    parser.add_argument("--keep", type=Path, help="walk in this folder and keep it")
    args = parser.parse_args(argv)
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        times = walk(args.keep.resolve(), orders=args.orders, time_limit=args.time_limit,
                     scenario=args.scenario)  # fmt: skip
    else:
        with tempfile.TemporaryDirectory(prefix="first-hour-") as folder:
            times = walk(Path(folder), orders=args.orders, time_limit=args.time_limit,
                         scenario=args.scenario)  # fmt: skip
    for line in table(times):
        print(line, file=out)
    load = os.getloadavg()[0]
    print(f"(wall clock; load average {load:.1f} on {os.cpu_count()} cores at the end)", file=out)
    all_ok = all(t.ok for t in times)
    if args.json is not None:
        args.json.write_text(
            json.dumps(
                {
                    "orders": args.orders,
                    "time_limit_s": args.time_limit,
                    "steps": [asdict(t) for t in times],
                    "total_s": round(sum(t.seconds for t in times), 3),
                    "all_ok": all_ok,
                    "load_average_1m_after": round(os.getloadavg()[0], 2),
                    "cpus": os.cpu_count(),
                    "timing": "wall clock per step (time.perf_counter), subprocesses as printed",
                },
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )
    return 0 if all_ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
