"""``lastmile keys``: API keys, kept hashed in the store.

* ``lastmile keys create --role ROLE [--customer ID] [--retailer ID] [--courier ID |
  --courier-name NAME]`` — a new key, printed once (last line); with ``--retailer`` it is that
  retailer's and sees only its rows, without it the carrier's (every retailer's); a courier key
  belongs to a courier, an existing one or one made by ``--courier-name``;
* ``lastmile keys list`` — every key: id, prefix, role, customer, courier, retailer, created,
  revoked
  (never the key itself, which the store does not have);
* ``lastmile keys revoke PREFIX_OR_ID`` — revoke a key from now on, named by its id or by
  the prefix ``list`` shows.
"""

from __future__ import annotations

from datetime import UTC, datetime

import click
from pydantic import ValidationError

from api.cli.output import error, store_url
from api.cli.parsing import Group, Whole
from orchestrator.access.keys import create_api_key, find_api_key, list_api_keys, revoke_api_key
from orchestrator.commuting.trips import create_courier
from orchestrator.errors import InvalidInput, NotFound
from orchestrator.models import ApiKey, Role
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
    "analyst: reads everything; admin: everything; courier: a commuter's own trips and offers",
)
@click.option(
    "--customer",
    type=Whole(1),
    metavar="ID",
    help="the customer a customer key belongs to (required for --role customer)",
)
@click.option(
    "--courier",
    type=Whole(1),
    metavar="ID",
    help="the courier a courier key belongs to (--role courier needs it or --courier-name)",
)
@click.option(
    "--courier-name",
    metavar="NAME",
    help="register a new courier of this name and give the key to them (--role courier)",
)
@click.option(
    "--retailer",
    type=Whole(1),
    metavar="ID",
    help="the retailer a planner or analyst key belongs to: it sees only that retailer's "
    "customers, orders, stores, products and returns (none: the carrier's key, which sees "
    "every retailer's; a customer key is its customer's retailer's)",
)
def create(
    role: str,
    customer: int | None,
    courier: int | None,
    courier_name: str | None,
    retailer: int | None,
) -> int:
    """Create the key and print it last; the exit code."""
    if courier is not None and courier_name is not None:
        raise click.BadParameter(
            "give --courier ID (an existing courier) or --courier-name NAME (a new one), not both",
            param_hint="'--courier-name'",
        )
    if courier_name is not None and role != "courier":
        raise click.BadParameter(
            f"only courier keys belong to a courier, not {role} keys — use --role courier",
            param_hint="'--courier-name'",
        )
    try:
        settings = Settings()
        engine = create_engine(settings.database_url)
        try:
            ensure_schema(engine)
            with session_scope(engine) as session:
                if courier_name is not None:
                    courier = create_courier(session, {"name": courier_name}).id
                key = create_api_key(
                    session, role, customer, courier_id=courier, retailer_id=retailer
                )
        finally:
            engine.dispose()
    except ValidationError as exc:
        raise click.BadParameter(
            "give the courier a name of 1 to 100 characters", param_hint="'--courier-name'"
        ) from exc
    except InvalidInput as exc:
        options: dict[tuple[str | int, ...], str] = {
            ("customer_id",): "--customer",
            ("courier_id",): "--courier",
            ("retailer_id",): "--retailer",
        }
        option = options.get(exc.field, "--role")
        raise click.BadParameter(exc.message, param_hint=f"'{option}'") from None
    except Exception as exc:  # the store is unreachable or not writable
        error("lastmile keys create", str(exc))
        return 1
    owner = f" for customer {customer}" if customer is not None else ""
    owner += f" for courier {courier}" if courier is not None else ""
    owner += f" of retailer {retailer}" if retailer is not None else ""
    click.echo(f"created a {role} key{owner} in {store_url(settings.database_url)}")
    click.echo("store it now: it is shown only once, and only its hash is kept")
    click.echo(key)  # the last line, always: scripts take it with `tail -n 1`
    return 0


_COLUMNS = ("ID", "PREFIX", "ROLE", "CUSTOMER", "COURIER", "RETAILER", "CREATED", "REVOKED")


@command.command(
    "list",
    short_help="list the API keys (never the keys themselves)",
    help=(
        "List the API keys of the store LASTMILE_DATABASE_URL names, oldest first: id, "
        "prefix (the key's first characters), role, customer, courier, retailer (-: the "
        "carrier's key), when created and when "
        "revoked (times in UTC). The keys themselves are not kept, only their hashes."
    ),
)
def list_keys() -> int:
    """Print the keys as a table; the exit code."""
    try:
        settings = Settings()
        engine = create_engine(settings.database_url)
        try:
            ensure_schema(engine)
            with session_scope(engine) as session:
                rows = [_row(key) for key in list_api_keys(session)]
        finally:
            engine.dispose()
    except Exception as exc:  # the store is unreachable
        error("lastmile keys list", str(exc))
        return 1
    if not rows:
        click.echo(
            f"no API keys in {store_url(settings.database_url)} — create one with "
            "`lastmile keys create --role planner`"
        )
        return 0
    widths = [max(len(r[i]) for r in [_COLUMNS, *rows]) for i in range(len(_COLUMNS))]
    for row in [_COLUMNS, *rows]:
        click.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    return 0


@command.command(
    "revoke",
    short_help="revoke an API key from now on",
    help=(
        "Revoke the key PREFIX_OR_ID names — its id or its prefix as `lastmile keys list` "
        "shows them (e.g. 7 or lmk_3f9a1b2c) — in the store LASTMILE_DATABASE_URL names. "
        "The next request with it is answered 401; the row stays, for the record."
    ),
)
@click.argument("prefix_or_id", metavar="PREFIX_OR_ID")
def revoke(prefix_or_id: str) -> int:
    """Revoke the key; the exit code."""
    try:
        settings = Settings()
        engine = create_engine(settings.database_url)
        try:
            ensure_schema(engine)
            with session_scope(engine) as session:
                found = find_api_key(session, prefix_or_id)
                already = found.revoked_at
                assert found.id is not None
                key = revoke_api_key(session, found.id)
                row = _row(key)
        finally:
            engine.dispose()
    except (InvalidInput, NotFound) as exc:
        message = exc.message if isinstance(exc, InvalidInput) else str(exc)
        if isinstance(exc, NotFound):
            message += " or prefix (`lastmile keys list` shows them)"
        raise click.BadParameter(message, param_hint="'PREFIX_OR_ID'") from None
    except Exception as exc:  # the store is unreachable or not writable
        error("lastmile keys revoke", str(exc))
        return 1
    what = f"{row[2]} key {row[0]} ({row[1]})"
    if already is not None:
        click.echo(f"{what} was already revoked at {row[6]}")
    else:
        click.echo(f"revoked {what} at {row[6]}: requests with it are now answered 401")
    return 0


def _row(key: ApiKey) -> tuple[str, str, str, str, str, str, str, str]:
    """A key's cells in the order of :data:`_COLUMNS`."""
    return (
        str(key.id),
        key.prefix,
        key.role.value,
        "-" if key.customer_id is None else str(key.customer_id),
        "-" if key.courier_id is None else str(key.courier_id),
        "-" if key.retailer_id is None else str(key.retailer_id),
        _when(key.created_at),
        "-" if key.revoked_at is None else _when(key.revoked_at),
    )


def _when(moment: datetime) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
