"""Writes to the read model shared by every activity: audit events and status."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.exceptions import ApplicationError

from domain.orders import EventKind, OrderStatus
from persistence.models import Order, OrderEventRow

UNKNOWN_ORDER = "UnknownOrder"
"""ApplicationError type: an activity was asked about an order that was never received."""


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


async def write_event(
    session: AsyncSession,
    order_id: str,
    kind: EventKind | str,
    detail: str = "",
    *,
    actor: str = "system",
    status: OrderStatus | None = None,
    **order_values: Any,
) -> None:
    """Append an audit event; with ``status`` (or other values) also update the order row."""
    now = utcnow()
    session.add(
        OrderEventRow(order_id=order_id, kind=str(kind), detail=detail, actor=actor, created_at=now)
    )
    if status is not None:
        order_values["status"] = status.value
    if order_values:
        await session.execute(
            update(Order).where(Order.id == order_id).values(updated_at=now, **order_values)
        )


async def load_order(session: AsyncSession, order_id: str) -> Order:
    """The order row, or a non-retryable error naming the order."""
    order = await session.get(Order, order_id)
    if order is None:
        raise ApplicationError(
            f"order {order_id!r} is not in the business database",
            type=UNKNOWN_ORDER,
            non_retryable=True,
        )
    return order
