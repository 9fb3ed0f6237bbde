"""Invariants that need Temporal: no unfinished order without a running workflow."""

from __future__ import annotations

from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from domain.orders import order_workflow_id
from persistence.invariants import Violation


async def stuck_orders(client: Client, order_ids: list[str]) -> list[Violation]:
    """Orders the read model shows unfinished whose workflow is not running."""
    violations = []
    for order_id in order_ids:
        handle = client.get_workflow_handle(order_workflow_id(order_id))
        try:
            status = (await handle.describe()).status
        except RPCError as error:
            if error.status is not RPCStatusCode.NOT_FOUND:
                raise
            status = None
        if status is not WorkflowExecutionStatus.RUNNING:
            violations.append(
                Violation(
                    invariant="every unfinished order has a running workflow",
                    subject=f"order {order_id}",
                    detail=f"workflow {handle.id} is {status.name if status else 'missing'}",
                )
            )
    return violations
