"""The customer's page, ``/t/{token}``: one order, opened from a signed, expiring link (no
account) — what a retailer puts in "your order is on its way"; ``lastmile link ORDER_ID``
prints one.

==============================  ================================================================
``GET /t/{token}``              the order: its delivery options (ranked, the greenest marked)
                                until one is chosen, then the live view — status, ETA window,
                                stops before, the vehicle, "I'm at … now", hand-off
                                instructions, returns (``?lang=fi`` switches the language,
                                ``?change=1`` shows the options again)
``GET /t/{token}/status.json``  the live lines as rendered text (``customer.js`` polls it)
``POST /t/{token}/choose``      hold an option (``choose_option``, as ``POST /orders/{id}/options``)
``POST /t/{token}/confirm``     confirm the held option (``confirm_hold``)
``POST /t/{token}/release``     give the held option up (``release_hold``)
``POST /t/{token}/here``        "I'm at PLACE now" (``update_whereabouts``, as
                                ``PUT /orders/{id}/whereabouts``)
``POST /t/{token}/handoff``     change the hand-off instructions
``POST /t/{token}/return``      start a return of a delivered line (``start_return``, as
                                ``POST /returns``)
==============================  ================================================================

Who may look: the holder of the link, which names the order; every service is called with the
order's customer as the caller (``customer_id=``), exactly as that customer's API key would,
so the page shows nothing of another customer (the stops before theirs are a count). A
malformed, forged or expired token, or an order that no longer exists, is the same plain 404
page, so a token cannot be probed.

Forms: plain ``POST`` forms (``application/x-www-form-urlencoded``) that work without
JavaScript, answered by a redirect to the page (303). There is no cookie to steal a session
with; still, a ``POST`` must come from this page's own origin: its ``Origin`` header, else
its ``Referer``, must name the request's host, or it is refused with 403 (so another site
cannot make a visitor's browser act on a link it learnt). The page is served with
``Referrer-Policy: same-origin`` so that browsers send that ``Origin``.

Language: ``?lang=`` when given, else the profile's language, else the browser's
``Accept-Language``, else English. Times are in the customer's zone (their profile's, else
the depot's). What the view means (stage, ETA window, when a redirect or a return is
possible) is :mod:`orchestrator.operations.tracking`'s; this module only renders it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlmodel import Session

from api.deps import engine_of
from api.pages.rendering import LANGUAGES, choose_language, environment, render
from api.pages.session import link_target
from orchestrator.concierge.offers import (
    choose_option,
    confirm_hold,
    get_hold,
    options_for_order,
    release_hold,
)
from orchestrator.errors import Conflict, InvalidInput, NotFound, PlanningFailed
from orchestrator.models import DeliveryOptionPublic
from orchestrator.operations.tracking import (
    TrackingView,
    set_handoff_instructions,
    tracking_view,
    vehicle_kinds,
)
from orchestrator.operations.whereabouts import update_whereabouts
from orchestrator.returns_flow import start_return
from orchestrator.store.engine import session_scope

__all__ = ["OPTION_COUNT", "OPTION_DAYS", "POLL_SECONDS", "router"]

router = APIRouter()

OPTION_DAYS = 3
"""Days the page offers options over, from the order's service day."""
OPTION_COUNT = 5
"""Options the page shows."""
POLL_SECONDS = 20
"""How often ``customer.js`` asks for the live lines, seconds."""
_MAX_FORM_BYTES = 4_096
_HEADERS = {"Referrer-Policy": "same-origin"}
"""Browsers send ``Origin`` on a same-origin form post only under this policy (the default
``no-referrer`` of :func:`~api.pages.rendering.render` makes it ``null``)."""


class _Refused(Exception):
    """A form the page answers with itself and a message (status 409 or 422)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message, self.status = message, status


# -- pages -------------------------------------------------------------------------------------


@router.get("/t/{token}")
def customer_page(token: str, request: Request) -> Response:
    """The order's page: options until one is chosen, then the live view."""
    target = link_target(request, token, "order")
    if target is None:
        return _missing(request)
    with session_scope(engine_of(request)) as session:
        try:
            return _page(request, session, token, target.id)
        except NotFound:
            return _missing(request)


@router.get("/t/{token}/status.json")
def customer_status(token: str, request: Request) -> Response:
    """The live lines (status, ETA window, stops before), rendered in the page's language."""
    target = link_target(request, token, "order")
    if target is None:
        return JSONResponse({"detail": "not found"}, status_code=404)
    with session_scope(engine_of(request)) as session:
        try:
            view = tracking_view(session, target.id)
        except NotFound:
            return JSONResponse({"detail": "not found"}, status_code=404)
    language = _language(request, view)
    parts = environment(language).get_template("customer_parts.html").module
    zone = ZoneInfo(view.timezone)
    window = view.eta_window
    return JSONResponse(
        {
            "stage": view.stage.value,
            "status": str(parts.status_text(view)),  # type: ignore[attr-defined]  # a macro
            "eta": str(parts.eta_text(view)),  # type: ignore[attr-defined]  # a macro
            "stops": str(parts.stops_text(view)),  # type: ignore[attr-defined]  # a macro
            "eta_window_start": None if window is None else window[0].astimezone(zone).isoformat(),
            "eta_window_end": None if window is None else window[1].astimezone(zone).isoformat(),
        },
        headers={"Cache-Control": "private, no-store"},
    )


@router.post("/t/{token}/choose")
async def choose(token: str, request: Request) -> Response:
    """Hold the option the form names; then the page asks to confirm it."""

    def act(session: Session, order_id: int, customer_id: int, form: Mapping[str, str]) -> str:
        choice = {k: form.get(k) for k in ("place_id", "service_level", "window_start",
                                           "window_end")}  # fmt: skip
        try:
            choose_option(
                session, order_id, choice, customer_id=customer_id,
                travel=request.app.state.travel, settings=request.app.state.settings,
            )  # fmt: skip
        except InvalidInput:
            raise _Refused(
                "That option is not offered — choose one of the options shown.", 422
            ) from None
        except Conflict:
            raise _Refused("That option is no longer available — choose again.", 409) from None
        return "held"

    return await _post(request, token, act)


def _own_hold(session: Session, form: Mapping[str, str], order_id: int, customer_id: int) -> int:
    """The form's ``hold_id``, once it is known to be a hold of this link's order (404 else)."""
    hold_id = _whole(form, "hold_id")
    if get_hold(session, hold_id, customer_id=customer_id).order_id != order_id:
        raise NotFound("hold", hold_id)
    return hold_id


@router.post("/t/{token}/confirm")
async def confirm(token: str, request: Request) -> Response:
    """Confirm the held option."""

    def act(session: Session, order_id: int, customer_id: int, form: Mapping[str, str]) -> str:
        hold_id = _own_hold(session, form, order_id, customer_id)
        try:
            confirm_hold(session, hold_id, customer_id=customer_id)
        except Conflict:
            raise _Refused("Your choice was no longer held — choose again.", 409) from None
        return "confirmed"

    return await _post(request, token, act)


@router.post("/t/{token}/release")
async def release(token: str, request: Request) -> Response:
    """Give the held option up and show the options again."""

    def act(session: Session, order_id: int, customer_id: int, form: Mapping[str, str]) -> str:
        hold_id = _own_hold(session, form, order_id, customer_id)
        try:
            release_hold(session, hold_id, customer_id=customer_id)
        except Conflict:
            raise _Refused("A confirmed choice cannot be given up — choose another.", 409) from None
        return "released"

    return await _post(request, token, act)


@router.post("/t/{token}/here")
async def here(token: str, request: Request) -> Response:
    """ "I'm at PLACE now": the order goes there, its route re-timed."""

    def act(session: Session, order_id: int, customer_id: int, form: Mapping[str, str]) -> str:
        place_id = _whole(form, "place_id")
        try:
            update_whereabouts(
                session, order_id, place_id=place_id, customer_id=customer_id,
                travel=request.app.state.travel,
            )  # fmt: skip
        except InvalidInput:
            raise _Refused("That place is not one we can deliver to from here.", 422) from None
        except (Conflict, PlanningFailed):
            raise _Refused(
                "We cannot bring it there now: the driver is already on the way, or the "
                "route could not keep every delivery on time.",
                409,
            ) from None
        return "moved"

    return await _post(request, token, act)


@router.post("/t/{token}/handoff")
async def handoff(token: str, request: Request) -> Response:
    """Change the hand-off instructions."""

    def act(session: Session, order_id: int, customer_id: int, form: Mapping[str, str]) -> str:
        try:
            set_handoff_instructions(
                session, order_id, form.get("handoff_instructions", ""), customer_id=customer_id
            )
        except InvalidInput:
            raise _Refused("Keep the instructions to 500 characters.", 422) from None
        return "handoff"

    return await _post(request, token, act)


@router.post("/t/{token}/return")
async def start_a_return(token: str, request: Request) -> Response:
    """Start a return of one unit of a delivered line."""

    def act(session: Session, order_id: int, customer_id: int, form: Mapping[str, str]) -> str:
        data = {
            "order_id": order_id,
            "order_item_id": _whole(form, "order_item_id"),
            "condition": form.get("condition", "A"),
            "reason": form.get("reason", "other"),
        }
        try:
            start_return(session, data, customer_id=customer_id)
        except InvalidInput:
            raise _Refused(
                "A return of this item cannot be started here — the shop can help.", 422
            ) from None
        except Conflict:
            raise _Refused("This item is already being returned.", 409) from None
        return "returned"

    return await _post(request, token, act)


# -- implementation ----------------------------------------------------------------------------


def _language(request: Request, view: TrackingView | None) -> str:
    asked = request.query_params.get("lang")
    preferred = asked if asked in LANGUAGES else (view.language if view is not None else None)
    return choose_language(preferred, request.headers.get("accept-language"))


def _missing(request: Request) -> HTMLResponse:
    return render(
        request,
        "customer_missing.html",
        {},
        language=_language(request, None),
        status_code=404,
        headers=_HEADERS,
    )


def _page(
    request: Request,
    session: Session,
    token: str,
    order_id: int,
    *,
    message: str | None = None,
    status_code: int = 200,
    language: str | None = None,
) -> HTMLResponse:
    view = tracking_view(session, order_id)
    language = language or _language(request, view)
    change = request.query_params.get("change") == "1"
    held = view.hold is not None and view.hold.status.value == "held"
    show_options = view.can_choose and not held and (view.hold is None or change)
    options: list[DeliveryOptionPublic] = []
    options_refused = False
    if show_options:
        try:
            options = options_for_order(
                session, order_id, days=OPTION_DAYS, k=OPTION_COUNT,
                customer_id=view.customer_id, travel=request.app.state.travel,
                settings=request.app.state.settings,
            ).options  # fmt: skip
        except (Conflict, InvalidInput):
            options_refused = True
    done = request.query_params.get("done")
    context: dict[str, Any] = {
        "view": view,
        "zone": view.timezone,
        "token": token,
        "base": f"/t/{quote(token)}",
        "options": options,
        "show_options": show_options,
        "options_refused": options_refused,
        "kinds": vehicle_kinds(session) if options else {},
        "held": held,
        "done": done if done in _DONE else None,
        "message": message,
        "poll_seconds": POLL_SECONDS,
    }
    return render(
        request, "customer.html", context, language=language, status_code=status_code,
        headers=_HEADERS,
    )  # fmt: skip


_DONE = frozenset({"held", "confirmed", "released", "moved", "handoff", "returned"})
"""What a form did, said once on the page it redirects to (``?done=``)."""


async def _post(
    request: Request,
    token: str,
    act: Callable[[Session, int, int, Mapping[str, str]], str],
) -> Response:
    """Check the token and the origin, read the form, act, and redirect to the page — or show
    the page again with what was refused."""
    target = link_target(request, token, "order")
    if target is None:
        return _missing(request)
    if not _same_origin(request):
        return HTMLResponse(
            "refused: send this form from the order's own page (Origin or Referer naming this "
            "host) — open the link again and try once more",
            status_code=403,
        )
    body = await request.body()
    if len(body) > _MAX_FORM_BYTES:
        return HTMLResponse("refused: the form is too large", status_code=413)
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=20)
    form = {k: v[0] for k, v in fields.items() if v}
    language = form.get("lang") if form.get("lang") in LANGUAGES else None

    def work() -> Response:
        with session_scope(engine_of(request)) as session:
            try:
                view = tracking_view(session, target.id)
            except NotFound:
                return _missing(request)
            try:
                done = act(session, target.id, view.customer_id, form)
            except NotFound:
                return _missing(request)
            except _Refused as refused:
                session.rollback()
                return _page(
                    request, session, token, target.id, message=refused.message,
                    status_code=refused.status, language=language,
                )  # fmt: skip
        query = f"done={done}" + (f"&lang={language}" if language else "")
        return RedirectResponse(f"/t/{quote(token)}?{query}", status_code=303)

    return await run_in_threadpool(work)


def _same_origin(request: Request) -> bool:
    """Whether the form came from this host (``Origin``, else ``Referer``)."""
    host = request.headers.get("host", "")
    source = request.headers.get("origin") or request.headers.get("referer") or ""
    return bool(host) and source not in ("", "null") and urlsplit(source).netloc == host


def _whole(form: Mapping[str, str], name: str) -> int:
    value = form.get(name, "")
    if not value.isdigit() or len(value) > 18:
        raise _Refused("The form was incomplete — open the link again and try once more.", 422)
    return int(value)
