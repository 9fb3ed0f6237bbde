"""Archive: the immutable, PII-minimised record of a finished order."""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.archive import ARCHIVE_ORDER, ArchiveReceipt
from domain.orders import EventKind, OrderStatus
from domain.wording import N_, Wording
from persistence.database import Database
from persistence.idempotency import run_once, step_key
from persistence.models import ArchiveRecord, Invoice, Order, OrderLine, Receipt, Shipment

from .records import load_order, utcnow, write_event


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


def archive_order(db: Database, order_id: str) -> ArchiveReceipt:
    """Archive the order without personal data, drop its payment token, mark it COMPLETED."""

    def effect(session: Session) -> ArchiveReceipt:
        order = load_order(session, order_id)
        lines = session.scalars(select(OrderLine).where(OrderLine.order_id == order.id))
        invoice = session.scalar(select(Invoice).where(Invoice.order_id == order.id))
        receipt = session.scalar(select(Receipt).where(Receipt.order_id == order.id))
        shipments = session.scalars(select(Shipment).where(Shipment.order_id == order.id))
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
        write_event(
            session,
            order.id,
            EventKind.ARCHIVED,
            Wording(message=N_("archive record written")),
            status=OrderStatus.COMPLETED,
            payment_token=None,
        )
        return ArchiveReceipt(order_id=order.id, archived_at=now)

    return run_once(db, step_key(order_id, ARCHIVE_ORDER), ArchiveReceipt, effect)
