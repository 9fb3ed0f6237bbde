"""Notifications: the notifier call, and its outbox row once per order and occasion."""

from __future__ import annotations

import structlog
from temporalio import activity

from domain.notifications import NOTIFY, Notification, Notified
from integrations.ports import Notifier
from persistence.database import Database
from persistence.idempotency import step_key, stored_result
from persistence.transactions import outbox


class NotificationActivities:
    """Tell customers and staff."""

    def __init__(self, db: Database, notifier: Notifier) -> None:
        self._db = db
        self._notifier = notifier

    @activity.defn(name=NOTIFY)
    async def notify(self, notification: Notification) -> Notified:
        """Send the notification unless one with its key was sent, and keep it in the outbox."""
        structlog.contextvars.bind_contextvars(order_id=notification.order_id)
        key = step_key(notification.order_id, f"{NOTIFY}:{notification.key}")
        done = await self._db.run(stored_result, self._db, key, Notified)
        if done is not None:
            return done
        reference = await self._notifier.send(
            idempotency_key=key,
            audience=notification.audience,
            subject=notification.subject,
            message=notification.message,
        )
        return await self._db.run(
            outbox.record_notification, self._db, notification, key, reference
        )
