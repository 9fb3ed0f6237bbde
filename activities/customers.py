"""The nightly customer review's steps: adapters onto :mod:`persistence.transactions.segments`
and :mod:`persistence.transactions.credit_reviews`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import structlog
from temporalio import activity

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
from persistence.transactions import credit_reviews, privacy, segments

log = structlog.get_logger(__name__)


class CustomerActivities:
    """Classify customers and evaluate their credit."""

    def __init__(
        self,
        db: Database,
        *,
        rules: ClassificationRules | None = None,
        credit_rules: CreditRules | None = None,
        retention_days: int = 730,
    ) -> None:
        self._db = db
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
