"""``lastmile plan``: plan a depot's day from the store, as ``POST /plans`` does."""

from __future__ import annotations

from datetime import date

import click

from api.cli.output import error
from api.cli.parsing import Day, Seconds, Whole
from orchestrator.errors import InvalidInput, OrchestratorError
from orchestrator.planning.plans import plan_day, plan_unserved
from orchestrator.planning.travel import travel_from_settings
from orchestrator.settings import Settings
from orchestrator.store.engine import create_engine, ensure_schema, session_scope
from routing.solve import Limits

__all__ = ["command"]


@click.command(
    "plan",
    short_help="plan a depot's day from the store",
    help=(
        "Plan the open orders of a depot's service day in the store LASTMILE_DATABASE_URL "
        "names; the new plan becomes the day's current plan (a failed solve leaves the "
        "previous one current)."
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
    """Plan the day, print the plan's totals and its unserved orders; the exit code."""
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
    for item in unserved:
        click.echo(f"  order {item.order_id}: {item.reason}: {item.detail}")
    return 0
