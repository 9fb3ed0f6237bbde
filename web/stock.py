"""Inventory in the console: stock per product and warehouse (role ``warehouse``; order
processing and analysts read it too)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from domain.access import Permission
from persistence.stock_views import stock_rows

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
