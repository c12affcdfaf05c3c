"""The customer's page in a real browser, as a customer would use it on a phone: open the link
of an order of the demo day, pick and confirm a delivery option and see its ETA; say "I'm at
the café now" and see the new ETA. No request leaves loopback (the ``phone`` fixture asserts
it); a screenshot of each state is kept."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import select

from api.deps import _settings_secret
from orchestrator.access.links import make_link_token
from orchestrator.models import Order, Place, Route, RouteStop
from orchestrator.planning.plans import current_plan
from tests.browser.conftest import DemoSite, shot

MAX_CANDIDATES = 10
"""Orders tried in turn until one's route can take the redirect (the demo's plan is a 2 s
solve, so which route has room may vary; plans made on the promise buffer leave less room
for a detour, so more are tried)."""


def _candidates(site: DemoSite) -> list[int]:
    """Planned orders of the demo day whose customer has another place, on the routes with
    the fewest stops first (the likeliest to have room for a detour)."""
    with site.session() as session:
        plan = current_plan(session, site.depot_id, site.day)
        assert plan is not None
        rows = session.exec(
            select(RouteStop.order_id, Route.id)
            .join(Route, Route.id == RouteStop.route_id)  # type: ignore[arg-type]  # SQLModel's column typing
            .where(Route.plan_id == plan.id)
        ).all()
        sizes: dict[int | None, int] = {}
        for _, route_id in rows:
            sizes[route_id] = sizes.get(route_id, 0) + 1
        found = []
        for order_id, route_id in rows:
            order = session.get(Order, order_id)
            assert order is not None
            places = session.exec(select(Place).where(Place.customer_id == order.customer_id)).all()
            if len(places) >= 2:
                found.append((sizes[route_id], order_id))
        assert found, "the demo day has no customer with two places"
        return [order_id for _, order_id in sorted(found)][:MAX_CANDIDATES]


def _link(site: DemoSite, order_id: int) -> str:
    return f"{site.url}/t/{make_link_token(_settings_secret(site.settings), 'order', order_id)}"


def _eta(phone: Any) -> str:
    return " ".join(phone.get_by_test_id("eta").inner_text().split())


def test_choose_confirm_and_redirect_on_a_phone(phone: Any, demo_site: DemoSite) -> None:
    moved = False
    for n, order_id in enumerate(_candidates(demo_site)):
        phone.goto(_link(demo_site, order_id))
        options = phone.get_by_test_id("option")
        assert options.count() >= 1
        assert phone.get_by_test_id("greenest").count() == 1
        if n == 0:
            shot(phone, "customer-options")

        # the best option of the demo day itself, so the order stays on its route
        day = demo_site.day.isoformat()
        same_day = phone.locator(f'[data-testid="option"][data-day="{day}"]')
        assert same_day.count() >= 1
        same_day.first.get_by_test_id("choose").click()
        phone.get_by_test_id("confirm").click()
        assert "confirmed" in phone.get_by_test_id("done").inner_text()
        before = _eta(phone)
        assert any(ch.isdigit() for ch in before), before  # a window of times is shown
        assert phone.get_by_test_id("vehicle").inner_text().strip()
        if n == 0:
            shot(phone, "customer-tracking")

        here = phone.get_by_test_id("here")
        assert here.count() >= 1
        place = here.first.get_attribute("data-place")
        here.first.click()
        if phone.get_by_test_id("error").count():  # this route had no room: the next order
            continue
        assert phone.get_by_test_id("done").count() == 1
        after = _eta(phone)
        assert after != before, (before, after)
        assert place in phone.get_by_test_id("place").inner_text()
        shot(phone, "customer-moved")
        moved = True
        _the_eta_follows_the_route(phone, demo_site, order_id, after)
        break
    assert moved, "no candidate order could be redirected"


def _the_eta_follows_the_route(phone: Any, site: DemoSite, order_id: int, shown: str) -> None:
    """The route runs 40 minutes late: customer.js (polling, here woken by the page becoming
    visible rather than waiting its 20 s) puts the new ETA window in place without a reload."""
    with site.session() as session:
        stop = session.exec(select(RouteStop).where(RouteStop.order_id == order_id)).one()
        stop.arrival_at += timedelta(minutes=40)
        stop.service_start_at += timedelta(minutes=40)
        session.add(stop)
        session.commit()
    phone.evaluate("window.stillTheSamePage = true")
    phone.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    phone.wait_for_function(
        "shown => document.querySelector('[data-testid=eta]').innerText.replace(/\\s+/g, ' ')"
        ".trim() !== shown",
        arg=shown,
    )
    assert phone.evaluate("window.stillTheSamePage") is True
    assert _eta(phone) != shown


def test_a_forged_link_is_a_plain_not_found_page(phone: Any, demo_site: DemoSite) -> None:
    response = phone.goto(f"{demo_site.url}/t/o.1.9999999999.AAAAAAAAAAAAAAAAAAAAAA")
    assert response.status == 404
    assert phone.get_by_test_id("missing").is_visible()
