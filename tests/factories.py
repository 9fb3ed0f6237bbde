"""Order submissions for tests, built from the demo catalogue."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from domain.orders import Channel, OrderSubmission, ShippingAddress, SubmittedLine

ADDRESS = ShippingAddress(
    name="Erika Mustermann",
    street="Heidestrasse 17",
    postal_code="51147",
    city="Koeln",
    country="DE",
)


def submission(order_id: str = "T-1", **changes: Any) -> OrderSubmission:
    """A valid prepaid web order for CUST-JANE (3 widgets), with ``changes`` applied."""
    fields: dict[str, Any] = {
        "order_id": order_id,
        "channel": Channel.WEB,
        "customer_id": "CUST-JANE",
        "payment_token": "tok_visa_4242",
        "lines": [SubmittedLine(sku="WIDGET-1", quantity=3, unit_price=Decimal("19.90"))],
        "shipping_address": ADDRESS,
    }
    fields.update(changes)
    return OrderSubmission(**fields)


def line(sku: str, quantity: int, unit_price: str) -> SubmittedLine:
    """An order line."""
    return SubmittedLine(sku=sku, quantity=quantity, unit_price=Decimal(unit_price))
