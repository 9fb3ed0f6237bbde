"""ComplaintAnalysisWorkflow: the weekly complaint analysis, from its Schedule or on demand.

It analyses the week just ended (or the one asked for), keeps the figures, and tells
customer service the headline and which root causes recur without an improvement action.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.complaint_analysis import (
        ANALYSE_COMPLAINTS,
        COMPLAINT_ANALYSIS_WORKFLOW_TYPE,
        AnalysisRequest,
        ComplaintAnalysis,
        week_of,
    )
    from domain.notifications import Audience

from workflows._common import notify, run_step, runs_database_steps_locally
from workflows.policies import REVIEW_STEP


@workflow.defn(name=COMPLAINT_ANALYSIS_WORKFLOW_TYPE)
class ComplaintAnalysisWorkflow:
    """One week's complaint analysis."""

    @workflow.run
    async def run(self, request: AnalysisRequest) -> ComplaintAnalysis:
        """Analyse the week, keep it, tell customer service."""
        runs_database_steps_locally()  # pins the patch marker before any step
        week = request.week_start or week_of(workflow.now().date() - timedelta(days=7))
        analysis = await run_step(
            ANALYSE_COMPLAINTS,
            AnalysisRequest(week_start=week),
            ComplaintAnalysis,
            f"Analyse the complaints of the week of {week}",
            REVIEW_STEP,
        )
        unattended = [c for c in analysis.root_causes if c.recurring and not c.open_action]
        rate = "-" if analysis.per_100_orders is None else f"{analysis.per_100_orders}"
        compliance = "-" if analysis.sla_compliance is None else f"{analysis.sla_compliance:.0%}"
        message = (
            f"{analysis.complaints} complaints, {rate} per 100 orders; service levels kept "
            f"{compliance}; remedies {analysis.remedy_cost}."
        )
        if unattended:
            message += " Recurring without an improvement action: " + ", ".join(
                f"{c.label} ({c.complaints})" for c in unattended
            )
        await notify(
            "complaint-analysis",
            f"analysis:{week}:{workflow.info().workflow_id}:{workflow.info().run_id}",
            Audience.CUSTOMER_SERVICE,
            f"Complaint analysis, week of {week}",
            message,
        )
        return analysis
