"""``/docs`` and ``/redoc`` render from local assets with no request leaving loopback."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import DemoSite, shot


def test_swagger_ui_renders_offline(page: Any, demo_site: DemoSite) -> None:
    page.goto(demo_site.url + "/docs")
    page.wait_for_selector(".swagger-ui .opblock", timeout=20_000)
    assert page.locator(".swagger-ui .opblock").count() > 20
    shot(page, "docs")


def test_redoc_renders_offline(page: Any, demo_site: DemoSite) -> None:
    page.goto(demo_site.url + "/redoc")
    page.wait_for_selector(".api-content h1", timeout=20_000)
    assert "lastmile" in page.title()
    shot(page, "redoc")
