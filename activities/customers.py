"""The nightly customer review's steps: adapters onto :mod:`persistence.transactions.segments`."""

from __future__ import annotations

from datetime import UTC, datetime

import structlog
from temporalio import activity

from domain.segments import (
    CLASSIFY_CUSTOMERS,
    ClassificationOutcome,
    ClassificationRules,
    CustomerReviewRequest,
)
from persistence.database import Database
from persistence.transactions import segments

log = structlog.get_logger(__name__)


class CustomerActivities:
    """Classify customers."""

    def __init__(self, db: Database, *, rules: ClassificationRules | None = None) -> None:
        self._db = db
        self._rules = rules or ClassificationRules()

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
