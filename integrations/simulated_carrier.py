"""A simulated parcel carrier for the embedded default and tests.

A booked parcel is picked up, in transit and delivered ``step_seconds`` apart,
and the carrier promises delivery one step after that. The booking time travels
inside the tracking number, so tracking survives a worker restart; bookings
and cancellations are kept in the carrier's own books (:class:`PartnerBooks`),
so a retried booking gets the same tracking number, whichever worker asks.

Test addresses, as a real carrier's sandbox has them: a postal code starting
with ``SIM-SLOW`` is a slow route, where every step takes ten times as long, so
the parcel arrives late against its promise.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from domain.orders import ShippingAddress
from domain.shipping import Milestone, TrackingEvent
from integrations.ports import ParcelBooking
from integrations.simulated_books import PartnerBooks

PREFIX = "SIMTRK"
SLOW_ROUTE_PREFIX = "SIM-SLOW"
SLOW_ROUTE_FACTOR = 10
MILESTONES = (Milestone.PICKED_UP, Milestone.IN_TRANSIT, Milestone.DELIVERED)


class SimulatedCarrier:
    """Stands in for a parcel carrier; no parcel moves.

    By default it must be polled. With ``pushes_events`` it claims to send
    tracking events itself, so parcels move only when told (``oms carrier event``
    or a test's ``carrier_event`` signal) and nobody polls it.
    """

    name = "simulated-carrier"

    def __init__(
        self,
        step_seconds: float = 1.0,
        *,
        pushes_events: bool = False,
        books: PartnerBooks | None = None,
    ) -> None:
        self._step = timedelta(seconds=step_seconds)
        self.pushes_events = pushes_events
        self.books = books or PartnerBooks()

    async def book(
        self, *, idempotency_key: str, shipment_id: str, address: ShippingAddress, units: int
    ) -> ParcelBooking:
        """Book a pick-up; the same key gives the same booking, whichever worker asks."""

        def book_now() -> str:
            digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:10].upper()
            now = datetime.now(UTC)
            booked_ms = int(now.timestamp() * 1000)
            slow = SLOW_ROUTE_FACTOR if address.postal_code.startswith(SLOW_ROUTE_PREFIX) else 1
            return f"{PREFIX}{slow}-{digest}-{booked_ms}"

        tracking_number = await self.books.once(self.name, "book", idempotency_key, book_now)
        booked_at, _ = self._parse(tracking_number)
        return ParcelBooking(
            tracking_number=tracking_number,
            promised_by=booked_at + self._step * (len(MILESTONES) + 1),
        )

    async def tracking(self, tracking_number: str) -> list[TrackingEvent]:
        """Milestones reached so far by the clock."""
        booked_at, step = self._parse(tracking_number)
        now = datetime.now(UTC)
        events = []
        for index, milestone in enumerate(MILESTONES, start=1):
            at = booked_at + step * index
            if at > now:
                break
            events.append(TrackingEvent(milestone=milestone, at=at, detail=self.name))
        return events

    async def cancel(self, *, idempotency_key: str, tracking_number: str) -> str:
        """Cancel the booking; the simulation accepts it whenever it is asked."""
        self._parse(tracking_number)
        return await self.books.once(
            self.name,
            "cancel",
            idempotency_key,
            lambda: f"SIMCXL-{hashlib.sha256(idempotency_key.encode()).hexdigest()[:10].upper()}",
        )

    def _parse(self, tracking_number: str) -> tuple[datetime, timedelta]:
        head, _, booked_ms = tracking_number.rpartition("-")
        prefix, _, _digest = head.partition("-")
        factor = prefix.removeprefix(PREFIX)
        if not prefix.startswith(PREFIX) or not factor.isdigit() or not booked_ms.isdigit():
            raise ValueError(f"tracking number {tracking_number!r}: not issued by this carrier")
        return datetime.fromtimestamp(int(booked_ms) / 1000, UTC), self._step * int(factor)
