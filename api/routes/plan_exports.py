"""A plan's routes and stops as files a dispatch team opens in a spreadsheet.

* ``GET /plans/{id}/routes.csv`` — the stops, one row per stop (``text/csv``);
* ``GET /plans/{id}/routes.xlsx`` — a workbook with the sheets ``routes``, ``stops`` and
  ``unserved``;
* ``GET /plans/{id}/routes`` with ``Accept: text/csv`` or the ``.xlsx`` media type answers the
  same (:func:`negotiate` and :func:`export`, called by :mod:`api.routes.plans`); JSON stays
  the default, and an ``Accept`` none of its media types meets is answered 406 naming them.

The tables are :func:`orchestrator.operations.plan_sheets.plan_sheets`' (columns and units in
``docs/exports.md``), their instants shown in the depot's zone (:func:`api.zones.in_zone`),
written by :mod:`api.tabular` (the formula guard, the workbook's form). The same keys as the
routes' JSON: staff (planner, analyst, admin); a customer's key is refused (403). A plan
holds at most ``LASTMILE_MAX_PLAN_STOPS`` stops, so a file is bounded (a 2,000-stop plan:
about 0.5 MB of CSV, 0.2 MB of workbook).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from fastapi import APIRouter, HTTPException, Response, status
from sqlmodel import Session

from api.deps import CARRIER, SessionDep, StaffDep
from api.errors import error_responses
from api.geo import GEOJSON_MEDIA_TYPE
from api.tabular import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE, csv_response, xlsx_response
from api.zones import Zones, in_zone
from orchestrator.models import Int64
from orchestrator.operations.plan_sheets import PlanSheets, plan_sheets

__all__ = [
    "EXPORT_CONTENT",
    "EXPORT_MEDIA_TYPES",
    "ROUTES_MEDIA_TYPES",
    "export",
    "negotiate",
    "router",
]

router = APIRouter(
    prefix="/plans",
    tags=["plans"],
    responses=error_responses(401, 403),
    dependencies=[CARRIER],  # the carrier's own resources: a retailer's key is 403
)

EXPORT_MEDIA_TYPES = (CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE)
"""What a plan's routes are exported as."""

ROUTES_MEDIA_TYPES = ("application/json", GEOJSON_MEDIA_TYPE, *EXPORT_MEDIA_TYPES)
"""What ``GET /plans/{id}/routes`` answers in, the default first."""

_CSV_EXAMPLE = (
    "plan_id,route_id,vehicle_id,vehicle_type,sequence,kind,stop_id,order_id,reference,...\r\n"
    "3,5,e-van-1-1,e-van,1,delivery,11,1,SHOP-10042,...\r\n"
)
EXPORT_CONTENT: dict[str, Any] = {
    CSV_MEDIA_TYPE: {"schema": {"type": "string"}, "example": _CSV_EXAMPLE},
    XLSX_MEDIA_TYPE: {
        "schema": {"type": "string", "format": "binary"},
        "example": "(.xlsx bytes: sheets routes, stops, unserved)",
    },
}
"""The OpenAPI ``content`` of the two exports."""

_FILE_ERRORS = error_responses(401, 403, 404, 409, 422, non_json_route=True)


def negotiate(accept: str | None, offered: Sequence[str] = ROUTES_MEDIA_TYPES) -> str:
    """The media type of ``offered`` to answer a request's ``Accept`` header with.

    ``offered`` is in the server's order, its first the default (no header, or ``*/*``). Each
    offered type takes the quality of the most specific range matching it (``text/csv`` over
    ``text/*`` over ``*/*``, RFC 9110 §12.5.1); the highest quality wins, then the more specific
    match, then the one the client named first, then the server's order. A quality of 0 refuses
    a type.

    Raises
    ------
    HTTPException
        406 when no offered type is acceptable, the detail naming those that are offered.
    """
    if accept is None or not accept.strip():
        return offered[0]
    ranges = []
    for position, part in enumerate(accept.split(",")):
        media, *params = (p.strip() for p in part.split(";"))
        media = "*/*" if media == "*" else media.lower()
        if media.count("/") != 1:
            continue  # not a media range: passed over, as RFC 9110 lets a server do
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = min(1.0, max(0.0, float(value)))
                except ValueError:
                    quality = 0.0
        ranges.append((media, quality, position))
    best: tuple[tuple[float, int, int, int], str] | None = None
    for rank, offer in enumerate(offered):
        kind = offer.split("/")[0]
        matches = [
            (2 if media == offer else 1 if media == f"{kind}/*" else 0, quality, position)
            for media, quality, position in ranges
            if media in (offer, f"{kind}/*", "*/*")
        ]
        if not matches:
            continue
        specificity, quality, position = max(matches, key=lambda m: (m[0], -m[2]))
        if quality <= 0:
            continue
        key = (quality, specificity, -position, -rank)
        if best is None or key > best[0]:
            best = (key, offer)
    if best is None:
        raise HTTPException(
            status.HTTP_406_NOT_ACCEPTABLE,
            f"cannot answer {accept[:120]!r} — ask for one of {', '.join(offered)}",
        )
    return best[1]


def export(session: Session, plan_id: int, media_type: str) -> Response:
    """Plan ``plan_id``'s routes as ``media_type`` (:data:`EXPORT_MEDIA_TYPES`): the stops as
    CSV, or the workbook. 404 for an unknown plan, 409 while its job has not finished."""
    sheets = _in_depot_zone(session, plan_sheets(session, plan_id))
    name = f"plan-{sheets.plan_id}-{sheets.service_day.isoformat()}-routes"
    if media_type == XLSX_MEDIA_TYPE:
        return xlsx_response(sheets.sheets, f"{name}.xlsx")
    return csv_response(sheets.stops.header, sheets.stops.rows, f"{name}.csv")


@router.get(
    "/{plan_id}/routes.csv",
    summary="A plan's stops as CSV",
    response_class=Response,
    responses={200: {"content": {CSV_MEDIA_TYPE: EXPORT_CONTENT[CSV_MEDIA_TYPE]}}, **_FILE_ERRORS},
)
def routes_csv(plan_id: Int64, _caller: StaffDep, session: SessionDep) -> Response:
    """One row per stop (routes in id order, stops in visiting order): route, vehicle,
    sequence, order and reference, place and address, coordinates, window, ETA, service
    start, departure, wait, parcels and load, handling, hand-off instructions, status and
    outcome; times ISO 8601 in the depot's zone. An attachment named
    ``plan-{id}-{day}-routes.csv``; 409 until the plan's job has finished."""
    return export(session, plan_id, CSV_MEDIA_TYPE)


@router.get(
    "/{plan_id}/routes.xlsx",
    summary="A plan's routes, stops and unserved orders as a workbook",
    response_class=Response,
    responses={
        200: {"content": {XLSX_MEDIA_TYPE: EXPORT_CONTENT[XLSX_MEDIA_TYPE]}},
        **_FILE_ERRORS,
    },
)
def routes_xlsx(plan_id: Int64, _caller: StaffDep, session: SessionDep) -> Response:
    """An ``.xlsx`` workbook: ``routes`` (a row per route, its totals), ``stops`` (the CSV's
    rows) and ``unserved`` (each order left out, its reason and what to change); the header
    rows bold and frozen, times as Excel date-times in the depot's wall-clock time. An
    attachment named ``plan-{id}-{day}-routes.xlsx``; 409 until the plan's job has finished."""
    return export(session, plan_id, XLSX_MEDIA_TYPE)


def _in_depot_zone(session: Session, sheets: PlanSheets) -> PlanSheets:
    """``sheets`` with every instant shown in the depot's zone (the one zone rule)."""
    zone = Zones(session).plan(sheets.plan_id)
    return replace(
        sheets,
        routes=replace(sheets.routes, rows=in_zone(sheets.routes.rows, zone)),
        stops=replace(sheets.stops, rows=in_zone(sheets.stops.rows, zone)),
        unserved=replace(sheets.unserved, rows=in_zone(sheets.unserved.rows, zone)),
    )
