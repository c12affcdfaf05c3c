"""Signing webhook bodies: HMAC-SHA256 over the exact bytes posted, with the subscription's
secret, sent as ``Webhook-Signature: sha256=<hex>``.

The signature covers the body only (as issue #15 asks). The body carries its own ``id`` and
``occurred_at``, so a receiver that keeps the ids it has seen also refuses a replayed body;
``Webhook-Timestamp`` (the attempt's time) is informative and not signed.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

__all__ = ["SECRET_PREFIX", "SIGNATURE_SCHEME", "new_secret", "sign", "verify"]

SECRET_PREFIX = "whsec_"
"""What every subscription's secret starts with, so a leaked one is recognised as such."""
SIGNATURE_SCHEME = "sha256"
"""The scheme named before ``=`` in ``Webhook-Signature``."""


def new_secret() -> str:
    """A fresh secret: :data:`SECRET_PREFIX` and 32 random bytes, URL-safe base64 (43
    characters)."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def sign(secret: str, body: bytes) -> str:
    """The ``Webhook-Signature`` value of ``body``: ``sha256=`` and the lowercase hex
    HMAC-SHA256 of the body's bytes under the secret's UTF-8 bytes."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_SCHEME}={digest}"


def verify(secret: str, body: bytes, signature: str) -> bool:
    """Whether ``signature`` (a ``Webhook-Signature`` value) signs ``body`` under ``secret``;
    compared in constant time."""
    return hmac.compare_digest(sign(secret, body), signature.strip())
