"""``lastmile link ORDER_ID``: print a signed, expiring link to an order's page for its
customer — what a retailer puts in "your order is on its way" — or, with ``--route``, to a
route's manifest for its driver.

The link is signed with the store's key secret (``LASTMILE_KEY_SECRET``, else the secret file
beside the store, as ``lastmile keys`` uses), so a server on the same store opens it; it
names the id and its expiry only (:mod:`orchestrator.access.links`). The link is the last
line printed (``tail -n 1`` in scripts).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import click

from api.cli.output import error, store_url
from api.cli.parsing import Whole
from orchestrator.access.links import DEFAULT_LINK_LIFETIME, make_link_token
from orchestrator.access.secret import key_secret
from orchestrator.models import Order, Route
from orchestrator.settings import Settings
from orchestrator.store.engine import create_engine, ensure_schema, session_scope

__all__ = ["DEFAULT_BASE_URL", "MAX_HOURS", "command"]

DEFAULT_BASE_URL = "http://127.0.0.1:8000"
"""Where ``lastmile serve`` listens by default."""
MAX_HOURS = 24 * 366
"""The longest lifetime a link may be given, hours (a year)."""


class BaseUrl(click.ParamType[str]):
    """An ``http://`` or ``https://`` URL with a host, without its trailing slash."""

    name = "url"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> str:
        """``value`` as a base URL; a usage error naming the form otherwise."""
        text = str(value).strip().rstrip("/")
        parts = urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
            self.fail(
                f"{value!r} is not a base URL — give one like https://shop.example or "
                f"{DEFAULT_BASE_URL}",
                param,
                ctx,
            )
        return text


@click.command(
    "link",
    short_help="print a signed link to an order's page (or a route's manifest)",
    help=(
        "Print a signed, expiring link to the customer's page of order ORDER_ID (/t/TOKEN), "
        "or with --route to the driver's manifest of route ORDER_ID "
        "(/routes/ID/manifest?token=TOKEN), for the store LASTMILE_DATABASE_URL names. "
        "The link is the last line."
    ),
)
@click.argument("target_id", metavar="ORDER_ID", type=Whole(1, 2**63 - 1))
@click.option("--route", "is_route", is_flag=True, help="the id is a route's: link its manifest")
@click.option(
    "--hours",
    type=Whole(1, MAX_HOURS),
    default=int(DEFAULT_LINK_LIFETIME.total_seconds() // 3600),
    show_default=True,
    help="how long the link works, hours",
)
@click.option(
    "--base-url",
    type=BaseUrl(),
    default=DEFAULT_BASE_URL,
    show_default=True,
    help="where the server is reached, e.g. https://track.shop.example",
)
def command(target_id: int, is_route: bool, hours: int, base_url: str) -> int:
    """Print the link; the exit code."""
    what = "route" if is_route else "order"
    try:
        settings = Settings()
        engine = create_engine(settings.database_url)
        try:
            ensure_schema(engine)
            with session_scope(engine) as session:
                found = session.get(Route if is_route else Order, target_id) is not None
        finally:
            engine.dispose()
        configured = settings.key_secret
        secret = key_secret(
            settings.database_url, configured.get_secret_value() if configured else None
        )
    except Exception as exc:  # the store is unreachable, or its secret file unreadable
        error("lastmile link", str(exc))
        return 1
    if not found:
        hint = "`lastmile plan` prints route ids" if is_route else "check the order id"
        raise click.BadParameter(
            f"no {what} {target_id} in {store_url(settings.database_url)} — {hint}",
            param_hint="'ORDER_ID'",
        )
    now = datetime.now(UTC)
    lifetime = timedelta(hours=hours)
    token = make_link_token(secret, "route" if is_route else "order", target_id,
                            lifetime=lifetime, now=now)  # fmt: skip
    path = f"/routes/{target_id}/manifest?token={token}" if is_route else f"/t/{token}"
    until = (now + lifetime).strftime("%Y-%m-%dT%H:%M:%SZ")
    page = "the driver's manifest" if is_route else "the customer's page"
    click.echo(f"{page} of {what} {target_id}, valid until {until}:")
    click.echo(f"{base_url}{path}")  # the last line, always
    return 0
