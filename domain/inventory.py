"""The inventory area: stock reservation names, results and error types."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator

from domain.messages import InboundMessage
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
    ISSUE = "issue"
    """Goods out, not for an order: scrap, samples, internal use."""
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


class StockOperation(StrEnum):
    """What the warehouse does to stock outside orders; each is one ledger transaction."""

    RECEIPT = "receipt"
    ISSUE = "issue"
    ADJUSTMENT = "adjustment"


class StockReason(StrEnum):
    """Why stock changed outside an order; each operation takes some of them."""

    SUPPLIER_DELIVERY = "supplier_delivery"
    PRODUCTION_OUTPUT = "production_output"
    CUSTOMER_RETURN = "customer_return"
    OPENING_BALANCE = "opening_balance"
    SCRAP = "scrap"
    SAMPLE = "sample"
    INTERNAL_USE = "internal_use"
    DAMAGED = "damaged"
    FOUND = "found"
    LOST = "lost"
    CORRECTION = "correction"


REASONS = {
    StockOperation.RECEIPT: (
        StockReason.SUPPLIER_DELIVERY,
        StockReason.PRODUCTION_OUTPUT,
        StockReason.CUSTOMER_RETURN,
        StockReason.OPENING_BALANCE,
    ),
    StockOperation.ISSUE: (StockReason.SCRAP, StockReason.SAMPLE, StockReason.INTERNAL_USE),
    StockOperation.ADJUSTMENT: (
        StockReason.DAMAGED,
        StockReason.FOUND,
        StockReason.LOST,
        StockReason.CORRECTION,
    ),
}
"""The reasons each operation takes (the reason codes of the ledger)."""


class StockChange(InboundMessage):
    """One stock operation as the warehouse asks for it (console, API, ``oms stock``)."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    operation: StockOperation
    sku: Annotated[str, Field(min_length=1, max_length=64)]
    warehouse_id: Annotated[str, Field(min_length=1, max_length=32)]
    quantity: Annotated[StrictInt, Field(ge=-10_000_000, le=10_000_000)]
    """Units in (receipt) or out (issue); for an adjustment, signed: +found, -lost."""
    reason: StockReason
    reference: Annotated[str, Field(max_length=64)] = ""
    """The paper behind it (delivery note, scrap report); the same reference twice for the
    same operation, product and warehouse counts once."""
    actor: Annotated[str, Field(min_length=1, max_length=64)]

    @model_validator(mode="after")
    def _fits_the_operation(self) -> StockChange:
        if self.reason not in REASONS[self.operation]:
            allowed = ", ".join(reason.value for reason in REASONS[self.operation])
            raise ValueError(
                f"reason {self.reason.value!r} is not one for a stock {self.operation.value} "
                f"(it takes {allowed})"
            )
        if self.operation is StockOperation.ADJUSTMENT:
            if self.quantity == 0:
                raise ValueError("quantity: an adjustment changes stock by at least one unit")
            if self.reason is StockReason.FOUND and self.quantity < 0:
                raise ValueError("quantity: found stock adds units (a positive change)")
            if self.reason in (StockReason.LOST, StockReason.DAMAGED) and self.quantity > 0:
                raise ValueError(
                    f"quantity: {self.reason.value} stock takes units away (a negative change)"
                )
        elif self.quantity <= 0:
            raise ValueError(f"quantity: a stock {self.operation.value} moves at least one unit")
        return self

    @property
    def on_hand_change(self) -> int:
        """The change to on hand stock."""
        return -self.quantity if self.operation is StockOperation.ISSUE else self.quantity


class StockMoved(BaseModel):
    """What a stock operation did: the level after it."""

    sku: str
    warehouse_id: str
    on_hand: int
    reserved: int
    repeated: bool = False
    """True: the same reference was booked before; nothing changed now."""
