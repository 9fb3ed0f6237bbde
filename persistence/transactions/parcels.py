"""Parcels: planning, the carrier's booking, milestones (pick-up ships the stock),
replacements and cancellation."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session
from temporalio.exceptions import ApplicationError

from domain.compensation import Undone
from domain.inventory import MovementKind, ReservationStatus
from domain.orders import EventKind, ShippingAddress
from domain.shipping import (
    PLAN_SHIPMENTS,
    RECORD_MILESTONE,
    RESHIP_SHIPMENT,
    Milestone,
    MilestoneRecord,
    MilestoneRecorded,
    PlannedShipments,
    ShipmentBooking,
    ShipmentRequest,
    ShipmentStatus,
)
from domain.wording import N_, Wording
from persistence.database import Database
from persistence.idempotency import run_once, step_key
from persistence.models import Reservation, Shipment, TrackingEventRow, Warehouse

from .records import listing, load_order, utcnow, write_event
from .stock import change_stock

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


@dataclass(frozen=True)
class ParcelToBook:
    """What the carrier needs to book a parcel."""

    address: ShippingAddress
    units: int


@dataclass(frozen=True)
class OpenParcel:
    """A parcel of the order as compensation sees it."""

    shipment_id: str
    status: ShipmentStatus
    tracking_number: str


def plan_shipments(db: Database, order_id: str) -> PlannedShipments:
    """One parcel per warehouse holding the order's active reservations."""

    def effect(session: Session) -> PlannedShipments:
        load_order(session, order_id)
        reservations = session.scalars(
            select(Reservation)
            .where(
                Reservation.order_id == order_id,
                Reservation.status == ReservationStatus.ACTIVE.value,
            )
            .order_by(Reservation.warehouse_id, Reservation.line_no)
        ).all()
        by_warehouse: dict[str, list[Reservation]] = defaultdict(list)
        for reservation in reservations:
            by_warehouse[reservation.warehouse_id].append(reservation)
        now = utcnow()
        planned = []
        for number, warehouse_id in enumerate(sorted(by_warehouse), start=1):
            parcel = shipment_id(order_id, number)
            session.add(
                Shipment(
                    id=parcel,
                    order_id=order_id,
                    warehouse_id=warehouse_id,
                    carrier="",
                    tracking_number="",
                    status=ShipmentStatus.PLANNED.value,
                    booked_at=now,
                )
            )
            planned.append(
                ShipmentRequest(
                    order_id=order_id,
                    shipment_id=parcel,
                    warehouse_id=warehouse_id,
                    units=sum(r.quantity for r in by_warehouse[warehouse_id]),
                    confirm_packing=packs_first(session, warehouse_id),
                )
            )
        session.flush()
        for request in planned:
            for reservation in by_warehouse[request.warehouse_id]:
                reservation.shipment_id = request.shipment_id
        write_event(
            session,
            order_id,
            EventKind.SHIPMENT_PLANNED,
            listing(
                Wording(
                    message=N_("%(parcel)s from %(warehouse)s (%(units)s units)"),
                    args={"parcel": p.shipment_id, "warehouse": p.warehouse_id, "units": p.units},
                )
                for p in planned
            ),
        )
        return PlannedShipments(shipments=planned)

    return run_once(db, step_key(order_id, PLAN_SHIPMENTS), PlannedShipments, effect)


def parcel_to_book(db: Database, order_id: str, parcel_id: str) -> ParcelToBook:
    """Where the parcel goes and how many units it holds."""
    with db.reading() as session:
        order = load_order(session, order_id)
        units = sum(_parcel_units(session, parcel_id).values())
        address = ShippingAddress(
            name=order.ship_to_name,
            street=order.ship_to_street,
            postal_code=order.ship_to_postal_code,
            city=order.ship_to_city,
            country=order.ship_to_country,
        )
    return ParcelToBook(address=address, units=units)


def record_booking(
    db: Database, order_id: str, parcel_id: str, key: str, booking: ShipmentBooking
) -> ShipmentBooking:
    """Record the carrier's booking of the parcel once (under ``key``)."""

    def effect(session: Session) -> ShipmentBooking:
        shipment = session.get(Shipment, parcel_id)
        assert shipment is not None
        shipment.carrier = booking.carrier
        shipment.tracking_number = booking.tracking_number
        shipment.status = ShipmentStatus.BOOKED.value
        shipment.booked_at = utcnow()
        shipment.promised_by = booking.promised_by
        write_event(
            session,
            order_id,
            EventKind.SHIPMENT_BOOKED,
            Wording(
                message=N_("%(parcel)s with %(carrier)s (%(tracking)s), promised by %(promised)s"),
                args={
                    "parcel": shipment.id,
                    "carrier": booking.carrier,
                    "tracking": booking.tracking_number,
                },
                moments={"promised": booking.promised_by},
            ),
        )
        return booking

    return run_once(db, key, ShipmentBooking, effect)


def record_milestone(db: Database, record: MilestoneRecord) -> MilestoneRecorded:
    """Record a milestone once; pick-up also moves the stock out of the warehouse."""
    event = record.event

    def effect(session: Session) -> MilestoneRecorded:
        shipment = session.get(Shipment, record.shipment_id)
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
            _ship_reserved_stock(session, shipment)
        if event.milestone is Milestone.DELIVERED:
            shipment.delivered_at = event.at
        detail = f"{shipment.id} {shipment.tracking_number}"
        if event.detail:
            detail += f": {event.detail}"
        write_event(session, record.order_id, MILESTONE_EVENTS[event.milestone], detail)
        return MilestoneRecorded(shipment_id=shipment.id, milestone=event.milestone)

    key = step_key(record.order_id, f"{RECORD_MILESTONE}:{record.shipment_id}:{event.milestone}")
    return run_once(db, key, MilestoneRecorded, effect)


def _ship_reserved_stock(session: Session, shipment: Shipment) -> None:
    reservations = session.scalars(
        select(Reservation).where(
            Reservation.shipment_id == shipment.id,
            Reservation.status == ReservationStatus.ACTIVE.value,
        )
    )
    for reservation in reservations:
        shipped = change_stock(
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


def reship_shipment(db: Database, order_id: str, lost_id: str, attempt: int) -> ShipmentRequest:
    """Take the lost parcel's goods from stock again as a replacement parcel.

    ``attempt`` is the delivery attempt the replacement is (2 for the first);
    the replacement is booked afterwards like any parcel.
    """

    def effect(session: Session) -> ShipmentRequest:
        lost = session.get(Shipment, lost_id)
        if lost is None:
            raise ApplicationError(f"shipment {lost_id!r} does not exist", non_retryable=True)
        units = _parcel_units(session, lost.id)
        for sku, quantity in units.items():
            taken = change_stock(
                session,
                sku=sku,
                warehouse_id=lost.warehouse_id,
                kind=MovementKind.SHIP,
                on_hand_change=-quantity,
                order_id=order_id,
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
            id=replacement_id(lost.replaces_id or lost.id, attempt),
            order_id=order_id,
            warehouse_id=lost.warehouse_id,
            carrier="",
            tracking_number="",
            status=ShipmentStatus.PLANNED.value,
            booked_at=utcnow(),
            replaces_id=lost.id,
        )
        session.add(replacement)
        write_event(
            session,
            order_id,
            EventKind.SHIPMENT_RESHIPPED,
            Wording(
                message=N_("%(parcel)s replaces %(lost)s: %(units)s"),
                args={
                    "parcel": replacement.id,
                    "lost": lost.id,
                    "units": ", ".join(f"{q} x {sku}" for sku, q in sorted(units.items())),
                },
            ),
            needs_attention=None,
            needs_attention_wording=None,
        )
        return ShipmentRequest(
            order_id=order_id,
            shipment_id=replacement.id,
            warehouse_id=lost.warehouse_id,
            units=sum(units.values()),
            confirm_packing=packs_first(session, lost.warehouse_id),
        )

    key = step_key(order_id, f"{RESHIP_SHIPMENT}:{lost_id}")
    return run_once(db, key, ShipmentRequest, effect)


def parcels_to_cancel(db: Database, order_id: str) -> list[OpenParcel]:
    """The order's parcels that have not left the warehouse (planned or booked).

    Raises (non-retryable, :data:`PICKED_UP_ALREADY`) when one has: a person
    must resolve that.
    """
    with db.reading() as session:
        parcels = session.scalars(
            select(Shipment).where(Shipment.order_id == order_id).order_by(Shipment.id)
        ).all()
    moved = [p for p in parcels if ShipmentStatus(p.status) in MOVED]
    if moved:
        raise ApplicationError(
            f"parcel {moved[0].id} was picked up already ({moved[0].status}); "
            "it can only be returned",
            type=PICKED_UP_ALREADY,
            non_retryable=True,
        )
    cancellable = (ShipmentStatus.PLANNED, ShipmentStatus.BOOKED)
    return [
        OpenParcel(p.id, ShipmentStatus(p.status), p.tracking_number)
        for p in parcels
        if ShipmentStatus(p.status) in cancellable
    ]


def mark_cancelled(
    db: Database, order_id: str, parcel_id: str, key: str, confirmation: str
) -> Undone:
    """Record the parcel cancelled once (under ``key``); what the audit event says."""

    def effect(session: Session) -> Undone:
        row = session.get(Shipment, parcel_id)
        assert row is not None
        row.status = ShipmentStatus.CANCELLED.value
        detail = Wording(
            message=N_("parcel %(parcel)s cancelled (%(confirmation)s)"),
            args={"parcel": row.id, "confirmation": confirmation},
        )
        write_event(session, order_id, EventKind.SHIPMENT_CANCELLED, detail)
        return Undone(wording=detail)

    return run_once(db, key, Undone, effect)


def _parcel_units(session: Session, parcel_id: str) -> dict[str, int]:
    """Units per SKU in a parcel: its own contents (a complaint's replacement), its
    reservations, or those of the parcel it replaces."""
    parcel = session.get(Shipment, parcel_id)
    assert parcel is not None
    if parcel.contents:
        return dict(parcel.contents)
    source = parcel.replaces_id or parcel.id
    while True:
        original = session.get(Shipment, source)
        if original is None or original.replaces_id is None:
            break
        source = original.replaces_id
    units: dict[str, int] = defaultdict(int)
    for reservation in session.scalars(
        select(Reservation).where(Reservation.shipment_id == source)
    ):
        units[reservation.sku] += reservation.quantity
    return dict(units)


def packs_first(session: Session, warehouse_id: str) -> bool:
    """Whether the warehouse confirms its parcels picked and packed before booking."""
    warehouse = session.get(Warehouse, warehouse_id)
    return bool(warehouse and warehouse.confirm_packing)
