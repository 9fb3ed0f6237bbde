"""Invariants that need Temporal: every unfinished order has a running workflow, and no
order's workflow task keeps failing (a stuck order the read model cannot show)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from domain.complaints import complaint_workflow_id
from domain.orders import WORKFLOW_TYPE, OrderStatus, order_workflow_id
from domain.shipping import SHIPMENT_WORKFLOW_TYPE
from domain.supply import SUPPLY_WORKFLOW_TYPE
from domain.visibility import order_id_of_workflow
from persistence.invariants import Violation
from persistence.order_views import OrderSummary

FAILING_TASK_ATTEMPTS = 3
"""A workflow task on its third attempt or later is failing, not just retried once
after a worker restart."""

RUNNING_ORDER_WORKFLOWS = (
    "ExecutionStatus = 'Running' AND WorkflowType IN "
    f"('{WORKFLOW_TYPE}', '{SUPPLY_WORKFLOW_TYPE}', '{SHIPMENT_WORKFLOW_TYPE}')"
)
REPORTED_PROBLEMS = "ExecutionStatus = 'Running' AND TemporalReportedProblems IS NOT NULL"
"""What servers that report problems (``TemporalReportedProblems``) flag themselves."""

FAILING_INVARIANT = "no order's workflow task keeps failing"


@dataclass(frozen=True)
class FailingWorkflow:
    """A running workflow of an order whose workflow task keeps failing."""

    order_id: str
    workflow_id: str
    attempt: int

    @property
    def reason(self) -> str:
        """Why a person must look, as the needs-attention lists show it."""
        return (
            f"workflow {self.workflow_id}: its workflow task keeps failing (attempt "
            f"{self.attempt}); the order cannot move until the cause is fixed (see the worker "
            "log and the workflow in the Web UI)"
        )


async def failing_workflows(client: Client) -> list[FailingWorkflow]:
    """Running order, supply and parcel workflows whose workflow task keeps failing.

    Found from the pending task's attempt count of every running workflow of
    ours, and from what the server itself reports, where it does.
    """
    workflow_ids = [
        execution.id async for execution in client.list_workflows(RUNNING_ORDER_WORKFLOWS)
    ]
    try:
        workflow_ids += [
            execution.id async for execution in client.list_workflows(REPORTED_PROBLEMS)
        ]
    except RPCError as error:  # a server without that search attribute
        if error.status is not RPCStatusCode.INVALID_ARGUMENT:
            raise
    failing = []
    for workflow_id in dict.fromkeys(workflow_ids):
        description = await client.get_workflow_handle(workflow_id).describe()
        attempt = description.raw_description.pending_workflow_task.attempt
        reported = description.raw_description.workflow_execution_info.search_attributes
        if (
            attempt >= FAILING_TASK_ATTEMPTS
            or "TemporalReportedProblems" in reported.indexed_fields
        ):
            failing.append(FailingWorkflow(order_id_of_workflow(workflow_id), workflow_id, attempt))
    return failing


async def stuck_orders(client: Client, order_ids: list[str]) -> list[Violation]:
    """Orders the read model shows unfinished whose workflow is not running, and orders
    (whatever the read model shows) whose workflow task keeps failing."""
    violations = await not_running(
        client,
        {f"order {order_id}": order_workflow_id(order_id) for order_id in order_ids},
        "every unfinished order has a running workflow",
    )
    violations += [
        Violation(
            invariant=FAILING_INVARIANT, subject=f"order {failing.order_id}", detail=failing.reason
        )
        for failing in await failing_workflows(client)
    ]
    return violations


async def stuck_complaints(client: Client, complaint_ids: list[int]) -> list[Violation]:
    """Complaints not yet closed whose case workflow is not running."""
    return await not_running(
        client,
        {f"complaint #{number}": complaint_workflow_id(number) for number in complaint_ids},
        "every complaint not yet closed has a running case",
    )


async def not_running(client: Client, workflows: dict[str, str], invariant: str) -> list[Violation]:
    """A violation of ``invariant`` for each subject whose workflow is not running."""
    violations = []
    for subject, workflow_id in workflows.items():
        try:
            status = (await client.get_workflow_handle(workflow_id).describe()).status
        except RPCError as error:
            if error.status is not RPCStatusCode.NOT_FOUND:
                raise
            status = None
        if status is not WorkflowExecutionStatus.RUNNING:
            violations.append(
                Violation(
                    invariant=invariant,
                    subject=subject,
                    detail=f"workflow {workflow_id} is {status.name if status else 'missing'}",
                )
            )
    return violations


def with_failing_workflows(
    rows: list[OrderSummary], failing: list[FailingWorkflow]
) -> list[OrderSummary]:
    """A needs-attention list with the orders whose workflow task keeps failing first.

    Such an order cannot write to the read model, so its row (if it has one) does
    not say it needs attention; one without a row is shown with what is known.
    """
    known = {row.order_id: row for row in rows}
    stuck = []
    for workflow in failing:
        row = known.pop(workflow.order_id, None)
        if row is None:
            row = OrderSummary(
                order_id=workflow.order_id,
                channel="",
                customer_id="",
                status=OrderStatus.RECEIVED,
                total=Decimal(0),
                currency="",
                escalation_level=0,
                needs_attention=None,
                updated_at=datetime.now(UTC),
            )
        stuck.append(
            row.model_copy(
                update={"needs_attention": workflow.reason, "needs_attention_wording": None}
            )
        )
    return stuck + list(known.values())
