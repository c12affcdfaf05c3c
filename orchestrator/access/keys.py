"""API keys: created once, shown once, stored only as a hash.

A key is ``lmk_`` followed by 43 URL-safe characters (32 random bytes from :mod:`secrets`).
The store keeps its sha256 and its first :data:`PREFIX_LENGTH` characters (to recognise a
key in a list); a stolen database yields no usable key. A fast hash is enough because the
key is random and long, unlike a password.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from orchestrator.errors import InvalidInput, NotFound
from orchestrator.models import ApiKey, Customer, Role
from orchestrator.models.columns import utcnow

__all__ = ["KEY_PREFIX", "PREFIX_LENGTH", "authenticate", "create_api_key", "revoke_api_key"]

KEY_PREFIX = "lmk_"
"""Every key starts with this, so leaked keys are easy to find with a secret scanner."""
PREFIX_LENGTH = 12
"""Characters of the key kept in clear for display."""
_TOKEN_BYTES = 32


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(session: Session, role: Role | str, customer_id: int | None = None) -> str:
    """Create a key and return it — the only time it is ever available in clear.

    Parameters
    ----------
    role
        ``planner``, ``customer``, ``analyst`` or ``admin``.
    customer_id
        The customer a ``customer`` key belongs to (required for that role, refused for
        the others).

    Raises
    ------
    InvalidInput
        An unknown role, or a customer id missing, unknown or given to another role.
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
        if session.get(Customer, customer_id) is None:
            raise InvalidInput("customer_id", f"no customer {customer_id} — create it first")
    elif customer_id is not None:
        raise InvalidInput(
            "customer_id", f"only customer keys belong to a customer, not {role.value} keys"
        )
    key = KEY_PREFIX + secrets.token_urlsafe(_TOKEN_BYTES)
    session.add(
        ApiKey(
            prefix=key[:PREFIX_LENGTH], key_hash=_digest(key), role=role, customer_id=customer_id
        )
    )
    session.commit()
    return key


def authenticate(session: Session, key: str, *, now: datetime | None = None) -> ApiKey | None:
    """The stored key matching ``key``, or ``None`` when unknown or revoked."""
    if not key or not key.startswith(KEY_PREFIX):
        return None
    digest = _digest(key)
    found: ApiKey | None = session.exec(_by_digest(), params={"digest": digest}).first()
    if found is None or not hmac.compare_digest(found.key_hash, digest):
        return None
    if found.revoked_at is not None and found.revoked_at <= (now or utcnow()):
        return None
    return found


@lru_cache(maxsize=1)
def _by_digest() -> Any:
    """The key with a digest (built once: every request asks it)."""
    return select(ApiKey).where(col(ApiKey.key_hash) == sa.bindparam("digest"))


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
