"""Customers and products as the business rules see them."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from domain.money import Amount


class Sourcing(StrEnum):
    """How a product is replenished when stock runs short."""

    STOCK = "stock"
    """Kept on the shelf only; a shortage is not replenished per order."""
    MAKE = "make"
    """Made by the factory on a production order."""
    BUY = "buy"
    """Bought from a supplier on a purchase order."""


class PaymentTerms(StrEnum):
    """How a customer pays."""

    PREPAID = "prepaid"
    """Authorise a card or wallet at approval, capture at settlement."""
    NET = "net"
    """Invoice at settlement, payment due after the customer's net days."""


class Standing(StrEnum):
    """A customer's standing with credit control."""

    GOOD = "good"
    WATCH = "watch"
    """Every net-terms order is held for a person to approve."""


class CustomerProfile(BaseModel):
    """What validation and credit review need to know about a customer."""

    model_config = ConfigDict(frozen=True)

    customer_id: str
    active: bool
    standing: Standing
    payment_terms: PaymentTerms
    net_days: int
    credit_limit: Amount
    currency: str


class ProductInfo(BaseModel):
    """A product on the price list."""

    model_config = ConfigDict(frozen=True)

    sku: str
    name: str
    unit_price: Amount
    currency: str
    active: bool
    sourcing: Sourcing
    lead_time_days: int
