"""Signed, expiring links: what a retailer puts in "your order is on its way", what a driver
opens on a phone — a page without an account.

A link token names what it opens (``purpose``: ``"order"`` for the customer's page,
``"route"`` for a driver's manifest), its id and when it expires, and carries an
HMAC-SHA256 over those under the store's key secret (:mod:`orchestrator.access.secret`), so
only the server can make one and a changed id or expiry is refused. It holds no personal data
(an id and a time) and is URL-safe::

    o.1042.1767225600.Zm9vYmFy...   purpose.id.expiry(unix s).signature(base64url, 22 chars)

The signature is truncated to 128 bits, plenty against forgery with a 256-bit key. A token
is refused after its expiry; there is no list of tokens to revoke one early — rotate the
secret for that (which also invalidates every API key).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from orchestrator.errors import InvalidInput

__all__ = [
    "DEFAULT_LINK_LIFETIME",
    "LinkPurpose",
    "LinkTarget",
    "make_link_token",
    "read_link_token",
]

LinkPurpose = Literal["order", "route"]

_PREFIX: dict[str, str] = {"order": "o", "route": "r"}
_PURPOSE: dict[str, LinkPurpose] = {"o": "order", "r": "route"}
_SIGNATURE_BYTES = 16

DEFAULT_LINK_LIFETIME = timedelta(days=14)
"""How long a link works unless told otherwise: long enough for a delivery and a return."""


@dataclass(frozen=True, slots=True)
class LinkTarget:
    """What a valid token opens: an order (customer's page) or a route (driver's manifest)."""

    purpose: LinkPurpose
    id: int
    expires_at: datetime


def _signature(secret: bytes, message: str) -> str:
    digest = hmac.new(secret, message.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:_SIGNATURE_BYTES]).rstrip(b"=").decode("ascii")


def make_link_token(
    secret: bytes,
    purpose: LinkPurpose,
    target_id: int,
    *,
    lifetime: timedelta = DEFAULT_LINK_LIFETIME,
    now: datetime | None = None,
) -> str:
    """A token opening ``purpose`` ``target_id`` until ``now + lifetime``.

    Raises
    ------
    InvalidInput
        An unknown purpose, an id below 1 or a lifetime that is not positive.
    """
    if purpose not in _PREFIX:
        raise InvalidInput("purpose", f"unknown link purpose {purpose!r} — give 'order' or 'route'")
    if target_id < 1:
        raise InvalidInput("id", f"a link needs an id >= 1, not {target_id}")
    if lifetime <= timedelta(0):
        raise InvalidInput("lifetime", "a link's lifetime must be positive")
    expires = int(((now or datetime.now(UTC)) + lifetime).timestamp())
    message = f"{_PREFIX[purpose]}.{target_id}.{expires}"
    return f"{message}.{_signature(secret, message)}"


def read_link_token(
    secret: bytes, token: str, *, purpose: LinkPurpose, now: datetime | None = None
) -> LinkTarget | None:
    """What ``token`` opens, or ``None`` when it is malformed, forged, expired or made for
    another purpose (the caller answers 404 alike, so a token cannot be probed)."""
    parts = token.split(".")
    if len(parts) != 4 or len(token) > 200:
        return None
    prefix, raw_id, raw_expiry, signature = parts
    if _PURPOSE.get(prefix) != purpose or not raw_id.isdigit() or not raw_expiry.isdigit():
        return None
    expected = _signature(secret, f"{prefix}.{raw_id}.{raw_expiry}")
    if not hmac.compare_digest(expected, signature):
        return None
    expires_at = datetime.fromtimestamp(int(raw_expiry), UTC)
    if expires_at <= (now or datetime.now(UTC)):
        return None
    target_id = int(raw_id)
    if not 1 <= target_id < 2**63:
        return None
    return LinkTarget(purpose=purpose, id=target_id, expires_at=expires_at)
