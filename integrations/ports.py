"""Ports (typing.Protocol) to payment providers, carriers, factories, suppliers, notifiers.

Every call that changes something carries an idempotency key: the same key
twice must have one effect and return the same answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol

from domain.notifications import Audience
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

    async def refund(
        self, *, idempotency_key: str, capture: str, amount: Decimal, currency: str
    ) -> str:
        """Give back ``amount`` of a capture; returns the refund id."""
        ...


@dataclass(frozen=True)
class ParcelBooking:
    """A carrier's answer to a booking."""

    tracking_number: str
    promised_by: datetime


class Carrier(Protocol):
    """A parcel carrier."""

    name: str
    pushes_events: bool
    """True when the carrier calls back with tracking events; False when it must be polled."""

    async def book(
        self, *, idempotency_key: str, shipment_id: str, address: ShippingAddress, units: int
    ) -> ParcelBooking:
        """Book a pick-up; returns the tracking number and the promised delivery time."""
        ...

    async def tracking(self, tracking_number: str) -> list[TrackingEvent]:
        """Every milestone of the parcel so far, oldest first."""
        ...

    async def cancel(self, *, idempotency_key: str, tracking_number: str) -> str:
        """Cancel a booking that has not been picked up; returns the cancellation id."""
        ...


@dataclass(frozen=True)
class PartnerOrder:
    """A factory's or supplier's confirmation of a supply order."""

    reference: str
    expected_at: datetime


class SupplyPartner(Protocol):
    """A factory (production orders) or a supplier (purchase orders)."""

    name: str

    async def place_order(
        self,
        *,
        idempotency_key: str,
        sku: str,
        quantity: int,
        deliver_to: str,
        lead_time: timedelta,
    ) -> PartnerOrder:
        """Order ``quantity`` of ``sku`` to warehouse ``deliver_to``; returns the confirmation."""
        ...

    async def cancel_order(self, *, idempotency_key: str, reference: str) -> str:
        """Cancel an open order; returns the cancellation id."""
        ...


class Notifier(Protocol):
    """Sends messages to customers and staff (e-mail, SMS, a ticket queue)."""

    async def send(
        self,
        *,
        idempotency_key: str,
        audience: Audience,
        subject: str,
        message: str,
        to: str = "",
    ) -> str:
        """Send one message; returns the message id. ``to`` names one customer (a campaign
        message); empty, the audience of the order or the team. The same idempotency key
        sends once, however often it is asked."""
        ...
