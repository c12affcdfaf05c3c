"""The planner's board in a real browser: a planner signs in, opens the demo day, sees every
route drawn and every unserved order with its reason and what to change, re-plans with the
progress bar showing, and dispatches a route; then the day on a phone. Screenshots
``board-signin``, ``board-day``, ``board-day-phone``."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from sqlmodel import select

from orchestrator.models import Order
from tests.browser.conftest import DemoSite, shot

MAP_TIMEOUT_MS = 20_000
REPLAN_TIMEOUT_MS = 60_000  # a 2 s search plus a worker process's start on a busy machine


def _order_nobody_can_serve(site: DemoSite) -> int:
    """Register, through the API, an order of the day whose window (00:30-00:45) closes before
    any shift starts; its id."""
    with site.session() as session:
        model = session.exec(select(Order).where(Order.depot_id == site.depot_id)).first()
        assert model is not None
    day = site.day.isoformat()
    body = {
        "customer_id": model.customer_id,
        "depot_id": site.depot_id,
        "service_day": day,
        "place_id": model.place_id,
        "window_start": f"{day}T00:30:00+02:00",
        "window_end": f"{day}T00:45:00+02:00",
        "reference": "TOO-EARLY",
        "items": [{"description": "lamp", "weight_g": 900, "volume_ml": 4_000}],
    }
    request = urllib.request.Request(
        f"{site.url}/orders",
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "Authorization": f"Bearer {site.planner}",
            "Content-Type": "application/json",
            "Idempotency-Key": "board-too-early",
        },
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert answer.status == 201
        made: dict[str, Any] = json.load(answer)
    return int(made["id"])


def _sign_in(page: Any, site: DemoSite) -> None:
    page.goto(f"{site.url}/board")
    page.get_by_test_id("key").fill(site.planner)
    page.get_by_test_id("sign-in-button").click()
    page.wait_for_selector('[data-testid="depot"]')


def _routes_drawn(page: Any) -> None:
    """Wait for the map, then: one drawn line per route table."""
    page.wait_for_selector(".map[data-map-ready]", timeout=MAP_TIMEOUT_MS)
    tables = page.locator('[data-testid="route"]').count()
    assert tables >= 1
    assert page.locator("path.lm-route").count() == tables


def test_a_planner_replans_the_demo_day_and_dispatches(page: Any, demo_site: DemoSite) -> None:
    too_early = _order_nobody_can_serve(demo_site)
    page.goto(f"{demo_site.url}/board")
    assert page.get_by_test_id("sign-in").is_visible()
    shot(page, "board-signin")
    _sign_in(page, demo_site)
    day = demo_site.day.isoformat()
    page.locator(f'a[href="/board/depots/{demo_site.depot_id}/{day}"]').click()
    _routes_drawn(page)

    # re-plan: the new order is left out, the bar shows while the search runs
    page.get_by_test_id("replan-seconds").fill("2")
    page.get_by_test_id("replan").click()
    page.wait_for_selector('[data-testid="progress"]')
    assert page.get_by_test_id("progress").is_visible()
    replanning = page.url
    assert "?plan=" in replanning
    # board.js opens the new plan when the job is done
    page.wait_for_selector('[data-testid="route"]', timeout=REPLAN_TIMEOUT_MS)
    assert page.locator('[data-testid="progress"]').count() == 0
    _routes_drawn(page)
    unserved = page.locator('[data-testid="unserved"]')
    assert unserved.count() >= 1
    for k in range(unserved.count()):
        item = unserved.nth(k)
        assert item.get_by_test_id("reason").inner_text().strip()
        assert len(item.get_by_test_id("remedy").inner_text().strip()) > 20
    mine = page.locator(f'[data-testid="unserved"][data-order-id="{too_early}"]')
    assert mine.count() == 1 and "TOO-EARLY" in mine.inner_text()
    assert page.locator('[data-testid="plan"][data-status="current"]').count() == 1
    shot(page, "board-day")

    # dispatch the first route
    first = page.locator('[data-testid="route"]').first
    route_id = first.get_attribute("data-route-id")
    first.get_by_test_id("dispatch").click()
    page.wait_for_url(f"**#route-{route_id}")
    again = page.locator(f'[data-testid="route"][data-route-id="{route_id}"]')
    assert again.get_attribute("data-status") == "dispatched"
    assert again.get_by_test_id("dispatched").is_visible()
    assert again.get_by_test_id("dispatch").count() == 0


def test_the_day_on_a_phone(phone: Any, demo_site: DemoSite) -> None:
    _sign_in(phone, demo_site)
    phone.goto(f"{demo_site.url}/board/depots/{demo_site.depot_id}/{demo_site.day.isoformat()}")
    _routes_drawn(phone)
    # nothing wider than the screen but the tables' own scrolling boxes
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= phone.viewport_size["width"] + 1, width
    shot(phone, "board-day-phone")
