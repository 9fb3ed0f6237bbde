"""The catalogue part of the HTTP API, for the systems that keep a company's master data
(an ERP, a warehouse system): products, warehouses and stock levels out, and in as
batches that create new rows and update known ones, all or nothing, as ``oms catalogue
import`` does with a CSV file: a field an item does not hold keeps its stored value, as a
column a file does not have (:mod:`web.record_batches`). Nothing is deleted: a product is
retired with ``active: false``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Request
from pydantic import BaseModel

from domain.access import ApiKeyView, ApiPermission
from domain.catalogue import ProductRecord, StockPolicyRecord, WarehouseRecord
from persistence.catalogue_files import KINDS, Kind, merge_records
from persistence.transactions.catalogue import (
    Imported,
    product_records,
    stock_policy_records,
    warehouse_records,
)

from .api import BODY_ERRORS, ERRORS, ApiRoute, problems, system
from .record_batches import merged, partial_record, sent_fields
from .security import database

router = APIRouter(prefix="/api/v1/stock", tags=["catalogue"], route_class=ApiRoute)

MAX_RECORDS = 1000
"""The most records one request may carry (bigger catalogues come in several batches)."""

REFUSED = {
    **BODY_ERRORS,
    **problems(
        {
            409: "Refused, nothing written: a record names a product or warehouse the "
            "catalogue does not have, repeats another, keeps levels out of order (as sent over "
            "the stored ones), or is new and lacks a field a new one needs; the detail names "
            "each by its position (from 1) and what is wrong."
        }
    ),
}

Reader = Annotated[ApiKeyView, Depends(system(ApiPermission.READ_STOCK))]
Keeper = Annotated[ApiKeyView, Depends(system(ApiPermission.MANAGE_CATALOGUE))]


def _partial(kind: Kind) -> type[BaseModel]:
    file = KINDS[kind]
    return partial_record(file.record, file.keys, file.required)


ProductFields = _partial(Kind.PRODUCTS)
WarehouseFields = _partial(Kind.WAREHOUSES)
LevelFields = _partial(Kind.LEVELS)


BATCH = Body(min_length=1, max_length=MAX_RECORDS, description=f"1 to {MAX_RECORDS} records")


@router.get("/products", response_model=list[ProductRecord], responses=ERRORS)
async def list_products(request: Request, _key: Reader) -> list[ProductRecord]:
    """Every product, retired ones included, by SKU."""
    db = database(request)
    return await db.run(product_records, db)


@router.post("/products", response_model=Imported, responses={**ERRORS, **REFUSED})
async def put_products(
    request: Request,
    records: Annotated[list[ProductFields], BATCH],  # type: ignore[valid-type]
    _key: Keeper,
) -> Imported:
    """Create the products that are new, update those that differ (by SKU): only the
    fields an item holds are set, the others keep their stored values. A new product needs
    `sku`, `name` and `unit_price` (409 naming what it lacks). The answer counts the
    records and names each updated one's changed fields."""
    return await merged(request, merge_records, Kind.PRODUCTS, sent_fields(records))


@router.get("/warehouses", response_model=list[WarehouseRecord], responses=ERRORS)
async def list_warehouses(request: Request, _key: Reader) -> list[WarehouseRecord]:
    """Every warehouse, by id."""
    db = database(request)
    return await db.run(warehouse_records, db)


@router.post("/warehouses", response_model=Imported, responses={**ERRORS, **REFUSED})
async def put_warehouses(
    request: Request,
    records: Annotated[list[WarehouseFields], BATCH],  # type: ignore[valid-type]
    _key: Keeper,
) -> Imported:
    """Create the warehouses that are new, update those that differ (by id): only the
    fields an item holds are set. A new warehouse needs `id`, `name` and `country` (409
    naming what it lacks)."""
    return await merged(request, merge_records, Kind.WAREHOUSES, sent_fields(records))


@router.get("/levels", response_model=list[StockPolicyRecord], responses=ERRORS)
async def list_levels(request: Request, _key: Reader) -> list[StockPolicyRecord]:
    """Every product's stock levels in every warehouse that keeps it."""
    db = database(request)
    return await db.run(stock_policy_records, db)


@router.post("/levels", response_model=Imported, responses={**ERRORS, **REFUSED})
async def put_levels(
    request: Request,
    records: Annotated[list[LevelFields], BATCH],  # type: ignore[valid-type]
    _key: Keeper,
) -> Imported:
    """Set the reorder point, minimum, maximum, safety stock (or service level) of each
    product in each warehouse (by SKU and warehouse): only the fields an item holds are
    set (`service_level: null` clears it); a new level takes 0 for the others."""
    return await merged(request, merge_records, Kind.LEVELS, sent_fields(records))
