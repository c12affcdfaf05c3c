"""``GET /depots/{id}/kpis?day=`` through the real app on a real store: a day of confirmed
promises planned, dispatched and closed (one on time, one late, one at another place, one
failed) answers its figures with times in the depot's zone; staff only (a customer key 403);
unknown depot 404; a bad or missing ``day`` 422 naming it."""

from __future__ import annotations

from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.api.conftest import Keys, bearer
from tests.orchestrator.conftest import DAY, make_world
from tests.orchestrator.test_promise_kpis import LATE_MIN, promised_day


def test_a_day_of_promises_measured(client: TestClient, session: Session, keys: Keys) -> None:
    world = make_world(session)
    day = promised_day(session, world)
    url = f"/depots/{world.depot.id}/kpis"
    answer = client.get(url, params={"day": DAY.isoformat()}, headers=bearer(keys.planner))
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert data["promised"] == 4 and data["kept"] == 1 and data["kept_share"] == 0.25
    assert data["outcomes"] == {"kept": 1, "late": 1, "early": 0, "elsewhere": 1, "absent": 0,
                                "failed": 1, "not_delivered": 0, "pending": 0}  # fmt: skip
    assert data["on_time_at_place"] == 1 and data["on_time_at_place_share"] == 0.25
    assert data["late_p90_min"] == LATE_MIN and data["late_max_min"] == LATE_MIN
    assert data["notices"] == 1 and data["announced_before_miss_share"] == round(1 / 3, 4)
    (van,) = data["per_vehicle_type"]
    assert van["vehicle_type"] == "van" and van["parcels"] == 4 and van["delivered"] == 3
    assert van["cost_per_parcel"] == pytest.approx(day.plan_cost / 4, abs=0.01)
    rows = {r["order_id"]: r for r in data["promises"]}
    late = rows[day.late.id]
    assert late["outcome"] == "late" and late["minutes_late"] == LATE_MIN
    assert late["announced_before_window"] is True
    # Times in the depot's zone: Helsinki is at +02:00 in March.
    for key in ("window_start", "window_end", "closed_at"):
        assert late[key].endswith("+02:00"), late[key]
    assert day.late.window_end is not None
    assert datetime.fromisoformat(late["window_end"]) == day.late.window_end
    # An analyst reads it too; a customer key is kept out.
    analyst = client.get(url, params={"day": DAY.isoformat()}, headers=bearer(keys.analyst))
    assert analyst.status_code == 200 and analyst.json() == data | {
        "as_of": analyst.json()["as_of"]
    }
    assert client.get(url, params={"day": DAY.isoformat()},
                      headers=bearer(keys.customer)).status_code == 403  # fmt: skip


@pytest.mark.parametrize(
    "params",
    [
        {"day": "2025-13-01"},  # no such month
        {"day": "yesterday"},  # not a date
        {},  # missing
    ],
)
def test_a_bad_day_is_422_naming_day(
    client: TestClient, session: Session, keys: Keys, params: dict[str, str]
) -> None:
    world = make_world(session)
    answer = client.get(f"/depots/{world.depot.id}/kpis", params=params,
                        headers=bearer(keys.planner))  # fmt: skip
    assert answer.status_code == 422, answer.text
    assert "day" in answer.text


def test_an_unknown_depot_is_404(client: TestClient, keys: Keys) -> None:
    answer = client.get("/depots/999/kpis", params={"day": DAY.isoformat()},
                        headers=bearer(keys.planner))  # fmt: skip
    assert answer.status_code == 404 and "depot" in answer.text
