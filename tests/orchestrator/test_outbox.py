"""Webhooks from the store's side (orchestrator.notifications): the outbox is written in the
transaction of each event, bodies say what happened to that order alone, and deliveries to a
real loopback receiver are signed, retried with back-off, leased and given up — on SQLite
and PostgreSQL."""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from api.runtime.outbox import HttpSender
from orchestrator.concierge.offers import choose_option, clear_caches, confirm_hold
from orchestrator.errors import InvalidInput, NotFound
from orchestrator.intake.catalog import add_place, create_customer
from orchestrator.intake.orders import register_order
from orchestrator.models import (
    DeliveryStatus,
    Order,
    OrderEventKind,
    WebhookDelivery,
    WebhookEvent,
)
from orchestrator.notifications.delivery import (
    RetryPolicy,
    claim_due,
    deliver_due,
    next_due,
    send,
    settle,
)
from orchestrator.notifications.payloads import ETA_BAND_S
from orchestrator.notifications.signing import new_secret, sign, verify
from orchestrator.notifications.subscriptions import (
    create_subscription,
    delete_subscription,
    list_subscriptions,
)
from orchestrator.operations import whereabouts
from orchestrator.operations.dispatch import dispatch_route, mark_stop_outcome
from orchestrator.planning.plans import plan_day, plan_routes, replan, route_stops
from orchestrator.store import events
from tests.orchestrator.conftest import DAY, LIMITS, POINTS, TRAVEL, World, order_data

HEL = ZoneInfo("Europe/Helsinki")
EVERYTHING = [e.value for e in WebhookEvent]
WINDOW = {"window_start": "2025-03-03T09:00:00+02:00", "window_end": "2025-03-03T17:00:00+02:00"}
FAST = RetryPolicy(backoff_s=0.05, backoff_max_s=0.2, max_attempts=10, timeout_s=2.0)
"""Back-off in tens of milliseconds, so retries take a test a fraction of a second."""


class Receiver:
    """A real HTTP server on a loopback port, in a thread: it answers each POST with the next
    status of ``codes`` (200 once they run out) and keeps every request it was sent.

    ``port`` 0 takes a free one; giving the port of a receiver that was closed brings it back
    where the subscription points."""

    def __init__(self, codes: Sequence[int] = (), *, port: int = 0) -> None:
        self.codes = list(codes)
        self.requests: list[tuple[dict[str, str], bytes, int]] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver._lock:
                    code = receiver.codes.pop(0) if receiver.codes else 200
                    receiver.requests.append((dict(self.headers.items()), body, code))
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hooks"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop listening (the port refuses connections afterwards)."""
        self.server.shutdown()
        self.server.server_close()

    def delivered(self) -> list[tuple[dict[str, str], bytes]]:
        """The requests answered 2xx."""
        with self._lock:
            return [(h, b) for h, b, code in self.requests if 200 <= code < 300]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A receiver answering 200 to everything."""
    r = Receiver()
    yield r
    r.close()


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    """Ids restart between tests on PostgreSQL: no tentative timeline may survive a test."""
    clear_caches()
    yield
    clear_caches()


def subscribe(session: Session, url: str, *events_: str, eta_moved_min: int = 15) -> Any:
    """A subscription of ``url`` to ``events_`` (all of them by default)."""
    return create_subscription(
        session,
        {"url": url, "events": list(events_) or EVERYTHING, "eta_moved_min": eta_moved_min},
    )


def outbox(session: Session) -> list[WebhookDelivery]:
    """Every outbox row, oldest first."""
    session.expire_all()
    return list(session.exec(select(WebhookDelivery).order_by(col(WebhookDelivery.id))).all())


def bodies(session: Session, event_type: str | None = None) -> list[dict[str, Any]]:
    """The bodies of the outbox, parsed (of one type if given)."""
    return [
        json.loads(r.body)
        for r in outbox(session)
        if event_type is None or r.event_type.value == event_type
    ]


def planned_day(session: Session, world: World) -> tuple[int, list[Any]]:
    """Four orders of the world's customer (and one of another customer) planned on DAY;
    the plan's id and its routes."""
    for k, (lat, lon) in enumerate(POINTS[:4]):
        place = add_place(
            session, world.customer.id or 0, {"kind": "other", "name": f"p{k}", "lat": lat,
                                              "lon": lon},
        )  # fmt: skip
        register_order(
            session, order_data(world, place_id=place.id, reference=f"SHOP-{k}", **WINDOW), f"o{k}"
        )
    other = create_customer(session, {"name": "Other Person", "email": "other@example.org"})
    far = add_place(
        session, other.id or 0, {"kind": "home", "name": "home", "lat": 60.19, "lon": 24.96}
    )
    register_order(
        session,
        order_data(world, customer_id=other.id, place_id=far.id, reference="OTHER", **WINDOW),
        "x",
    )
    plan = plan_day(session, world.depot.id or 0, DAY, limits=LIMITS, travel=TRAVEL)
    return plan.id or 0, list(plan_routes(session, plan.id or 0))


# -- signing --------------------------------------------------------------------------------


def test_a_signature_is_the_hmac_of_the_exact_body() -> None:
    import hashlib
    import hmac

    secret = new_secret()
    body = b'{"id":"evt_1","type":"order.delivered"}'
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert sign(secret, body) == f"sha256={expected}"
    assert verify(secret, body, f"sha256={expected}")
    assert not verify(secret, body + b" ", f"sha256={expected}")  # one byte more
    assert not verify(new_secret(), body, f"sha256={expected}")  # another secret
    assert secret.startswith("whsec_") and len(secret) > 40


def test_the_eta_band_is_the_one_the_customer_is_shown() -> None:
    assert ETA_BAND_S == whereabouts.ETA_BAND_S


# -- subscriptions --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"url": "ftp://shop.example/x"}, "url"),  # not http(s)
        ({"url": "https:///no-host"}, "url"),  # no host
        ({"url": "https://shop.example/a b"}, "url"),  # white space
        ({"url": "http://shop.example:99999/"}, "url"),  # no such port
        ({"events": []}, "events"),  # nothing wanted
        ({"events": ["order.teleported"]}, "events"),  # no such event
        ({"events": ["order.delivered", "order.delivered"]}, "events"),  # twice
        ({"eta_moved_min": 0}, "eta_moved_min"),  # below a minute
    ],
)
def test_bad_subscriptions_name_the_field(
    session: Session, changes: dict[str, Any], field: str
) -> None:
    data = {"url": "https://shop.example/hooks", "events": ["order.delivered"], **changes}
    with pytest.raises(InvalidInput) as caught:
        create_subscription(session, data)
    assert caught.value.field[0] == field
    assert list_subscriptions(session) == []


def test_deleting_a_subscription_drops_its_undelivered_events(
    session: Session, world: World
) -> None:
    first = subscribe(session, "http://127.0.0.1:9/a")
    second = subscribe(session, "http://127.0.0.1:9/b")
    order = register_order(session, order_data(world), "o1")
    events.record(session, order.id or 0, OrderEventKind.DELIVERED, detail="at the door")
    session.commit()
    assert [r.subscription_id for r in outbox(session)] == [first.id, second.id]
    delete_subscription(session, first.id)
    assert [r.subscription_id for r in outbox(session)] == [second.id]
    with pytest.raises(NotFound):
        delete_subscription(session, first.id)


# -- the outbox, written with the change ----------------------------------------------------


def test_a_rolled_back_change_writes_no_outbox_row(session: Session, world: World) -> None:
    subscribe(session, "http://127.0.0.1:9/hooks")
    order = register_order(session, order_data(world), "o1")
    events.record(session, order.id or 0, OrderEventKind.DELIVERED)
    session.flush()  # written in the transaction, not committed
    assert len(session.exec(select(WebhookDelivery)).all()) == 1
    session.rollback()
    assert outbox(session) == []
    events.record(session, order.id or 0, OrderEventKind.DELIVERED)
    session.commit()
    (row,) = outbox(session)
    assert row.status is DeliveryStatus.PENDING and row.attempts == 0


def test_events_nobody_wants_write_nothing(session: Session, world: World) -> None:
    subscribe(session, "http://127.0.0.1:9/hooks", "order.delivered")
    order = register_order(session, order_data(world), "o1")  # created: no webhook
    events.record(session, order.id or 0, OrderEventKind.FAILED)  # not subscribed
    events.record(session, order.id or 0, OrderEventKind.REPLANNED)  # no ETAs: no move
    session.commit()
    assert outbox(session) == []


def test_a_day_as_it_runs_tells_each_event_of_that_order_only(
    session: Session, world: World
) -> None:
    hook = subscribe(session, "http://127.0.0.1:9/hooks")
    _plan_id, routes = planned_day(session, world)
    assert outbox(session) == []  # planning is no webhook
    route = next(r for r in routes if len(route_stops(session, r.id or 0)) >= 2)
    stops = list(route_stops(session, route.id or 0))
    dispatch_route(session, route.id or 0)
    mark_stop_outcome(session, stops[0].id or 0, "delivered", detail="left with the concierge")
    mark_stop_outcome(session, stops[1].id or 0, "failed", detail="not at home")

    out = bodies(session, "order.out_for_delivery")
    assert sorted(b["order_id"] for b in out) == sorted(s.order_id for s in stops)
    first = next(b for b in out if b["order_id"] == stops[0].order_id)
    assert first["data"]["eta"] == stops[0].arrival_at.astimezone(HEL).isoformat()
    assert first["data"]["eta_window"]["start"].endswith("+02:00")
    assert first["data"]["status"] == "dispatched"
    assert first["data"]["window"] == {
        "start": "2025-03-03T09:00:00+02:00",
        "end": "2025-03-03T17:00:00+02:00",
    }
    (delivered,) = bodies(session, "order.delivered")
    assert delivered["order_id"] == stops[0].order_id
    assert delivered["data"]["status"] == "delivered"
    assert delivered["data"]["note"] == "left with the concierge"
    assert delivered["occurred_at"].endswith("+02:00")
    (failed,) = bodies(session, "order.failed_attempt")
    assert failed["order_id"] == stops[1].order_id and failed["data"]["note"] == "not at home"

    rows = outbox(session)
    assert {r.subscription_id for r in rows} == {hook.id}
    assert len({r.event_id for r in rows}) == len(rows)  # one id per event
    for row in rows:
        body = json.loads(row.body)
        assert body["id"] == row.event_id and body["type"] == row.event_type.value
        assert set(body) == {"id", "type", "occurred_at", "order_id", "return_id", "data"}
        # That order's facts alone: no other order's reference, no secret.
        mine = session.get(Order, body["order_id"])
        assert mine is not None and body["data"]["reference"] == mine.reference
        others = ({f"SHOP-{k}" for k in range(4)} | {"OTHER"}) - {mine.reference}
        assert not any(f'"{ref}"' in row.body for ref in others)
        assert "whsec_" not in row.body
        assert hook.secret not in row.body


def test_eta_moved_goes_to_the_subscriptions_whose_threshold_the_move_exceeds(
    session: Session, world: World
) -> None:
    keen = subscribe(session, "http://127.0.0.1:9/keen", "order.eta_moved", eta_moved_min=1)
    calm = subscribe(session, "http://127.0.0.1:9/calm", "order.eta_moved", eta_moved_min=1_440)
    plan_id, routes = planned_day(session, world)
    route = next(r for r in routes if len(route_stops(session, r.id or 0)) >= 3)
    before = {s.order_id: s.arrival_at for s in route_stops(session, route.id or 0)}
    last = route_stops(session, route.id or 0)[-1]
    cafe = add_place(
        session, world.customer.id or 0, {"kind": "cafe", "name": "Café", "lat": 60.20,
                                          "lon": 24.90},
    )  # fmt: skip
    result = whereabouts.update_whereabouts(
        session, last.order_id, place_id=cafe.id, travel=TRAVEL, limits=LIMITS,
        now=datetime(2025, 3, 2, 18, tzinfo=UTC),
    )  # fmt: skip
    moved = {e.order_id: e for e in result.stops if abs(e.arrival_at - e.previous_arrival_at)
             > timedelta(minutes=1)}  # fmt: skip
    assert moved, "the redirect moved no ETA by more than a minute"
    rows = outbox(session)
    assert {r.subscription_id for r in rows} == {keen.id}  # nothing moved by a day
    assert calm.id not in {r.subscription_id for r in rows}
    got = {b["order_id"]: b for b in bodies(session)}
    assert set(got) == set(moved)
    for order_id, body in got.items():
        eta = moved[order_id]
        assert body["data"]["previous_eta"] == before[order_id].astimezone(HEL).isoformat()
        assert body["data"]["moved_min"] == int(
            (eta.arrival_at - eta.previous_arrival_at).total_seconds() / 60
        )
    assert plan_id


def test_a_replan_moving_a_dispatched_stop_tells_eta_moved(session: Session, world: World) -> None:
    subscribe(session, "http://127.0.0.1:9/hooks", "order.eta_moved", eta_moved_min=1)
    plan_id, routes = planned_day(session, world)
    route = routes[0]
    dispatch_route(session, route.id or 0)
    # Ten more orders for the day: the re-plan keeps the dispatched stops but re-times them.
    for k in range(10):
        place = add_place(
            session, world.customer.id or 0,
            {"kind": "other", "name": f"n{k}", "lat": 60.16 + 0.004 * k, "lon": 24.93},
        )  # fmt: skip
        register_order(session, order_data(world, place_id=place.id, **WINDOW), f"n{k}")
    before = {s.order_id: s.arrival_at for s in route_stops(session, route.id or 0)}
    new_plan = replan(session, plan_id, limits=LIMITS, travel=TRAVEL)
    after = {
        s.order_id: s.arrival_at
        for r in plan_routes(session, new_plan.id or 0)
        for s in route_stops(session, r.id or 0)
        if s.order_id in before
    }
    moved = {o for o in before if abs(after[o] - before[o]) > timedelta(minutes=1)}
    told = {b["order_id"] for b in bodies(session, "order.eta_moved")}
    assert moved, "the re-plan moved no dispatched stop by more than a minute"
    assert told == moved
    logged = {
        e.order_id
        for o in before
        for e in events.order_events(session, o)
        if e.kind is OrderEventKind.ETA_MOVED
    }
    assert logged >= moved


def test_options_ready_is_told_once_and_confirmed_is_logged(session: Session, world: World) -> None:
    from orchestrator.concierge.offers import options_for_order

    subscribe(session, "http://127.0.0.1:9/hooks", "order.options_ready", "order.confirmed")
    now = datetime(2025, 3, 2, 16, tzinfo=UTC)
    order = register_order(session, order_data(world, place_id=None, mode=None), "o1")
    first = options_for_order(session, order.id or 0, now=now, travel=TRAVEL)
    options_for_order(session, order.id or 0, now=now, travel=TRAVEL)
    assert first.options
    assert [b["type"] for b in bodies(session)] == ["order.options_ready"]
    opt = first.options[0]
    hold = choose_option(
        session,
        order.id or 0,
        {"place_id": opt.place_id, "service_level": opt.service_level,
         "window_start": opt.window_start, "window_end": opt.window_end},
        now=now, travel=TRAVEL,
    )  # fmt: skip
    confirm_hold(session, hold.id, now=now + timedelta(minutes=1))
    (confirmed,) = bodies(session, "order.confirmed")
    assert confirmed["order_id"] == order.id
    assert confirmed["data"]["window"]["start"] == opt.window_start.isoformat()
    kinds = [e.kind for e in events.order_events(session, order.id or 0)]
    assert kinds == [
        OrderEventKind.CREATED,
        OrderEventKind.OPTIONS_OFFERED,
        OrderEventKind.HELD,  # the hold is logged too (issue #17), and tells no webhook
        OrderEventKind.CONFIRMED,
    ]


def test_a_collected_return_is_told(session: Session, world: World) -> None:
    from orchestrator.models import Store
    from orchestrator.returns_flow import advance_return, choose_pickup, start_return
    from tests.orchestrator.returns_world import (
        NOW,
        catalogue,
        delivered,
        return_of,
        shops,
        sku,
    )

    catalogue(session)
    shops(session, world)
    [(order, line)] = delivered(session, world, sku("S"))
    subscribe(session, "http://127.0.0.1:9/hooks", "return.collected")
    ret = start_return(session, return_of(order, line), now=NOW)
    kallio = session.exec(select(Store).where(Store.code == "KAL")).one()
    choose_pickup(
        session, ret.id or 0, {"method": "store", "store_id": kallio.id}, now=NOW, travel=TRAVEL
    )
    assert outbox(session) == []
    advance_return(session, ret.id or 0, "picked_up")
    advance_return(session, ret.id or 0, "received")  # told once, when it left the customer
    (body,) = bodies(session)
    assert body["type"] == "return.collected"
    assert body["order_id"] == order.id and body["return_id"] == ret.id
    assert body["data"]["return_status"] == "picked_up"


# -- delivery -------------------------------------------------------------------------------


def _deliver_until_settled(engine: Engine, policy: RetryPolicy, *, within_s: float) -> float:
    """Run deliveries until nothing is pending; the seconds it took."""
    start = time.monotonic()
    sender = HttpSender()
    while time.monotonic() - start < within_s:
        deliver_due(engine, sender, policy, rng=random.Random(0))
        due = next_due(engine)
        if due is None:
            return time.monotonic() - start
        time.sleep(max(0.0, min(0.05, (due - datetime.now(UTC)).total_seconds())))
    raise AssertionError(f"still pending after {within_s} s")


def test_a_receiver_down_for_three_attempts_gets_every_event_as_signed(
    engine: Engine, session: Session, world: World
) -> None:
    down_three_times = Receiver([503, 503, 503])
    try:
        hook = subscribe(session, down_three_times.url)
        orders = [register_order(session, order_data(world), f"o{k}") for k in range(3)]
        for o in orders:
            events.record(session, o.id or 0, OrderEventKind.DELIVERED, detail=f"#{o.id}")
        session.commit()
        sent = {r.event_id: r.body for r in outbox(session)}
        _deliver_until_settled(engine, FAST, within_s=20)
    finally:
        down_three_times.close()
    rows = outbox(session)
    assert all(r.status is DeliveryStatus.DELIVERED for r in rows)
    assert sum(r.attempts for r in rows) == 3 + 3  # three refused, then each once
    got = down_three_times.delivered()
    assert sorted(h["Webhook-Id"] for h, _ in got) == sorted(sent)  # each id delivered once
    for headers, body in got:
        assert body == sent[headers["Webhook-Id"]].encode()  # exactly as written
        assert headers["Content-Type"] == "application/json"
        assert verify(hook.secret, body, headers["Webhook-Signature"])
        assert abs(int(headers["Webhook-Timestamp"]) - time.time()) < 60
    refused_ids = [h["Webhook-Id"] for h, _, code in down_three_times.requests if code == 503]
    assert set(refused_ids) <= set(sent)  # retries carry the same id


def test_back_off_doubles_with_jitter_up_to_the_cap() -> None:
    policy = RetryPolicy(backoff_s=5, backoff_max_s=60, jitter=0.2)
    rng = random.Random(1)
    waits = [policy.delay_s(n, rng) for n in range(1, 8)]
    for n, wait in enumerate(waits, start=1):
        base = min(5 * 2 ** (n - 1), 60)
        assert 0.8 * base <= wait <= 1.2 * base
    assert RetryPolicy(jitter=0).delay_s(100, rng) == 3_600  # capped, no overflow


def test_a_receiver_that_never_answers_2xx_makes_the_row_dead_with_its_error(
    engine: Engine, session: Session, world: World
) -> None:
    broken = Receiver([500] * 10)
    try:
        subscribe(session, broken.url)
        order = register_order(session, order_data(world), "o1")
        events.record(session, order.id or 0, OrderEventKind.DELIVERED)
        session.commit()
        policy = RetryPolicy(backoff_s=0.02, backoff_max_s=0.05, max_attempts=3, timeout_s=2)
        _deliver_until_settled(engine, policy, within_s=20)
    finally:
        broken.close()
    (row,) = outbox(session)
    assert row.status is DeliveryStatus.DEAD and row.attempts == 3
    assert row.last_status == 500 and row.last_error == "HTTP 500 from the receiver"
    assert len(broken.requests) == 3


def test_nobody_listening_is_an_error_retried_later(
    engine: Engine, session: Session, world: World
) -> None:
    gone = Receiver()
    gone.close()  # the port refuses connections
    subscribe(session, gone.url)
    order = register_order(session, order_data(world), "o1")
    events.record(session, order.id or 0, OrderEventKind.DELIVERED)
    session.commit()
    now = datetime.now(UTC)
    policy = RetryPolicy(backoff_s=5, jitter=0)
    assert deliver_due(engine, HttpSender(), policy, now=now) == 1
    (row,) = outbox(session)
    assert row.status is DeliveryStatus.PENDING and row.attempts == 1
    assert row.last_error is not None and row.last_error.startswith("could not post")
    assert row.last_status is None
    wait = (row.next_attempt_at - now).total_seconds()
    assert 4.9 <= wait <= 6.0  # the first back-off: 5 s
    assert deliver_due(engine, HttpSender(), policy, now=now) == 0  # not due yet


def test_a_claimed_row_is_sent_by_one_worker_until_its_lease_runs_out(
    engine: Engine, session: Session, world: World, receiver: Receiver
) -> None:
    subscribe(session, receiver.url)
    order = register_order(session, order_data(world), "o1")
    events.record(session, order.id or 0, OrderEventKind.DELIVERED)
    session.commit()
    now = datetime.now(UTC)
    (mine,) = claim_due(engine, now=now, lease_s=30)
    assert claim_due(engine, now=now) == []  # another worker finds nothing
    assert claim_due(engine, now=now + timedelta(seconds=29)) == []
    # The first worker died after posting: past the lease the row is posted again, same id.
    (again,) = claim_due(engine, now=now + timedelta(seconds=31), lease_s=30)
    assert again.event_id == mine.event_id and again.attempts == 2
    answer = send(mine, HttpSender(), timeout_s=2, now=now)
    assert answer.ok
    assert settle(engine, mine, answer, FAST) is None  # its claim was lost: nothing recorded
    assert settle(engine, again, send(again, HttpSender(), timeout_s=2, now=now), FAST) is (
        DeliveryStatus.DELIVERED
    )
    assert [h["Webhook-Id"] for h, _ in receiver.delivered()] == [mine.event_id] * 2


def test_two_workers_at_once_never_send_a_row_twice(
    engine: Engine, session: Session, world: World, receiver: Receiver
) -> None:
    subscribe(session, receiver.url)
    for k in range(40):
        order = register_order(session, order_data(world), f"o{k}")
        events.record(session, order.id or 0, OrderEventKind.DELIVERED)
    session.commit()
    errors: list[BaseException] = []

    def work() -> None:
        try:
            while deliver_due(engine, HttpSender(), FAST, limit=3):
                pass
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    ids = [h["Webhook-Id"] for h, _ in receiver.delivered()]
    assert len(ids) == len(set(ids)) == 40
    assert all(r.status is DeliveryStatus.DELIVERED and r.attempts == 1 for r in outbox(session))
