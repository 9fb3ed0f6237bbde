"""The order processing module: work lists and order details, read from the read model."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from starlette.responses import Response

from domain.access import Permission
from domain.orders import Channel, OrderStatus
from domain.worklists import OrderList
from persistence.order_views import OrderQuery, order_page, order_view, shipping_address

from .rendering import render
from .security import Staff, database, requires

PAGE_SIZE = 50

router = APIRouter(prefix="/orders")


@router.get("")
async def order_list(
    request: Request,
    user: Annotated[Staff, Depends(requires(Permission.VIEW_ORDERS))],
    worklist: Annotated[OrderList, Query(alias="list")] = OrderList.NEW,
    channel: Channel | None = None,
    customer: str | None = None,
    status: OrderStatus | None = None,
    created_from: Annotated[date | None, Query(alias="from")] = None,
    created_to: Annotated[date | None, Query(alias="to")] = None,
    q: str | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    """One work list with its filters, a page at a time, and every list's count."""
    query = OrderQuery(
        worklist=worklist,
        channel=channel.value if channel else None,
        customer_id=customer or None,
        status=status,
        created_from=created_from,
        created_to=created_to,
        search=q or None,
        page=page,
        page_size=PAGE_SIZE,
    )
    db = database(request)
    found = await db.run(order_page, db, query)
    return render(
        "orders.html",
        user.account.locale,
        user=user,
        query=query,
        found=found,
        worklists=list(OrderList),
        channels=list(Channel),
        statuses=list(OrderStatus),
        filters={
            "channel": channel.value if channel else "",
            "customer": customer or "",
            "status": status.value if status else "",
            "from": created_from.isoformat() if created_from else "",
            "to": created_to.isoformat() if created_to else "",
            "q": q or "",
        },
    )


@router.get("/{order_id}")
async def order_detail(
    request: Request,
    order_id: str,
    user: Annotated[Staff, Depends(requires(Permission.VIEW_ORDERS))],
) -> Response:
    """Everything about one order; the address only for roles that may see personal data."""
    db = database(request)
    view = await db.run(order_view, db, order_id)
    if view is None:
        raise HTTPException(status_code=404, detail=f"no order {order_id!r}")
    address = None
    if user.may(Permission.VIEW_PERSONAL_DATA):
        address = await db.run(shipping_address, db, order_id)
    settings = request.app.state.settings
    workflow_url = (
        f"{settings.ui_url}/namespaces/{settings.temporal_namespace}/workflows/{view.workflow_id}"
    )
    return render(
        "order.html",
        user.account.locale,
        user=user,
        view=view,
        address=address,
        workflow_url=workflow_url,
    )
