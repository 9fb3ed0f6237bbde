"""The demo company the embedded default is seeded with: customers, catalogue, stock."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from importlib import resources
from typing import Any

from sqlalchemy import select

from domain.inventory import StockChange
from persistence.catalogue_files import Kind, import_text, read_rows
from persistence.customer_files import CUSTOMERS_FILE
from persistence.database import Database
from persistence.models import Customer, Product
from persistence.transactions.customers import save_customers
from persistence.transactions.stock import book_stock_change

DEMO_FILES = resources.files("persistence") / "demo"
"""The demo company's customers and catalogue files (as ``oms customers import`` and
``oms catalogue import`` read them) and its opening stock (goods receipts, as the stock
API takes them)."""


def seed_demo_catalogue(db: Database) -> bool:
    """Load the demo catalogue into an empty database; returns False if it had customers.

    The catalogue comes in as any company's does, through the CSV import, and the
    opening stock as goods receipts; customers come last, so a seed cut short is
    finished by the next one. A database seeded by an older version gets the demo
    customers added since.
    """
    customers = read_rows(_demo_file("customers"), CUSTOMERS_FILE).records
    with db.reading() as session:
        known = set(session.scalars(select(Customer.id)))
    if known:
        save_customers(db, [c for c in customers if c.id not in known], "demo")
        return False
    for kind in (Kind.PRODUCTS, Kind.WAREHOUSES, Kind.LEVELS):
        import_text(db, kind, _demo_file(kind.value))
    opening = csv.DictReader(io.StringIO(_demo_file("stock")))
    for row in opening:
        receipt = {**row, "quantity": int(row["quantity"]), "actor": "demo"}
        book_stock_change(db, StockChange.model_validate(receipt))
    save_customers(db, customers, "demo")
    return True


def _demo_file(name: str) -> str:
    return (DEMO_FILES / f"{name}.csv").read_text(encoding="utf-8")


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
