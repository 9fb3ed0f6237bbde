"""Credit review: an adapter onto :mod:`persistence.transactions.credit`."""

from __future__ import annotations

import structlog
from temporalio import activity

from domain.credit import CHECK_CREDIT, CreditDecision
from domain.intake import OrderRef
from persistence.database import Database
from persistence.transactions import credit

log = structlog.get_logger(__name__)


class CreditActivities:
    """Credit review."""

    def __init__(self, db: Database) -> None:
        self._db = db

    @activity.defn(name=CHECK_CREDIT)
    def check_credit(self, ref: OrderRef) -> CreditDecision:
        """Decide whether the order may proceed without a person, and record why."""
        structlog.contextvars.bind_contextvars(order_id=ref.order_id)
        decision = credit.check_credit(self._db, ref.order_id)
        log.info("credit reviewed", outcome=decision.outcome, reason=decision.reason)
        return decision
