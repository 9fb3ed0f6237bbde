"""The order processing module: work lists and order details, read from the read model."""

from __future__ import annotations

import secrets
from datetime import date
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.responses import Response

from domain.access import Permission
from domain.credit import APPROVE_SIGNAL, REJECT_SIGNAL
from domain.orders import (
    CANCEL_SIGNAL,
    RETRY_COMPENSATION_SIGNAL,
    Channel,
    OrderStatus,
    StaffDecision,
    order_workflow_id,
)
from domain.worklists import OrderList
from ops.staff import StaffAction, StaffActionError, perform
from persistence.order_views import OrderQuery, order_page, order_view, shipping_address

from .rendering import render
from .security import Staff, check_csrf, database, requires, temporal

PAGE_SIZE = 50


class OrderAction(StrEnum):
    """What order processing may do to an order from its page: each a workflow update."""

    APPROVE = "approve"
    REJECT = "reject"
    CANCEL = "cancel"
    RETRY = "retry"


ACTION_SIGNALS = {
    OrderAction.APPROVE: APPROVE_SIGNAL,
    OrderAction.REJECT: REJECT_SIGNAL,
    OrderAction.CANCEL: CANCEL_SIGNAL,
    OrderAction.RETRY: RETRY_COMPENSATION_SIGNAL,
}
"""The signal whose update twin each action sends (the same as ``oms approve`` and so on)."""


def offered_actions(status: OrderStatus) -> list[OrderAction]:
    """The actions worth offering for an order in ``status`` (the workflow decides anyway)."""
    if status.is_final:
        return []
    offered = []
    if status is OrderStatus.AWAITING_APPROVAL:
        offered += [OrderAction.APPROVE, OrderAction.REJECT]
    if status is OrderStatus.NEEDS_ATTENTION:
        offered.append(OrderAction.RETRY)
    return [*offered, OrderAction.CANCEL]


router = APIRouter(prefix="/orders")


def order_query(
    worklist: Annotated[OrderList, Query(alias="list")] = OrderList.NEW,
    channel: Channel | None = None,
    customer: str | None = None,
    status: OrderStatus | None = None,
    created_from: Annotated[date | None, Query(alias="from")] = None,
    created_to: Annotated[date | None, Query(alias="to")] = None,
    q: str | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
) -> OrderQuery:
    """A dependency: the list, filters, search and page asked for, as the console and the
    API both take them (``?list=…&channel=…&customer=…&status=…&from=…&to=…&q=…&page=…``)."""
    return OrderQuery(
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


@router.get("")
async def order_list(
    request: Request,
    user: Annotated[Staff, Depends(requires(Permission.VIEW_ORDERS))],
    query: Annotated[OrderQuery, Depends(order_query)],
) -> Response:
    """One work list with its filters, a page at a time, and every list's count."""
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
            "channel": query.channel or "",
            "customer": query.customer_id or "",
            "status": query.status.value if query.status else "",
            "from": query.created_from.isoformat() if query.created_from else "",
            "to": query.created_to.isoformat() if query.created_to else "",
            "q": query.search or "",
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
        actions=offered_actions(view.status) if user.may(Permission.ACT_ON_ORDERS) else [],
        action_id=secrets.token_hex(16),
        done=request.query_params.get("done"),
    )


@router.post("/{order_id}/{action}")
async def act_on_order(
    request: Request,
    order_id: str,
    action: OrderAction,
    user: Annotated[Staff, Depends(requires(Permission.ACT_ON_ORDERS))],
    _form: Annotated[Staff, Depends(check_csrf)],
    reason: Annotated[str, Form()] = "",
    action_id: Annotated[str, Form()] = "",
) -> Response:
    """Send the action's update as the logged-in user; the workflow's refusal is shown as is.

    The form's one-time ``action_id`` is the update's id, so a double click acts once.
    """
    try:
        decision = StaffDecision(actor=user.account.username, reason=reason.strip())
    except ValidationError:
        return render(
            "problem.html", user.account.locale, 422, status=422, reason="a reason is required"
        )
    target = StaffAction(order_workflow_id(order_id), ACTION_SIGNALS[action], f"order {order_id}")
    update_id = f"console-{action_id}" if action_id else None
    try:
        await perform(await temporal(request), target, decision, update_id=update_id)
    except StaffActionError as refused:
        return render("problem.html", user.account.locale, 409, status=409, reason=str(refused))
    return RedirectResponse(f"/orders/{order_id}?done={action.value}", status_code=303)
