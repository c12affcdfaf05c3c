"""API keys: shown once, stored hashed, bound to a customer for the customer role."""

from __future__ import annotations

import hashlib

import pytest
from sqlmodel import Session, select

from orchestrator.access.keys import authenticate, create_api_key, revoke_api_key
from orchestrator.errors import InvalidInput
from orchestrator.models import ApiKey, Role
from tests.orchestrator.conftest import World


def test_key_authenticates_and_only_its_hash_is_stored(session: Session) -> None:
    key = create_api_key(session, "planner")
    found = authenticate(session, key)
    assert found is not None and found.role is Role.PLANNER
    stored = session.exec(select(ApiKey)).one()
    assert stored.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key.startswith(stored.prefix) and len(stored.prefix) < len(key) // 3


@pytest.mark.parametrize("key", ["", "nope", "lmk_" + "x" * 43])
def test_unknown_keys_do_not_authenticate(session: Session, key: str) -> None:
    create_api_key(session, Role.ADMIN)
    assert authenticate(session, key) is None


def test_customer_key_carries_its_customer(session: Session, world: World) -> None:
    key = create_api_key(session, Role.CUSTOMER, customer_id=world.customer.id)
    found = authenticate(session, key)
    assert found is not None and found.customer_id == world.customer.id


@pytest.mark.parametrize(
    ("role", "customer_id"),
    [
        ("customer", None),  # a customer key without its customer
        ("customer", 999),  # an unknown customer
        ("planner", 1),  # a customer id on a staff key
        ("root", None),  # no such role
    ],
)
def test_bad_key_requests_are_refused(session: Session, role: str, customer_id: int | None) -> None:
    with pytest.raises(InvalidInput):
        create_api_key(session, role, customer_id=customer_id)


def test_revoked_key_no_longer_authenticates(session: Session) -> None:
    key = create_api_key(session, Role.ANALYST)
    found = authenticate(session, key)
    assert found is not None and found.id is not None
    revoke_api_key(session, found.id)
    assert authenticate(session, key) is None
