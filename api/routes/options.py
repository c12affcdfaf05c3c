"""Delivery options of an order, holds on the one chosen, and their confirmation.

* ``GET /orders/{id}/options?days=3&k=5`` — the best options over the next days, ranked and
  explained;
* ``POST /orders/{id}/options`` — choose one (as the options answer names it): 201 with a
  hold that expires;
* ``GET /holds/{id}``, ``POST /holds/{id}/confirm``, ``DELETE /holds/{id}``.

A customer key reaches only its own orders and holds (others answer 404); planner and admin
keys reach all; analysts none (403).
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query, Request, status

from api.deps import KeyCheck, SessionDep, TravelDep, engine_of, key_check
from api.errors import error_responses
from api.routes.profiles import ConciergeDep
from api.zones import Zones, in_zone
from orchestrator.concierge.offers import (
    MAX_DAYS,
    MAX_OPTIONS,
    choose_option,
    confirm_hold,
    get_hold,
    options_for_order,
    release_hold,
)
from orchestrator.models import HoldPublic, Int64, OptionChoice, OrderOptionsPublic, Role
from orchestrator.store.engine import session_scope

__all__ = ["CHOICE_EXAMPLE", "router"]

router = APIRouter(tags=["concierge"], responses=error_responses(401))

OptionsKeyDep = Annotated[KeyCheck, Depends(key_check(Role.CUSTOMER, Role.PLANNER, Role.ADMIN))]
"""The caller's key, checked in the thread that computes the options."""
_ANSWERS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="options")
"""Threads computing delivery options: two, so one can compute while the other waits on the
store."""

CHOICE_EXAMPLE = OptionChoice.model_config["json_schema_extra"]["examples"][0]


@router.get(
    "/orders/{order_id}/options",
    summary="Delivery options of an order",
    responses=error_responses(403, 404, 409, 422),
)
async def read_options(
    order_id: Int64,
    key: OptionsKeyDep,
    request: Request,
    travel: TravelDep,
    days: Annotated[Int64, Query(ge=1, le=MAX_DAYS, description="Days to consider.")] = 3,
    k: Annotated[Int64, Query(ge=1, le=MAX_OPTIONS, description="Options to return.")] = 5,
) -> OrderOptionsPublic:
    """The best ``k`` options over ``days`` days from the order's service day: place (from
    the customer's schedule) × window × service level (standard, express on the first day,
    eco on the day most neighbours are served, within the wait the customer accepts), each
    feasible against that day's tentative plan, with the vehicle type, ETA window, price,
    marginal cost and CO2, a score for this customer and one sentence saying why; the
    greenest is marked. 409 when the order is dispatched or closed."""
    engine = engine_of(request)

    def answer() -> OrderOptionsPublic:
        with session_scope(engine) as session:
            caller = key.caller(session)
            found = options_for_order(
                session, order_id, days=days, k=k, customer_id=caller.customer_scope,
                travel=travel, settings=request.app.state.settings,
            )  # fmt: skip
            return in_zone(found, Zones(session).order(order_id))

    # The whole answer in one hop to a small pool, first come first served: a CPU-bound
    # answer gains nothing from more threads fighting over the interpreter.
    return await asyncio.get_running_loop().run_in_executor(_ANSWERS, answer)


@router.post(
    "/orders/{order_id}/options",
    status_code=status.HTTP_201_CREATED,
    summary="Choose a delivery option (held until it expires)",
    responses=error_responses(403, 404, 409, 422),
)
def choose(
    order_id: Int64,
    caller: ConciergeDep,
    session: SessionDep,
    travel: TravelDep,
    request: Request,
    option: Annotated[
        OptionChoice,
        Body(
            openapi_examples={"office": {"summary": "An option offered", "value": CHOICE_EXAMPLE}}
        ),
    ],
) -> HoldPublic:
    """Hold the option, as the options answer names it (``place_id``, ``service_level``,
    ``window_start``, ``window_end``), for 15 minutes: it takes its room in the day's
    tentative plan; confirm it with ``POST /holds/{id}/confirm``. A previous hold of the order
    is released. 422 names the field (a place not the customer's, a window outside the day or
    not offered); 409 when it no longer fits the day (ask again) or the order can no longer
    change."""
    hold = choose_option(
        session, order_id, option, customer_id=caller.customer_scope, travel=travel,
        settings=request.app.state.settings,
    )  # fmt: skip
    return in_zone(hold, Zones(session).hold(hold.id))


@router.get("/holds/{hold_id}", summary="A hold", responses=error_responses(403, 404, 422))
def read_hold(hold_id: Int64, caller: ConciergeDep, session: SessionDep) -> HoldPublic:
    """The hold and its status (``held``, ``confirmed``, ``expired``, ``released``)."""
    hold = get_hold(session, hold_id, customer_id=caller.customer_scope)
    return in_zone(hold, Zones(session).hold(hold_id))


@router.post(
    "/holds/{hold_id}/confirm",
    summary="Confirm a held option",
    responses=error_responses(403, 404, 409, 422),
)
def confirm(hold_id: Int64, caller: ConciergeDep, session: SessionDep) -> HoldPublic:
    """Confirm the option: the order gets its place, window and day, which the next plan
    keeps. 409 when the hold expired or was released (choose again)."""
    hold = confirm_hold(session, hold_id, customer_id=caller.customer_scope)
    return in_zone(hold, Zones(session).hold(hold_id))


@router.delete(
    "/holds/{hold_id}",
    summary="Release a held option",
    responses=error_responses(403, 404, 409, 422),
)
def release(hold_id: Int64, caller: ConciergeDep, session: SessionDep) -> HoldPublic:
    """Give the option up: its room goes back to the day. 409 for a confirmed hold (choose
    another option to change the delivery)."""
    hold = release_hold(session, hold_id, customer_id=caller.customer_scope)
    return in_zone(hold, Zones(session).hold(hold_id))
