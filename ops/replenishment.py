"""Replenishment from the outside: a planner's decision on a proposal (console and
``oms replenishment``), the start of its replenishment order, a review on demand.

``oms replenishment list|approve|reject|receive`` and ``oms inventory-review``.
"""

from __future__ import annotations

import asyncio
import getpass
from datetime import date
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.table import Table
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from domain.messages import describe_validation_error
from domain.orders import TASK_QUEUE
from domain.replenishment import (
    INVENTORY_REVIEW_WORKFLOW_ID,
    INVENTORY_REVIEW_WORKFLOW_TYPE,
    REPLENISHMENT_WORKFLOW_TYPE,
    ProposalDecision,
    ProposalStatus,
    ProposalView,
    ReplenishmentRequest,
    ReviewOutcome,
    ReviewRequest,
    replenishment_workflow_id,
)
from domain.supply import SUPPLY_RECEIVED_SIGNAL, SupplyReceipt
from persistence.database import Database
from persistence.transactions.replenishment import decide_proposal, proposals
from persistence.transactions.stock import StockOperationError
from runtime.settings import Settings
from runtime.temporal import connect
from runtime.workers import open_database

from ._console import JsonOption, console, fail, record_number
from .rendering import inventory_review_table
from .staff import StaffAction, StaffActionError, perform

replenishment_app = typer.Typer(
    help="Replenishment proposals and orders for stock.", no_args_is_help=True
)


async def start_replenishment(
    client: Client, request: ReplenishmentRequest, task_queue: str = TASK_QUEUE
) -> str:
    """Start the replenishment order of an ordered proposal (a second start finds the first)."""
    handle = await client.start_workflow(
        REPLENISHMENT_WORKFLOW_TYPE,
        request,
        id=replenishment_workflow_id(request.proposal_id),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
        static_summary=f"Replenish {request.quantity} x {request.sku} in {request.warehouse_id}",
    )
    return handle.id


async def decide(
    client: Client,
    db: Database,
    proposal_id: int,
    decision: ProposalDecision,
    task_queue: str = TASK_QUEUE,
) -> str | None:
    """Approve or reject a proposal; an approval starts its replenishment order (its
    workflow id is returned). Raises :class:`StockOperationError` when already decided.

    Should the start fail (Temporal unreachable), the proposal stays ordered and the
    next inventory review starts it.
    """
    request = await db.run(decide_proposal, db, proposal_id, decision)
    if request is None:
        return None
    return await start_replenishment(client, request, task_queue)


async def review_now(
    client: Client, task_queue: str = TASK_QUEUE, day: date | None = None
) -> ReviewOutcome:
    """Run an inventory review now (as of ``day``; default the workflow's today) and wait
    for its outcome (one at a time)."""
    outcome: ReviewOutcome = await client.execute_workflow(
        INVENTORY_REVIEW_WORKFLOW_TYPE,
        ReviewRequest(day=day),
        id=INVENTORY_REVIEW_WORKFLOW_ID,
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        result_type=ReviewOutcome,
    )
    return outcome


def receipt_action(proposal_id: int) -> StaffAction:
    """A delivery for a replenishment order, as a staff action on its workflow."""
    return StaffAction(
        replenishment_workflow_id(proposal_id),
        SUPPLY_RECEIVED_SIGNAL,
        f"replenishment {proposal_id}",
    )


# --- the command line ----------------------------------------------------------------

ProposalArgument = Annotated[int, record_number("proposal", "The proposal's number.")]
ActorOption = Annotated[
    str | None, typer.Option("--as", help="Who decides (default: your login name).")
]


@replenishment_app.command("list")
def list_proposals(
    every: Annotated[bool, typer.Option("--all", help="Decided ones too.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Open proposals (or all), newest first."""

    async def run() -> list[ProposalView]:
        async with open_database(Settings()) as db:
            status = None if every else ProposalStatus.PROPOSED
            return await db.run(proposals, db, status=status)

    found = asyncio.run(run())
    if as_json:
        console.print_json(data=[view.model_dump(mode="json") for view in found])
        return
    table = Table("proposal", "state", "order", "received", "reason")
    for view in found:
        table.add_row(
            str(view.id),
            proposal_state(view),
            f"{view.kind.value} {view.quantity} x {view.sku} for {view.warehouse_id}",
            f"{view.received} of {view.quantity}" if view.order_status else "",
            view.reason,
        )
    console.print(table)


def proposal_state(view: ProposalView) -> str:
    """Where a proposal stands: its decision, or once ordered, its order's state
    (``open``, ``received``, ``cancelled``)."""
    if view.status is ProposalStatus.ORDERED and view.order_status:
        return view.order_status
    return view.status.value


@replenishment_app.command("approve")
def approve(
    proposal_id: ProposalArgument,
    quantity: Annotated[
        int | None, typer.Option("--quantity", help="Order this many instead.")
    ] = None,
    note: Annotated[str, typer.Option("--note", help="Why (kept with the decision).")] = "",
    actor: ActorOption = None,
) -> None:
    """Approve a proposal (as proposed, or edited): its replenishment order starts."""
    _decide(proposal_id, True, quantity, note, actor)


@replenishment_app.command("reject")
def reject(
    proposal_id: ProposalArgument,
    note: Annotated[str, typer.Option("--note", help="Why.")] = "",
    actor: ActorOption = None,
) -> None:
    """Reject a proposal: nothing is ordered (the next review may propose again)."""
    _decide(proposal_id, False, None, note, actor)


def _decide(
    proposal_id: int, approve: bool, quantity: int | None, note: str, actor: str | None
) -> None:
    try:
        decision = ProposalDecision(
            approve=approve, quantity=quantity, note=note, actor=actor or getpass.getuser()
        )
    except ValidationError as invalid:
        raise fail("; ".join(describe_validation_error(invalid))) from invalid

    async def run() -> str | None:
        settings = Settings()
        async with open_database(settings) as db:
            return await decide(await connect(settings), db, proposal_id, decision)

    try:
        started = asyncio.run(run())
    except StockOperationError as refused:
        raise fail(str(refused)) from refused
    console.print(
        f"proposal {proposal_id} approved: {started} started"
        if started
        else f"proposal {proposal_id} rejected"
    )


@replenishment_app.command("receive")
def receive(
    proposal_id: ProposalArgument,
    quantity: Annotated[int, typer.Argument(help="Units delivered.")],
    note: Annotated[str, typer.Option("--note", help="The delivery note (counted once).")],
    actor: ActorOption = None,
) -> None:
    """Units of a replenishment order arrived: booked into stock through the ledger."""
    try:
        receipt = SupplyReceipt(
            receipt_id=note, quantity=quantity, actor=actor or getpass.getuser()
        )
    except ValidationError as invalid:
        raise fail("; ".join(describe_validation_error(invalid))) from invalid

    async def run() -> str:
        return await perform(await connect(Settings()), receipt_action(proposal_id), receipt)

    try:
        console.print(asyncio.run(run()))
    except StaffActionError as refused:
        raise fail(str(refused)) from refused


@replenishment_app.command("review")
def review() -> None:
    """Run the inventory review now (as the daily schedule does) and print what it did."""

    async def run() -> ReviewOutcome:
        return await review_now(await connect(Settings()))

    console.print(inventory_review_table(asyncio.run(run())))
