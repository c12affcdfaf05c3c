"""``lastmile plan``: plan a depot's day from the store, as ``POST /plans`` does."""

from __future__ import annotations

from datetime import date

import click

from api.cli.output import error
from api.cli.parsing import Day, Seconds, Whole
from api.cli.progress import ticking
from orchestrator.errors import InvalidInput, OrchestratorError
from orchestrator.planning.calendar import OpenDay, open_days, open_work
from orchestrator.planning.plans import plan_day, plan_unserved
from orchestrator.planning.travel import travel_from_settings
from orchestrator.settings import Settings
from orchestrator.store.engine import create_engine, ensure_schema, session_scope
from routing.solve import Limits

__all__ = ["command"]

OTHER_DAYS = 5
"""Days with open orders listed, nearest first, when the day asked for has none."""


@click.command(
    "plan",
    short_help="plan a depot's day from the store",
    help=(
        "Plan the open orders of a depot's service day in the store LASTMILE_DATABASE_URL "
        "names; the new plan becomes the day's current plan (a failed solve leaves the "
        "previous one current). A day without open orders or return pickups is not planned: "
        "the command says so and lists the nearest days that have some."
    ),
)
@click.option("--depot", type=Whole(1), required=True, metavar="ID", help="depot id")
@click.option(
    "--day", type=Day(), required=True, metavar="YYYY-MM-DD", help="the depot's local date"
)
@click.option(
    "--time-limit",
    type=Seconds(),
    default=10.0,
    metavar="S",
    help="seconds the optimiser may search (default 10)",
)
@click.option("--seed", type=Whole(0), default=0, help="random seed (default 0)")
def command(depot: int, day: date, time_limit: float, seed: int) -> int:
    """Plan the day, print the plan's totals and its unserved orders; the exit code (1, with
    the days that have orders, when the day has none)."""
    try:
        settings = Settings()
        engine = create_engine(settings.database_url)
        try:
            ensure_schema(engine)
            with session_scope(engine) as session:
                work = open_work(session, depot, day)
                if work.empty:
                    others = open_days(session, depot, day, limit=OTHER_DAYS)
                    error("lastmile plan", _nothing_to_plan(depot, work, others))
                    return 1
                click.echo(f"lastmile plan: depot {depot} on {_day(day)}: {_work(work)}", err=True)
                with ticking("solving", time_limit):
                    plan = plan_day(
                        session,
                        depot,
                        day,
                        limits=Limits(time_limit=time_limit),
                        travel=travel_from_settings(settings),  # the command's one provider
                        seed=seed,
                    )
                unserved = plan_unserved(session, plan.id or 0)
        finally:
            engine.dispose()
    except InvalidInput as exc:
        raise click.BadParameter(exc.message, param_hint="'--depot'") from None
    except OrchestratorError as exc:
        error("lastmile plan", str(exc))
        return 1
    click.echo(
        f"plan {plan.id} of depot {depot} on {day}: {plan.n_served} orders on "
        f"{plan.n_routes} routes, {(plan.distance_m or 0) / 1000:.1f} km, "
        f"{(plan.co2_g or 0) / 1000:.2f} kg CO2, {plan.cost or 0:.2f} EUR; "
        f"{plan.n_unserved} unserved"
    )
    compared = plan.stats.get("comparison") or {}  # against the day's current plan (#17)
    if compared.get("current_plan_id") is not None:
        made = "made current" if compared["made_current"] else "NOT made current (kept aside)"
        click.echo(f"{made}: {compared['why']}")
    for item in unserved:
        click.echo(f"  order {item.order_id}: {item.reason}: {item.detail}")
    return 0


def _nothing_to_plan(depot: int, work: OpenDay, others: list[OpenDay]) -> str:
    """The one line saying ``work``'s day has nothing to plan and which days have."""
    said = f"depot {depot} has no open orders on {_day(work.day)}, so nothing was planned — "
    if not others:
        return said + "no day has open orders — import some with `lastmile import ORDERS.CSV`"
    days = ", ".join(f"{o.day} ({o.day:%A}, {_work(o)})" for o in others)
    return said + f"days with open orders, nearest first: {days}"


def _day(day: date) -> str:
    """``2025-03-03 (Monday)``: the weekday tells a planner more than the date alone."""
    return f"{day} ({day:%A})"


def _work(work: OpenDay) -> str:
    """``3 orders`` or ``3 orders, 1 return pickup``."""
    said = f"{work.orders} order{'' if work.orders == 1 else 's'}"
    if work.pickups:
        said += f", {work.pickups} return pickup{'' if work.pickups == 1 else 's'}"
    return said
