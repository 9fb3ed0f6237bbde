"""A simulated factory and a simulated supplier for the embedded default and tests.

They confirm every order at once, expected after the product's lead time, and
deliver nothing by themselves: deliveries arrive as ``supply_received`` signals
sent by ``oms supply receive`` (or by the demo, playing the partner).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from integrations.ports import PartnerOrder
from integrations.simulated_books import PartnerBooks


def _reference(prefix: str, idempotency_key: str) -> str:
    return f"{prefix}-{hashlib.sha256(idempotency_key.encode()).hexdigest()[:10].upper()}"


class SimulatedSupplyPartner:
    """Stands in for a factory or a supplier; nothing is made or bought."""

    def __init__(self, name: str, books: PartnerBooks | None = None) -> None:
        self.name = name
        self.books = books or PartnerBooks()

    async def place_order(
        self,
        *,
        idempotency_key: str,
        sku: str,
        quantity: int,
        deliver_to: str,
        lead_time: timedelta,
    ) -> PartnerOrder:
        """Confirm the order; the same key gives the same confirmation, kept in the books."""

        def confirm() -> str:
            expected_at = datetime.now(UTC) + lead_time
            return f"{_reference('SIMPO', idempotency_key)} {expected_at.isoformat()}"

        answer = await self.books.once(self.name, "order", idempotency_key, confirm)
        reference, _, expected_at = answer.partition(" ")
        return PartnerOrder(reference=reference, expected_at=datetime.fromisoformat(expected_at))

    async def cancel_order(self, *, idempotency_key: str, reference: str) -> str:
        """Accept the cancellation."""
        return await self.books.once(
            self.name, "cancel", idempotency_key, lambda: _reference("SIMCXL", idempotency_key)
        )


def simulated_factory(books: PartnerBooks | None = None) -> SimulatedSupplyPartner:
    """The factory that takes production orders on the embedded default."""
    return SimulatedSupplyPartner("simulated-factory", books)


def simulated_supplier(books: PartnerBooks | None = None) -> SimulatedSupplyPartner:
    """The supplier that takes purchase orders on the embedded default."""
    return SimulatedSupplyPartner("simulated-supplier", books)
