"""The returns engine's inputs in the store: the catalogue, store changes, daily sales and
stock — loaded idempotently, every bad record named by its field (SQLite and PostgreSQL)."""

from __future__ import annotations

import importlib
import inspect
from datetime import date

import pytest
from sqlmodel import Session, func, select

from orchestrator.errors import Conflict, InvalidInput, NotFound
from orchestrator.intake.catalog import create_store
from orchestrator.models import Store, StoreSale, StoreStock
from orchestrator.returns_flow import start_return
from orchestrator.returns_flow.catalog import (
    delete_store,
    get_product,
    list_products,
    list_stores,
    put_product,
    record_sales,
    replace_stock,
    stock_of_store,
    update_store,
)
from tests.orchestrator.conftest import World
from tests.orchestrator.returns_world import NOW, catalogue, delivered, return_of, shops, sku

DRESS = {"style": "DRS", "category": "dresses", "size": "S", "colour": "black"}


def _store(session: Session, world: World) -> Store:
    return create_store(
        session,
        {"code": "KAL", "name": "Kallio", "lat": 60.18, "lon": 24.95, "depot_id": world.depot.id},
    )


def test_products_are_upserted(session: Session) -> None:
    first = put_product(session, "DRS-BLK-S", {**DRESS, "list_price_cents": 7_990})
    again = put_product(session, "DRS-BLK-S", {**DRESS, "list_price_cents": 5_990})
    assert first.sku == again.sku and again.list_price_cents == 5_990
    assert [p.sku for p in list_products(session)] == ["DRS-BLK-S"]
    assert list_products(session, category="jeans") == []
    assert get_product(session, "nope") is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"list_price_cents": -100}, ("list_price_cents",)),  # a negative price
        ({"list_price_cents": 0}, ("list_price_cents",)),  # nothing is free
        ({"size": ""}, ("size",)),  # empty
        ({"colour": None}, ("colour",)),  # required
    ],
)
def test_bad_products_name_the_field(
    session: Session, changes: dict[str, object], field: tuple[str, ...]
) -> None:
    with pytest.raises(InvalidInput) as caught:
        put_product(session, "DRS-BLK-S", {**DRESS, "list_price_cents": 7_990, **changes})
    assert caught.value.field == field
    assert get_product(session, "DRS-BLK-S") is None


def test_stores_change_list_and_go(session: Session, world: World) -> None:
    store = _store(session, world)
    changed = update_store(session, store.id or 0, {"accepts_returns": True, "name": "Kallio 2"})
    assert changed.accepts_returns and changed.name == "Kallio 2" and changed.lat == 60.18
    assert [s.id for s in list_stores(session, accepts_returns=True)] == [store.id]
    assert list_stores(session, depot_id=(world.depot.id or 0) + 1) == []
    with pytest.raises(InvalidInput) as caught:
        update_store(session, store.id or 0, {"depot_id": 999})
    assert caught.value.field == ("depot_id",)
    with pytest.raises(InvalidInput) as caught:
        update_store(session, store.id or 0, {"lat": 91})
    assert caught.value.field == ("lat",)
    with pytest.raises(NotFound):
        update_store(session, 999, {"name": "x"})
    put_product(session, "DRS-BLK-S", {**DRESS, "list_price_cents": 7_990})
    record_sales(session, store.id or 0, {"sales": [{"sku": "DRS-BLK-S", "day": "2025-03-01"}]})
    delete_store(session, store.id or 0)
    assert session.get(Store, store.id) is None
    assert session.exec(select(func.count()).select_from(StoreSale)).one() == 0
    with pytest.raises(NotFound):
        delete_store(session, store.id or 0)


def test_a_store_returns_head_to_cannot_be_deleted(session: Session, world: World) -> None:
    catalogue(session)
    kallio = shops(session, world).kallio
    [(order, line)] = delivered(session, world, sku("S"))
    assert start_return(session, return_of(order, line), now=NOW).destination_store_id == kallio.id
    with pytest.raises(Conflict, match="accepts_returns: false"):
        delete_store(session, kallio.id or 0)
    assert session.get(Store, kallio.id) is not None


def test_sales_are_recorded_and_a_day_again_replaces_it(session: Session, world: World) -> None:
    store = _store(session, world)
    catalogue(session)
    loaded = record_sales(
        session, store.id or 0,
        {"sales": [{"sku": sku("S"), "day": "2025-03-01", "units": 2},
                   {"sku": sku("M"), "day": "2025-03-02", "units": 1}]},
    )  # fmt: skip
    assert (loaded.records, loaded.units) == (2, 3)
    assert (loaded.first_day, loaded.last_day) == (date(2025, 3, 1), date(2025, 3, 2))
    record_sales(session, store.id or 0, {"sales": [{"sku": sku("S"), "day": "2025-03-01",
                                                     "units": 5}]})  # fmt: skip
    rows = session.exec(select(StoreSale).order_by(StoreSale.day)).all()  # type: ignore[arg-type]
    assert [(r.sku, r.day, r.units) for r in rows] == [
        (sku("S"), date(2025, 3, 1), 5),
        (sku("M"), date(2025, 3, 2), 1),
    ]


@pytest.mark.parametrize(
    ("sales", "field"),
    [
        ([{"sku": "HAT-RED-L", "day": "2025-03-01"}], ("sales", 0, "sku")),  # unknown SKU
        ([{"sku": "DRS-BLK-S", "day": "2025-03-01", "units": 0}], ("sales", 0, "units")),
        ([{"sku": "DRS-BLK-S", "day": "yesterday"}], ("sales", 0, "day")),  # a date
        ([{"sku": "DRS-BLK-S", "day": "2025-03-01"}] * 2, ("sales", 1)),  # same day twice
        ([], ("sales",)),  # nothing to record
    ],
)
def test_bad_sales_name_the_record(
    session: Session, world: World, sales: list[dict[str, object]], field: tuple[object, ...]
) -> None:
    store = _store(session, world)
    catalogue(session)
    with pytest.raises(InvalidInput) as caught:
        record_sales(session, store.id or 0, {"sales": sales})
    assert caught.value.field == field
    assert session.exec(select(func.count()).select_from(StoreSale)).one() == 0


def test_sales_of_an_unknown_store_are_not_found(session: Session) -> None:
    with pytest.raises(NotFound, match="store"):
        record_sales(session, 999, {"sales": [{"sku": "x", "day": "2025-03-01"}]})
    with pytest.raises(NotFound, match="store"):
        replace_stock(session, 999, {"stock": []})


def test_stock_is_replaced_as_a_whole(session: Session, world: World) -> None:
    store = _store(session, world)
    catalogue(session)
    replace_stock(session, store.id or 0, {"stock": [{"sku": sku("S"), "units": 2},
                                                     {"sku": sku("M"), "units": 0}]})  # fmt: skip
    levels = replace_stock(session, store.id or 0, {"stock": [{"sku": sku("L"), "units": 4}]})
    assert [(s.sku, s.units) for s in levels] == [(sku("L"), 4)]
    assert [(s.sku, s.units) for s in stock_of_store(session, store.id or 0)] == [(sku("L"), 4)]


@pytest.mark.parametrize(
    ("stock", "field"),
    [
        ([{"sku": "HAT-RED-L", "units": 1}], ("stock", 0, "sku")),  # unknown SKU
        ([{"sku": "DRS-BLK-S", "units": -1}], ("stock", 0, "units")),  # negative
        (
            [{"sku": "DRS-BLK-S", "units": 1}, {"sku": "DRS-BLK-S", "units": 2}],
            ("stock", 1, "sku"),
        ),  # twice
    ],
)
def test_bad_stock_names_the_level(
    session: Session, world: World, stock: list[dict[str, object]], field: tuple[object, ...]
) -> None:
    store = _store(session, world)
    catalogue(session)
    replace_stock(session, store.id or 0, {"stock": [{"sku": sku("M"), "units": 3}]})
    with pytest.raises(InvalidInput) as caught:
        replace_stock(session, store.id or 0, {"stock": stock})
    assert caught.value.field == field
    # Nothing changed.
    assert [(s.sku, s.units) for s in session.exec(select(StoreStock))] == [(sku("M"), 3)]


@pytest.mark.parametrize(
    "module",
    [
        "orchestrator.returns_flow.catalog",
        "orchestrator.returns_flow.decision",
        "orchestrator.returns_flow.flows",
        "orchestrator.returns_flow.lifecycle",
        "orchestrator.returns_flow.pickups",
        "orchestrator.returns_flow.policy",
    ],
)
def test_the_returns_modules_list_what_they_export(module: str) -> None:
    mod = importlib.import_module(module)
    public = {
        name
        for name, value in vars(mod).items()
        if not name.startswith("_")
        and getattr(value, "__module__", module) == module
        and not inspect.ismodule(value)
        and (inspect.isfunction(value) or inspect.isclass(value))
    }
    assert public <= set(mod.__all__)
    assert all(hasattr(mod, name) for name in mod.__all__)
    assert len(set(mod.__all__)) == len(mod.__all__)
