"""Replenishment in the console: the proposals the inventory review made (approve, edit,
reject), the orders they became (with deliveries received here), the last forecasts
with their accuracy, and a button that runs the review now."""

from __future__ import annotations

import asyncio
import functools
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.responses import Response
from temporalio.common import WorkflowIDConflictPolicy

from domain.access import Permission
from domain.orders import TASK_QUEUE
from domain.replenishment import (
    INVENTORY_REVIEW_WORKFLOW_ID,
    INVENTORY_REVIEW_WORKFLOW_TYPE,
    ProposalDecision,
    ProposalStatus,
    ReviewRequest,
)
from domain.supply import SupplyReceipt
from ops.replenishment import decide, receipt_action
from persistence.catalogue_views import stock_choices
from persistence.transactions.replenishment import forecast_report, proposals
from persistence.transactions.stock import StockOperationError

from .i18n import translations
from .labels import FORECAST_METHOD_LABELS
from .rendering import render
from .security import FormChecked, RowNumber, Staff, database, requires, temporal
from .stock import act_on_workflow, reasons_of, refusal_page, whole_number

router = APIRouter(prefix="/stock")

Planner = Annotated[Staff, Depends(requires(Permission.REPLENISH))]
Reader = Annotated[Staff, Depends(requires(Permission.VIEW_STOCK))]
FormText = Annotated[str, Form()]


@router.get("/replenishment")
async def replenishment_page(request: Request, user: Reader) -> Response:
    """Open proposals to decide, and the latest decided ones with their orders."""
    db = database(request)
    open_ones = await db.run(proposals, db)
    decided = [
        p
        for p in await db.run(functools.partial(proposals, status=None, limit=100), db)
        if p.status is not ProposalStatus.PROPOSED
    ]
    return render(
        "replenishment.html",
        user.account.locale,
        user=user,
        open_ones=open_ones,
        decided=decided,
        planner=user.may(Permission.REPLENISH),
        done=request.query_params.get("done"),
    )


@router.post("/replenishment/review")
async def review_now(request: Request, user: Planner, _form: FormChecked) -> Response:
    """Start the inventory review now (one at a time); its results appear when it ends."""
    await (await temporal(request)).start_workflow(
        INVENTORY_REVIEW_WORKFLOW_TYPE,
        ReviewRequest(),
        id=INVENTORY_REVIEW_WORKFLOW_ID,
        task_queue=TASK_QUEUE,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    return RedirectResponse("/stock/replenishment?done=review", status_code=303)


@router.post("/replenishment/{proposal_id}/receive")
async def receive_delivery(
    request: Request,
    proposal_id: RowNumber,
    user: Planner,
    _form: FormChecked,
    quantity: FormText = "",
    note: FormText = "",
) -> Response:
    """Units of a replenishment order arrived (its delivery note counts once)."""
    return await act_on_workflow(
        request,
        user,
        receipt_action(proposal_id),
        lambda: SupplyReceipt.model_validate_strings(
            {
                "receipt_id": note.strip(),
                "quantity": quantity.strip(),
                "actor": user.account.username,
            }
        ),
        back="/stock/replenishment",
        done="receive",
    )


# Declared after the route above: "/{proposal_id}/{answer}" would take its path too.
@router.post("/replenishment/{proposal_id}/{answer}")
async def decide_proposal(
    request: Request,
    proposal_id: RowNumber,
    answer: str,
    user: Planner,
    _form: FormChecked,
    quantity: FormText = "",
    note: FormText = "",
) -> Response:
    """Approve (with the quantity in the form, if changed) or reject a proposal."""
    back = "/stock/replenishment"
    if answer not in ("approve", "reject"):
        return refusal_page(user, f"no such answer {answer!r}", back, 404)
    try:
        decision = ProposalDecision(
            approve=answer == "approve",
            quantity=whole_number(quantity, "quantity") if quantity.strip() else None,
            note=note.strip(),
            actor=user.account.username,
        )
    except (ValidationError, ValueError) as invalid:
        return refusal_page(user, reasons_of(invalid, user.account.locale), back, 422)
    db = database(request)
    try:
        await decide(await temporal(request), db, proposal_id, decision)
    except StockOperationError as refused:
        return refusal_page(user, str(refused), back)
    return RedirectResponse(f"{back}?done={answer}", status_code=303)


@router.get("/forecast")
async def forecast_page(request: Request, user: Reader, warehouse: str | None = None) -> Response:
    """The last review's forecast per product and warehouse, its method and accuracy
    against seasonal-naive, the predicted stock-out date and overstock."""
    db = database(request)
    report = await db.run(functools.partial(forecast_report, warehouse_id=warehouse or None), db)
    warehouses, _products = await db.run(stock_choices, db)
    return render(
        "forecast.html",
        user.account.locale,
        user=user,
        report=report,
        warehouse=warehouse or "",
        warehouses=warehouses,
        today=datetime.now(UTC).date(),
    )


@router.get("/products/{sku}/projection.svg")
async def projection_chart(request: Request, sku: str, user: Reader, warehouse: str) -> Response:
    """Projected free stock and forecast demand of one product in one warehouse (SVG)."""
    from .charts import ProjectionChartLabels, projection_chart_svg

    db = database(request)
    report = await db.run(functools.partial(forecast_report, sku=sku, warehouse_id=warehouse), db)
    gettext = translations(user.account.locale).gettext
    if not report.rows:
        return Response(status_code=404)
    row = report.rows[0]
    labels = ProjectionChartLabels(
        title=gettext("%(sku)s in %(warehouse)s: projection (%(method)s)")
        % {
            "sku": sku,
            "warehouse": warehouse,
            "method": gettext(FORECAST_METHOD_LABELS[row.method])
            if row.method in FORECAST_METHOD_LABELS
            else row.method,
        },
        free=gettext("Projected free stock"),
        demand=gettext("Forecast demand a day"),
        safety_stock=gettext("Safety stock"),
        units=gettext("Units"),
        locale=user.account.locale,
    )
    svg = await asyncio.to_thread(
        projection_chart_svg, row.projection, row.forecast, row.safety_stock, labels
    )
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "no-store"})
