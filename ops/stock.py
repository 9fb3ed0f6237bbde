"""``oms stock receive|issue|adjust|transfer|transfers|receive-transfer``: the warehouse's
stock operations outside orders, each one ledger transaction with its reason, the person
and the paper behind it."""

from __future__ import annotations

import asyncio
import getpass
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError

from domain.inventory import (
    REASONS,
    StockChange,
    StockOperation,
    StockReason,
    TransferLine,
    TransferRequest,
    TransferStatus,
    TransferView,
)
from domain.messages import describe_validation_error
from persistence.transactions.stock import StockOperationError, book_stock_change
from persistence.transactions.transfers import dispatch_transfer, receive_transfer, transfers
from runtime.settings import Settings
from runtime.workers import open_database

from ._console import JsonOption, console, fail, record_number

stock_app = typer.Typer(help="Stock operations outside orders.", no_args_is_help=True)

SkuArgument = Annotated[str, typer.Argument(help="The product, e.g. WIDGET-1.")]
WarehouseArgument = Annotated[str, typer.Argument(help="The warehouse, e.g. WH-BER.")]
ReferenceOption = Annotated[
    str,
    typer.Option(
        "--reference",
        help="The paper behind it (delivery note, report); the same one twice "
        "for the same operation, product and warehouse counts once.",
    ),
]
ActorOption = Annotated[
    str | None, typer.Option("--as", help="Who does it (default: your login name).")
]


def _reason_help(operation: StockOperation) -> str:
    return ", ".join(reason.value for reason in REASONS[operation])


@stock_app.command("receive")
def receive(
    sku: SkuArgument,
    warehouse: WarehouseArgument,
    quantity: Annotated[int, typer.Argument(help="Units received.")],
    reason: Annotated[
        StockReason, typer.Option("--reason", help=_reason_help(StockOperation.RECEIPT))
    ] = StockReason.SUPPLIER_DELIVERY,
    reference: ReferenceOption = "",
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Goods in, not for an order: a supplier's delivery, factory output, a return."""
    _book(StockOperation.RECEIPT, sku, warehouse, quantity, reason, reference, actor, as_json)


@stock_app.command("issue")
def issue(
    sku: SkuArgument,
    warehouse: WarehouseArgument,
    quantity: Annotated[int, typer.Argument(help="Units taken out.")],
    reason: Annotated[
        StockReason, typer.Option("--reason", help=_reason_help(StockOperation.ISSUE))
    ],
    reference: ReferenceOption = "",
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Goods out, not for an order: scrap, samples, internal use (never what orders hold)."""
    _book(StockOperation.ISSUE, sku, warehouse, quantity, reason, reference, actor, as_json)


@stock_app.command("adjust")
def adjust(
    sku: SkuArgument,
    warehouse: WarehouseArgument,
    change: Annotated[
        int, typer.Option("--by", help="Units more (e.g. 3) or fewer (e.g. -3) than booked.")
    ],
    reason: Annotated[
        StockReason, typer.Option("--reason", help=_reason_help(StockOperation.ADJUSTMENT))
    ],
    reference: ReferenceOption = "",
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Correct stock outside a count: damaged, found, lost, a booking error."""
    _book(StockOperation.ADJUSTMENT, sku, warehouse, change, reason, reference, actor, as_json)


def _book(
    operation: StockOperation,
    sku: str,
    warehouse: str,
    quantity: int,
    reason: StockReason,
    reference: str,
    actor: str | None,
    as_json: bool,
) -> None:
    try:
        change = StockChange(
            operation=operation,
            sku=sku,
            warehouse_id=warehouse,
            quantity=quantity,
            reason=reason,
            reference=reference,
            actor=actor or getpass.getuser(),
        )
    except ValidationError as invalid:
        raise fail("; ".join(describe_validation_error(invalid))) from invalid
    moved = on_database(book_stock_change, change)
    if as_json:
        console.print_json(moved.model_dump_json())
        return
    what = "already booked with this reference; nothing changed" if moved.repeated else "booked"
    console.print(
        f"{operation.value} of {quantity} x {sku} in {warehouse} {what}: "
        f"{moved.on_hand} on hand, {moved.reserved} reserved"
    )


@stock_app.command("transfer")
def transfer(
    from_warehouse: Annotated[str, typer.Argument(help="The sending warehouse.")],
    to_warehouse: Annotated[str, typer.Argument(help="The receiving warehouse.")],
    lines: Annotated[
        list[str], typer.Argument(help="What to send, as SKU=UNITS, e.g. WIDGET-1=20 GADGET-2=5.")
    ],
    reference: Annotated[
        str, typer.Option("--reference", help="The transfer note; the same one twice sends once.")
    ] = "",
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Send stock to another warehouse: out of this one now, in transit until received."""
    try:
        request = TransferRequest(
            from_warehouse_id=from_warehouse,
            to_warehouse_id=to_warehouse,
            lines=[TransferLine(sku=sku, quantity=units) for sku, units in sku_units(lines)],
            reference=reference,
            actor=actor or getpass.getuser(),
        )
    except ValidationError as invalid:
        raise fail("; ".join(describe_validation_error(invalid))) from invalid
    sent = on_database(dispatch_transfer, request)
    if as_json:
        console.print_json(sent.model_dump_json())
        return
    what = "was sent before with this reference" if sent.repeated else "is in transit"
    console.print(f"transfer {sent.id} ({_summary(sent)}) {what}")


@stock_app.command("receive-transfer")
def receive_transfer_command(
    transfer_id: Annotated[int, record_number("transfer", "The transfer's number.")],
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Book a transfer in transit into its receiving warehouse."""
    received = on_database(receive_transfer, transfer_id, actor or getpass.getuser())
    if as_json:
        console.print_json(received.model_dump_json())
        return
    console.print(f"transfer {received.id} received: {_summary(received)}")


@stock_app.command("transfers")
def list_transfers(
    in_transit: Annotated[
        bool, typer.Option("--in-transit", help="Only those not received yet.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Transfers newest first."""
    found = on_database(transfers, status=TransferStatus.IN_TRANSIT if in_transit else None)
    if as_json:
        console.print_json(data=[view.model_dump(mode="json") for view in found])
        return
    for view in found:
        console.print(
            f"{view.id}\t{view.status.value}\t{_summary(view)}\t{view.reference}\t"
            f"sent by {view.dispatched_by} {view.dispatched_at:%Y-%m-%d %H:%M}"
        )


def _summary(view: TransferView) -> str:
    units = ", ".join(f"{line.quantity} x {line.sku}" for line in view.lines)
    return f"{view.from_warehouse_id} -> {view.to_warehouse_id}: {units}"


def sku_units(pairs: list[str]) -> list[tuple[str, int]]:
    """``SKU=UNITS`` arguments read, or the command fails naming the one that is not."""
    read = []
    for pair in pairs:
        sku, _, units = pair.rpartition("=")
        try:
            read.append((sku.strip(), int(units)))
        except ValueError:
            raise fail(f"{pair!r}: write each line as SKU=UNITS, e.g. WIDGET-1=20") from None
        if not sku.strip():
            raise fail(f"{pair!r}: write each line as SKU=UNITS, e.g. WIDGET-1=20")
    return read


ResultT = TypeVar("ResultT")


def on_database(action: Callable[..., ResultT], *args: Any, **kwargs: Any) -> ResultT:
    """Run a stock transaction against the configured database; a refusal ends the command
    with its reason."""

    async def run() -> ResultT:
        async with open_database(Settings()) as db:
            return await db.run(action, db, *args, **kwargs)

    try:
        return asyncio.run(run())
    except StockOperationError as refused:
        raise fail(str(refused)) from refused
