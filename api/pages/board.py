"""The planner's board, ``/board``: depots and days, a day's plans on a map and in tables,
the orders left out and what to change, plan and re-plan with a progress bar, dispatch.

Signing in: ``GET /board`` without a valid cookie shows a form asking for an API key;
``POST /board/sign-in`` checks it (a planner's or an admin's key may plan and dispatch; an
analyst's may look, with those buttons hidden and refused) and keeps it in the board's cookie
(:mod:`api.pages.session`: HTTP-only, Secure, SameSite=Strict). A wrong key shows the form
again and counts toward the app's lockout of failing addresses (the gate's
:class:`~orchestrator.access.lockout.Lockout`, ``app.state.lockout``): a locked address is
answered 429 with ``Retry-After``, its key unchecked — a cookie holding a wrong key counts the
same, so the cookie is no way around the limit. Every ``POST`` must come from the board's own
origin (``Origin``, else ``Referer``, naming the request's host), on top of SameSite=Strict.

=========================================  =================================================
``GET /board``                             depots and their days (orders or plans)
``GET /board/depots/{depot_id}/{day}``     the day: plans, map, routes, unserved, returns
                                           (``?plan=ID`` shows another of the day's plans)
``POST /board/depots/{depot_id}/{day}/plan``  plan the day (the job of ``POST /plans``)
``POST /board/plans/{id}/replan``          re-plan (the job of ``POST /plans/{id}/replan``)
``POST /board/plans/{id}/current``         make a plan kept aside current (as
                                           ``POST /plans/{id}/current``)
``GET /board/plans/{id}/progress.json``    the job's state and progress (``board.js`` polls)
``GET /board/plans/{id}/routes.geojson``   the plan for the map (as ``/plans/{id}/routes.geojson``)
``POST /board/routes/{id}/dispatch``       the route's vehicle left (``POST /routes/{id}/dispatch``)
``POST /board/sign-in``, ``/board/sign-out``
=========================================  =================================================

Like the JSON routes, the board only calls the orchestrator's services
(:mod:`orchestrator.planning.board_view`, :mod:`orchestrator.jobs.plans`,
:mod:`orchestrator.operations.dispatch`, :mod:`orchestrator.returns_flow.flows`) and renders
what they answer. Times are in the depot's zone.
"""

from __future__ import annotations

import html
import math
from datetime import date, datetime
from typing import Annotated
from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from markupsafe import Markup, escape
from sqlmodel import Session

from api.deps import Caller, SessionDep
from api.pages.rendering import choose_language, local, render, translations
from api.pages.session import (
    BOARD_COOKIE,
    board_caller,
    clear_board_cookie,
    link_secret,
    set_board_cookie,
)
from api.routes import plans as plans_api
from orchestrator.access.keys import authenticate
from orchestrator.access.lockout import Lockout
from orchestrator.errors import Conflict, InvalidInput, NotFound, OrchestratorError
from orchestrator.jobs.plans import (
    DEFAULT_LIMITS,
    job_progress,
    job_state,
    submit_plan,
    submit_replan,
)
from orchestrator.models import Day, Int64, Plan, PlanStatus, Role, Route, StopStatus
from orchestrator.models.columns import utcnow
from orchestrator.operations.dispatch import dispatch_route
from orchestrator.operations.progress import day_forecasts
from orchestrator.planning.board_view import DayView, day_view, depot_days, kept_aside
from orchestrator.planning.plans import make_current
from orchestrator.returns_flow.flows import return_flows
from routing.geojson import PALETTE
from routing.solve import Limits

__all__ = ["MAX_TIME_LIMIT_S", "PLANNERS", "router"]

router = APIRouter(prefix="/board")

PLANNERS = frozenset({Role.PLANNER, Role.ADMIN})
"""Roles that may plan and dispatch from the board (an analyst only looks)."""

MAX_TIME_LIMIT_S = 600.0
"""The longest search the board asks for, seconds (as ``POST /plans`` allows)."""

_FORM = "application/x-www-form-urlencoded"
_FORM_BYTES = 8_192
_UNFINISHED = (PlanStatus.QUEUED, PlanStatus.RUNNING)
_STATUS_OF = {NotFound: 404, Conflict: 409, InvalidInput: 422}


class _Refused(Exception):
    """A board request answered with an error page or JSON (raised by the checks below)."""

    def __init__(self, response: Response) -> None:
        self.response = response


# -- who is looking --------------------------------------------------------------------


def _language(request: Request) -> str:
    return choose_language(None, request.headers.get("accept-language"))


def _lockout(request: Request) -> Lockout | None:
    """The app's count of failed keys per address (made by the gate on the first request)."""
    lockout: Lockout | None = getattr(request.app.state, "lockout", None)
    return lockout


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _locked(request: Request) -> float | None:
    """Seconds the address must wait before its next key is checked, or ``None``."""
    lockout = _lockout(request)
    return None if lockout is None else lockout.retry_after(_address(request))


def _count_failure(request: Request) -> None:
    lockout = _lockout(request)
    if lockout is not None:
        lockout.record_failure(_address(request))


def _sign_in_page(
    request: Request, *, message: str | None = None, status_code: int = 200, wait_s: float = 0
) -> HTMLResponse:
    headers = {"Retry-After": str(max(1, math.ceil(wait_s)))} if status_code == 429 else {}
    response = render(
        request,
        "board_signin.html",
        {"caller": None, "message": message, "wait_s": max(1, math.ceil(wait_s))},
        language=_language(request),
        status_code=status_code,
        headers={**headers, "Referrer-Policy": "same-origin"},
    )
    if request.cookies.get(BOARD_COOKIE):
        clear_board_cookie(response)
    return response


def _viewer(request: Request, session: Session) -> Caller:
    """The staff member signed in, or a :class:`_Refused` sign-in form (429 when locked)."""
    if not request.cookies.get(BOARD_COOKIE):
        raise _Refused(_sign_in_page(request, status_code=401))
    wait = _locked(request)
    if wait is not None:
        raise _Refused(_sign_in_page(request, message="locked", status_code=429, wait_s=wait))
    caller = board_caller(request, session)
    if caller is None:
        _count_failure(request)
        raise _Refused(_sign_in_page(request, message="expired", status_code=401))
    return caller


def _json_viewer(request: Request, session: Session) -> Caller:
    """As :func:`_viewer`, refusing with JSON (for ``board.js`` and the map)."""
    wait = _locked(request)
    if wait is not None:
        seconds = str(max(1, math.ceil(wait)))
        detail = f"too many failed keys from this address — wait {seconds} s"
        raise _Refused(JSONResponse({"detail": detail}, 429, {"Retry-After": seconds}))
    caller = board_caller(request, session) if request.cookies.get(BOARD_COOKIE) else None
    if caller is None:
        if request.cookies.get(BOARD_COOKIE):
            _count_failure(request)
        detail = "not signed in to the board — sign in at /board"
        raise _Refused(JSONResponse({"detail": detail}, 401))
    return caller


def _same_origin(request: Request) -> None:
    """Refuse (403) a ``POST`` whose ``Origin`` (else ``Referer``) is not this host."""
    host = request.headers.get("host", "")
    source = request.headers.get("origin") or request.headers.get("referer") or ""
    if not host or source in ("", "null") or urlsplit(source).netloc != host:
        raise _Refused(
            HTMLResponse(
                "refused: a board form must be sent from the board's own page (Origin or "
                "Referer naming this host) — open /board and try again",
                status_code=403,
            )
        )


async def _form(request: Request) -> dict[str, str]:
    """The fields of a form post (``application/x-www-form-urlencoded``, at most 8 kB)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != _FORM:
        return {}
    body = await request.body()
    if len(body) > _FORM_BYTES:
        return {}
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {name: values[-1] for name, values in fields.items()}


_FormDep = Annotated[dict[str, str], Depends(_form)]


def _time_limit(form: dict[str, str]) -> Limits:
    """The search time asked for (``time_limit_s``, 1 to 600 seconds; default 10)."""
    raw = form.get("time_limit_s", "").strip()
    if not raw:
        return DEFAULT_LIMITS
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if not 1 <= seconds <= MAX_TIME_LIMIT_S:
        raise InvalidInput(
            "time_limit_s", f"give 1 to {MAX_TIME_LIMIT_S:g} seconds of search, not {raw[:20]!r}"
        )
    return Limits(time_limit=seconds)


def _may_plan(caller: Caller) -> None:
    if caller.role not in PLANNERS:
        raise _Refused(
            HTMLResponse(
                "refused: an analyst's key may look at the board but not plan or dispatch — "
                "sign in with a planner's key",
                status_code=403,
            )
        )


def _day_url(depot_id: int, day: date, plan_id: int | None = None) -> str:
    url = f"/board/depots/{depot_id}/{day.isoformat()}"
    return url if plan_id is None else f"{url}?plan={plan_id}"


# -- pages -----------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
def home(request: Request, session: SessionDep) -> Response:
    """Depots and their days, or the sign-in form."""
    try:
        caller = _viewer(request, session)
    except _Refused as refused:
        if refused.response.status_code == 401:
            # No cookie yet: the form itself is the page, not an error.
            message = "expired" if request.cookies.get(BOARD_COOKIE) else None
            return _sign_in_page(request, message=message)
        return refused.response
    return render(
        request,
        "board_home.html",
        {"caller": caller, "depots": depot_days(session)},
        language=_language(request),
        headers={"Referrer-Policy": "same-origin"},
    )


@router.post("/sign-in", response_class=HTMLResponse)
def sign_in(request: Request, session: SessionDep, form: _FormDep) -> Response:
    """Check the key and keep it in the cookie (303 to the board), or the form again."""
    try:
        _same_origin(request)
    except _Refused as refused:
        return refused.response
    wait = _locked(request)
    if wait is not None:
        return _sign_in_page(request, message="locked", status_code=429, wait_s=wait)
    key = form.get("key", "").strip()
    found = authenticate(session, key, secret=link_secret(request)) if key else None
    if found is None:
        _count_failure(request)
        return _sign_in_page(request, message="unknown", status_code=401)
    if found.role not in (Role.PLANNER, Role.ANALYST, Role.ADMIN):
        return _sign_in_page(request, message="role", status_code=403)
    if found.retailer_id is not None:  # the board, plans and manifests are the carrier's
        return _sign_in_page(request, message="carrier", status_code=403)
    response = RedirectResponse("/board", status_code=303)
    set_board_cookie(response, key)
    return response


@router.post("/sign-out")
def sign_out(request: Request) -> Response:
    """Forget the cookie; 303 to the sign-in form."""
    try:
        _same_origin(request)
    except _Refused as refused:
        return refused.response
    response = RedirectResponse("/board", status_code=303)
    clear_board_cookie(response)
    return response


def _day_page(
    request: Request,
    session: Session,
    caller: Caller,
    depot_id: int,
    day: date,
    plan_id: int | None,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    try:
        view = day_view(session, depot_id, day, plan_id=plan_id)
    except NotFound as exc:
        return render(
            request,
            "board_missing.html",
            {"caller": caller, "what": str(exc)},
            language=_language(request),
            status_code=404,
            headers={"Referrer-Policy": "same-origin"},
        )
    running = view.running
    settings = request.app.state.settings
    language = _language(request)
    context = {
        "stop_rows": _stop_rows(view, language),
        "caller": caller,
        "may_plan": caller.role in PLANNERS,
        "view": view,
        "zone": view.timezone,
        "flows": return_flows(session, depot_id, day),
        "running": running,
        "kept_aside": kept_aside(view),
        "running_state": None if running is None else job_state(running).value,
        "running_progress": None if running is None else job_progress(running),
        "tile_url": getattr(settings, "tile_url", None),
        "day_url": _day_url(depot_id, day),
        "error": error,
        "default_time_limit_s": DEFAULT_LIMITS.time_limit,
        "palette": PALETTE,
        # How far each dispatched route of the current plan runs behind (no route, no query).
        "behind": day_forecasts(session, _watched(view), day, view.timezone, utcnow()),
    }
    return render(
        request,
        "board_day.html",
        context,
        language=language,
        status_code=status_code,
        headers={"Referrer-Policy": "same-origin"},
    )


def _watched(view: DayView) -> list[int]:
    """The routes whose progress the board shows: the dispatched ones of the current plan,
    when it is the plan shown."""
    current, shown = view.current, view.shown
    if current is None or shown is None or current.id != shown.id:
        return []
    return [r.id for r in view.routes if r.dispatched]


_STOP_ROW = (
    '<tr data-testid="stop"><td class="num">{sequence}</td><td>{order}</td><td>{place}</td>'
    '<td>{window}</td><td data-testid="eta">{eta}</td><td class="num">{load}</td>'
    "<td>{status}</td></tr>\n"
)


def _stop_rows(view: DayView, language: str) -> dict[int, Markup]:
    """Each route's stop rows as HTML, by route id: sequence, order (and the shop's
    reference), place and address, window and ETA in the depot's zone (``HH:MM``), load on
    board after the stop (kg and parcels), status.

    Written here rather than in the template on purpose: a 2,000-stop day is 2,000 rows of
    seven cells, and Jinja's cost per expression (about 50 µs a row) would spend the page's
    100 ms budget on its own; this costs a few µs a row. Each distinct instant is formatted
    once (windows repeat), every text is escaped.
    """
    zone = view.timezone
    clock: dict[datetime, str] = {}

    def hm(moment: datetime | None) -> str:
        if moment is None:
            return ""
        text = clock.get(moment)
        if text is None:
            text = clock[moment] = local(moment, zone).strftime("%H:%M")
        return text

    words = translations(language)
    status = {s: escape(words.gettext(s.value)) for s in StopStatus}
    rows: dict[int, Markup] = {}
    for route in view.routes:
        parts = []
        for stop in route.stops:
            order = str(stop.order_id)
            if stop.reference:
                order += f' <span class="muted">{html.escape(stop.reference)}</span>'
            place = html.escape(stop.place_name or "")
            if stop.address:
                place += f'<br><span class="muted small">{html.escape(stop.address)}</span>'
            load = stop.load_after
            parts.append(
                _STOP_ROW.format(
                    sequence=stop.sequence,
                    order=order,
                    place=place,
                    window=f"{hm(stop.window_start)}–{hm(stop.window_end)}"
                    if stop.window_start is not None
                    else "",
                    eta=hm(stop.arrival_at),
                    load=f"{load[0] / 1000:.1f} kg · {load[2]}" if len(load) > 2 else "",
                    status=status[stop.status],
                )
            )
        rows[route.id] = Markup("".join(parts))  # every text in it escaped above
    return rows


@router.get("/depots/{depot_id}/{day}", response_class=HTMLResponse)
def day_page(
    depot_id: Int64,
    day: Day,
    request: Request,
    session: SessionDep,
    plan: Annotated[Int64 | None, Query(description="Another plan of the day.")] = None,
) -> Response:
    """The day: its plans, the shown plan's routes on a map and in tables, the orders left
    out with what to change, the returns heading to stores."""
    try:
        caller = _viewer(request, session)
    except _Refused as refused:
        return refused.response
    return _day_page(request, session, caller, depot_id, day, plan)


def _failed(
    request: Request, session: Session, caller: Caller, depot_id: int, day: date, exc: Exception
) -> Response:
    """The day page again with what went wrong (404, 409 or 422)."""
    code = next((c for kind, c in _STATUS_OF.items() if isinstance(exc, kind)), 409)
    return _day_page(request, session, caller, depot_id, day, None, error=str(exc),
                     status_code=code)  # fmt: skip


@router.post("/depots/{depot_id}/{day}/plan")
def plan_the_day(
    depot_id: Int64, day: Day, request: Request, session: SessionDep, form: _FormDep
) -> Response:
    """Queue the day's plan (as ``POST /plans``); 303 to the day showing its progress."""
    try:
        _same_origin(request)
        caller = _viewer(request, session)
        _may_plan(caller)
    except _Refused as refused:
        return refused.response
    try:
        job = submit_plan(session, depot_id, day, limits=_time_limit(form))
    except OrchestratorError as exc:
        return _failed(request, session, caller, depot_id, day, exc)
    assert job.id is not None
    request.app.state.jobs.enqueue(job.id)
    return RedirectResponse(_day_url(depot_id, day, job.id), status_code=303)


@router.post("/plans/{plan_id}/replan")
def replan(plan_id: Int64, request: Request, session: SessionDep, form: _FormDep) -> Response:
    """Queue a re-plan of the current plan (as ``POST /plans/{id}/replan``); 303 to the day."""
    try:
        _same_origin(request)
        caller = _viewer(request, session)
        _may_plan(caller)
    except _Refused as refused:
        return refused.response
    previous = session.get(Plan, plan_id)
    if previous is None:
        return _missing(request, caller, f"no plan {plan_id}")
    try:
        job = submit_replan(session, plan_id, limits=_time_limit(form))
    except OrchestratorError as exc:
        return _failed(request, session, caller, previous.depot_id, previous.service_day, exc)
    assert job.id is not None
    request.app.state.jobs.enqueue(job.id)
    return RedirectResponse(
        _day_url(previous.depot_id, previous.service_day, job.id), status_code=303
    )


@router.post("/plans/{plan_id}/current")
def choose(plan_id: Int64, request: Request, session: SessionDep) -> Response:
    """Make a plan that was kept aside (worse than the current plan when it was made) the
    day's current plan — the planner's explicit choice, as ``POST /plans/{id}/current``;
    303 to the day showing it, or the day again with why not (409)."""
    try:
        _same_origin(request)
        caller = _viewer(request, session)
        _may_plan(caller)
    except _Refused as refused:
        return refused.response
    chosen = session.get(Plan, plan_id)
    if chosen is None:
        return _missing(request, caller, f"no plan {plan_id}")
    depot_id, day = chosen.depot_id, chosen.service_day
    try:
        make_current(session, plan_id)
    except OrchestratorError as exc:
        session.rollback()
        return _failed(request, session, caller, depot_id, day, exc)
    return RedirectResponse(_day_url(depot_id, day), status_code=303)


@router.post("/routes/{route_id}/dispatch")
def dispatch(route_id: Int64, request: Request, session: SessionDep) -> Response:
    """The route's vehicle left with all its stops (as ``POST /routes/{id}/dispatch``);
    303 to its day."""
    try:
        _same_origin(request)
        caller = _viewer(request, session)
        _may_plan(caller)
    except _Refused as refused:
        return refused.response
    route = session.get(Route, route_id)
    plan = None if route is None else session.get(Plan, route.plan_id)
    if route is None or plan is None:
        return _missing(request, caller, f"no route {route_id}")
    depot_id, day, plan_id = plan.depot_id, plan.service_day, plan.id
    try:
        dispatch_route(session, route_id)
    except OrchestratorError as exc:
        return _failed(request, session, caller, depot_id, day, exc)
    return RedirectResponse(_day_url(depot_id, day, plan_id) + f"#route-{route_id}", 303)


def _missing(request: Request, caller: Caller, what: str) -> Response:
    return render(
        request,
        "board_missing.html",
        {"caller": caller, "what": what},
        language=_language(request),
        status_code=404,
        headers={"Referrer-Policy": "same-origin"},
    )


# -- what the page's script and map fetch ----------------------------------------------


@router.get("/plans/{plan_id}/progress.json")
def progress(plan_id: Int64, request: Request, session: SessionDep) -> Response:
    """The plan job's ``status`` (queued, running, succeeded, failed), ``progress`` (0 to 1)
    and whether it is ``done``, with the ``url`` of its day."""
    try:
        _json_viewer(request, session)
    except _Refused as refused:
        return refused.response
    plan = session.get(Plan, plan_id)
    if plan is None:
        return JSONResponse({"detail": f"no plan {plan_id} — check the plan id"}, 404)
    return JSONResponse(
        {
            "id": plan_id,
            "status": job_state(plan).value,
            "progress": job_progress(plan),
            "done": plan.status not in _UNFINISHED,
            "url": _day_url(plan.depot_id, plan.service_day, plan_id),
        },
        headers={"Cache-Control": "no-store"},
    )


@router.get("/plans/{plan_id}/routes.geojson")
def routes_geojson(plan_id: Int64, request: Request, session: SessionDep) -> Response:
    """The plan as GeoJSON for the map: what ``GET /plans/{id}/routes.geojson`` answers."""
    try:
        caller = _json_viewer(request, session)
    except _Refused as refused:
        return refused.response
    try:
        # The API's own handler: the map shows exactly what the API answers.
        answer = plans_api.routes_geojson(
            plan_id=plan_id, request=request, _caller=caller, session=session
        )
    except NotFound as exc:
        return JSONResponse({"detail": str(exc)}, 404)
    except Conflict as exc:
        return JSONResponse({"detail": str(exc)}, 409)
    answer.headers["Cache-Control"] = "private, no-store"
    return answer
