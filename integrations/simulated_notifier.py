"""A simulated notifier: writes each message to the worker's log instead of sending it.

Like a real message service it keeps its own books (:class:`PartnerBooks`), by
idempotency key: the same key delivers once, whichever worker asks and however often
(a worker killed after the send and before our record retries with the same key).
The business database's ``notifications`` table (the outbox) holds every message
either way; a real notifier (e-mail, SMS, ticket queue) replaces this.
"""

from __future__ import annotations

import hashlib
from collections import Counter

import structlog

from domain.notifications import Audience
from integrations.simulated_books import PartnerBooks

log = structlog.get_logger(__name__)

DELIVER = "deliver"
"""The notifier's one operation in its books."""


class SimulatedNotifier:
    """Stands in for e-mail and SMS; nobody is told anything."""

    name = "simulated-notifier"

    def __init__(self, books: PartnerBooks | None = None) -> None:
        """Keep what was delivered in ``books`` (in memory when None)."""
        self.books = books or PartnerBooks()

    async def send(
        self,
        *,
        idempotency_key: str,
        audience: Audience,
        subject: str,
        message: str,
        to: str = "",
    ) -> str:
        """Deliver (log) the message the first time its key is asked for; the same key
        gives the same message id and delivers nothing more."""
        reference = f"SIMMSG-{hashlib.sha256(idempotency_key.encode()).hexdigest()[:10].upper()}"

        def deliver() -> str:
            log.info(
                "notification",
                audience=audience.value,
                subject=subject,
                to=to,
                reference=reference,
            )
            return reference

        return await self.books.once(
            self.name, DELIVER, idempotency_key, deliver, detail=to or audience.value
        )

    def deliveries(self) -> Counter[str]:
        """How many messages were delivered to each recipient (a customer, or an audience
        of staff), by the notifier's own books."""
        return Counter(effect.detail for effect in self.books.effects(self.name, DELIVER))
