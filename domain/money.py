"""Money arithmetic: amounts are ``Decimal`` with two places, never floats."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Annotated

from pydantic import Field

CENT = Decimal("0.01")

Amount = Annotated[Decimal, Field(max_digits=18, decimal_places=2)]
"""A money amount in the order's currency, at most 16 integer digits and 2 decimals."""

CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
"""An ISO 4217 currency code such as ``EUR``."""


def to_cents(value: Decimal) -> Decimal:
    """Round ``value`` to whole cents with banker's rounding."""
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)
