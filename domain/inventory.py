"""The inventory area: stock reservation names, results and error types."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt

from domain.messages import InboundMessage, whole_json_number
from domain.money import typed_amount
from domain.orders import ReservationView
from domain.wording import N_, Wording, words

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
    TRANSFER_OUT = "transfer_out"
    """Out of one warehouse onto a transfer: in transit until the other receives it."""
    TRANSFER_IN = "transfer_in"


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
    allocation_wording: Wording | None = None
    """``allocation_reason`` as a catalogue message, read in each reader's language."""
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
    STOCKTAKE = "stocktake"
    """A count's variance, posted (the reference names the count)."""
    TRANSFER = "transfer"
    """Between warehouses (the reference names the transfer)."""


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


class StockChangeDocument(InboundMessage):
    """One stock operation as a system sends it over the API (its key names the actor)."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    operation: StockOperation
    sku: Annotated[str, Field(min_length=1, max_length=64)]
    warehouse_id: Annotated[str, Field(min_length=1, max_length=32)]
    quantity: Annotated[
        StrictInt, Field(ge=-10_000_000, le=10_000_000), BeforeValidator(whole_json_number)
    ]
    """Units in (receipt) or out (issue); for an adjustment, signed: +found, -lost."""
    reason: StockReason
    reference: Annotated[str, Field(max_length=64)] = ""
    """The paper behind it (delivery note, scrap report); the same reference twice for the
    same operation, product and warehouse counts once."""

    def problem(self) -> Wording | None:
        """Why this operation cannot be booked as asked, beyond its fields' shapes (the
        reason must be one of the operation's, the quantity go the way the reason says);
        None when it can."""
        operation = {"operation": self.operation.value}
        if self.reason not in REASONS[self.operation]:
            allowed = ", ".join(reason.value for reason in REASONS[self.operation])
            return Wording(
                message=N_(
                    "reason %(reason)s is not one for a stock %(operation)s (it takes %(allowed)s)"
                ),
                args={"reason": repr(self.reason.value), "allowed": allowed},
                terms=operation,
            )
        if self.operation is not StockOperation.ADJUSTMENT:
            if self.quantity <= 0:
                return Wording(
                    message=N_("quantity: a stock %(operation)s moves at least one unit"),
                    terms=operation,
                )
            return None
        if self.quantity == 0:
            return Wording(message=N_("quantity: an adjustment changes stock by at least one unit"))
        if self.reason is StockReason.FOUND and self.quantity < 0:
            return Wording(message=N_("quantity: found stock adds units (a positive change)"))
        if self.reason in (StockReason.LOST, StockReason.DAMAGED) and self.quantity > 0:
            return words(
                N_("quantity: %(reason)s stock takes units away (a negative change)"),
                reason=self.reason.value,
            )
        return None

    @property
    def on_hand_change(self) -> int:
        """The change to on hand stock."""
        return -self.quantity if self.operation is StockOperation.ISSUE else self.quantity

    def by(self, actor: str) -> StockChange:
        """This operation done by ``actor``."""
        return StockChange(**self.model_dump(), actor=actor)


class StockChange(StockChangeDocument):
    """One stock operation as the warehouse asks for it (console, API, ``oms stock``)."""

    actor: Annotated[str, Field(min_length=1, max_length=64)]


class StockMoved(BaseModel):
    """What a stock operation did: the level after it."""

    sku: str
    warehouse_id: str
    on_hand: int
    reserved: int
    repeated: bool = False
    """True: the same reference was booked before; nothing changed now."""


# --- transfers -------------------------------------------------------------------------


class TransferStatus(StrEnum):
    """Life of a transfer between warehouses."""

    IN_TRANSIT = "in_transit"
    """Out of the sending warehouse, not yet in the receiving one."""
    RECEIVED = "received"


class TransferLine(InboundMessage):
    """Units of one product on a transfer."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    sku: Annotated[str, Field(min_length=1, max_length=64)]
    quantity: Annotated[StrictInt, Field(ge=1, le=10_000_000), BeforeValidator(whole_json_number)]


class TransferDocument(InboundMessage):
    """A transfer as a system sends it over the API (its key names the actor)."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    from_warehouse_id: Annotated[str, Field(min_length=1, max_length=32)]
    to_warehouse_id: Annotated[str, Field(min_length=1, max_length=32)]
    lines: Annotated[list[TransferLine], Field(min_length=1, max_length=500)]
    reference: Annotated[str, Field(max_length=64)] = ""
    """The transfer note; the same reference twice sends once."""

    def problem(self) -> Wording | None:
        """Why this transfer cannot be sent as asked, beyond its fields' shapes; None when
        it can."""
        if self.from_warehouse_id == self.to_warehouse_id:
            return Wording(message=N_("to_warehouse_id: a transfer goes to another warehouse"))
        skus = [line.sku for line in self.lines]
        repeated = sorted({sku for sku in skus if skus.count(sku) > 1})
        if repeated:
            return words(
                N_("lines: each product once per transfer (%(skus)s)"), skus=", ".join(repeated)
            )
        return None

    def by(self, actor: str) -> TransferRequest:
        """This transfer sent by ``actor``."""
        return TransferRequest(**self.model_dump(), actor=actor)


class TransferRequest(TransferDocument):
    """Send stock from one warehouse to another (console, API, ``oms stock transfer``)."""

    actor: Annotated[str, Field(min_length=1, max_length=64)]


class TransferView(BaseModel):
    """A transfer as people and clients read it."""

    id: int
    from_warehouse_id: str
    to_warehouse_id: str
    status: TransferStatus
    lines: list[TransferLine]
    reference: str
    dispatched_by: str
    dispatched_at: datetime
    received_by: str | None = None
    received_at: datetime | None = None
    repeated: bool = False
    """True: the reference was sent before; this is that transfer, nothing changed now."""


# --- stocktakes ------------------------------------------------------------------------


class StocktakeStatus(StrEnum):
    """Life of a count."""

    OPEN = "open"
    """Counters enter what they find."""
    POSTED = "posted"
    """Variances written to the ledger as adjustments."""
    CANCELLED = "cancelled"


class StocktakeOpening(InboundMessage):
    """Open a count for a warehouse: all its products, or the ones named."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    warehouse_id: Annotated[str, Field(min_length=1, max_length=32)]
    skus: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=64)]], Field(max_length=5000)
    ] = []
    """Empty: every product the warehouse keeps a level for."""
    approval_threshold: Annotated[
        Decimal, Field(ge=0, le=10_000_000, decimal_places=2), BeforeValidator(typed_amount)
    ] = Decimal("100.00")
    """A variance worth more than this at cost needs a supervisor's approval before posting."""
    actor: Annotated[str, Field(min_length=1, max_length=64)]


class StocktakeLineView(BaseModel):
    """One product of a count. ``book`` and ``variance`` are for supervisors only: a
    counter's view leaves them out (a blind count)."""

    sku: str
    name: str
    unit: str
    counted: int | None
    counted_by: str | None
    book: int | None = None
    """On hand in the book when the count was entered."""
    variance: int | None = None
    """Counted minus book: what posting adds (negative: takes away)."""
    variance_value: Decimal | None = None
    needs_approval: bool = False
    approved_by: str | None = None


class StocktakeView(BaseModel):
    """A count and its lines."""

    id: int
    warehouse_id: str
    status: StocktakeStatus
    approval_threshold: Decimal
    opened_by: str
    opened_at: datetime
    closed_by: str | None
    closed_at: datetime | None
    lines: list[StocktakeLineView]

    @property
    def counted(self) -> int:
        """Lines counted so far."""
        return sum(1 for line in self.lines if line.counted is not None)

    def posting_problems(self) -> list[str]:
        """Why the count cannot be posted yet: uncounted lines and unapproved variances
        above the threshold (empty: posting is accepted, stock permitting)."""
        problems = [f"{line.sku}: not counted" for line in self.lines if line.counted is None]
        problems += [
            f"{line.sku}: variance {line.variance:+d} worth {line.variance_value} "
            "needs a supervisor's approval"
            for line in self.lines
            if line.needs_approval
        ]
        return problems

    @property
    def postable(self) -> bool:
        """Posting would be accepted now, by the rule of :meth:`posting_problems` (the
        console offers it only then; also on a counter's blind view)."""
        return all(line.counted is not None and not line.needs_approval for line in self.lines)

    def blind(self) -> StocktakeView:
        """The view for counters: no book figures, no variances."""
        return self.model_copy(
            update={
                "lines": [
                    line.model_copy(update={"book": None, "variance": None, "variance_value": None})
                    for line in self.lines
                ]
            }
        )
