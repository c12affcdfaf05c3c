"""The returns flow on the store (SQLite and PostgreSQL): starting a return (own delivered
orders only), the engine's decision stored with its explanation, pickup options by insertion,
the choice, progress and the planner's flows — and every error path."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlmodel import Session

from orchestrator.errors import Conflict, InvalidInput, NotFound
from orchestrator.intake.catalog import add_place, create_customer
from orchestrator.intake.orders import order_items, register_order
from orchestrator.models import (
    CarriedTo,
    DestinationKind,
    PickupMethod,
    ReturnStatus,
)
from orchestrator.planning.plans import plan_day
from orchestrator.returns_flow import (
    LIQUIDATION_ID,
    OUTLET_ID,
    ReturnsPolicy,
    advance_return,
    choose_pickup,
    get_return,
    list_returns,
    pickup_options,
    return_flows,
    return_public,
    start_return,
    warehouse_id,
)
from orchestrator.returns_flow.catalog import replace_stock
from tests.orchestrator.conftest import World, order_data
from tests.orchestrator.returns_world import (
    LIMITS,
    NOW,
    PICKUP_DAY,
    TRAVEL,
    catalogue,
    delivered,
    return_of,
    shops,
    sku,
)


@pytest.fixture
def shop_world(session: Session, world: World) -> World:
    """The world with the dress catalogue and the two stores with their sales."""
    catalogue(session)
    shops(session, world)
    return world


def test_the_item_goes_to_the_store_that_sells_its_size(
    session: Session, shop_world: World
) -> None:
    [(small, s_line), (medium, m_line)] = delivered(session, shop_world, sku("S"), sku("M"))
    customer = shop_world.customer.id

    s_ret = start_return(session, return_of(small, s_line), customer_id=customer, now=NOW)
    m_ret = start_return(session, return_of(medium, m_line), customer_id=customer, now=NOW)

    assert (s_ret.destination_name, m_ret.destination_name) == ("Store Kallio", "Store Punavuori")
    assert s_ret.status is ReturnStatus.REQUESTED and s_ret.sku == sku("S")
    assert s_ret.destination_kind is DestinationKind.STORE
    assert s_ret.explanation.startswith(
        "Store Kallio sold 14 of this style in size S in the last 28 days and holds 0;"
    )
    assert s_ret.options[0]["destination_id"] == s_ret.destination_id
    assert s_ret.expected_recovery_eur == s_ret.options[0]["expected_net_eur"]
    assert {o["destination_id"] for o in s_ret.options} == {
        s_ret.destination_id, m_ret.destination_id, warehouse_id(shop_world.depot.id or 0),
        OUTLET_ID, LIQUIDATION_ID,
    }  # fmt: skip
    assert 0.5 < s_ret.resale_probability <= 1 and s_ret.transfer_km > 0


def test_stock_on_the_shelf_competes_for_the_demand(session: Session, shop_world: World) -> None:
    [(order, line)] = delivered(session, shop_world, sku("S"))
    kallio = shops_of(session)["KAL"]
    baseline = start_return(session, return_of(order, line), now=NOW)
    replace_stock(session, kallio, {"stock": [{"sku": sku("S"), "units": 6}]})
    session.delete(baseline)
    session.commit()

    crowded = start_return(session, return_of(order, line), now=NOW)

    kal = next(o for o in crowded.options if o["destination_id"] == f"store-{kallio}")
    was = next(o for o in baseline.options if o["destination_id"] == f"store-{kallio}")
    assert kal["probability"] < was["probability"] / 2


def shops_of(session: Session) -> dict[str, int]:
    from sqlmodel import select

    from orchestrator.models import Store

    return {s.code: s.id or 0 for s in session.exec(select(Store))}


def test_condition_c_goes_to_the_outlet(session: Session, shop_world: World) -> None:
    [(order, line)] = delivered(session, shop_world, sku("S"))
    ret = start_return(session, return_of(order, line, condition="C"), now=NOW)
    assert ret.destination_id == OUTLET_ID and ret.destination_kind is DestinationKind.OUTLET
    assert ret.explanation.startswith("Condition C goes to an outlet or liquidation")


def test_a_customer_cannot_return_another_customers_order(
    session: Session, shop_world: World
) -> None:
    [(order, line)] = delivered(session, shop_world, sku("S"))
    stranger = create_customer(session, {"name": "Bertil Lindqvist"})
    with pytest.raises(NotFound, match="order"):
        start_return(session, return_of(order, line), customer_id=stranger.id, now=NOW)
    # The very same error as for an order that does not exist.
    with pytest.raises(NotFound, match="order"):
        start_return(session, return_of(order, line, order_id=999_999), now=NOW)
    ret = start_return(session, return_of(order, line), customer_id=shop_world.customer.id, now=NOW)
    assert get_return(session, ret.id or 0, customer_id=stranger.id) is None
    with pytest.raises(NotFound, match="return"):
        pickup_options(session, ret.id or 0, customer_id=stranger.id, now=NOW, travel=TRAVEL)
    with pytest.raises(NotFound, match="return"):
        choose_pickup(
            session,
            ret.id or 0,
            {"method": "store", "store_id": 1},
            customer_id=stranger.id,
            travel=TRAVEL,
        )
    assert list_returns(session, customer_id=stranger.id) == []
    assert [r.id for r in list_returns(session, customer_id=shop_world.customer.id)] == [ret.id]


def test_a_line_of_another_order_is_not_found(session: Session, shop_world: World) -> None:
    [(first, _), (_, other_line)] = delivered(session, shop_world, sku("S"), sku("M"))
    with pytest.raises(NotFound, match="order item"):
        start_return(session, return_of(first, other_line), now=NOW)


def test_only_delivered_orders_and_units_not_yet_returned(
    session: Session, shop_world: World
) -> None:
    [(order, line)] = delivered(session, shop_world, sku("S"))
    open_order = register_order(
        session,
        order_data(shop_world, service_day="2025-03-06", items=[{"weight_g": 1, "volume_ml": 1,
                                                                 "sku": sku("S")}]),
        "later",
    )  # fmt: skip
    (open_line,) = order_items(session, open_order.id or 0)
    with pytest.raises(Conflict, match="not delivered"):
        start_return(session, return_of(open_order, open_line), now=NOW)
    start_return(session, return_of(order, line), now=NOW)
    with pytest.raises(Conflict, match="already being returned"):
        start_return(session, return_of(order, line), now=NOW)


def test_two_units_of_a_line_may_both_come_back(session: Session, shop_world: World) -> None:
    [(order, line)] = delivered(session, shop_world, sku("S"), quantity=2)
    first = start_return(session, return_of(order, line), now=NOW)
    second = start_return(session, return_of(order, line), now=NOW)
    assert first.id != second.id


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"condition": "D"}, ("condition",)),  # grades are A, B, C
        ({"reason": "bored"}, ("reason",)),  # one of the listed reasons
        ({"order_id": None}, ("order_id",)),  # required
    ],
)
def test_bad_fields_name_the_field(
    session: Session, shop_world: World, changes: dict[str, object], field: tuple[str, ...]
) -> None:
    [(order, line)] = delivered(session, shop_world, sku("S"))
    with pytest.raises(InvalidInput) as caught:
        start_return(session, return_of(order, line, **changes), now=NOW)
    assert caught.value.field == field


def test_unknown_sku_and_missing_sku_are_clear(session: Session, shop_world: World) -> None:
    [(unknown, u_line), (bare, b_line)] = delivered(session, shop_world, "HAT-RED-L", None)
    with pytest.raises(InvalidInput, match=r"'HAT-RED-L'.*not in the product catalogue") as caught:
        start_return(session, return_of(unknown, u_line), now=NOW)
    assert caught.value.field == ("order_item_id",)
    with pytest.raises(InvalidInput, match="has no SKU") as caught:
        start_return(session, return_of(bare, b_line), now=NOW)
    assert caught.value.field == ("order_item_id",)


def test_missing_history_is_a_clear_error(session: Session, world: World) -> None:
    catalogue(session)
    shops(session, world, with_sales=False)
    [(order, line)] = delivered(session, world, sku("S"))
    with pytest.raises(InvalidInput, match=r"no store .* recorded a sale") as caught:
        start_return(session, return_of(order, line), now=NOW)
    assert caught.value.field == ("sales_history",)


def test_online_orders_count_as_the_warehouse_history(session: Session, world: World) -> None:
    catalogue(session)
    shops(session, world, with_sales=False)
    # The delivered dresses themselves are the online sales; no store sold anything.
    [(order, line), *_] = delivered(session, world, sku("S"), sku("S"), sku("S"))
    ret = start_return(session, return_of(order, line), now=NOW)
    warehouse = next(
        o for o in ret.options if o["destination_id"] == warehouse_id(world.depot.id or 0)
    )
    assert warehouse["probability"] > 0


def test_pickup_options_are_checked_against_the_day(session: Session, shop_world: World) -> None:
    [(order, line)] = delivered(session, shop_world, sku("S"))
    locker = add_place(
        session, shop_world.customer.id or 0,
        {"kind": "locker", "name": "locker", "lat": 60.1700, "lon": 24.9410},
    )  # fmt: skip
    ret = start_return(session, return_of(order, line), now=NOW)

    options = pickup_options(session, ret.id or 0, now=NOW, travel=TRAVEL)

    methods = [o.method for o in options]
    assert methods == sorted(methods, key=[PickupMethod.PICKUP, PickupMethod.LOCKER,
                                           PickupMethod.STORE].index)  # fmt: skip
    pickups = [o for o in options if o.method is PickupMethod.PICKUP]
    assert {o.place_id for o in pickups} == {shop_world.home.id, shop_world.office.id}
    assert {o.day for o in pickups} == {NOW.date() + timedelta(days=d) for d in range(3)}
    for o in pickups:
        assert o.window_start is not None and o.window_end is not None
        assert o.window_start >= NOW + timedelta(hours=1)
        assert o.window_end - o.window_start == timedelta(hours=2)
        assert o.eta_start is not None and o.eta_end is not None
        assert o.window_start <= o.eta_start <= o.eta_end <= o.window_end
        assert o.marginal_cost_eur > 0 and "van" in o.explanation
    lockers = [o for o in options if o.method is PickupMethod.LOCKER]
    assert [o.place_id for o in lockers] == [locker.id] * 3
    assert all(o.window_start is None and "locker" in o.explanation for o in lockers)
    stores = [o for o in options if o.method is PickupMethod.STORE]
    assert [o.name for o in stores] == ["Store Kallio", "Store Punavuori"]  # nearest first
    assert "stays there" in stores[0].explanation
    assert "goes to Store Kallio" in stores[1].explanation


def test_no_window_is_offered_where_no_vehicle_can_go(session: Session, shop_world: World) -> None:
    [(order, line)] = delivered(session, shop_world, sku("S"))
    # A cottage 200 km away: a van cannot go there and back within a two-hour window.
    add_place(
        session, shop_world.customer.id or 0,
        {"kind": "other", "name": "cottage", "lat": 61.95, "lon": 25.0},
    )  # fmt: skip
    ret = start_return(session, return_of(order, line), now=NOW)
    options = pickup_options(session, ret.id or 0, now=NOW, travel=TRAVEL)
    assert "cottage" not in {o.name for o in options}


def test_choosing_a_pickup_schedules_it_and_decides_again(
    session: Session, shop_world: World
) -> None:
    [(order, line)] = delivered(session, shop_world, sku("S"))
    ret = start_return(session, return_of(order, line), now=NOW)
    from_home = ret.transfer_km
    option = next(
        o for o in pickup_options(session, ret.id or 0, now=NOW, travel=TRAVEL)
        if o.day == PICKUP_DAY and o.place_id == shop_world.office.id
    )  # fmt: skip

    chosen = choose_pickup(
        session, ret.id or 0,
        {"method": "pickup", "place_id": option.place_id, "window_start": option.window_start,
         "window_end": option.window_end},
        customer_id=shop_world.customer.id, now=NOW, travel=TRAVEL,
    )  # fmt: skip

    assert chosen.status is ReturnStatus.SCHEDULED
    assert chosen.pickup_method is PickupMethod.PICKUP and chosen.pickup_day == PICKUP_DAY
    assert (chosen.window_start, chosen.window_end) == (option.window_start, option.window_end)
    assert chosen.destination_name == "Store Kallio"
    # The transfer is now counted from the office.
    assert chosen.transfer_km != from_home


def test_handing_in_at_the_destination_store_costs_no_transfer(
    session: Session, shop_world: World
) -> None:
    [(order, line)] = delivered(session, shop_world, sku("S"))
    kallio = shops_of(session)["KAL"]
    ret = start_return(session, return_of(order, line), now=NOW)
    picked_up_at_home = ret.expected_recovery_eur
    chosen = choose_pickup(
        session, ret.id or 0, {"method": "store", "store_id": kallio}, now=NOW, travel=TRAVEL
    )
    assert chosen.pickup_method is PickupMethod.STORE and chosen.pickup_store_id == kallio
    assert chosen.pickup_day == NOW.date()
    assert chosen.destination_store_id == kallio and chosen.transfer_km == 0.0
    assert chosen.expected_recovery_eur > picked_up_at_home


@pytest.mark.parametrize(
    ("choice", "field"),
    [
        ({"method": "pickup"}, ("place_id",)),  # which place
        ({"method": "pickup", "place_id": 999}, ("place_id",)),  # not theirs
        ({"method": "pickup", "place_id": "home"}, ("place_id",)),  # an id
        (
            {"method": "pickup", "place_id": "HOME", "window_start": "2025-03-05T12:00:00+02:00"},
            ("window_end",),
        ),  # both ends
        (
            {
                "method": "pickup",
                "place_id": "HOME",
                "window_start": "2025-03-05T12:00:00",
                "window_end": "2025-03-05T14:00:00",
            },
            ("window_start",),
        ),  # an offset
        (
            {
                "method": "pickup",
                "place_id": "HOME",
                "window_start": "2025-03-05T14:00:00+02:00",
                "window_end": "2025-03-05T12:00:00+02:00",
            },
            ("window_end",),
        ),  # reversed
        (
            {
                "method": "pickup",
                "place_id": "HOME",
                "window_start": "2025-03-01T12:00:00+02:00",
                "window_end": "2025-03-01T14:00:00+02:00",
            },
            ("window_start",),
        ),  # past
        ({"method": "locker", "place_id": "HOME", "day": "2025-03-05"}, ("place_id",)),  # no locker
        ({"method": "locker", "place_id": "LOCKER"}, ("day",)),  # which day
        ({"method": "locker", "place_id": "LOCKER", "day": "2025-03-01"}, ("day",)),  # past
        (
            {
                "method": "pickup",
                "place_id": "LOCKER",
                "window_start": "2025-03-05T12:00:00+02:00",
                "window_end": "2025-03-05T14:00:00+02:00",
            },
            ("place_id",),
        ),  # a locker
        ({"method": "store"}, ("store_id",)),  # which store
        ({"method": "store", "store_id": 999}, ("store_id",)),  # no such store
        ({"method": "drone"}, ("method",)),  # pickup, locker or store
    ],
)
def test_a_bad_choice_names_the_field(
    session: Session, shop_world: World, choice: dict[str, object], field: tuple[str, ...]
) -> None:
    [(order, line)] = delivered(session, shop_world, sku("S"))
    locker = add_place(
        session, shop_world.customer.id or 0,
        {"kind": "locker", "name": "locker", "lat": 60.1700, "lon": 24.9410},
    )  # fmt: skip
    ids = {"HOME": shop_world.home.id, "LOCKER": locker.id}
    choice = {k: ids.get(v, v) if isinstance(v, str) else v for k, v in choice.items()}
    ret = start_return(session, return_of(order, line), now=NOW)
    with pytest.raises(InvalidInput) as caught:
        choose_pickup(session, ret.id or 0, choice, now=NOW, travel=TRAVEL)
    assert caught.value.field == field


def test_a_store_that_takes_no_returns_is_refused(session: Session, shop_world: World) -> None:
    from orchestrator.intake.catalog import create_store

    shut = create_store(session, {"code": "X", "name": "X", "lat": 60.17, "lon": 24.94})
    [(order, line)] = delivered(session, shop_world, sku("S"))
    ret = start_return(session, return_of(order, line), now=NOW)
    with pytest.raises(InvalidInput, match="does not take returns"):
        choose_pickup(
            session, ret.id or 0, {"method": "store", "store_id": shut.id}, now=NOW, travel=TRAVEL
        )


def test_a_window_no_vehicle_can_serve_is_a_conflict(session: Session, shop_world: World) -> None:
    [(order, line)] = delivered(session, shop_world, sku("S"))
    ret = start_return(session, return_of(order, line), now=NOW)
    # 21:00-23:00 local: after every shift has ended.
    late = {
        "method": "pickup",
        "place_id": shop_world.home.id,
        "window_start": "2025-03-05T21:00:00+02:00",
        "window_end": "2025-03-05T23:00:00+02:00",
    }
    with pytest.raises(Conflict, match="no vehicle can collect it"):
        choose_pickup(session, ret.id or 0, late, now=NOW, travel=TRAVEL)
    assert get_return(session, ret.id or 0).status is ReturnStatus.REQUESTED  # type: ignore[union-attr]


def test_progress_moves_forward_only(session: Session, shop_world: World) -> None:
    [(order, line)] = delivered(session, shop_world, sku("S"))
    ret = start_return(session, return_of(order, line), now=NOW)
    with pytest.raises(Conflict, match="no pickup chosen"):
        advance_return(session, ret.id or 0, "picked_up")
    kallio = shops_of(session)["KAL"]
    choose_pickup(
        session, ret.id or 0, {"method": "store", "store_id": kallio}, now=NOW, travel=TRAVEL
    )
    with pytest.raises(InvalidInput) as caught:
        advance_return(session, ret.id or 0, "scheduled")
    assert caught.value.field == ("status",)
    assert advance_return(session, ret.id or 0, "received").status is ReturnStatus.RECEIVED
    with pytest.raises(Conflict, match="already received"):
        advance_return(session, ret.id or 0, "in_transit")
    with pytest.raises(Conflict, match="can no longer change"):
        pickup_options(session, ret.id or 0, now=NOW, travel=TRAVEL)
    with pytest.raises(NotFound):
        advance_return(session, 999_999, "received")


def test_flows_sum_per_destination(session: Session, shop_world: World) -> None:
    rows = delivered(session, shop_world, sku("S"), sku("S"), sku("M"), sku("L"))
    rets = [
        start_return(session, return_of(order, line, condition=grade), now=NOW)
        for (order, line), grade in zip(rows, "AACA", strict=True)
    ]
    kallio = shops_of(session)["KAL"]
    for ret in rets[:2]:
        choose_pickup(session, ret.id or 0, {"method": "store", "store_id": kallio,
                                             "day": PICKUP_DAY.isoformat()},
                      now=NOW, travel=TRAVEL)  # fmt: skip

    everything = return_flows(session, shop_world.depot.id or 0)
    day = return_flows(session, shop_world.depot.id or 0, PICKUP_DAY)

    assert everything.items == 4 and day.items == 2
    by_id = {f.destination_id: f for f in everything.destinations}
    assert by_id[f"store-{kallio}"].items == 2
    assert by_id[f"store-{kallio}"].by_status == {"scheduled": 2}
    # Condition C, and the size L no store or online customer bought.
    assert by_id[OUTLET_ID].items == 2 and by_id[OUTLET_ID].by_status == {"requested": 2}
    assert everything.destinations[0].destination_kind is DestinationKind.STORE
    assert everything.expected_recovery_eur == pytest.approx(
        sum(r.expected_recovery_eur for r in rets), abs=0.02
    )
    assert sum(f.items for f in everything.destinations) == 4
    with pytest.raises(NotFound):
        return_flows(session, 999)


def test_the_public_view_carries_the_planned_pickup(session: Session, shop_world: World) -> None:
    [(order, line)] = delivered(session, shop_world, sku("S"))
    ret = start_return(session, return_of(order, line), now=NOW)
    window = {"method": "pickup", "place_id": shop_world.office.id,
              "window_start": "2025-03-05T10:00:00+02:00",
              "window_end": "2025-03-05T12:00:00+02:00"}  # fmt: skip
    choose_pickup(session, ret.id or 0, window, now=NOW, travel=TRAVEL)
    assert return_public(session, ret).pickup_eta is None

    plan_day(session, shop_world.depot.id or 0, PICKUP_DAY, limits=LIMITS, travel=TRAVEL)

    shown = return_public(session, ret)
    assert shown.pickup_vehicle is not None and shown.unserved_reason is None
    assert shown.pickup_eta is not None
    assert datetime.fromisoformat("2025-03-05T10:00:00+02:00") <= shown.pickup_eta
    assert shown.pickup_eta <= datetime.fromisoformat("2025-03-05T12:00:00+02:00")
    assert shown.carried_to is CarriedTo.STORE


def test_policy_needs_every_tariff() -> None:
    with pytest.raises(InvalidInput) as caught:
        ReturnsPolicy(tariffs={})
    assert caught.value.field == ("tariffs",)
