"""Durable orchestration: the order workflow and its children (no I/O: activities, timers)."""

from .order import OrderWorkflow
from .shipment import ShipmentWorkflow
from .supply import SupplyWorkflow

__all__ = ["ORDER_WORKFLOWS", "OrderWorkflow", "ShipmentWorkflow", "SupplyWorkflow"]

ORDER_WORKFLOWS = [OrderWorkflow, SupplyWorkflow, ShipmentWorkflow]
"""Every workflow a worker on the ``orders`` task queue runs."""
