"""The driver's manifest in a real browser on a phone: a route of the demo plan dispatched
through the JSON API, its signed link opened, "delivered" recorded with the recipient's name
on the first stop and shown; screenshots on screen and on paper."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from sqlmodel import col, select

from api.deps import _settings_secret
from orchestrator.access.links import make_link_token
from orchestrator.concierge.profiles import put_profile
from orchestrator.models import Order, Plan, PlanStatus, Route, RouteStop
from tests.browser.conftest import DemoSite, shot


def _route_with_most_stops(site: DemoSite) -> tuple[int, int]:
    """The demo plan's longest route and the customer of its first stop."""
    with site.session() as session:
        plan = session.exec(
            select(Plan).where(
                Plan.depot_id == site.depot_id,
                Plan.service_day == site.day,  # the demo also holds a delivered past day
                Plan.status == PlanStatus.CURRENT,
            )
        ).one()
        routes = session.exec(select(Route).where(Route.plan_id == plan.id)).all()
        counts = {
            r.id: len(session.exec(select(RouteStop).where(RouteStop.route_id == r.id)).all())
            for r in routes
        }
        route_id = max(counts, key=lambda k: counts[k] or 0)
        assert route_id is not None
        first = session.exec(
            select(RouteStop)
            .where(RouteStop.route_id == route_id)
            .order_by(col(RouteStop.sequence))
        ).first()
        assert first is not None
        order = session.get(Order, first.order_id)
        assert order is not None
        return route_id, order.customer_id


def test_a_driver_records_delivered_on_a_phone(phone: Any, demo_site: DemoSite) -> None:
    route_id, customer_id = _route_with_most_stops(demo_site)
    with demo_site.session() as session:
        put_profile(
            session,
            customer_id,
            {"language": "fi", "handoff_instructions": "ring twice; leave with the concierge"},
        )
    request = urllib.request.Request(
        f"{demo_site.url}/routes/{route_id}/dispatch",
        method="POST",
        headers={"Authorization": f"Bearer {demo_site.planner}"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert answer.status == 200
        dispatched = json.load(answer)
    token = make_link_token(_settings_secret(demo_site.settings), "route", route_id)

    phone.goto(f"{demo_site.url}/routes/{route_id}/manifest?token={token}")
    stops = phone.get_by_test_id("stop")
    assert stops.count() == len(dispatched["stops"])
    first = stops.first
    assert "Finnish (fi)" in first.get_by_test_id("language").inner_text()
    assert "ring twice" in first.get_by_test_id("handoff").inner_text()
    first.get_by_test_id("recipient").fill("Aino")
    first.get_by_test_id("delivered").click()

    phone.wait_for_load_state()
    first = phone.get_by_test_id("stop").first
    assert first.get_attribute("data-status") == "delivered"
    assert "received by Aino" in first.get_by_test_id("outcome").inner_text()
    assert first.get_by_test_id("delivered").count() == 0
    shot(phone, "manifest-phone")

    phone.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    phone.emulate_media(media="print")
    assert phone.get_by_test_id("delivered").first.is_hidden()
    assert phone.locator("header.bar").is_hidden()
    shot(phone, "manifest-print")
