"""The shipping area: booking parcels with a carrier and following them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel

from domain.orders import ShipmentView

BOOK_SHIPMENTS = "book_shipments"
"""Activity: book one parcel per allocated warehouse with the carrier."""
TRACK_SHIPMENT = "track_shipment"
"""Activity: follow one parcel's tracking until it is delivered (heartbeats)."""


class Milestone(StrEnum):
    """A tracking event; ordered as a parcel normally goes."""

    BOOKED = "booked"
    PICKED_UP = "picked_up"
    IN_TRANSIT = "in_transit"
    EXCEPTION = "exception"
    DELIVERED = "delivered"


class TrackingEvent(BaseModel):
    """A milestone reported by the carrier."""

    milestone: Milestone
    at: datetime
    detail: str = ""


class BookedShipments(BaseModel):
    """Result of :data:`BOOK_SHIPMENTS`."""

    shipments: list[ShipmentView]


class TrackingRequest(BaseModel):
    """Input of :data:`TRACK_SHIPMENT`."""

    order_id: str
    shipment_id: str


class Delivery(BaseModel):
    """Result of :data:`TRACK_SHIPMENT`."""

    shipment_id: str
    delivered_at: datetime
