"""The notification outbox: what was sent to whom, once per order (or case, or campaign)
and occasion."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.notifications import Audience, Notification, Notified, SentMessage
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


def messages_about(db: Database, subject_id: str) -> list[SentMessage]:
    """Every message sent about ``subject_id`` (an order id, ``complaint-12``,
    ``campaign-3``), oldest first."""
    with db.reading() as session:
        return [
            SentMessage(
                key=row.key,
                audience=Audience(row.audience),
                subject=row.subject,
                message=row.message,
                reference=row.reference,
                sent_at=row.created_at,
            )
            for row in session.scalars(
                select(NotificationRow)
                .where(NotificationRow.order_id == subject_id)
                .order_by(NotificationRow.id)
            )
        ]
