"""Authentication and roles: 401 without or with a bad key, 403 for the wrong role."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from orchestrator.access.keys import revoke_api_key
from orchestrator.models import ApiKey
from tests.api.conftest import Keys, bearer


def test_health_needs_no_key(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_docs_need_no_key(client: TestClient) -> None:
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/docs").status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},  # no Authorization header at all
        {"Authorization": "Bearer lmk_not-a-real-key"},  # well-formed but unknown
        {"Authorization": "Bearer "},  # empty key
        {"Authorization": "Basic dXNlcjpwYXNz"},  # another scheme
    ],
)
def test_missing_or_bad_key_is_401_with_bearer_challenge(
    client: TestClient, keys: Keys, headers: dict[str, str]
) -> None:
    response = client.post("/solve/vroom", json={}, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert "key" in response.json()["detail"]


def test_revoked_key_is_401(client: TestClient, session: Session, keys: Keys) -> None:
    planner = session.exec(select(ApiKey).where(ApiKey.role == "planner")).one()
    assert planner.id is not None
    revoke_api_key(session, planner.id)
    response = client.post("/solve/vroom", json={}, headers=bearer(keys.planner))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("role", ["customer", "analyst"])
def test_wrong_role_is_403(client: TestClient, keys: Keys, role: str) -> None:
    response = client.post("/solve/vroom", json={}, headers=bearer(getattr(keys, role)))
    assert response.status_code == 403
    assert "planner" in response.json()["detail"]


def test_openapi_declares_the_bearer_scheme(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"
