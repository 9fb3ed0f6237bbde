"""Archive: the immutable, PII-minimised record of a finished order."""

from __future__ import annotations

import hashlib

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity

from domain.archive import ARCHIVE_ORDER, ArchiveReceipt
from domain.intake import OrderRef
from domain.orders import EventKind, OrderStatus
from persistence.database import SessionFactory
from persistence.idempotency import run_once, step_key
from persistence.models import ArchiveRecord, Invoice, Order, OrderLine, Receipt, Shipment

from ._read_model import load_order, utcnow, write_event

log = structlog.get_logger(__name__)


def address_fingerprint(order: Order) -> str:
    """SHA-256 of the normalised shipping address."""
    parts = (
        order.ship_to_name,
        order.ship_to_street,
        order.ship_to_postal_code,
        order.ship_to_city,
        order.ship_to_country,
    )
    normalised = "\n".join(" ".join(part.split()).casefold() for part in parts)
    return hashlib.sha256(normalised.encode()).hexdigest()


class ArchiveActivities:
    """Write archive records."""

    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    @activity.defn(name=ARCHIVE_ORDER)
    async def archive_order(self, ref: OrderRef) -> ArchiveReceipt:
        """Archive the order without personal data, drop its payment token, mark it COMPLETED."""
        structlog.contextvars.bind_contextvars(order_id=ref.order_id)

        async def effect(session: AsyncSession) -> ArchiveReceipt:
            order = await load_order(session, ref.order_id)
            lines = await session.scalars(select(OrderLine).where(OrderLine.order_id == order.id))
            invoice = await session.scalar(select(Invoice).where(Invoice.order_id == order.id))
            receipt = await session.scalar(select(Receipt).where(Receipt.order_id == order.id))
            shipments = await session.scalars(select(Shipment).where(Shipment.order_id == order.id))
            now = utcnow()
            summary = {
                "customer_id": order.customer_id,
                "channel": order.channel,
                "country": order.ship_to_country,
                "currency": order.currency,
                "total": str(order.total),
                "payment_terms": order.payment_terms,
                "lines": [
                    {"sku": line.sku, "quantity": line.quantity, "line_total": str(line.line_total)}
                    for line in lines
                ],
                "invoice": invoice.number if invoice else None,
                "receipt": receipt.number if receipt else None,
                "shipments": [shipment.tracking_number for shipment in shipments],
                "ordered_at": order.created_at.isoformat(),
            }
            session.add(
                ArchiveRecord(
                    order_id=order.id,
                    archived_at=now,
                    summary=summary,
                    address_fingerprint=address_fingerprint(order),
                )
            )
            await write_event(
                session,
                order.id,
                EventKind.ARCHIVED,
                "archive record written",
                status=OrderStatus.COMPLETED,
                payment_token=None,
            )
            return ArchiveReceipt(order_id=order.id, archived_at=now)

        return await run_once(
            self._sessions, step_key(ref.order_id, ARCHIVE_ORDER), ArchiveReceipt, effect
        )
