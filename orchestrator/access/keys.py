"""API keys: created once, shown once, stored only as a keyed hash.

A key is ``lmk_`` followed by 43 URL-safe characters (32 random bytes from :mod:`secrets`).
The store keeps its HMAC-SHA256 under the server's secret (:mod:`orchestrator.access.secret`:
``LASTMILE_KEY_SECRET``, or a secret file beside the SQLite database or in ``./var``) and its
first :data:`PREFIX_LENGTH` characters (to recognise a key in a list). A stolen database
alone neither yields a key nor confirms a guessed one. A fast hash is enough because the key
is random and long, unlike a password.

Keys stored before the secret existed carry a plain sha256: such a key is accepted and, on
that first use, hashed again with the secret (:func:`authenticate`), so older keys keep
working and stop being confirmable from the database once used.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import datetime
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from orchestrator.access.secret import key_secret
from orchestrator.errors import InvalidInput, NotFound
from orchestrator.models import ApiKey, Courier, Customer, Retailer, Role
from orchestrator.models.columns import utcnow
from orchestrator.settings import Settings

__all__ = [
    "KEY_PREFIX",
    "PREFIX_LENGTH",
    "authenticate",
    "create_api_key",
    "find_api_key",
    "key_digest",
    "list_api_keys",
    "revoke_api_key",
    "store_secret",
]

KEY_PREFIX = "lmk_"
"""Every key starts with this, so leaked keys are easy to find with a secret scanner."""
PREFIX_LENGTH = 12
"""Characters of the key kept in clear for display."""
_TOKEN_BYTES = 32
_MAX_KEY_LENGTH = 256
"""Longer than any key (47 characters): refused without hashing."""
_MIN_PREFIX = len(KEY_PREFIX) + 4
"""Shortest prefix :func:`find_api_key` accepts: ``lmk_`` and four characters of the key."""

_log = logging.getLogger(__name__)


def key_digest(key: str, secret: bytes) -> str:
    """What the store keeps of ``key``: its HMAC-SHA256 under ``secret``, in hex."""
    return hmac.new(secret, key.encode(), hashlib.sha256).hexdigest()


def _legacy_digest(key: str) -> str:
    """The plain sha256 that keys made before the secret were stored as."""
    return hashlib.sha256(key.encode()).hexdigest()


def store_secret(session: Session) -> bytes:
    """The secret of the store ``session`` is bound to (``LASTMILE_KEY_SECRET`` or its file).

    For callers that have no :class:`~orchestrator.settings.Settings` at hand; the API
    passes the secret of its own settings instead.
    """
    configured = Settings().key_secret
    url = session.get_bind().engine.url.render_as_string(hide_password=False)
    return key_secret(url, configured.get_secret_value() if configured else None)


def create_api_key(
    session: Session,
    role: Role | str,
    customer_id: int | None = None,
    *,
    retailer_id: int | None = None,
    secret: bytes | None = None,
    courier_id: int | None = None,
) -> str:
    """Create a key and return it — the only time it is ever available in clear.

    Parameters
    ----------
    role
        ``planner``, ``customer``, ``analyst``, ``admin`` or ``courier``.
    customer_id
        The customer a ``customer`` key belongs to (required for that role, refused for
        the others).
    retailer_id
        The retailer a ``planner`` or ``analyst`` key belongs to: it sees only that
        retailer's rows (:mod:`orchestrator.access.tenancy`). ``None``: the carrier's key,
        which sees every retailer's. A ``customer`` key always belongs to its customer's
        retailer (a different one given is refused); ``admin`` keys are the carrier's.
    secret
        The server's key secret; ``None`` finds the store's (:func:`store_secret`).
    courier_id
        The courier a ``courier`` key belongs to (required for that role, refused for the
        others).

    Raises
    ------
    InvalidInput
        An unknown role, a customer or courier id missing, unknown or given to another
        role, or a retailer that does not exist, is not the customer's, or is given to an
        admin key.
    """
    try:
        role = Role(role)
    except ValueError:
        raise InvalidInput(
            "role", f"unknown role {role!r} — use one of {', '.join(r.value for r in Role)}"
        ) from None
    if role is Role.CUSTOMER:
        if customer_id is None:
            raise InvalidInput("customer_id", "a customer key needs the customer's id")
        customer = session.get(Customer, customer_id)
        if customer is None:
            raise InvalidInput("customer_id", f"no customer {customer_id} — create it first")
        if retailer_id is not None and retailer_id != customer.retailer_id:
            raise InvalidInput(
                "retailer_id",
                f"customer {customer_id} is retailer {customer.retailer_id}'s, not retailer "
                f"{retailer_id}'s — leave the retailer out for a customer key",
            )
        retailer_id = customer.retailer_id
    elif customer_id is not None:
        raise InvalidInput(
            "customer_id", f"only customer keys belong to a customer, not {role.value} keys"
        )
    if role is Role.COURIER:
        if courier_id is None:
            raise InvalidInput("courier_id", "a courier key needs the courier's id")
        if session.get(Courier, courier_id) is None:
            raise InvalidInput("courier_id", f"no courier {courier_id} — create it first")
    elif courier_id is not None:
        raise InvalidInput(
            "courier_id", f"only courier keys belong to a courier, not {role.value} keys"
        )
    if role is not Role.CUSTOMER and retailer_id is not None:
        if role in (Role.ADMIN, Role.COURIER):
            raise InvalidInput(
                "retailer_id",
                f"{role.value} keys are the carrier's — give a retailer to planner, "
                "analyst or customer keys only",
            )
        if session.get(Retailer, retailer_id) is None:
            raise InvalidInput("retailer_id", f"no retailer {retailer_id} — create it first")
    secret = store_secret(session) if secret is None else secret
    key = KEY_PREFIX + secrets.token_urlsafe(_TOKEN_BYTES)
    session.add(
        ApiKey(
            prefix=key[:PREFIX_LENGTH],
            key_hash=key_digest(key, secret),
            role=role,
            customer_id=customer_id,
            courier_id=courier_id,
            retailer_id=retailer_id,
        )
    )
    session.commit()
    return key


def authenticate(
    session: Session, key: str, *, secret: bytes | None = None, now: datetime | None = None
) -> ApiKey | None:
    """The stored key matching ``key``, or ``None`` when unknown or revoked.

    ``secret`` is the server's key secret (``None`` finds the store's). A key still stored
    as a plain sha256 is accepted and re-hashed with the secret (committed at once; if the
    store cannot take the write now, the key is accepted anyway and re-hashed next time).
    """
    if not key or not key.startswith(KEY_PREFIX) or len(key) > _MAX_KEY_LENGTH:
        return None
    secret = store_secret(session) if secret is None else secret
    digest = key_digest(key, secret)
    found = _by_digest(session, digest)
    if found is None:
        found = _by_digest(session, _legacy_digest(key))
        if found is None:
            return None
        _rehash(session, found, digest)
    if found.revoked_at is not None and found.revoked_at <= (now or utcnow()):
        return None
    return found


def _by_digest(session: Session, digest: str) -> ApiKey | None:
    found: ApiKey | None = session.exec(_digest_query(), params={"digest": digest}).first()
    # The index found it; compare again in constant time all the same.
    if found is None or not hmac.compare_digest(found.key_hash, digest):
        return None
    return found


@lru_cache(maxsize=1)
def _digest_query() -> Any:
    """The key with a digest (built once: every request asks it)."""
    return select(ApiKey).where(col(ApiKey.key_hash) == sa.bindparam("digest"))


def _rehash(session: Session, found: ApiKey, digest: str) -> None:
    """Store ``found`` under its keyed ``digest`` instead of its plain sha256."""
    found.key_hash = digest
    session.add(found)
    try:
        session.commit()
    except sa.exc.SQLAlchemyError as exc:
        session.rollback()
        _log.warning("API key %s not re-hashed yet (%s); will retry on next use", found.id, exc)
    session.refresh(found)


def list_api_keys(session: Session) -> list[ApiKey]:
    """Every key, revoked ones included, oldest first (their rows, never a key)."""
    return list(session.exec(select(ApiKey).order_by(col(ApiKey.id))).all())


def find_api_key(session: Session, prefix_or_id: str) -> ApiKey:
    """The key named by its id (``7``) or by the start of the key (``lmk_3f9a1b2c``, as
    :func:`list_api_keys` shows it; at least :data:`PREFIX_LENGTH` characters are matched
    against the stored prefix, fewer must still name one key).

    Raises
    ------
    NotFound
        No key has that id or prefix.
    InvalidInput
        Neither an id nor a key prefix, or a prefix shared by several keys (field
        ``prefix_or_id``; the message lists their ids).
    """
    text = prefix_or_id.strip()
    if text.isdigit():
        found = session.get(ApiKey, int(text)) if len(text) < 19 else None
        if found is None:
            raise NotFound("api key", text)
        return found
    if not text.startswith(KEY_PREFIX) or len(text) < _MIN_PREFIX:
        raise InvalidInput(
            "prefix_or_id",
            f"{text[:20]!r} is neither a key id nor a key prefix — give the id or at least "
            f"{_MIN_PREFIX} characters of the key, as `lastmile keys list` shows them",
        )
    start = text[:PREFIX_LENGTH]
    query = select(ApiKey).where(col(ApiKey.prefix).startswith(start, autoescape=True))
    matches = list(session.exec(query.order_by(col(ApiKey.id))).all())
    if not matches:
        raise NotFound("api key", start)
    if len(matches) > 1:
        ids = ", ".join(str(m.id) for m in matches)
        raise InvalidInput(
            "prefix_or_id", f"{start} starts keys {ids} — name the one meant by its id"
        )
    return matches[0]


def revoke_api_key(session: Session, key_id: int) -> ApiKey:
    """Revoke a key from now on (the row stays, for the record)."""
    found = session.get(ApiKey, key_id)
    if found is None:
        raise NotFound("api key", key_id)
    if found.revoked_at is None:
        found.revoked_at = utcnow()
        session.add(found)
        session.commit()
        session.refresh(found)
    return found
