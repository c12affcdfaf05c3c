"""The driver's manifest: ``/routes/{id}/manifest`` (HTML for a phone and for print),
``/routes/{id}/manifest.csv`` and the outcome buttons of each stop.

Who may open it: the holder of the route's signed link (``?token=``, purpose ``"route"``,
:func:`api.pages.session.page_link`) or a staff member signed in to the board (its cookie).
A token that is bad, expired or another route's answers the 404 page; no token and no board
cookie redirect to ``/board`` to sign in. Recording an outcome takes the link or a planner's
(or admin's) board cookie, like ``POST /routes/{id}/stops/{stop_id}/outcome``; an analyst
reads the manifest without buttons.

The buttons post a form to ``/routes/{id}/manifest/stops/{stop_id}/outcome``; the request
must come from this site (its ``Origin``, else its ``Referer``, is this server's): a page of
another site cannot record an outcome with a driver's link. The outcome goes through
:func:`orchestrator.operations.manifest.record_manifest_outcome`, i.e. the service the JSON
operation calls (the stop closes, the order gets its event, the concierge learns); then the
browser is sent back to the manifest (post/redirect/get). A refusal of the service (a stop
not dispatched yet, already closed) shows the manifest again with its message.

Times are in the depot's zone; the page speaks the driver's language (``?lang=``, else the
browser's), while a robot's greeting at each stop is in the customer's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from babel.core import Locale, UnknownLocaleError
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from api.deps import SessionDep
from api.pages.rendering import choose_language, local, render, translations
from api.pages.session import board_caller, link_target
from api.tabular import csv_cell, csv_response
from orchestrator.errors import Conflict, NotFound, OrchestratorError
from orchestrator.models import Int64, Role
from orchestrator.operations.manifest import (
    MAX_RECIPIENT_CHARS,
    Manifest,
    ManifestStop,
    record_manifest_outcome,
    route_manifest,
)

__all__ = [
    "CSV_COLUMNS",
    "GREETING",
    "GREETING_NO_NAME",
    "csv_cell",
    "greeting",
    "language_name",
    "router",
]

router = APIRouter()

GREETING = "Hello {name}, your parcel is here. Enter the code to open the lid."
"""What a robot shows and plays at a stop, in the customer's language (first name only)."""
GREETING_NO_NAME = "Hello, your parcel is here. Enter the code to open the lid."
"""The greeting when the customer's name is unknown."""

CSV_COLUMNS = (
    "sequence",
    "kind",
    "customer",
    "place",
    "address",
    "window",
    "eta",
    "parcels",
    "handling",
    "language",
    "handoff_instructions",
    "greeting",
    "status",
    "outcome",
)
"""The manifest's columns, as the HTML table shows them and the CSV writes them."""

_RECORDERS = (Role.PLANNER, Role.ADMIN)
"""Board roles that may record an outcome (those POST /routes/.../outcome admits)."""


@dataclass(frozen=True, slots=True)
class _Access:
    """How the page was opened: with the route's link (``token``) or the board's cookie."""

    token: str | None
    may_record: bool


def greeting(stop: ManifestStop) -> str:
    """A robot's greeting at ``stop`` in the customer's language (English when the language
    is unknown or not spoken here), with the first name only."""
    catalogue = translations(choose_language(stop.language))
    name = stop.first_name
    if name:
        return str(catalogue.gettext(GREETING)).format(name=name)
    return str(catalogue.gettext(GREETING_NO_NAME))


@lru_cache(maxsize=256)
def language_name(code: str | None, in_language: str) -> str:
    """The language of ``code`` (``"fi"``) named in ``in_language`` (``"Finnish"``), with its
    code; the code alone when Babel does not know it; ``""`` for ``None``."""
    if not code:
        return ""
    try:
        name = Locale.parse(code.replace("-", "_")).get_display_name(in_language)
    except (UnknownLocaleError, ValueError, TypeError):
        name = None
    return f"{name} ({code})" if name else code


@router.get("/routes/{route_id}/manifest", response_class=HTMLResponse)
def manifest_page(
    route_id: Int64, request: Request, session: SessionDep, token: str | None = None
) -> Response:
    """The manifest as HTML (phone and print)."""
    access = _access(request, session, route_id, token)
    if isinstance(access, Response):
        return access
    language = _language(request)
    try:
        manifest = route_manifest(session, route_id)
    except NotFound:
        return _missing(request, language)
    return _render(request, manifest, access, language)


@router.get("/routes/{route_id}/manifest.csv")
def manifest_csv(
    route_id: Int64, request: Request, session: SessionDep, token: str | None = None
) -> Response:
    """The manifest as CSV: UTF-8, a header row, one row per stop."""
    access = _access(request, session, route_id, token)
    if isinstance(access, Response):
        return access
    try:
        manifest = route_manifest(session, route_id)
    except NotFound:
        return _missing(request, _language(request))
    rows = [[row[column] for column in CSV_COLUMNS] for row in _rows(manifest, "en")]
    return csv_response(CSV_COLUMNS, rows, f"route-{route_id}-manifest.csv")


@router.post("/routes/{route_id}/manifest/stops/{stop_id}/outcome")
async def record_outcome(
    route_id: Int64, stop_id: Int64, request: Request, session: SessionDep
) -> Response:
    """Record a stop's outcome from the manifest's buttons (a form)."""
    language = _language(request)
    if not _same_origin(request):
        return _refusal(
            request,
            language,
            403,
            "This form must be sent from the manifest's own page.",
        )
    if request.headers.get("content-type", "").split(";")[0].strip() != (
        "application/x-www-form-urlencoded"
    ):
        return _refusal(
            request,
            language,
            415,
            "Send the outcome as a form (application/x-www-form-urlencoded).",
        )
    form = _form(await request.body())
    # The store's work (key check, the outcome, the page) off the event loop.
    return await run_in_threadpool(_record, route_id, stop_id, request, session, form, language)


def _record(
    route_id: int,
    stop_id: int,
    request: Request,
    session: SessionDep,
    form: Mapping[str, str],
    language: str,
) -> Response:
    """The outcome's form checked against the link or the board, recorded, answered."""
    token = form.get("token") or request.query_params.get("token") or None
    access = _access(request, session, route_id, token)
    if isinstance(access, Response):
        return access
    if not access.may_record:
        return _refusal(request, language, 403, "Your role may read this manifest, not record.")
    try:
        record_manifest_outcome(
            session,
            route_id,
            stop_id,
            form.get("outcome", ""),
            recipient=form.get("recipient", ""),
        )
    except OrchestratorError as refused:
        session.rollback()
        try:
            manifest = route_manifest(session, route_id)
        except NotFound:
            return _missing(request, language)
        code = (
            404 if isinstance(refused, NotFound) else 409 if isinstance(refused, Conflict) else 422
        )
        return _render(
            request,
            manifest,
            access,
            language,
            error=str(refused),
            status_code=code,
        )
    return RedirectResponse(f"{_manifest_url(route_id, access.token)}#stop-{stop_id}", 303)


# -- implementation ---------------------------------------------------------------------------


def _language(request: Request) -> str:
    return choose_language(request.query_params.get("lang"), request.headers.get("accept-language"))


def _access(
    request: Request, session: SessionDep, route_id: int, token: str | None
) -> _Access | Response:
    """The link's or the board's access to route ``route_id``; else the 404 page (a token
    that does not open this route) or the way to the board's sign-in."""
    if token:
        target = link_target(request, token, "route")
        if target is not None and target.id == route_id:
            return _Access(token=token, may_record=True)
    caller = board_caller(request, session)
    if caller is not None:
        return _Access(token=None, may_record=caller.role in _RECORDERS)
    if token:
        return _missing(request, _language(request))
    return RedirectResponse("/board", status_code=303)


def _missing(request: Request, language: str) -> HTMLResponse:
    return render(request, "manifest_missing.html", {}, language=language, status_code=404)


def _refusal(request: Request, language: str, code: int, message: str) -> HTMLResponse:
    return render(
        request, "manifest_missing.html", {"message": message}, language=language, status_code=code
    )


def _same_origin(request: Request) -> bool:
    """Whether the form came from a page of this server (``Origin``, else ``Referer``)."""
    here = str(request.base_url).rstrip("/")
    origin = request.headers.get("origin")
    if origin is not None:
        return origin.rstrip("/") == here
    referer = request.headers.get("referer")
    if referer is None:
        return False
    parts = urlsplit(referer)
    return f"{parts.scheme}://{parts.netloc}" == here


def _form(body: bytes) -> dict[str, str]:
    """The first value of each field of a URL-encoded form (empty when it is not UTF-8 or has
    more than 20 fields: the outcome is then refused as missing)."""
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=20)
    except ValueError:  # not UTF-8 (UnicodeDecodeError), or too many fields
        return {}
    return {name: values[0] for name, values in fields.items() if values}


def _manifest_url(route_id: int, token: str | None) -> str:
    base = f"/routes/{route_id}/manifest"
    return f"{base}?token={quote(token, safe='')}" if token else base


def _window(stop: ManifestStop, zone: str) -> str:
    if stop.window_start is None or stop.window_end is None:
        return ""
    start = local(stop.window_start, zone).strftime("%H:%M")
    end = local(stop.window_end, zone).strftime("%H:%M")
    return f"{start}–{end}"


def _rows(manifest: Manifest, language: str) -> list[dict[str, Any]]:
    """One row per stop, the CSV's columns (texts in English for the CSV)."""
    zone = manifest.timezone
    rows = []
    for stop in manifest.stops:
        rows.append(
            {
                "sequence": stop.sequence + 1,
                "kind": stop.kind,
                "customer": stop.customer_name or "",
                "place": stop.place_name or "",
                "address": stop.address or "",
                "window": _window(stop, zone),
                "eta": local(stop.eta, zone).strftime("%H:%M"),
                "parcels": stop.parcels,
                "handling": " ".join(stop.handling),
                "language": language_name(stop.language, language),
                "handoff_instructions": stop.handoff_instructions or "",
                "greeting": greeting(stop) if manifest.robot and stop.kind == "delivery" else "",
                "status": stop.status,
                "outcome": stop.outcome or "",
            }
        )
    return rows


def _render(
    request: Request,
    manifest: Manifest,
    access: _Access,
    language: str,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context: Mapping[str, Any] = {
        "manifest": manifest,
        "stops": [
            {
                "stop": stop,
                "window": _window(stop, manifest.timezone),
                "eta_hm": local(stop.eta, manifest.timezone).strftime("%H:%M"),
                "eta_iso": local(stop.eta, manifest.timezone).isoformat(),
                "closed_hm": ""
                if stop.closed_at is None
                else local(stop.closed_at, manifest.timezone).strftime("%H:%M"),
                "closed_iso": ""
                if stop.closed_at is None
                else local(stop.closed_at, manifest.timezone).isoformat(),
                "language_name": language_name(stop.language, language),
                "greeting": greeting(stop) if manifest.robot and stop.kind == "delivery" else None,
            }
            for stop in manifest.stops
        ],
        "token": access.token,
        "may_record": access.may_record and manifest.current,
        "error": error,
        "csv_url": _manifest_url(manifest.route_id, access.token).replace(
            "/manifest", "/manifest.csv", 1
        ),
        "max_recipient": MAX_RECIPIENT_CHARS,
    }
    return render(
        request,
        "manifest.html",
        context,
        language=language,
        status_code=status_code,
        # Forms post with their origin (a no-referrer page would send "Origin: null");
        # nothing is sent to other sites.
        headers={"Referrer-Policy": "same-origin"},
    )
