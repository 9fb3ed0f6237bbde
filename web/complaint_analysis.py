"""The complaint analysis in the console (customer service, analysts): a week's figures with
charts, the trend, recurring root causes and the improvement actions that answer them,
the CSV export, and the analysis run on demand."""

from __future__ import annotations

import asyncio
import functools
import uuid
from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.responses import Response

from domain.access import Permission
from domain.complaint_analysis import (
    COMPLAINT_ANALYSIS_WORKFLOW_TYPE,
    DIMENSIONS,
    AnalysisRequest,
    ComplaintAnalysis,
    NewImprovementAction,
    week_of,
)
from domain.orders import TASK_QUEUE
from persistence.complaint_views import root_causes
from persistence.csv_files import write_csv
from persistence.transactions.complaint_analysis import (
    add_improvement_action,
    complete_improvement_action,
    improvement_actions,
    kept_analyses,
    kept_analysis,
    live_analysis,
)
from persistence.transactions.complaints import ComplaintRefusedError, add_root_cause

from .i18n import translations
from .labels import COMPLAINT_LABELS
from .rendering import render
from .security import FormChecked, RowNumber, Staff, database, requires, settings_of, temporal
from .stock import reasons_of, refusal_page

router = APIRouter(prefix="/complaints/analysis")

Reader = Annotated[Staff, Depends(requires(Permission.VIEW_COMPLAINT_ANALYSIS))]
Handler = Annotated[Staff, Depends(requires(Permission.HANDLE_COMPLAINTS))]
Week = Annotated[date | None, Query(description="The Monday of the week; default: the latest")]


async def _analysis(request: Request, week: date | None) -> tuple[ComplaintAnalysis, bool]:
    """The analysis of ``week`` (default: the latest kept, else this week): kept, or live."""
    db = database(request)
    kept = await db.run(kept_analyses, db)
    chosen = week_of(week) if week else kept[0][0] if kept else week_of(datetime.now(UTC).date())
    analysis = await db.run(kept_analysis, db, chosen)
    if analysis is not None:
        return analysis, True
    calendar = settings_of(request).complaint_policy().calendar
    return await db.run(live_analysis, db, chosen, calendar), False


@router.get("")
async def analysis_page(request: Request, user: Reader, week: Week = None) -> Response:
    """A week's complaint analysis with its charts, root causes and improvement actions."""
    analysis, kept = await _analysis(request, week)
    db = database(request)
    return render(
        "complaint_analysis.html",
        user.account.locale,
        user=user,
        analysis=analysis,
        kept=kept,
        weeks=[w for w, _at in await db.run(kept_analyses, db)],
        actions=await db.run(improvement_actions, db),
        root_causes=await db.run(functools.partial(root_causes, db, active_only=False)),
        dimensions=[d for d in DIMENSIONS if d != "category"],
        problem=request.query_params.get("problem"),
        done=request.query_params.get("done"),
    )


@router.get("/trend.svg")
async def trend_chart(request: Request, user: Reader, week: Week = None) -> Response:
    """Complaints a week and per 100 orders, the analysed week and the ones before."""
    from .charts import TrendChartLabels, complaint_trend_svg

    analysis, _kept = await _analysis(request, week)
    gettext = translations(user.account.locale).gettext
    labels = TrendChartLabels(
        title=gettext("Complaints a week"),
        complaints=gettext("Complaints"),
        per_100_orders=gettext("per 100 orders"),
        locale=user.account.locale,
    )
    points = [(p.week_start, p.complaints, p.per_100_orders) for p in analysis.trend]
    svg = await asyncio.to_thread(complaint_trend_svg, points, labels)
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "no-store"})


@router.get("/rates.svg")
async def rates_chart(
    request: Request, user: Reader, week: Week = None, dimension: str = "category"
) -> Response:
    """Complaints per 100 orders by one dimension, as bars."""
    from .charts import rate_bars_svg

    analysis, _kept = await _analysis(request, week)
    gettext = translations(user.account.locale).gettext
    bars = [
        (gettext(COMPLAINT_LABELS[r.key]) if r.key in COMPLAINT_LABELS else r.key, r.per_100_orders)
        for r in analysis.rates
        if r.dimension == dimension and r.per_100_orders is not None
    ]
    svg = await asyncio.to_thread(rate_bars_svg, bars, gettext("Complaints per 100 orders"))
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "no-store"})


@router.get(".csv")
async def analysis_csv(request: Request, user: Reader, week: Week = None) -> Response:
    """The week's figures as CSV: the headline figures, then every rate and root cause
    (text that a spreadsheet would run as a formula is quoted, see
    :mod:`persistence.csv_files`)."""
    analysis, _kept = await _analysis(request, week)
    rows: list[list[object]] = []
    for name in (
        "complaints",
        "orders",
        "per_100_orders",
        "resolved",
        "sla_compliance",
        "first_response_median_hours",
        "first_response_p90_hours",
        "resolution_median_hours",
        "resolution_p90_hours",
        "remedy_cost",
        "surveys_answered",
        "csat",
        "average_score",
    ):
        rows.append(["week", name, "", "", "", getattr(analysis, name)])
    for rate in analysis.rates:
        rows.append(
            [rate.dimension, rate.key, rate.complaints, rate.orders, rate.per_100_orders, ""]
        )
    for point in analysis.trend:
        rows.append(
            ["trend", point.week_start, point.complaints, point.orders, point.per_100_orders, ""]
        )
    for cause in analysis.root_causes:
        recurring = "recurring" if cause.recurring else ""
        rows.append(["root_cause", cause.code, cause.complaints, "", "", recurring])
    text = write_csv(["section", "key", "complaints", "orders", "per_100_orders", "value"], rows)
    name = f"complaints-{analysis.week_start}.csv"
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post("/run")
async def run_analysis(request: Request, user: Handler, _form: FormChecked) -> Response:
    """Produce (and keep) the analysis of the chosen week now, as the schedule would."""
    form = await request.form()
    try:
        week = week_of(date.fromisoformat(str(form.get("week", ""))))
    except ValueError:
        return refusal_page(user, "week: a date (YYYY-MM-DD)", "/complaints/analysis", 422)
    await (await temporal(request)).execute_workflow(
        COMPLAINT_ANALYSIS_WORKFLOW_TYPE,
        AnalysisRequest(week_start=week),
        id=f"complaint-analysis-{week}-{uuid.uuid4().hex[:8]}",
        task_queue=TASK_QUEUE,
        result_type=ComplaintAnalysis,
        static_summary=f"Complaint analysis, week of {week}, asked by {user.account.username}",
    )
    return RedirectResponse(f"/complaints/analysis?week={week}&done=run", status_code=303)


@router.post("/actions")
async def new_action(request: Request, user: Handler, _form: FormChecked) -> Response:
    """Record an improvement action for a root cause."""
    form = await request.form()
    values = {k: str(v).strip() for k, v in form.items() if k not in ("csrf_token", "week")}
    back = f"/complaints/analysis?week={form.get('week', '')}"
    try:
        action = NewImprovementAction.model_validate({k: v for k, v in values.items() if v})
    except ValidationError as invalid:
        return refusal_page(user, reasons_of(invalid, user.account.locale), back, 422)
    db = database(request)
    try:
        await db.run(add_improvement_action, db, action, user.account.username)
    except ComplaintRefusedError as refused:
        return refusal_page(user, str(refused), back)
    return RedirectResponse(f"{back}&done=action", status_code=303)


@router.post("/actions/{action_id}/done")
async def action_done(
    request: Request, action_id: RowNumber, user: Handler, _form: FormChecked
) -> Response:
    """Mark an improvement action done, with its outcome."""
    form = await request.form()
    outcome = str(form.get("outcome", "")).strip()
    back = f"/complaints/analysis?week={form.get('week', '')}"
    if not outcome:
        return refusal_page(user, "outcome: say what was done", back, 422)
    db = database(request)
    try:
        await db.run(complete_improvement_action, db, action_id, outcome, user.account.username)
    except ComplaintRefusedError as refused:
        return refusal_page(user, str(refused), back)
    return RedirectResponse(f"{back}&done=action-done", status_code=303)


@router.post("/root-causes")
async def new_root_cause(request: Request, user: Handler, _form: FormChecked) -> Response:
    """Extend the list of root causes complaints close with."""
    form = await request.form()
    back = f"/complaints/analysis?week={form.get('week', '')}"
    db = database(request)
    try:
        await db.run(
            add_root_cause, db, str(form.get("code", "")).strip(), str(form.get("label", ""))
        )
    except ComplaintRefusedError as refused:
        return refusal_page(user, str(refused), back, 422)
    return RedirectResponse(f"{back}&done=root-cause", status_code=303)
