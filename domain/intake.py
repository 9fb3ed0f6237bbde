"""Receive & confirm: activity names and their inputs and results."""

from __future__ import annotations

from pydantic import BaseModel, model_validator

from domain.catalogue import PaymentTerms
from domain.money import Amount
from domain.orders import EventKind, OrderStatus
from domain.wording import Wording

RECEIVE_ORDER = "receive_order"
"""Activity: record the submitted order and validate it, in one transaction."""

RECORD_REFUSED_SUBMISSION = "record_refused_submission"
"""Activity: record an order whose document could not be taken, REJECTED with every reason."""

SUBMITTED_UNENCRYPTED = (
    "submit_order: the order document reached Temporal unencrypted, so its personal data and "
    "payment token are in the workflow history in clear; encrypt payloads with the codec "
    "(POST /encode on the codec server, or the key ring's AES-GCM format: README, "
    "'For integrators') and submit the order again under a new order id"
)
"""The rejection reason of an order submitted without the codec (plaintext refused)."""

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
    earlier_status: OrderStatus | None = None
    """Set when an earlier run of the order's workflow took the order already (a client
    whose id reuse policy allowed a new run): the order's status; this run does nothing."""


class RefusedSubmission(BaseModel):
    """Input of :data:`RECORD_REFUSED_SUBMISSION`: the order id and every reason."""

    order_id: str
    problems: list[str]


class StatusChange(BaseModel):
    """Input of :data:`RECORD_ORDER_STATUS`: an audit event, optionally a new status."""

    order_id: str
    event: EventKind
    detail: str = ""
    wording: Wording | None = None
    """``detail`` as a catalogue message (``detail`` is its English sentence)."""
    actor: str = "system"
    status: OrderStatus | None = None
    step: str | None = None
    """Idempotency step name; when set, the change is written at most once."""
    rejection_reasons: list[str] = []
    escalation_level: int | None = None
    """The order's new escalation level, when it changed."""
    needs_attention: str | None = None
    """Why a person must act now; ``""`` clears it; ``None`` leaves it as it is."""
    needs_attention_wording: Wording | None = None
    """``needs_attention`` as a wording (written with it; cleared when it is cleared)."""

    @model_validator(mode="after")
    def _texts_in_english(self) -> StatusChange:
        """Given only wordings, ``detail`` and ``needs_attention`` are their English text."""
        if self.wording is not None and not self.detail:
            self.detail = self.wording.english()
        if self.needs_attention_wording is not None and not self.needs_attention:
            self.needs_attention = self.needs_attention_wording.english()
        return self
