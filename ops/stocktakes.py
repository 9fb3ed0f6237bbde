"""``oms stocktake open|count|show|approve|post|cancel|list``: counting a warehouse.

Counters enter what they find without seeing the book (``show`` hides it unless
``--book`` is given, for supervisors); variances above the count's threshold need
another person's approval before ``post`` writes them to the ledger.
"""

from __future__ import annotations

import getpass
from decimal import Decimal
from typing import Annotated

import typer
from pydantic import ValidationError

from domain.inventory import StocktakeOpening, StocktakeView
from domain.messages import describe_validation_error
from persistence.transactions.stocktakes import (
    approve_variance,
    cancel_stocktake,
    open_stocktake,
    post_stocktake,
    record_count,
    stocktake_view,
    stocktakes,
)

from ._console import JsonOption, console, fail, record_number
from .stock import ActorOption, on_database, sku_units

stocktake_app = typer.Typer(help="Count a warehouse and post the variances.", no_args_is_help=True)

StocktakeArgument = Annotated[int, record_number("stock count", "The count's number.")]


@stocktake_app.command("open")
def open_count(
    warehouse: Annotated[str, typer.Argument(help="The warehouse to count.")],
    skus: Annotated[
        list[str] | None,
        typer.Option("--sku", help="Count only this product (repeat for more; default: all)."),
    ] = None,
    threshold: Annotated[
        Decimal,
        typer.Option(
            "--approval-above", help="A variance worth more than this at cost needs approval."
        ),
    ] = Decimal("100.00"),
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Open a count: the products to count are fixed now; nothing is frozen meanwhile."""
    try:
        opening = StocktakeOpening(
            warehouse_id=warehouse,
            skus=skus or [],
            approval_threshold=threshold,
            actor=actor or getpass.getuser(),
        )
    except ValidationError as invalid:
        raise fail("; ".join(describe_validation_error(invalid))) from invalid
    _show(on_database(open_stocktake, opening), book=False, as_json=as_json)


@stocktake_app.command("count")
def count(
    stocktake_id: StocktakeArgument,
    counts: Annotated[
        list[str], typer.Argument(help="What was found, as SKU=UNITS, e.g. WIDGET-1=48.")
    ],
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Enter counted quantities (a recount replaces the earlier one)."""
    counted = dict(sku_units(counts))
    view = on_database(record_count, stocktake_id, counted, actor or getpass.getuser())
    _show(view, book=False, as_json=as_json)


@stocktake_app.command("show")
def show(
    stocktake_id: StocktakeArgument,
    book: Annotated[
        bool, typer.Option("--book", help="Show book figures and variances (supervisors).")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """A count's lines; blind unless ``--book``."""
    _show(on_database(stocktake_view, stocktake_id), book=book, as_json=as_json)


@stocktake_app.command("approve")
def approve(
    stocktake_id: StocktakeArgument,
    sku: Annotated[str, typer.Argument(help="The product whose variance is accepted.")],
    actor: ActorOption = None,
    as_json: JsonOption = False,
) -> None:
    """Accept a variance above the threshold (not by the person who counted it)."""
    view = on_database(approve_variance, stocktake_id, sku, actor or getpass.getuser())
    _show(view, book=True, as_json=as_json)


@stocktake_app.command("post")
def post(
    stocktake_id: StocktakeArgument, actor: ActorOption = None, as_json: JsonOption = False
) -> None:
    """Write every variance to the ledger and close the count."""
    _show(
        on_database(post_stocktake, stocktake_id, actor or getpass.getuser()),
        book=True,
        as_json=as_json,
    )


@stocktake_app.command("cancel")
def cancel(
    stocktake_id: StocktakeArgument, actor: ActorOption = None, as_json: JsonOption = False
) -> None:
    """Close a count without posting anything."""
    _show(
        on_database(cancel_stocktake, stocktake_id, actor or getpass.getuser()),
        book=False,
        as_json=as_json,
    )


@stocktake_app.command("list")
def list_counts(as_json: JsonOption = False) -> None:
    """Counts newest first."""
    found = [view.blind() for view in on_database(stocktakes)]
    if as_json:
        console.print_json(data=[view.model_dump(mode="json") for view in found])
        return
    for view in found:
        console.print(
            f"{view.id}\t{view.warehouse_id}\t{view.status.value}\t"
            f"{view.counted}/{len(view.lines)} counted\topened by {view.opened_by} "
            f"{view.opened_at:%Y-%m-%d %H:%M}"
        )


def _show(view: StocktakeView, *, book: bool, as_json: bool) -> None:
    shown = view if book else view.blind()
    if as_json:
        console.print_json(shown.model_dump_json())
        return
    console.print(
        f"stocktake {view.id} of {view.warehouse_id}: {view.status.value}, "
        f"{view.counted}/{len(view.lines)} counted"
    )
    for line in shown.lines:
        found = "-" if line.counted is None else str(line.counted)
        text = f"  {line.sku}\t{line.name}\tcounted {found}"
        if book and line.counted is not None:
            text += f"\tbook {line.book}\tvariance {line.variance:+d} ({line.variance_value})"
            if line.needs_approval:
                text += "\tNEEDS APPROVAL"
            elif line.approved_by:
                text += f"\tapproved by {line.approved_by}"
        console.print(text)
