"""The archive area: the immutable record of a finished order, PII minimised."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

ARCHIVE_ORDER = "archive_order"
"""Activity: write the archive record and mark the order COMPLETED."""


class ArchiveReceipt(BaseModel):
    """Result of :data:`ARCHIVE_ORDER`."""

    order_id: str
    archived_at: datetime
