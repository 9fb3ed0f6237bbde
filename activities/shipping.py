"""Parcels: planning, booking with the carrier, tracking, re-shipping and cancelling."""

from __future__ import annotations

import asyncio
from collections import defaultdict

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.compensation import Undone, UndoRequest
from domain.intake import OrderRef
from domain.inventory import MovementKind, ReservationStatus
from domain.orders import EventKind, ShippingAddress
from domain.shipping import (
    BOOK_SHIPMENT,
    CANCEL_SHIPMENT,
    PLAN_SHIPMENTS,
    POLL_TRACKING,
    RECORD_MILESTONE,
    RESHIP_SHIPMENT,
    Milestone,
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
from integrations.ports import Carrier
from persistence.database import SessionFactory
from persistence.idempotency import run_once, step_key, stored_result
from persistence.models import Reservation, Shipment, TrackingEventRow

from ._read_model import load_order, utcnow, write_event
from .inventory import change_stock

log = structlog.get_logger(__name__)

PICKED_UP_ALREADY = "ParcelPickedUp"
"""ApplicationError type: a parcel that has left the warehouse cannot be cancelled."""
NO_STOCK_FOR_REPLACEMENT = "NoStockForReplacement"
"""ApplicationError type: the warehouse cannot fill a replacement parcel."""

MOVED = frozenset({ShipmentStatus.PICKED_UP, ShipmentStatus.IN_TRANSIT})
"""Parcels on their way: too late to cancel."""

MILESTONE_EVENTS = {
    Milestone.BOOKED: EventKind.SHIPMENT_BOOKED,
    Milestone.PICKED_UP: EventKind.SHIPMENT_PICKED_UP,
    Milestone.IN_TRANSIT: EventKind.SHIPMENT_IN_TRANSIT,
    Milestone.EXCEPTION: EventKind.SHIPMENT_EXCEPTION,
    Milestone.DELIVERED: EventKind.SHIPMENT_DELIVERED,
}


def shipment_id(order_id: str, number: int) -> str:
    """Id of the order's ``number``-th parcel."""
    return f"{order_id}-S{number}"


def replacement_id(original_id: str, attempt: int) -> str:
    """Id of the replacement parcel sent on ``attempt`` (2 for the first replacement)."""
    return f"{original_id}-R{attempt - 1}"


async def _parcel_units(session: AsyncSession, parcel_id: str) -> dict[str, int]:
    """Units per SKU in a parcel: its reservations, or the parcel it replaces."""
    parcel = await session.get(Shipment, parcel_id)
    assert parcel is not None
    source = parcel.replaces_id or parcel.id
    while True:
        original = await session.get(Shipment, source)
        if original is None or original.replaces_id is None:
            break
        source = original.replaces_id
    units: dict[str, int] = defaultdict(int)
    for reservation in await session.scalars(
        select(Reservation).where(Reservation.shipment_id == source)
    ):
        units[reservation.sku] += reservation.quantity
    return dict(units)


class ShippingActivities:
    """Carrier bookings and tracking."""

    def __init__(self, sessions: SessionFactory, carrier: Carrier, poll_seconds: float) -> None:
        self._sessions = sessions
        self._carrier = carrier
        self._poll_seconds = poll_seconds

    @activity.defn(name=PLAN_SHIPMENTS)
    async def plan_shipments(self, ref: OrderRef) -> PlannedShipments:
        """One parcel per warehouse holding the order's active reservations."""
        structlog.contextvars.bind_contextvars(order_id=ref.order_id)

        async def effect(session: AsyncSession) -> PlannedShipments:
            await load_order(session, ref.order_id)
            reservations = (
                await session.scalars(
                    select(Reservation)
                    .where(
                        Reservation.order_id == ref.order_id,
                        Reservation.status == ReservationStatus.ACTIVE.value,
                    )
                    .order_by(Reservation.warehouse_id, Reservation.line_no)
                )
            ).all()
            by_warehouse: dict[str, list[Reservation]] = defaultdict(list)
            for reservation in reservations:
                by_warehouse[reservation.warehouse_id].append(reservation)
            now = utcnow()
            planned = []
            for number, warehouse_id in enumerate(sorted(by_warehouse), start=1):
                parcel = shipment_id(ref.order_id, number)
                session.add(
                    Shipment(
                        id=parcel,
                        order_id=ref.order_id,
                        warehouse_id=warehouse_id,
                        carrier="",
                        tracking_number="",
                        status=ShipmentStatus.PLANNED.value,
                        booked_at=now,
                    )
                )
                planned.append(
                    ShipmentRequest(
                        order_id=ref.order_id,
                        shipment_id=parcel,
                        warehouse_id=warehouse_id,
                        units=sum(r.quantity for r in by_warehouse[warehouse_id]),
                    )
                )
            await session.flush()
            for request in planned:
                for reservation in by_warehouse[request.warehouse_id]:
                    reservation.shipment_id = request.shipment_id
            await write_event(
                session,
                ref.order_id,
                EventKind.SHIPMENT_PLANNED,
                ", ".join(
                    f"{p.shipment_id} from {p.warehouse_id} ({p.units} units)" for p in planned
                ),
            )
            return PlannedShipments(shipments=planned)

        return await run_once(
            self._sessions, step_key(ref.order_id, PLAN_SHIPMENTS), PlannedShipments, effect
        )

    @activity.defn(name=BOOK_SHIPMENT)
    async def book_shipment(self, ref: ShipmentRef) -> ShipmentBooking:
        """Book the parcel with the carrier; the booking is recorded once."""
        structlog.contextvars.bind_contextvars(order_id=ref.order_id, shipment_id=ref.shipment_id)
        key = step_key(ref.order_id, f"{BOOK_SHIPMENT}:{ref.shipment_id}")
        done = await stored_result(self._sessions, key, ShipmentBooking)
        if done is not None:
            return done
        async with self._sessions() as session:
            order = await load_order(session, ref.order_id)
            units = sum((await _parcel_units(session, ref.shipment_id)).values())
        address = ShippingAddress(
            name=order.ship_to_name,
            street=order.ship_to_street,
            postal_code=order.ship_to_postal_code,
            city=order.ship_to_city,
            country=order.ship_to_country,
        )
        # The carrier is called outside the database transaction (no lock held while
        # waiting on a partner); its idempotency key makes a repeated booking harmless.
        parcel = await self._carrier.book(
            idempotency_key=key, shipment_id=ref.shipment_id, address=address, units=units
        )

        async def effect(session: AsyncSession) -> ShipmentBooking:
            shipment = await session.get(Shipment, ref.shipment_id)
            assert shipment is not None
            shipment.carrier = self._carrier.name
            shipment.tracking_number = parcel.tracking_number
            shipment.status = ShipmentStatus.BOOKED.value
            shipment.booked_at = utcnow()
            shipment.promised_by = parcel.promised_by
            await write_event(
                session,
                ref.order_id,
                EventKind.SHIPMENT_BOOKED,
                f"{shipment.id} with {self._carrier.name} ({parcel.tracking_number}), "
                f"promised by {parcel.promised_by:%Y-%m-%d %H:%M} UTC",
            )
            return ShipmentBooking(
                carrier=self._carrier.name,
                tracking_number=parcel.tracking_number,
                promised_by=parcel.promised_by,
                carrier_pushes_events=self._carrier.pushes_events,
            )

        return await run_once(self._sessions, key, ShipmentBooking, effect)

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
    async def record_milestone(self, record: MilestoneRecord) -> MilestoneRecorded:
        """Record a milestone once; pick-up also moves the stock out of the warehouse."""
        structlog.contextvars.bind_contextvars(
            order_id=record.order_id, shipment_id=record.shipment_id
        )
        event = record.event

        async def effect(session: AsyncSession) -> MilestoneRecorded:
            shipment = await session.get(Shipment, record.shipment_id)
            if shipment is None:
                raise ApplicationError(
                    f"shipment {record.shipment_id!r} was never planned", non_retryable=True
                )
            session.add(
                TrackingEventRow(
                    shipment_id=shipment.id,
                    milestone=event.milestone.value,
                    occurred_at=event.at,
                    detail=event.detail,
                )
            )
            shipment.status = event.milestone.value
            if event.milestone is Milestone.PICKED_UP and shipment.replaces_id is None:
                await self._ship_reserved_stock(session, shipment)
            if event.milestone is Milestone.DELIVERED:
                shipment.delivered_at = event.at
            detail = f"{shipment.id} {shipment.tracking_number}"
            if event.detail:
                detail += f": {event.detail}"
            await write_event(session, record.order_id, MILESTONE_EVENTS[event.milestone], detail)
            return MilestoneRecorded(shipment_id=shipment.id, milestone=event.milestone)

        key = step_key(
            record.order_id, f"{RECORD_MILESTONE}:{record.shipment_id}:{event.milestone}"
        )
        return await run_once(self._sessions, key, MilestoneRecorded, effect)

    async def _ship_reserved_stock(self, session: AsyncSession, shipment: Shipment) -> None:
        reservations = await session.scalars(
            select(Reservation).where(
                Reservation.shipment_id == shipment.id,
                Reservation.status == ReservationStatus.ACTIVE.value,
            )
        )
        for reservation in reservations:
            shipped = await change_stock(
                session,
                sku=reservation.sku,
                warehouse_id=reservation.warehouse_id,
                kind=MovementKind.SHIP,
                on_hand_change=-reservation.quantity,
                reserved_change=-reservation.quantity,
                order_id=shipment.order_id,
            )
            if not shipped:
                raise RuntimeError(
                    f"stock level {reservation.sku}@{reservation.warehouse_id} cannot ship "
                    f"{reservation.quantity} reserved unit(s)"
                )
            reservation.status = ReservationStatus.SHIPPED.value

    @activity.defn(name=RESHIP_SHIPMENT)
    async def reship_shipment(self, ref: ShipmentRef) -> ShipmentRequest:
        """Take the lost parcel's goods from stock again as a replacement parcel.

        ``ref`` names the parcel that was lost and the attempt the replacement is.
        The replacement is booked afterwards like any parcel.
        """
        structlog.contextvars.bind_contextvars(order_id=ref.order_id, shipment_id=ref.shipment_id)

        async def effect(session: AsyncSession) -> ShipmentRequest:
            lost = await session.get(Shipment, ref.shipment_id)
            if lost is None:
                raise ApplicationError(
                    f"shipment {ref.shipment_id!r} does not exist", non_retryable=True
                )
            units = await _parcel_units(session, lost.id)
            for sku, quantity in units.items():
                taken = await change_stock(
                    session,
                    sku=sku,
                    warehouse_id=lost.warehouse_id,
                    kind=MovementKind.SHIP,
                    on_hand_change=-quantity,
                    order_id=ref.order_id,
                )
                if not taken:
                    raise ApplicationError(
                        f"{lost.warehouse_id} has fewer than {quantity} free {sku} for a "
                        "replacement parcel; refund instead, or re-ship after restocking",
                        type=NO_STOCK_FOR_REPLACEMENT,
                        non_retryable=True,
                    )
            lost.status = ShipmentStatus.LOST.value
            replacement = Shipment(
                id=replacement_id(lost.replaces_id or lost.id, ref.attempt),
                order_id=ref.order_id,
                warehouse_id=lost.warehouse_id,
                carrier="",
                tracking_number="",
                status=ShipmentStatus.PLANNED.value,
                booked_at=utcnow(),
                replaces_id=lost.id,
            )
            session.add(replacement)
            await write_event(
                session,
                ref.order_id,
                EventKind.SHIPMENT_RESHIPPED,
                f"{replacement.id} replaces {lost.id}: "
                + ", ".join(f"{q} x {sku}" for sku, q in sorted(units.items())),
                needs_attention=None,
            )
            return ShipmentRequest(
                order_id=ref.order_id,
                shipment_id=replacement.id,
                warehouse_id=lost.warehouse_id,
                units=sum(units.values()),
            )

        key = step_key(ref.order_id, f"{RESHIP_SHIPMENT}:{ref.shipment_id}")
        return await run_once(self._sessions, key, ShipmentRequest, effect)

    @activity.defn(name=CANCEL_SHIPMENT)
    async def cancel_shipments(self, request: UndoRequest) -> Undone:
        """Cancel every parcel of the order that has not left the warehouse (compensation).

        Booked parcels are cancelled with the carrier (one idempotency key per
        parcel); a parcel already picked up cannot be cancelled, which a person
        must resolve (the order then needs attention).
        """
        structlog.contextvars.bind_contextvars(order_id=request.order_id)
        async with self._sessions() as session:
            parcels = (
                await session.scalars(
                    select(Shipment)
                    .where(Shipment.order_id == request.order_id)
                    .order_by(Shipment.id)
                )
            ).all()
        moved = [p for p in parcels if ShipmentStatus(p.status) in MOVED]
        if moved:
            raise ApplicationError(
                f"parcel {moved[0].id} was picked up already ({moved[0].status}); "
                "it can only be returned",
                type=PICKED_UP_ALREADY,
                non_retryable=True,
            )
        details = []
        for parcel in parcels:
            status = ShipmentStatus(parcel.status)
            if status not in (ShipmentStatus.PLANNED, ShipmentStatus.BOOKED):
                continue
            key = step_key(request.order_id, f"{CANCEL_SHIPMENT}:{parcel.id}")
            confirmation = "not booked yet"
            if status is ShipmentStatus.BOOKED:
                confirmation = await self._carrier.cancel(
                    idempotency_key=key, tracking_number=parcel.tracking_number
                )
            details.append(
                await self._mark_cancelled(request.order_id, parcel.id, key, confirmation)
            )
        if not details:
            return Undone(detail="no parcel to cancel")
        return Undone(detail="; ".join(details))

    async def _mark_cancelled(
        self, order_id: str, parcel_id: str, key: str, confirmation: str
    ) -> str:
        async def effect(session: AsyncSession) -> Undone:
            row = await session.get(Shipment, parcel_id)
            assert row is not None
            row.status = ShipmentStatus.CANCELLED.value
            detail = f"parcel {row.id} cancelled ({confirmation})"
            await write_event(session, order_id, EventKind.SHIPMENT_CANCELLED, detail)
            return Undone(detail=detail)

        return (await run_once(self._sessions, key, Undone, effect)).detail
