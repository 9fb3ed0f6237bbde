"""Production and purchase orders: placing, receiving into stock, cancelling."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from temporalio.exceptions import ApplicationError

from domain.catalogue import Sourcing
from domain.compensation import Undone
from domain.inventory import MovementKind, ReservationStatus
from domain.orders import EventKind
from domain.supply import (
    RECEIVE_SUPPLY,
    SupplyArrival,
    SupplyBalance,
    SupplyKind,
    SupplyOrderPlaced,
    SupplyRequest,
    SupplyStatus,
    supply_workflow_id,
)
from domain.wording import N_, Wording
from persistence.database import Database
from persistence.idempotency import run_once, step_key
from persistence.models import Product, Reservation, SupplyOrder, Warehouse

from .records import load_order, utcnow, write_event
from .stock import change_stock, ensure_stock_level

NOT_REPLENISHABLE = "NotReplenishable"
"""ApplicationError type: supply was asked for a product that is only kept in stock."""

SUPPLY_KINDS = {Sourcing.MAKE: SupplyKind.PRODUCTION, Sourcing.BUY: SupplyKind.PURCHASE}


def supply_order_id(request: SupplyRequest) -> str:
    """Id of the supply order of one order line: the same as its workflow's id."""
    return supply_workflow_id(request.order_id, request.line_no)


@dataclass(frozen=True)
class SupplyPlan:
    """Who makes or buys a shortage, how long it takes, and where it is delivered."""

    kind: SupplyKind
    lead_time: timedelta
    warehouse_id: str


@dataclass(frozen=True)
class OpenSupply:
    """A supply order as its cancellation sees it."""

    supply_order_id: str
    kind: SupplyKind
    status: SupplyStatus
    partner_reference: str


def plan_supply(db: Database, request: SupplyRequest) -> SupplyPlan:
    """How the line's shortage is supplied, delivered where the order's other goods wait."""
    with db.reading() as session:
        load_order(session, request.order_id)
        product = session.get(Product, request.sku)
        if product is None or Sourcing(product.sourcing) not in SUPPLY_KINDS:
            raise ApplicationError(
                f"{request.sku} is not made or bought per order (sourcing "
                f"{product.sourcing if product else 'unknown'})",
                type=NOT_REPLENISHABLE,
                non_retryable=True,
            )
        # Receive where the order's other goods wait, so it still ships in one parcel.
        warehouse_id = session.scalar(
            select(Warehouse.id)
            .outerjoin(
                Reservation,
                (Reservation.warehouse_id == Warehouse.id)
                & (Reservation.order_id == request.order_id)
                & (Reservation.status == ReservationStatus.ACTIVE.value),
            )
            .order_by(Reservation.id.is_(None), Warehouse.priority, Warehouse.id)
            .limit(1)
        )
    if warehouse_id is None:
        raise ApplicationError("no warehouse is set up to receive supply", non_retryable=True)
    return SupplyPlan(
        kind=SUPPLY_KINDS[Sourcing(product.sourcing)],
        lead_time=timedelta(days=product.lead_time_days),
        warehouse_id=warehouse_id,
    )


def record_supply_order(
    db: Database,
    request: SupplyRequest,
    key: str,
    plan: SupplyPlan,
    *,
    partner: str,
    partner_reference: str,
    expected_at: datetime,
) -> SupplyOrderPlaced:
    """Record the supply order the partner confirmed, once (under ``key``)."""

    def effect(session: Session) -> SupplyOrderPlaced:
        now = utcnow()
        row = SupplyOrder(
            id=supply_order_id(request),
            order_id=request.order_id,
            line_no=request.line_no,
            sku=request.sku,
            kind=plan.kind.value,
            partner=partner,
            partner_reference=partner_reference,
            warehouse_id=plan.warehouse_id,
            quantity=request.quantity,
            received_quantity=0,
            status=SupplyStatus.OPEN.value,
            expected_at=expected_at,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        # The receiving warehouse keeps the product from now on: its level shows the
        # units on order as incoming before they arrive.
        ensure_stock_level(session, request.sku, plan.warehouse_id)
        write_event(
            session,
            request.order_id,
            EventKind.SUPPLY_ORDERED,
            Wording(
                message=N_(
                    "%(kind)s order %(supply)s for %(quantity)s x %(sku)s with %(partner)s "
                    "(%(reference)s), expected %(expected)s"
                ),
                args={
                    "supply": row.id,
                    "quantity": request.quantity,
                    "sku": request.sku,
                    "partner": partner,
                    "reference": partner_reference,
                },
                terms={"kind": plan.kind.value},
                days={"expected": expected_at.date()},
            ),
        )
        return SupplyOrderPlaced(
            supply_order_id=row.id,
            kind=plan.kind,
            partner=partner,
            partner_reference=partner_reference,
            warehouse_id=plan.warehouse_id,
            expected_at=expected_at,
        )

    return run_once(db, key, SupplyOrderPlaced, effect)


def receive_supply(db: Database, arrival: SupplyArrival) -> SupplyBalance:
    """Put the delivered units on hand and reserve what the order still needs."""
    receipt = arrival.receipt

    def effect(session: Session) -> SupplyBalance:
        supply = session.get(SupplyOrder, arrival.supply_order_id)
        if supply is None:
            raise ApplicationError(
                f"supply order {arrival.supply_order_id!r} does not exist", non_retryable=True
            )
        ensure_stock_level(session, supply.sku, supply.warehouse_id)
        received = change_stock(
            session,
            sku=supply.sku,
            warehouse_id=supply.warehouse_id,
            kind=MovementKind.RECEIVE,
            on_hand_change=receipt.quantity,
            order_id=supply.order_id,
            actor=receipt.actor or "system",
        )
        wanted = min(receipt.quantity, supply.quantity - supply.received_quantity)
        # The units just arrived, so reserving them cannot fail unless the ledger is broken.
        reserved = wanted <= 0 or change_stock(
            session,
            sku=supply.sku,
            warehouse_id=supply.warehouse_id,
            kind=MovementKind.RESERVE,
            reserved_change=wanted,
            order_id=supply.order_id,
        )
        if not (received and reserved):
            raise RuntimeError(
                f"stock level {supply.sku}@{supply.warehouse_id} refused the receipt of "
                f"{receipt.quantity} unit(s)"
            )
        if wanted > 0:
            _add_to_reservation(session, supply, wanted)
        supply.received_quantity += receipt.quantity
        supply.updated_at = utcnow()
        outstanding = max(supply.quantity - supply.received_quantity, 0)
        if outstanding == 0:
            supply.status = SupplyStatus.RECEIVED.value
        write_event(
            session,
            supply.order_id,
            EventKind.SUPPLY_RECEIVED,
            Wording(
                message=N_(
                    "%(quantity)s x %(sku)s on %(supply)s (note %(note)s) into %(warehouse)s; "
                    "%(outstanding)s outstanding"
                ),
                args={
                    "quantity": receipt.quantity,
                    "sku": supply.sku,
                    "supply": supply.id,
                    "note": receipt.receipt_id,
                    "warehouse": supply.warehouse_id,
                    "outstanding": outstanding,
                },
            ),
            actor=receipt.actor or "system",
        )
        return SupplyBalance(received=supply.received_quantity, outstanding=outstanding)

    key = step_key(
        arrival.order_id, f"{RECEIVE_SUPPLY}:{arrival.supply_order_id}:{receipt.receipt_id}"
    )
    return run_once(db, key, SupplyBalance, effect)


def _add_to_reservation(session: Session, supply: SupplyOrder, units: int) -> None:
    reservation = session.scalar(
        select(Reservation).where(
            Reservation.order_id == supply.order_id,
            Reservation.line_no == supply.line_no,
            Reservation.warehouse_id == supply.warehouse_id,
            Reservation.status == ReservationStatus.ACTIVE.value,
        )
    )
    if reservation is not None:
        reservation.quantity += units
        return
    session.add(
        Reservation(
            order_id=supply.order_id,
            line_no=supply.line_no,
            sku=supply.sku,
            warehouse_id=supply.warehouse_id,
            quantity=units,
            status=ReservationStatus.ACTIVE.value,
            created_at=utcnow(),
        )
    )


def supply_order_of(db: Database, request: SupplyRequest) -> OpenSupply | None:
    """The line's supply order, or None if none was placed."""
    with db.reading() as session:
        row = session.get(SupplyOrder, supply_order_id(request))
        if row is None:
            return None
        return OpenSupply(
            row.id, SupplyKind(row.kind), SupplyStatus(row.status), row.partner_reference
        )


def mark_supply_cancelled(db: Database, supply_id: str, key: str, confirmation: str) -> Undone:
    """Record the supply order cancelled with its partner, once (under ``key``)."""

    def effect(session: Session) -> Undone:
        row = session.get(SupplyOrder, supply_id)
        assert row is not None
        row.status = SupplyStatus.CANCELLED.value
        row.updated_at = utcnow()
        detail = Wording(
            message=N_(
                "%(kind)s order %(supply)s cancelled with %(partner)s (%(confirmation)s); "
                "%(received)s of %(quantity)s had arrived"
            ),
            args={
                "supply": row.id,
                "partner": row.partner,
                "confirmation": confirmation,
                "received": row.received_quantity,
                "quantity": row.quantity,
            },
            terms={"kind": row.kind},
        )
        write_event(session, row.order_id, EventKind.SUPPLY_CANCELLED, detail)
        return Undone(wording=detail)

    return run_once(db, key, Undone, effect)
