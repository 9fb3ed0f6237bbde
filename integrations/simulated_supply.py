"""A simulated factory and a simulated supplier for the embedded default and tests.

They confirm every order at once, expected after the product's lead time, and
deliver nothing by themselves: deliveries arrive as ``supply_received`` signals
sent by ``oms supply receive`` (or by the demo, playing the partner).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from integrations.ports import PartnerOrder


def _reference(prefix: str, idempotency_key: str) -> str:
    return f"{prefix}-{hashlib.sha256(idempotency_key.encode()).hexdigest()[:10].upper()}"


class SimulatedSupplyPartner:
    """Stands in for a factory or a supplier; nothing is made or bought."""

    def __init__(self, name: str) -> None:
        self.name = name

    async def place_order(
        self,
        *,
        idempotency_key: str,
        sku: str,
        quantity: int,
        deliver_to: str,
        lead_time: timedelta,
    ) -> PartnerOrder:
        """Confirm the order; the same key gives the same reference."""
        return PartnerOrder(
            reference=_reference("SIMPO", idempotency_key),
            expected_at=datetime.now(UTC) + lead_time,
        )

    async def cancel_order(self, *, idempotency_key: str, reference: str) -> str:
        """Accept the cancellation."""
        return _reference("SIMCXL", idempotency_key)


def simulated_factory() -> SimulatedSupplyPartner:
    """The factory that takes production orders on the embedded default."""
    return SimulatedSupplyPartner("simulated-factory")


def simulated_supplier() -> SimulatedSupplyPartner:
    """The supplier that takes purchase orders on the embedded default."""
    return SimulatedSupplyPartner("simulated-supplier")
