"""Receive & confirm: adapters onto :mod:`persistence.transactions.intake`."""

from __future__ import annotations

import structlog
from temporalio import activity

from domain.intake import (
    RECEIVE_ORDER,
    RECORD_ORDER_STATUS,
    RECORD_REFUSED_SUBMISSION,
    ReceiveOutcome,
    RefusedSubmission,
    StatusChange,
)
from domain.orders import OrderSubmission
from persistence.database import Database
from persistence.transactions import intake

log = structlog.get_logger(__name__)


class IntakeActivities:
    """Activities that take orders in and keep their status current."""

    def __init__(self, db: Database) -> None:
        self._db = db

    @activity.defn(name=RECEIVE_ORDER)
    def receive_order(self, submission: OrderSubmission) -> ReceiveOutcome:
        """Record the order and its lines, validate it, and confirm or reject it.

        A run of the order's workflow other than the one that took the order in
        (a client let the workflow id be reused) gets ``earlier_status`` and
        nothing is written.
        """
        structlog.contextvars.bind_contextvars(order_id=submission.order_id)
        outcome = intake.receive_order(self._db, submission, _this_run())
        log.info("order received", accepted=outcome.accepted, problems=len(outcome.problems))
        return outcome

    @activity.defn(name=RECORD_REFUSED_SUBMISSION)
    def record_refused_submission(self, refused: RefusedSubmission) -> ReceiveOutcome:
        """Record an order whose document could not be taken: REJECTED, with every reason."""
        structlog.contextvars.bind_contextvars(order_id=refused.order_id)
        outcome = intake.record_refused_submission(self._db, refused, _this_run())
        log.info("order document refused", problems=len(outcome.problems))
        return outcome

    @activity.defn(name=RECORD_ORDER_STATUS)
    def record_order_status(self, change: StatusChange) -> None:
        """Write an audit event and optionally a new status (a short local activity).

        With ``change.step`` set the write happens at most once, however often
        the workflow's task is retried.
        """
        intake.record_order_status(self._db, change)


def _this_run() -> str:
    """The run of the order's workflow this activity works for."""
    return activity.info().workflow_run_id or ""
