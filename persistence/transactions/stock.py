"""Stock: reservation, release and every change of a level, each with its ledger row."""

from __future__ import annotations

from collections import defaultdict

from pydantic import BaseModel
from sqlalchemy import Integer, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from domain.allocation import LineDemand, plan_allocation
from domain.catalogue import Sourcing
from domain.compensation import Undone
from domain.inventory import (
    INSUFFICIENT_STOCK,
    RELEASE_RESERVATIONS,
    RESERVE_STOCK,
    Backorder,
    MovementKind,
    ReservationStatus,
    StockChange,
    StockMoved,
    StockOperation,
    StockReservation,
)
from domain.orders import EventKind, OrderStatus, ReservationView
from domain.stock_alerts import AlertKind
from domain.wording import N_, Wording, words
from persistence.database import Database
from persistence.idempotency import run_once, step_key, store_result, stored_result
from persistence.models import (
    OrderLine,
    Product,
    Reservation,
    StockAlert,
    StockLevel,
    StockMovement,
    Warehouse,
    table_of,
)

from .records import listing, load_order, utcnow, write_event

STOCK_CONTENTION = "StockContention"
"""ApplicationError type (retryable): another order took the stock between plan and update."""

# The reservation is the contended path: its statements are built once and run with
# parameters, and its rows go in as plain Core inserts, not through the ORM's bulk path.
_LEVELS = table_of(StockLevel)
_ON_HAND_AFTER = _LEVELS.c.on_hand + bindparam("on_hand_change", type_=Integer)
_RESERVED_AFTER = _LEVELS.c.reserved + bindparam("reserved_change", type_=Integer)
_CHANGE_LEVEL = (
    update(_LEVELS)
    .where(
        _LEVELS.c.sku == bindparam("level_sku"),
        _LEVELS.c.warehouse_id == bindparam("level_warehouse"),
        _ON_HAND_AFTER >= 0,
        _RESERVED_AFTER >= 0,
        _ON_HAND_AFTER - _RESERVED_AFTER >= 0,
    )
    .values(on_hand=_ON_HAND_AFTER, reserved=_RESERVED_AFTER)
)
"""Changes a level only if it stays valid: the check and the row lock are one step."""
_INSERT_RESERVATIONS = insert(table_of(Reservation))
_INSERT_MOVEMENTS = insert(table_of(StockMovement))
_DEMAND_AND_STOCK = (
    select(
        OrderLine.line_no,
        OrderLine.sku,
        OrderLine.quantity,
        Product.sourcing,
        StockLevel.warehouse_id,
        StockLevel.on_hand - StockLevel.reserved,
    )
    .join(Product, Product.sku == OrderLine.sku)
    .outerjoin(StockLevel, StockLevel.sku == OrderLine.sku)
    .outerjoin(Warehouse, Warehouse.id == StockLevel.warehouse_id)
    .where(OrderLine.order_id == bindparam("order_id"))
    .order_by(Warehouse.priority, Warehouse.id, OrderLine.line_no)
)


def change_stock(
    session: Session,
    *,
    sku: str,
    warehouse_id: str,
    kind: MovementKind,
    on_hand_change: int = 0,
    reserved_change: int = 0,
    order_id: str | None = None,
    reason: str = "",
    actor: str = "system",
    reference: str = "",
) -> bool:
    """Apply a stock change only if the level stays valid, and write its ledger row.

    Returns False (writing nothing) when the change would break the level.
    """
    if not apply_stock_change(
        session,
        sku=sku,
        warehouse_id=warehouse_id,
        on_hand_change=on_hand_change,
        reserved_change=reserved_change,
    ):
        return False
    session.add(
        StockMovement(
            sku=sku,
            warehouse_id=warehouse_id,
            kind=kind.value,
            on_hand_change=on_hand_change,
            reserved_change=reserved_change,
            order_id=order_id,
            created_at=utcnow(),
            reason=reason,
            actor=actor,
            reference=reference,
        )
    )
    if on_hand_change - reserved_change > 0:  # units came free: a receipt, a release
        _end_stock_out(session, sku, warehouse_id)
    return True


STOCK_OUT_ENDED = "units free again"
"""How a stock-out alert ended when a stock change freed units, before the next review."""


def _end_stock_out(session: Session, sku: str, warehouse_id: str) -> None:
    """Clear the open stock-out alert of a level that has units free again, at once: the
    stock page's "out of stock now" then agrees with its table (the review raises it again
    if the level runs out)."""
    free = session.scalar(
        select(StockLevel.on_hand - StockLevel.reserved).where(
            StockLevel.sku == sku, StockLevel.warehouse_id == warehouse_id
        )
    )
    if free is None or free <= 0:
        return
    session.execute(
        update(StockAlert)
        .where(
            StockAlert.sku == sku,
            StockAlert.warehouse_id == warehouse_id,
            StockAlert.kind == AlertKind.STOCK_OUT.value,
            StockAlert.cleared_at.is_(None),
        )
        .values(cleared_at=utcnow(), cleared_detail=STOCK_OUT_ENDED)
    )


class StockOperationError(ValueError):
    """A stock operation refused; the message says why, for a person to read (given as a
    wording, the console shows it in the reader's language; ``str`` is its English)."""

    def __init__(self, why: str | Wording) -> None:
        super().__init__(why.english() if isinstance(why, Wording) else why)
        self.wording = why if isinstance(why, Wording) else None


class ReusedReferenceError(StockOperationError):
    """A reference (or a form's one-time id) already booked asks for something else: the
    first booking stands and nothing changes; the message names both."""


class BookedRequest(BaseModel):
    """What an operation booked under a reference asked for, stored beside its answer so a
    repeat asking for something else is told, not answered "repeated"."""

    asked: str


def book_stock_change(db: Database, change: StockChange, *, once: str = "") -> StockMoved:
    """Receive, issue or adjust stock outside orders: one ledger row with its reason, actor
    and reference, refused when it would leave fewer units on hand than are reserved for
    orders (a count never breaks a running order's reservation) or than none.

    With a reference, the same operation on the same product and warehouse books once:
    a repeat changes nothing and gets the first answer with ``repeated`` set. ``once``
    does the same without a reference (a console form's one-time id: a double click).
    A repeat asking for another quantity or reason is refused (:class:`ReusedReferenceError`).
    """
    problem = change.problem()
    if problem:
        raise StockOperationError(problem)
    booked = False

    def effect(session: Session) -> StockMoved:
        nonlocal booked
        if session.get(Product, change.sku) is None:
            raise StockOperationError(
                words(N_("sku %(sku)s: no such product"), sku=repr(change.sku))
            )
        if session.get(Warehouse, change.warehouse_id) is None:
            raise StockOperationError(
                words(
                    N_("warehouse %(warehouse)s: no such warehouse"),
                    warehouse=repr(change.warehouse_id),
                )
            )
        ensure_stock_level(session, change.sku, change.warehouse_id)
        moved = change_stock(
            session,
            sku=change.sku,
            warehouse_id=change.warehouse_id,
            kind=OPERATION_KINDS[change.operation],
            on_hand_change=change.on_hand_change,
            reason=change.reason.value,
            actor=change.actor,
            reference=change.reference,
        )
        level = session.get(StockLevel, (change.sku, change.warehouse_id))
        assert level is not None
        session.refresh(level)
        if not moved:
            raise StockOperationError(
                Wording(
                    message=N_(
                        "%(sku)s in %(warehouse)s: %(operation)s of %(quantity)s refused: "
                        "%(on_hand)s on hand, %(reserved)s reserved for orders; stock may fall "
                        "neither below zero nor below what orders hold"
                    ),
                    args={
                        "sku": change.sku,
                        "warehouse": change.warehouse_id,
                        "quantity": change.quantity,
                        "on_hand": level.on_hand,
                        "reserved": level.reserved,
                    },
                    terms={"operation": change.operation.value},
                )
            )
        booked = True
        if key:
            store_result(session, _asked_key(key), BookedRequest(asked=asked))
        return StockMoved(
            sku=change.sku,
            warehouse_id=change.warehouse_id,
            on_hand=level.on_hand,
            reserved=level.reserved,
        )

    asked = (
        f"{change.operation.value} of {change.quantity} x {change.sku} in "
        f"{change.warehouse_id} ({change.reason.value})"
    )
    if change.reference:
        key = (
            f"stock:{change.operation.value}:{change.warehouse_id}:{change.sku}:{change.reference}"
        )
    elif once:
        key = f"stock:once:{once}"
    else:
        key = ""
        with db.transaction() as session:
            return effect(session)
    answer = run_once(db, key, StockMoved, effect)
    if booked:
        return answer
    first = stored_result(db, _asked_key(key), BookedRequest)
    if first is not None and first.asked != asked:
        used = f"reference {change.reference!r}" if change.reference else "this form"
        raise ReusedReferenceError(
            f"{used} was booked before as {first.asked}; this request differs ({asked}): "
            "nothing was booked; "
            + (
                "give another operation another reference"
                if change.reference
                else "reload the form"
            )
        )
    return answer.model_copy(update={"repeated": True})


def _asked_key(key: str) -> str:
    """Where what an operation booked under ``key`` asked for is kept."""
    return f"{key}:asked"


OPERATION_TERMS = (N_("receipt"), N_("issue"), N_("adjustment"))
"""The operations (:class:`StockOperation`'s values) as the reader's words name them."""

OPERATION_KINDS = {
    StockOperation.RECEIPT: MovementKind.RECEIVE,
    StockOperation.ISSUE: MovementKind.ISSUE,
    StockOperation.ADJUSTMENT: MovementKind.ADJUST,
}


def apply_stock_change(
    session: Session,
    *,
    sku: str,
    warehouse_id: str,
    on_hand_change: int = 0,
    reserved_change: int = 0,
) -> bool:
    """Change a stock level only if it stays valid; False (changing nothing) if it would not.

    The condition is part of the UPDATE, so on PostgreSQL the row lock and the
    check are one atomic step: a reservation can never take more than is free.
    The caller writes the ledger row in the same transaction.
    """
    result = session.execute(
        _CHANGE_LEVEL,
        {
            "level_sku": sku,
            "level_warehouse": warehouse_id,
            "on_hand_change": on_hand_change,
            "reserved_change": reserved_change,
        },
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def ensure_stock_level(session: Session, sku: str, warehouse_id: str) -> None:
    """Create the (empty) stock level of ``sku`` in ``warehouse_id`` if it has none yet.

    Goods can arrive where a product was never kept before (a supply order
    delivered to the warehouse an order ships from).
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(StockLevel)
        .values(sku=sku, warehouse_id=warehouse_id, on_hand=0, reserved=0)
        .on_conflict_do_nothing(index_elements=[StockLevel.sku, StockLevel.warehouse_id])
    )


def reserve_stock(db: Database, order_id: str) -> StockReservation:
    """Allocate the lines to warehouses and reserve what is on hand.

    What stock cannot cover is returned as backorders for supply to bring,
    unless a short product is kept in stock only: then nothing is reserved
    and the order is rejected (:data:`INSUFFICIENT_STOCK`).
    """

    def effect(session: Session) -> StockReservation:
        demand, sourcing, available = _demand_and_stock(session, order_id)
        plan = plan_allocation(demand, available)
        stock_only = [s for s in plan.shortages if sourcing.get(s.sku) == Sourcing.STOCK]
        if stock_only:
            detail = "; ".join(
                f"line {s.line_no} {s.sku}: requested {s.requested}, available {s.available}"
                " (kept in stock only, not made or bought per order)"
                for s in stock_only
            )
            raise ApplicationError(
                f"insufficient stock: {detail}",
                type=INSUFFICIENT_STOCK,
                non_retryable=True,
                category=ApplicationErrorCategory.BENIGN,  # a business outcome, not an error
            )
        backorders = [
            Backorder(line_no=s.line_no, sku=s.sku, quantity=s.requested - s.available)
            for s in plan.shortages
        ]
        reason = plan.wording or Wording(message="%(reason)s", args={"reason": plan.reason})
        if backorders:
            reason = Wording(
                message=N_("%(plan)s; to supply: %(lines)s"),
                parts={
                    "plan": reason,
                    "lines": listing(
                        Wording(
                            message=N_("line %(line)s %(quantity)s x %(sku)s"),
                            args={"line": b.line_no, "quantity": b.quantity, "sku": b.sku},
                        )
                        for b in backorders
                    ),
                },
            )
        now = utcnow()
        if plan.picks:
            session.execute(
                _INSERT_RESERVATIONS,
                [
                    {
                        "order_id": order_id,
                        "line_no": pick.line_no,
                        "sku": pick.sku,
                        "warehouse_id": pick.warehouse_id,
                        "quantity": pick.quantity,
                        "status": ReservationStatus.ACTIVE.value,
                        "created_at": now,
                    }
                    for pick in plan.picks
                ],
            )
            session.execute(
                _INSERT_MOVEMENTS,
                [
                    {
                        "sku": pick.sku,
                        "warehouse_id": pick.warehouse_id,
                        "kind": MovementKind.RESERVE.value,
                        "on_hand_change": 0,
                        "reserved_change": pick.quantity,
                        "order_id": order_id,
                        "created_at": now,
                    }
                    for pick in plan.picks
                ],
            )
        write_event(
            session,
            order_id,
            EventKind.STOCK_RESERVED,
            reason,
            status=OrderStatus.AWAITING_SUPPLY if backorders else OrderStatus.ALLOCATED,
            allocation_reason=reason.english(),
            allocation_wording=reason,
        )
        # The stock levels last: on PostgreSQL a level's row lock is then held only
        # until the commit, so contending orders queue for it as briefly as they can.
        # A level another order emptied since the read rolls all of this back.
        for pick in plan.picks:
            if not apply_stock_change(
                session,
                sku=pick.sku,
                warehouse_id=pick.warehouse_id,
                reserved_change=pick.quantity,
            ):
                raise ApplicationError(
                    f"{pick.sku} in {pick.warehouse_id} was taken by another order; re-planning",
                    type=STOCK_CONTENTION,
                )
        views = [
            ReservationView(
                line_no=pick.line_no,
                sku=pick.sku,
                warehouse_id=pick.warehouse_id,
                quantity=pick.quantity,
                status=ReservationStatus.ACTIVE.value,
            )
            for pick in plan.picks
        ]
        return StockReservation(
            reservations=views,
            allocation_reason=reason.english(),
            allocation_wording=reason,
            backorders=backorders,
        )

    return run_once(db, step_key(order_id, RESERVE_STOCK), StockReservation, effect)


def _demand_and_stock(
    session: Session, order_id: str
) -> tuple[list[LineDemand], dict[str, Sourcing], dict[str, dict[str, int]]]:
    """The order's lines, how each product is sourced and what is free where: one query."""
    rows = session.execute(_DEMAND_AND_STOCK, {"order_id": order_id})
    lines: dict[int, LineDemand] = {}
    sourcing: dict[str, Sourcing] = {}
    available: dict[str, dict[str, int]] = defaultdict(dict)
    for line_no, sku, quantity, kind, warehouse_id, free in rows:
        lines[line_no] = LineDemand(line_no=line_no, sku=sku, quantity=quantity)
        sourcing[sku] = Sourcing(kind)
        if warehouse_id is not None:
            available[warehouse_id][sku] = free
    if not lines:  # an order always has lines: say which order is missing
        load_order(session, order_id)
    return [lines[n] for n in sorted(lines)], sourcing, available


def release_reservations(db: Database, order_id: str) -> Undone:
    """Give back every active reservation of the order (compensation)."""

    def effect(session: Session) -> Undone:
        active = (
            session.scalars(
                select(Reservation).where(
                    Reservation.order_id == order_id,
                    Reservation.status == ReservationStatus.ACTIVE.value,
                )
            )
        ).all()
        units = 0
        for reservation in active:
            released = change_stock(
                session,
                sku=reservation.sku,
                warehouse_id=reservation.warehouse_id,
                kind=MovementKind.RELEASE,
                reserved_change=-reservation.quantity,
                order_id=order_id,
            )
            if not released:
                raise RuntimeError(
                    f"stock level {reservation.sku}@{reservation.warehouse_id} holds less "
                    f"than the {reservation.quantity} reserved units being released"
                )
            reservation.status = ReservationStatus.RELEASED.value
            units += reservation.quantity
        detail = Wording(message=N_("%(units)s reserved unit(s) released"), args={"units": units})
        write_event(session, order_id, EventKind.RESERVATIONS_RELEASED, detail)
        return Undone(wording=detail)

    return run_once(db, step_key(order_id, RELEASE_RESERVATIONS), Undone, effect)
