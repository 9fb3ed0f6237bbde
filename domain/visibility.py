"""What operators search orders by in the Temporal Web UI: typed custom search attributes.

Search attributes are stored unencrypted by Temporal, so none of them may hold
personal data: ids, status, amounts and dates only.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes

from domain.complaints import ComplaintCase
from domain.orders import OrderStatus, OrderSubmission, order_id_from_workflow_id

ORDER_ID = SearchAttributeKey.for_keyword("OrderId")
CUSTOMER_ID = SearchAttributeKey.for_keyword("CustomerId")
ORDER_STATUS = SearchAttributeKey.for_keyword("OrderStatus")
ORDER_STAGE = SearchAttributeKey.for_keyword("OrderStage")
CHANNEL = SearchAttributeKey.for_keyword("Channel")
ORDER_TOTAL = SearchAttributeKey.for_float("OrderTotal")
"""The order total as a number for range queries (the exact amount lives in the order)."""
ESCALATION_LEVEL = SearchAttributeKey.for_int("EscalationLevel")
NEEDS_ATTENTION = SearchAttributeKey.for_bool("NeedsAttention")
PROMISED_DATE = SearchAttributeKey.for_datetime("PromisedDate")
"""When the customer was promised the goods: the latest promised parcel delivery."""

ORDER_SEARCH_ATTRIBUTES: tuple[SearchAttributeKey, ...] = (  # type: ignore[type-arg]
    ORDER_ID,
    CUSTOMER_ID,
    ORDER_STATUS,
    ORDER_STAGE,
    CHANNEL,
    ORDER_TOTAL,
    ESCALATION_LEVEL,
    NEEDS_ATTENTION,
    PROMISED_DATE,
)
"""Every search attribute the order workflows set."""

COMPLAINT_ID = SearchAttributeKey.for_keyword("ComplaintId")
CATEGORY = SearchAttributeKey.for_keyword("Category")
"""A complaint's category (late_delivery, damaged, ...)."""
PRIORITY = SearchAttributeKey.for_keyword("Priority")
COMPLAINT_STATUS = SearchAttributeKey.for_keyword("ComplaintStatus")
SLA_BREACHED = SearchAttributeKey.for_bool("SlaBreached")

COMPLAINT_SEARCH_ATTRIBUTES: tuple[SearchAttributeKey, ...] = (  # type: ignore[type-arg]
    COMPLAINT_ID,
    CUSTOMER_ID,
    ORDER_ID,
    CATEGORY,
    PRIORITY,
    COMPLAINT_STATUS,
    SLA_BREACHED,
    ESCALATION_LEVEL,
)
"""Every search attribute the complaint workflows set (customer, order and escalation level
are the orders' own, so one query finds an order and its complaints)."""

SEARCH_ATTRIBUTES: tuple[SearchAttributeKey, ...] = tuple(  # type: ignore[type-arg]
    dict.fromkeys(ORDER_SEARCH_ATTRIBUTES + COMPLAINT_SEARCH_ATTRIBUTES)
)
"""Every custom search attribute; registered on the server at start-up."""


def initial_search_attributes(submission: OrderSubmission) -> TypedSearchAttributes:
    """What an order workflow starts with, set by the starter.

    The workflow keeps its search attributes current only when it was started
    with them: a server without our attributes registered (the time-skipping
    test server) still runs orders.
    """
    return TypedSearchAttributes(
        [
            SearchAttributePair(ORDER_ID, submission.order_id),
            SearchAttributePair(CUSTOMER_ID, submission.customer_id),
            SearchAttributePair(CHANNEL, submission.channel.value),
            SearchAttributePair(ORDER_STATUS, OrderStatus.RECEIVED.value),
            SearchAttributePair(ORDER_STAGE, OrderStage.RECEIVE.value),
            SearchAttributePair(ESCALATION_LEVEL, 0),
            SearchAttributePair(NEEDS_ATTENTION, False),
        ]
    )


def complaint_search_attributes(case: ComplaintCase) -> TypedSearchAttributes:
    """What a complaint workflow starts with, set by whoever files the complaint."""
    pairs: list[SearchAttributePair[Any]] = [
        SearchAttributePair(COMPLAINT_ID, str(case.id)),
        SearchAttributePair(CATEGORY, case.category.value),
        SearchAttributePair(PRIORITY, case.priority.value),
        SearchAttributePair(COMPLAINT_STATUS, case.status.value),
        SearchAttributePair(SLA_BREACHED, False),
        SearchAttributePair(ESCALATION_LEVEL, 0),
    ]
    if case.customer_id:
        pairs.append(SearchAttributePair(CUSTOMER_ID, case.customer_id))
    if case.order_id:
        pairs.append(SearchAttributePair(ORDER_ID, case.order_id))
    return TypedSearchAttributes(pairs)


class OrderStage(StrEnum):
    """The stage of the business process an order is in: coarser than its status."""

    RECEIVE = "receive"
    AUDIT = "audit"
    SUPPLY = "supply"
    SHIPMENT = "shipment"
    SETTLEMENT = "settlement"
    UNDO = "undo"
    """Compensation is stuck on a failing undo step."""
    DONE = "done"


STAGE_OF_STATUS = {
    OrderStatus.RECEIVED: OrderStage.RECEIVE,
    OrderStatus.CONFIRMED: OrderStage.AUDIT,
    OrderStatus.AWAITING_APPROVAL: OrderStage.AUDIT,
    OrderStatus.APPROVED: OrderStage.AUDIT,
    OrderStatus.AWAITING_SUPPLY: OrderStage.SUPPLY,
    OrderStatus.ALLOCATED: OrderStage.SHIPMENT,
    OrderStatus.SHIPMENT_BOOKED: OrderStage.SHIPMENT,
    OrderStatus.INVOICED: OrderStage.SHIPMENT,
    OrderStatus.DELIVERED: OrderStage.SETTLEMENT,
    OrderStatus.PAID: OrderStage.SETTLEMENT,
    OrderStatus.NEEDS_ATTENTION: OrderStage.UNDO,
    OrderStatus.COMPLETED: OrderStage.DONE,
    OrderStatus.REJECTED: OrderStage.DONE,
    OrderStatus.CANCELLED: OrderStage.DONE,
    OrderStatus.FAILED: OrderStage.DONE,
}
"""Every status belongs to one stage (an invoiced order still waits for delivery)."""


def order_id_of_workflow(workflow_id: str) -> str:
    """The order an order, supply (``supply-<order>-L<n>``) or parcel
    (``shipment-<order>-S<n>``) workflow belongs to."""
    if workflow_id.startswith("supply-"):
        return workflow_id.removeprefix("supply-").rsplit("-L", 1)[0]
    if workflow_id.startswith("shipment-"):
        return workflow_id.removeprefix("shipment-").rsplit("-S", 1)[0]
    return order_id_from_workflow_id(workflow_id)
