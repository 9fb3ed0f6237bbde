"""The inventory area: stock reservation names, results and error types."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel

from domain.orders import ReservationView

RESERVE_STOCK = "reserve_stock"
"""Activity: allocate and reserve stock for every line of an order, all or nothing."""

RELEASE_RESERVATIONS = "release_reservations"
"""Activity (compensation): give back every active reservation of an order."""

INSUFFICIENT_STOCK = "InsufficientStock"
"""ApplicationError type: the order cannot be filled from stock."""


class MovementKind(StrEnum):
    """Why a stock level changed; every change is one ledger row."""

    RECEIVE = "receive"
    RESERVE = "reserve"
    RELEASE = "release"
    SHIP = "ship"
    ADJUST = "adjust"
    STOCKTAKE = "stocktake"


class ReservationStatus(StrEnum):
    """Life of a reservation."""

    ACTIVE = "active"
    RELEASED = "released"
    SHIPPED = "shipped"


class StockReservation(BaseModel):
    """Result of :data:`RESERVE_STOCK`."""

    reservations: list[ReservationView]
    allocation_reason: str
