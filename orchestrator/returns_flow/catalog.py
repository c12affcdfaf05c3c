"""Services for what the returns engine reads: the product catalogue, stores, their sales and
stock.

The resale model judges a store on its daily sales of each SKU and on the units of that SKU
already on its shelves; planners load both here (``record_sales`` appends or replaces days,
``replace_stock`` replaces a store's whole stock). Every SKU must be in the catalogue first:
a sale of an unknown SKU is refused with its field path rather than dropped.

Like :mod:`orchestrator.intake.catalog`, each write validates its input (raising
:class:`~orchestrator.errors.InvalidInput` with the field path), commits and returns what it
stored; look-ups return ``X | None``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from orchestrator._validation import validated
from orchestrator.errors import Conflict, InvalidInput, NotFound
from orchestrator.intake.retailers import retailer_for_writes
from orchestrator.models import (
    Depot,
    Product,
    ProductBase,
    ProductCreate,
    SalesIn,
    SalesLoaded,
    StockIn,
    Store,
    StoreSale,
    StoreStock,
    StoreUpdate,
)
from orchestrator.models.retailers import owned_by

__all__ = [
    "delete_store",
    "get_product",
    "list_products",
    "list_stores",
    "put_product",
    "record_sales",
    "replace_stock",
    "stock_of_store",
    "update_store",
]


def put_product(
    session: Session,
    sku: str,
    data: ProductBase | Mapping[str, Any],
    *,
    retailer_id: int | None = None,
) -> Product:
    """Add the SKU to the catalogue, or change its entry (the same call twice changes nothing).

    A new SKU belongs to ``retailer_id`` (``None``: the default retailer); an entry keeps its
    retailer when it changes.

    Raises
    ------
    InvalidInput
        A bad field, such as a list price that is not above 0 (``list_price_cents``).
    """
    raw = data.model_dump() if isinstance(data, ProductBase) else dict(data)
    payload = validated(ProductCreate, {**raw, "sku": sku})
    product = session.get(Product, payload.sku)
    if product is None:
        owner = retailer_for_writes(session, retailer_id)
        product = Product.model_validate(payload, update={"retailer_id": owner})
    else:
        product.sqlmodel_update(payload.model_dump(exclude={"sku"}))
    session.add(product)
    session.commit()
    session.refresh(product)
    return product


def get_product(session: Session, sku: str) -> Product | None:
    """The catalogue entry of ``sku``, or ``None``."""
    return session.get(Product, sku)


def list_products(
    session: Session,
    *,
    category: str | None = None,
    retailer_id: int | None = None,
    offset: int = 0,
    limit: int = 100,
) -> Sequence[Product]:
    """Catalogue entries in SKU order, of one category and one retailer when given."""
    query = owned_by(select(Product), Product, retailer_id)
    if category is not None:
        query = query.where(Product.category == category)
    return session.exec(query.order_by(col(Product.sku)).offset(offset).limit(limit)).all()


def list_stores(
    session: Session,
    *,
    depot_id: int | None = None,
    accepts_returns: bool | None = None,
    retailer_id: int | None = None,
    offset: int = 0,
    limit: int = 100,
) -> Sequence[Store]:
    """Stores in id order, filtered by whatever is given (``retailer_id``: that retailer's)."""
    query = owned_by(select(Store), Store, retailer_id)
    if depot_id is not None:
        query = query.where(Store.depot_id == depot_id)
    if accepts_returns is not None:
        query = query.where(Store.accepts_returns == accepts_returns)
    return session.exec(query.order_by(col(Store.id)).offset(offset).limit(limit)).all()


def update_store(session: Session, store_id: int, data: StoreUpdate | Mapping[str, Any]) -> Store:
    """Change the given fields of a store.

    Raises
    ------
    NotFound
        No such store.
    InvalidInput
        A bad field, or a ``depot_id`` that does not exist.
    """
    payload = validated(StoreUpdate, data)
    store = session.get(Store, store_id)
    if store is None:
        raise NotFound("store", store_id)
    changes = payload.model_dump(exclude_unset=True, exclude_none=True)
    if "depot_id" in changes and session.get(Depot, changes["depot_id"]) is None:
        raise InvalidInput("depot_id", f"no depot {changes['depot_id']} — create the depot first")
    store.sqlmodel_update(changes)
    session.add(store)
    session.commit()
    session.refresh(store)
    return store


def delete_store(session: Session, store_id: int) -> None:
    """Remove a store with its sales and stock.

    Raises
    ------
    NotFound
        No such store.
    Conflict
        Returns are heading to it or were handed in there (they keep the reference).
    """
    store = session.get(Store, store_id)
    if store is None:
        raise NotFound("store", store_id)
    session.delete(store)
    try:
        session.commit()
    except sa.exc.IntegrityError:
        session.rollback()
        raise Conflict(
            f"store {store_id} is the destination or drop-off point of returns — stop it "
            "accepting returns (accepts_returns: false) instead of deleting it"
        ) from None


def _unknown_skus(session: Session, skus: Iterable[str], store: Store) -> set[str]:
    """The SKUs not in ``store``'s retailer's catalogue (another retailer's are unknown)."""
    wanted = set(skus)
    if not wanted:
        return set()
    query = select(Product.sku).where(col(Product.sku).in_(sorted(wanted)))
    known = set(session.exec(owned_by(query, Product, store.retailer_id)))
    return wanted - known


def _store_or_404(session: Session, store_id: int) -> Store:
    store = session.get(Store, store_id)
    if store is None:
        raise NotFound("store", store_id)
    return store


def record_sales(session: Session, store_id: int, data: SalesIn | Mapping[str, Any]) -> SalesLoaded:
    """Record a store's daily sales; a day already recorded for a SKU gets the new units.

    Raises
    ------
    NotFound
        No such store.
    InvalidInput
        A bad record (``sales.<i>.units`` below 1, a malformed day), a SKU not in the
        catalogue (``sales.<i>.sku``) or the same SKU and day twice (``sales.<i>``).
    """
    payload = validated(SalesIn, data)
    store = _store_or_404(session, store_id)
    unknown = _unknown_skus(session, (s.sku for s in payload.sales), store)
    seen: dict[tuple[str, Any], int] = {}
    for i, sale in enumerate(payload.sales):
        if sale.sku in unknown:
            raise InvalidInput(
                ("sales", i, "sku"),
                f"{sale.sku!r} is not in the product catalogue — add the product first",
            )
        key = (sale.sku, sale.day)
        if key in seen:
            raise InvalidInput(
                ("sales", i),
                f"{sale.sku!r} on {sale.day} is also sales.{seen[key]} — give each SKU and "
                "day once (their units summed)",
            )
        seen[key] = i
    days = [s.day for s in payload.sales]
    existing = {
        (row.sku, row.day): row
        for row in session.exec(
            select(StoreSale).where(
                StoreSale.store_id == store_id,
                col(StoreSale.day) >= min(days),
                col(StoreSale.day) <= max(days),
                col(StoreSale.sku).in_(sorted({s.sku for s in payload.sales})),
            )
        )
    }
    fresh = []
    for sale in payload.sales:
        row = existing.get((sale.sku, sale.day))
        if row is None:
            fresh.append(
                {"store_id": store_id, "sku": sale.sku, "day": sale.day, "units": sale.units}
            )
        else:
            row.units = sale.units
            session.add(row)
    if fresh:
        # One statement for the new days: a store's history is thousands of records.
        session.execute(sa.insert(StoreSale), fresh)
    session.commit()
    return SalesLoaded(
        store_id=store_id,
        records=len(payload.sales),
        units=sum(s.units for s in payload.sales),
        first_day=min(days),
        last_day=max(days),
    )


def replace_stock(
    session: Session, store_id: int, data: StockIn | Mapping[str, Any]
) -> Sequence[StoreStock]:
    """Replace a store's stock with the given levels (SKUs left out hold nothing).

    Raises
    ------
    NotFound
        No such store.
    InvalidInput
        A negative level (``stock.<i>.units``), a SKU not in the catalogue
        (``stock.<i>.sku``) or a SKU given twice.
    """
    payload = validated(StockIn, data)
    store = _store_or_404(session, store_id)
    unknown = _unknown_skus(session, (s.sku for s in payload.stock), store)
    seen: dict[str, int] = {}
    for i, level in enumerate(payload.stock):
        if level.sku in unknown:
            raise InvalidInput(
                ("stock", i, "sku"),
                f"{level.sku!r} is not in the product catalogue — add the product first",
            )
        if level.sku in seen:
            raise InvalidInput(
                ("stock", i, "sku"), f"{level.sku!r} is also stock.{seen[level.sku]} — give it once"
            )
        seen[level.sku] = i
    session.execute(sa.delete(StoreStock).where(col(StoreStock.store_id) == store_id))
    for level in payload.stock:
        session.add(StoreStock(store_id=store_id, sku=level.sku, units=level.units))
    session.commit()
    return stock_of_store(session, store_id)


def stock_of_store(session: Session, store_id: int) -> Sequence[StoreStock]:
    """The store's stock levels in SKU order."""
    return session.exec(
        select(StoreStock).where(StoreStock.store_id == store_id).order_by(col(StoreStock.sku))
    ).all()
