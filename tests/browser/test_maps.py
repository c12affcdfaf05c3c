"""The maps in a real browser: the demo's map.html opened from file:// with no network, and
the shared map script drawing the API's routes over /streets.geojson."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import select

from orchestrator.models import Plan
from tests.browser.conftest import DemoSite, shot

READY = "[data-map][data-map-ready]"


def kinds(collection: dict[str, Any]) -> dict[str, int]:
    """How many features of each kind."""
    counts: dict[str, int] = {}
    for feature in collection["features"]:
        kind = feature["properties"]["kind"]
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def streets_drawn(page: Any) -> int:
    """The street features the map drew on its canvas."""
    return int(
        page.evaluate(
            "() => { const s = document.querySelector('[data-map]').lastmileMap.streets;"
            " return s ? s.getLayers().length : 0; }"
        )
    )


def test_demo_map_opens_offline_from_a_file(phone: Any, demo_site: DemoSite) -> None:
    folder = demo_site.settings.road_graph
    assert folder is not None
    folder = folder.parent
    plan = kinds(json.loads((folder / "routes.geojson").read_text(encoding="utf-8")))
    phone.goto((folder / "map.html").as_uri())
    phone.wait_for_selector(READY)
    assert phone.locator("path.lm-route").count() == plan["route"] >= 2
    assert phone.locator("path.lm-stop").count() == plan["visit"]
    assert phone.locator("path.lm-unserved").count() == plan.get("unserved", 0)
    assert streets_drawn(phone) > 10  # the synthetic city's streets, embedded in the file
    assert phone.locator(".leaflet-lm-streets-pane canvas").count() == 1
    assert phone.locator("[data-testid=map-note]").count() == 0  # streets: no "no map" note
    legend = phone.locator("[data-testid=map-legend] .lm-legend-row")
    assert legend.count() == plan["route"] + (1 if plan.get("unserved") else 0)
    phone.locator("path.lm-stop").first.dispatch_event("click")
    assert "ETA" in phone.locator(".leaflet-popup-content").inner_text()
    phone.wait_for_function(  # the popup has faded in: the screenshot shows it
        "getComputedStyle(document.querySelector('.leaflet-popup')).opacity === '1'"
    )
    shot(phone, "demo-map")


def test_map_script_draws_the_api_routes_over_the_streets(page: Any, demo_site: DemoSite) -> None:
    with demo_site.session() as session:
        plan_id = max(p.id for p in session.exec(select(Plan)).all() if p.id is not None)
    page.set_extra_http_headers({"Authorization": f"Bearer {demo_site.planner}"})
    page.goto(f"{demo_site.url}/streets.geojson")  # same origin for the page set below
    routes_url = f"/plans/{plan_id}/routes.geojson"
    page.set_content(
        '<link rel="stylesheet" href="/assets/leaflet/leaflet.css">'
        '<link rel="stylesheet" href="/assets/app/map.css">'
        f'<div id="streets" data-map style="height:600px" data-routes-url="{routes_url}"'
        ' data-streets-url="/streets.geojson"></div>'
        f'<div id="plain" data-map style="height:300px" data-routes-url="{routes_url}"></div>'
        f'<div id="tiles" data-map style="height:300px" data-routes-url="{routes_url}"'
        f' data-tile-url="{demo_site.url}/tiles/{{z}}/{{x}}/{{y}}.png"></div>'
        '<script src="/assets/leaflet/leaflet.js"></script>'
        '<script src="/assets/app/map.js"></script>'
    )
    page.wait_for_selector(f"#streets{READY}")
    page.wait_for_selector(f"#plain{READY}")
    page.wait_for_selector(f"#tiles{READY}")
    routes = page.request.get(
        f"{demo_site.url}/plans/{plan_id}/routes.geojson",
        headers={"Authorization": f"Bearer {demo_site.planner}"},
    ).json()
    for map_id in ("streets", "plain"):
        assert page.locator(f"#{map_id} path.lm-route").count() == kinds(routes)["route"]
        assert page.locator(f"#{map_id} path.lm-stop").count() == kinds(routes)["stop"]
    assert streets_drawn(page) > 10  # the first map's
    page.evaluate("() => window.lastmileMap.reload(document.getElementById('streets'))")
    assert page.locator("#streets path.lm-route").count() == kinds(routes)["route"]  # redrawn
    assert page.locator("#streets [data-testid=map-note]").count() == 0
    note = page.locator("#plain [data-testid=map-note]").inner_text()
    assert "LASTMILE_ROAD_GRAPH" in note and "LASTMILE_TILE_URL" in note
    # a tile server (here a loopback URL that has none): tiles asked for, no note
    assert page.locator("#tiles img.leaflet-tile").count() > 0
    assert page.locator("#tiles [data-testid=map-note]").count() == 0
    shot(page, "api-map")
