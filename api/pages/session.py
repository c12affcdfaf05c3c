"""Who is looking at a page: the planner signed in to the board, or the holder of a link.

* The board: a planner (or admin) signs in with an API key once; the key is kept in the
  cookie :data:`BOARD_COOKIE` — ``HttpOnly`` (no script reads it), ``Secure`` (browsers send
  it over HTTPS and to ``localhost``/``127.0.0.1`` only), ``SameSite=Strict`` (no other site's
  page sends it, which also stops cross-site form posts) — and checked on every request like
  a bearer key, so revoking the key (``lastmile keys revoke``) signs the board out.
* A link (:mod:`orchestrator.access.links`): the customer's page and a driver's manifest
  opened from a signed, expiring token, with no account.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import Request, Response
from sqlmodel import Session

from api.deps import STAFF, Caller, _settings_secret
from orchestrator.access.keys import authenticate
from orchestrator.access.links import (
    DEFAULT_LINK_LIFETIME,
    LinkPurpose,
    LinkTarget,
    make_link_token,
    read_link_token,
)

__all__ = [
    "BOARD_COOKIE",
    "BOARD_COOKIE_MAX_AGE_S",
    "board_caller",
    "clear_board_cookie",
    "link_secret",
    "link_target",
    "page_link",
    "set_board_cookie",
]

BOARD_COOKIE = "lastmile_board"
BOARD_COOKIE_MAX_AGE_S = 12 * 3600
"""A working day: the board signs out after 12 hours."""


def link_secret(request: Request) -> bytes:
    """The app's secret for signing links (the store's key secret)."""
    return _settings_secret(request.app.state.settings)


def link_target(request: Request, token: str, purpose: LinkPurpose) -> LinkTarget | None:
    """What ``token`` opens for ``purpose``, or ``None`` (answer 404 then)."""
    return read_link_token(link_secret(request), token, purpose=purpose)


def page_link(
    request: Request, purpose: LinkPurpose, target_id: int, *, lifetime: timedelta | None = None
) -> str:
    """The path of the page a new token opens: ``/t/TOKEN`` for an order, the route's
    manifest ``/routes/ID/manifest?token=TOKEN`` for a route."""
    token = make_link_token(
        link_secret(request), purpose, target_id, lifetime=lifetime or DEFAULT_LINK_LIFETIME
    )
    if purpose == "order":
        return f"/t/{token}"
    return f"/routes/{target_id}/manifest?token={token}"


def board_caller(request: Request, session: Session) -> Caller | None:
    """The staff member signed in to the board, or ``None`` (no cookie, an unknown or
    revoked key, or a key of a role that may not plan)."""
    key = request.cookies.get(BOARD_COOKIE)
    if not key:
        return None
    found = authenticate(session, key, secret=link_secret(request))
    if found is None or found.id is None or found.role not in STAFF:
        return None
    if found.retailer_id is not None:  # a retailer's key: the board is the carrier's
        return None
    return Caller(key_id=found.id, role=found.role, customer_id=found.customer_id)


def set_board_cookie(response: Response, key: str) -> None:
    """Keep ``key`` in the board's cookie (see the module's notes)."""
    response.set_cookie(
        BOARD_COOKIE,
        key,
        max_age=BOARD_COOKIE_MAX_AGE_S,
        path="/",
        secure=True,
        httponly=True,
        samesite="strict",
    )


def clear_board_cookie(response: Response) -> None:
    """Sign the board out."""
    response.delete_cookie(BOARD_COOKIE, path="/", secure=True, httponly=True, samesite="strict")
