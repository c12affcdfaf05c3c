"""Stores, the catalogue of products they sell, and their daily sales and stock.

A store is a shop or micro-hub that may take returns and host sidewalk robots; its sales and
stock, by SKU, are what the returns engine reads to send a returned item where it sells."""

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from orchestrator.models._fields import (
    StorableModel,
    created_at_field,
    example_config,
    lat_field,
    lon_field,
)
from orchestrator.models.retailers import DEFAULT_RETAILER_ID, retailer_field

__all__ = [
    "Product",
    "ProductBase",
    "ProductCreate",
    "ProductPublic",
    "SaleIn",
    "SalesIn",
    "SalesLoaded",
    "StockIn",
    "StockLevelIn",
    "StockLevelPublic",
    "Store",
    "StoreBase",
    "StoreCreate",
    "StorePublic",
    "StoreSale",
    "StoreStock",
    "StoreUpdate",
]


class StoreBase(StorableModel):
    """A shop or micro-hub: it may receive returns and may host sidewalk robots."""

    code: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=200)
    lat: float = lat_field()
    lon: float = lon_field()
    depot_id: int | None = Field(default=None, foreign_key="depots.id", description="Served from.")
    accepts_returns: bool = False
    hosts_robots: bool = False


class StoreCreate(StoreBase):
    """What creating a store takes."""


class Store(StoreBase, table=True):
    """Table ``stores``."""

    __tablename__ = "stores"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(min_length=1, max_length=40, unique=True)
    retailer_id: int = retailer_field()
    created_at: datetime = created_at_field()


class StorePublic(StoreBase):
    """A store as shown."""

    id: int
    retailer_id: int = Field(
        default=DEFAULT_RETAILER_ID, description="The retailer that owns it (1: the default)."
    )


class StoreUpdate(StorableModel):
    """Fields of a store that may change; ``None`` leaves a field as it is."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    lat: float | None = Field(default=None, ge=-90.0, le=90.0)
    lon: float | None = Field(default=None, ge=-180.0, le=180.0)
    depot_id: int | None = Field(default=None, description="Served from.")
    accepts_returns: bool | None = None
    hosts_robots: bool | None = None


class ProductBase(StorableModel):
    """One variant of the catalogue: a style in one colour and one size."""

    style: str = Field(min_length=1, max_length=100, description="Style (model) code.")
    category: str = Field(min_length=1, max_length=100, description="E.g. 'dresses'.")
    size: str = Field(min_length=1, max_length=20)
    colour: str = Field(min_length=1, max_length=40)
    list_price_cents: int = Field(gt=0, description="List price of one unit, cents.")


class ProductCreate(ProductBase):
    """What adding a product takes: its SKU and its place in the hierarchy."""

    sku: str = Field(min_length=1, max_length=64)


class Product(ProductBase, table=True):
    """Table ``products``: the catalogue the resale model reads SKUs through."""

    __tablename__ = "products"

    sku: str = Field(primary_key=True, min_length=1, max_length=64)
    retailer_id: int = retailer_field()
    created_at: datetime = created_at_field()


_PRODUCT_EXAMPLE: dict[str, Any] = {
    "sku": "DRS-014-BLK-S",
    "style": "DRS-014",
    "category": "dresses",
    "size": "S",
    "colour": "black",
    "list_price_cents": 7_990,
}


class ProductPublic(ProductBase):
    """A product as shown."""

    sku: str
    retailer_id: int = Field(
        default=DEFAULT_RETAILER_ID, description="The retailer that owns it (1: the default)."
    )

    model_config = example_config(**_PRODUCT_EXAMPLE)


class StoreSale(StorableModel, table=True):
    """Table ``store_sales``: units of one SKU a store sold on one day (days without a sale
    have no row)."""

    __tablename__ = "store_sales"
    __table_args__ = (
        sa.UniqueConstraint("store_id", "sku", "day", name="uq_store_sales_store_sku_day"),
    )

    id: int | None = Field(default=None, primary_key=True)
    store_id: int = Field(foreign_key="stores.id", index=True, ondelete="CASCADE")
    sku: str = Field(foreign_key="products.sku", max_length=64)
    day: date
    units: int = Field(ge=1)


class StoreStock(StorableModel, table=True):
    """Table ``store_stock``: units of one SKU on a store's shelves (and on their way)."""

    __tablename__ = "store_stock"

    store_id: int = Field(foreign_key="stores.id", primary_key=True, ondelete="CASCADE")
    sku: str = Field(foreign_key="products.sku", primary_key=True, max_length=64)
    units: int = Field(ge=0)


class SaleIn(StorableModel):
    """One day's sales of one SKU at a store."""

    sku: str = Field(min_length=1, max_length=64)
    day: date
    units: int = Field(default=1, ge=1, description="Units sold that day, 1 or more.")


class SalesIn(StorableModel):
    """Daily sales to record at a store; a day already recorded for a SKU is replaced."""

    sales: list[SaleIn] = Field(min_length=1, max_length=100_000)


class SalesLoaded(StorableModel):
    """What loading sales did."""

    store_id: int
    records: int = Field(description="Sale records written (new or replaced).")
    units: int = Field(description="Units in them.")
    first_day: date
    last_day: date

    model_config = example_config(
        store_id=2, records=3, units=7, first_day="2025-02-01", last_day="2025-02-03"
    )


class StockLevelIn(StorableModel):
    """Units of one SKU at a store."""

    sku: str = Field(min_length=1, max_length=64)
    units: int = Field(ge=0, description="Units on the shelf or on their way, 0 or more.")


class StockIn(StorableModel):
    """A store's whole stock: it replaces what was recorded (SKUs left out hold 0)."""

    stock: list[StockLevelIn] = Field(max_length=100_000)


class StockLevelPublic(StorableModel):
    """Units of one SKU at a store, as shown."""

    sku: str
    units: int

    model_config = example_config(sku="DRS-014-BLK-S", units=2)
