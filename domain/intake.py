"""Receive & confirm: activity names and their inputs and results."""

from __future__ import annotations

from pydantic import BaseModel

from domain.catalogue import PaymentTerms
from domain.money import Amount
from domain.orders import EventKind, OrderStatus

RECEIVE_ORDER = "receive_order"
"""Activity: record the submitted order and validate it, in one transaction."""

RECORD_ORDER_STATUS = "record_order_status"
"""Local activity: write a status and/or an audit event to the read model."""


class OrderRef(BaseModel):
    """Names one order: the input of activities that need nothing more."""

    order_id: str


class ReceiveOutcome(BaseModel):
    """Result of :data:`RECEIVE_ORDER`."""

    accepted: bool
    problems: list[str] = []
    total: Amount
    payment_terms: PaymentTerms | None = None
    """The customer's terms; ``None`` when the customer is unknown."""


class StatusChange(BaseModel):
    """Input of :data:`RECORD_ORDER_STATUS`: an audit event, optionally a new status."""

    order_id: str
    event: EventKind
    detail: str = ""
    actor: str = "system"
    status: OrderStatus | None = None
    step: str | None = None
    """Idempotency step name; when set, the change is written at most once."""
    rejection_reasons: list[str] = []
    escalation_level: int | None = None
    """The order's new escalation level, when it changed."""
    needs_attention: str | None = None
    """Why a person must act now; ``""`` clears it; ``None`` leaves it as it is."""
