"""Money arithmetic: amounts are ``Decimal`` with two places, never floats."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Annotated, Any

from pydantic import Field, WithJsonSchema

from domain.wording import N_, WordedError, Wording

CENT = Decimal("0.01")

AMOUNT_TEXT = r"^[+-]?\d{1,16}(\.\d{1,2})?$"
"""An amount written as a JSON string: digits, at most two decimals (``"19.90"``)."""

_TYPED_AMOUNT = re.compile(AMOUNT_TEXT)


def typed_amount(value: Any) -> Any:
    """``value`` as money is written by people, when it is text: refused otherwise.

    Python's ``Decimal`` also reads ``1e9``, ``1E+9``, ``NaN`` and ``Infinity``, so a
    form or command line taking an amount as text would book a thousand million for
    four typed characters. Text must be plain digits with at most two decimals (an
    optional sign, so that ``-5`` is refused by the amount's own bounds, in its words);
    numbers pass through to the field's checks. For ``field_validator(mode="before")``.
    """
    if isinstance(value, str) and _TYPED_AMOUNT.fullmatch(value) is None:
        raise WordedError(
            Wording(
                message=N_(
                    "write the amount as digits with at most two decimals, e.g. 120.50 "
                    "(no exponent, no spaces, no thousands separators)"
                )
            )
        )
    return value


Amount = Annotated[
    Decimal,
    Field(max_digits=18, decimal_places=2),
    # Pydantic describes the string form as any string; say which strings it takes.
    WithJsonSchema(
        {"anyOf": [{"type": "number"}, {"type": "string", "pattern": AMOUNT_TEXT}]},
        mode="validation",
    ),
]
"""A money amount in the order's currency, at most 16 integer digits and 2 decimals."""

PRICE_TEXT = r"^\+?(\d{1,6}(\.\d{1,2})?|1000000(\.0{1,2})?)$"
"""A price written as a JSON string: 0 to 1,000,000 with at most two decimals."""

Price = Annotated[
    Amount,
    Field(ge=0, le=1_000_000),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0, "maximum": 1_000_000, "multipleOf": 0.01},
                {"type": "string", "pattern": PRICE_TEXT},
            ]
        },
        mode="validation",
    ),
]
"""A price or cost of one unit: 0 to 1,000,000 with at most two decimals."""

CREDIT_TEXT = r"^\+?\d{1,8}(\.\d{1,2})?$"
"""A credit limit written as a JSON string: 0 to 99,999,999.99."""

CreditAmount = Annotated[
    Amount,
    Field(ge=0, lt=100_000_000),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0, "maximum": 99_999_999.99, "multipleOf": 0.01},
                {"type": "string", "pattern": CREDIT_TEXT},
            ]
        },
        mode="validation",
    ),
]
"""A credit limit: 0 to 99,999,999.99 with at most two decimals."""

CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
"""An ISO 4217 currency code such as ``EUR``."""


def to_cents(value: Decimal) -> Decimal:
    """Round ``value`` to whole cents with banker's rounding."""
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)
