"""Inventory in the console: stock per product and warehouse, the ledger, the warehouse's
operations (receipts, issues, adjustments, transfers) and stocktakes (role ``warehouse``
operates; order processing and analysts read; an admin approves big count variances)."""

from __future__ import annotations

import asyncio
import functools
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ValidationError
from starlette.responses import Response

from domain.access import Locale, Permission
from domain.inventory import (
    REASONS,
    MovementKind,
    StockChange,
    StockOperation,
    StocktakeOpening,
    TransferLine,
    TransferRequest,
    TransferStatus,
)
from domain.shipping import PARCEL_PACKED_SIGNAL, ParcelPacked, shipment_workflow_id
from domain.wording import N_, WordedError, Wording, words
from ops.staff import StaffAction, StaffActionError, perform
from persistence.catalogue_views import stock_choices
from persistence.database import Database
from persistence.stock_views import (
    inventory_kpis,
    packing_queue,
    stock_movements,
    stock_rows,
    stock_timeline,
)
from persistence.transactions.alerts import stock_alerts
from persistence.transactions.catalogue import find_product
from persistence.transactions.replenishment import forecast_report
from persistence.transactions.stock import StockOperationError, book_stock_change
from persistence.transactions.stocktakes import (
    approve_variance,
    cancel_stocktake,
    open_stocktake,
    post_stocktake,
    record_count,
    stocktake_view,
    stocktakes,
)
from persistence.transactions.transfers import dispatch_transfer, receive_transfer, transfers

from .field_words import field_wording, in_words
from .i18n import translations
from .links import list_link
from .rendering import render
from .security import FormChecked, RowNumber, Staff, database, requires, temporal

router = APIRouter(prefix="/stock")


@router.get("")
async def stock_page(
    request: Request,
    user: Annotated[Staff, Depends(requires(Permission.VIEW_STOCK))],
    warehouse: str | None = None,
    q: str | None = None,
) -> Response:
    """Stock per product and warehouse: on hand, reserved, free, incoming, value at cost,
    and where it is below its reorder point or above its maximum; the figures of the
    warehouse chosen (or of all), the stock-outs counted from the stock alerts."""
    db = database(request)
    rows = await db.run(stock_rows, db, warehouse_id=warehouse or None, search=q or None)
    kpis = await db.run(
        functools.partial(inventory_kpis, now=datetime.now(UTC), warehouse_id=warehouse or None),
        db,
    )
    warehouses, _products = await db.run(stock_choices, db)
    return render(
        "stock.html",
        user.account.locale,
        user=user,
        rows=rows,
        kpis=kpis,
        warehouse=warehouse or "",
        warehouses=warehouses,
        q=q or "",
        total_value=sum((row.value for row in rows), start=0),
    )


@router.get("/products/{sku}")
async def product_page(
    request: Request,
    sku: str,
    user: Annotated[Staff, Depends(requires(Permission.VIEW_STOCK))],
    warehouse: str | None = None,
) -> Response:
    """One product: its level in each warehouse, a chart of on hand and free stock over
    the last 90 days, and its latest movements. A catalogue product no warehouse keeps
    (a discontinued one, say) opens too, saying so."""
    db = database(request)
    rows = await db.run(functools.partial(stock_rows, sku=sku), db)
    product = None if rows else await db.run(find_product, db, sku)
    if not rows and product is None:
        return render(
            "problem.html",
            user.account.locale,
            404,
            status=404,
            reason=translations(user.account.locale).gettext("no stock of %(sku)s is kept anywhere")
            % {"sku": sku},
            back="/stock",
        )
    movements, _next = await db.run(
        functools.partial(stock_movements, sku=sku, warehouse_id=warehouse or None), db
    )
    forecast = None
    if warehouse:
        report = await db.run(
            functools.partial(forecast_report, sku=sku, warehouse_id=warehouse), db
        )
        forecast = report.rows[0] if report.rows else None
    return render(
        "stock_product.html",
        user.account.locale,
        user=user,
        sku=sku,
        product_name=rows[0].name if rows else product.name if product else sku,
        product=product,
        rows=rows,
        warehouse=warehouse or "",
        movements=movements[:20],
        forecast=forecast,
    )


@router.get("/products/{sku}/chart.svg")
async def product_chart(
    request: Request,
    sku: str,
    user: Annotated[Staff, Depends(requires(Permission.VIEW_STOCK))],
    warehouse: str | None = None,
    days: Annotated[int, Query(ge=7, le=730)] = 90,
) -> Response:
    """The product's on hand and free stock day by day, as an SVG image."""
    from .charts import StockChartLabels, stock_chart_svg

    db = database(request)
    today = datetime.now(UTC).date()
    points = await db.run(
        functools.partial(stock_timeline, warehouse_id=warehouse or None, days=days, today=today),
        db,
        sku,
    )
    rows = await db.run(functools.partial(stock_rows, sku=sku, warehouse_id=warehouse or None), db)
    one = rows[0] if warehouse and rows else None
    gettext = translations(user.account.locale).gettext
    labels = StockChartLabels(
        title=f"{sku} · {warehouse or gettext('all warehouses')}",
        on_hand=gettext("On hand"),
        free=gettext("Free"),
        reorder_point=gettext("Reorder point"),
        maximum=gettext("Maximum"),
        units=one.unit if one else gettext("Units"),
        locale=user.account.locale,
    )
    svg = await asyncio.to_thread(
        stock_chart_svg,
        points,
        labels,
        reorder_point=one.reorder_point if one else None,
        maximum=one.maximum if one else None,
    )
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "no-store"})


@router.get("/alerts")
async def alerts_page(
    request: Request,
    user: Annotated[Staff, Depends(requires(Permission.VIEW_STOCK))],
    history: bool = False,
    sku: str | None = None,
    warehouse: str | None = None,
) -> Response:
    """Open stock alerts (low, out, overstock, slow, dead), or their history."""
    db = database(request)
    rows = await db.run(
        functools.partial(
            stock_alerts, open_only=not history, sku=sku or None, warehouse_id=warehouse or None
        ),
        db,
    )
    warehouses, _products = await db.run(stock_choices, db)
    return render(
        "stock_alerts.html",
        user.account.locale,
        user=user,
        rows=rows,
        warehouses=warehouses,
        history=history,
        filters={"sku": sku or "", "warehouse": warehouse or ""},
    )


@router.get("/movements")
async def movements_page(
    request: Request,
    user: Annotated[Staff, Depends(requires(Permission.VIEW_STOCK))],
    sku: str | None = None,
    warehouse: str | None = None,
    kind: MovementKind | None = None,
    outside_orders: bool = False,
    before: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """The stock ledger, newest first: every receipt, issue, adjustment, reservation and
    shipment, with its reason, who made it and the paper behind it."""
    db = database(request)
    rows, next_before = await db.run(
        functools.partial(
            stock_movements,
            sku=sku or None,
            warehouse_id=warehouse or None,
            kind=kind.value if kind else None,
            outside_orders=outside_orders,
            before_id=before,
        ),
        db,
    )
    filters = {
        "sku": sku or "",
        "warehouse": warehouse or "",
        "kind": kind.value if kind else "",
        "outside_orders": outside_orders,
    }
    return render(
        "movements.html",
        user.account.locale,
        user=user,
        rows=rows,
        older=list_link("/stock/movements", {**filters, "before": next_before})
        if next_before
        else None,
        kinds=list(MovementKind),
        filters=filters,
    )


Operator = Annotated[Staff, Depends(requires(Permission.OPERATE_STOCK))]
FormText = Annotated[str, Form()]
TRANSFER_ROWS = 6
"""Line rows the transfer form offers; empty rows are left out."""


@router.get("/operations")
async def operations_page(request: Request, user: Operator) -> Response:
    """Forms for a goods receipt, a goods issue, an adjustment and a transfer."""
    return await _operations(request, user, {})


@router.post("/operations/{operation}")
async def book_operation(
    request: Request, operation: StockOperation, user: Operator, _form: FormChecked
) -> Response:
    """Book a receipt, issue or adjustment as the logged-in user; a wrong field or a
    refusal is shown on the form with what was typed."""
    values = await _form_values(request)

    def change() -> StockChange:
        return StockChange.model_validate(
            {
                "operation": operation.value,
                "sku": values.get("sku", ""),
                "warehouse_id": values.get("warehouse_id", ""),
                "quantity": whole_number(values.get("quantity", ""), "quantity"),
                "reason": values.get("reason", ""),
                "reference": values.get("reference", ""),
                "actor": user.account.username,
            }
        )

    def book(db: Database, built: StockChange) -> Wording:
        moved = book_stock_change(db, built, once=values.get("action_id", ""))
        message = (
            N_(
                "%(operation)s: %(quantity)s x %(sku)s in %(warehouse)s; booked before with "
                "this reference, nothing changed: %(on_hand)s on hand, %(reserved)s reserved"
            )
            if moved.repeated
            else N_(
                "%(operation)s: %(quantity)s x %(sku)s in %(warehouse)s; "
                "now %(on_hand)s on hand, %(reserved)s reserved"
            )
        )
        return Wording(
            message=message,
            args={
                "quantity": built.quantity,
                "sku": built.sku,
                "warehouse": built.warehouse_id,
                "on_hand": moved.on_hand,
                "reserved": moved.reserved,
            },
            terms={"operation": operation.value},
        )

    return await _act(request, user, operation.value, values, change, book)


@router.post("/transfers")
async def send_transfer(request: Request, user: Operator, _form: FormChecked) -> Response:
    """Send stock to another warehouse as the logged-in user."""
    values = await _form_values(request)

    def request_of() -> TransferRequest:
        lines = []
        for row in range(1, TRANSFER_ROWS + 1):
            sku = values.get(f"line-{row}-sku", "")
            units = values.get(f"line-{row}-quantity", "")
            if sku or units:
                quantity = whole_number(units, "quantity", row)
                lines.append(TransferLine.model_validate({"sku": sku, "quantity": quantity}))
        return TransferRequest.model_validate(
            {
                "from_warehouse_id": values.get("from_warehouse_id", ""),
                "to_warehouse_id": values.get("to_warehouse_id", ""),
                "lines": lines,
                "reference": values.get("reference", ""),
                "actor": user.account.username,
            }
        )

    def send(db: Database, built: TransferRequest) -> Wording:
        sent = dispatch_transfer(db, built, once=values.get("action_id", ""))
        if sent.repeated:
            return words(
                N_("transfer %(transfer)s was sent before with this reference; nothing changed"),
                transfer=sent.id,
            )
        return words(
            N_("transfer %(transfer)s: in transit to %(warehouse)s"),
            transfer=sent.id,
            warehouse=sent.to_warehouse_id,
        )

    return await _act(request, user, "transfer", values, request_of, send)


@router.get("/transfers")
async def transfers_page(
    request: Request,
    user: Annotated[Staff, Depends(requires(Permission.VIEW_STOCK))],
    in_transit: bool = False,
) -> Response:
    """Transfers newest first, those in transit with a button to receive them."""
    db = database(request)
    status = TransferStatus.IN_TRANSIT if in_transit else None
    rows = await db.run(functools.partial(transfers, status=status), db)
    return render(
        "transfers.html",
        user.account.locale,
        user=user,
        rows=rows,
        in_transit=in_transit,
        done=request.query_params.get("done"),
    )


@router.post("/transfers/{transfer_id}/receive")
async def receive(
    request: Request, transfer_id: RowNumber, user: Operator, _form: FormChecked
) -> Response:
    """Book a transfer in transit into its receiving warehouse."""
    db = database(request)
    try:
        await db.run(receive_transfer, db, transfer_id, user.account.username)
    except StockOperationError as refused:
        return refusal_page(user, reasons_of(refused, user.account.locale), "/stock/transfers")
    return RedirectResponse(f"/stock/transfers?done={transfer_id}", status_code=303)


@router.get("/stocktakes")
async def stocktakes_page(
    request: Request, user: Annotated[Staff, Depends(requires(Permission.VIEW_STOCK))]
) -> Response:
    """Counts newest first, and a form to open one."""
    return await _stocktakes(request, user, {}, None)


@router.post("/stocktakes")
async def open_count(request: Request, user: Operator, _form: FormChecked) -> Response:
    """Open a count of a warehouse: every product it keeps, or those listed."""
    values = await _form_values(request)
    try:
        opening = StocktakeOpening.model_validate(
            {
                "warehouse_id": values.get("warehouse_id", ""),
                "skus": values.get("skus", "").replace(",", " ").split(),
                "approval_threshold": values.get("approval_threshold") or "100.00",
                "actor": user.account.username,
            }
        )
    except ValidationError as invalid:
        return await _stocktakes(
            request, user, values, reasons_of(invalid, user.account.locale), 422
        )
    db = database(request)
    try:
        opened = await db.run(open_stocktake, db, opening)
    except StockOperationError as refused:
        return await _stocktakes(
            request, user, values, reasons_of(refused, user.account.locale), 409
        )
    return RedirectResponse(f"/stock/stocktakes/{opened.id}", status_code=303)


@router.get("/stocktakes/{stocktake_id}")
async def stocktake_page(
    request: Request,
    stocktake_id: RowNumber,
    user: Annotated[Staff, Depends(requires(Permission.VIEW_STOCK))],
) -> Response:
    """A count: counters enter quantities without seeing the book; a supervisor sees the
    variances, approves the big ones and posts."""
    return await _stocktake(request, user, stocktake_id)


async def _stocktake(
    request: Request,
    user: Staff,
    stocktake_id: int,
    typed: dict[str, str] | None = None,
    problem: str | None = None,
    status: int = 200,
) -> Response:
    """A count's page; refused counts are shown as typed with the problem above them."""
    db = database(request)
    try:
        view = await db.run(stocktake_view, db, stocktake_id)
    except StockOperationError as refused:
        return render(
            "problem.html",
            user.account.locale,
            404,
            status=404,
            reason=reasons_of(refused, user.account.locale),
            back=None,
        )
    supervisor = user.may(Permission.APPROVE_STOCK)
    return render(
        "stocktake.html",
        user.account.locale,
        status,
        typed=typed or {},
        problem=problem,
        user=user,
        take=view if supervisor else view.blind(),
        supervisor=supervisor,
        operator=user.may(Permission.OPERATE_STOCK),
        done=request.query_params.get("done"),
    )


@router.post("/stocktakes/{stocktake_id}/count")
async def count(
    request: Request, stocktake_id: RowNumber, user: Operator, _form: FormChecked
) -> Response:
    """Enter what was found; empty fields are not counted yet."""
    values = await _form_values(request)
    back = f"/stock/stocktakes/{stocktake_id}"
    counts: dict[str, int] = {}
    try:
        for key, value in values.items():
            if key.startswith("count-") and value:
                counts[key.removeprefix("count-")] = whole_number(value, key.removeprefix("count-"))
    except ValueError as invalid:  # the page again, every count as typed
        return await _stocktake(
            request, user, stocktake_id, values, reasons_of(invalid, user.account.locale), 422
        )
    db = database(request)
    try:
        await db.run(record_count, db, stocktake_id, counts, user.account.username)
    except StockOperationError as refused:
        return await _stocktake(
            request, user, stocktake_id, values, reasons_of(refused, user.account.locale), 409
        )
    return RedirectResponse(f"{back}?done=count", status_code=303)


@router.post("/stocktakes/{stocktake_id}/{step}")
async def close_or_approve(
    request: Request,
    stocktake_id: RowNumber,
    step: str,
    user: Operator,
    _form: FormChecked,
    sku: FormText = "",
) -> Response:
    """Approve a variance (``approve``, supervisors), ``post`` the count or ``cancel`` it."""
    back = f"/stock/stocktakes/{stocktake_id}"
    steps: dict[str, Callable[..., Any]] = {
        "approve": functools.partial(approve_variance, sku=sku),
        "post": post_stocktake,
        "cancel": cancel_stocktake,
    }
    if step not in steps:
        return refusal_page(user, f"no such step {step!r}", back, 404)
    if step == "approve" and not user.may(Permission.APPROVE_STOCK):
        return refusal_page(
            user, "only a supervisor (stock.approve) approves a variance", back, 403
        )
    db = database(request)
    try:
        await db.run(steps[step], db, stocktake_id=stocktake_id, actor=user.account.username)
    except StockOperationError as refused:
        return refusal_page(user, reasons_of(refused, user.account.locale), back)
    return RedirectResponse(f"{back}?done={step}", status_code=303)


async def _form_values(request: Request) -> dict[str, str]:
    return {key: str(value).strip() for key, value in (await request.form()).items()}


def whole_number(text: str, name: str, row: int | None = None) -> int:
    """``text`` as a whole number of units, else refused naming field ``name`` (of line
    ``row``)."""
    try:
        return int(text)
    except ValueError:
        raise WordedError(
            Wording(
                message=N_("%(field)s: a whole number of units, not %(typed)s"),
                args={"typed": repr(text)},
                parts={
                    "field": field_wording((name,) if row is None else ("lines", row - 1, name))
                    or Wording(message=name)
                },
            )
        ) from None


def reasons_of(
    invalid: Exception, locale: Locale = Locale.ENGLISH, labels: dict[str, str] | None = None
) -> str:
    """A refused form's problems in ``locale``, each field by its form label (``labels``
    where the form has its own)."""
    return in_words(invalid, locale, labels)


def refusal_page(user: Staff, reason: str, back: str, status: int = 409) -> Response:
    return render(
        "problem.html", user.account.locale, status, status=status, reason=reason, back=back
    )


async def _act(
    request: Request,
    user: Staff,
    form: str,
    values: dict[str, str],
    build: Callable[[], Any],
    effect: Callable[[Database, Any], Wording],
) -> Response:
    """Build the operation from the form, book it, and show the operations page again:
    with the problem beside the form (422 unreadable, 409 refused) or what was booked."""
    try:
        built = build()
    except (ValidationError, ValueError) as invalid:
        return await _operations(
            request, user, {form: values}, {form: reasons_of(invalid, user.account.locale)}, 422
        )
    db = database(request)
    try:
        booked = await db.run(effect, db, built)
    except StockOperationError as refused:
        return await _operations(
            request, user, {form: values}, {form: reasons_of(refused, user.account.locale)}, 409
        )
    return await _operations(request, user, {}, done=booked)


async def _operations(
    request: Request,
    user: Staff,
    values: dict[str, dict[str, str]],
    problems: dict[str, str] | None = None,
    status: int = 200,
    done: Wording | None = None,
) -> Response:
    db = database(request)
    warehouses, products = await db.run(stock_choices, db)
    return render(
        "stock_operations.html",
        user.account.locale,
        status,
        user=user,
        values=values,
        problems=problems or {},
        done=done,
        reasons=REASONS,
        operations=[StockOperation.RECEIPT, StockOperation.ISSUE, StockOperation.ADJUSTMENT],
        warehouses=warehouses,
        products=products,
        transfer_rows=range(1, TRANSFER_ROWS + 1),
        action_id=secrets.token_hex(16),
    )


async def _stocktakes(
    request: Request,
    user: Staff,
    values: dict[str, str],
    problem: str | None,
    status: int = 200,
) -> Response:
    db = database(request)
    counts = await db.run(stocktakes, db)
    warehouses, _products = await db.run(stock_choices, db)
    return render(
        "stocktakes.html",
        user.account.locale,
        status,
        user=user,
        counts=[view.blind() for view in counts],
        values=values,
        problem=problem,
        warehouses=warehouses,
        operator=user.may(Permission.OPERATE_STOCK),
    )


@router.get("/packing")
async def packing_page(
    request: Request,
    user: Annotated[Staff, Depends(requires(Permission.VIEW_STOCK))],
    warehouse: str | None = None,
) -> Response:
    """Parcels to pick and pack (warehouses that confirm packing), oldest first."""
    db = database(request)
    rows = await db.run(functools.partial(packing_queue, warehouse_id=warehouse or None), db)
    return render(
        "packing.html",
        user.account.locale,
        user=user,
        rows=rows,
        warehouse=warehouse or "",
        operator=user.may(Permission.OPERATE_STOCK),
        done=request.query_params.get("done"),
        action_id=secrets.token_hex(16),
    )


@router.post("/packing/{shipment_id}")
async def parcel_packed(
    request: Request,
    shipment_id: str,
    user: Operator,
    _form: FormChecked,
    packages: FormText = "1",
    note: FormText = "",
    action_id: FormText = "",
) -> Response:
    """The parcel is picked and packed: its workflow books the carrier."""
    target = StaffAction(
        shipment_workflow_id(shipment_id), PARCEL_PACKED_SIGNAL, f"parcel {shipment_id}"
    )
    return await act_on_workflow(
        request,
        user,
        target,
        lambda: ParcelPacked.model_validate_strings(
            {"actor": user.account.username, "packages": packages.strip() or "1", "note": note}
        ),
        back="/stock/packing",
        done=shipment_id,
        update_id=f"console-{action_id}" if action_id else None,
    )


async def act_on_workflow(
    request: Request,
    user: Staff,
    target: StaffAction,
    build: Callable[[], BaseModel],
    *,
    back: str,
    done: str,
    update_id: str | None = None,
) -> Response:
    """Send the update a form asks for to a workflow as the logged-in user: an unreadable
    form is a 422 naming the field, a refusal a 409 with the workflow's reason; done, back
    to ``back`` saying ``done``."""
    try:
        argument = build()
    except ValidationError as invalid:
        return refusal_page(user, reasons_of(invalid, user.account.locale), back, 422)
    try:
        await perform(await temporal(request), target, argument, update_id=update_id)
    except StaffActionError as refused:
        return refusal_page(user, str(refused), back)
    return RedirectResponse(f"{back}?done={done}", status_code=303)
