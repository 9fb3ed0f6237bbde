"""Production and purchase orders: placing, receiving into stock, cancelling."""

from __future__ import annotations

from datetime import timedelta

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity
from temporalio.exceptions import ApplicationError

from domain.catalogue import Sourcing
from domain.compensation import Undone
from domain.inventory import MovementKind, ReservationStatus
from domain.orders import EventKind
from domain.supply import (
    CANCEL_SUPPLY_ORDER,
    PLACE_SUPPLY_ORDER,
    RECEIVE_SUPPLY,
    SupplyArrival,
    SupplyBalance,
    SupplyKind,
    SupplyOrderPlaced,
    SupplyRequest,
    SupplyStatus,
    supply_workflow_id,
)
from integrations.ports import SupplyPartner
from persistence.database import SessionFactory
from persistence.idempotency import run_once, step_key, stored_result
from persistence.models import Product, Reservation, SupplyOrder, Warehouse

from ._read_model import load_order, utcnow, write_event
from .inventory import change_stock, ensure_stock_level

log = structlog.get_logger(__name__)

NOT_REPLENISHABLE = "NotReplenishable"
"""ApplicationError type: supply was asked for a product that is only kept in stock."""

SUPPLY_KINDS = {Sourcing.MAKE: SupplyKind.PRODUCTION, Sourcing.BUY: SupplyKind.PURCHASE}


def supply_order_id(request: SupplyRequest) -> str:
    """Id of the supply order of one order line: the same as its workflow's id."""
    return supply_workflow_id(request.order_id, request.line_no)


def _placed(row: SupplyOrder) -> SupplyOrderPlaced:
    return SupplyOrderPlaced(
        supply_order_id=row.id,
        kind=SupplyKind(row.kind),
        partner=row.partner,
        partner_reference=row.partner_reference,
        warehouse_id=row.warehouse_id,
        expected_at=row.expected_at,
    )


class SupplyActivities:
    """Talk to the factory and the supplier; receive what they deliver."""

    def __init__(
        self, sessions: SessionFactory, *, factory: SupplyPartner, supplier: SupplyPartner
    ) -> None:
        self._sessions = sessions
        self._partners = {SupplyKind.PRODUCTION: factory, SupplyKind.PURCHASE: supplier}

    @activity.defn(name=PLACE_SUPPLY_ORDER)
    async def place_supply_order(self, request: SupplyRequest) -> SupplyOrderPlaced:
        """Order the shortage from the factory or supplier, delivered where the order ships from."""
        structlog.contextvars.bind_contextvars(order_id=request.order_id)
        key = step_key(request.order_id, f"{PLACE_SUPPLY_ORDER}:L{request.line_no}")
        done = await stored_result(self._sessions, key, SupplyOrderPlaced)
        if done is not None:
            return done
        async with self._sessions() as session:
            await load_order(session, request.order_id)
            product = await session.get(Product, request.sku)
            if product is None or Sourcing(product.sourcing) not in SUPPLY_KINDS:
                raise ApplicationError(
                    f"{request.sku} is not made or bought per order (sourcing "
                    f"{product.sourcing if product else 'unknown'})",
                    type=NOT_REPLENISHABLE,
                    non_retryable=True,
                )
            kind = SUPPLY_KINDS[Sourcing(product.sourcing)]
            lead_time = timedelta(days=product.lead_time_days)
            # Receive where the order's other goods wait, so it still ships in one parcel.
            warehouse_id = await session.scalar(
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
        partner = self._partners[kind]
        confirmation = await partner.place_order(
            idempotency_key=key,
            sku=request.sku,
            quantity=request.quantity,
            deliver_to=warehouse_id,
            lead_time=lead_time,
        )

        async def effect(session: AsyncSession) -> SupplyOrderPlaced:
            now = utcnow()
            row = SupplyOrder(
                id=supply_order_id(request),
                order_id=request.order_id,
                line_no=request.line_no,
                sku=request.sku,
                kind=kind.value,
                partner=partner.name,
                partner_reference=confirmation.reference,
                warehouse_id=warehouse_id,
                quantity=request.quantity,
                received_quantity=0,
                status=SupplyStatus.OPEN.value,
                expected_at=confirmation.expected_at,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            await write_event(
                session,
                request.order_id,
                EventKind.SUPPLY_ORDERED,
                f"{kind.value} order {row.id} for {request.quantity} x {request.sku} with "
                f"{partner.name} ({confirmation.reference}), expected "
                f"{confirmation.expected_at:%Y-%m-%d}",
            )
            return _placed(row)

        return await run_once(self._sessions, key, SupplyOrderPlaced, effect)

    @activity.defn(name=RECEIVE_SUPPLY)
    async def receive_supply(self, arrival: SupplyArrival) -> SupplyBalance:
        """Put the delivered units on hand and reserve what the order still needs."""
        structlog.contextvars.bind_contextvars(order_id=arrival.order_id)
        receipt = arrival.receipt

        async def effect(session: AsyncSession) -> SupplyBalance:
            supply = await session.get(SupplyOrder, arrival.supply_order_id)
            if supply is None:
                raise ApplicationError(
                    f"supply order {arrival.supply_order_id!r} does not exist", non_retryable=True
                )
            await ensure_stock_level(session, supply.sku, supply.warehouse_id)
            received = await change_stock(
                session,
                sku=supply.sku,
                warehouse_id=supply.warehouse_id,
                kind=MovementKind.RECEIVE,
                on_hand_change=receipt.quantity,
                order_id=supply.order_id,
            )
            wanted = min(receipt.quantity, supply.quantity - supply.received_quantity)
            # The units just arrived, so reserving them cannot fail unless the ledger is broken.
            reserved = wanted <= 0 or await change_stock(
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
                await self._add_to_reservation(session, supply, wanted)
            supply.received_quantity += receipt.quantity
            supply.updated_at = utcnow()
            outstanding = max(supply.quantity - supply.received_quantity, 0)
            if outstanding == 0:
                supply.status = SupplyStatus.RECEIVED.value
            await write_event(
                session,
                supply.order_id,
                EventKind.SUPPLY_RECEIVED,
                f"{receipt.quantity} x {supply.sku} on {supply.id} (note {receipt.receipt_id}) "
                f"into {supply.warehouse_id}; {outstanding} outstanding",
            )
            return SupplyBalance(received=supply.received_quantity, outstanding=outstanding)

        key = step_key(
            arrival.order_id, f"{RECEIVE_SUPPLY}:{arrival.supply_order_id}:{receipt.receipt_id}"
        )
        return await run_once(self._sessions, key, SupplyBalance, effect)

    @staticmethod
    async def _add_to_reservation(session: AsyncSession, supply: SupplyOrder, units: int) -> None:
        reservation = await session.scalar(
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

    @activity.defn(name=CANCEL_SUPPLY_ORDER)
    async def cancel_supply_order(self, request: SupplyRequest) -> Undone:
        """Cancel the open supply order with its partner and mark it cancelled (compensation)."""
        structlog.contextvars.bind_contextvars(order_id=request.order_id)
        key = step_key(request.order_id, f"{CANCEL_SUPPLY_ORDER}:L{request.line_no}")
        async with self._sessions() as session:
            supply = await session.get(SupplyOrder, supply_order_id(request))
        if supply is None:
            return Undone(detail="no supply order was placed")
        if supply.status != SupplyStatus.OPEN.value:
            return Undone(detail=f"supply order {supply.id} is {supply.status}")
        kind = SupplyKind(supply.kind)
        confirmation = await self._partners[kind].cancel_order(
            idempotency_key=key, reference=supply.partner_reference
        )

        async def effect(session: AsyncSession) -> Undone:
            row = await session.get(SupplyOrder, supply.id)
            assert row is not None
            row.status = SupplyStatus.CANCELLED.value
            row.updated_at = utcnow()
            detail = (
                f"{kind.value} order {row.id} cancelled with {row.partner} ({confirmation}); "
                f"{row.received_quantity} of {row.quantity} had arrived"
            )
            await write_event(session, row.order_id, EventKind.SUPPLY_CANCELLED, detail)
            return Undone(detail=detail)

        return await run_once(self._sessions, key, Undone, effect)
