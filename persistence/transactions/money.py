"""Money: payments, invoices, receipts and credit notes, with gap-free voucher numbers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from temporalio.exceptions import ApplicationError

from domain.compensation import Undone
from domain.orders import EventKind, OrderStatus
from domain.settlement import (
    CREDIT_NOTE_SERIES,
    INVOICE_SERIES,
    ISSUE_INVOICE,
    ISSUE_RECEIPT,
    RECEIPT_SERIES,
    RECORD_PAYMENT,
    VOID_INVOICE,
    InvoiceRecord,
    InvoiceStatus,
    PaymentBalance,
    PaymentBooking,
    PaymentKind,
    PaymentRecord,
    ReceiptRecord,
    voucher_number,
)
from domain.wording import N_, Wording
from persistence.database import Database
from persistence.idempotency import run_once, step_key
from persistence.models import CreditNote, Customer, Invoice, Payment, Receipt, VoucherSequence

from .records import load_order, utcnow, write_event

NOT_FULLY_PAID = "NotFullyPaid"
"""ApplicationError type: a receipt was asked for an invoice with money outstanding."""

MONEY_IN = (PaymentKind.CAPTURE.value, PaymentKind.INCOMING.value)


def next_voucher_sequence(session: Session, series: str, year: int) -> int:
    """Take the next number of ``series`` in ``year`` inside the caller's transaction.

    The upsert locks the sequence row until the voucher is committed with its
    number, so numbers are consecutive and a rolled-back voucher leaves no gap.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(VoucherSequence)
        .values(series=series, year=year, last_number=1)
        .on_conflict_do_update(
            index_elements=[VoucherSequence.series, VoucherSequence.year],
            set_={"last_number": VoucherSequence.last_number + 1},
        )
        .returning(VoucherSequence.last_number)
    )
    return int((session.execute(statement)).scalar_one())


def next_voucher(session: Session, series: str, now: datetime) -> dict[str, Any]:
    """The columns of the next voucher of ``series`` issued at ``now``: its number,
    series, year and sequence (see :func:`next_voucher_sequence`)."""
    sequence = next_voucher_sequence(session, series, now.year)
    return {
        "number": voucher_number(series, now.year, sequence),
        "series": series,
        "year": now.year,
        "sequence": sequence,
    }


def amount_paid(session: Session, order_id: str) -> Decimal:
    """Money received for the order: captures and incoming payments, less refunds."""
    received = session.scalar(
        select(func.coalesce(func.sum(Payment.amount), 0)).where(
            Payment.order_id == order_id, Payment.kind.in_(MONEY_IN)
        )
    )
    refunded = session.scalar(
        select(func.coalesce(func.sum(Payment.amount), 0)).where(
            Payment.order_id == order_id, Payment.kind == PaymentKind.REFUND.value
        )
    )
    return Decimal(received or 0) - Decimal(refunded or 0)


@dataclass(frozen=True)
class Charge:
    """What a prepaid order's payment is for: its total and the customer's means of payment."""

    order_id: str
    total: Decimal
    currency: str
    payment_token: str | None


def charge_of(db: Database, order_id: str) -> Charge:
    """The order's total, currency and payment token."""
    with db.reading() as session:
        order = load_order(session, order_id)
        return Charge(order.id, order.total, order.currency, order.payment_token)


def payments_of(db: Database, order_id: str) -> dict[PaymentKind, PaymentRecord]:
    """The order's first payment row of each kind."""
    with db.reading() as session:
        rows = session.scalars(
            select(Payment).where(Payment.order_id == order_id).order_by(Payment.id)
        )
        found: dict[PaymentKind, PaymentRecord] = {}
        for row in rows:
            found.setdefault(
                PaymentKind(row.kind),
                PaymentRecord(
                    kind=PaymentKind(row.kind),
                    amount=row.amount,
                    currency=row.currency,
                    reference=row.reference,
                ),
            )
        return found


def book_payment(
    db: Database,
    order_id: str,
    step: str,
    kind: PaymentKind,
    amount: Decimal,
    currency: str,
    reference: str,
    event: EventKind,
    *,
    actor: str = "system",
) -> PaymentRecord:
    """Record a movement of money once per ``step`` of the order, with its audit event
    in ``actor``'s name (a person who booked it by hand, else the system)."""
    key = step_key(order_id, step)

    def effect(session: Session) -> PaymentRecord:
        session.add(
            Payment(
                order_id=order_id,
                kind=kind.value,
                amount=amount,
                currency=currency,
                reference=reference,
                idempotency_key=key,
                created_at=utcnow(),
            )
        )
        write_event(session, order_id, event, f"{amount} {currency} ({reference})", actor=actor)
        return PaymentRecord(kind=kind, amount=amount, currency=currency, reference=reference)

    return run_once(db, key, PaymentRecord, effect)


def issue_invoice(db: Database, order_id: str) -> InvoiceRecord:
    """Issue the order's invoice with the next number of the year; due per the terms."""

    def effect(session: Session) -> InvoiceRecord:
        order = load_order(session, order_id)
        customer = session.get(Customer, order.customer_id)
        net_days = customer.net_days if customer and order.payment_terms == "net" else 0
        now = utcnow()
        invoice = Invoice(
            **next_voucher(session, INVOICE_SERIES, now),
            order_id=order.id,
            customer_id=order.customer_id,
            amount=order.total,
            currency=order.currency,
            status=InvoiceStatus.OPEN.value,
            issued_at=now,
            due_date=(now + timedelta(days=net_days)).date(),
        )
        session.add(invoice)
        write_event(
            session,
            order.id,
            EventKind.INVOICE_ISSUED,
            Wording(
                message=N_("%(invoice)s for %(amount)s %(currency)s, due %(due)s"),
                args={
                    "invoice": invoice.number,
                    "amount": invoice.amount,
                    "currency": invoice.currency,
                },
                days={"due": invoice.due_date},
            ),
            status=OrderStatus.INVOICED,
        )
        return InvoiceRecord(
            number=invoice.number,
            amount=invoice.amount,
            currency=invoice.currency,
            due_date=invoice.due_date,
            status=InvoiceStatus.OPEN,
        )

    return run_once(db, step_key(order_id, ISSUE_INVOICE), InvoiceRecord, effect)


def record_incoming_payment(db: Database, booking: PaymentBooking) -> PaymentBalance:
    """Book money received from a net-terms customer; the bank's id makes it once only."""
    order_id = booking.order_id
    with db.reading() as session:
        order = load_order(session, order_id)
    book_payment(
        db,
        order_id,
        f"{RECORD_PAYMENT}:{booking.payment.payment_id}",
        PaymentKind.INCOMING,
        booking.payment.amount,
        order.currency,
        booking.payment.payment_id,
        EventKind.PAYMENT_RECEIVED,
        actor=booking.payment.actor or "system",
    )
    with db.reading() as session:
        paid = amount_paid(session, order_id)
    return PaymentBalance(paid=paid, outstanding=max(order.total - paid, Decimal(0)))


def issue_receipt(db: Database, order_id: str) -> ReceiptRecord:
    """Issue the receipt for the fully paid invoice and mark it paid."""

    def effect(session: Session) -> ReceiptRecord:
        invoice = session.scalar(select(Invoice).where(Invoice.order_id == order_id))
        if invoice is None:
            raise ApplicationError(
                f"order {order_id!r} has no invoice to receipt", non_retryable=True
            )
        paid = amount_paid(session, order_id)
        if paid < invoice.amount:
            raise ApplicationError(
                f"invoice {invoice.number}: paid {paid} of {invoice.amount}",
                type=NOT_FULLY_PAID,
                non_retryable=True,
            )
        now = utcnow()
        receipt = Receipt(
            **next_voucher(session, RECEIPT_SERIES, now),
            order_id=order_id,
            invoice_id=invoice.id,
            amount=paid,
            issued_at=now,
        )
        session.add(receipt)
        invoice.status = InvoiceStatus.PAID.value
        write_event(
            session,
            order_id,
            EventKind.RECEIPT_ISSUED,
            Wording(
                message=N_("%(receipt)s for invoice %(invoice)s"),
                args={"receipt": receipt.number, "invoice": invoice.number},
            ),
            status=OrderStatus.PAID,
        )
        return ReceiptRecord(number=receipt.number, invoice_number=invoice.number, amount=paid)

    return run_once(db, step_key(order_id, ISSUE_RECEIPT), ReceiptRecord, effect)


def void_invoice(db: Database, order_id: str, reason: str) -> Undone:
    """Void the order's invoice with a credit note of the next number (compensation)."""

    def effect(session: Session) -> Undone:
        invoice = session.scalar(select(Invoice).where(Invoice.order_id == order_id))
        if invoice is None:
            return Undone(wording=Wording(message=N_("no invoice was issued")))
        if invoice.status == InvoiceStatus.VOIDED.value:
            return Undone(
                wording=Wording(
                    message=N_("invoice %(invoice)s is void already"),
                    args={"invoice": invoice.number},
                )
            )
        now = utcnow()
        note = CreditNote(
            **next_voucher(session, CREDIT_NOTE_SERIES, now),
            invoice_id=invoice.id,
            order_id=order_id,
            amount=invoice.amount,
            reason=reason,
            issued_at=now,
        )
        session.add(note)
        invoice.status = InvoiceStatus.VOIDED.value
        detail = Wording(
            message=N_("invoice %(invoice)s voided by credit note %(note)s"),
            args={"invoice": invoice.number, "note": note.number},
        )
        write_event(session, order_id, EventKind.INVOICE_VOIDED, detail)
        return Undone(wording=detail)

    return run_once(db, step_key(order_id, VOID_INVOICE), Undone, effect)
