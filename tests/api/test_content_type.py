"""A JSON body sent without ``Content-Type: application/json`` is answered 415 naming the
header and the fix — as ``curl -d`` does (it sends ``application/x-www-form-urlencoded``),
which used to answer 422 "Input should be a valid dictionary".

The 415 keeps the shape of the API's 422 (``detail``, ``message``, ``field``), and every
operation that takes a body documents it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.routes.depots import EXAMPLE as DEPOT
from tests.api.conftest import Keys, Live, bearer

FIX = "Content-Type: application/json"
VROOM_PROBLEM = {
    "vehicles": [{"id": 1, "start": [24.94, 60.17], "end": [24.94, 60.17]}],
    "jobs": [{"id": 1, "location": [24.95, 60.17]}],
}


def assert_unsupported(answer: Any, sent: str | None) -> dict[str, Any]:
    """``answer`` is the 415 that names the header, what was sent and how to fix it."""
    assert answer.status_code == 415, answer.text
    body: dict[str, Any] = answer.json()
    assert body["field"] == "header.content-type"
    assert body["detail"][0]["loc"] == ["header", "content-type"]
    assert body["detail"][0]["type"] == "unsupported_media_type"
    message = body["message"]
    assert FIX in message and "--json" in message, message
    assert (sent or "no Content-Type") in message, message
    return body


@pytest.mark.parametrize(
    "content_type",
    [
        "application/x-www-form-urlencoded",  # what curl -d sends
        "text/plain",  # a client that sends text
        None,  # no header at all
    ],
)
def test_a_json_body_without_its_content_type_is_415(
    client: TestClient, keys: Keys, content_type: str | None
) -> None:
    headers = bearer(keys.planner)
    if content_type is not None:
        headers["Content-Type"] = content_type
    answer = client.post("/depots", content=json.dumps(DEPOT), headers=headers)
    assert_unsupported(answer, content_type)
    # The same body, said to be JSON, is taken.
    taken = client.post("/depots", json=DEPOT, headers=bearer(keys.planner))
    assert taken.status_code == 201, taken.text


def test_no_body_at_all_is_still_the_422_of_a_missing_body(client: TestClient, keys: Keys) -> None:
    for headers in ({}, {"Content-Type": "application/x-www-form-urlencoded"}):
        answer = client.post("/depots", headers={**bearer(keys.planner), **headers})
        assert answer.status_code == 422, answer.text
        assert answer.json()["field"] == "body"


def test_every_method_with_a_body_says_so(
    client: TestClient, keys: Keys, world: dict[str, Any]
) -> None:
    form = {**bearer(keys.planner), "Content-Type": "application/x-www-form-urlencoded"}
    put = client.put(f"/customers/{keys.customer_id}/profile", content="{}", headers=form)
    assert_unsupported(put, "application/x-www-form-urlencoded")
    store = {"code": "KAL", "name": "Kallio", "lat": 60.18, "lon": 24.95}
    made = client.post("/stores", json=store, headers=bearer(keys.planner))
    assert made.status_code == 201, made.text
    patch = client.patch(f"/stores/{made.json()['id']}", content='{"name": "K"}', headers=form)
    assert_unsupported(patch, "application/x-www-form-urlencoded")


def test_vrooms_415_carries_vrooms_error_fields(client: TestClient, keys: Keys) -> None:
    headers = {**bearer(keys.planner), "Content-Type": "application/x-www-form-urlencoded"}
    answer = client.post("/solve/vroom", content=json.dumps(VROOM_PROBLEM), headers=headers)
    body = assert_unsupported(answer, "application/x-www-form-urlencoded")
    assert body["code"] == 2 and FIX in body["error"]


def test_the_key_is_judged_first_and_bodiless_operations_ignore_the_type(
    client: TestClient, keys: Keys
) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    assert client.post("/depots", content="{}", headers=form).status_code == 401
    # An operation that takes no body: a stray form body changes nothing.
    confirm = client.post("/holds/999/confirm", content="a=1", headers={**form,
                          **bearer(keys.planner)})  # fmt: skip
    assert confirm.status_code == 404, confirm.text


def test_every_operation_with_a_body_documents_the_415(app: FastAPI) -> None:
    documented = 0
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            if "requestBody" not in operation:
                continue
            answer = operation["responses"].get("415")
            assert answer, f"{method.upper()} {path} does not document its 415"
            media = answer["content"]["application/json"]
            assert FIX in json.dumps(media["example"]), (method, path)
            assert media["schema"]["$ref"].rsplit("/", 1)[1] in (
                "InvalidInputBody",
                "VroomInputBody",
            )
            documented += 1
    assert documented >= 10


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs the curl binary")
def test_curl_dash_d_is_told_what_to_send(live: Live, tmp_path: Path) -> None:
    problem = tmp_path / "problem.json"
    problem.write_text(json.dumps(VROOM_PROBLEM))
    auth = f"Authorization: Bearer {live.planner}"
    url = f"{live.url}/solve/vroom?time_limit=1"

    def curl(*args: str) -> tuple[int, dict[str, Any]]:
        out = subprocess.run(
            ["curl", "-sS", "-w", "\n%{http_code}", "-H", auth, *args, url],
            capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        body, _, code = out.stdout.rpartition("\n")
        return int(code), json.loads(body)

    code, told = curl("-X", "POST", "-d", f"@{problem}")
    assert code == 415 and FIX in told["message"], told
    code, solved = curl("-H", "Content-Type: application/json", "-d", f"@{problem}")
    assert code == 200 and solved["code"] == 0, solved
    code, solved = curl("--json", f"@{problem}")
    assert code == 200 and solved["code"] == 0, solved
