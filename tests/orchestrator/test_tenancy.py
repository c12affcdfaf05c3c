"""Tenancy in the domain: rows take their retailer from what they belong to, the access rule
refuses another retailer's ids as unknown, and a retailer's returns, sales and stock stay in its
own stores (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session

from orchestrator.access.keys import authenticate, create_api_key
from orchestrator.access.tenancy import check_ids, writes_for
from orchestrator.errors import InvalidInput, NotFound
from orchestrator.intake.catalog import add_place, create_customer, create_store
from orchestrator.intake.orders import register_order
from orchestrator.intake.retailers import create_retailer
from orchestrator.models import DEFAULT_RETAILER_ID, StoreSale
from orchestrator.returns_flow.catalog import put_product, record_sales, replace_stock
from orchestrator.returns_flow.lifecycle import start_return
from orchestrator.returns_flow.pickups import choose_pickup, pickup_options
from tests.orchestrator.conftest import DAY, TRAVEL, make_world, order_data
from tests.orchestrator.returns_world import NOW, catalogue, delivered, return_of, shops, sku


def test_rows_belong_to_the_default_retailer_unless_told(session: Session) -> None:
    world = make_world(session)
    assert world.customer.retailer_id == DEFAULT_RETAILER_ID
    kauppa = create_retailer(session, {"name": "Kauppa Oy"}).id or 0
    assert kauppa != DEFAULT_RETAILER_ID
    theirs = create_customer(session, {"name": "Bertil"}, retailer_id=kauppa)
    assert theirs.retailer_id == kauppa and theirs.id is not None
    home = add_place(session, theirs.id, {"name": "home", "lat": 60.17, "lon": 24.93})
    order = register_order(
        session, order_data(world, customer_id=theirs.id, place_id=home.id), "k1"
    )
    assert order.retailer_id == kauppa  # its customer's
    # A retailer registers orders for its own customers only: another's is "no customer".
    with pytest.raises(InvalidInput) as refused:
        register_order(session, order_data(world), "k2", retailer_id=kauppa)
    assert refused.value.field == ("customer_id",)
    assert "no customer" in refused.value.message
    # ... before the key is looked up: B's own key "k1" finds nothing for A.
    with pytest.raises(InvalidInput):
        register_order(session, order_data(world, customer_id=theirs.id), "k1",
                       retailer_id=DEFAULT_RETAILER_ID)  # fmt: skip
    with pytest.raises(InvalidInput) as unknown:
        create_customer(session, {"name": "Cai"}, retailer_id=999)
    assert unknown.value.field == ("retailer_id",)


def test_keys_belong_to_a_retailer_or_the_carrier(session: Session) -> None:
    world = make_world(session)
    kauppa = create_retailer(session, {"name": "Kauppa Oy"}).id or 0
    theirs = create_customer(session, {"name": "Bertil"}, retailer_id=kauppa).id
    for key, retailer in (
        (create_api_key(session, "planner"), None),
        (create_api_key(session, "planner", retailer_id=kauppa), kauppa),
        (create_api_key(session, "customer", theirs), kauppa),  # its customer's retailer
        (create_api_key(session, "customer", world.customer.id), DEFAULT_RETAILER_ID),
    ):
        found = authenticate(session, key)
        assert found is not None and found.retailer_id == retailer
    with pytest.raises(InvalidInput, match="admin keys are the carrier's"):
        create_api_key(session, "admin", retailer_id=kauppa)
    with pytest.raises(InvalidInput, match="not retailer"):
        create_api_key(session, "customer", theirs, retailer_id=DEFAULT_RETAILER_ID)


def test_check_ids_refuses_another_retailers_ids_as_unknown(session: Session) -> None:
    world = make_world(session)
    kauppa = create_retailer(session, {"name": "Kauppa Oy"}).id or 0
    mine = {"customer_id": world.customer.id, "retailer_id": DEFAULT_RETAILER_ID}
    check_ids(session, DEFAULT_RETAILER_ID, mine)  # its own: fine
    check_ids(session, None, mine)  # the carrier: fine
    # Unknown ids, malformed ids and names of no retailer's rows are the route's to answer.
    check_ids(session, kauppa, {"customer_id": 999_999, "order_id": "x", "plan_id": 1})
    with pytest.raises(NotFound) as refused:
        check_ids(session, kauppa, {"customer_id": str(world.customer.id)})
    assert str(refused.value) == f"customer {world.customer.id!r} not found — check the id"
    with pytest.raises(NotFound):
        check_ids(session, kauppa, {"retailer_id": DEFAULT_RETAILER_ID})
    assert writes_for(None, None) is None and writes_for(None, kauppa) == kauppa
    assert writes_for(kauppa, None) == kauppa == writes_for(kauppa, kauppa)
    with pytest.raises(InvalidInput):
        writes_for(kauppa, DEFAULT_RETAILER_ID)


def test_a_retailers_returns_sales_and_stock_stay_in_its_own_stores(session: Session) -> None:
    world = make_world(session)
    catalogue(session)
    shops(session, world)
    (order, line), (later, later_line) = delivered(session, world, sku("S"), sku("S"))
    # A store next door that sells the size every day: the best place for the dress...
    near = create_store(session, {"code": "KAU", "name": "Kauppa Kallio", "lat": 60.1756,
                                  "lon": 24.9311, "accepts_returns": True})  # fmt: skip
    for d in range(1, 57):
        session.add(StoreSale(store_id=near.id or 0, sku=sku("S"), day=DAY - timedelta(d),
                              units=5))  # fmt: skip
    session.commit()
    first = start_return(session, return_of(order, line), now=NOW)
    assert first.destination_store_id == near.id  # the premise: it would go there
    # ... until the store is another retailer's: then it is not a place for this return.
    near.retailer_id = create_retailer(session, {"name": "Kauppa Oy"}).id or 0
    session.add(near)
    session.commit()
    second = start_return(session, return_of(later, later_line), now=NOW)
    assert second.destination_store_id not in (None, near.id)
    assert second.retailer_id == DEFAULT_RETAILER_ID  # its order's
    offered = pickup_options(session, second.id or 0, now=NOW, travel=TRAVEL)
    assert offered and all(o.store_id != near.id for o in offered)
    with pytest.raises(InvalidInput) as refused:
        choose_pickup(session, second.id or 0, {"method": "store", "store_id": near.id},
                      now=NOW, travel=TRAVEL)  # fmt: skip
    assert refused.value.field == ("store_id",)
    # Its sales and stock are of its own products only: another retailer's SKU is unknown.
    with pytest.raises(InvalidInput) as sales:
        record_sales(session, near.id or 0, {"sales": [_sale(sku("M"))]})
    assert sales.value.field == ("sales", 0, "sku")
    with pytest.raises(InvalidInput):
        replace_stock(session, near.id or 0, {"stock": [{"sku": sku("M"), "units": 1}]})
    own = put_product(session, "KAU-1", {"style": "K", "category": "shoes", "size": "42",
                                         "colour": "red", "list_price_cents": 100},
                      retailer_id=near.retailer_id)  # fmt: skip
    loaded = record_sales(session, near.id or 0, {"sales": [_sale(own.sku)]})
    assert loaded.model_dump()


def _sale(code: str) -> dict[str, object]:
    return {"sku": code, "day": DAY.isoformat(), "units": 1}
