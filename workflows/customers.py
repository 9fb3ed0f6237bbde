"""CustomerReviewWorkflow: the nightly look at every customer.

It runs from a Temporal Schedule (and on demand from the console or ``oms customers
classify``): it classifies every customer (RFM scores, segment, ABC class), keeps each
customer's segment history, scores every customer's credit and proposes the limits and
standings worth a person's decision, and tells customer service who moved into a
segment that needs them (at risk, needs attention, lost) and credit control (finance)
what it has to decide. It applies the care rules and starts a ``CareTaskWorkflow`` for
each new care task. Last, it removes the personal data of orders archived longer
than the retention period (``OMS_RETENTION_DAYS``).
"""

from __future__ import annotations

import contextlib

from temporalio import workflow
from temporalio.exceptions import WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from domain.care import (
        CARE_TASK_WORKFLOW_TYPE,
        CREATE_CARE_TASKS,
        CareReviewRequest,
        CareTask,
        care_task_workflow_id,
    )
    from domain.credit_scoring import CreditReviewOutcome, CustomerReviewOutcome
    from domain.notifications import Audience
    from domain.segments import (
        ALARMING,
        CLASSIFY_CUSTOMERS,
        CUSTOMER_REVIEW_WORKFLOW_TYPE,
        EVALUATE_CREDIT,
        PURGE_EXPIRED_PERSONAL_DATA,
        ClassificationOutcome,
        CustomerReviewRequest,
        Segment,
    )

from workflows._common import notify, run_step, runs_database_steps_locally
from workflows.policies import REVIEW_STEP

REVIEW_SUBJECT = "customer-review"
"""What the review's notifications are filed under in the outbox."""


@workflow.defn(name=CUSTOMER_REVIEW_WORKFLOW_TYPE)
class CustomerReviewWorkflow:
    """One review of every customer."""

    @workflow.run
    async def run(self, request: CustomerReviewRequest) -> CustomerReviewOutcome:
        """Classify, evaluate credit, then tell customer service who slipped and credit
        control what it should decide."""
        runs_database_steps_locally()  # pins the patch marker before any step
        request = CustomerReviewRequest(at=request.at or workflow.now())
        outcome = await run_step(
            CLASSIFY_CUSTOMERS,
            request,
            ClassificationOutcome,
            "Classify every customer: RFM scores, segment, ABC class",
            REVIEW_STEP,
        )
        credit = await run_step(
            EVALUATE_CREDIT,
            request,
            CreditReviewOutcome,
            "Score every customer's credit; propose limits and standings worth a look",
            REVIEW_STEP,
        )
        purged = await run_step(
            PURGE_EXPIRED_PERSONAL_DATA,
            request,
            int,
            "Remove the personal data of orders archived longer than the retention period",
            REVIEW_STEP,
        )
        at_risk = [m.customer_id for m in outcome.moved if m.segment is Segment.AT_RISK]
        tasks = await run_step(
            CREATE_CARE_TASKS,
            CareReviewRequest(at=request.at, at_risk=at_risk),
            list[CareTask],
            "Apply the care rules: at risk, overdue regulars, thank-you calls",
            REVIEW_STEP,
        )
        for task in tasks:
            # Started already by an earlier attempt of this review: leave it.
            with contextlib.suppress(WorkflowAlreadyStartedError):
                await workflow.start_child_workflow(
                    CARE_TASK_WORKFLOW_TYPE,
                    task,
                    id=care_task_workflow_id(task.id),
                    parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                    static_summary=f"Care: {task.kind.value} for {task.customer_id}",
                )
        slipped = [move for move in outcome.moved if move.segment in ALARMING]
        digest = _digest(outcome)
        if slipped:
            await notify(
                REVIEW_SUBJECT,
                f"review:{workflow.info().workflow_id}:{workflow.info().run_id}",
                Audience.CUSTOMER_SERVICE,
                f"Customer review: {len(slipped)} customer(s) moved into a segment that "
                "needs attention",
                digest,
            )
        if credit.proposed:
            await notify(
                REVIEW_SUBJECT,
                f"credit:{workflow.info().workflow_id}:{workflow.info().run_id}",
                Audience.FINANCE,
                f"Credit evaluation: {len(credit.proposed)} proposal(s) to decide",
                f"{credit.scored} customers scored; proposals "
                + ", ".join(str(p) for p in credit.proposed),
            )
        details = (
            f"{digest}\nCredit: {credit.scored} scored, {len(credit.proposed)} proposed\n"
            f"Retention: personal data of {purged} archived order(s) removed\n"
            f"Care tasks started: {len(tasks)}"
        )
        workflow.set_current_details(details)
        return CustomerReviewOutcome(
            classification=outcome,
            credit=credit,
            personal_data_purged=purged,
            care_tasks=[task.id for task in tasks],
        )


def _digest(outcome: ClassificationOutcome) -> str:
    segments = ", ".join(f"{name} {count}" for name, count in sorted(outcome.segments.items()))
    lines = [f"{outcome.classified} customers: {segments}"]
    lines += [
        f"- {move.customer_id}: {move.previous.value if move.previous else 'new'} -> "
        f"{move.segment.value} (ABC {move.abc.value})"
        for move in outcome.moved[:50]
    ]
    if len(outcome.moved) > 50:
        lines.append(f"... and {len(outcome.moved) - 50} more")
    return "\n".join(lines)
