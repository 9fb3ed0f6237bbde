"""The order processing module's lists: which orders each one holds, as data."""

from __future__ import annotations

from enum import StrEnum

from domain.orders import OrderStatus


class OrderList(StrEnum):
    """A work list of the order processing module."""

    NEW = "new"
    """Received, not yet through the credit review."""
    AWAITING_APPROVAL = "awaiting_approval"
    """Held for a person's credit decision."""
    IN_PROGRESS = "in_progress"
    """Approved and on their way: supply, allocation, shipping, invoicing, payment."""
    NEEDS_ATTENTION = "needs_attention"
    """A person must act now, whatever the stage (the order says why)."""
    PROCESSED = "processed"
    """Finished: completed, cancelled, rejected or failed."""


LIST_STATUSES: dict[OrderList, frozenset[OrderStatus]] = {
    OrderList.NEW: frozenset({OrderStatus.RECEIVED, OrderStatus.CONFIRMED}),
    OrderList.AWAITING_APPROVAL: frozenset({OrderStatus.AWAITING_APPROVAL}),
    OrderList.IN_PROGRESS: frozenset(
        {
            OrderStatus.APPROVED,
            OrderStatus.AWAITING_SUPPLY,
            OrderStatus.ALLOCATED,
            OrderStatus.SHIPMENT_BOOKED,
            OrderStatus.DELIVERED,
            OrderStatus.INVOICED,
            OrderStatus.PAID,
        }
    ),
    OrderList.NEEDS_ATTENTION: frozenset({OrderStatus.NEEDS_ATTENTION}),
    OrderList.PROCESSED: frozenset(
        {OrderStatus.COMPLETED, OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.FAILED}
    ),
}
"""The statuses each list holds; needs attention also holds any order a person must act on."""
