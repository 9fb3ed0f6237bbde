"""Ports (typing.Protocol) to payment providers and carriers.

Every call that changes something carries an idempotency key: the same key
twice must have one effect and return the same answer.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from domain.orders import ShippingAddress
from domain.shipping import TrackingEvent


class PaymentDeclinedError(Exception):
    """The provider refused; retrying will not help."""


class PaymentGateway(Protocol):
    """Card and wallet payments for prepaid orders."""

    async def authorise(
        self, *, idempotency_key: str, payment_token: str | None, amount: Decimal, currency: str
    ) -> str:
        """Reserve ``amount`` on the customer's means of payment; returns the authorisation id.

        Raises :class:`PaymentDeclinedError` when the provider refuses.
        """
        ...

    async def capture(
        self, *, idempotency_key: str, authorisation: str, amount: Decimal, currency: str
    ) -> str:
        """Take ``amount`` of an authorisation; returns the capture id."""
        ...

    async def void(self, *, idempotency_key: str, authorisation: str) -> str:
        """Release an authorisation that will not be captured; returns the void id."""
        ...


class Carrier(Protocol):
    """A parcel carrier."""

    name: str

    async def book(
        self, *, idempotency_key: str, shipment_id: str, address: ShippingAddress, units: int
    ) -> str:
        """Book a pick-up; returns the tracking number."""
        ...

    async def tracking(self, tracking_number: str) -> list[TrackingEvent]:
        """Every milestone of the parcel so far, oldest first."""
        ...
