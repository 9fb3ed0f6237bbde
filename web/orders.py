"""The order processing module: work lists and order details, read from the read model."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ValidationError
from starlette.responses import Response
from temporalio.client import WorkflowQueryFailedError
from temporalio.service import RPCError

from domain import order_actions
from domain.access import Permission
from domain.credit import APPROVE_SIGNAL, REJECT_SIGNAL
from domain.escalation import EXTEND_DEADLINE_SIGNAL, DeadlineExtension
from domain.orders import (
    CANCEL_SIGNAL,
    PAYMENT_RECEIVED_SIGNAL,
    RETRY_COMPENSATION_SIGNAL,
    STATUS_QUERY,
    Channel,
    OrderStatus,
    OrderView,
    ShipmentView,
    StaffDecision,
    SupplyView,
    order_workflow_id,
)
from domain.settlement import IncomingPayment
from domain.shipping import (
    RESOLVE_SHIPMENT_SIGNAL,
    ShipmentAction,
    ShipmentResolution,
    shipment_workflow_id,
)
from domain.supply import SUPPLY_RECEIVED_SIGNAL, SupplyReceipt, supply_workflow_id
from domain.worklists import OrderList
from ops.staff import StaffAction, StaffActionError, perform
from persistence.order_views import (
    OrderQuery,
    order_page,
    order_view,
    ship_to_country,
    shipping_address,
)

from .api import IsoDate, api_order_query
from .field_words import in_words
from .links import list_link
from .rendering import local_moment, render
from .security import FormChecked, Staff, database, requires, temporal

PAGE_SIZE = 50

log = structlog.get_logger(__name__)


class OrderAction(StrEnum):
    """What order processing may do to an order from its page: each a workflow update."""

    APPROVE = "approve"
    REJECT = "reject"
    CANCEL = "cancel"
    RETRY = "retry"


DECISIONS = frozenset(action.value for action in OrderAction)
"""The decisions sent with a reason through ``/orders/{id}/{action}``."""

ACTION_SIGNALS = {
    OrderAction.APPROVE: APPROVE_SIGNAL,
    OrderAction.REJECT: REJECT_SIGNAL,
    OrderAction.CANCEL: CANCEL_SIGNAL,
    OrderAction.RETRY: RETRY_COMPENSATION_SIGNAL,
}
"""The signal whose update twin each action sends (the same as ``oms approve`` and so on)."""


@dataclass(frozen=True)
class Offers:
    """Every form the order's page offers: decisions, and the actions on its parts; each
    one the workflow takes as the order stands (:mod:`domain.order_actions`)."""

    decisions: list[OrderAction]
    extend: bool
    """Something the order waits for escalates on a ladder: its deadline can move."""
    pay: bool
    """A net-terms invoice is open: money received can be booked."""
    supply: list[SupplyView]
    """Open production or purchase orders that can be received."""
    parcels: list[ShipmentView]
    """Parcels that ask for a decision (lost, damaged or very late)."""
    resolutions: dict[str, list[ShipmentAction]] = field(default_factory=dict)
    """The decisions each of ``parcels`` takes (a lost parcel: no waiting)."""

    @property
    def any(self) -> bool:
        """Is there anything to offer at all?"""
        return bool(self.decisions or self.extend or self.pay or self.supply or self.parcels)


NO_OFFERS = Offers([], False, False, [], [])
"""What a role that may not act on orders is offered."""


def offers_for(view: OrderView) -> Offers:
    """What may be done to the order as it stands: what its workflow would accept."""
    if view.status.is_final:
        return NO_OFFERS
    offered = order_actions.offered_actions(view)
    resolutions = {p.shipment_id: order_actions.parcel_decisions(p) for p in view.shipments}
    return Offers(
        decisions=[OrderAction(a.value) for a in offered if a.value in DECISIONS],
        extend=order_actions.OrderAction.EXTEND in offered,
        pay=order_actions.OrderAction.PAY in offered,
        supply=[s for s in view.supply if order_actions.receivable(s)],
        parcels=[p for p in view.shipments if resolutions[p.shipment_id]],
        resolutions={key: value for key, value in resolutions.items() if value},
    )


LIVE_VIEW_SECONDS = 2.0
"""How long a detail page waits for the running workflow's own view before doing without."""


async def live_view(request: Request, view: OrderView) -> OrderView | None:
    """The running workflow's view (what it waits for, the next rung), or None when the
    order has finished or the workflow does not answer in time."""
    if view.status.is_final:
        return None

    async def ask() -> OrderView:
        handle = (await temporal(request)).get_workflow_handle(view.workflow_id)
        answer: OrderView = await handle.query(STATUS_QUERY, result_type=OrderView)
        return answer

    try:
        live = await asyncio.wait_for(ask(), LIVE_VIEW_SECONDS)
    except (TimeoutError, RPCError, WorkflowQueryFailedError, RuntimeError) as error:
        # RuntimeError: the client could not connect (Temporal is down or unreachable).
        log.info("order page without the live view", order_id=view.order_id, reason=str(error))
        return None
    return live


router = APIRouter(prefix="/orders")

Actor = Annotated[Staff, Depends(requires(Permission.ACT_ON_ORDERS))]
"""A route parameter: the logged-in user, who may act on orders (else 403)."""
FormText = Annotated[str, Form()]


def order_query(
    worklist: Annotated[OrderList, Query(alias="list")] = OrderList.NEW,
    channel: Channel | None = None,
    customer: Annotated[str | None, Query(max_length=64)] = None,
    status: OrderStatus | None = None,
    created_from: Annotated[IsoDate | None, Query(alias="from")] = None,
    created_to: Annotated[IsoDate | None, Query(alias="to")] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> OrderQuery:
    """A dependency: the list, filters, search and page the console asks for
    (``?list=…&channel=…&customer=…&status=…&from=…&to=…&q=…&page=…``), read as the API
    reads them (a date is ``YYYY-MM-DD``; a blank field was dropped before: no filter),
    a console page at a time."""
    return api_order_query(
        worklist, channel, customer, status, created_from, created_to, q, page, PAGE_SIZE
    )


@router.get("")
async def order_list(
    request: Request,
    user: Annotated[Staff, Depends(requires(Permission.VIEW_ORDERS))],
    query: Annotated[OrderQuery, Depends(order_query)],
) -> Response:
    """One work list with its filters, a page at a time, and every list's count; without a
    chosen list, the first (in the tabs' order) that holds any order."""
    db = database(request)
    found = await db.run(order_page, db, query)
    if "list" not in request.query_params and not found.counts[query.worklist]:
        first = next((worklist for worklist in OrderList if found.counts[worklist]), None)
        if first is not None:
            query = query.model_copy(update={"worklist": first})
            found = await db.run(order_page, db, query)
    filters = {
        "channel": query.channel or "",
        "customer": query.customer_id or "",
        "status": query.status.value if query.status else "",
        "from": query.created_from.isoformat() if query.created_from else "",
        "to": query.created_to.isoformat() if query.created_to else "",
        "q": query.search or "",
    }

    def page_link(page: int) -> str:
        return list_link("/orders", {"list": query.worklist.value, **filters, "page": page})

    return render(
        "orders.html",
        user.account.locale,
        user=user,
        query=query,
        found=found,
        worklists=list(OrderList),
        channels=list(Channel),
        statuses=list(OrderStatus),
        filters=filters,
        previous_page=page_link(found.page - 1) if found.page > 1 else None,
        next_page=page_link(found.page + 1) if found.page < found.pages else None,
        entered=request.query_params.get("entered"),
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
    country = address.country if address else await db.run(ship_to_country, db, order_id)
    settings = request.app.state.settings
    workflow_url = (
        f"{settings.ui_url}/namespaces/{settings.temporal_namespace}/workflows/{view.workflow_id}"
    )
    live = await live_view(request, view)
    if live is not None:
        # The workflow knows what the read model does not: the wait and the next rung,
        # and each part's escalation and need for attention.
        view = view.model_copy(
            update={"waiting": live.waiting, "shipments": live.shipments or view.shipments}
        )
    offers = offers_for(view) if user.may(Permission.ACT_ON_ORDERS) else NO_OFFERS
    return render(
        "order.html",
        user.account.locale,
        user=user,
        view=view,
        live=live is not None,
        address=address,
        country=country,
        workflow_url=workflow_url,
        offers=offers,
        action_id=secrets.token_hex(16),
        done=request.query_params.get("done"),
        zone=settings.console_time_zone,
    )


@router.post("/{order_id}/extend")
async def extend_deadline(
    request: Request,
    order_id: str,
    user: Actor,
    _form: FormChecked,
    new_deadline: Annotated[str, Form()] = "",
    reason: FormText = "",
    action_id: FormText = "",
) -> Response:
    """Move the next escalation of whatever the order waits for (as ``oms extend``).

    The form's date and time are read in the console's time zone.
    """

    def extension() -> DeadlineExtension:
        return DeadlineExtension(
            actor=user.account.username,
            reason=reason.strip(),
            new_deadline=local_moment(new_deadline, request.app.state.settings.display_zone),
        )

    target = StaffAction(order_workflow_id(order_id), EXTEND_DEADLINE_SIGNAL, f"order {order_id}")
    return await _send(request, user, order_id, target, extension, action_id, done="extend")


@router.post("/{order_id}/pay")
async def record_payment(
    request: Request,
    order_id: str,
    user: Actor,
    _form: FormChecked,
    amount: Annotated[str, Form()] = "",
    bank_ref: Annotated[str, Form()] = "",
    action_id: FormText = "",
) -> Response:
    """Book money received for a net-terms order (as ``oms pay``); the bank's reference
    makes a repeat count once."""

    def payment() -> IncomingPayment:
        return IncomingPayment.model_validate_strings(
            {
                "payment_id": bank_ref.strip(),
                "amount": amount.strip(),
                "actor": user.account.username,
            }
        )

    target = StaffAction(order_workflow_id(order_id), PAYMENT_RECEIVED_SIGNAL, f"order {order_id}")
    return await _send(request, user, order_id, target, payment, action_id, done="pay")


@router.post("/{order_id}/supply/{line_no}/receive")
async def receive_supply(
    request: Request,
    order_id: str,
    line_no: int,
    user: Actor,
    _form: FormChecked,
    quantity: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    action_id: FormText = "",
) -> Response:
    """Units of a production or purchase order arrived (as ``oms supply receive``)."""

    def receipt() -> SupplyReceipt:
        return SupplyReceipt.model_validate_strings(
            {
                "receipt_id": note.strip(),
                "quantity": quantity.strip(),
                "actor": user.account.username,
            }
        )

    target = StaffAction(
        supply_workflow_id(order_id, line_no),
        SUPPLY_RECEIVED_SIGNAL,
        f"supply for order {order_id} line {line_no}",
    )
    return await _send(request, user, order_id, target, receipt, action_id, done="receive")


@router.post("/{order_id}/parcels/{shipment_id}/resolve")
async def resolve_parcel(
    request: Request,
    order_id: str,
    shipment_id: str,
    user: Actor,
    _form: FormChecked,
    resolution: Annotated[str, Form()] = "",
    reason: FormText = "",
    action_id: FormText = "",
) -> Response:
    """Decide about a lost, damaged or very late parcel (as ``oms shipment resolve``)."""

    def decision() -> ShipmentResolution:
        return ShipmentResolution.model_validate(
            {
                "action": resolution,
                "decision": {"actor": user.account.username, "reason": reason.strip()},
            }
        )

    target = StaffAction(
        shipment_workflow_id(shipment_id), RESOLVE_SHIPMENT_SIGNAL, f"parcel {shipment_id}"
    )
    return await _send(request, user, order_id, target, decision, action_id, done="resolve")


# Declared after the routes above: "/{order_id}/{action}" would take their paths too.
@router.post("/{order_id}/{action}")
async def act_on_order(
    request: Request,
    order_id: str,
    action: OrderAction,
    user: Actor,
    _form: FormChecked,
    reason: FormText = "",
    action_id: FormText = "",
) -> Response:
    """Approve, reject, cancel or retry as the logged-in user, with the reason given."""
    target = StaffAction(order_workflow_id(order_id), ACTION_SIGNALS[action], f"order {order_id}")
    return await _send(
        request,
        user,
        order_id,
        target,
        lambda: StaffDecision(actor=user.account.username, reason=reason.strip()),
        action_id,
        done=action.value,
    )


async def _send(
    request: Request,
    user: Staff,
    order_id: str,
    target: StaffAction,
    argument: Callable[[], BaseModel],
    action_id: str,
    *,
    done: str,
) -> Response:
    """Send the update the form asks for as the logged-in user; show a refusal as is.

    ``argument`` builds the update's input from the form: a wrong field is a 422
    naming it, and nothing is sent. The form's one-time ``action_id`` is the
    update's id, so a double click acts once.
    """
    locale = user.account.locale
    back = f"/orders/{order_id}"
    try:
        built = argument()
    except (ValidationError, ValueError) as invalid:
        reason = in_words(invalid, locale)
        return render("problem.html", locale, 422, status=422, reason=reason, back=back)
    update_id = f"console-{action_id}" if action_id else None
    try:
        await perform(await temporal(request), target, built, update_id=update_id)
    except StaffActionError as refused:
        return render("problem.html", locale, 409, status=409, reason=str(refused), back=back)
    return RedirectResponse(f"{back}?done={done}", status_code=303)
