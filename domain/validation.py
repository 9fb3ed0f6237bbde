"""Receive & confirm: the business checks on a submitted order.

A rejection lists every reason at once, each naming the field, the value and
what would have been accepted, so the channel can fix everything in one go.
"""

from __future__ import annotations

from collections.abc import Mapping

from domain.catalogue import CustomerProfile, ProductInfo
from domain.orders import OrderSubmission
from domain.wording import N_, Wording, words

REQUIRED_ADDRESS_FIELDS = ("name", "street", "postal_code", "city", "country")


MISSING_ADDRESS = {
    "name": N_("shipping_address.name: missing (a complete address is required)"),
    "street": N_("shipping_address.street: missing (a complete address is required)"),
    "postal_code": N_("shipping_address.postal_code: missing (a complete address is required)"),
    "city": N_("shipping_address.city: missing (a complete address is required)"),
    "country": N_("shipping_address.country: missing (a complete address is required)"),
}


def find_problems(
    submission: OrderSubmission,
    customer: CustomerProfile | None,
    products: Mapping[str, ProductInfo],
) -> list[str]:
    """Every reason why ``submission`` cannot be accepted; empty when it can.

    ``products`` maps SKU to price-list entry for (at least) the SKUs on the order.
    """
    return [problem.english() for problem in problem_wordings(submission, customer, products)]


def problem_wordings(
    submission: OrderSubmission,
    customer: CustomerProfile | None,
    products: Mapping[str, ProductInfo],
) -> list[Wording]:
    """:func:`find_problems` as wordings, for people reading them in their language."""
    problems: list[Wording] = []
    typed_customer = repr(submission.customer_id)
    if customer is None:
        problems.append(
            words(N_("customer_id %(customer)s: no such customer"), customer=typed_customer)
        )
    elif not customer.active:
        problems.append(
            words(N_("customer_id %(customer)s: customer is not active"), customer=typed_customer)
        )
    elif customer.currency != submission.currency:
        problems.append(
            words(
                N_("currency %(currency)s: customer %(customer)s is billed in %(billed)s"),
                currency=repr(submission.currency),
                customer=customer.customer_id,
                billed=customer.currency,
            )
        )

    address = submission.shipping_address
    for field in REQUIRED_ADDRESS_FIELDS:
        if not getattr(address, field):
            problems.append(Wording(message=MISSING_ADDRESS[field]))
    if address.country and not (len(address.country) == 2 and address.country.isalpha()):
        problems.append(
            words(
                N_("shipping_address.country %(country)s: expected a two-letter ISO code"),
                country=repr(address.country),
            )
        )

    seen_skus: set[str] = set()
    for index, line in enumerate(submission.lines, start=1):
        sku = repr(line.sku)
        if line.sku in seen_skus:
            problems.append(
                words(
                    N_("lines[%(row)s].sku %(sku)s: appears on more than one line"),
                    row=index,
                    sku=sku,
                )
            )
        seen_skus.add(line.sku)
        if line.quantity <= 0:
            problems.append(
                words(
                    N_("lines[%(row)s].quantity %(quantity)s: must be at least 1"),
                    row=index,
                    quantity=line.quantity,
                )
            )
        product = products.get(line.sku)
        if product is None:
            problems.append(
                words(N_("lines[%(row)s].sku %(sku)s: no such product"), row=index, sku=sku)
            )
            continue
        if not product.active:
            problems.append(
                words(
                    N_("lines[%(row)s].sku %(sku)s: product is no longer sold"), row=index, sku=sku
                )
            )
        if product.currency != submission.currency:
            problems.append(
                words(
                    N_(
                        "lines[%(row)s].sku %(sku)s: priced in %(priced)s, order is in %(currency)s"
                    ),
                    row=index,
                    sku=sku,
                    priced=product.currency,
                    currency=submission.currency,
                )
            )
        elif line.unit_price != product.unit_price:
            problems.append(
                words(
                    N_("lines[%(row)s].unit_price %(price)s: price list says %(listed)s"),
                    row=index,
                    price=str(line.unit_price),
                    listed=str(product.unit_price),
                )
            )
    return problems
