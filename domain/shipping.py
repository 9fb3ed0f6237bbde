"""The shipping area: one ``ShipmentWorkflow`` per parcel, from booking to delivery.

The order plans one parcel per warehouse it was allocated to; each parcel's
workflow books the carrier, follows its tracking (events pushed by the carrier
as signals, or a heartbeating poll for carriers that only answer questions),
tells the customer at each milestone, and climbs a delay ladder when the parcel
is late against the promised date. A lost or damaged parcel waits for support
to decide: re-ship or refund.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt

from domain.escalation import EscalationLadder, EscalationRung
from domain.messages import InboundMessage, whole_json_number
from domain.notifications import Audience
from domain.orders import ShipmentView, StaffDecision
from domain.wording import N_, Wording

SHIPMENT_WORKFLOW_TYPE = "ShipmentWorkflow"
"""Registered name of the shipment child workflow."""

CARRIER_EVENT_SIGNAL = "carrier_event"
"""Signal to a shipment workflow: a tracking event (carries :class:`TrackingEvent`)."""
RESOLVE_SHIPMENT_SIGNAL = "resolve_shipment"
"""Signal to a shipment workflow: support's answer for a lost, damaged or late parcel."""
SHIPMENT_PROGRESS_SIGNAL = "shipment_progress"
"""Signal from a shipment workflow to its order: the parcel's current view."""

PLAN_SHIPMENTS = "plan_shipments"
"""Activity: one parcel per warehouse holding the order's reservations."""
BOOK_SHIPMENT = "book_shipment"
"""Activity: book a parcel with the carrier (idempotency key per parcel and attempt)."""
POLL_TRACKING = "poll_tracking"
"""Activity: ask the carrier until a milestone not yet known appears (heartbeats)."""
RECORD_MILESTONE = "record_milestone"
"""Activity: record a milestone once; pick-up moves the stock out of the warehouse."""
RESHIP_SHIPMENT = "reship_shipment"
"""Activity: send a replacement parcel for a lost or damaged one."""
CANCEL_SHIPMENT = "cancel_shipment"
"""Activity (compensation): cancel every parcel of an order that has not left the warehouse."""


def shipment_workflow_id(shipment_id: str) -> str:
    """Workflow id of the parcel ``shipment_id``; a replacement parcel (``...-R1``) shares it."""
    return "shipment-" + re.sub(r"-R\d+$", "", shipment_id)


class Milestone(StrEnum):
    """A tracking event; ordered as a parcel normally goes."""

    BOOKED = "booked"
    PICKED_UP = "picked_up"
    IN_TRANSIT = "in_transit"
    EXCEPTION = "exception"
    DELIVERED = "delivered"


class ShipmentStatus(StrEnum):
    """Life of a parcel in the read model (milestones plus what the order decided)."""

    PLANNED = "planned"
    AWAITING_PACKING = "awaiting_packing"
    """The warehouse has still to confirm it picked and packed (the workflow's view)."""
    BOOKED = "booked"
    PICKED_UP = "picked_up"
    IN_TRANSIT = "in_transit"
    EXCEPTION = "exception"
    DELIVERED = "delivered"
    LOST = "lost"
    """Lost or damaged, and support chose a refund."""
    CANCELLED = "cancelled"


class ParcelProblem(StrEnum):
    """Exceptions after which the parcel will not arrive as sent."""

    LOST = "lost"
    DAMAGED = "damaged"


class TrackingEvent(InboundMessage):
    """A milestone reported by the carrier: input of signal ``carrier_event``."""

    milestone: Milestone
    at: datetime
    detail: Annotated[str, Field(max_length=500)] = ""
    problem: ParcelProblem | None = None
    """Set on an exception after which the parcel will not arrive."""


class ShipmentRequest(BaseModel):
    """Input of the shipment workflow."""

    order_id: str
    shipment_id: str
    warehouse_id: str
    units: int
    confirm_packing: bool = False
    """The warehouse confirms the parcel picked and packed before the carrier is booked."""
    report_to: str | None = None
    """The workflow told of the parcel's progress; None: the order's (a replacement a
    complaint sends after the order ended reports to the complaint's case)."""


class ShipmentRef(BaseModel):
    """Names one parcel of an order (input of booking, re-shipping, cancelling)."""

    order_id: str
    shipment_id: str
    attempt: int = 1
    """1 for the first parcel, 2 for the first replacement, and so on."""


class PlannedShipments(BaseModel):
    """Result of :data:`PLAN_SHIPMENTS`."""

    shipments: list[ShipmentRequest]


class ShipmentBooking(BaseModel):
    """Result of :data:`BOOK_SHIPMENT` and :data:`RESHIP_SHIPMENT`."""

    carrier: str
    tracking_number: str
    promised_by: datetime
    carrier_pushes_events: bool
    """True when the carrier sends ``carrier_event`` signals; otherwise it is polled."""


class TrackingPoll(BaseModel):
    """Input of :data:`POLL_TRACKING`."""

    order_id: str
    shipment_id: str
    tracking_number: str
    known: list[Milestone] = []


class NewMilestones(BaseModel):
    """Result of :data:`POLL_TRACKING`: milestones not in ``known``, oldest first."""

    events: list[TrackingEvent]


class MilestoneRecord(BaseModel):
    """Input of :data:`RECORD_MILESTONE`."""

    order_id: str
    shipment_id: str
    event: TrackingEvent


class MilestoneRecorded(BaseModel):
    """Result of :data:`RECORD_MILESTONE`."""

    shipment_id: str
    milestone: Milestone


class ShipmentAction(StrEnum):
    """Support's answer for a parcel that will not arrive, or arrive very late."""

    RESHIP = "reship"
    REFUND = "refund"
    WAIT = "wait"
    """Only for a late parcel: keep waiting (use ``extend_deadline`` to set until when)."""


class ShipmentResolution(InboundMessage):
    """Input of signal ``resolve_shipment``."""

    action: ShipmentAction
    decision: StaffDecision


class ShipmentOutcome(BaseModel):
    """What a shipment workflow returns."""

    shipment_id: str
    delivered_at: datetime | None = None
    refunded: bool = False
    """Support chose a refund for a lost or damaged parcel."""
    detail: str = ""


class ShipmentProgress(BaseModel):
    """Input of signal ``shipment_progress``: the parcel's current view."""

    shipment: ShipmentView


DELIVERY_DELAY_LADDER = EscalationLadder(
    name=N_("late delivery"),
    rungs=(
        EscalationRung(
            name=N_("tell the customer the parcel is late"),
            after=timedelta(0),
            notify=Audience.CUSTOMER,
        ),
        EscalationRung(
            name=N_("escalate to logistics"), after=timedelta(days=2), notify=Audience.LOGISTICS
        ),
        EscalationRung(
            name=N_("ask support: re-ship or refund"),
            after=timedelta(days=5),
            notify=Audience.SUPPORT,
            asks_for_decision=True,
        ),
    ),
)
"""Counted from the delivery date the carrier promised."""


PARCEL_PACKED_SIGNAL = "parcel_packed"
"""Signal (and update ``parcel_packed_now``) to a shipment workflow: picked and packed."""


class PackingDocument(InboundMessage):
    """A parcel packed, as a warehouse system sends it over the API (its key names who)."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    packages: Annotated[StrictInt, Field(ge=1, le=999), BeforeValidator(whole_json_number)] = 1
    note: Annotated[str, Field(max_length=200)] = ""

    def by(self, actor: str) -> ParcelPacked:
        """This confirmation given by ``actor``."""
        return ParcelPacked(**self.model_dump(), actor=actor)


class ParcelPacked(PackingDocument):
    """Input of ``parcel_packed``: who packed the parcel, in how many packages."""

    actor: Annotated[str, Field(min_length=1, max_length=64)]


PACKING_LADDER = EscalationLadder(
    name=N_("late packing"),
    rungs=(
        EscalationRung(
            name=N_("remind the warehouse"), after=timedelta(hours=4), notify=Audience.WAREHOUSE
        ),
        EscalationRung(
            name=N_("escalate to logistics"), after=timedelta(hours=8), notify=Audience.LOGISTICS
        ),
        EscalationRung(
            name=N_("ask support: the parcel is still not packed"),
            after=timedelta(hours=24),
            notify=Audience.SUPPORT,
            asks_for_decision=True,
        ),
    ),
)
"""Counted from when the parcel was planned and handed to the warehouse to pack."""


def parcel_subject(shipment_id: str, order_id: str) -> str:
    """The title of the messages a parcel's ladders (packing, late delivery) send."""
    return parcel_subject_wording(shipment_id, order_id).english()


def parcel_subject_wording(shipment_id: str, order_id: str) -> Wording:
    """:func:`parcel_subject` as a wording (what needs attention on the order's page)."""
    return Wording(
        message=N_("Parcel %(parcel)s of order %(order)s"),
        args={"parcel": shipment_id, "order": order_id},
    )
