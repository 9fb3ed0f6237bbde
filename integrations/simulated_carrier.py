"""A simulated parcel carrier for the embedded default and tests.

A booked parcel is picked up, in transit and delivered ``step_seconds`` apart.
The booking time travels inside the tracking number, so tracking survives a
worker restart; bookings are deduplicated by idempotency key within a process.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from domain.orders import ShippingAddress
from domain.shipping import Milestone, TrackingEvent

PREFIX = "SIMTRK"
MILESTONES = (Milestone.PICKED_UP, Milestone.IN_TRANSIT, Milestone.DELIVERED)


class SimulatedCarrier:
    """Stands in for a parcel carrier; no parcel moves."""

    name = "simulated-carrier"

    def __init__(self, step_seconds: float = 1.0) -> None:
        self._step = timedelta(seconds=step_seconds)
        self._bookings: dict[str, str] = {}

    async def book(
        self, *, idempotency_key: str, shipment_id: str, address: ShippingAddress, units: int
    ) -> str:
        """Book a pick-up; the same key returns the same tracking number."""
        if idempotency_key not in self._bookings:
            digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:10].upper()
            booked_ms = int(datetime.now(UTC).timestamp() * 1000)
            self._bookings[idempotency_key] = f"{PREFIX}-{digest}-{booked_ms}"
        return self._bookings[idempotency_key]

    async def tracking(self, tracking_number: str) -> list[TrackingEvent]:
        """Milestones reached so far by the clock."""
        prefix, _, booked_ms = tracking_number.rpartition("-")
        if not prefix.startswith(PREFIX) or not booked_ms.isdigit():
            raise ValueError(f"tracking number {tracking_number!r}: not issued by this carrier")
        booked_at = datetime.fromtimestamp(int(booked_ms) / 1000, UTC)
        now = datetime.now(UTC)
        events = []
        for index, milestone in enumerate(MILESTONES, start=1):
            at = booked_at + self._step * index
            if at > now:
                break
            events.append(TrackingEvent(milestone=milestone, at=at, detail=f"{self.name}"))
        return events
