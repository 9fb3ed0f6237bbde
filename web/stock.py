"""Inventory in the console: stock per product and warehouse (role ``warehouse``; order
processing and analysts read it too)."""

from __future__ import annotations

import functools
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from domain.access import Permission
from domain.inventory import MovementKind
from persistence.stock_views import stock_movements, stock_rows

from .rendering import render
from .security import Staff, database, requires

router = APIRouter(prefix="/stock")


@router.get("")
async def stock_page(
    request: Request,
    user: Annotated[Staff, Depends(requires(Permission.VIEW_STOCK))],
    warehouse: str | None = None,
    q: str | None = None,
) -> Response:
    """Stock per product and warehouse: on hand, reserved, free, incoming, value at cost,
    and where it is below its reorder point or above its maximum."""
    db = database(request)
    rows = await db.run(stock_rows, db, warehouse_id=warehouse or None, search=q or None)
    return render(
        "stock.html",
        user.account.locale,
        user=user,
        rows=rows,
        warehouse=warehouse or "",
        q=q or "",
        total_value=sum((row.value for row in rows), start=0),
    )


@router.get("/movements")
async def movements_page(
    request: Request,
    user: Annotated[Staff, Depends(requires(Permission.VIEW_STOCK))],
    sku: str | None = None,
    warehouse: str | None = None,
    kind: MovementKind | None = None,
    outside_orders: bool = False,
    before: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """The stock ledger, newest first: every receipt, issue, adjustment, reservation and
    shipment, with its reason, who made it and the paper behind it."""
    db = database(request)
    rows, next_before = await db.run(
        functools.partial(
            stock_movements,
            sku=sku or None,
            warehouse_id=warehouse or None,
            kind=kind.value if kind else None,
            outside_orders=outside_orders,
            before_id=before,
        ),
        db,
    )
    return render(
        "movements.html",
        user.account.locale,
        user=user,
        rows=rows,
        next_before=next_before,
        kinds=list(MovementKind),
        filters={
            "sku": sku or "",
            "warehouse": warehouse or "",
            "kind": kind.value if kind else "",
            "outside_orders": outside_orders,
        },
    )
