"""A thousand one-unit orders race for ten units: exactly ten win, nothing is oversold.

The reservations run concurrently against the real database (SQLite and
PostgreSQL), retried the way Temporal retries the activity: a retryable
failure (another order took the stock between plan and update) runs it again,
a non-retryable one ends the order. WIDGET-1 is kept in stock only, so the
policy for the 990 losers is rejection for insufficient stock, not a backorder.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import select, update
from temporalio.exceptions import ApplicationError

from activities import InventoryActivities
from domain.intake import OrderRef
from domain.inventory import INSUFFICIENT_STOCK, MovementKind, StockReservation
from persistence.database import Database
from persistence.invariants import effects_applied_once, stock_conservation
from persistence.models import Reservation, StockLevel, StockMovement
from tests.activity_runs import run
from tests.factories import line
from tests.test_activities import receive

ORDERS = 1_000
UNITS = 10
SKU, WAREHOUSE = "WIDGET-1", "WH-BER"


async def keep_only(db: Database, units: int) -> None:
    """Stocktake: ``units`` of WIDGET-1 in Berlin, none anywhere else."""
    with db.transaction() as session:
        for level in session.scalars(select(StockLevel).where(StockLevel.sku == SKU)):
            target = units if level.warehouse_id == WAREHOUSE else 0
            session.add(
                StockMovement(
                    sku=SKU,
                    warehouse_id=level.warehouse_id,
                    kind=MovementKind.STOCKTAKE.value,
                    on_hand_change=target - level.on_hand,
                    reserved_change=0,
                    created_at=datetime.now(UTC),
                )
            )
            session.execute(
                update(StockLevel)
                .where(StockLevel.sku == SKU, StockLevel.warehouse_id == level.warehouse_id)
                .values(on_hand=target)
            )


async def reserve_as_temporal_would(
    inventory: InventoryActivities, order_id: str, retries: list[int]
) -> StockReservation | ApplicationError:
    """Run the activity until it succeeds or fails for good; count the retries."""
    while True:
        try:
            return await run(inventory.reserve_stock, OrderRef(order_id=order_id))
        except ApplicationError as failure:
            if failure.non_retryable:
                return failure
        retries.append(1)
        await asyncio.sleep(0.01)


async def test_a_thousand_orders_for_ten_units_reserve_exactly_ten(
    db: Database,
) -> None:
    await keep_only(db, UNITS)
    order_ids = [f"RUSH-{n:04d}" for n in range(ORDERS)]
    await asyncio.gather(
        *(receive(db, order_id, lines=[line(SKU, 1, "19.90")]) for order_id in order_ids)
    )
    inventory = InventoryActivities(db)
    retries: list[int] = []

    outcomes = await asyncio.gather(
        *(reserve_as_temporal_would(inventory, order_id, retries) for order_id in order_ids)
    )

    won = [o for o in outcomes if isinstance(o, StockReservation)]
    lost = [o for o in outcomes if isinstance(o, ApplicationError)]
    assert (len(won), len(lost)) == (UNITS, ORDERS - UNITS)
    assert all([r.quantity for r in o.reservations] == [1] for o in won)
    assert {failure.type for failure in lost} == {INSUFFICIENT_STOCK}
    with db.reading() as session:
        level = session.get(StockLevel, (SKU, WAREHOUSE))
        assert level is not None
        assert (level.on_hand, level.reserved) == (UNITS, UNITS)
        reservations = list(session.scalars(select(Reservation)))
        assert len(reservations) == UNITS
        assert len({r.order_id for r in reservations}) == UNITS
        # Replaying the ledger in order: free stock never went below zero.
        free = 0
        for on_hand, reserved in session.execute(
            select(StockMovement.on_hand_change, StockMovement.reserved_change)
            .where(StockMovement.sku == SKU, StockMovement.warehouse_id == WAREHOUSE)
            .order_by(StockMovement.id)
        ):
            free += on_hand - reserved
            assert free >= 0
        assert free == 0
        assert stock_conservation(session) == []
        assert effects_applied_once(session) == []
    print(f"{ORDERS} orders for {UNITS} units: {len(retries)} retries after contention")
