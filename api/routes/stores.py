"""``/stores`` and ``/products``: shops that take returns, what they sell and hold, and the
catalogue the returns engine reads SKUs through.

Planners (and admins) load each store's daily sales and its stock; staff read them. A sale
or a stock level of a SKU not in the catalogue is refused with its field
(``body.sales.3.sku``) — add the product first with ``PUT /products/{sku}``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, Response, status

from api.deps import PlannerDep, SessionDep, StaffDep, WriteRetailerDep
from api.errors import error_responses
from orchestrator.errors import NotFound
from orchestrator.intake.catalog import create_store
from orchestrator.models import (
    Int64,
    ProductBase,
    ProductPublic,
    SalesIn,
    SalesLoaded,
    StockIn,
    StockLevelPublic,
    Store,
    StoreCreate,
    StorePublic,
    StoreUpdate,
)
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

__all__ = ["PRODUCT_EXAMPLE", "STORE_EXAMPLE", "router"]

router = APIRouter(tags=["stores and products"], responses=error_responses(401))

STORE_EXAMPLE: dict[str, Any] = {
    "code": "KAL",
    "name": "Store Kallio",
    "lat": 60.1841,
    "lon": 24.9503,
    "depot_id": 1,
    "accepts_returns": True,
    "hosts_robots": False,
}
PRODUCT_EXAMPLE: dict[str, Any] = {
    "style": "DRS-014",
    "category": "dresses",
    "size": "S",
    "colour": "black",
    "list_price_cents": 7_990,
}
_SALES_EXAMPLE = {
    "sales": [
        {"sku": "DRS-014-BLK-S", "day": "2025-02-01", "units": 2},
        {"sku": "DRS-014-BLK-M", "day": "2025-02-01", "units": 1},
        {"sku": "DRS-014-BLK-S", "day": "2025-02-03", "units": 4},
    ]
}
_STOCK_EXAMPLE = {
    "stock": [{"sku": "DRS-014-BLK-S", "units": 0}, {"sku": "DRS-014-BLK-M", "units": 3}]
}


def _store_example(status_code: int = 200, *, many: bool = False) -> dict[int | str, Any]:
    """Documents a store answer with an example (:class:`StorePublic` carries none)."""
    example: Any = {"id": 2, **STORE_EXAMPLE}
    return {
        status_code: {
            "description": "The store." if not many else "The stores.",
            "content": {"application/json": {"example": [example] if many else example}},
        }
    }


def _store(session: SessionDep, store_id: Int64) -> Store:
    store = session.get(Store, store_id)
    if store is None:
        raise NotFound("store", store_id)
    return store


@router.post(
    "/stores",
    status_code=status.HTTP_201_CREATED,
    summary="Create a store",
    responses={**error_responses(403, 409, 422), **_store_example(201)},
)
def create(
    _caller: PlannerDep,
    session: SessionDep,
    owner: WriteRetailerDep,
    store: Annotated[
        StoreCreate,
        Body(openapi_examples={"kallio": {"summary": "A store", "value": STORE_EXAMPLE}}),
    ],
) -> StorePublic:
    """Store a shop or micro-hub of the key's retailer (a carrier key: ``retailer_id``, or
    the default retailer); 409 when its ``code`` is taken, 422 for an unknown ``depot_id``.
    ``accepts_returns`` makes it a candidate destination of its retailer's returns."""
    return StorePublic.model_validate(create_store(session, store, retailer_id=owner))


@router.get(
    "/stores",
    summary="List stores",
    responses={**error_responses(403, 422), **_store_example(many=True)},
)
def read_all(
    caller: StaffDep,
    session: SessionDep,
    depot_id: Int64 | None = None,
    accepts_returns: bool | None = None,
    offset: Annotated[Int64, Query(ge=0)] = 0,
    limit: Annotated[Int64, Query(ge=1, le=1_000)] = 100,
) -> list[StorePublic]:
    """Stores in id order, of one depot or only those taking returns when asked; a
    retailer's key lists only its retailer's."""
    rows = list_stores(
        session,
        depot_id=depot_id,
        accepts_returns=accepts_returns,
        retailer_id=caller.retailer_id,
        offset=offset,
        limit=limit,
    )
    return [StorePublic.model_validate(s) for s in rows]


@router.get(
    "/stores/{store_id}",
    summary="Read a store",
    responses={**error_responses(403, 404, 422), **_store_example()},
)
def read(store_id: Int64, _caller: StaffDep, session: SessionDep) -> StorePublic:
    """The store; 404 for an unknown id."""
    return StorePublic.model_validate(_store(session, store_id))


@router.patch(
    "/stores/{store_id}",
    summary="Change a store",
    responses={**error_responses(403, 404, 422), **_store_example()},
)
def update(
    store_id: Int64,
    _caller: PlannerDep,
    session: SessionDep,
    changes: Annotated[
        StoreUpdate,
        Body(
            openapi_examples={
                "returns": {"summary": "Start taking returns", "value": {"accepts_returns": True}}
            }
        ),
    ],
) -> StorePublic:
    """Change the given fields; those left out stay as they are."""
    return StorePublic.model_validate(update_store(session, store_id, changes))


@router.delete(
    "/stores/{store_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a store",
    responses=error_responses(403, 404, 409, 422),
)
def delete(store_id: Int64, _caller: PlannerDep, session: SessionDep) -> Response:
    """Remove the store with its sales and stock; 409 while returns head to it or were
    handed in there (stop it taking returns instead)."""
    delete_store(session, store_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/stores/{store_id}/sales",
    summary="Record a store's daily sales",
    responses=error_responses(403, 404, 422),
)
def sales(
    store_id: Int64,
    _caller: PlannerDep,
    session: SessionDep,
    records: Annotated[
        SalesIn,
        Body(openapi_examples={"days": {"summary": "Three sale records", "value": _SALES_EXAMPLE}}),
    ],
) -> SalesLoaded:
    """Units sold per SKU and day (days without a sale need no record); a day already
    recorded for a SKU gets the new units. 422 names the record: a SKU not in the catalogue
    (``body.sales.3.sku``), units below 1, a SKU and day given twice."""
    return record_sales(session, store_id, records)


@router.put(
    "/stores/{store_id}/stock",
    summary="Replace a store's stock",
    responses=error_responses(403, 404, 422),
)
def put_stock(
    store_id: Int64,
    _caller: PlannerDep,
    session: SessionDep,
    stock: Annotated[
        StockIn,
        Body(openapi_examples={"shelf": {"summary": "Two SKUs", "value": _STOCK_EXAMPLE}}),
    ],
) -> list[StockLevelPublic]:
    """The units of each SKU on the shelf or on their way; SKUs left out hold none. A
    returned unit sells only after them."""
    return [StockLevelPublic.model_validate(s) for s in replace_stock(session, store_id, stock)]


@router.get(
    "/stores/{store_id}/stock",
    summary="A store's stock",
    responses=error_responses(403, 404, 422),
)
def read_stock(store_id: Int64, _caller: StaffDep, session: SessionDep) -> list[StockLevelPublic]:
    """The store's stock levels in SKU order."""
    _store(session, store_id)
    return [StockLevelPublic.model_validate(s) for s in stock_of_store(session, store_id)]


@router.put(
    "/products/{sku}",
    summary="Add or change a product",
    responses=error_responses(403, 404, 422),
)
def put(
    sku: Annotated[str, Path(min_length=1, max_length=64)],
    _caller: PlannerDep,
    session: SessionDep,
    owner: WriteRetailerDep,
    product: Annotated[
        ProductBase,
        Body(openapi_examples={"dress": {"summary": "A dress", "value": PRODUCT_EXAMPLE}}),
    ],
) -> ProductPublic:
    """The SKU's style, category, size, colour and list price (cents, above 0); sending the
    same product twice changes nothing. A new SKU is the key's retailer's (a carrier key:
    ``retailer_id``, or the default retailer)."""
    return ProductPublic.model_validate(put_product(session, sku, product, retailer_id=owner))


@router.get(
    "/products/{sku}",
    summary="Read a product",
    responses=error_responses(403, 404, 422),
)
def read_product(
    sku: Annotated[str, Path(min_length=1, max_length=64)], _caller: StaffDep, session: SessionDep
) -> ProductPublic:
    """The catalogue entry; 404 for a SKU not in the catalogue."""
    product = get_product(session, sku)
    if product is None:
        raise NotFound("product", sku)
    return ProductPublic.model_validate(product)


@router.get("/products", summary="List products", responses=error_responses(403, 422))
def read_products(
    caller: StaffDep,
    session: SessionDep,
    category: str | None = None,
    offset: Annotated[Int64, Query(ge=0)] = 0,
    limit: Annotated[Int64, Query(ge=1, le=1_000)] = 100,
) -> list[ProductPublic]:
    """Catalogue entries in SKU order, of one category when given; a retailer's key lists
    only its retailer's."""
    rows = list_products(
        session, category=category, retailer_id=caller.retailer_id, offset=offset, limit=limit
    )
    return [ProductPublic.model_validate(p) for p in rows]
