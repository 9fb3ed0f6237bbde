"""Book parcels with the carrier and follow them to delivery."""

from __future__ import annotations

import asyncio
from collections import defaultdict

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity

from domain.intake import OrderRef
from domain.inventory import MovementKind, ReservationStatus
from domain.orders import EventKind, OrderStatus, ShipmentView, ShippingAddress
from domain.shipping import (
    BOOK_SHIPMENTS,
    TRACK_SHIPMENT,
    BookedShipments,
    Delivery,
    Milestone,
    TrackingEvent,
    TrackingRequest,
)
from integrations.ports import Carrier
from persistence.database import SessionFactory
from persistence.idempotency import Done, run_once, step_key, stored_result
from persistence.models import Reservation, Shipment, TrackingEventRow

from ._read_model import load_order, utcnow, write_event
from .inventory import change_stock

log = structlog.get_logger(__name__)

MILESTONE_EVENTS = {
    Milestone.PICKED_UP: EventKind.SHIPMENT_PICKED_UP,
    Milestone.IN_TRANSIT: EventKind.SHIPMENT_IN_TRANSIT,
    Milestone.EXCEPTION: EventKind.SHIPMENT_EXCEPTION,
    Milestone.DELIVERED: EventKind.SHIPMENT_DELIVERED,
}


def shipment_id(order_id: str, number: int) -> str:
    """Id of the order's ``number``-th parcel."""
    return f"{order_id}-S{number}"


class ShippingActivities:
    """Carrier bookings and tracking."""

    def __init__(self, sessions: SessionFactory, carrier: Carrier, poll_seconds: float) -> None:
        self._sessions = sessions
        self._carrier = carrier
        self._poll_seconds = poll_seconds

    @activity.defn(name=BOOK_SHIPMENTS)
    async def book_shipments(self, ref: OrderRef) -> BookedShipments:
        """Book one parcel per warehouse the order was allocated to."""
        structlog.contextvars.bind_contextvars(order_id=ref.order_id)
        key = step_key(ref.order_id, BOOK_SHIPMENTS)
        done = await stored_result(self._sessions, key, BookedShipments)
        if done is not None:
            return done

        async with self._sessions() as session:
            order = await load_order(session, ref.order_id)
            reservations = (
                await session.scalars(
                    select(Reservation).where(
                        Reservation.order_id == ref.order_id,
                        Reservation.status == ReservationStatus.ACTIVE.value,
                    )
                )
            ).all()
        units_by_warehouse: dict[str, int] = defaultdict(int)
        for reservation in reservations:
            units_by_warehouse[reservation.warehouse_id] += reservation.quantity
        address = ShippingAddress(
            name=order.ship_to_name,
            street=order.ship_to_street,
            postal_code=order.ship_to_postal_code,
            city=order.ship_to_city,
            country=order.ship_to_country,
        )
        # The carrier is called outside the database transaction (no lock held while
        # waiting on a partner); its idempotency key makes a repeated booking harmless.
        bookings = []
        for number, warehouse_id in enumerate(sorted(units_by_warehouse), start=1):
            parcel = shipment_id(ref.order_id, number)
            tracking_number = await self._carrier.book(
                idempotency_key=f"{ref.order_id}:book:{parcel}",
                shipment_id=parcel,
                address=address,
                units=units_by_warehouse[warehouse_id],
            )
            bookings.append(
                ShipmentView(
                    shipment_id=parcel,
                    warehouse_id=warehouse_id,
                    carrier=self._carrier.name,
                    tracking_number=tracking_number,
                    status=Milestone.BOOKED.value,
                )
            )

        async def effect(session: AsyncSession) -> BookedShipments:
            now = utcnow()
            for booking in bookings:
                session.add(
                    Shipment(
                        id=booking.shipment_id,
                        order_id=ref.order_id,
                        warehouse_id=booking.warehouse_id,
                        carrier=booking.carrier,
                        tracking_number=booking.tracking_number,
                        status=booking.status,
                        booked_at=now,
                    )
                )
            await session.flush()
            by_warehouse = {booking.warehouse_id: booking.shipment_id for booking in bookings}
            for reservation in await session.scalars(
                select(Reservation).where(
                    Reservation.order_id == ref.order_id,
                    Reservation.status == ReservationStatus.ACTIVE.value,
                )
            ):
                reservation.shipment_id = by_warehouse[reservation.warehouse_id]
            await write_event(
                session,
                ref.order_id,
                EventKind.SHIPMENT_BOOKED,
                ", ".join(f"{b.shipment_id} ({b.tracking_number})" for b in bookings),
                status=OrderStatus.SHIPMENT_BOOKED,
            )
            return BookedShipments(shipments=bookings)

        return await run_once(self._sessions, key, BookedShipments, effect)

    @activity.defn(name=TRACK_SHIPMENT)
    async def track_shipment(self, request: TrackingRequest) -> Delivery:
        """Poll the carrier until the parcel is delivered, recording each milestone once.

        Heartbeats carry the milestones seen, so a retry after a worker crash
        carries on where the last attempt stopped.
        """
        structlog.contextvars.bind_contextvars(
            order_id=request.order_id, shipment_id=request.shipment_id
        )
        async with self._sessions() as session:
            shipment = await session.get(Shipment, request.shipment_id)
            if shipment is None:
                raise ValueError(f"shipment {request.shipment_id!r} was never booked")
            tracking_number = shipment.tracking_number
        recorded: set[str] = set(activity.info().heartbeat_details or [])
        while True:
            for event in await self._carrier.tracking(tracking_number):
                if event.milestone.value not in recorded:
                    await self._record_milestone(request, event)
                    recorded.add(event.milestone.value)
                    activity.heartbeat(*sorted(recorded))
                if event.milestone is Milestone.DELIVERED:
                    return Delivery(shipment_id=request.shipment_id, delivered_at=event.at)
            activity.heartbeat(*sorted(recorded))
            await asyncio.sleep(self._poll_seconds)

    async def _record_milestone(self, request: TrackingRequest, event: TrackingEvent) -> None:
        """Write one milestone; pick-up also moves the stock out of the warehouse."""

        async def effect(session: AsyncSession) -> Done:
            shipment = await session.get(Shipment, request.shipment_id)
            assert shipment is not None
            session.add(
                TrackingEventRow(
                    shipment_id=shipment.id,
                    milestone=event.milestone.value,
                    occurred_at=event.at,
                    detail=event.detail,
                )
            )
            shipment.status = event.milestone.value
            if event.milestone is Milestone.PICKED_UP:
                await self._ship_reserved_stock(session, request)
            if event.milestone is Milestone.DELIVERED:
                shipment.delivered_at = event.at
            await write_event(
                session,
                request.order_id,
                MILESTONE_EVENTS[event.milestone],
                f"{shipment.id} {shipment.tracking_number}",
            )
            return Done()

        key = step_key(
            request.order_id, f"{TRACK_SHIPMENT}:{request.shipment_id}:{event.milestone}"
        )
        await run_once(self._sessions, key, Done, effect)

    async def _ship_reserved_stock(self, session: AsyncSession, request: TrackingRequest) -> None:
        reservations = await session.scalars(
            select(Reservation).where(
                Reservation.shipment_id == request.shipment_id,
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
                order_id=request.order_id,
            )
            if not shipped:
                raise RuntimeError(
                    f"stock level {reservation.sku}@{reservation.warehouse_id} cannot ship "
                    f"{reservation.quantity} reserved unit(s)"
                )
            reservation.status = ReservationStatus.SHIPPED.value
