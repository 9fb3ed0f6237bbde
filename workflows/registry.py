"""The workflows a worker on the ``orders`` task queue runs."""

from __future__ import annotations

from .order import OrderWorkflow
from .shipment import ShipmentWorkflow
from .supply import SupplyWorkflow

ORDER_WORKFLOWS = [OrderWorkflow, SupplyWorkflow, ShipmentWorkflow]
"""Every workflow a worker on the ``orders`` task queue runs."""
