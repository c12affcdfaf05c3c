"""The OpenAPI document is complete, so it cannot silently regress: every operation has a
summary and a description, every request body and every success response an example (valid
for its model), and every error an operation may answer is declared with its body model."""

from __future__ import annotations

import typing
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import BaseModel, TypeAdapter

import api.routes.couriers
import api.routes.kpis
import api.routes.options
import api.routes.plan_exports
import api.routes.profiles
import api.routes.retailers
import api.routes.returns
import api.routes.simulations
import api.routes.stores
import api.routes.tracking
import api.routes.webhooks
import api.routes.whereabouts
from api.app import create_app
from api.errors import ErrorMessage, InvalidInputBody, VroomInputBody
from api.routes import customers, depots, fleet, health, orders, plans, routes, vroom
from api.routes.depots import EXAMPLE as DEPOT
from orchestrator.settings import Settings
from tests.api.conftest import Keys, bearer

ROUTERS = (health, vroom, depots, fleet, customers, orders, plans, routes)
ROUTERS += (api.routes.profiles, api.routes.options)
ROUTERS += (api.routes.stores, api.routes.returns)
ROUTERS += (api.routes.whereabouts,)
ROUTERS += (api.routes.simulations,)
ROUTERS += (api.routes.tracking,)
ROUTERS += (api.routes.webhooks,)
ROUTERS += (api.routes.couriers,)
ROUTERS += (api.routes.plan_exports,)
ROUTERS += (api.routes.kpis,)
ROUTERS += (api.routes.retailers,)

CONFLICTS = {
    ("post", "/depots"),  # code taken
    ("post", "/vehicle-types"),  # name taken
    ("post", "/customers/{customer_id}/places"),  # place name taken
    ("post", "/orders"),  # Idempotency-Key reused with other content
    ("post", "/plans"),  # the day is dispatched: re-plan instead
    ("post", "/plans/{plan_id}/replan"),  # not the day's current plan
    ("get", "/plans/{plan_id}/routes"),  # the job has not finished
    ("get", "/plans/{plan_id}/routes.geojson"),  # the job has not finished
    ("get", "/plans/{plan_id}/routes.csv"),  # the job has not finished
    ("get", "/plans/{plan_id}/routes.xlsx"),  # the job has not finished
    ("post", "/routes/{route_id}/dispatch"),  # its plan is no longer current
    ("post", "/routes/{route_id}/stops/{stop_id}/outcome"),  # not dispatched, or closed
    ("post", "/routes/{route_id}/progress"),  # not dispatched, or its plan not current
}
CONFLICTS |= {
    ("post", "/stores"),  # code taken
    ("delete", "/stores/{store_id}"),  # returns head there
    ("post", "/returns"),  # order not delivered, or every unit already returned
    ("get", "/returns/{return_id}/pickup-options"),  # the item has left the customer
    ("post", "/returns/{return_id}/pickup"),  # no longer collectable then, or left already
    ("post", "/returns/{return_id}/progress"),  # no pickup chosen, or already that far
}
CONFLICTS |= {
    ("get", "/orders/{order_id}/options"),  # the order is dispatched or closed
    ("post", "/orders/{order_id}/options"),  # no longer fits the day, or the order moved on
    ("post", "/holds/{hold_id}/confirm"),  # the hold expired or was released
    ("delete", "/holds/{hold_id}"),  # the hold is confirmed
}
CONFLICTS |= {
    ("put", "/orders/{order_id}/whereabouts"),  # too late, closed, off the plan, unservable
    ("post", "/plans/{plan_id}/current"),  # not kept aside, or the day moved on since
}
CONFLICTS |= {
    ("get", "/simulations/{simulation_id}/report.html"),  # the job has not succeeded
    ("get", "/simulations/{simulation_id}/report.csv"),  # the job has not succeeded
    ("get", "/simulations/{simulation_id}/report.json"),  # the job has not succeeded
    ("get", "/simulations/{simulation_id}/report.parquet"),  # the job has not succeeded
    ("get", "/simulations/{simulation_id}/plots/{name}.png"),  # the job has not succeeded
}
CONFLICTS |= {
    ("post", "/couriers/offers/{offer_id}/accept"),  # answered, expired, or a parcel moved on
    ("post", "/couriers/offers/{offer_id}/refuse"),  # no longer waiting for an answer
    ("post", "/couriers/offers/{offer_id}/no-show"),  # not accepted, or parcels picked up
    ("post", "/couriers/offers/{offer_id}/pickup"),  # not accepted
    ("post", "/couriers/jobs/{job_id}/delivered"),  # not picked up, or closed
}
"""Operations that may answer 409, and why."""

NOT_ACCEPTABLE = {("get", "/plans/{plan_id}/routes")}  # JSON, GeoJSON, CSV, .xlsx by Accept
"""Operations that answer 406 to an ``Accept`` none of their media types meets."""

FORBIDDEN_IN_THE_ROUTE = {
    ("post", "/customers/{customer_id}/places"),  # any key may, but an analyst's
    ("post", "/orders"),  # any key may, but an analyst's
}
FORBIDDEN_IN_THE_ROUTE |= {
    ("post", "/returns"),  # any key may, but an analyst's
    ("post", "/returns/{return_id}/pickup"),  # any key may, but an analyst's
}

NOT_FOUND_IN_THE_BODY = {
    ("post", "/returns"),  # the order named in the body: unknown, or another customer's
}
"""Operations without a path parameter that answer 404 for an id in their body."""
"""Operations that answer 403 for some roles without a role dependency."""

ERROR_BODIES = {"ErrorMessage", "InvalidInputBody", "VroomInputBody", "BodyTooLarge"}


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The app's OpenAPI document (it needs no running store)."""
    db = tmp_path_factory.mktemp("openapi") / "api.db"
    app: FastAPI = create_app(Settings(database_url=f"sqlite:///{db}"))
    return app.openapi()


def api_routes() -> Iterator[APIRoute]:
    """Every route of every router the app includes."""
    for module in ROUTERS:
        for route in module.router.routes:
            assert isinstance(route, APIRoute)
            yield route


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """``(method, path, operation)`` of every operation in the document."""
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            yield method, path, operation


def resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """The schema behind a ``$ref``, an optional (``anyOf`` with null) or an array."""
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        return resolve(spec, spec["components"]["schemas"][name])
    if "anyOf" in schema:
        (only,) = [s for s in schema["anyOf"] if s.get("type") != "null"]
        return resolve(spec, only)
    if schema.get("type") == "array" and "items" in schema:
        return resolve(spec, schema["items"])
    return schema


def has_example(spec: dict[str, Any], media: dict[str, Any]) -> bool:
    """The media type, or the schema it names, carries an example."""
    if "example" in media or "examples" in media:
        return True
    schema = resolve(spec, media.get("schema", {}))
    return bool(schema.get("examples") or schema.get("example"))


def role_restricted(route: APIRoute) -> bool:
    """The route depends on :func:`api.deps.require_role`."""
    pending = list(route.dependant.dependencies)
    while pending:
        dependency = pending.pop()
        if getattr(dependency.call, "roles", None):
            return True
        pending.extend(dependency.dependencies)
    return False


def models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    """The pydantic models in an annotation, nested fields included."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        for field in annotation.model_fields.values():
            yield from models_in(field.annotation)
        return
    for arg in typing.get_args(annotation):
        yield from models_in(arg)


def test_every_route_is_in_the_document(spec: dict[str, Any]) -> None:
    documented = {(method, path) for method, path, _ in operations(spec)}
    routed = {(m.lower(), r.path) for r in api_routes() for m in r.methods}
    assert documented == routed


def test_every_operation_has_a_summary_and_a_description(spec: dict[str, Any]) -> None:
    missing = [
        (method, path)
        for method, path, op in operations(spec)
        if not op.get("summary") or not op.get("description")
    ]
    assert missing == []


def test_every_request_body_has_an_example(spec: dict[str, Any]) -> None:
    bodies = [(m, p, op["requestBody"]) for m, p, op in operations(spec) if "requestBody" in op]
    assert len(bodies) >= 10
    missing = [
        (method, path, media_type)
        for method, path, body in bodies
        for media_type, media in body["content"].items()
        if not has_example(spec, media)
    ]
    assert missing == []


def test_every_success_response_has_an_example(spec: dict[str, Any]) -> None:
    missing = [
        (method, path, code, media_type)
        for method, path, op in operations(spec)
        for code, response in op["responses"].items()
        if code.startswith("2")
        for media_type, media in response.get("content", {}).items()
        if not has_example(spec, media)
    ]
    assert missing == []


def test_error_responses_are_declared_with_the_error_body(spec: dict[str, Any]) -> None:
    by_operation = {(m.lower(), r.path): r for r in api_routes() for m in r.methods}
    wrong = []
    for method, path, op in operations(spec):
        route = by_operation[(method, path)]
        expected = set()
        if op.get("security"):
            expected.update({401, 429})  # api.deps: failed keys are counted per address
        if role_restricted(route) or (method, path) in FORBIDDEN_IN_THE_ROUTE:
            expected.add(403)
        if any(p["in"] == "path" for p in op.get("parameters", [])):
            expected.add(404)
        if (method, path) in NOT_FOUND_IN_THE_BODY:
            expected.add(404)
        if (method, path) in CONFLICTS:
            expected.add(409)
        if (method, path) in NOT_ACCEPTABLE:
            expected.add(406)
        if op.get("parameters") or "requestBody" in op:
            expected.add(422)
        if "requestBody" in op:
            expected.update({413, 415})  # api.limits: a body over its limit; not sent as JSON
        declared = {int(code) for code in op["responses"] if code.startswith("4")}
        if declared != expected:
            wrong.append((method, path, sorted(declared), sorted(expected)))
        for code, response in op["responses"].items():
            if not code.startswith(("4", "5")):
                continue
            media = response["content"]["application/json"]
            body = media["schema"]["$ref"].removeprefix("#/components/schemas/")
            known = body in ERROR_BODIES and body in spec["components"]["schemas"]
            if not known or "example" not in media or not response["description"]:
                wrong.append((method, path, code, body))
    assert wrong == []


def test_fastapis_own_validation_error_is_not_documented(spec: dict[str, Any]) -> None:
    # Our 422 body (InvalidInputBody) replaces it everywhere.
    assert "HTTPValidationError" not in spec["components"]["schemas"]


def test_every_schema_example_is_valid_for_its_model() -> None:
    checked = set()
    for route in api_routes():
        annotations = [route.response_model]
        if route.body_field is not None:
            annotations.append(route.body_field.field_info.annotation)
        for model in {m for a in annotations for m in models_in(a)}:
            extra = model.model_config.get("json_schema_extra")
            for example in (extra or {}).get("examples", []):  # type: ignore[union-attr]
                model.model_validate(example)
                checked.add(model.__name__)
    assert {"PlanJobPublic", "PlanRoutes", "OrderPublic", "PlanRequest", "Health"} <= checked


def test_every_body_example_is_valid_for_its_body() -> None:
    checked = 0
    for route in api_routes():
        if route.body_field is None:
            continue
        adapter = TypeAdapter(route.body_field.field_info.annotation)
        for example in (route.body_field.field_info.openapi_examples or {}).values():
            adapter.validate_python(example["value"])
            checked += 1
    assert checked >= 7


def test_error_bodies_the_app_sends_are_the_documented_ones(
    client: TestClient, keys: Keys, world: dict[str, Any]
) -> None:
    h = bearer(keys.planner)
    sent = [
        (client.get("/depots"), 401, ErrorMessage),
        (client.post("/depots", json=DEPOT, headers=bearer(keys.analyst)), 403, ErrorMessage),
        (client.get("/plans/999", headers=h), 404, ErrorMessage),
        (client.post("/depots", json=DEPOT, headers=h), 409, ErrorMessage),  # HEL1 is taken
        (
            client.post("/orders", json={"items": []}, headers={**h, "Idempotency-Key": "x"}),
            422,
            InvalidInputBody,
        ),
        (client.post("/solve/vroom", json={"jobs": []}, headers=h), 422, VroomInputBody),
    ]
    for response, code, body in sent:
        assert response.status_code == code, response.text
        body.model_validate(response.json(), strict=False)
        assert set(response.json()) <= set(body.model_fields), response.json()
