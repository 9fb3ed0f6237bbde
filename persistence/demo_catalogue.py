"""The demo company the embedded default is seeded with: customers, catalogue, stock."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from decimal import Decimal
from importlib import resources
from typing import Any

from sqlalchemy import func, select

from domain.catalogue import PaymentTerms, Standing
from domain.inventory import StockChange
from persistence.catalogue_files import Kind, import_text
from persistence.database import Database
from persistence.models import Customer, Product
from persistence.transactions.stock import book_stock_change

CUSTOMERS: list[dict[str, Any]] = [
    {
        "id": "CUST-ACME",
        "name": "Acme Retail GmbH",
        "email": "orders@acme.example",
        "standing": Standing.GOOD,
        "payment_terms": PaymentTerms.NET,
        "net_days": 30,
        "credit_limit": Decimal("50000.00"),
        "currency": "EUR",
    },
    {
        "id": "CUST-JANE",
        "name": "Jane Doe",
        "email": "jane@example.org",
        "standing": Standing.GOOD,
        "payment_terms": PaymentTerms.PREPAID,
        "net_days": 0,
        "credit_limit": Decimal("0.00"),
        "currency": "EUR",
    },
    {
        "id": "CUST-BOLT",
        "name": "Bolt Hardware Ltd",
        "email": "buying@bolt.example",
        "standing": Standing.GOOD,
        "payment_terms": PaymentTerms.NET,
        "net_days": 14,
        "credit_limit": Decimal("20000.00"),
        "currency": "EUR",
    },
    {
        "id": "CUST-WATCH",
        "name": "Watchful Trading KG",
        "email": "einkauf@watchful.example",
        "standing": Standing.WATCH,
        "payment_terms": PaymentTerms.NET,
        "net_days": 30,
        "credit_limit": Decimal("10000.00"),
        "currency": "EUR",
    },
    {
        "id": "CUST-OLD",
        "name": "Former Customer AG",
        "email": "old@example.com",
        "active": False,
        "standing": Standing.GOOD,
        "payment_terms": PaymentTerms.NET,
        "net_days": 30,
        "credit_limit": Decimal("1000.00"),
        "currency": "EUR",
    },
]

DEMO_FILES = resources.files("persistence") / "demo"
"""The demo company's catalogue files (as ``oms catalogue import`` reads them) and its
opening stock (goods receipts, as the stock API takes them)."""


def seed_demo_catalogue(db: Database) -> bool:
    """Load the demo catalogue into an empty database; returns False if it had customers.

    The catalogue comes in as any company's does, through the CSV import, and the
    opening stock as goods receipts; customers come last, so a seed cut short is
    finished by the next one. A database seeded by an older version gets the demo
    customers added since.
    """
    with db.transaction() as session:
        if session.scalar(select(func.count()).select_from(Customer)):
            known = set(session.scalars(select(Customer.id)))
            session.add_all(Customer(**row) for row in CUSTOMERS if row["id"] not in known)
            return False
    for kind in (Kind.PRODUCTS, Kind.WAREHOUSES, Kind.LEVELS):
        import_text(db, kind, (DEMO_FILES / f"{kind.value}.csv").read_text(encoding="utf-8"))
    opening = csv.DictReader(io.StringIO((DEMO_FILES / "stock.csv").read_text(encoding="utf-8")))
    for row in opening:
        receipt = {**row, "quantity": int(row["quantity"]), "actor": "demo"}
        book_stock_change(db, StockChange.model_validate(receipt))
    with db.transaction() as session:
        session.add_all(Customer(**row) for row in CUSTOMERS)
    return True


def add_catalogue(
    db: Database,
    *,
    customers: Sequence[dict[str, Any]] = (),
    products: Sequence[dict[str, Any]] = (),
) -> int:
    """Add the customers and products the database does not have yet (by id and SKU);
    how many rows were added. Existing rows are left as they are."""
    with db.transaction() as session:
        known_customers = set(session.scalars(select(Customer.id)))
        known_products = set(session.scalars(select(Product.sku)))
        new: list[Customer | Product] = [
            Customer(**row) for row in customers if row["id"] not in known_customers
        ]
        new += [Product(**row) for row in products if row["sku"] not in known_products]
        session.add_all(new)
    return len(new)
