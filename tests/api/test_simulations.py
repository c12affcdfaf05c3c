"""``/simulations`` through the app: a tiny scenario really runs in a worker process; its
KPIs, report and plots come back; bad scenarios are 422 naming the field; roles; 404s."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from api.cli import main
from orchestrator.settings import Settings
from tests.api.conftest import Keys, bearer
from tests.simulation.conftest import tiny_dict

DEADLINE_S = 120.0


@pytest.fixture
def app(tmp_path: Path) -> FastAPI:
    """The app on an empty SQLite file, its simulation files in ``tmp_path`` too."""
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'api.db'}", simulations_dir=tmp_path / "simulations"
    )
    return create_app(settings)


def wait(client: TestClient, job_id: int, headers: dict[str, str]) -> dict[str, Any]:
    """Poll the job until it has finished."""
    end = time.monotonic() + DEADLINE_S
    while time.monotonic() < end:
        body = client.get(f"/simulations/{job_id}", headers=headers).json()
        assert 0 <= body["progress"] <= 1
        if body["status"] in ("succeeded", "failed"):
            return body
        assert body["status"] in ("queued", "running")
        time.sleep(0.2)
    raise AssertionError(f"simulation {job_id} did not finish in {DEADLINE_S} s")


def test_a_tiny_sweep_runs_as_a_job(client: TestClient, keys: Keys) -> None:
    h = bearer(keys.analyst)
    body = {"scenario": tiny_dict(), "axes": {"policies.concierge": [True, False]}, "seed": 7}
    accepted = client.post("/simulations", json=body, headers=h)
    assert accepted.status_code == 202, accepted.text
    job = accepted.json()
    assert accepted.headers["Location"] == f"/simulations/{job['id']}"
    assert job["status"] in ("queued", "running") and job["points"] == 2
    # The server answers while the worker simulates.
    assert client.get("/health").status_code == 200
    assert client.get(f"/simulations/{job['id']}/report.csv", headers=h).status_code in (409, 200)
    done = wait(client, job["id"], h)
    assert done["status"] == "succeeded", done["error"]
    assert done["progress"] == 1.0 and done["error"] is None
    assert [k["label"] for k in done["kpis"]] == ["concierge=True", "concierge=False"]
    assert all(k["delivered"] > 0 for k in done["kpis"])
    html = client.get(done["files"]["report.html"], headers=h)
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert html.text.count("data:image/png;base64,") == 3
    csv_text = client.get(f"/simulations/{job['id']}/report.csv", headers=h)
    assert csv_text.headers["content-type"].startswith("text/csv")
    assert csv_text.text.splitlines()[0].startswith("label,policies.concierge,")
    for name in ("cost_co2", "on_time", "utilisation"):
        png = client.get(f"/simulations/{job['id']}/plots/{name}.png", headers=h)
        assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    assert client.get(f"/simulations/{job['id']}/plots/nope.png", headers=h).status_code == 404
    report = client.get(done["files"]["report.json"], headers=h).json()
    assert [p["changes"] for p in report["points"]] == [
        {"policies.concierge": True},
        {"policies.concierge": False},
    ]


def test_the_api_report_equals_the_clis(client: TestClient, keys: Keys, tmp_path: Path) -> None:
    h = bearer(keys.admin)
    accepted = client.post("/simulations", json={"scenario": tiny_dict()}, headers=h)
    assert accepted.status_code == 202, accepted.text
    done = wait(client, accepted.json()["id"], h)
    assert done["status"] == "succeeded" and done["points"] == 1
    scenario = tmp_path / "tiny.toml"
    scenario.write_text(_toml(tiny_dict()), encoding="utf-8")
    assert main(["simulate", str(scenario), "--out", str(tmp_path / "out")]) == 0
    served = client.get(done["files"]["report.json"], headers=h)
    assert served.content == (tmp_path / "out" / "report.json").read_bytes()
    # The CLI writes the table as Parquet too (typed, the rows of report.csv).
    table = pq.read_table(tmp_path / "out" / "report.parquet")
    assert table.num_rows == len(
        (tmp_path / "out" / "report.csv").read_text(encoding="utf-8").splitlines()[1:]
    )
    assert table.column("replication").type == pa.int64()
    # The API serves the same Parquet table.
    parquet = client.get(done["files"]["report.parquet"], headers=h)
    assert parquet.status_code == 200
    assert parquet.headers["content-type"] == "application/vnd.apache.parquet"
    assert pq.read_table(pa.BufferReader(parquet.content)).equals(table)


def test_bad_scenarios_are_422_naming_the_field(client: TestClient, keys: Keys) -> None:
    h = bearer(keys.analyst)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"scenario": tiny_dict(demand={"orders_per_day": 0})},
         "body.scenario.demand.orders_per_day"),
        ({"scenario": tiny_dict(colour="red")}, "body.scenario.colour"),
        ({"scenario": tiny_dict(city={"kind": "graphml", "path": "/etc/passwd"})},
         "body.scenario.city.kind"),
        ({"example": "atlantis"}, "body.example"),
        ({"scenario": tiny_dict(), "axes": {"noise.presence": [0.5, 2]}},
         "body.axes.noise.presence"),
        ({"scenario": tiny_dict(), "axes": {"noise.nothing": [1]}}, "body.axes.noise.nothing"),
        ({"scenario": tiny_dict(), "example": "sparse_suburb"}, "body"),
    ]  # fmt: skip
    for body, field in cases:
        answer = client.post("/simulations", json=body, headers=h)
        assert answer.status_code == 422, (body, answer.text)
        assert answer.json()["field"] == field, answer.json()
        assert answer.json()["message"]
    assert client.get("/simulations/1", headers=h).status_code == 404  # nothing was queued


def test_a_shipped_example_is_loaded_by_name(client: TestClient, keys: Keys) -> None:
    # The example loads and its sweep points are checked against it: a value its own
    # validation refuses names the axis (a full example would take a while to run).
    h = bearer(keys.analyst)
    body = {"example": "sparse_suburb", "axes": {"fleet.hubs.0.vehicles.robot": [2, -1]}}
    answer = client.post("/simulations", json=body, headers=h)
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"].startswith("body.axes.fleet.hubs.0.vehicles")
    assert "robot" in answer.json()["message"]


def test_roles_and_unknown_ids(client: TestClient, keys: Keys) -> None:
    body = {"scenario": tiny_dict()}
    for key in (keys.planner, keys.customer):
        answer = client.post("/simulations", json=body, headers=bearer(key))
        assert answer.status_code == 403 and "analyst" in answer.json()["detail"]
        assert client.get("/simulations/1", headers=bearer(key)).status_code == 403
    assert client.post("/simulations", json=body).status_code == 401
    h = bearer(keys.analyst)
    for path in ("/simulations/99", "/simulations/99/report.html", "/simulations/99/report.csv",
                 "/simulations/99/plots/cost_co2.png"):  # fmt: skip
        assert client.get(path, headers=h).status_code == 404, path


def _toml(data: dict[str, Any]) -> str:
    """A scenario mapping as TOML (JSON values are valid TOML for these scalars and inline
    tables once keys are bare)."""
    lines = []
    tables = []
    for key, value in data.items():
        if isinstance(value, dict):
            tables.append((key, value))
        else:
            lines.append(f"{key} = {json.dumps(value)}")
    for name, table in tables:
        lines.append(f"[{name}]")
        for key, value in table.items():
            lines.append(f'"{key}" = {_inline(value)}')
    return "\n".join(lines) + "\n"


def _inline(value: Any) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f'"{k}" = {_inline(v)}' for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_inline(v) for v in value) + "]"
    return json.dumps(value)
