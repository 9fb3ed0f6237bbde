"""A simulated payment provider for the embedded default and tests.

Answers at once. What it did is kept in its own books (:class:`PartnerBooks`), by
idempotency key, as a real provider keeps them: the same key gets the same
answer and charges once, whichever worker asks and however often.
Test tokens: a token starting with ``tok_decline`` is declined, as is no token.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal

from integrations.ports import PaymentDeclinedError
from integrations.simulated_books import PartnerBooks

DECLINE_TOKEN_PREFIX = "tok_decline"


def _reference(kind: str, idempotency_key: str) -> str:
    return f"simpay_{kind}_{hashlib.sha256(idempotency_key.encode()).hexdigest()[:16]}"


class SimulatedPaymentGateway:
    """Stands in for a card/wallet provider; moves no real money."""

    name = "simulated-payments"

    def __init__(self, books: PartnerBooks | None = None) -> None:
        """Keep what was done in ``books`` (in memory when None)."""
        self.books = books or PartnerBooks()

    async def _once(self, operation: str, idempotency_key: str) -> str:
        return await self.books.once(
            self.name, operation, idempotency_key, lambda: _reference(operation, idempotency_key)
        )

    async def authorise(
        self, *, idempotency_key: str, payment_token: str | None, amount: Decimal, currency: str
    ) -> str:
        """Authorise unless the token is missing or a decline test token."""
        if not payment_token:
            raise PaymentDeclinedError("no payment token was submitted with this prepaid order")
        if payment_token.startswith(DECLINE_TOKEN_PREFIX):
            raise PaymentDeclinedError(f"payment token {payment_token!r} was declined")
        return await self._once("auth", idempotency_key)

    async def capture(
        self, *, idempotency_key: str, authorisation: str, amount: Decimal, currency: str
    ) -> str:
        """Capture always succeeds in the simulation."""
        return await self._once("capture", idempotency_key)

    async def void(self, *, idempotency_key: str, authorisation: str) -> str:
        """Void always succeeds in the simulation."""
        return await self._once("void", idempotency_key)

    async def refund(
        self, *, idempotency_key: str, capture: str, amount: Decimal, currency: str
    ) -> str:
        """Refund always succeeds in the simulation."""
        return await self._once("refund", idempotency_key)
