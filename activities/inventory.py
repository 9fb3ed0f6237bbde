"""Reserve and release stock: adapters onto :mod:`persistence.transactions.stock`."""

from __future__ import annotations

import structlog
from temporalio import activity

from domain.compensation import Undone, UndoRequest
from domain.intake import OrderRef
from domain.inventory import RELEASE_RESERVATIONS, RESERVE_STOCK, StockReservation
from persistence.database import Database
from persistence.transactions import stock

log = structlog.get_logger(__name__)


class InventoryActivities:
    """Reserve and release stock."""

    def __init__(self, db: Database) -> None:
        self._db = db

    @activity.defn(name=RESERVE_STOCK)
    def reserve_stock(self, ref: OrderRef) -> StockReservation:
        """Allocate the lines to warehouses and reserve what is on hand (see the transaction)."""
        structlog.contextvars.bind_contextvars(order_id=ref.order_id)
        result = stock.reserve_stock(self._db, ref.order_id)
        log.info("stock reserved", picks=len(result.reservations), reason=result.allocation_reason)
        return result

    @activity.defn(name=RELEASE_RESERVATIONS)
    def release_reservations(self, ref: UndoRequest) -> Undone:
        """Give back every active reservation of the order (compensation)."""
        structlog.contextvars.bind_contextvars(order_id=ref.order_id)
        return stock.release_reservations(self._db, ref.order_id)
