"""Submitting orders by signal-with-start, from JSON files or the demo set."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from pydantic import ValidationError
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from domain.messages import describe_validation_error
from domain.orders import (
    SUBMIT_ORDER_SIGNAL,
    TASK_QUEUE,
    WORKFLOW_TYPE,
    OrderStatus,
    OrderSubmission,
    order_workflow_id,
)
from domain.visibility import initial_search_attributes
from persistence.database import Database
from persistence.transactions.intake import record_duplicate_submission


class SubmissionError(ValueError):
    """A submission file that cannot be turned into an order; the message says why."""


class Delivery(StrEnum):
    """What happened to a submission."""

    SUBMITTED = "submitted"
    """Handed to the order's workflow (new, or running: it records a repeat as duplicate)."""
    ALREADY_FINISHED = "already finished"
    """The order's workflow has ended; the repeat was recorded and changed nothing."""


@dataclass(frozen=True)
class SubmitOutcome:
    """The workflow a submission went to and what happened."""

    order_id: str
    workflow_id: str
    delivery: Delivery


def read_submission(path: Path) -> OrderSubmission:
    """Parse an order file (UTF-8, with or without a byte-order mark), naming every wrong field.

    The reasons are worded as the order workflow words them for a document another
    client sent (:func:`domain.messages.describe_validation_error`).
    """
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise SubmissionError(f"{path}: cannot read: {error.strerror}") from error
    except UnicodeDecodeError as error:
        raise SubmissionError(
            f"{path}: not UTF-8 text (byte {error.start} is 0x{error.object[error.start]:02x}); "
            "save the order as UTF-8"
        ) from error
    try:
        return OrderSubmission.model_validate_json(raw)
    except ValidationError as error:
        problems = "; ".join(describe_validation_error(error))
        raise SubmissionError(f"{path}: not a valid order: {problems}") from error


async def submit(
    client: Client, submission: OrderSubmission, db: Database | None = None
) -> SubmitOutcome:
    """Signal-with-start the order's workflow; never starts a second one for an order id.

    A running workflow receives the signal (and records a repeat as a duplicate).
    A finished one is never restarted (``REJECT_DUPLICATE``); with ``db``
    the repeat is then recorded in the order's audit log here.
    """
    workflow_id = order_workflow_id(submission.order_id)
    try:
        await client.start_workflow(
            WORKFLOW_TYPE,
            id=workflow_id,
            task_queue=TASK_QUEUE,
            start_signal=SUBMIT_ORDER_SIGNAL,
            start_signal_args=[submission],
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=initial_search_attributes(submission),
            static_summary=(
                f"Order {submission.order_id} via {submission.channel.value} "
                f"for {submission.customer_id}"
            ),
            static_details="\n".join(
                f"- line {number}: {line.quantity} x {line.sku} at {line.unit_price} "
                f"{submission.currency}"
                for number, line in enumerate(submission.lines, start=1)
            ),
        )
    except WorkflowAlreadyStartedError:
        if db is not None:
            await db.run(record_duplicate_submission, db, submission, actor="starter")
        return SubmitOutcome(submission.order_id, workflow_id, Delivery.ALREADY_FINISHED)
    return SubmitOutcome(submission.order_id, workflow_id, Delivery.SUBMITTED)


EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"


class DemoRole(StrEnum):
    """What the demo, playing staff and partners, does to one demo order."""

    NONE = "none"
    APPROVE = "approve"
    """Support approves it once it is held for credit review."""
    CANCEL = "cancel"
    """Support cancels it while it waits for supply."""


DEMO_ROLES = {
    "edi-held-for-credit": DemoRole.APPROVE,
    "web-cancelled-by-support": DemoRole.CANCEL,
}
"""Example file stems and the part the demo plays for them; the rest run by themselves."""

DEMO_ENDS = {
    "WEB-10001": OrderStatus.COMPLETED,
    "WEB-10002": OrderStatus.COMPLETED,
    "WEB-10003": OrderStatus.CANCELLED,
    "EDI-4500012345": OrderStatus.COMPLETED,
    "EDI-4600000777": OrderStatus.COMPLETED,
    "TEL-2026-0042": OrderStatus.COMPLETED,
    "TEL-2026-0099": OrderStatus.COMPLETED,
    "FAX-000317": OrderStatus.COMPLETED,
    "FAX-BAD": OrderStatus.REJECTED,
}
"""How each order of the demo set ends (by its id without the run tag): crashes,
restarts and chaos must not change it."""


def demo_example(order_id: str) -> str:
    """The demo example an order id was made from (its id without the run tag)."""
    return order_id.rsplit("-", 1)[0]


def demo_submissions(
    run_tag: str, examples_dir: Path = EXAMPLES_DIR
) -> list[tuple[OrderSubmission, DemoRole]]:
    """The demo set: every example order, plus one that must be rejected, with fresh ids.

    ``run_tag`` makes the ids unique per run, so a second demo on the same
    persistent state shows new orders instead of duplicates.
    """
    submissions = []
    for path in sorted(examples_dir.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        data["order_id"] = f"{data['order_id']}-{run_tag}"
        role = DEMO_ROLES.get(path.stem, DemoRole.NONE)
        submissions.append((OrderSubmission.model_validate(data), role))
    invalid = OrderSubmission.model_validate(
        {
            "order_id": f"FAX-BAD-{run_tag}",
            "channel": "fax",
            "customer_id": "CUST-OLD",
            "lines": [
                {"sku": "LEGACY-0", "quantity": 2, "unit_price": "5.00"},
                {"sku": "NO-SUCH-SKU", "quantity": 0, "unit_price": "1.00"},
            ],
            "shipping_address": {"name": "Former Customer AG", "city": "Bonn"},
        }
    )
    submissions.append((invalid, DemoRole.NONE))
    return submissions


def held_order_for_operator(run_tag: str) -> OrderSubmission:
    """An order from a customer on credit watch: it waits for a person's approval."""
    return OrderSubmission.model_validate(
        {
            "order_id": f"OPS-HELD-{run_tag}",
            "channel": "phone",
            "customer_id": "CUST-WATCH",
            "lines": [{"sku": "WIDGET-1", "quantity": 5, "unit_price": "19.90"}],
            "shipping_address": {
                "name": "Watchful Trading KG",
                "street": "Hafenweg 12",
                "postal_code": "20457",
                "city": "Hamburg",
                "country": "DE",
            },
        }
    )
