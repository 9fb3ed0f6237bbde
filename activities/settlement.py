"""Payments, invoices and receipts, with gap-free voucher numbers."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import structlog
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from domain.compensation import Undone, UndoRequest
from domain.intake import OrderRef
from domain.orders import EventKind, OrderStatus
from domain.redaction import redact
from domain.settlement import (
    AUTHORISE_PAYMENT,
    CAPTURE_PAYMENT,
    CREDIT_NOTE_SERIES,
    INVOICE_SERIES,
    ISSUE_INVOICE,
    ISSUE_RECEIPT,
    PAYMENT_DECLINED,
    RECEIPT_SERIES,
    RECORD_PAYMENT,
    REFUND_PAYMENT,
    VOID_AUTHORISATION,
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
from integrations.ports import PaymentDeclinedError, PaymentGateway
from persistence.database import SessionFactory
from persistence.idempotency import run_once, step_key, stored_result
from persistence.models import CreditNote, Customer, Invoice, Payment, Receipt, VoucherSequence

from ._read_model import load_order, utcnow, write_event

log = structlog.get_logger(__name__)

NOTHING_TO_CAPTURE = "NothingToCapture"
"""ApplicationError type: capture was asked for an order with no authorisation."""
NOT_FULLY_PAID = "NotFullyPaid"
"""ApplicationError type: a receipt was asked for an invoice with money outstanding."""

MONEY_IN = (PaymentKind.CAPTURE.value, PaymentKind.INCOMING.value)


async def next_voucher_sequence(session: AsyncSession, series: str, year: int) -> int:
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
    return int((await session.execute(statement)).scalar_one())


async def amount_paid(session: AsyncSession, order_id: str) -> Decimal:
    """Money received for the order: captures and incoming payments, less refunds."""
    received = await session.scalar(
        select(func.coalesce(func.sum(Payment.amount), 0)).where(
            Payment.order_id == order_id, Payment.kind.in_(MONEY_IN)
        )
    )
    refunded = await session.scalar(
        select(func.coalesce(func.sum(Payment.amount), 0)).where(
            Payment.order_id == order_id, Payment.kind == PaymentKind.REFUND.value
        )
    )
    return Decimal(received or 0) - Decimal(refunded or 0)


async def find_payment(session: AsyncSession, order_id: str, kind: PaymentKind) -> Payment | None:
    """The order's payment row of ``kind`` (the first, if several)."""
    return await session.scalar(
        select(Payment).where(Payment.order_id == order_id, Payment.kind == kind.value).limit(1)
    )


class SettlementActivities:
    """Authorise, capture and void payments; issue invoices and receipts."""

    def __init__(self, sessions: SessionFactory, gateway: PaymentGateway) -> None:
        self._sessions = sessions
        self._gateway = gateway

    async def _record_payment(
        self,
        order_id: str,
        step: str,
        kind: PaymentKind,
        amount: Decimal,
        currency: str,
        reference: str,
        event: EventKind,
        status: OrderStatus | None = None,
    ) -> PaymentRecord:
        key = step_key(order_id, step)

        async def effect(session: AsyncSession) -> PaymentRecord:
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
            await write_event(
                session, order_id, event, f"{amount} {currency} ({reference})", status=status
            )
            return PaymentRecord(kind=kind, amount=amount, currency=currency, reference=reference)

        return await run_once(self._sessions, key, PaymentRecord, effect)

    @activity.defn(name=AUTHORISE_PAYMENT)
    async def authorise_payment(self, ref: OrderRef) -> PaymentRecord:
        """Authorise the order total with the payment provider."""
        structlog.contextvars.bind_contextvars(order_id=ref.order_id)
        key = step_key(ref.order_id, AUTHORISE_PAYMENT)
        done = await stored_result(self._sessions, key, PaymentRecord)
        if done is not None:
            return done
        async with self._sessions() as session:
            order = await load_order(session, ref.order_id)
        try:
            authorisation = await self._gateway.authorise(
                idempotency_key=key,
                payment_token=order.payment_token,
                amount=order.total,
                currency=order.currency,
            )
        except PaymentDeclinedError as declined:
            # The provider's text can echo the token: it is cut out before the reason
            # reaches the order's record, its audit log, the history or a log line.
            reason = redact(str(declined), order.payment_token)
            raise ApplicationError(
                f"payment declined: {reason}",
                type=PAYMENT_DECLINED,
                non_retryable=True,
                category=ApplicationErrorCategory.BENIGN,
            ) from None
        return await self._record_payment(
            order.id,
            AUTHORISE_PAYMENT,
            PaymentKind.AUTHORISATION,
            order.total,
            order.currency,
            authorisation,
            EventKind.PAYMENT_AUTHORISED,
        )

    @activity.defn(name=VOID_AUTHORISATION)
    async def void_authorisation(self, ref: UndoRequest) -> Undone:
        """Release the order's authorisation if it was never captured (compensation)."""
        structlog.contextvars.bind_contextvars(order_id=ref.order_id)
        key = step_key(ref.order_id, VOID_AUTHORISATION)
        async with self._sessions() as session:
            authorisation = await find_payment(session, ref.order_id, PaymentKind.AUTHORISATION)
            captured = await find_payment(session, ref.order_id, PaymentKind.CAPTURE)
            voided = await find_payment(session, ref.order_id, PaymentKind.VOID)
        if voided is not None:
            return Undone(detail=f"authorisation voided ({voided.reference})")
        if authorisation is None or captured is not None:
            return Undone(detail="no uncaptured authorisation to void")
        void = await self._gateway.void(idempotency_key=key, authorisation=authorisation.reference)
        await self._record_payment(
            ref.order_id,
            VOID_AUTHORISATION,
            PaymentKind.VOID,
            authorisation.amount,
            authorisation.currency,
            void,
            EventKind.AUTHORISATION_VOIDED,
        )
        return Undone(detail=f"authorisation voided ({void})")

    @activity.defn(name=CAPTURE_PAYMENT)
    async def capture_payment(self, ref: OrderRef) -> PaymentRecord:
        """Capture the authorised amount."""
        structlog.contextvars.bind_contextvars(order_id=ref.order_id)
        key = step_key(ref.order_id, CAPTURE_PAYMENT)
        done = await stored_result(self._sessions, key, PaymentRecord)
        if done is not None:
            return done
        async with self._sessions() as session:
            authorisation = await find_payment(session, ref.order_id, PaymentKind.AUTHORISATION)
        if authorisation is None:
            raise ApplicationError(
                f"order {ref.order_id!r} has no payment authorisation to capture",
                type=NOTHING_TO_CAPTURE,
                non_retryable=True,
            )
        capture = await self._gateway.capture(
            idempotency_key=key,
            authorisation=authorisation.reference,
            amount=authorisation.amount,
            currency=authorisation.currency,
        )
        return await self._record_payment(
            ref.order_id,
            CAPTURE_PAYMENT,
            PaymentKind.CAPTURE,
            authorisation.amount,
            authorisation.currency,
            capture,
            EventKind.PAYMENT_CAPTURED,
        )

    @activity.defn(name=ISSUE_INVOICE)
    async def issue_invoice(self, ref: OrderRef) -> InvoiceRecord:
        """Issue the order's invoice with the next number of the year; due per the terms."""
        structlog.contextvars.bind_contextvars(order_id=ref.order_id)

        async def effect(session: AsyncSession) -> InvoiceRecord:
            order = await load_order(session, ref.order_id)
            customer = await session.get(Customer, order.customer_id)
            net_days = customer.net_days if customer and order.payment_terms == "net" else 0
            now = utcnow()
            sequence = await next_voucher_sequence(session, INVOICE_SERIES, now.year)
            invoice = Invoice(
                number=voucher_number(INVOICE_SERIES, now.year, sequence),
                series=INVOICE_SERIES,
                year=now.year,
                sequence=sequence,
                order_id=order.id,
                customer_id=order.customer_id,
                amount=order.total,
                currency=order.currency,
                status=InvoiceStatus.OPEN.value,
                issued_at=now,
                due_date=(now + timedelta(days=net_days)).date(),
            )
            session.add(invoice)
            await write_event(
                session,
                order.id,
                EventKind.INVOICE_ISSUED,
                f"{invoice.number} for {invoice.amount} {invoice.currency}, due {invoice.due_date}",
                status=OrderStatus.INVOICED,
            )
            return InvoiceRecord(
                number=invoice.number,
                amount=invoice.amount,
                currency=invoice.currency,
                due_date=invoice.due_date,
                status=InvoiceStatus.OPEN,
            )

        return await run_once(
            self._sessions, step_key(ref.order_id, ISSUE_INVOICE), InvoiceRecord, effect
        )

    @activity.defn(name=RECORD_PAYMENT)
    async def record_payment(self, booking: PaymentBooking) -> PaymentBalance:
        """Book money received from a net-terms customer; the bank's id makes it once only."""
        order_id = booking.order_id
        structlog.contextvars.bind_contextvars(order_id=order_id)
        async with self._sessions() as session:
            order = await load_order(session, order_id)
        await self._record_payment(
            order_id,
            f"{RECORD_PAYMENT}:{booking.payment.payment_id}",
            PaymentKind.INCOMING,
            booking.payment.amount,
            order.currency,
            booking.payment.payment_id,
            EventKind.PAYMENT_RECEIVED,
        )
        async with self._sessions() as session:
            paid = await amount_paid(session, order_id)
        return PaymentBalance(paid=paid, outstanding=max(order.total - paid, Decimal(0)))

    @activity.defn(name=ISSUE_RECEIPT)
    async def issue_receipt(self, ref: OrderRef) -> ReceiptRecord:
        """Issue the receipt for the fully paid invoice and mark it paid."""
        structlog.contextvars.bind_contextvars(order_id=ref.order_id)

        async def effect(session: AsyncSession) -> ReceiptRecord:
            invoice = await session.scalar(select(Invoice).where(Invoice.order_id == ref.order_id))
            if invoice is None:
                raise ApplicationError(
                    f"order {ref.order_id!r} has no invoice to receipt", non_retryable=True
                )
            paid = await amount_paid(session, ref.order_id)
            if paid < invoice.amount:
                raise ApplicationError(
                    f"invoice {invoice.number}: paid {paid} of {invoice.amount}",
                    type=NOT_FULLY_PAID,
                    non_retryable=True,
                )
            now = utcnow()
            sequence = await next_voucher_sequence(session, RECEIPT_SERIES, now.year)
            receipt = Receipt(
                number=voucher_number(RECEIPT_SERIES, now.year, sequence),
                series=RECEIPT_SERIES,
                year=now.year,
                sequence=sequence,
                order_id=ref.order_id,
                invoice_id=invoice.id,
                amount=paid,
                issued_at=now,
            )
            session.add(receipt)
            invoice.status = InvoiceStatus.PAID.value
            await write_event(
                session,
                ref.order_id,
                EventKind.RECEIPT_ISSUED,
                f"{receipt.number} for invoice {invoice.number}",
                status=OrderStatus.PAID,
            )
            return ReceiptRecord(number=receipt.number, invoice_number=invoice.number, amount=paid)

        return await run_once(
            self._sessions, step_key(ref.order_id, ISSUE_RECEIPT), ReceiptRecord, effect
        )

    @activity.defn(name=REFUND_PAYMENT)
    async def refund_payment(self, request: UndoRequest) -> Undone:
        """Give back whatever was captured and not yet refunded (compensation)."""
        structlog.contextvars.bind_contextvars(order_id=request.order_id)
        async with self._sessions() as session:
            capture = await find_payment(session, request.order_id, PaymentKind.CAPTURE)
            refunded = await find_payment(session, request.order_id, PaymentKind.REFUND)
        if refunded is not None:
            return Undone(detail=f"refunded {refunded.amount} {refunded.currency} already")
        if capture is None:
            return Undone(detail="nothing was captured")
        key = step_key(request.order_id, REFUND_PAYMENT)
        refund = await self._gateway.refund(
            idempotency_key=key,
            capture=capture.reference,
            amount=capture.amount,
            currency=capture.currency,
        )
        record = await self._record_payment(
            request.order_id,
            REFUND_PAYMENT,
            PaymentKind.REFUND,
            capture.amount,
            capture.currency,
            refund,
            EventKind.PAYMENT_REFUNDED,
        )
        return Undone(detail=f"refunded {record.amount} {record.currency} ({refund})")

    @activity.defn(name=VOID_INVOICE)
    async def void_invoice(self, request: UndoRequest) -> Undone:
        """Void the order's invoice with a credit note of the next number (compensation)."""
        structlog.contextvars.bind_contextvars(order_id=request.order_id)

        async def effect(session: AsyncSession) -> Undone:
            invoice = await session.scalar(
                select(Invoice).where(Invoice.order_id == request.order_id)
            )
            if invoice is None:
                return Undone(detail="no invoice was issued")
            if invoice.status == InvoiceStatus.VOIDED.value:
                return Undone(detail=f"invoice {invoice.number} is void already")
            now = utcnow()
            sequence = await next_voucher_sequence(session, CREDIT_NOTE_SERIES, now.year)
            note = CreditNote(
                number=voucher_number(CREDIT_NOTE_SERIES, now.year, sequence),
                series=CREDIT_NOTE_SERIES,
                year=now.year,
                sequence=sequence,
                invoice_id=invoice.id,
                order_id=request.order_id,
                amount=invoice.amount,
                reason=request.reason,
                issued_at=now,
            )
            session.add(note)
            invoice.status = InvoiceStatus.VOIDED.value
            detail = f"invoice {invoice.number} voided by credit note {note.number}"
            await write_event(session, request.order_id, EventKind.INVOICE_VOIDED, detail)
            return Undone(detail=detail)

        return await run_once(
            self._sessions, step_key(request.order_id, VOID_INVOICE), Undone, effect
        )
