"""Commuters in production, end to end: a real uvicorn server, real HTTP calls, SQLite and
PostgreSQL — a commuter registers a trip, gets an offer, accepts, picks up and delivers (the
order's events show it); another refuses and the order is re-planned onto a van inside its
promised window. Bad input is a 4xx naming the field."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from api.app import create_app
from api.deps import _settings_secret
from benchmarks.loopback import serve_in_thread
from orchestrator.access.keys import authenticate, create_api_key
from orchestrator.access.links import make_link_token
from orchestrator.commuting import create_courier
from orchestrator.intake.orders import register_order
from orchestrator.models import Order, Plan, PlanStatus, Route, RouteStop
from orchestrator.planning.plans import current_plan, plan_day
from orchestrator.settings import Settings
from orchestrator.store.engine import create_engine
from tests.api.conftest import LIVE_STARTUP_S, bearer, with_cached_openapi
from tests.api.test_cli_keys import run
from tests.orchestrator.conftest import LIMITS, TRAVEL, make_world, order_data

ZONE = ZoneInfo("Europe/Helsinki")
TOMORROW = (datetime.now(ZONE) + timedelta(days=1)).date()


def at(hour: float, day: date = TOMORROW) -> datetime:
    """``hour`` o'clock in Helsinki on ``day``."""
    return datetime.combine(day, time(0), ZONE) + timedelta(hours=hour)


@dataclass(frozen=True)
class Served:
    """A served store with a depot, vans, a customer, a courier and keys."""

    url: str
    planner: str
    courier: str
    customer: str
    session: Session
    orders: list[int]
    link_secret: bytes


def _order(session: Session, world: Any, key: str) -> int:
    data = order_data(
        world,
        service_day=TOMORROW.isoformat(),
        window_start=at(16).isoformat(),
        window_end=at(18).isoformat(),
    )
    order = register_order(session, data, key)
    assert order.id is not None
    return order.id


@pytest.fixture
def served(store_url: str) -> Iterator[Served]:
    """The app on ``store_url`` served by uvicorn on a loopback port; one order tomorrow
    16:00-18:00 planned on a van, and a courier with a key."""
    app = with_cached_openapi(create_app(Settings(database_url=store_url)))
    with (
        serve_in_thread(app, startup_s=LIVE_STARTUP_S) as url,
        Session(app.state.engine) as session,
    ):
        world = make_world(session)
        first = _order(session, world, "o1")
        plan_day(session, world.depot.id or 0, TOMORROW, limits=LIMITS, travel=TRAVEL)
        courier = create_courier(session, {"name": "Mikko"})
        assert world.customer.id is not None
        yield Served(
            url,
            create_api_key(session, "planner"),
            create_api_key(session, "courier", courier_id=courier.id),
            create_api_key(session, "customer", world.customer.id),
            session,
            [first],
            _settings_secret(app.state.settings),
        )


def _trip(**changes: Any) -> dict[str, Any]:
    """A bike ride past the customer's home, leaving tomorrow 16:00-16:30, 20 minutes of
    detour, 3 parcels, 5 EUR wanted."""
    trip: dict[str, Any] = {
        "origin_lat": 60.1690,
        "origin_lon": 24.9390,
        "destination_lat": 60.1900,
        "destination_lon": 24.9300,
        "leave_after": at(16).isoformat(),
        "leave_before": at(16.5).isoformat(),
        "capacity_parcels": 3,
        "max_detour_min": 20,
        "payout_wanted_eur": 5.0,
        "mode": "bike",
    }
    trip.update(changes)
    return trip


@dataclass(frozen=True)
class Answer:
    """An HTTP answer: its status, its text and its JSON."""

    status_code: int
    text: str

    def json(self) -> Any:
        """The body read as JSON."""
        return json.loads(self.text)


@dataclass(frozen=True)
class Http:
    """A plain HTTP client of the served app (urllib: real sockets, no test transport)."""

    base_url: str

    def call(self, method: str, path: str, body: Any = None, key: str = "") -> Answer:
        """Send one request; any status is an answer."""
        data = None if body is None else json.dumps(body).encode()
        headers = {"Authorization": f"Bearer {key}"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(
            self.base_url + path, data=data, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return Answer(response.status, response.read().decode())
        except urllib.error.HTTPError as exc:
            return Answer(exc.code, exc.read().decode())

    def get(self, path: str, key: str) -> Answer:
        """``GET path`` with ``key``."""
        return self.call("GET", path, None, key)

    def post(self, path: str, key: str, body: Any = None) -> Answer:
        """``POST path`` with ``key`` and a JSON ``body``."""
        return self.call("POST", path, body, key)


def _kinds(client: Http, key: str, order_id: int) -> list[str]:
    answer = client.get(f"/orders/{order_id}/events", key)
    assert answer.status_code == 200, answer.text
    return [e["kind"] for e in answer.json()]


def test_a_commuter_registers_gets_an_offer_accepts_and_delivers(served: Served) -> None:
    order_id = served.orders[0]
    client = Http(served.url)
    made = client.post("/couriers/trips", served.courier, _trip())
    assert made.status_code == 201, made.text
    offer = made.json()["offer"]
    assert offer is not None, made.json()["no_offer_reason"]
    assert offer["status"] == "offered"
    assert offer["payout_eur"] == 5.0
    assert 0 <= offer["detour_min"] <= 20
    assert [j["status"] for j in offer["jobs"]] == ["offered"]
    assert offer["jobs"][0]["handoff_code"] is None  # only once accepted
    assert "Aino" not in made.text and "aino@" not in made.text

    accepted = client.post(f"/couriers/offers/{offer['id']}/accept", served.courier)
    assert accepted.status_code == 200, accepted.text
    job = accepted.json()["jobs"][0]
    assert job["status"] == "accepted" and job["handoff_code"]
    assert "Aino" not in accepted.text and "aino@" not in accepted.text
    # The order left the van: a courier key reaches no order, the customer sees a neighbour.
    assert client.get(f"/orders/{order_id}", served.courier).status_code == 403
    tracked = client.get(f"/orders/{order_id}/tracking", served.customer)
    assert tracked.status_code == 200, tracked.text
    assert tracked.json()["vehicle_kind"] == "courier"
    assert tracked.json()["eta"] is not None
    assert tracked.json()["neighbour"] and tracked.json()["handoff_code"] == job["handoff_code"]
    token = make_link_token(served.link_secret, "order", order_id)
    page = client.call("GET", f"/t/{token}")
    assert page.status_code == 200
    assert "a neighbour on their way" in page.text and job["handoff_code"] in page.text

    picked = client.post(f"/couriers/offers/{offer['id']}/pickup", served.courier)
    assert picked.status_code == 200, picked.text
    wrong = client.post(
        f"/couriers/jobs/{job['id']}/delivered", served.courier, {"handoff_code": "no-such"}
    )
    assert wrong.status_code == 422 and wrong.json()["field"] == "body.handoff_code"
    done = client.post(
        f"/couriers/jobs/{job['id']}/delivered",
        served.courier,
        {"handoff_code": job["handoff_code"]},
    )
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "done"
    kinds = _kinds(client, served.planner, order_id)
    assert kinds[-3:] == ["courier_accepted", "picked_up", "delivered"]
    served.session.expire_all()
    order = served.session.get(Order, order_id)
    assert order is not None and order.status.value == "delivered"


def test_a_refused_order_is_replanned_onto_a_van_within_its_window(served: Served) -> None:
    # An order placed after the day was planned: open, on no van yet.
    world_order = served.session.get(Order, served.orders[0])
    assert world_order is not None
    late = register_order(
        served.session,
        {**order_data_of(world_order), "place_id": world_order.place_id},
        "late-1",
    )
    assert late.id is not None and late.status.value == "open"
    client = Http(served.url)
    made = client.post("/couriers/trips", served.courier, _trip())
    assert made.status_code == 201, made.text
    offer = made.json()["offer"]
    assert offer is not None, made.json()["no_offer_reason"]
    refused = client.post(f"/couriers/offers/{offer['id']}/refuse", served.courier)
    assert refused.status_code == 200, refused.text
    assert refused.json()["status"] == "refused"
    again = client.post(f"/couriers/offers/{offer['id']}/accept", served.courier)
    assert again.status_code == 409
    kinds = _kinds(client, served.planner, late.id)
    assert "courier_released" in kinds and kinds[-1] in ("planned", "replanned")
    served.session.expire_all()
    order = served.session.get(Order, late.id)
    assert order is not None and order.status.value == "planned"
    plan = current_plan(served.session, order.depot_id, TOMORROW)
    assert plan is not None and plan.status is PlanStatus.CURRENT
    stop = served.session.exec(
        select(RouteStop).join(Route).where(Route.plan_id == plan.id, RouteStop.order_id == late.id)
    ).one()
    assert order.window_start is not None and order.window_end is not None
    assert order.window_start <= stop.service_start_at <= order.window_end
    assert served.session.exec(select(Plan)).all()  # the day's plans are kept


def order_data_of(order: Order) -> dict[str, Any]:
    """A new order like ``order`` (its customer, depot, day and window)."""
    assert order.window_start is not None and order.window_end is not None
    return {
        "customer_id": order.customer_id,
        "depot_id": order.depot_id,
        "service_day": order.service_day.isoformat(),
        "window_start": order.window_start.isoformat(),
        "window_end": order.window_end.isoformat(),
        "mode": "hand_over",
        "items": [{"description": "book", "weight_g": 600, "volume_ml": 2_000}],
    }


# -- bad input and who may do what (the app through a test client: no server needed) ------


@pytest.fixture
def courier_key(session: Session) -> str:
    """A courier's key in the ``client``'s store."""
    courier = create_courier(session, {"name": "Mikko"})
    return create_api_key(session, "courier", courier_id=courier.id)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"origin_lat": 91.0}, "body.origin_lat"),  # off the globe
        ({"destination_lon": -181.0}, "body.destination_lon"),  # off the globe
        ({"capacity_parcels": 0}, "body.capacity_parcels"),  # carries nothing
        ({"max_detour_min": 0}, "body.max_detour_min"),  # no detour at all
        ({"max_detour_min": 600}, "body.max_detour_min"),  # ten hours
        ({"payout_wanted_eur": -1.0}, "body.payout_wanted_eur"),  # pays the carrier
        ({"leave_after": "2025-03-03T16:00:00"}, "body.leave_after"),  # no offset
        ({"mode": "rocket"}, "body.mode"),  # not a way to travel
        ({"leave_before": at(15).isoformat()}, "body"),  # before leave_after
    ],
)
def test_a_bad_trip_is_422_naming_the_field(
    client: Any, courier_key: str, changes: dict[str, Any], field: str
) -> None:
    answer = client.post("/couriers/trips", json=_trip(**changes), headers=bearer(courier_key))
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == field
    assert answer.json()["message"]


def test_a_trip_already_over_is_422_on_leave_before(client: Any, courier_key: str) -> None:
    yesterday = TOMORROW - timedelta(days=2)
    trip = _trip(
        leave_after=at(8, yesterday).isoformat(), leave_before=at(9, yesterday).isoformat()
    )
    answer = client.post("/couriers/trips", json=trip, headers=bearer(courier_key))
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == "body.leave_before"


def test_only_a_courier_registers_trips_and_a_courier_reaches_nothing_else(
    client: Any, courier_key: str, keys: Any
) -> None:
    planner = client.post("/couriers/trips", json=_trip(), headers=bearer(keys.planner))
    assert planner.status_code == 403
    assert client.get("/orders", headers=bearer(courier_key)).status_code == 403
    assert client.get("/customers", headers=bearer(courier_key)).status_code == 403
    assert client.get("/couriers/offers/1", headers=bearer(keys.customer)).status_code == 403


def test_another_couriers_offer_is_404(client: Any, session: Session, courier_key: str) -> None:
    world = make_world(session)
    _order(session, world, "o1")  # no plan yet: a parcel costs the vans 4 EUR
    trip = _trip(payout_wanted_eur=3.0)
    made = client.post("/couriers/trips", json=trip, headers=bearer(courier_key))
    assert made.status_code == 201, made.text
    offer = made.json()["offer"]
    assert offer is not None, made.json()["no_offer_reason"]
    other = create_api_key(
        session, "courier", courier_id=create_courier(session, {"name": "Liisa"}).id
    )
    for path in (f"/couriers/offers/{offer['id']}", f"/couriers/trips/{made.json()['id']}"):
        assert client.get(path, headers=bearer(other)).status_code == 404
    refused = client.post(f"/couriers/offers/{offer['id']}/accept", headers=bearer(other))
    assert refused.status_code == 404


def test_a_courier_key_needs_its_courier(session: Session) -> None:
    with pytest.raises(ValueError, match="courier key needs the courier"):
        create_api_key(session, "courier")
    with pytest.raises(ValueError, match="only courier keys"):
        create_api_key(session, "planner", courier_id=1)


def test_keys_create_gives_a_courier_their_key(tmp_path: Any, monkeypatch: Any) -> None:
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    monkeypatch.setenv("LASTMILE_DATABASE_URL", url)
    code, out, err = run(["keys", "create", "--role", "courier", "--courier-name", "Mikko"])
    assert (code, err) == (0, ""), out
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            found = authenticate(session, out.strip().splitlines()[-1])
            assert found is not None and found.role.value == "courier"
            assert found.courier_id is not None
    finally:
        engine.dispose()
    code, _, err = run(["keys", "create", "--role", "courier"])
    assert code == 2 and "--courier" in err and "courier key needs" in err
