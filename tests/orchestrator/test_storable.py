"""Every model takes only what the store can hold (issue #13), whoever calls the services —
the API, the CSV import or a script — on SQLite and PostgreSQL alike."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, func, select

from orchestrator.errors import InvalidInput
from orchestrator.intake.catalog import create_customer, create_vehicle_type
from orchestrator.intake.orders import register_order
from orchestrator.models import (
    INT64_MAX,
    INT64_MIN,
    MAX_ITEMS_PER_ORDER,
    Order,
    StorableModel,
    VehicleType,
)
from orchestrator.models._fields import FIRST_DAY, LAST_DAY, storable_problem
from tests.orchestrator.conftest import DAY, World, order_data

VAN: dict[str, Any] = {
    "name": "van-x",
    "capacity_weight_g": 1_000,
    "capacity_volume_ml": 1_000,
    "capacity_parcels": 10,
}


@pytest.mark.parametrize(
    ("value", "fits"),
    [
        (INT64_MAX, True),
        (INT64_MIN, True),
        (INT64_MAX + 1, False),
        (INT64_MIN - 1, False),
        (1.5, True),
        (math.nan, False),
        (math.inf, False),
        ("Aino", True),
        ("\ud800", False),
        ("nul\x00", False),
        (FIRST_DAY, True),
        (date.min, False),
        (LAST_DAY, True),
        (date.max, False),
        (datetime.fromisoformat("0001-01-01T00:00+14:00"), False),
        (datetime.fromisoformat("0001-01-02T00:00+00:00"), True),
        (datetime.fromisoformat("9999-12-31T23:59-12:00"), False),
        (["fragile", "x\x00"], False),
        ({"a": [1, 2**70]}, False),
        ({"\udc80": 1}, False),
        ({"a": [1, "b"]}, True),
    ],
)
def test_storable_problem_names_what_the_store_cannot_hold(value: Any, fits: bool) -> None:
    problem = storable_problem(value)
    assert (problem is None) is fits, problem
    if problem is not None:
        assert "—" in problem  # says what to give instead
        assert len(problem) < 200


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("cost_per_km", math.inf),
        ("cost_per_km", math.nan),
        ("fixed_cost", float("-inf")),
        ("capacity_parcels", 2**64),
        ("range_m", INT64_MAX + 1),
        ("name", "van\x00"),
        ("skills", ["cold", "\x00"]),
    ],
)
def test_a_vehicle_type_holds_finite_floats_64_bit_integers_and_clean_text(
    session: Session, field: str, value: Any
) -> None:
    with pytest.raises(InvalidInput) as caught:
        create_vehicle_type(session, {**VAN, field: value})
    assert caught.value.field == (field,)
    assert session.exec(select(func.count()).select_from(VehicleType)).one() == 0


def test_a_customer_name_with_nul_is_refused_before_the_store(session: Session) -> None:
    # PostgreSQL refuses NUL in text outright: the model must refuse it first, as on SQLite.
    with pytest.raises(InvalidInput) as caught:
        create_customer(session, {"name": "Aino\x00Virtanen"})
    assert caught.value.field == ("name",)
    assert "NUL" in caught.value.message


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("value_cents", 2**64),
        ("customer_id", INT64_MAX + 1),
        ("service_day", "0001-01-01"),
        ("reference", "SHOP\x00"),
    ],
)
def test_an_order_holds_only_storable_values(
    session: Session, world: World, field: str, value: Any
) -> None:
    with pytest.raises(InvalidInput) as caught:
        register_order(session, order_data(world, **{field: value}), f"k-{field}")
    assert caught.value.field == (field,)


@pytest.mark.parametrize("start", ["0001-01-01T00:00+14:00", "9999-12-31T20:00-12:00"])
def test_a_window_no_zone_can_convert_is_refused(
    session: Session, world: World, start: str
) -> None:
    data = order_data(world, window_start=start, window_end="2025-03-03T12:00:00+02:00")
    with pytest.raises(InvalidInput) as caught:
        register_order(session, data, "k-window")
    assert caught.value.field == ("window_start",)


def test_a_window_overlaps_the_service_day_at_the_depot(session: Session, world: World) -> None:
    late = datetime.combine(DAY + timedelta(days=4), datetime.min.time()).isoformat()
    data = order_data(world, window_start=f"{late}+02:00", window_end=f"{late[:11]}12:00+02:00")
    with pytest.raises(InvalidInput) as caught:
        register_order(session, data, "k-late")
    assert caught.value.field == ("window_start",)
    assert f"service day {DAY.isoformat()}" in caught.value.message
    # Helsinki's day starts at 22:00 UTC the day before: a window ending then is refused...
    before = (DAY - timedelta(days=1)).isoformat()
    data = order_data(world, window_start=f"{before}T20:00Z", window_end=f"{before}T22:00Z")
    with pytest.raises(InvalidInput) as caught:
        register_order(session, data, "k-early")
    assert "Europe/Helsinki" in caught.value.message
    # ... and one reaching a minute into it is taken.
    data = order_data(world, window_start=f"{before}T20:00Z", window_end=f"{before}T22:01Z")
    assert register_order(session, data, "k-edge").id is not None


def test_an_order_holds_at_most_max_items(session: Session, world: World) -> None:
    line = {"weight_g": 1, "volume_ml": 1}
    with pytest.raises(InvalidInput) as caught:
        register_order(
            session, order_data(world, items=[line] * (MAX_ITEMS_PER_ORDER + 1)), "k-many"
        )
    assert caught.value.field == ("items",)
    assert f"at most {MAX_ITEMS_PER_ORDER}" in caught.value.message
    assert session.exec(select(func.count()).select_from(Order)).one() == 0
    order = register_order(session, order_data(world, items=[line] * MAX_ITEMS_PER_ORDER), "k-ok")
    assert order.id is not None


def test_every_model_of_the_store_is_storable() -> None:
    import orchestrator.models as models

    classes = [
        cls
        for name in models.__all__
        if isinstance(cls := getattr(models, name), type) and issubclass(cls, StorableModel)
    ]
    assert len(classes) > 40
    from sqlmodel import SQLModel

    loose = [
        name
        for name in models.__all__
        if isinstance(cls := getattr(models, name), type)
        and issubclass(cls, SQLModel)
        and not issubclass(cls, StorableModel)
    ]
    assert loose == []
