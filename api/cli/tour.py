"""The tour ``lastmile demo`` prints at its end: what to try on the store it left, in order.

:func:`build_tour` turns the facts of one demo store (:class:`TourFacts`: its URL and road
graph, the plan, the dispatched route, an order to offer options for, an order to redirect,
a delivered line to return, the signed links) into numbered :class:`Step`\\ s, each with the
shell commands and page links that work *as printed* once ``lastmile serve`` runs with the
printed environment. :func:`render_tour` prints them; :func:`parse_tour` reads them back
from the printed text — what ``tests/api/test_demo_tour.py`` runs and
``benchmarks.first_hour`` times, so neither can use anything the tour did not print.

The printed form: a heading, then each step as ``N. what`` followed by its lines, each
indented by four spaces — ``$ command`` for a shell command (run in one shell, in order: a
command may set a variable a later one uses) and a bare ``http(s)://`` line for a page to
open. The first step's command serves the API and runs until interrupted.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from datetime import date
from typing import Any

__all__ = [
    "CHOICE_SCRIPT",
    "Redirect",
    "Step",
    "TourFacts",
    "build_tour",
    "parse_tour",
    "render_tour",
]

CHOICE_SCRIPT = "import json,sys; print(json.load(sys.stdin)['id'])"
"""What reads the hold's id from the answer of choosing an option (``python3 -c``)."""

_STEP = re.compile(r"^\s*(\d+)\. (.*)$")
_COMMAND = "    $ "
_LINK = re.compile(r"^    (https?://\S+)$")


@dataclass(frozen=True, slots=True)
class Redirect:
    """An order to send elsewhere ("find me at the café") and where.

    Parameters
    ----------
    order_id
        The order; its stop is a later stop of the dispatched route (not the next one).
    body
        The ``PUT /orders/{id}/whereabouts`` body: ``{"point": [lon, lat], "label": ...}``
        or ``{"place_id": ...}``.
    stop
        The stop's position on its route, 1 first.
    vehicle
        The route's vehicle id.
    """

    order_id: int
    body: dict[str, Any]
    stop: int
    vehicle: str


@dataclass(frozen=True, slots=True)
class TourFacts:
    """What the tour needs to know about the demo store.

    Parameters
    ----------
    lastmile
        The ``lastmile`` command (absolute when it sits beside Python), shell-quoted.
    env
        ``LASTMILE_DATABASE_URL`` and ``LASTMILE_ROAD_GRAPH`` as the server must have them.
    base_url
        Where ``lastmile serve --port PORT`` answers, without a trailing slash.
    port
        The TCP port of ``lastmile serve``.
    depot_id, day, plan_id
        The demo's depot, service day (the depot's local date) and current plan.
    route_id, route_vehicle, route_stops, route_delivered
        The dispatched route, its vehicle, its stops and how many are delivered; ``None``
        ids when no route could be dispatched.
    manifest_link
        The signed link to that route's manifest (``None`` without a route).
    page_order_id, page_customer_id, page_link
        An order still to be planned, its customer, the signed link to its page.
    choice
        The ``POST /orders/{id}/options`` body of the order's best option (``None`` when it
        has none).
    redirect
        The order to redirect and where (``None`` when the route has no later stop).
    returnable
        ``(order_id, order_item_id)`` of a delivered line nobody has returned yet.
    csv_export
        Whether the API serves ``/plans/{id}/routes.csv``.
    scenario
        Path of a small what-if scenario (``None`` when the examples are not installed).
    orders_csv
        Path of an orders CSV for the demo's depot and day.
    """

    lastmile: str
    env: dict[str, str]
    base_url: str
    port: int
    depot_id: int
    day: date
    plan_id: int
    route_id: int | None = None
    route_vehicle: str = ""
    route_stops: int = 0
    route_delivered: int = 0
    manifest_link: str | None = None
    page_order_id: int | None = None
    page_customer_id: int | None = None
    page_link: str | None = None
    choice: dict[str, Any] | None = None
    redirect: Redirect | None = None
    returnable: tuple[int, int] | None = None
    csv_export: bool = False
    scenario: str | None = None
    orders_csv: str | None = None


@dataclass(frozen=True, slots=True)
class Step:
    """One numbered step: what it shows, its shell commands and its page links.

    ``serves`` marks the step whose command runs the server until interrupted.
    """

    title: str
    commands: tuple[str, ...] = ()
    links: tuple[str, ...] = ()
    serves: bool = field(default=False)


def build_tour(facts: TourFacts) -> tuple[Step, ...]:
    """The steps to try on the demo store, each working as printed once step 1 runs."""
    f = facts
    env = " ".join(f"{k}={shlex.quote(v)}" for k, v in f.env.items())
    lm = f.lastmile
    base = f.base_url
    planner = '-H "Authorization: Bearer $PLANNER_KEY"'
    customer = '-H "Authorization: Bearer $CUSTOMER_KEY"'
    curl = "curl -sS --fail-with-body"
    as_json = "-H 'Content-Type: application/json'"
    steps: list[Step] = [
        Step(
            "serve the API and the pages (leave it running in its own terminal):",
            (f"{env} {lm} serve --port {f.port}",),
            serves=True,
        )
    ]
    keys = [
        f"export {env}",
        f"PLANNER_KEY=$({lm} keys create --role planner | tail -n 1)",
    ]
    if f.page_customer_id is not None:
        keys.append(
            f"CUSTOMER_KEY=$({lm} keys create --role customer --customer "
            f"{f.page_customer_id} | tail -n 1)"
        )
    steps.append(Step("in another terminal: the same store, a planner's key and a customer's key:",
                      tuple(keys)))  # fmt: skip
    steps.append(
        Step(
            "the planner's board (sign in with the planner's key: echo $PLANNER_KEY):",
            links=(f"{base}/board",),
        )
    )
    if f.page_link is not None:
        steps.append(
            Step(
                f"customer {f.page_customer_id}'s page of order {f.page_order_id} "
                "(a signed link; `lastmile link ORDER_ID` prints others):",
                links=(f.page_link,),
            )
        )
    if f.manifest_link is not None:
        steps.append(
            Step(
                f"the driver's manifest of route {f.route_id} ({f.route_vehicle}, on its way: "
                f"{f.route_delivered} of {f.route_stops} stops delivered):",
                links=(f.manifest_link,),
            )
        )
    if f.page_order_id is not None:
        options = f"{base}/orders/{f.page_order_id}/options"
        commands = [f"{curl} {customer} {options}"]
        title = f"the delivery options of order {f.page_order_id}, as its customer"
        if f.choice is not None:
            body = shlex.quote(json.dumps(f.choice, separators=(",", ":")))
            commands += [
                f"HOLD=$({curl} -X POST {customer} {as_json} -d {body} {options} "
                f'| python3 -c "{CHOICE_SCRIPT}")',
                f"{curl} -X POST {customer} {base}/holds/$HOLD/confirm",
            ]
            title += "; choose the best one (held 15 min) and confirm it"
        steps.append(Step(title + ":", tuple(commands)))
    if f.redirect is not None:
        r = f.redirect
        body = shlex.quote(json.dumps(r.body, separators=(",", ":"), ensure_ascii=False))
        steps.append(
            Step(
                f'"find me at the café": order {r.order_id} is stop {r.stop} of {r.vehicle}, '
                "on its way — send it round the corner; its route is re-timed:",
                (
                    f"{curl} -X PUT {planner} {as_json} -d {body} "
                    f"{base}/orders/{r.order_id}/whereabouts",
                ),
            )
        )
    if f.returnable is not None:
        order_id, item_id = f.returnable
        body = json.dumps(
            {"order_id": order_id, "order_item_id": item_id, "condition": "A",
             "reason": "too_large"},
            separators=(",", ":"),
        )  # fmt: skip
        steps.append(
            Step(
                f"start a return of a delivered line (order {order_id}, line {item_id}); the "
                "returns engine says where it goes and why:",
                (f"{curl} -X POST {planner} {as_json} -d {shlex.quote(body)} {base}/returns",),
            )
        )
    steps.append(
        Step(
            f"re-plan the day (plan {f.plan_id}) as a job, the dispatched route kept in place; "
            "GET /plans?depot_id&service_day lists the day's plans:",
            (
                f"{curl} -X POST {planner} {base}/plans/{f.plan_id}/replan",
                f"{curl} {planner} '{base}/plans?depot_id={f.depot_id}&service_day={f.day}'",
            ),
        )
    )
    if f.csv_export:
        steps.append(
            Step(
                "the plan's routes and stops as CSV and as a workbook, for the dispatch team:",
                (
                    f"{curl} {planner} {base}/plans/{f.plan_id}/routes.csv -o routes.csv",
                    f"{curl} {planner} {base}/plans/{f.plan_id}/routes.xlsx -o routes.xlsx",
                ),
            )
        )
    if f.scenario is not None:
        steps.append(
            Step(
                "a what-if simulation (about 30 s; report.html in out/simulation):",
                (f"{lm} simulate {shlex.quote(f.scenario)} --out out/simulation",),
            )
        )
    if f.orders_csv is not None:
        steps.append(
            Step(
                "check a CSV of orders for this depot and day (--dry-run writes nothing):",
                (f"{lm} import {shlex.quote(f.orders_csv)} --dry-run",),
            )
        )
    return tuple(steps)


def render_tour(steps: tuple[Step, ...]) -> list[str]:
    """The printed lines of the tour: a heading, then each numbered step and its lines."""
    lines = [f"try it ({len(steps)} steps, each works as printed on this store):"]
    for n, step in enumerate(steps, start=1):
        lines.append(f"{n:>2}. {step.title}")
        lines += [f"{_COMMAND}{command}" for command in step.commands]
        lines += [f"    {link}" for link in step.links]
    return lines


def parse_tour(text: str) -> tuple[Step, ...]:
    """The steps of a printed tour, read back from ``text`` (other lines are skipped).

    The first step's command is taken to serve (it runs until interrupted).
    """
    steps: list[Step] = []
    title: str | None = None
    commands: list[str] = []
    links: list[str] = []

    def close() -> None:
        if title is not None:
            steps.append(Step(title, tuple(commands), tuple(links), serves=not steps))

    for line in text.splitlines():
        numbered = _STEP.match(line)
        if numbered and not line.startswith("    "):
            close()
            title, commands, links = numbered.group(2), [], []
        elif title is not None and line.startswith(_COMMAND):
            commands.append(line[len(_COMMAND) :])
        elif title is not None and (link := _LINK.match(line)):
            links.append(link.group(1))
        elif title is not None and line.strip() and not line.startswith("    "):
            close()
            title = None
    close()
    return tuple(steps)
