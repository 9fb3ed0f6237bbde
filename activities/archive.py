"""Archive: an adapter onto :mod:`persistence.transactions.archive`."""

from __future__ import annotations

import structlog
from temporalio import activity

from domain.archive import ARCHIVE_ORDER, ArchiveReceipt
from domain.intake import OrderRef
from persistence.database import Database
from persistence.transactions import archive


class ArchiveActivities:
    """Write archive records."""

    def __init__(self, db: Database) -> None:
        self._db = db

    @activity.defn(name=ARCHIVE_ORDER)
    def archive_order(self, ref: OrderRef) -> ArchiveReceipt:
        """Archive the order without personal data, drop its payment token, mark it COMPLETED."""
        structlog.contextvars.bind_contextvars(order_id=ref.order_id)
        return archive.archive_order(self._db, ref.order_id)
