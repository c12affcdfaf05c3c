"""Signed links: made only with the secret, refused when changed, expired or misused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orchestrator.access.links import make_link_token, read_link_token
from orchestrator.errors import InvalidInput

SECRET = b"s" * 32
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def test_a_link_opens_what_it_names_until_it_expires() -> None:
    token = make_link_token(SECRET, "order", 42, lifetime=timedelta(hours=1), now=NOW)
    target = read_link_token(SECRET, token, purpose="order", now=NOW)
    assert target is not None and target.id == 42 and target.purpose == "order"
    assert target.expires_at == NOW + timedelta(hours=1)
    assert read_link_token(SECRET, token, purpose="order", now=NOW + timedelta(hours=1)) is None


def test_a_link_is_refused_for_another_purpose_or_secret() -> None:
    token = make_link_token(SECRET, "order", 42, now=NOW)
    assert read_link_token(SECRET, token, purpose="route", now=NOW) is None
    assert read_link_token(b"t" * 32, token, purpose="order", now=NOW) is None


@given(st.integers(1, 2**62), st.integers(1, 2**62))
def test_changing_the_id_breaks_the_signature(target: int, other: int) -> None:
    token = make_link_token(SECRET, "route", target, now=NOW)
    prefix, _, expiry, signature = token.split(".")
    forged = f"{prefix}.{other}.{expiry}.{signature}"
    expected = target if other == target else None
    found = read_link_token(SECRET, forged, purpose="route", now=NOW)
    assert (found.id if found else None) == expected


@pytest.mark.parametrize("token", ["", "o.1.2", "o.x.1.abc", "o.1.99999999999.abc", "." * 300])
def test_malformed_tokens_are_refused(token: str) -> None:
    assert read_link_token(SECRET, token, purpose="order", now=NOW) is None


def test_bad_arguments_say_what_to_fix() -> None:
    with pytest.raises(InvalidInput, match="id >= 1"):
        make_link_token(SECRET, "order", 0)
    with pytest.raises(InvalidInput, match="positive"):
        make_link_token(SECRET, "order", 1, lifetime=timedelta(0))
