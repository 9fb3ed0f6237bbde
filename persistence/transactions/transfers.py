"""Transfers between warehouses: out of one (in transit), then received into the other.

Each step is one transaction writing its ledger rows (``transfer_out`` at dispatch,
``transfer_in`` at receipt, both with the transfer as reference), so ``oms check``
finds every unit either on a shelf or on a transfer still in transit.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.inventory import (
    MovementKind,
    StockReason,
    TransferLine,
    TransferRequest,
    TransferStatus,
    TransferView,
)
from domain.wording import N_, words
from persistence.database import Database
from persistence.idempotency import run_once
from persistence.models import Product, StockLevel, StockTransfer, StockTransferLine, Warehouse

from .records import utcnow
from .stock import ReusedReferenceError, StockOperationError, change_stock, ensure_stock_level


def transfer_reference(transfer_id: int) -> str:
    """The reference a transfer's ledger rows carry."""
    return f"transfer-{transfer_id}"


def dispatch_transfer(db: Database, request: TransferRequest, *, once: str = "") -> TransferView:
    """Take the lines out of the sending warehouse and put them in transit, all or none.

    Refused, naming each line, when a product or warehouse is unknown or the sender
    has fewer free units than asked (what orders hold never leaves). With a reference
    (or ``once``, a console form's one-time id), a repeat finds the first transfer and
    changes nothing; a reused reference asking for something else (other products,
    quantities or receiving warehouse) is refused with :class:`ReusedReferenceError`, naming
    both, as a reused idempotency key with another body is.
    """
    problem = request.problem()
    if problem:
        raise StockOperationError(problem)
    sent = False

    def effect(session: Session) -> TransferView:
        nonlocal sent
        for warehouse_id in (request.from_warehouse_id, request.to_warehouse_id):
            if session.get(Warehouse, warehouse_id) is None:
                raise StockOperationError(
                    words(
                        N_("warehouse %(warehouse)s: no such warehouse"),
                        warehouse=repr(warehouse_id),
                    )
                )
        now = utcnow()
        transfer = StockTransfer(
            from_warehouse_id=request.from_warehouse_id,
            to_warehouse_id=request.to_warehouse_id,
            status=TransferStatus.IN_TRANSIT.value,
            reference=request.reference,
            dispatched_by=request.actor,
            dispatched_at=now,
        )
        session.add(transfer)
        session.flush()
        problems = []
        for line in request.lines:
            if session.get(Product, line.sku) is None:
                problems.append(f"{line.sku}: no such product")
                continue
            session.add(
                StockTransferLine(transfer_id=transfer.id, sku=line.sku, quantity=line.quantity)
            )
            # The receiving warehouse keeps the product from now on: its level shows the
            # units in transit as incoming (and the review counts them) before they arrive.
            ensure_stock_level(session, line.sku, request.to_warehouse_id)
            if not change_stock(
                session,
                sku=line.sku,
                warehouse_id=request.from_warehouse_id,
                kind=MovementKind.TRANSFER_OUT,
                on_hand_change=-line.quantity,
                reason=StockReason.TRANSFER.value,
                actor=request.actor,
                reference=transfer_reference(transfer.id),
            ):
                level = session.get(StockLevel, (line.sku, request.from_warehouse_id))
                free = 0 if level is None else level.on_hand - level.reserved
                problems.append(
                    f"{line.sku}: {line.quantity} asked, {free} free in {request.from_warehouse_id}"
                )
        if problems:
            raise StockOperationError("transfer refused: " + "; ".join(problems))
        sent = True
        return _view(session, transfer)

    if request.reference:
        key = f"stock:transfer:{request.from_warehouse_id}:{request.reference}"
    elif once:
        key = f"stock:once:transfer:{once}"  # never a receipt's answer under the same id
    else:
        with db.transaction() as session:
            return effect(session)
    answer = run_once(db, key, TransferView, effect)
    if sent:
        return answer
    first = transfer_view(db, answer.id)
    if _content(first) != _content(request):
        used = f"reference {request.reference!r}" if request.reference else "this form"
        raise ReusedReferenceError(
            f"{used} was used for transfer {first.id} ({_described(first)}), sent by "
            f"{first.dispatched_by} at {first.dispatched_at:%Y-%m-%d %H:%M} UTC; this "
            f"request differs ({_described(request)}): nothing was sent; "
            + ("give a new transfer a new reference" if request.reference else "reload the form")
        )
    return first.model_copy(update={"repeated": True})


def _content(transfer: TransferView | TransferRequest) -> tuple[str, str, list[tuple[str, int]]]:
    """What a transfer sends where: a repeat must ask for the same."""
    lines = sorted((line.sku, line.quantity) for line in transfer.lines)
    return transfer.from_warehouse_id, transfer.to_warehouse_id, lines


def _described(transfer: TransferView | TransferRequest) -> str:
    lines = ", ".join(f"{units} x {sku}" for sku, units in _content(transfer)[2])
    return f"{transfer.from_warehouse_id} to {transfer.to_warehouse_id}: {lines}"


def receive_transfer(db: Database, transfer_id: int, actor: str) -> TransferView:
    """Book a transfer in transit into the receiving warehouse; a second receipt is refused
    with who received it and when."""
    with db.transaction() as session:
        transfer = session.get(StockTransfer, transfer_id, with_for_update=True)
        if transfer is None:
            raise StockOperationError(f"transfer {transfer_id}: no such transfer")
        if transfer.status != TransferStatus.IN_TRANSIT.value:
            raise StockOperationError(
                f"transfer {transfer_id} was received by {transfer.received_by} "
                f"at {transfer.received_at:%Y-%m-%d %H:%M} UTC"
            )
        for line in _lines(session, transfer_id):
            ensure_stock_level(session, line.sku, transfer.to_warehouse_id)
            change_stock(
                session,
                sku=line.sku,
                warehouse_id=transfer.to_warehouse_id,
                kind=MovementKind.TRANSFER_IN,
                on_hand_change=line.quantity,
                reason=StockReason.TRANSFER.value,
                actor=actor,
                reference=transfer_reference(transfer_id),
            )
        transfer.status = TransferStatus.RECEIVED.value
        transfer.received_by = actor
        transfer.received_at = utcnow()
        return _view(session, transfer)


def transfer_view(db: Database, transfer_id: int) -> TransferView:
    """One transfer; :class:`StockOperationError` when there is none."""
    with db.reading() as session:
        transfer = session.get(StockTransfer, transfer_id)
        if transfer is None:
            raise StockOperationError(f"transfer {transfer_id}: no such transfer")
        return _view(session, transfer)


def transfers(db: Database, *, status: TransferStatus | None = None) -> list[TransferView]:
    """Transfers newest first (those of one status), at most 200."""
    query = select(StockTransfer).order_by(StockTransfer.id.desc()).limit(200)
    if status is not None:
        query = query.where(StockTransfer.status == status.value)
    with db.reading() as session:
        return [_view(session, transfer) for transfer in session.scalars(query)]


def _lines(session: Session, transfer_id: int) -> list[StockTransferLine]:
    return list(
        session.scalars(
            select(StockTransferLine)
            .where(StockTransferLine.transfer_id == transfer_id)
            .order_by(StockTransferLine.sku)
        )
    )


def _view(session: Session, transfer: StockTransfer) -> TransferView:
    return TransferView(
        id=transfer.id,
        from_warehouse_id=transfer.from_warehouse_id,
        to_warehouse_id=transfer.to_warehouse_id,
        status=TransferStatus(transfer.status),
        lines=[
            TransferLine(sku=line.sku, quantity=line.quantity)
            for line in _lines(session, transfer.id)
        ],
        reference=transfer.reference,
        dispatched_by=transfer.dispatched_by,
        dispatched_at=transfer.dispatched_at,
        received_by=transfer.received_by,
        received_at=transfer.received_at,
    )
