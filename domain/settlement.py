"""The settlement area: payments, invoices and receipts."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field, field_validator

from domain.escalation import EscalationLadder, EscalationRung
from domain.messages import InboundMessage
from domain.money import Amount, typed_amount
from domain.notifications import Audience
from domain.wording import N_

AUTHORISE_PAYMENT = "authorise_payment"
"""Activity: authorise the full order total on the customer's card or wallet."""
VOID_AUTHORISATION = "void_authorisation"
"""Activity (compensation): release an authorisation that will not be captured."""
CAPTURE_PAYMENT = "capture_payment"
"""Activity: capture the authorised amount."""
ISSUE_INVOICE = "issue_invoice"
"""Activity: issue the order's invoice with the next gap-free number."""
RECORD_PAYMENT = "record_payment"
"""Activity: book an incoming payment against the order's invoice."""
ISSUE_RECEIPT = "issue_receipt"
"""Activity: issue the receipt for a fully paid invoice."""
REFUND_PAYMENT = "refund_payment"
"""Activity (compensation): give back what was captured, through the payment provider."""
VOID_INVOICE = "void_invoice"
"""Activity (compensation): void the invoice by issuing a credit note for it."""

PAYMENT_DECLINED = "PaymentDeclined"
"""ApplicationError type: the payment provider refused the authorisation."""

INVOICE_SERIES = "INV"
RECEIPT_SERIES = "RCT"
CREDIT_NOTE_SERIES = "CN"


class PaymentKind(StrEnum):
    """What a payments row records."""

    AUTHORISATION = "authorisation"
    CAPTURE = "capture"
    VOID = "void"
    REFUND = "refund"
    INCOMING = "incoming"
    """Money received from a net-terms customer (bank transfer)."""


class PaymentRecord(BaseModel):
    """Result of the payment activities."""

    kind: PaymentKind
    amount: Amount
    currency: str
    reference: str
    """The provider's reference (authorisation, capture or bank transaction id)."""


class InvoiceStatus(StrEnum):
    """Life of an invoice."""

    OPEN = "open"
    PAID = "paid"
    VOIDED = "voided"


class InvoiceRecord(BaseModel):
    """Result of :data:`ISSUE_INVOICE`."""

    number: str
    amount: Amount
    currency: str
    due_date: date
    status: InvoiceStatus


class CreditNoteRecord(BaseModel):
    """What :data:`VOID_INVOICE` issued."""

    number: str
    invoice_number: str
    amount: Amount


class ReceiptRecord(BaseModel):
    """Result of :data:`ISSUE_RECEIPT`."""

    number: str
    invoice_number: str
    amount: Amount


class IncomingPayment(InboundMessage):
    """Input of signal ``payment_received``: money arrived for a net-terms order."""

    payment_id: Annotated[str, Field(min_length=1, max_length=64)]
    """The bank's transaction id; the same id twice is one payment."""
    amount: Annotated[Amount, Field(gt=0)]
    received_at: datetime | None = None
    actor: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    """Who booked it by hand (the console's user, ``oms pay --as``); None when a system
    (the bank's feed) reported it."""

    _typed_amount = field_validator("amount", mode="before")(typed_amount)


def more_than_owed(amount: Decimal, total: Decimal, taken: Decimal, currency: str) -> str | None:
    """Why a payment of ``amount`` cannot be booked by hand, or None: it is more than the
    order's open balance (its ``total`` less the payments ``taken`` for it so far).

    A person booking money types it; a slip (``1e9`` for ``1``, a wrong order) would
    mark the invoice paid and leave money on the books that nobody billed. The bank's
    feed is not refused: money that arrived is recorded whatever its amount.
    """
    open_balance = max(total - taken, Decimal(0))
    if amount <= open_balance:
        return None
    return f"amount {amount} {currency} is more than the open balance of {open_balance} {currency}"


class PaymentBooking(BaseModel):
    """Input of :data:`RECORD_PAYMENT`."""

    order_id: str
    payment: IncomingPayment


class PaymentBalance(BaseModel):
    """Result of :data:`RECORD_PAYMENT`: how much of the invoice is paid."""

    paid: Amount
    outstanding: Amount


def voucher_number(series: str, year: int, sequence: int) -> str:
    """Printed number of a voucher, e.g. ``INV-2026-000042``."""
    return f"{series}-{year}-{sequence:06d}"


DUNNING_LADDER = EscalationLadder(
    name=N_("dunning"),
    rungs=(
        EscalationRung(
            name=N_("send the payment reminder"), after=timedelta(0), notify=Audience.CUSTOMER
        ),
        EscalationRung(
            name=N_("escalate to finance"), after=timedelta(days=14), notify=Audience.FINANCE
        ),
        EscalationRung(
            name=N_("hand over to collections"),
            after=timedelta(days=30),
            notify=Audience.COLLECTIONS,
            asks_for_decision=True,
        ),
    ),
)
"""Net-terms invoices, counted from the due date; the order keeps waiting for the money."""


def dunning_subject(invoice: InvoiceRecord, order_id: str) -> str:
    """The title of the dunning ladder's messages about ``invoice``."""
    return f"Invoice {invoice.number} of order {order_id}"


def dunning_message(invoice: InvoiceRecord, received: Decimal, rung: EscalationRung) -> str:
    """What a rung of the dunning ladder tells: the invoice, its due date, the money in."""
    return (
        f"invoice {invoice.number} over {invoice.amount} {invoice.currency} was due "
        f"{invoice.due_date}; {received} received. {rung.name}"
    )
