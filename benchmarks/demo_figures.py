"""The README's demo figures, measured by running the demo itself, so they cannot drift.

For each city (the synthetic one and central Helsinki) this runs :func:`api.cli.demo.run_demo`
with the demo's own defaults (200 orders, seed 0, its time limit) into a fresh SQLite store
and output folder in a temporary directory, reads the plan it made back from the store
(:func:`api.cli.demo.read_plan`, as the demo prints it) and records what a newcomer sees in
the demo's TOTAL line: routes, km, kg CO2, EUR, orders served and unserved — with the
seconds the whole demo took (city, seeding, solve, map) and the solve's own, the date and the
machine's cores.

The figures go to ``docs/benchmarks/demo.json``; the README's block between
``<!-- demo-figures:begin -->`` and ``<!-- demo-figures:end -->`` is rendered from that file
(:func:`render_block`) and nothing else, and a test checks the two agree, so a figure edited
by hand in the README fails the suite. Run ``python -m benchmarks.demo_figures`` (both
cities, about 70 s on 2 cores), ``--city helsinki`` to measure one city again (the other
keeps its figures), ``--render-only`` to rewrite the README block from the JSON.

The solve is time-limited, so the figures are those of this machine on that date: a faster
machine may search further and find a slightly cheaper plan.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import sys
import tempfile
import textwrap
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from api.cli.marked_block import MarkedBlock

__all__ = [
    "BEGIN",
    "BLOCK",
    "CITY_NAMES",
    "DEFAULT_JSON",
    "DEFAULT_README",
    "END",
    "CityFigures",
    "DemoFailed",
    "demo_defaults",
    "main",
    "measure",
    "readme_block",
    "render_block",
    "replace_block",
]

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_JSON = ROOT / "docs" / "benchmarks" / "demo.json"
"""Where the figures are kept."""
DEFAULT_README = ROOT / "README.md"
"""The README whose block is rendered."""
BEGIN = "<!-- demo-figures:begin -->"
END = "<!-- demo-figures:end -->"
"""The markers of the README's block (the lines themselves stay)."""
BLOCK = MarkedBlock(BEGIN, END)
"""The README's block (one rule for every generated block: :mod:`api.cli.marked_block`)."""

_WIDTH = 99
"""The README's line length."""

CITY_NAMES = {"synthetic": "synthetic city", "helsinki": "central Helsinki"}
"""How the README names each city of the demo, in the order of its table."""


class DemoFailed(RuntimeError):
    """The demo did not finish (exit code 1); the message holds what it printed."""


@dataclass(frozen=True, slots=True)
class CityFigures:
    """What the demo planned on one city, as its TOTAL line prints it.

    Parameters
    ----------
    city
        ``"synthetic"`` or ``"helsinki"`` (``lastmile demo --city``).
    orders, seed, time_limit_s
        The demo's settings: deliveries of the day, seed, solver's time limit (seconds).
    service_day
        The day planned (ISO date).
    routes, vehicles, vehicle_types
        Routes of the plan; vehicles of the depot, used or not, and their types.
    km, co2_kg, cost_eur
        The plan's total kilometres, kilograms CO2 and EUR (fixed costs included).
    served, unserved
        Orders on a route, and orders left out.
    solve_s
        Seconds the solve took (the plan's ``wall_time_s``).
    seconds
        Seconds the whole demo took: city, seeding, solve, reading back, map.
    date, cores, load
        When it was measured (UTC date), the machine's logical cores, and its 1-minute load
        average as the demo started (other work on the machine slows a time-limited solve:
        a load above the cores leaves the solver less of them).
    """

    city: str
    orders: int
    seed: int
    time_limit_s: float
    service_day: str
    routes: int
    vehicles: int
    vehicle_types: int
    km: float
    co2_kg: float
    cost_eur: float
    served: int
    unserved: int
    solve_s: float
    seconds: float
    date: str
    cores: int
    load: float


def demo_defaults() -> dict[str, Any]:
    """``run_demo``'s own defaults for ``orders``, ``seed`` and ``time_limit`` — what
    ``make demo`` runs."""
    from api.cli.demo import run_demo

    params = inspect.signature(run_demo).parameters
    return {name: params[name].default for name in ("orders", "seed", "time_limit")}


def measure(city: str, *, orders: int, seed: int, time_limit: float) -> CityFigures:
    """Run the demo on ``city`` into a fresh SQLite store and folder (deleted afterwards) and
    read its plan back.

    Raises
    ------
    DemoFailed
        If the demo exits with 1 (its error went to standard error).
    """
    from api.cli.demo import read_plan, run_demo
    from orchestrator.store.engine import create_engine, session_scope

    printed: list[str] = []

    def say(text: str = "", /, *, end: str = "\n") -> None:
        printed.append(text + end)

    with tempfile.TemporaryDirectory(prefix="lastmile-demo-figures-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'demo.db'}"
        load = os.getloadavg()[0]
        t0 = time.perf_counter()
        code = run_demo(city=city, seed=seed, orders=orders, time_limit=time_limit,
                        out_dir=Path(tmp) / "out", database_url=url, say=say)  # fmt: skip
        seconds = time.perf_counter() - t0
        if code != 0:
            raise DemoFailed(f"lastmile demo --city {city} failed:\n{''.join(printed)}")
        engine = create_engine(url)
        try:
            with session_scope(engine) as session:
                view = read_plan(session, _demo_plan(session))
                plan = view.plan
                return CityFigures(
                    city=city,
                    orders=orders,
                    seed=seed,
                    time_limit_s=float(time_limit),
                    service_day=plan.service_day.isoformat(),
                    routes=plan.n_routes,
                    vehicles=len(view.vehicle_ids),
                    # Vehicle ids are "<type>-<fleet>-<n>"; a type's name may hold dashes.
                    vehicle_types=len({v.rsplit("-", 2)[0] for v in view.vehicle_ids}),
                    km=round((plan.distance_m or 0) / 1000, 3),
                    co2_kg=round((plan.co2_g or 0) / 1000, 3),
                    cost_eur=round(plan.cost or 0, 2),
                    served=plan.n_served,
                    unserved=plan.n_unserved,
                    solve_s=round(plan.wall_time_s or 0, 1),
                    seconds=round(seconds, 1),
                    date=datetime.now(UTC).date().isoformat(),
                    cores=os.cpu_count() or 1,
                    load=round(load, 1),
                )
        finally:
            engine.dispose()


def _demo_plan(session: Any) -> int:
    """The id of the plan the demo made for its day: the current day plan of the latest
    service day (a store the demo seeds may hold plans of earlier days too)."""
    from sqlmodel import col, select

    from orchestrator.models import Plan, PlanKind, PlanStatus

    query = (
        select(Plan)
        .where(Plan.status == PlanStatus.CURRENT, Plan.kind == PlanKind.DAY)
        .order_by(col(Plan.service_day).desc(), col(Plan.id).desc())
    )
    plan = session.exec(query).first()
    if plan is None or plan.id is None:
        raise DemoFailed("the demo finished but its store holds no current day plan")
    return int(plan.id)


def render_block(document: Mapping[str, Any]) -> str:
    """The README's block, markers included, from the figures' JSON document.

    Raises
    ------
    ValueError
        If the cities were measured with different settings (orders, seed, time limit).
    """
    cities = sorted(document["cities"], key=lambda c: list(CITY_NAMES).index(c["city"]))
    settings = {(c["orders"], c["seed"], c["time_limit_s"]) for c in cities}
    if len(settings) != 1:
        raise ValueError(
            "the cities were measured with different orders, seed or time limit — run "
            "`python -m benchmarks.demo_figures` for both cities at once"
        )
    ((orders, seed, limit),) = settings
    fleets = sorted({(c["vehicles"], c["vehicle_types"]) for c in cities})
    fleet = "; ".join(f"{v} vehicles of {t} types" for v, t in fleets)
    prose = (
        f"What `lastmile demo` plans for its day ({orders} deliveries, seed {seed}, {fleet}, "
        f"OR-Tools for {limit:g} s), each city run into a fresh SQLite store by "
        "`python -m benchmarks.demo_figures` "
        "([docs/benchmarks/demo.json](docs/benchmarks/demo.json)). The figures are those of "
        "the demo's TOTAL line; the solve is time-limited, so another machine (or the same "
        "one busier or idler: *load* is its 1-minute load average as the demo started) may "
        "differ a little."
    )
    lines = [
        BEGIN,
        "<!-- Written by `python -m benchmarks.demo_figures` from docs/benchmarks/demo.json:",
        "     run it again rather than editing these lines (a test compares them). -->",
        *textwrap.wrap(prose, width=_WIDTH, break_on_hyphens=False, break_long_words=False),
        "",
        "| City | Routes | km | CO2 kg | Cost EUR | Served | Unserved | Solve s | Demo s "
        "| Measured |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for c in cities:
        lines.append(
            f"| {CITY_NAMES[c['city']]} (`--city {c['city']}`) | {c['routes']} | "
            f"{c['km']:.1f} | {c['co2_kg']:.2f} | {c['cost_eur']:.2f} | {c['served']} | "
            f"{c['unserved']} | {c['solve_s']:.1f} | {c['seconds']:.1f} | "
            f"{c['date']}, {c['cores']} cores, load {c['load']:.1f} |"
        )
    lines.append(END)
    return "\n".join(lines)


def readme_block(text: str, *, source: str | Path = "README.md") -> str:
    """The block of a README's text (read from ``source``), markers included.

    Raises
    ------
    ValueError
        If the text has not exactly one pair of marker lines, in order
        (:class:`api.cli.marked_block.MarkedBlock`); the message names the marker and
        ``source``.
    """
    return BLOCK.with_markers(BLOCK.inner(text, source=source))


def replace_block(text: str, block: str, *, source: str | Path = "README.md") -> str:
    """The README's text with its block replaced by ``block`` (markers included, as
    :func:`render_block` makes it); nothing else touched."""
    return BLOCK.replace(text, BLOCK.inner(block, source="the new block"), source=source)


def _load(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {"cities": []}
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def main(argv: Sequence[str] | None = None) -> int:
    """Measure the cities asked for, write the JSON, render the README block; exit code."""
    defaults = demo_defaults()
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.demo_figures",
        description="Run the demo on each city, write docs/benchmarks/demo.json and the "
        "README's demo-figures block from it.",
    )
    parser.add_argument("--city", action="append", choices=list(CITY_NAMES),
                        help="a city to measure again (repeatable; default: all)")  # fmt: skip
    parser.add_argument("--orders", type=int, default=defaults["orders"])
    parser.add_argument("--seed", type=int, default=defaults["seed"])
    parser.add_argument("--time-limit", type=float, default=defaults["time_limit"])
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="figures file")
    parser.add_argument("--readme", type=Path, default=DEFAULT_README, help="README to render")
    parser.add_argument("--render-only", action="store_true",
                        help="only rewrite the README block from the JSON")  # fmt: skip
    args = parser.parse_args(argv)

    from api.cli.progress import Progress

    document = _load(args.json)
    if not args.render_only:
        cities = args.city or list(CITY_NAMES)
        kept = [c for c in document["cities"] if c["city"] not in cities]
        measured = []
        with Progress("demo figures", len(cities), unit="cities") as bar:
            for city in cities:
                try:
                    figures = measure(city, orders=args.orders, seed=args.seed,
                                      time_limit=args.time_limit)  # fmt: skip
                except DemoFailed as exc:
                    print(f"error: {exc}", file=sys.stderr)
                    return 1
                measured.append(asdict(figures))
                bar.advance()
                print(f"{city}: {figures.routes} routes, {figures.km:.1f} km, "
                      f"{figures.co2_kg:.2f} kg CO2, {figures.cost_eur:.2f} EUR, "
                      f"{figures.served} served, {figures.unserved} unserved, "
                      f"solve {figures.solve_s:.1f} s, demo {figures.seconds:.1f} s")  # fmt: skip
        document = {
            "cities": sorted(kept + measured, key=lambda c: list(CITY_NAMES).index(c["city"]))
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
    readme = args.readme.read_text(encoding="utf-8")
    try:
        new = replace_block(readme, render_block(document), source=args.readme)
    except ValueError as exc:  # the README's markers: the message names them and the file
        print(f"error: {exc}", file=sys.stderr)
        return 1
    args.readme.write_text(new, encoding="utf-8")
    print(f"wrote {args.json} and the demo-figures block of {args.readme}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
