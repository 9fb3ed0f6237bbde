"""Durable orchestration: the order workflow. No I/O here, only activities and timers."""

from .order import OrderWorkflow

__all__ = ["OrderWorkflow"]
