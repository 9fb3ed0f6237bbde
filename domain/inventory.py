"""The inventory area: stock reservation names, results and error types."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel

from domain.orders import ReservationView

RESERVE_STOCK = "reserve_stock"
"""Activity: reserve what is on hand for every line; shortages go to supply."""

RELEASE_RESERVATIONS = "release_reservations"
"""Activity (compensation): give back every active reservation of an order."""

INSUFFICIENT_STOCK = "InsufficientStock"
"""ApplicationError type: a stock-only product is short; nothing was reserved."""


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


class Backorder(BaseModel):
    """The part of a line that stock cannot cover and supply must bring."""

    line_no: int
    sku: str
    quantity: int


class StockReservation(BaseModel):
    """Result of :data:`RESERVE_STOCK`."""

    reservations: list[ReservationView]
    allocation_reason: str
    backorders: list[Backorder] = []
