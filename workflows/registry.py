"""The workflows a worker on the ``orders`` task queue runs."""

from __future__ import annotations

from .campaign import CampaignWorkflow
from .care import CareTaskWorkflow
from .complaint import ComplaintWorkflow
from .complaint_analysis import ComplaintAnalysisWorkflow
from .customers import CustomerReviewWorkflow
from .inventory import InventoryReviewWorkflow, ReplenishmentWorkflow
from .order import OrderWorkflow
from .shipment import ShipmentWorkflow
from .supply import SupplyWorkflow

ORDER_WORKFLOWS = [
    OrderWorkflow,
    SupplyWorkflow,
    ShipmentWorkflow,
    InventoryReviewWorkflow,
    ReplenishmentWorkflow,
    CustomerReviewWorkflow,
    CareTaskWorkflow,
    CampaignWorkflow,
    ComplaintWorkflow,
    ComplaintAnalysisWorkflow,
]
"""Every workflow a worker on the ``orders`` task queue runs."""
