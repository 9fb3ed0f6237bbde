"""A simulated notifier: writes each message to the worker's log instead of sending it.

The business database's ``notifications`` table (the outbox) holds every
message either way; a real notifier (e-mail, SMS, ticket queue) replaces this.
"""

from __future__ import annotations

import hashlib

import structlog

from domain.notifications import Audience

log = structlog.get_logger(__name__)


class SimulatedNotifier:
    """Stands in for e-mail and SMS; nobody is told anything."""

    async def send(
        self,
        *,
        idempotency_key: str,
        audience: Audience,
        subject: str,
        message: str,
        to: str = "",
    ) -> str:
        """Log the message; the same key gives the same message id."""
        reference = f"SIMMSG-{hashlib.sha256(idempotency_key.encode()).hexdigest()[:10].upper()}"
        log.info(
            "notification", audience=audience.value, subject=subject, to=to, reference=reference
        )
        return reference
