"""Order totals."""

from __future__ import annotations

from decimal import Decimal

from domain.money import to_cents
from domain.orders import SubmittedLine


def line_total(line: SubmittedLine) -> Decimal:
    """Quantity times unit price, in cents."""
    return to_cents(line.unit_price * line.quantity)


def order_total(lines: list[SubmittedLine]) -> Decimal:
    """Sum of the line totals."""
    return to_cents(sum((line_total(line) for line in lines), Decimal(0)))
