"""The nightly customer review's steps: adapters onto :mod:`persistence.transactions.segments`
and :mod:`persistence.transactions.credit_reviews`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import structlog
from temporalio import activity

from domain.care import (
    CREATE_CARE_TASKS,
    REASSIGN_CARE_TASK,
    RECORD_CARE_TASK_DONE,
    CareReviewRequest,
    CareRules,
    CareTask,
    CareTaskCompletion,
)
from domain.credit_scoring import CreditReviewOutcome, CreditRules
from domain.segments import (
    CLASSIFY_CUSTOMERS,
    EVALUATE_CREDIT,
    PURGE_EXPIRED_PERSONAL_DATA,
    ClassificationOutcome,
    ClassificationRules,
    CustomerReviewRequest,
)
from persistence.database import Database
from persistence.transactions import care, credit_reviews, privacy, segments

log = structlog.get_logger(__name__)


class CustomerActivities:
    """Classify customers, evaluate their credit, keep care tasks, purge expired data."""

    def __init__(
        self,
        db: Database,
        *,
        rules: ClassificationRules | None = None,
        credit_rules: CreditRules | None = None,
        retention_days: int = 730,
        care_rules: CareRules | None = None,
    ) -> None:
        self._db = db
        self._care_rules = care_rules or CareRules()
        self._retention = timedelta(days=retention_days)
        self._rules = rules or ClassificationRules()
        self._credit_rules = credit_rules or CreditRules()

    @activity.defn(name=EVALUATE_CREDIT)
    def evaluate_credit(self, request: CustomerReviewRequest) -> CreditReviewOutcome:
        """Score every active customer's credit; propose the changes worth a person's look."""
        now = request.at or datetime.now(UTC)
        outcome = credit_reviews.evaluate_credit(self._db, now.date(), now, self._credit_rules)
        log.info("credit evaluated", customers=outcome.scored, proposed=len(outcome.proposed))
        return outcome

    @activity.defn(name=PURGE_EXPIRED_PERSONAL_DATA)
    def purge_expired_personal_data(self, request: CustomerReviewRequest) -> int:
        """Remove the personal data of orders archived longer than the retention period."""
        now = request.at or datetime.now(UTC)
        purged = privacy.purge_archived_personal_data(self._db, now - self._retention)
        log.info("personal data of archived orders purged", orders=purged)
        return purged

    @activity.defn(name=CREATE_CARE_TASKS)
    def create_care_tasks(self, request: CareReviewRequest) -> list[CareTask]:
        """Apply the care rules; write and return the new tasks (the review starts them)."""
        made = care.create_care_tasks(self._db, request, self._care_rules)
        log.info("care tasks created", tasks=len(made))
        return made

    @activity.defn(name=REASSIGN_CARE_TASK)
    def reassign_care_task(self, task_id: int) -> CareTask:
        """Move a task left undone to the team queue."""
        return care.reassign_to_team(self._db, task_id)

    @activity.defn(name=RECORD_CARE_TASK_DONE)
    def record_care_task_done(self, completion: CareTaskCompletion) -> CareTask:
        """Record a task done with its outcome."""
        return care.record_done(self._db, completion, datetime.now(UTC))

    @activity.defn(name=CLASSIFY_CUSTOMERS)
    def classify_customers(self, request: CustomerReviewRequest) -> ClassificationOutcome:
        """RFM scores, segment and ABC class of every customer, as of the request's moment."""
        outcome = segments.classify_customers(
            self._db, request.at or datetime.now(UTC), self._rules
        )
        log.info(
            "customers classified",
            customers=outcome.classified,
            moved=len(outcome.moved),
            segments=outcome.segments,
        )
        return outcome
