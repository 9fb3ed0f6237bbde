"""The supply area: production and purchase orders for what stock cannot cover.

One ``SupplyWorkflow`` per short order line orders the shortage from the
factory (make) or a supplier (buy), takes receipts as they arrive (partial
receipts allowed), puts the arrived units into stock and reserves them for the
order, and climbs a delay ladder when the partner is late.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field, StrictInt

from domain.escalation import EscalationLadder, EscalationRung
from domain.messages import InboundMessage
from domain.notifications import Audience
from domain.wording import N_

SUPPLY_WORKFLOW_TYPE = "SupplyWorkflow"
"""Registered name of the supply child workflow."""

SUPPLY_RECEIVED_SIGNAL = "supply_received"
"""Signal to a supply workflow: units arrived (carries :class:`SupplyReceipt`)."""

SUPPLY_PROGRESS_SIGNAL = "supply_progress"
"""Signal from a supply workflow to its order: where the supply order stands."""

PLACE_SUPPLY_ORDER = "place_supply_order"
"""Activity: record the production or purchase order and place it with the partner."""
RECEIVE_SUPPLY = "receive_supply"
"""Activity: put a receipt into stock and reserve it for the order, once per receipt."""
CANCEL_SUPPLY_ORDER = "cancel_supply_order"
"""Activity (compensation): cancel the supply order with the partner and in the database."""


def supply_workflow_id(order_id: str, line_no: int) -> str:
    """Workflow id of the supply order for line ``line_no`` of ``order_id``."""
    return f"supply-{order_id}-L{line_no}"


class SupplyKind(StrEnum):
    """What kind of supply order covers a shortage."""

    PRODUCTION = "production"
    """Made at the factory (product sourcing ``make``)."""
    PURCHASE = "purchase"
    """Bought from a supplier (product sourcing ``buy``)."""


class SupplyStatus(StrEnum):
    """Life of a supply order."""

    OPEN = "open"
    RECEIVED = "received"
    CANCELLED = "cancelled"


class SupplyRequest(BaseModel):
    """Input of the supply workflow and of :data:`PLACE_SUPPLY_ORDER`."""

    order_id: str
    line_no: int
    sku: str
    quantity: int


class SupplyOrderPlaced(BaseModel):
    """Result of :data:`PLACE_SUPPLY_ORDER`."""

    supply_order_id: str
    kind: SupplyKind
    partner: str
    partner_reference: str
    warehouse_id: str
    """Where the units will be received."""
    expected_at: datetime


class SupplyReceipt(InboundMessage):
    """Input of signal ``supply_received``: units delivered by the factory or supplier."""

    receipt_id: Annotated[str, Field(min_length=1, max_length=64)]
    """The partner's delivery note number; the same id twice is one receipt."""
    quantity: Annotated[StrictInt, Field(ge=1, le=100_000)]
    actor: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    """Who booked it by hand (the console's user, ``oms supply receive --as``); None when
    the partner's system reported it."""


class SupplyArrival(BaseModel):
    """Input of :data:`RECEIVE_SUPPLY`."""

    supply_order_id: str
    order_id: str
    line_no: int
    receipt: SupplyReceipt


class SupplyBalance(BaseModel):
    """Result of :data:`RECEIVE_SUPPLY`: what has arrived so far."""

    received: int
    outstanding: int


class SupplyResult(BaseModel):
    """What a supply workflow returns: every ordered unit arrived and is reserved."""

    line_no: int
    sku: str
    warehouse_id: str
    received: int
    reserved: int
    """Units reserved for the order (the ordered quantity; any surplus stays free stock)."""


def supply_delay_ladder(kind: SupplyKind) -> EscalationLadder:
    """The delay ladder of a supply order, counted from the date the partner promised.

    The middle rung goes to purchasing for purchase orders and to production
    planning for production orders; support answers the last with extend or cancel.
    """
    purchase = kind is SupplyKind.PURCHASE
    planners = Audience.PURCHASING if purchase else Audience.PLANNING
    return EscalationLadder(
        name=N_("purchase delay") if purchase else N_("production delay"),
        rungs=(
            EscalationRung(
                name=N_("tell the customer the new promise date"),
                after=timedelta(days=1),
                notify=Audience.CUSTOMER,
            ),
            EscalationRung(
                name=N_("escalate to purchasing") if purchase else N_("escalate to planning"),
                after=timedelta(days=3),
                notify=planners,
            ),
            EscalationRung(
                name=N_("ask support: wait longer or cancel"),
                after=timedelta(days=7),
                notify=Audience.SUPPORT,
                asks_for_decision=True,
            ),
        ),
    )


PROMISE_SLIP = timedelta(days=7)
"""When a supply order is late, the customer is promised the expected date plus this."""
