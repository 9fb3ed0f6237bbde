"""Typed SQLAlchemy models of the business database, grouped by concern."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from persistence.encrypted import EncryptedBytes, EncryptedJSON, EncryptedText

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Money = Numeric(18, 2)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend.

    PostgreSQL keeps the offset itself; SQLite has no time zone, so values are
    stored as UTC and come back marked UTC. Naive datetimes are refused.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Normalise to UTC; SQLite stores it without an offset."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: timestamps must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Mark SQLite's offset-less values as UTC."""
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    """Declarative base with a constraint naming convention (stable migrations)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def table_of(model: type[Base]) -> Table:
    """The table ``model`` is mapped to, for Core statements built once and run with parameters."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


# --- customers and catalogue ---------------------------------------------------


class Customer(Base):
    """A customer with its credit terms."""

    __tablename__ = "customers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(EncryptedText())
    """Personal data: encrypted at rest."""
    email: Mapped[str] = mapped_column(EncryptedText())
    """Personal data: encrypted at rest."""
    active: Mapped[bool] = mapped_column(default=True)
    standing: Mapped[str] = mapped_column(String(16))
    payment_terms: Mapped[str] = mapped_column(String(16))
    net_days: Mapped[int] = mapped_column(default=30)
    credit_limit: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    kind: Mapped[str] = mapped_column(String(8), default="company", server_default="company")
    phone: Mapped[str] = mapped_column(EncryptedText(), default="", server_default="")
    contact_person: Mapped[str] = mapped_column(EncryptedText(), default="", server_default="")
    billing_street: Mapped[str] = mapped_column(EncryptedText(), default="", server_default="")
    billing_postal_code: Mapped[str] = mapped_column(EncryptedText(), default="", server_default="")
    billing_city: Mapped[str] = mapped_column(EncryptedText(), default="", server_default="")
    billing_country: Mapped[str] = mapped_column(String(2), default="", server_default="")
    shipping_street: Mapped[str] = mapped_column(EncryptedText(), default="", server_default="")
    shipping_postal_code: Mapped[str] = mapped_column(
        EncryptedText(), default="", server_default=""
    )
    shipping_city: Mapped[str] = mapped_column(EncryptedText(), default="", server_default="")
    shipping_country: Mapped[str] = mapped_column(String(2), default="", server_default="")
    preferred_channel: Mapped[str | None] = mapped_column(String(8))
    language: Mapped[str] = mapped_column(String(16), default="en", server_default="en")
    contact_by_email: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    contact_by_phone: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    marketing_consent: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    consent_source: Mapped[str] = mapped_column(String(100), default="", server_default="")
    consent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    """When the marketing consent now in force was given (None: no consent)."""
    tags: Mapped[str] = mapped_column(String(500), default="", server_default="")
    notes: Mapped[str] = mapped_column(EncryptedText(), default="", server_default="")
    created_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    """None for customers from before records were kept."""
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    credit_score: Mapped[int | None]
    """The last credit evaluation's score (0-100); None before the first."""
    credit_scored_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    credit_reasons: Mapped[list[str] | None] = mapped_column(JSON)
    credit_wordings: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    """The same reasons as :class:`domain.wording.Wording` (None: scored before they were
    kept), shown in the reader's language."""
    erased_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    """When the customer's personal data was erased (the row stays for the accounts)."""


class CustomerContact(Base):
    """A person to talk to at a customer (buyer, accounts, goods in)."""

    __tablename__ = "customer_contacts"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    name: Mapped[str] = mapped_column(EncryptedText())
    role: Mapped[str] = mapped_column(String(64), default="")
    email: Mapped[str] = mapped_column(EncryptedText(), default="")
    phone: Mapped[str] = mapped_column(EncryptedText(), default="")


class CustomerChangeRow(Base):
    """One field of a customer changed: the audit of customer records."""

    __tablename__ = "customer_changes"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    actor: Mapped[str] = mapped_column(String(64))
    field: Mapped[str] = mapped_column(String(32))
    old_value: Mapped[str] = mapped_column(EncryptedText())
    """Encrypted: the field may be personal data."""
    new_value: Mapped[str] = mapped_column(EncryptedText())


class CreditProposal(Base):
    """A credit limit or standing the nightly evaluation suggests, for a person with credit
    authority to accept or override."""

    __tablename__ = "credit_proposals"
    __table_args__ = (Index("ix_credit_proposals_status", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    score: Mapped[int]
    current_limit: Mapped[Decimal] = mapped_column(Money)
    current_standing: Mapped[str] = mapped_column(String(16))
    suggested_limit: Mapped[Decimal] = mapped_column(Money)
    suggested_standing: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    wordings: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    """The reasons as wordings (None: proposed before they were kept)."""
    status: Mapped[str] = mapped_column(String(16))
    """open, accepted, overridden or superseded (a newer evaluation replaced it)."""
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    final_limit: Mapped[Decimal | None] = mapped_column(Money)
    final_standing: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(EncryptedText(), default="")
    """Why an override differs from the suggestion (staff's words about the customer:
    encrypted, erased with the customer)."""


class CareTaskRow(Base):
    """A task for customer service about one customer, run by its CareTaskWorkflow."""

    __tablename__ = "care_tasks"
    __table_args__ = (Index("ix_care_tasks_status_owner", "status", "owner"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str] = mapped_column(Text)
    reason_wording: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """The reason as a :class:`domain.wording.Wording` (read in the reader's language);
    None on older rows, which show ``reason``."""
    owner: Mapped[str | None] = mapped_column(String(64))
    """A customer-service user; None: the team queue."""
    due_at: Mapped[datetime] = mapped_column(UtcDateTime())
    status: Mapped[str] = mapped_column(String(8))
    """open or done."""
    escalation_level: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    completed_by: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(EncryptedText(), default="")
    """What the person who did the task wrote ("Called ... on ..."): encrypted, erased
    with the customer."""


class CampaignRow(Base):
    """A marketing campaign, run by its CampaignWorkflow."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(120))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    sent_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    """When the last message went out (the response window starts here)."""


class CampaignRecipient(Base):
    """One customer of a campaign's audience: targeted or held out, and what happened."""

    __tablename__ = "campaign_recipients"
    __table_args__ = (Index("ix_campaign_recipients_status", "campaign_id", "status"),)

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    control: Mapped[bool]
    """Held out: never sent anything, the baseline of the response."""
    status: Mapped[str] = mapped_column(String(8))
    """pending, sent, skipped (consent gone before its turn) or control."""
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    reference: Mapped[str | None] = mapped_column(String(80))
    """The notifier's message id."""


class CustomerSegmentRow(Base):
    """A customer's current RFM scores, segment and ABC class (the last classification)."""

    __tablename__ = "customer_segments"

    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    segment: Mapped[str] = mapped_column(String(20), index=True)
    abc: Mapped[str] = mapped_column(String(1))
    recency: Mapped[int]
    frequency: Mapped[int]
    monetary: Mapped[int]
    recency_days: Mapped[int | None]
    orders: Mapped[int]
    spend: Mapped[Decimal] = mapped_column(Money)
    since: Mapped[datetime] = mapped_column(UtcDateTime())
    """When the customer entered this segment."""
    computed_at: Mapped[datetime] = mapped_column(UtcDateTime())


class CustomerSegmentChange(Base):
    """A customer moved into another segment or ABC class: the segment history."""

    __tablename__ = "customer_segment_history"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    segment: Mapped[str] = mapped_column(String(20))
    previous_segment: Mapped[str | None] = mapped_column(String(20))
    abc: Mapped[str] = mapped_column(String(1))
    previous_abc: Mapped[str | None] = mapped_column(String(1))


class Product(Base):
    """A product on the price list and how it is replenished."""

    __tablename__ = "products"

    sku: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    unit_price: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    active: Mapped[bool] = mapped_column(default=True)
    sourcing: Mapped[str] = mapped_column(String(8))
    lead_time_days: Mapped[int] = mapped_column(default=0)
    unit: Mapped[str] = mapped_column(String(16), default="pcs", server_default="pcs")
    cost: Mapped[Decimal] = mapped_column(Money, default=Decimal(0), server_default="0")
    pack_multiple: Mapped[int] = mapped_column(default=1, server_default="1")
    supplier: Mapped[str] = mapped_column(String(64), default="", server_default="")
    category: Mapped[str] = mapped_column(String(64), default="", server_default="")


class Warehouse(Base):
    """A place stock is kept and shipped from; lower priority is preferred."""

    __tablename__ = "warehouses"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    priority: Mapped[int] = mapped_column(default=100)
    confirm_packing: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    """Parcels wait for a picked-and-packed confirmation before the carrier is booked."""


# --- inventory ---------------------------------------------------------------------


class StockPolicy(Base):
    """How much of a product one warehouse keeps (:class:`domain.catalogue.StockPolicyRecord`)."""

    __tablename__ = "stock_policies"

    sku: Mapped[str] = mapped_column(ForeignKey("products.sku"), primary_key=True)
    warehouse_id: Mapped[str] = mapped_column(ForeignKey("warehouses.id"), primary_key=True)
    reorder_point: Mapped[int] = mapped_column(default=0)
    minimum: Mapped[int] = mapped_column(default=0)
    maximum: Mapped[int] = mapped_column(default=0)
    safety_stock: Mapped[int] = mapped_column(default=0)
    service_level: Mapped[Decimal | None] = mapped_column(Numeric(5, 4))
    automatic: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    """Replenishment proposals for this level are ordered without a planner's approval."""


class StockLevel(Base):
    """Units of one product in one warehouse: on hand, and how many are promised."""

    __tablename__ = "stock_levels"
    __table_args__ = (
        CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
        CheckConstraint("reserved >= 0 AND reserved <= on_hand", name="reserved_within_on_hand"),
    )

    sku: Mapped[str] = mapped_column(ForeignKey("products.sku"), primary_key=True)
    warehouse_id: Mapped[str] = mapped_column(ForeignKey("warehouses.id"), primary_key=True)
    on_hand: Mapped[int] = mapped_column(default=0)
    reserved: Mapped[int] = mapped_column(default=0)


class StockMovement(Base):
    """One change of a stock level: the ledger that on hand and reserved must sum to."""

    __tablename__ = "stock_movements"
    __table_args__ = (Index("ix_stock_movements_sku_warehouse", "sku", "warehouse_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    sku: Mapped[str] = mapped_column(ForeignKey("products.sku"))
    warehouse_id: Mapped[str] = mapped_column(ForeignKey("warehouses.id"))
    kind: Mapped[str] = mapped_column(String(16))
    on_hand_change: Mapped[int]
    reserved_change: Mapped[int]
    order_id: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    reason: Mapped[str] = mapped_column(String(32), default="", server_default="")
    """Why, for operations not made by an order: ``supplier_delivery``, ``scrap``, ..."""
    actor: Mapped[str] = mapped_column(String(64), default="system", server_default="system")
    reference: Mapped[str] = mapped_column(String(64), default="", server_default="")
    """The paper behind it: a delivery note, a scrap report, a count sheet."""


class StockTransfer(Base):
    """Stock sent from one warehouse to another: in transit until received."""

    __tablename__ = "stock_transfers"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    from_warehouse_id: Mapped[str] = mapped_column(ForeignKey("warehouses.id"))
    to_warehouse_id: Mapped[str] = mapped_column(ForeignKey("warehouses.id"))
    status: Mapped[str] = mapped_column(String(16), index=True)
    reference: Mapped[str] = mapped_column(String(64), default="", server_default="")
    dispatched_by: Mapped[str] = mapped_column(String(64))
    dispatched_at: Mapped[datetime] = mapped_column(UtcDateTime())
    received_by: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class StockTransferLine(Base):
    """Units of one product on a transfer."""

    __tablename__ = "stock_transfer_lines"

    transfer_id: Mapped[int] = mapped_column(ForeignKey("stock_transfers.id"), primary_key=True)
    sku: Mapped[str] = mapped_column(ForeignKey("products.sku"), primary_key=True)
    quantity: Mapped[int]


class Stocktake(Base):
    """A count of a warehouse (all of it or some products)."""

    __tablename__ = "stocktakes"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    warehouse_id: Mapped[str] = mapped_column(ForeignKey("warehouses.id"))
    status: Mapped[str] = mapped_column(String(16), index=True)
    approval_threshold: Mapped[Decimal] = mapped_column(Money)
    opened_by: Mapped[str] = mapped_column(String(64))
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime())
    closed_by: Mapped[str | None] = mapped_column(String(64))
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class StocktakeLine(Base):
    """One product of a count: what was found, the book at that moment, who approved."""

    __tablename__ = "stocktake_lines"
    __table_args__ = (
        Index(
            "uq_stocktake_lines_open",
            "warehouse_id",
            "sku",
            unique=True,
            sqlite_where=text("closed_at IS NULL"),
            postgresql_where=text("closed_at IS NULL"),
        ),
    )

    stocktake_id: Mapped[int] = mapped_column(ForeignKey("stocktakes.id"), primary_key=True)
    sku: Mapped[str] = mapped_column(ForeignKey("products.sku"), primary_key=True)
    warehouse_id: Mapped[str] = mapped_column(ForeignKey("warehouses.id"))
    """The count's warehouse, here for the index: a product is on one open count of a
    warehouse at a time, or the same loss would be posted twice."""
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    """When the count was posted or cancelled (None while it is open)."""
    counted: Mapped[int | None]
    book: Mapped[int | None]
    """On hand in the book when the count was entered: movements after it are in the book
    and not in the count, so the variance is ``counted - book`` whenever it is posted."""
    counted_by: Mapped[str | None] = mapped_column(String(64))
    counted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    approved_by: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class StockAlert(Base):
    """An alert on a stock level: open while its condition holds, then cleared (history)."""

    __tablename__ = "stock_alerts"
    __table_args__ = (
        Index(
            "uq_stock_alerts_open",
            "sku",
            "warehouse_id",
            "kind",
            unique=True,
            sqlite_where=text("cleared_at IS NULL"),
            postgresql_where=text("cleared_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    sku: Mapped[str] = mapped_column(ForeignKey("products.sku"))
    warehouse_id: Mapped[str] = mapped_column(ForeignKey("warehouses.id"))
    kind: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(String(400))
    raised_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    cleared_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    cleared_detail: Mapped[str] = mapped_column(String(400), default="", server_default="")
    detail_wording: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """The detail as a wording (None: raised before they were kept)."""


class ReplenishmentProposal(Base):
    """What the inventory review proposes to order for one product and warehouse."""

    __tablename__ = "replenishment_proposals"
    __table_args__ = (
        Index(
            "uq_replenishment_proposals_open",
            "sku",
            "warehouse_id",
            unique=True,
            sqlite_where=text("status = 'proposed'"),
            postgresql_where=text("status = 'proposed'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    sku: Mapped[str] = mapped_column(ForeignKey("products.sku"))
    warehouse_id: Mapped[str] = mapped_column(ForeignKey("warehouses.id"))
    kind: Mapped[str] = mapped_column(String(16))
    quantity: Mapped[int]
    """What will be ordered: the proposed quantity, or the planner's edit."""
    proposed_quantity: Mapped[int]
    method: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(400))
    reason_wordings: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    """The reason's clauses as wordings (None: proposed before they were kept)."""
    stockout_on: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    decision_note: Mapped[str] = mapped_column(String(400), default="", server_default="")
    workflow_id: Mapped[str | None] = mapped_column(String(80))


class ReplenishmentOrder(Base):
    """A production or purchase order for stock (not for an order line): an approved
    proposal's, run by its ``ReplenishmentWorkflow``."""

    __tablename__ = "replenishment_orders"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    """The workflow id: ``replenishment-<proposal id>``."""
    proposal_id: Mapped[int] = mapped_column(ForeignKey("replenishment_proposals.id"), unique=True)
    sku: Mapped[str] = mapped_column(ForeignKey("products.sku"))
    kind: Mapped[str] = mapped_column(String(16))
    partner: Mapped[str] = mapped_column(String(40))
    partner_reference: Mapped[str] = mapped_column(String(80))
    warehouse_id: Mapped[str] = mapped_column(ForeignKey("warehouses.id"))
    quantity: Mapped[int]
    received_quantity: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(16), index=True)
    expected_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class DemandForecast(Base):
    """The latest forecast and projection of one product in one warehouse (each review
    replaces them), with its backtest against seasonal-naive."""

    __tablename__ = "demand_forecasts"

    sku: Mapped[str] = mapped_column(ForeignKey("products.sku"), primary_key=True)
    warehouse_id: Mapped[str] = mapped_column(ForeignKey("warehouses.id"), primary_key=True)
    method: Mapped[str] = mapped_column(String(24))
    intermittent: Mapped[bool]
    daily_mean: Mapped[Decimal] = mapped_column(Numeric(14, 4))
    mase: Mapped[float | None]
    wape: Mapped[float | None]
    naive_mase: Mapped[float | None]
    naive_wape: Mapped[float | None]
    backtest_units: Mapped[float] = mapped_column(default=0.0)
    backtest_abs_error: Mapped[float] = mapped_column(default=0.0)
    naive_abs_error: Mapped[float] = mapped_column(default=0.0)
    """Units and absolute errors of the backtest (summed over series: the overall WAPE)."""
    safety_stock: Mapped[int]
    stockout_on: Mapped[date | None]
    overstock_units: Mapped[int]
    forecast: Mapped[list[float]] = mapped_column(JSON)
    """Units a day from the day after the review, over the horizon."""
    projection: Mapped[list[list[Any]]] = mapped_column(JSON)
    """[ISO day, projected free stock] from the review's day over the horizon."""
    computed_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Reservation(Base):
    """Stock promised to one order line in one warehouse."""

    __tablename__ = "reservations"
    __table_args__ = (UniqueConstraint("order_id", "line_no", "warehouse_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    line_no: Mapped[int]
    sku: Mapped[str] = mapped_column(ForeignKey("products.sku"))
    warehouse_id: Mapped[str] = mapped_column(ForeignKey("warehouses.id"))
    quantity: Mapped[int]
    status: Mapped[str] = mapped_column(String(16))
    shipment_id: Mapped[str | None] = mapped_column(ForeignKey("shipments.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


# --- orders ------------------------------------------------------------------------


class Order(Base):
    """The read model of one order, kept current by its workflow's activities.

    ``customer_id`` and line SKUs are stored as submitted (no foreign key), so an
    order naming an unknown customer or product is still recorded as rejected.
    """

    __tablename__ = "orders"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    workflow_id: Mapped[str] = mapped_column(String(80))
    channel: Mapped[str] = mapped_column(String(8))
    customer_id: Mapped[str] = mapped_column(String(64))
    customer_reference: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(24), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    total: Mapped[Decimal] = mapped_column(Money)
    payment_terms: Mapped[str | None] = mapped_column(String(16))
    payment_token: Mapped[str | None] = mapped_column(EncryptedText())
    ship_to_name: Mapped[str] = mapped_column(EncryptedText())
    """Personal data (the ``ship_to_`` fields but the country): encrypted at rest."""
    ship_to_street: Mapped[str] = mapped_column(EncryptedText())
    ship_to_postal_code: Mapped[str] = mapped_column(EncryptedText())
    ship_to_city: Mapped[str] = mapped_column(EncryptedText())
    ship_to_country: Mapped[str] = mapped_column(String(2))
    personal_data_removed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    """When the address and payment token were removed (erasure or retention)."""
    rejection_reasons: Mapped[list[str]] = mapped_column(EncryptedJSON(), default=list)
    """A person's reason among them ("rejected by ...: ..."): encrypted, erased with the
    customer."""
    allocation_reason: Mapped[str | None] = mapped_column(Text)
    allocation_wording: Mapped[str | None] = mapped_column(Text)
    """``allocation_reason`` as a wording (its JSON); NULL on older orders."""
    escalation_level: Mapped[int] = mapped_column(default=0, server_default="0")
    """Highest escalation rung the order has reached on any of its waits."""
    needs_attention: Mapped[str | None] = mapped_column(Text)
    """Why a person must act now; NULL when nobody needs to."""
    needs_attention_wording: Mapped[str | None] = mapped_column(Text)
    """``needs_attention`` as a wording (its JSON); NULL with it, and on older orders."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    status_since: Mapped[datetime | None] = mapped_column(UtcDateTime())
    """When the order took its current status (how long an order has been held)."""

    __table_args__ = (
        Index("ix_orders_status_updated_at", "status", "updated_at"),
        Index("ix_orders_customer_id_status", "customer_id", "status"),
        # Only the few orders that need a person: the "needs attention" list reads them.
        Index(
            "ix_orders_needing_attention",
            "updated_at",
            sqlite_where=text("needs_attention IS NOT NULL"),
            postgresql_where=text("needs_attention IS NOT NULL"),
        ),
    )


class OrderLine(Base):
    """One line of an order as submitted, with its total."""

    __tablename__ = "order_lines"

    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    line_no: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int]
    unit_price: Mapped[Decimal] = mapped_column(Money)
    line_total: Mapped[Decimal] = mapped_column(Money)


class OrderEventRow(Base):
    """One entry of an order's audit log."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(EncryptedText(), default="")
    """Encrypted: staff's reasons (a cancellation, an approval) can name the customer; erased
    with the customer, keeping the kind, the actor and the time."""
    wording: Mapped[str | None] = mapped_column(EncryptedText())
    """``detail`` as a :class:`domain.wording.Wording` (its JSON), read in each reader's
    language; encrypted and erased as ``detail`` is. NULL on events written before wordings."""
    actor: Mapped[str] = mapped_column(String(64), default="system")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


# --- settlement --------------------------------------------------------------------


class Payment(Base):
    """A movement of money for an order: authorisation, capture, void, refund, incoming."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    reference: Mapped[str] = mapped_column(String(80))
    idempotency_key: Mapped[str] = mapped_column(String(160), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class VoucherSequence(Base):
    """The last number used in a voucher series and year: numbering without gaps."""

    __tablename__ = "voucher_sequences"

    series: Mapped[str] = mapped_column(String(8), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last_number: Mapped[int] = mapped_column(default=0)


class Invoice(Base):
    """An invoice; never deleted (voided by credit note instead)."""

    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("series", "year", "sequence"),
        Index("ix_invoices_customer_id_status", "customer_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    series: Mapped[str] = mapped_column(String(8))
    year: Mapped[int]
    sequence: Mapped[int]
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), unique=True)
    customer_id: Mapped[str] = mapped_column(String(64))
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime())
    due_date: Mapped[date]


class CreditNote(Base):
    """Voids an invoice (an invoice is never deleted), or part of it (a complaint's
    refund); numbered without gaps like it."""

    __tablename__ = "credit_notes"
    __table_args__ = (UniqueConstraint("series", "year", "sequence"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    series: Mapped[str] = mapped_column(String(8))
    year: Mapped[int]
    sequence: Mapped[int]
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    reason: Mapped[str] = mapped_column(EncryptedText())
    """Encrypted: it quotes a cancellation's or a complaint remedy's reason."""
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Receipt(Base):
    """Proof of full payment of an invoice."""

    __tablename__ = "receipts"
    __table_args__ = (UniqueConstraint("series", "year", "sequence"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    series: Mapped[str] = mapped_column(String(8))
    year: Mapped[int]
    sequence: Mapped[int]
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), unique=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"))
    amount: Mapped[Decimal] = mapped_column(Money)
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime())


# --- shipping ----------------------------------------------------------------------


class Shipment(Base):
    """One parcel from one warehouse, booked with a carrier."""

    __tablename__ = "shipments"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    warehouse_id: Mapped[str] = mapped_column(ForeignKey("warehouses.id"))
    carrier: Mapped[str] = mapped_column(String(40))
    tracking_number: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(16))
    booked_at: Mapped[datetime] = mapped_column(UtcDateTime())
    """When the parcel was planned, then when the carrier confirmed the booking."""
    promised_by: Mapped[datetime | None] = mapped_column(UtcDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    replaces_id: Mapped[str | None] = mapped_column(ForeignKey("shipments.id"))
    contents: Mapped[dict[str, int] | None] = mapped_column(JSON)
    """Units per SKU of a parcel not made from reservations (a complaint's replacement)."""
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaints.id"))
    """The complaint a replacement parcel puts right (the order itself may have ended)."""
    """For a replacement parcel: the lost or damaged one it replaces."""


class TrackingEventRow(Base):
    """A carrier milestone of a shipment, recorded once."""

    __tablename__ = "tracking_events"
    __table_args__ = (UniqueConstraint("shipment_id", "milestone"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    shipment_id: Mapped[str] = mapped_column(ForeignKey("shipments.id"), index=True)
    milestone: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime())
    detail: Mapped[str] = mapped_column(Text, default="")


# --- supply ------------------------------------------------------------------------


class SupplyOrder(Base):
    """A production or purchase order for the shortage of one order line."""

    __tablename__ = "supply_orders"
    __table_args__ = (UniqueConstraint("order_id", "line_no"),)

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    line_no: Mapped[int]
    sku: Mapped[str] = mapped_column(ForeignKey("products.sku"))
    kind: Mapped[str] = mapped_column(String(16))
    partner: Mapped[str] = mapped_column(String(40))
    partner_reference: Mapped[str] = mapped_column(String(80))
    warehouse_id: Mapped[str] = mapped_column(ForeignKey("warehouses.id"))
    quantity: Mapped[int]
    received_quantity: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(16), index=True)
    expected_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


# --- notifications -----------------------------------------------------------------


class NotificationRow(Base):
    """A message to a customer or to staff: the outbox, one row per order and occasion."""

    __tablename__ = "notifications"
    __table_args__ = (UniqueConstraint("order_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(String(64), index=True)
    key: Mapped[str] = mapped_column(String(120))
    audience: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(EncryptedText())
    """Encrypted like the message: free text (a campaign's subject as its author typed it)."""
    message: Mapped[str] = mapped_column(EncryptedText())
    """Encrypted: what a customer is sent names and addresses them."""
    reference: Mapped[str] = mapped_column(String(80))
    """The notifier's message id."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


# --- archive and idempotency ---------------------------------------------------------


class ArchiveRecord(Base):
    """Immutable record of a finished order, without personal data."""

    __tablename__ = "archive_records"

    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    archived_at: Mapped[datetime] = mapped_column(UtcDateTime())
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    address_fingerprint: Mapped[str] = mapped_column(String(64))
    """SHA-256 of the shipping address: proves what it was without keeping it."""


class IdempotencyKey(Base):
    """A step that has taken effect, with its result: written in the effect's transaction."""

    __tablename__ = "idempotency_keys"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    result: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


# --- staff access ------------------------------------------------------------------


class StaffUser(Base):
    """A person who logs in to the console: user name, Argon2id password hash, role."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    """Argon2id, in the PHC string format (algorithm, parameters and salt included)."""
    role: Mapped[str] = mapped_column(String(32))
    locale: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    """Failed logins in a row since the last successful one (or the last unlock)."""
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    password_changed_at: Mapped[datetime] = mapped_column(UtcDateTime())


class StaffSession(Base):
    """A logged-in browser: kept server-side, revocable, with idle and absolute expiry."""

    __tablename__ = "staff_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    """SHA-256 of the cookie's token: the database never holds a usable token."""
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    """The absolute end of the session, however active it is."""
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class SecurityEvent(Base):
    """The security audit log: logins, failures, locks, logouts, account changes."""

    __tablename__ = "security_events"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    username: Mapped[str] = mapped_column(String(64), index=True)
    """Who it concerns (as typed, for a failed login to an unknown name)."""
    actor: Mapped[str] = mapped_column(String(64))
    """Who did it: the user themself, an admin, or ``oms`` from the command line."""
    address: Mapped[str] = mapped_column(String(64))
    """Where from: the client's address, or ``cli``."""
    detail: Mapped[str] = mapped_column(Text)


class ApiKey(Base):
    """A key a system uses to call the HTTP API: stored hashed, revocable, last use kept."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(32))
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    """The key's first characters, shown in lists; the lookup before the hash is checked."""
    secret_hash: Mapped[str] = mapped_column(String(64))
    """SHA-256 of the whole key (keys are long random strings: no slow hash needed)."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str] = mapped_column(String(64))
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class ComplaintRow(Base):
    """A customer's complaint, handled by its ComplaintWorkflow (the workflow writes the
    status, owner and clocks here as the case moves, for lists and the analysis)."""

    __tablename__ = "complaints"
    __table_args__ = (
        UniqueConstraint("channel", "message_id"),
        Index("ix_complaints_status_owner", "status", "owner"),
        # A complaint number is never used twice (not even after rows are deleted): it is
        # the case's workflow id and customers quote it in their replies.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(8))
    message_id: Mapped[str | None] = mapped_column(String(200))
    """The gateway's message id; None for complaints typed in by staff."""
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"), index=True)
    """None while an e-mail's sender matches no customer."""
    order_id: Mapped[str | None] = mapped_column(ForeignKey("orders.id"), index=True)
    parcel_id: Mapped[str | None] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(24))
    suggested_category: Mapped[str] = mapped_column(String(24))
    priority: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(24), index=True)
    owner: Mapped[str | None] = mapped_column(String(64))
    """A customer-service user; None: the team queue."""
    from_address: Mapped[str] = mapped_column(EncryptedText(), default="")
    subject: Mapped[str] = mapped_column(EncryptedText())
    description: Mapped[str] = mapped_column(EncryptedText())
    attachments: Mapped[list[str]] = mapped_column(JSON, default=list)
    taken_by: Mapped[str] = mapped_column(String(64), default="")
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    first_response_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    escalation_level: Mapped[int] = mapped_column(default=0)
    sla_breached: Mapped[bool] = mapped_column(default=False)
    case: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON(), default=dict)
    """The workflow's last view of the case (clocks, remedies), for the console; encrypted
    (remedies carry staff's reasons)."""
    root_cause: Mapped[str | None] = mapped_column(String(64))
    remedy_cost: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    survey_score: Mapped[int | None]
    survey_comment: Mapped[str] = mapped_column(EncryptedText(), default="")
    reopened: Mapped[int] = mapped_column(default=0)


class ComplaintEventRow(Base):
    """One entry of a complaint's history: a note, a reply, a breach, a remedy..."""

    __tablename__ = "complaint_events"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    kind: Mapped[str] = mapped_column(String(24))
    actor: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(EncryptedText(), default="")
    """Notes and replies can hold personal data: encrypted, erased with the customer."""
    wording: Mapped[dict[str, Any] | None] = mapped_column(EncryptedJSON())
    """The detail as a :class:`domain.wording.Wording` when the system wrote it (read in
    the reader's language); None for what a person typed and older rows. Encrypted and
    erased like the detail (it quotes subjects and reasons)."""
    amount: Mapped[Decimal | None] = mapped_column(Money)
    key: Mapped[str | None] = mapped_column(String(200), unique=True)
    """The workflow's key for the occasion: a retried write lands once."""


class ComplaintMailRow(Base):
    """A message received for a complaint (the first one or a reply), once per channel and
    message key: an e-mail's original kept whole, and what reading it cut."""

    __tablename__ = "complaint_mail"
    __table_args__ = (UniqueConstraint("channel", "message_key"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    channel: Mapped[str] = mapped_column(String(8))
    message_key: Mapped[str] = mapped_column(String(200))
    """The message id, or ``sha256:<digest>`` of an e-mail without one."""
    reply: Mapped[bool] = mapped_column(default=False)
    delivered: Mapped[bool] = mapped_column(default=True)
    """A reply handed to the case's workflow (False: to hand over when it comes again)."""
    handing_over_since: Mapped[datetime | None] = mapped_column(UtcDateTime())
    """When a delivery of the reply began handing it to the case (None: nobody is); a
    repeat meanwhile is a duplicate, so parallel deliveries reach the case once."""
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())
    subject: Mapped[str] = mapped_column(EncryptedText(), default="")
    original: Mapped[bytes | None] = mapped_column(EncryptedBytes())
    """The message as delivered (None: it came through the API as fields)."""
    cuts: Mapped[list[str]] = mapped_column(JSON, default=list)


class AttachmentContent(Base):
    """The content of an attachment, stored once by its SHA-256 (size-limited)."""

    __tablename__ = "attachment_contents"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int]
    content: Mapped[bytes] = mapped_column(EncryptedBytes())


class ComplaintAttachmentRow(Base):
    """An attachment of a complaint's message: its name (shown, never a file name), media
    type and size, and its stored content (None: over the size limit, in the original)."""

    __tablename__ = "complaint_attachments"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    mail_id: Mapped[int] = mapped_column(ForeignKey("complaint_mail.id"), index=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    filename: Mapped[str] = mapped_column(EncryptedText())
    media_type: Mapped[str] = mapped_column(String(127))
    size: Mapped[int]
    sha256: Mapped[str | None] = mapped_column(ForeignKey("attachment_contents.sha256"))


class RootCause(Base):
    """A root cause complaints are closed with: a list staff can extend."""

    __tablename__ = "complaint_root_causes"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)


class ImprovementAction(Base):
    """Something to change so that a recurring root cause stops, tracked to done."""

    __tablename__ = "improvement_actions"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    root_cause: Mapped[str] = mapped_column(ForeignKey("complaint_root_causes.code"))
    title: Mapped[str] = mapped_column(String(200))
    owner: Mapped[str] = mapped_column(String(64))
    due_date: Mapped[date]
    status: Mapped[str] = mapped_column(String(8), default="open")
    """open or done."""
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    outcome: Mapped[str] = mapped_column(Text, default="")


class GoodwillCredit(Base):
    """Money credited to a customer's account to put a complaint right (numbered like
    every voucher); set against the customer's next invoices."""

    __tablename__ = "goodwill_credits"
    __table_args__ = (UniqueConstraint("series", "year", "sequence"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    series: Mapped[str] = mapped_column(String(8))
    year: Mapped[int]
    sequence: Mapped[int]
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(EncryptedText())
    """Staff's words about the customer: encrypted, erased with the customer."""
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ComplaintAnalysisRow(Base):
    """The complaint analysis of one week, as the weekly workflow produced it."""

    __tablename__ = "complaint_analyses"

    week_start: Mapped[date] = mapped_column(primary_key=True)
    produced_at: Mapped[datetime] = mapped_column(UtcDateTime())
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The :class:`domain.complaint_analysis.ComplaintAnalysis` as JSON."""
