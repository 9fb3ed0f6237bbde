"""The catalogue part of the HTTP API, for the systems that keep a company's master data
(an ERP, a warehouse system): products, warehouses and stock levels out, and in as
batches that create new rows and update known ones, all or nothing, as ``oms catalogue
import`` does with a CSV file. Nothing is deleted: a product is retired with
``active: false``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, TypeVar

from fastapi import APIRouter, Body, Depends, HTTPException, Request

from domain.access import ApiKeyView, ApiPermission
from domain.catalogue import ProductRecord, StockPolicyRecord, WarehouseRecord
from persistence.database import Database
from persistence.transactions.catalogue import (
    CatalogueRecordsError,
    Loaded,
    load_products,
    load_stock_policies,
    load_warehouses,
    product_records,
    stock_policy_records,
    warehouse_records,
)

from .api import BODY_ERRORS, ERRORS, ApiRoute, problems, system
from .security import database

router = APIRouter(prefix="/api/v1/stock", tags=["catalogue"], route_class=ApiRoute)

MAX_RECORDS = 1000
"""The most records one request may carry (bigger catalogues come in several batches)."""

REFUSED = {
    **BODY_ERRORS,
    **problems(
        {
            409: "Refused, nothing written: a record names a product or warehouse the "
            "catalogue does not have, repeats another, or keeps levels out of order; the detail "
            "names each by its position (from 1)."
        }
    ),
}

Reader = Annotated[ApiKeyView, Depends(system(ApiPermission.READ_STOCK))]
Keeper = Annotated[ApiKeyView, Depends(system(ApiPermission.MANAGE_CATALOGUE))]
RecordT = TypeVar("RecordT")


BATCH = Body(min_length=1, max_length=MAX_RECORDS, description=f"1 to {MAX_RECORDS} records")


async def _load(
    request: Request,
    load: Callable[[Database, Sequence[RecordT]], Loaded],
    records: Sequence[RecordT],
) -> Loaded:
    db = database(request)
    try:
        return await db.run(load, db, records)
    except CatalogueRecordsError as refused:
        raise HTTPException(409, str(refused)) from refused


@router.get("/products", response_model=list[ProductRecord], responses=ERRORS)
async def list_products(request: Request, _key: Reader) -> list[ProductRecord]:
    """Every product, retired ones included, by SKU."""
    db = database(request)
    return await db.run(product_records, db)


@router.post("/products", response_model=Loaded, responses={**ERRORS, **REFUSED})
async def put_products(
    request: Request,
    records: Annotated[list[ProductRecord], BATCH],
    _key: Keeper,
) -> Loaded:
    """Create the products that are new, update those that differ (by SKU)."""
    return await _load(request, load_products, records)


@router.get("/warehouses", response_model=list[WarehouseRecord], responses=ERRORS)
async def list_warehouses(request: Request, _key: Reader) -> list[WarehouseRecord]:
    """Every warehouse, by id."""
    db = database(request)
    return await db.run(warehouse_records, db)


@router.post("/warehouses", response_model=Loaded, responses={**ERRORS, **REFUSED})
async def put_warehouses(
    request: Request,
    records: Annotated[list[WarehouseRecord], BATCH],
    _key: Keeper,
) -> Loaded:
    """Create the warehouses that are new, update those that differ (by id)."""
    return await _load(request, load_warehouses, records)


@router.get("/levels", response_model=list[StockPolicyRecord], responses=ERRORS)
async def list_levels(request: Request, _key: Reader) -> list[StockPolicyRecord]:
    """Every product's stock levels in every warehouse that keeps it."""
    db = database(request)
    return await db.run(stock_policy_records, db)


@router.post("/levels", response_model=Loaded, responses={**ERRORS, **REFUSED})
async def put_levels(
    request: Request,
    records: Annotated[list[StockPolicyRecord], BATCH],
    _key: Keeper,
) -> Loaded:
    """Set the reorder point, minimum, maximum, safety stock (or service level) of each
    product in each warehouse (by SKU and warehouse)."""
    return await _load(request, load_stock_policies, records)
