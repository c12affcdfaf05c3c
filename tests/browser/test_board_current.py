"""A plan kept aside, chosen on the board in a real browser (issue #17): the vans of the demo
day cost far more from now on, so the day planned again from the board is dearer than its
current plan and is kept aside; the board says so ("a new plan was kept aside: N % dearer,
…") with a button, the planner presses it, and the board then shows that plan as the day's
current plan. Screenshot ``board-kept-aside``."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

from sqlmodel import select

from api.pages.session import BOARD_COOKIE
from orchestrator.access.keys import create_api_key
from orchestrator.models import Plan, PlanStatus, VehicleType
from tests.browser.conftest import DemoSite, shot

PLAN_TIMEOUT_MS = 60_000  # a 2 s search plus a worker process's start on a busy machine
MAP_TIMEOUT_MS = 20_000


def _dearer_vehicles(site: DemoSite) -> None:
    """Every vehicle type costs ten times as much, plus 100 EUR, per route from now on: any
    new plan of the day costs far more than the stored one."""
    with site.session() as session:
        for vt in session.exec(select(VehicleType)).all():
            vt.fixed_cost = (vt.fixed_cost or 1.0) * 10 + 100
            session.add(vt)
        session.commit()


def _plan(site: DemoSite, plan_id: int) -> Plan:
    with site.session() as session:
        plan = session.get(Plan, plan_id)
        assert plan is not None
        return plan


def test_a_plan_kept_aside_is_made_current_from_the_board(page: Any, demo_site: DemoSite) -> None:
    day_url = f"{demo_site.url}/board/depots/{demo_site.depot_id}/{demo_site.day.isoformat()}"
    page.goto(f"{demo_site.url}/board")
    page.get_by_test_id("key").fill(demo_site.planner)
    page.get_by_test_id("sign-in-button").click()
    page.wait_for_selector('[data-testid="depot"]')
    page.goto(day_url)
    first = int(page.locator('[data-testid="plan"][data-status="current"]').get_attribute(
        "data-plan-id"
    ))  # fmt: skip
    assert page.get_by_test_id("kept-aside").count() == 0

    _dearer_vehicles(demo_site)
    page.get_by_test_id("plan-seconds").fill("2")
    page.get_by_test_id("plan-day").click()
    # board.js opens the new plan when its job is done; it was kept aside, not made current
    notice = page.get_by_test_id("kept-aside")
    notice.wait_for(timeout=PLAN_TIMEOUT_MS)
    aside = int(notice.get_attribute("data-plan-id"))
    assert aside != first
    comparison = _plan(demo_site, aside).stats["comparison"]
    assert comparison["made_current"] is False and comparison["current_plan_id"] == first
    text = " ".join(notice.inner_text().split())
    assert text.startswith("A new plan was kept aside:"), text
    pct = f"{round(abs(comparison['cost_delta_pct']), 1):g} %"
    assert (f"{pct} dearer" if comparison["cost_delta_pct"] > 0 else "cheaper") in text, text
    served = comparison["served_delta"]
    assert ("same orders served" if served == 0 else f"{-served} fewer orders served") in text, text
    row = page.locator(f'[data-testid="plan"][data-plan-id="{first}"]')
    assert row.get_attribute("data-status") == "current"
    tag = page.locator(f'[data-testid="plan"][data-plan-id="{aside}"]').get_by_test_id(
        "kept-aside-tag"
    )
    assert tag.inner_text().strip() == "kept aside"
    shot(page, "board-kept-aside")

    page.get_by_test_id("make-current").click()
    page.wait_for_url(day_url)
    assert page.get_by_test_id("kept-aside").count() == 0
    assert page.get_by_test_id("kept-aside-tag").count() == 0
    current = page.locator('[data-testid="plan"][data-status="current"]')
    assert current.count() == 1 and int(current.get_attribute("data-plan-id")) == aside
    assert f"Plan {aside}" in page.get_by_test_id("shown-plan").inner_text()
    page.wait_for_selector(".map[data-map-ready]", timeout=MAP_TIMEOUT_MS)
    assert page.locator("path.lm-route").count() == page.locator('[data-testid="route"]').count()
    assert _plan(demo_site, aside).status is PlanStatus.CURRENT
    assert _plan(demo_site, first).status is PlanStatus.SUPERSEDED


def _post(site: DemoSite, path: str, key: str, origin: str | None = None) -> tuple[int, str]:
    """POST ``path`` as the board's form does (its cookie, its Origin); status and body."""
    request = urllib.request.Request(
        f"{site.url}{path}",
        data=b"",
        method="POST",
        headers={
            "Cookie": f"{BOARD_COOKIE}={key}",
            "Origin": origin or site.url,
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=30) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def test_the_board_makes_current_only_a_plan_kept_aside_for_a_planner(
    demo_site: DemoSite,
) -> None:
    """The current plan was not kept aside (409, saying so, nothing changes); no such plan
    (404); an analyst's key (403) and a form from another site (403) are refused."""
    with demo_site.session() as session:
        current = session.exec(
            select(Plan).where(
                Plan.depot_id == demo_site.depot_id,
                Plan.service_day == demo_site.day,
                Plan.status == PlanStatus.CURRENT,
            )
        ).one()
        current_id = current.id or 0
        analyst = create_api_key(session, "analyst")
    path = f"/board/plans/{current_id}/current"
    status, body = _post(demo_site, path, demo_site.planner)
    assert status == 409 and "was not kept aside" in body, (status, body[:300])
    assert _plan(demo_site, current_id).status is PlanStatus.CURRENT
    assert _post(demo_site, "/board/plans/999999/current", demo_site.planner)[0] == 404
    assert _post(demo_site, path, analyst)[0] == 403
    assert _post(demo_site, path, demo_site.planner, origin="https://elsewhere.example")[0] == 403
