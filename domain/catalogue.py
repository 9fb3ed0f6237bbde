"""Customers and products as the business rules see them."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    WithJsonSchema,
    field_validator,
)

from domain.messages import InboundMessage, whole_json_number
from domain.money import Amount, CurrencyCode, Price, typed_amount


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


SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$"
"""A SKU: letters, digits, ``.``, ``_``, ``/``, ``-``; at most 64; a letter or digit first."""


class ProductRecord(InboundMessage):
    """A product as the catalogue holds it: a row of ``oms catalogue import products``."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    sku: Annotated[str, Field(pattern=SKU_PATTERN)]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    unit: Annotated[str, Field(min_length=1, max_length=16)] = "pcs"
    """What one unit is: ``pcs``, ``box of 100``, ``kg``."""
    unit_price: Price
    currency: CurrencyCode = "EUR"
    cost: Price = Decimal(0)
    """What one unit costs the business (stock is valued at it)."""
    sourcing: Sourcing = Sourcing.STOCK
    lead_time_days: Annotated[
        StrictInt, Field(ge=0, le=365), BeforeValidator(whole_json_number)
    ] = 0
    pack_multiple: Annotated[
        StrictInt, Field(ge=1, le=100_000), BeforeValidator(whole_json_number)
    ] = 1
    """Replenishment comes in multiples of this many units."""
    supplier: Annotated[str, Field(max_length=64)] = ""
    """The supplier (bought) or factory (made) that replenishes it."""
    category: Annotated[str, Field(max_length=64)] = ""
    active: StrictBool = True
    """False: no longer sold (orders naming it are rejected), kept for history."""

    _typed_prices = field_validator("unit_price", "cost", mode="before")(typed_amount)


class WarehouseRecord(InboundMessage):
    """A warehouse: a row of ``oms catalogue import warehouses``."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
    """ISO 3166-1 alpha-2, e.g. ``DE`` or ``TW``."""
    priority: Annotated[StrictInt, Field(ge=0, le=10_000), BeforeValidator(whole_json_number)] = 100
    """Lower ships first when several warehouses hold the goods."""
    confirm_packing: StrictBool = False
    """Parcels wait for the warehouse to confirm them picked and packed before the carrier
    is booked (under a ladder when late); otherwise the carrier is booked at once."""


Units = Annotated[StrictInt, Field(ge=0, le=10_000_000), BeforeValidator(whole_json_number)]
"""A stock level in units: a JSON number without a fraction, or its digits in a CSV cell."""


class StockPolicyRecord(InboundMessage):
    """How much of a product one warehouse keeps: a row of ``oms catalogue import levels``.

    Replenishment is due when free plus incoming stock falls to the reorder point;
    it brings stock up to the maximum. The safety stock is kept for demand that
    runs above the forecast; with ``service_level`` set, the review derives it
    from the forecast's error instead.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    sku: Annotated[str, Field(pattern=SKU_PATTERN)]
    warehouse_id: Annotated[str, Field(min_length=1, max_length=32)]
    reorder_point: Units = 0
    minimum: Units = 0
    maximum: Units = 0
    """0: no maximum (no overstock alert by level)."""
    safety_stock: Units = 0
    service_level: (
        Annotated[
            Decimal,
            Field(gt=0, lt=1, decimal_places=4),
            WithJsonSchema({"type": "string", "pattern": r"^0?\.\d{0,3}[1-9]$"}, mode="validation"),
        ]
        | None
    ) = None
    """e.g. ``0.95``: the share of replenishment cycles without a stock-out."""
    automatic: StrictBool = False
    """The review's replenishment proposals for this level are ordered at once, without a
    planner's approval."""

    def problem(self) -> str | None:
        """Why these levels cannot be kept (a minimum above the reorder point, a level
        above the maximum), beyond each field's shape; None when they can."""
        if self.maximum:
            for name in ("minimum", "reorder_point", "safety_stock"):
                if getattr(self, name) > self.maximum:
                    return f"{name} {getattr(self, name)} is above the maximum {self.maximum}"
        if self.minimum > self.reorder_point:
            return f"minimum {self.minimum} is above the reorder point {self.reorder_point}"
        return None
