"""The demo catalogue the embedded default is seeded with: customers, products, stock."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from domain.catalogue import PaymentTerms, Sourcing, Standing
from domain.inventory import MovementKind
from persistence.database import Database
from persistence.models import Customer, Product, Warehouse
from persistence.transactions.stock import change_stock, ensure_stock_level

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

PRODUCTS: list[dict[str, Any]] = [
    {
        "sku": "WIDGET-1",
        "name": "Widget, steel",
        "unit_price": Decimal("19.90"),
        "currency": "EUR",
        "cost": Decimal("10.90"),
        "sourcing": Sourcing.STOCK,
        "lead_time_days": 0,
    },
    {
        "sku": "GADGET-2",
        "name": "Gadget, deluxe",
        "unit_price": Decimal("249.00"),
        "currency": "EUR",
        "cost": Decimal("137.00"),
        "sourcing": Sourcing.BUY,
        "lead_time_days": 10,
    },
    {
        "sku": "BOLT-M8",
        "name": "Bolt M8 (box of 100)",
        "unit_price": Decimal("7.45"),
        "currency": "EUR",
        "cost": Decimal("4.10"),
        "sourcing": Sourcing.MAKE,
        "lead_time_days": 5,
    },
    {
        "sku": "PANEL-X",
        "name": "Control panel X",
        "unit_price": Decimal("1290.00"),
        "currency": "EUR",
        "cost": Decimal("710.00"),
        "sourcing": Sourcing.MAKE,
        "lead_time_days": 21,
    },
    {
        "sku": "LEGACY-0",
        "name": "Discontinued item",
        "unit_price": Decimal("5.00"),
        "currency": "EUR",
        "cost": Decimal("2.75"),
        "active": False,
        "sourcing": Sourcing.STOCK,
        "lead_time_days": 0,
    },
]

WAREHOUSES: list[dict[str, Any]] = [
    {"id": "WH-BER", "name": "Berlin central", "country": "DE", "priority": 10},
    {"id": "WH-HAM", "name": "Hamburg port", "country": "DE", "priority": 20},
]

STOCK = {
    ("WIDGET-1", "WH-BER"): 500,
    ("WIDGET-1", "WH-HAM"): 300,
    ("GADGET-2", "WH-BER"): 40,
    ("BOLT-M8", "WH-HAM"): 1000,
    ("PANEL-X", "WH-HAM"): 5,
}


def seed_demo_catalogue(db: Database) -> bool:
    """Load the demo catalogue into an empty database; returns False if it had customers.

    A database seeded by an older version gets the demo customers added since.
    """
    with db.transaction() as session:
        if session.scalar(select(func.count()).select_from(Customer)):
            known = set(session.scalars(select(Customer.id)))
            session.add_all(Customer(**row) for row in CUSTOMERS if row["id"] not in known)
            return False
        session.add_all(Customer(**row) for row in CUSTOMERS)
        session.add_all(Product(**row) for row in PRODUCTS)
        session.add_all(Warehouse(**row) for row in WAREHOUSES)
        session.flush()
        for (sku, warehouse_id), units in STOCK.items():
            ensure_stock_level(session, sku, warehouse_id)
            change_stock(
                session,
                sku=sku,
                warehouse_id=warehouse_id,
                kind=MovementKind.RECEIVE,
                on_hand_change=units,
            )
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
