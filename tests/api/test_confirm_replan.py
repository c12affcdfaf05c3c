"""A confirmation for the day of the current plan that moves the order's place or window marks
that plan ``needs_replan`` (issue #17): the plan's stop was made for the old place and window,
so until a re-plan the plan does not keep the new promise — the planner reads it on the plan
(``GET /plans/{id}``, ``stats.needs_replan``) and on the board's day. A confirmation of the
very place and window the stop was planned for changes nothing."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from orchestrator.planning.plans import plan_day
from routing import Limits
from tests.api.conftest import Keys, bearer
from tests.api.test_board import count, sign_in
from tests.api.test_concierge_api import new_order, next_monday, office, pick
from tests.api.test_plans import _dearer_vans

__all__ = ["office"]  # the fixture, used by name

LIMITS = Limits(time_limit=2.0, solution_limit=50, seed_with="none")


def _confirm(client: TestClient, keys: Keys, order_id: int, option: dict[str, Any]) -> None:
    """Hold ``option`` for the order and confirm it, as Aino does, with her own key."""
    me = bearer(keys.customer)
    held = client.post(f"/orders/{order_id}/options", json=pick(option), headers=me)
    assert held.status_code == 201, held.text
    done = client.post(f"/holds/{held.json()['id']}/confirm", headers=me)
    assert done.status_code == 200, done.text


def _options(client: TestClient, keys: Keys, order_id: int, day: date) -> list[dict[str, Any]]:
    answer = client.get(f"/orders/{order_id}/options?days=1&k=20", headers=bearer(keys.customer))
    assert answer.status_code == 200, answer.text
    options = [o for o in answer.json()["options"] if o["service_day"] == day.isoformat()]
    assert options, answer.json()
    return options


def _board_notices(client: TestClient, keys: Keys, world: dict[str, Any], day: date) -> int:
    """How many "re-plan the day" notices the planner's board shows on ``day``."""
    client.base_url = client.base_url.copy_with(scheme="https")  # the cookie is Secure
    assert sign_in(client, keys.planner).status_code == 303
    page = client.get(f"/board/depots/{world['depot']['id']}/{day.isoformat()}")
    assert page.status_code == 200, page.text
    return count(page.text, "needs-replan")


def _planned(
    app: FastAPI, client: TestClient, session: Session, keys: Keys, world: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Aino's order confirmed at one place and window of next Monday, then that day planned:
    the order, the option it was confirmed on, and the plan as ``GET /plans/{id}`` reads."""
    day = next_monday()
    o = new_order(client, keys, world, "promise")
    first = _options(client, keys, o["id"], day)[0]
    _confirm(client, keys, o["id"], first)
    plan = plan_day(session, world["depot"]["id"], day, limits=LIMITS, travel=app.state.travel)
    read = client.get(f"/plans/{plan.id}", headers=bearer(keys.planner)).json()
    assert read["plan"]["status"] == "current" and read["plan"]["n_served"] == 1
    assert not read["plan"]["stats"].get("needs_replan")
    return o, first, read


def test_confirming_another_place_or_window_the_same_day_flags_the_plan(
    app: FastAPI,
    client: TestClient,
    session: Session,
    keys: Keys,
    world: dict[str, Any],
    office: dict[str, Any],
) -> None:
    o, first, plan = _planned(app, client, session, keys, world)
    day = next_monday()
    moved = next(
        x
        for x in _options(client, keys, o["id"], day)
        if x["place_id"] != first["place_id"]
        or datetime.fromisoformat(x["window_start"])
        != datetime.fromisoformat(first["window_start"])
    )
    _confirm(client, keys, o["id"], moved)

    read = client.get(f"/plans/{plan['id']}", headers=bearer(keys.planner)).json()["plan"]
    assert read["status"] == "current"
    needs = read["stats"].get("needs_replan") or []
    assert len(needs) == 1 and f"order {o['id']}" in needs[0], needs
    assert "changed" in needs[0] and "re-plan" in needs[0], needs
    assert _board_notices(client, keys, world, day) == 1


def test_confirming_the_planned_place_and_window_again_flags_nothing(
    app: FastAPI,
    client: TestClient,
    session: Session,
    keys: Keys,
    world: dict[str, Any],
    office: dict[str, Any],
) -> None:
    o, first, plan = _planned(app, client, session, keys, world)
    same = next(
        x
        for x in _options(client, keys, o["id"], next_monday())
        if x["place_id"] == first["place_id"]
        and datetime.fromisoformat(x["window_start"])
        == datetime.fromisoformat(first["window_start"])
        and datetime.fromisoformat(x["window_end"]) == datetime.fromisoformat(first["window_end"])
    )
    _confirm(client, keys, o["id"], same)

    read = client.get(f"/plans/{plan['id']}", headers=bearer(keys.planner)).json()["plan"]
    assert read["status"] == "current"
    assert not read["stats"].get("needs_replan"), read["stats"]
    assert _board_notices(client, keys, world, next_monday()) == 0


def test_a_plan_kept_aside_is_flagged_too_and_stays_flagged_when_chosen(
    app: FastAPI,
    client: TestClient,
    session: Session,
    keys: Keys,
    world: dict[str, Any],
    office: dict[str, Any],
) -> None:
    """A plan kept aside carries the old stop as well: flagged with the current plan, so the
    planner who makes it current still reads that it needs a re-plan."""
    o, first, plan = _planned(app, client, session, keys, world)
    day = next_monday()
    _dearer_vans(app, world)
    aside = plan_day(session, world["depot"]["id"], day, limits=LIMITS, travel=app.state.travel)
    assert aside.stats["comparison"]["made_current"] is False
    moved = next(
        x for x in _options(client, keys, o["id"], day) if x["place_id"] != first["place_id"]
    )
    _confirm(client, keys, o["id"], moved)

    h = bearer(keys.planner)
    chosen = client.post(f"/plans/{aside.id}/current", headers=h)
    assert chosen.status_code == 200, chosen.text
    needs = chosen.json()["stats"].get("needs_replan") or []
    assert len(needs) == 1 and f"order {o['id']} changed place" in needs[0], needs
    old = client.get(f"/plans/{plan['id']}", headers=h).json()["plan"]
    assert old["status"] == "superseded" and len(old["stats"]["needs_replan"]) == 1
