"""Notifications: the outbox row and the notifier call, once per order and occasion."""

from __future__ import annotations

import structlog
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity

from domain.notifications import NOTIFY, Notification, Notified
from integrations.ports import Notifier
from persistence.database import SessionFactory
from persistence.idempotency import run_once, step_key, stored_result
from persistence.models import NotificationRow

from ._read_model import utcnow

log = structlog.get_logger(__name__)


class NotificationActivities:
    """Tell customers and staff."""

    def __init__(self, sessions: SessionFactory, notifier: Notifier) -> None:
        self._sessions = sessions
        self._notifier = notifier

    @activity.defn(name=NOTIFY)
    async def notify(self, notification: Notification) -> Notified:
        """Send the notification unless one with its key was sent, and keep it in the outbox."""
        structlog.contextvars.bind_contextvars(order_id=notification.order_id)
        key = step_key(notification.order_id, f"{NOTIFY}:{notification.key}")
        done = await stored_result(self._sessions, key, Notified)
        if done is not None:
            return done
        reference = await self._notifier.send(
            idempotency_key=key,
            audience=notification.audience,
            subject=notification.subject,
            message=notification.message,
        )

        async def effect(session: AsyncSession) -> Notified:
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

        return await run_once(self._sessions, key, Notified, effect)
