"""Production and purchase orders with the factory and the supplier: adapters onto
:mod:`persistence.transactions.supply`."""

from __future__ import annotations

import structlog
from temporalio import activity

from domain.compensation import Undone
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
)
from domain.wording import N_, Wording
from integrations.ports import SupplyPartner
from persistence.database import Database
from persistence.idempotency import step_key, stored_result
from persistence.transactions import supply

log = structlog.get_logger(__name__)


class SupplyActivities:
    """Talk to the factory and the supplier; receive what they deliver."""

    def __init__(self, db: Database, *, factory: SupplyPartner, supplier: SupplyPartner) -> None:
        self._db = db
        self._partners = {SupplyKind.PRODUCTION: factory, SupplyKind.PURCHASE: supplier}

    @activity.defn(name=PLACE_SUPPLY_ORDER)
    async def place_supply_order(self, request: SupplyRequest) -> SupplyOrderPlaced:
        """Order the shortage from the factory or supplier, delivered where the order ships from."""
        structlog.contextvars.bind_contextvars(order_id=request.order_id)
        key = step_key(request.order_id, f"{PLACE_SUPPLY_ORDER}:L{request.line_no}")
        done = await self._db.run(stored_result, self._db, key, SupplyOrderPlaced)
        if done is not None:
            return done
        plan = await self._db.run(supply.plan_supply, self._db, request)
        partner = self._partners[plan.kind]
        confirmation = await partner.place_order(
            idempotency_key=key,
            sku=request.sku,
            quantity=request.quantity,
            deliver_to=plan.warehouse_id,
            lead_time=plan.lead_time,
        )
        return await self._db.run(
            supply.record_supply_order,
            self._db,
            request,
            key,
            plan,
            partner=partner.name,
            partner_reference=confirmation.reference,
            expected_at=confirmation.expected_at,
        )

    @activity.defn(name=RECEIVE_SUPPLY)
    def receive_supply(self, arrival: SupplyArrival) -> SupplyBalance:
        """Put the delivered units on hand and reserve what the order still needs."""
        structlog.contextvars.bind_contextvars(order_id=arrival.order_id)
        return supply.receive_supply(self._db, arrival)

    @activity.defn(name=CANCEL_SUPPLY_ORDER)
    async def cancel_supply_order(self, request: SupplyRequest) -> Undone:
        """Cancel the open supply order with its partner and mark it cancelled (compensation)."""
        structlog.contextvars.bind_contextvars(order_id=request.order_id)
        key = step_key(request.order_id, f"{CANCEL_SUPPLY_ORDER}:L{request.line_no}")
        placed = await self._db.run(supply.supply_order_of, self._db, request)
        if placed is None:
            return Undone(wording=Wording(message=N_("no supply order was placed")))
        if placed.status is not SupplyStatus.OPEN:
            return Undone(
                wording=Wording(
                    message=N_("supply order %(supply)s is %(status)s"),
                    args={"supply": placed.supply_order_id},
                    terms={"status": placed.status.value},
                )
            )
        confirmation = await self._partners[placed.kind].cancel_order(
            idempotency_key=key, reference=placed.partner_reference
        )
        return await self._db.run(
            supply.mark_supply_cancelled, self._db, placed.supply_order_id, key, confirmation
        )
