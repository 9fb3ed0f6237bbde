"""Side effects of the order workflow, one module per concern.

Activities are methods of classes that receive their dependencies; this module
assembles them for a worker.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from integrations.ports import Carrier, PaymentGateway
from persistence.database import SessionFactory

from .archive import ArchiveActivities
from .credit import CreditActivities
from .intake import IntakeActivities
from .inventory import InventoryActivities
from .settlement import SettlementActivities
from .shipping import ShippingActivities

__all__ = [
    "ArchiveActivities",
    "CreditActivities",
    "IntakeActivities",
    "InventoryActivities",
    "SettlementActivities",
    "ShippingActivities",
    "order_activities",
]


def order_activities(
    sessions: SessionFactory,
    *,
    gateway: PaymentGateway,
    carrier: Carrier,
    tracking_poll_seconds: float,
) -> list[Callable[..., Any]]:
    """Every activity the order workflow calls, bound to its dependencies."""
    intake = IntakeActivities(sessions)
    credit = CreditActivities(sessions)
    inventory = InventoryActivities(sessions)
    settlement = SettlementActivities(sessions, gateway)
    shipping = ShippingActivities(sessions, carrier, tracking_poll_seconds)
    archive = ArchiveActivities(sessions)
    return [
        intake.receive_order,
        intake.record_order_status,
        credit.check_credit,
        inventory.reserve_stock,
        inventory.release_reservations,
        settlement.authorise_payment,
        settlement.void_authorisation,
        settlement.capture_payment,
        settlement.issue_invoice,
        settlement.record_payment,
        settlement.issue_receipt,
        shipping.book_shipments,
        shipping.track_shipment,
        archive.archive_order,
    ]
