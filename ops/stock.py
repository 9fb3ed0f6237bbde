"""``oms stock receive|issue|adjust``: the warehouse's stock operations outside orders,
each one ledger transaction with its reason, the person and the paper behind it."""

from __future__ import annotations

import asyncio
import getpass
from typing import Annotated

import typer
from pydantic import ValidationError

from domain.inventory import REASONS, StockChange, StockMoved, StockOperation, StockReason
from domain.messages import describe_validation_error
from persistence.transactions.stock import StockOperationError, book_stock_change
from runtime.settings import Settings
from runtime.workers import open_database

from ._console import JsonOption, console, fail

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
    try:
        moved = asyncio.run(_run(Settings(), change))
    except StockOperationError as refused:
        raise fail(str(refused)) from refused
    if as_json:
        console.print_json(moved.model_dump_json())
        return
    what = "already booked with this reference; nothing changed" if moved.repeated else "booked"
    console.print(
        f"{operation.value} of {quantity} x {sku} in {warehouse} {what}: "
        f"{moved.on_hand} on hand, {moved.reserved} reserved"
    )


async def _run(settings: Settings, change: StockChange) -> StockMoved:
    async with open_database(settings) as db:
        return await db.run(book_stock_change, db, change)
