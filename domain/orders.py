"""The order area: workflow names, statuses, the submission and the order view.

Everything a client needs to start, signal or query an order workflow lives
here, so that starters and tools never import workflow code.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator

from domain.escalation import LadderPosition
from domain.messages import InboundMessage, StrictInboundMessage
from domain.money import Amount, CurrencyCode, Price
from domain.wording import N_, Wording

TASK_QUEUE = "orders"
"""Task queue of the order workflow and its activities."""

WORKFLOW_TYPE = "OrderWorkflow"
"""Registered name of the order workflow."""

SUBMIT_ORDER_SIGNAL = "submit_order"
"""Signal that carries an :class:`OrderSubmission`; also the start signal."""

PAYMENT_RECEIVED_SIGNAL = "payment_received"
"""Signal that carries a :class:`domain.settlement.IncomingPayment` for net-terms orders."""

CANCEL_SIGNAL = "cancel"
"""Signal: support staff cancel the order (carries a :class:`StaffDecision`)."""

RETRY_COMPENSATION_SIGNAL = "retry_compensation"
"""Signal: try again an undo step that kept failing (carries a :class:`StaffDecision`)."""

STATUS_QUERY = "status"
"""Query that returns the order's :class:`OrderView`."""

UPDATE_SUFFIX = "_now"
"""Every staff signal has an update of the same name plus this suffix (``approve_now``).

The update does what the signal does, and a tool gets a synchronous answer:
accepted, or refused with the reason (an ``ApplicationError`` of type
``MessageRefused``); the order's audit log records refusals too.
"""

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


CHANNEL_WORDS: dict[str, str] = {
    Channel.WEB: N_("web shop"),
    Channel.EDI: N_("EDI"),
    Channel.PHONE: N_("phone"),
    Channel.FAX: N_("fax"),
}
"""Where an order came in, as people say it: a wording's term (the catalogue translates it)."""


class OrderStatus(StrEnum):
    """Status of an order in the read model and the workflow view."""

    RECEIVED = "RECEIVED"
    CONFIRMED = "CONFIRMED"
    REJECTED = "REJECTED"
    AWAITING_APPROVAL = "AWAITING_APPROVAL"
    APPROVED = "APPROVED"
    AWAITING_SUPPLY = "AWAITING_SUPPLY"
    """Part of the order waits for a production or purchase order."""
    ALLOCATED = "ALLOCATED"
    SHIPMENT_BOOKED = "SHIPMENT_BOOKED"
    DELIVERED = "DELIVERED"
    INVOICED = "INVOICED"
    PAID = "PAID"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"
    FAILED = "FAILED"
    NEEDS_ATTENTION = "NEEDS_ATTENTION"
    """An undo step kept failing: a person must fix the cause and send ``retry_compensation``."""

    @property
    def is_final(self) -> bool:
        """True when the order's workflow has finished with this status."""
        return self in FINAL_STATUSES


FINAL_STATUSES = frozenset(
    {OrderStatus.COMPLETED, OrderStatus.REJECTED, OrderStatus.CANCELLED, OrderStatus.FAILED}
)


Text = Annotated[str, Field(max_length=200)]
"""Free text from a submission: bounded so hostile input cannot bloat a history."""


class ShippingAddress(StrictInboundMessage):
    """Where the goods go. Completeness is a business rule, checked at validation."""

    model_config = ConfigDict(frozen=True, str_strip_whitespace=True)

    name: Text = ""
    street: Text = ""
    postal_code: Annotated[str, Field(max_length=20)] = ""
    city: Text = ""
    country: Annotated[str, Field(max_length=2)] = ""
    """ISO 3166-1 alpha-2 country code, e.g. ``DE``."""


class SubmittedLine(StrictInboundMessage):
    """One line as the channel sent it; quantities and prices are checked at validation."""

    model_config = ConfigDict(frozen=True, str_strip_whitespace=True)

    sku: Annotated[str, Field(min_length=1, max_length=64)]
    quantity: Annotated[StrictInt, Field(ge=-100_000, le=100_000)]
    """Units ordered; must be at least 1 (checked at validation, so it is recorded).
    A JSON number: ``true`` or ``"5"`` is refused, not read as a quantity."""
    unit_price: Price
    """Price per unit the channel quoted; must match the price list."""


class OrderSubmission(StrictInboundMessage):
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
    ESCALATED = "escalated"
    DEADLINE_EXTENDED = "deadline_extended"
    AUTO_REJECTED = "auto_rejected"
    SUPPLY_ORDERED = "supply_ordered"
    SUPPLY_RECEIVED = "supply_received"
    SUPPLY_CANCELLED = "supply_cancelled"
    SHIPMENT_PLANNED = "shipment_planned"
    SHIPMENT_CANCELLED = "shipment_cancelled"
    SHIPMENT_RESHIPPED = "shipment_reshipped"
    SHIPMENT_LOST = "shipment_lost"
    PAYMENT_REFUNDED = "payment_refunded"
    COMPLAINT_RECEIVED = "complaint_received"
    """The customer complained about the order (the case is a ComplaintWorkflow)."""
    INVOICE_VOIDED = "invoice_voided"
    CANCELLATION_REQUESTED = "cancellation_requested"
    CANCELLATION_REFUSED = "cancellation_refused"
    CANCELLED = "cancelled"
    NEEDS_ATTENTION = "needs_attention"
    COMPENSATION_RETRIED = "compensation_retried"
    PAYMENT_AUTHORISED = "payment_authorised"
    STOCK_RESERVED = "stock_reserved"
    PARCEL_PACKED = "parcel_packed"
    """The warehouse confirmed the parcel picked and packed (where it must, before booking)."""
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


class StaffDecision(InboundMessage):
    """Who asked for something about an order (approve, reject, cancel, retry), and why."""

    actor: Annotated[str, Field(min_length=1, max_length=64)]
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class OrderEvent(BaseModel):
    """One entry of an order's audit history."""

    at: datetime
    kind: str
    detail: str = ""
    """The event's text in English (the CLI, the API, older rows): ``wording.english()``."""
    wording: Wording | None = None
    """The same text as a catalogue message, read in each reader's language; ``None`` on
    events recorded before wordings (and on erased ones): show ``detail`` then."""
    actor: str = "system"

    @model_validator(mode="after")
    def _detail_in_english(self) -> OrderEvent:
        """Given only a wording, ``detail`` is its English sentence."""
        if self.wording is not None and not self.detail:
            self.detail = self.wording.english()
        return self


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
    carrier: str = ""
    tracking_number: str = ""
    status: str
    promised_by: datetime | None = None
    escalation_level: int = 0
    needs_attention: str | None = None
    needs_attention_wording: Wording | None = None
    """``needs_attention`` as a wording, for the console."""


class SupplyView(BaseModel):
    """A production or purchase order for one line's shortage."""

    line_no: int
    sku: str
    kind: str
    """``production`` (made at the factory) or ``purchase`` (bought from a supplier)."""
    quantity: int
    received: int = 0
    status: str
    expected_at: datetime | None = None
    escalation_level: int = 0
    needs_attention: str | None = None
    needs_attention_wording: Wording | None = None
    """``needs_attention`` as a wording, for the console."""


class MoneyView(BaseModel):
    """What the order is worth and what has happened to the money."""

    currency: str
    total: Amount
    payment_terms: str = ""
    authorised: Amount = Decimal(0)
    voided: Amount = Decimal(0)
    """Of ``authorised``, what was released again (the order was cancelled or rejected)."""
    captured: Amount = Decimal(0)
    received: Amount = Decimal(0)
    refunded: Amount = Decimal(0)
    invoice_number: str | None = None
    due_date: date | None = None
    credit_note_number: str | None = None
    receipt_number: str | None = None


class WaitView(BaseModel):
    """What the order is waiting for, since when, and the next escalation."""

    waiting_for: str = ""
    waiting_for_wording: Wording | None = None
    """``waiting_for`` as a wording, for the console."""
    since: datetime
    ladder: LadderPosition | None = None

    @model_validator(mode="after")
    def _waiting_for_in_english(self) -> WaitView:
        """Given only a wording, ``waiting_for`` is its English sentence."""
        if self.waiting_for_wording is not None and not self.waiting_for:
            self.waiting_for = self.waiting_for_wording.english()
        return self


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
    supply: list[SupplyView] = []
    shipments: list[ShipmentView] = []
    money: MoneyView
    waiting: WaitView | None = None
    escalation_level: int = 0
    """Highest rung reached on any of the order's waits (its children's included)."""
    needs_attention: str | None = None
    """Why a person must act now; ``None`` when nobody needs to."""
    needs_attention_wording: Wording | None = None
    """``needs_attention`` as a wording, for the console."""
    history: list[OrderEvent] = []
    allocation_reason: str | None = None
    """Why the stock was taken from where it was (the read model's view only)."""
    allocation_wording: Wording | None = None
    """``allocation_reason`` as a wording, for the console."""


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
