"""The notification outbox: what was sent to whom, once per order and occasion."""

from __future__ import annotations

from sqlalchemy.orm import Session

from domain.notifications import Notification, Notified
from persistence.database import Database
from persistence.idempotency import run_once
from persistence.models import NotificationRow

from .records import utcnow


def record_notification(
    db: Database, notification: Notification, key: str, reference: str
) -> Notified:
    """Keep the sent ``notification`` in the outbox under ``key``, once."""

    def effect(session: Session) -> Notified:
        session.add(
            NotificationRow(
                order_id=notification.order_id,
                key=notification.key,
                audience=notification.audience.value,
                subject=notification.subject,
                message=notification.message,
                reference=reference,
                created_at=utcnow(),
            )
        )
        return Notified(reference=reference)

    return run_once(db, key, Notified, effect)
