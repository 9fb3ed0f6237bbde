"""The notifications area: telling customers and staff what happened to an order."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel

NOTIFY = "notify"
"""Activity: record a notification in the outbox and hand it to the notifier, once per key."""


class Audience(StrEnum):
    """Who a notification is for."""

    CUSTOMER = "customer"
    ASSIGNEE = "assignee"
    """The support agent who owns held orders."""
    SUPERVISOR = "supervisor"
    PURCHASING = "purchasing"
    PLANNING = "planning"
    """Production planning at the factory."""
    LOGISTICS = "logistics"
    FINANCE = "finance"
    COLLECTIONS = "collections"
    SUPPORT = "support"
    """Support staff who must decide something."""
    WAREHOUSE = "warehouse"
    """The warehouse team: parcels to pick and pack."""
    INVENTORY = "inventory"
    """Inventory planners: stock alerts, forecasts, replenishment proposals."""
    CUSTOMER_SERVICE = "customer_service"
    """Customer service: customers who slipped into a segment that needs them, care tasks."""


class Notification(BaseModel):
    """Input of :data:`NOTIFY`."""

    order_id: str
    key: str
    """Unique per order and occasion (``approval:rung1``): the same key is sent once."""
    audience: Audience
    subject: str
    message: str


class Notified(BaseModel):
    """Result of :data:`NOTIFY`."""

    reference: str
    """The notifier's message id."""


class SentMessage(BaseModel):
    """A message in the notifications record, as support reads it."""

    key: str
    audience: Audience
    subject: str
    message: str
    reference: str
    sent_at: datetime
