"""The order area: workflow names, statuses, the submission and the order view.

Everything a client needs to start, signal or query an order workflow lives
here, so that starters and tools never import workflow code.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from domain.money import Amount, CurrencyCode

TASK_QUEUE = "orders"
"""Task queue of the order workflow and its activities."""

WORKFLOW_TYPE = "OrderWorkflow"
"""Registered name of the order workflow."""

SUBMIT_ORDER_SIGNAL = "submit_order"
"""Signal that carries an :class:`OrderSubmission`; also the start signal."""

PAYMENT_RECEIVED_SIGNAL = "payment_received"
"""Signal that carries a :class:`domain.settlement.IncomingPayment` for net-terms orders."""

STATUS_QUERY = "status"
"""Query that returns the order's :class:`OrderView`."""

ORDER_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


def order_workflow_id(order_id: str) -> str:
    """Workflow id of the order ``order_id``: one workflow per order, ever."""
    return f"order-{order_id}"


class Channel(StrEnum):
    """Where an order came from."""

    WEB = "web"
    EDI = "edi"
    PHONE = "phone"
    FAX = "fax"


class OrderStatus(StrEnum):
    """Status of an order in the read model and the workflow view."""

    RECEIVED = "RECEIVED"
    CONFIRMED = "CONFIRMED"
    REJECTED = "REJECTED"
    AWAITING_APPROVAL = "AWAITING_APPROVAL"
    APPROVED = "APPROVED"
    ALLOCATED = "ALLOCATED"
    SHIPMENT_BOOKED = "SHIPMENT_BOOKED"
    DELIVERED = "DELIVERED"
    INVOICED = "INVOICED"
    PAID = "PAID"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"
    FAILED = "FAILED"

    @property
    def is_final(self) -> bool:
        """True when the order's workflow has finished with this status."""
        return self in FINAL_STATUSES


FINAL_STATUSES = frozenset(
    {OrderStatus.COMPLETED, OrderStatus.REJECTED, OrderStatus.CANCELLED, OrderStatus.FAILED}
)


Text = Annotated[str, Field(max_length=200)]
"""Free text from a submission: bounded so hostile input cannot bloat a history."""


class ShippingAddress(BaseModel):
    """Where the goods go. Completeness is a business rule, checked at validation."""

    model_config = ConfigDict(frozen=True, str_strip_whitespace=True)

    name: Text = ""
    street: Text = ""
    postal_code: Annotated[str, Field(max_length=20)] = ""
    city: Text = ""
    country: Annotated[str, Field(max_length=2)] = ""
    """ISO 3166-1 alpha-2 country code, e.g. ``DE``."""


class SubmittedLine(BaseModel):
    """One line as the channel sent it; quantities and prices are checked at validation."""

    model_config = ConfigDict(frozen=True, str_strip_whitespace=True)

    sku: Annotated[str, Field(min_length=1, max_length=64)]
    quantity: Annotated[int, Field(ge=-100_000, le=100_000)]
    """Units ordered; must be at least 1 (checked at validation, so it is recorded)."""
    unit_price: Annotated[Amount, Field(ge=0, le=1_000_000)]
    """Price per unit the channel quoted; must match the price list."""


class OrderSubmission(BaseModel):
    """An order as a channel submits it: the input of signal ``submit_order``."""

    model_config = ConfigDict(frozen=True, str_strip_whitespace=True)

    order_id: Annotated[str, Field(pattern=ORDER_ID_PATTERN)]
    """The channel's order number; letters, digits, ``.``, ``_``, ``-``; at most 64."""
    channel: Channel
    customer_id: Annotated[str, Field(min_length=1, max_length=64)]
    currency: CurrencyCode = "EUR"
    lines: Annotated[list[SubmittedLine], Field(min_length=1, max_length=200)]
    shipping_address: ShippingAddress
    customer_reference: Annotated[str, Field(max_length=64)] | None = None
    """The customer's own purchase-order number, if any."""
    payment_token: Annotated[str, Field(max_length=128)] | None = None
    """Token of the card or wallet for prepaid orders, as issued by the payment provider."""


class EventKind(StrEnum):
    """Kinds of audit events, the same in the read model and the workflow view."""

    RECEIVED = "received"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    DUPLICATE_SUBMISSION = "duplicate_submission"
    CREDIT_APPROVED = "credit_approved"
    CREDIT_HOLD = "credit_hold"
    APPROVED_BY_STAFF = "approved_by_staff"
    REJECTED_BY_STAFF = "rejected_by_staff"
    SIGNAL_IGNORED = "signal_ignored"
    PAYMENT_AUTHORISED = "payment_authorised"
    STOCK_RESERVED = "stock_reserved"
    SHIPMENT_BOOKED = "shipment_booked"
    SHIPMENT_PICKED_UP = "shipment_picked_up"
    SHIPMENT_IN_TRANSIT = "shipment_in_transit"
    SHIPMENT_EXCEPTION = "shipment_exception"
    SHIPMENT_DELIVERED = "shipment_delivered"
    DELIVERED = "delivered"
    PAYMENT_CAPTURED = "payment_captured"
    INVOICE_ISSUED = "invoice_issued"
    PAYMENT_RECEIVED = "payment_received"
    RECEIPT_ISSUED = "receipt_issued"
    ARCHIVED = "archived"
    RESERVATIONS_RELEASED = "reservations_released"
    AUTHORISATION_VOIDED = "authorisation_voided"
    FAILED = "failed"


class OrderEvent(BaseModel):
    """One entry of an order's audit history."""

    at: datetime
    kind: str
    detail: str = ""
    actor: str = "system"


class LineView(BaseModel):
    """An order line with its price."""

    line_no: int
    sku: str
    quantity: int
    unit_price: Amount
    line_total: Amount


class ReservationView(BaseModel):
    """Stock held for one line in one warehouse."""

    line_no: int
    sku: str
    warehouse_id: str
    quantity: int
    status: str


class ShipmentView(BaseModel):
    """One parcel from one warehouse and where it is."""

    shipment_id: str
    warehouse_id: str
    carrier: str
    tracking_number: str
    status: str


class MoneyView(BaseModel):
    """What the order is worth and what has happened to the money."""

    currency: str
    total: Amount
    payment_terms: str = ""
    authorised: Amount = Decimal(0)
    captured: Amount = Decimal(0)
    received: Amount = Decimal(0)
    invoice_number: str | None = None
    receipt_number: str | None = None


class OrderView(BaseModel):
    """The full view of an order: returned by query ``status`` and by ``oms status``."""

    order_id: str
    workflow_id: str
    channel: str
    customer_id: str
    status: OrderStatus
    rejection_reasons: list[str] = []
    lines: list[LineView] = []
    reservations: list[ReservationView] = []
    shipments: list[ShipmentView] = []
    money: MoneyView
    history: list[OrderEvent] = []


class OrderResult(BaseModel):
    """What the order workflow returns when it ends."""

    order_id: str
    status: OrderStatus
    reasons: list[str] = []
    invoice_number: str | None = None
    receipt_number: str | None = None


def order_id_from_workflow_id(workflow_id: str) -> str:
    """The order id inside an order workflow id (inverse of :func:`order_workflow_id`)."""
    return workflow_id.removeprefix("order-")
