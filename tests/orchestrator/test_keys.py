"""API keys: shown once, stored as an HMAC under the server's secret (older sha256 ones
re-hashed on first use), bound to a customer for the customer role, listed and revoked."""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pydantic
import pytest
from sqlmodel import Session, select

from orchestrator.access.keys import (
    authenticate,
    create_api_key,
    find_api_key,
    list_api_keys,
    revoke_api_key,
)
from orchestrator.access.secret import key_secret, secret_file
from orchestrator.errors import InvalidInput, NotFound
from orchestrator.models import ApiKey, Role
from orchestrator.settings import Settings
from tests.orchestrator.conftest import World

SECRET = "a test secret of the server, 0123456789"


@pytest.fixture(autouse=True)
def configured_secret(monkeypatch: pytest.MonkeyPatch) -> str:
    """``LASTMILE_KEY_SECRET`` set, so no test writes a secret file into the working folder."""
    monkeypatch.setenv("LASTMILE_KEY_SECRET", SECRET)
    return SECRET


def _hmac(key: str, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), key.encode(), hashlib.sha256).hexdigest()


def test_key_authenticates_and_only_its_hmac_is_stored(session: Session) -> None:
    key = create_api_key(session, "planner")
    found = authenticate(session, key)
    assert found is not None and found.role is Role.PLANNER
    stored = session.exec(select(ApiKey)).one()
    assert stored.key_hash == _hmac(key)
    assert key.startswith(stored.prefix) and len(stored.prefix) < len(key) // 3


def test_a_stolen_database_alone_confirms_no_key(session: Session) -> None:
    """The plain sha256 of a key (what a thief can compute for a guess) is not stored, and
    the same key under another secret does not authenticate."""
    key = create_api_key(session, "admin")
    hashes = set(session.exec(select(ApiKey.key_hash)).all())
    assert hashlib.sha256(key.encode()).hexdigest() not in hashes
    assert authenticate(session, key, secret=b"another server's secret") is None
    assert authenticate(session, key, secret=SECRET.encode()) is not None


def test_a_legacy_sha256_key_is_accepted_once_and_rehashed(session: Session) -> None:
    """A key stored before the secret (a plain sha256) still works, and its first use
    re-hashes it: afterwards the database no longer confirms it."""
    key = "lmk_" + "L" * 43
    legacy = hashlib.sha256(key.encode()).hexdigest()
    session.add(ApiKey(prefix=key[:12], key_hash=legacy, role=Role.ANALYST))
    session.commit()
    found = authenticate(session, key)
    assert found is not None and found.role is Role.ANALYST
    session.expire_all()
    stored = session.exec(select(ApiKey)).one()
    assert stored.key_hash == _hmac(key)
    assert session.exec(select(ApiKey).where(ApiKey.key_hash == legacy)).first() is None
    again = authenticate(session, key)
    assert again is not None and again.id == found.id
    assert authenticate(session, "lmk_" + "M" * 43) is None


def test_a_revoked_legacy_key_stays_refused(session: Session) -> None:
    key = "lmk_" + "R" * 43
    session.add(
        ApiKey(prefix=key[:12], key_hash=hashlib.sha256(key.encode()).hexdigest(), role="admin")
    )
    session.commit()
    found = authenticate(session, key)
    assert found is not None and found.id is not None
    revoke_api_key(session, found.id)
    assert authenticate(session, key) is None


def test_the_secret_file_sits_beside_the_sqlite_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store' / 'lastmile.db'}"
    path = secret_file(url)
    assert path == tmp_path / "store" / "lastmile.db.key-secret"
    assert not path.exists()
    first = key_secret(url)
    assert path.exists() and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 32
    assert key_secret(url) == first  # created once
    assert path.read_text().strip().encode() == first
    assert key_secret(url, "configured, and no file read") == b"configured, and no file read"


def test_a_server_store_keeps_its_secret_in_var(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    url = "postgresql+psycopg://u:p@db.example:5432/lastmile"
    assert secret_file(url) == tmp_path / "var" / "lastmile.key-secret"
    assert secret_file("sqlite://") == tmp_path / "var" / "lastmile.key-secret"  # in memory
    key_secret(url)
    assert stat.S_IMODE((tmp_path / "var" / "lastmile.key-secret").stat().st_mode) == 0o600


def test_processes_creating_the_secret_at_once_agree_on_one(tmp_path: Path) -> None:
    """Every racer gets the secret of the one that linked its file first."""
    from orchestrator.access import secret

    path = tmp_path / "race.key-secret"
    with ThreadPoolExecutor(max_workers=8) as pool:
        secrets_made = set(pool.map(lambda _: secret._create(path), range(32)))
    assert len(secrets_made) == 1
    assert path.read_text().strip() in secrets_made
    assert sorted(os.listdir(tmp_path)) == ["race.key-secret"]  # no drafts left


def test_a_configured_secret_must_be_long_enough(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LASTMILE_KEY_SECRET", "short")
    with pytest.raises(pydantic.ValidationError, match="key_secret"):
        Settings()


def test_keys_are_listed_without_the_key(session: Session, world: World) -> None:
    planner = create_api_key(session, "planner")
    customer = create_api_key(session, "customer", world.customer.id)
    listed = list_api_keys(session)
    assert [(k.role, k.customer_id) for k in listed] == [
        (Role.PLANNER, None),
        (Role.CUSTOMER, world.customer.id),
    ]
    assert [k.prefix for k in listed] == [planner[:12], customer[:12]]


def test_a_key_is_found_by_id_or_prefix(session: Session) -> None:
    key = create_api_key(session, "analyst")
    found = authenticate(session, key)
    assert found is not None and found.id is not None
    assert find_api_key(session, str(found.id)).id == found.id
    assert find_api_key(session, key[:12]).id == found.id
    assert find_api_key(session, key[:9]).id == found.id  # fewer characters, still one key
    assert find_api_key(session, key).id == found.id  # the whole key: its prefix is matched
    with pytest.raises(NotFound):
        find_api_key(session, str(found.id + 100))
    with pytest.raises(NotFound):
        find_api_key(session, "lmk_zzzzzzzz")
    with pytest.raises(NotFound):
        find_api_key(session, "9" * 30)  # beyond 64 bits: no such id, not a crash


@pytest.mark.parametrize(
    "text",
    [
        "lmk_",  # too short to name one key
        "planner",  # neither an id nor a prefix
        "",  # nothing
    ],
)
def test_a_key_name_that_is_neither_id_nor_prefix_is_refused(session: Session, text: str) -> None:
    with pytest.raises(InvalidInput, match="prefix_or_id"):
        find_api_key(session, text)


def test_a_prefix_shared_by_two_keys_names_neither(session: Session) -> None:
    for n in (1, 2):
        session.add(ApiKey(prefix="lmk_abcdefgh", key_hash=f"{n:064x}", role="planner"))
    session.commit()
    with pytest.raises(InvalidInput, match="1, 2"):
        find_api_key(session, "lmk_abcdefgh")


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
