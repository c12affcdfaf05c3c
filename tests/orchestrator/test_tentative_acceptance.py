"""The day's tentative plan honours robot acceptance as ``build_problem`` does (issue #17): an
order of a customer who refuses robots, already promised a window but not yet planned, takes
its room on a van in the tentative plan — never on a robot — so the next options are checked
against the van's real remaining room, and a customer who refuses robots is offered nothing
when the only free capacity left is a robot's.

The depot: one van that carries one parcel, one sidewalk robot that is far cheaper per
kilometre and hour (without acceptance, the cheapest insertion puts the promised order on the
robot and leaves the van looking free)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from orchestrator.concierge.offers import clear_caches, options_for_order
from orchestrator.concierge.profiles import put_profile
from orchestrator.intake.catalog import add_fleet, create_vehicle_type
from orchestrator.intake.orders import register_order
from orchestrator.models import Order
from orchestrator.planning.tentative import tentative_day
from orchestrator.planning.travel import StraightLineTravel
from routing.model import VehicleKind
from tests.orchestrator.conftest import DAY, HOUR, World, order_data

HEL = ZoneInfo("Europe/Helsinki")
NOW = datetime(2025, 3, 2, 18, 0, tzinfo=HEL)
"""The evening before the service day."""
TRAVEL = StraightLineTravel(detour_factor=1.3)


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    """Ids restart between tests on PostgreSQL: no timeline may survive a test."""
    clear_caches()
    yield
    clear_caches()


@pytest.fixture
def robot_depot(session: Session, world: World) -> World:
    """The world's depot with one van of one parcel and one cheap robot of two."""
    tiny = create_vehicle_type(
        session,
        {"name": "tiny", "kind": "van", "profile": "car", "capacity_weight_g": 100_000,
         "capacity_volume_ml": 1_000_000, "capacity_parcels": 1, "fixed_cost": 50.0,
         "cost_per_km": 0.5, "cost_per_hour": 30.0},
    )  # fmt: skip
    world.fleet.vehicle_type_id = tiny.id or 0
    world.fleet.count = 1
    session.add(world.fleet)
    session.commit()
    robot = create_vehicle_type(
        session,
        {"name": "robot", "kind": "robot", "profile": "walk", "capacity_weight_g": 20_000,
         "capacity_volume_ml": 60_000, "capacity_parcels": 2, "range_m": 8_000,
         "cost_per_km": 0.05, "cost_per_hour": 1.0, "co2_g_per_km": 5.0},
    )  # fmt: skip
    add_fleet(
        session,
        {"depot_id": world.depot.id, "vehicle_type_id": robot.id, "count": 1,
         "shift_start_s": 8 * HOUR, "shift_end_s": 18 * HOUR},
    )  # fmt: skip
    return world


def _promised(session: Session, world: World) -> Order:
    """An order of the world's customer (no profile: she refuses robots) with its place and a
    10-12 window, open: promised, not planned yet."""
    return register_order(
        session,
        order_data(world, window_start="2025-03-03T10:00:00+02:00",
                   window_end="2025-03-03T12:00:00+02:00"),
        "promised",
    )  # fmt: skip


def test_a_promised_order_of_a_robot_refuser_is_on_the_van(
    session: Session, robot_depot: World
) -> None:
    promised = _promised(session, robot_depot)
    day = tentative_day(session, robot_depot.depot, DAY, now=NOW, travel=TRAVEL)
    (carrier,) = [r for r in day.plan.timeline.routes if f"order-{promised.id}" in r.stop_ids]
    assert carrier.vehicle_type.kind is VehicleKind.VAN, carrier.vehicle_type.name


def test_only_a_robots_room_left_offers_a_robot_refuser_nothing(
    session: Session, robot_depot: World
) -> None:
    _promised(session, robot_depot)
    asking = register_order(session, order_data(robot_depot, place_id=None, mode=None), "asking")
    answer = options_for_order(session, asking.id or 0, days=1, k=20, now=NOW, travel=TRAVEL)
    # the van carries the promised parcel; the robot is free but refused
    assert [(o.vehicle_type, o.window_start) for o in answer.options] == []


def test_accepting_robots_later_lets_the_order_ride_a_robot(
    session: Session, robot_depot: World
) -> None:
    """The cached tentative day follows the profile: once she accepts robots, her promised
    order goes where it is cheapest (the robot), and the van is free again."""
    promised = _promised(session, robot_depot)
    tentative_day(session, robot_depot.depot, DAY, now=NOW, travel=TRAVEL)  # cached
    put_profile(session, robot_depot.customer.id or 0, {"accepts_robot": True}, now=NOW)
    day = tentative_day(session, robot_depot.depot, DAY, now=NOW, travel=TRAVEL)
    (carrier,) = [r for r in day.plan.timeline.routes if f"order-{promised.id}" in r.stop_ids]
    assert carrier.vehicle_type.kind is VehicleKind.ROBOT, carrier.vehicle_type.name
