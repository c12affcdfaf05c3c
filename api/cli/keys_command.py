"""``lastmile keys create``: an API key, kept hashed in the store, printed once."""

from __future__ import annotations

import click

from api.cli.output import error, store_url
from api.cli.parsing import Group, Whole
from orchestrator.access.keys import create_api_key
from orchestrator.errors import InvalidInput
from orchestrator.models import Role
from orchestrator.settings import Settings
from orchestrator.store.engine import create_engine, ensure_schema, session_scope

__all__ = ["command"]


@click.group(
    "keys",
    cls=Group,
    what="ACTION",
    short_help="manage API keys",
    help="Manage the API keys kept (hashed) in the store.",
)
def command() -> None:
    """The ``keys`` group; its actions do the work."""


@command.command(
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
    type=Whole(1),
    metavar="ID",
    help="the customer a customer key belongs to (required for --role customer)",
)
def create(role: str, customer: int | None) -> int:
    """Create the key and print it last; the exit code."""
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
        error("lastmile keys create", str(exc))
        return 1
    owner = f" for customer {customer}" if customer is not None else ""
    click.echo(f"created a {role} key{owner} in {store_url(settings.database_url)}")
    click.echo("store it now: it is shown only once, and only its hash is kept")
    click.echo(key)  # the last line, always: scripts take it with `tail -n 1`
    return 0
