"""Parcels with the carrier: adapters onto :mod:`persistence.transactions.parcels`.

Steps that call the carrier run on the event loop; their database work runs on
the database's threads, never holding a transaction open while the carrier
answers.
"""

from __future__ import annotations

import asyncio

import structlog
from temporalio import activity

from domain.compensation import Undone, UndoRequest
from domain.intake import OrderRef
from domain.shipping import (
    BOOK_SHIPMENT,
    CANCEL_SHIPMENT,
    PLAN_SHIPMENTS,
    POLL_TRACKING,
    RECORD_MILESTONE,
    RESHIP_SHIPMENT,
    MilestoneRecord,
    MilestoneRecorded,
    NewMilestones,
    PlannedShipments,
    ShipmentBooking,
    ShipmentRef,
    ShipmentRequest,
    ShipmentStatus,
    TrackingPoll,
)
from domain.wording import N_, Wording
from integrations.ports import Carrier
from persistence.database import Database
from persistence.idempotency import step_key, stored_result
from persistence.transactions import parcels
from persistence.transactions.records import listing

log = structlog.get_logger(__name__)


class ShippingActivities:
    """Carrier bookings and tracking."""

    def __init__(self, db: Database, carrier: Carrier, poll_seconds: float) -> None:
        self._db = db
        self._carrier = carrier
        self._poll_seconds = poll_seconds

    @activity.defn(name=PLAN_SHIPMENTS)
    def plan_shipments(self, ref: OrderRef) -> PlannedShipments:
        """One parcel per warehouse holding the order's active reservations."""
        structlog.contextvars.bind_contextvars(order_id=ref.order_id)
        return parcels.plan_shipments(self._db, ref.order_id)

    @activity.defn(name=BOOK_SHIPMENT)
    async def book_shipment(self, ref: ShipmentRef) -> ShipmentBooking:
        """Book the parcel with the carrier; the booking is recorded once."""
        structlog.contextvars.bind_contextvars(order_id=ref.order_id, shipment_id=ref.shipment_id)
        key = step_key(ref.order_id, f"{BOOK_SHIPMENT}:{ref.shipment_id}")
        done = await self._db.run(stored_result, self._db, key, ShipmentBooking)
        if done is not None:
            return done
        parcel = await self._db.run(parcels.parcel_to_book, self._db, ref.order_id, ref.shipment_id)
        # Its idempotency key makes a repeated booking harmless.
        booked = await self._carrier.book(
            idempotency_key=key,
            shipment_id=ref.shipment_id,
            address=parcel.address,
            units=parcel.units,
        )
        booking = ShipmentBooking(
            carrier=self._carrier.name,
            tracking_number=booked.tracking_number,
            promised_by=booked.promised_by,
            carrier_pushes_events=self._carrier.pushes_events,
        )
        return await self._db.run(
            parcels.record_booking, self._db, ref.order_id, ref.shipment_id, key, booking
        )

    @activity.defn(name=POLL_TRACKING)
    async def poll_tracking(self, poll: TrackingPoll) -> NewMilestones:
        """Ask the carrier until it reports a milestone not in ``poll.known``; heartbeats."""
        structlog.contextvars.bind_contextvars(order_id=poll.order_id, shipment_id=poll.shipment_id)
        while True:
            events = await self._carrier.tracking(poll.tracking_number)
            new = [event for event in events if event.milestone not in poll.known]
            if new:
                return NewMilestones(events=new)
            activity.heartbeat()
            await asyncio.sleep(self._poll_seconds)

    @activity.defn(name=RECORD_MILESTONE)
    def record_milestone(self, record: MilestoneRecord) -> MilestoneRecorded:
        """Record a milestone once; pick-up also moves the stock out of the warehouse."""
        structlog.contextvars.bind_contextvars(
            order_id=record.order_id, shipment_id=record.shipment_id
        )
        return parcels.record_milestone(self._db, record)

    @activity.defn(name=RESHIP_SHIPMENT)
    def reship_shipment(self, ref: ShipmentRef) -> ShipmentRequest:
        """Take the lost parcel's goods from stock again as a replacement parcel.

        ``ref`` names the parcel that was lost and the attempt the replacement is.
        The replacement is booked afterwards like any parcel.
        """
        structlog.contextvars.bind_contextvars(order_id=ref.order_id, shipment_id=ref.shipment_id)
        return parcels.reship_shipment(self._db, ref.order_id, ref.shipment_id, ref.attempt)

    @activity.defn(name=CANCEL_SHIPMENT)
    async def cancel_shipments(self, request: UndoRequest) -> Undone:
        """Cancel every parcel of the order that has not left the warehouse (compensation).

        Booked parcels are cancelled with the carrier (one idempotency key per
        parcel); a parcel already picked up cannot be cancelled, which a person
        must resolve (the order then needs attention).
        """
        structlog.contextvars.bind_contextvars(order_id=request.order_id)
        details = []
        for parcel in await self._db.run(parcels.parcels_to_cancel, self._db, request.order_id):
            key = step_key(request.order_id, f"{CANCEL_SHIPMENT}:{parcel.shipment_id}")
            confirmation = "not booked yet"
            if parcel.status is ShipmentStatus.BOOKED:
                confirmation = await self._carrier.cancel(
                    idempotency_key=key, tracking_number=parcel.tracking_number
                )
            details.append(
                await self._db.run(
                    parcels.mark_cancelled,
                    self._db,
                    request.order_id,
                    parcel.shipment_id,
                    key,
                    confirmation,
                )
            )
        if not details:
            return Undone(wording=Wording(message=N_("no parcel to cancel")))
        wordings = [undone.wording for undone in details if undone.wording is not None]
        return Undone(
            detail="; ".join(undone.detail for undone in details),
            wording=listing(wordings) if len(wordings) == len(details) else None,
        )
