"""Receive & confirm: the business checks on a submitted order.

A rejection lists every reason at once, each naming the field, the value and
what would have been accepted, so the channel can fix everything in one go.
"""

from __future__ import annotations

from collections.abc import Mapping

from domain.catalogue import CustomerProfile, ProductInfo
from domain.orders import OrderSubmission

REQUIRED_ADDRESS_FIELDS = ("name", "street", "postal_code", "city", "country")


def find_problems(
    submission: OrderSubmission,
    customer: CustomerProfile | None,
    products: Mapping[str, ProductInfo],
) -> list[str]:
    """Every reason why ``submission`` cannot be accepted; empty when it can.

    ``products`` maps SKU to price-list entry for (at least) the SKUs on the order.
    """
    problems: list[str] = []
    if customer is None:
        problems.append(f"customer_id {submission.customer_id!r}: no such customer")
    elif not customer.active:
        problems.append(f"customer_id {submission.customer_id!r}: customer is not active")
    elif customer.currency != submission.currency:
        problems.append(
            f"currency {submission.currency!r}: customer {customer.customer_id} "
            f"is billed in {customer.currency}"
        )

    address = submission.shipping_address
    for field in REQUIRED_ADDRESS_FIELDS:
        if not getattr(address, field):
            problems.append(f"shipping_address.{field}: missing (a complete address is required)")
    if address.country and not (len(address.country) == 2 and address.country.isalpha()):
        problems.append(
            f"shipping_address.country {address.country!r}: expected a two-letter ISO code"
        )

    seen_skus: set[str] = set()
    for index, line in enumerate(submission.lines, start=1):
        where = f"lines[{index}]"
        if line.sku in seen_skus:
            problems.append(f"{where}.sku {line.sku!r}: appears on more than one line")
        seen_skus.add(line.sku)
        if line.quantity <= 0:
            problems.append(f"{where}.quantity {line.quantity}: must be at least 1")
        product = products.get(line.sku)
        if product is None:
            problems.append(f"{where}.sku {line.sku!r}: no such product")
            continue
        if not product.active:
            problems.append(f"{where}.sku {line.sku!r}: product is no longer sold")
        if product.currency != submission.currency:
            problems.append(
                f"{where}.sku {line.sku!r}: priced in {product.currency}, "
                f"order is in {submission.currency}"
            )
        elif line.unit_price != product.unit_price:
            problems.append(
                f"{where}.unit_price {line.unit_price}: price list says {product.unit_price}"
            )
    return problems
