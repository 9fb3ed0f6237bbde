"""Side effects of the order workflow, one module per concern.

Activities are methods of classes that receive their dependencies; this module
assembles them for a worker. They are thin: a database step is a synchronous
method that calls one transaction of :mod:`persistence.transactions` (the SDK
runs it on the worker's activity executor, the database's threads); a step that
calls a partner is async and hands its database work to those threads.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain.complaints import ComplaintPolicy
from integrations.ports import Carrier, Notifier, PaymentGateway, SupplyPartner
from persistence.database import Database

from .archive import ArchiveActivities
from .campaigns import CampaignActivities
from .complaints import ComplaintActivities
from .credit import CreditActivities
from .customers import CustomerActivities
from .intake import IntakeActivities
from .inventory import InventoryActivities
from .inventory_review import InventoryReviewActivities
from .notifications import NotificationActivities
from .settlement import SettlementActivities
from .shipping import ShippingActivities
from .supply import SupplyActivities

__all__ = [
    "ArchiveActivities",
    "CampaignActivities",
    "ComplaintActivities",
    "CreditActivities",
    "CustomerActivities",
    "IntakeActivities",
    "InventoryActivities",
    "InventoryReviewActivities",
    "NotificationActivities",
    "SettlementActivities",
    "ShippingActivities",
    "SupplyActivities",
    "order_activities",
]


def order_activities(
    db: Database,
    *,
    gateway: PaymentGateway,
    carrier: Carrier,
    factory: SupplyPartner,
    supplier: SupplyPartner,
    notifier: Notifier,
    tracking_poll_seconds: float,
    retention_days: int = 730,
    link_secret: bytes = b"",
    console_url: str = "http://localhost:8080",
    complaint_policy: ComplaintPolicy | None = None,
) -> list[Callable[..., Any]]:
    """Every activity the order, supply and shipment workflows call, bound to their dependencies."""
    intake = IntakeActivities(db)
    credit = CreditActivities(db)
    inventory = InventoryActivities(db)
    settlement = SettlementActivities(db, gateway)
    shipping = ShippingActivities(db, carrier, tracking_poll_seconds)
    archive = ArchiveActivities(db)
    supply = SupplyActivities(db, factory=factory, supplier=supplier)
    notifications = NotificationActivities(db, notifier)
    review = InventoryReviewActivities(db, factory=factory, supplier=supplier)
    customers = CustomerActivities(db, retention_days=retention_days)
    campaigns = CampaignActivities(db, notifier, link_secret=link_secret, console_url=console_url)
    complaints = ComplaintActivities(
        db,
        gateway,
        notifier,
        policy=complaint_policy,
        link_secret=link_secret,
        console_url=console_url,
    )
    return [
        complaints.analyse_complaints,
        complaints.record_complaint_event,
        complaints.assign_complaint_owner,
        complaints.send_complaint_message,
        complaints.carry_out_remedy,
        complaints.price_replacement,
        complaints.follow_up_complaint,
        customers.classify_customers,
        campaigns.select_campaign_audience,
        campaigns.send_campaign_batch,
        campaigns.measure_campaign,
        campaigns.record_campaign_status,
        customers.evaluate_credit,
        customers.purge_expired_personal_data,
        customers.create_care_tasks,
        customers.reassign_care_task,
        customers.record_care_task_done,
        review.forecast_and_propose,
        review.review_stock_alerts,
        review.place_replenishment,
        review.receive_replenishment,
        intake.receive_order,
        intake.record_refused_submission,
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
        settlement.refund_payment,
        settlement.void_invoice,
        supply.place_supply_order,
        supply.receive_supply,
        supply.cancel_supply_order,
        shipping.plan_shipments,
        shipping.book_shipment,
        shipping.poll_tracking,
        shipping.record_milestone,
        shipping.reship_shipment,
        shipping.cancel_shipments,
        notifications.notify,
        archive.archive_order,
    ]
