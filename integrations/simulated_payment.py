"""A simulated payment provider for the embedded default and tests.

Answers at once and deterministically: the same idempotency key always gives
the same id, so a retried activity sees the answer a real provider would give.
Test tokens: a token starting with ``tok_decline`` is declined, as is no token.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal

from integrations.ports import PaymentDeclinedError

DECLINE_TOKEN_PREFIX = "tok_decline"


def _reference(kind: str, idempotency_key: str) -> str:
    return f"simpay_{kind}_{hashlib.sha256(idempotency_key.encode()).hexdigest()[:16]}"


class SimulatedPaymentGateway:
    """Stands in for a card/wallet provider; moves no real money."""

    name = "simulated-payments"

    async def authorise(
        self, *, idempotency_key: str, payment_token: str | None, amount: Decimal, currency: str
    ) -> str:
        """Authorise unless the token is missing or a decline test token."""
        if not payment_token:
            raise PaymentDeclinedError("no payment token was submitted with this prepaid order")
        if payment_token.startswith(DECLINE_TOKEN_PREFIX):
            raise PaymentDeclinedError(f"payment token {payment_token!r} was declined")
        return _reference("auth", idempotency_key)

    async def capture(
        self, *, idempotency_key: str, authorisation: str, amount: Decimal, currency: str
    ) -> str:
        """Capture always succeeds in the simulation."""
        return _reference("capture", idempotency_key)

    async def void(self, *, idempotency_key: str, authorisation: str) -> str:
        """Void always succeeds in the simulation."""
        return _reference("void", idempotency_key)

    async def refund(
        self, *, idempotency_key: str, capture: str, amount: Decimal, currency: str
    ) -> str:
        """Refund always succeeds in the simulation."""
        return _reference("refund", idempotency_key)
