"""Read the catalogue for people: the choices of the manual order entry form."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from pydantic import BaseModel
from sqlalchemy import select

from persistence.database import Database
from persistence.models import Customer, Product, Warehouse


class CustomerChoice(BaseModel):
    """A customer an order can be entered for."""

    customer_id: str
    name: str | None
    """Personal data: only for roles that may see it."""


class ProductChoice(BaseModel):
    """A product on the price list."""

    sku: str
    name: str
    unit_price: Decimal
    currency: str


def entry_choices(
    db: Database, *, with_names: bool
) -> tuple[list[CustomerChoice], list[ProductChoice]]:
    """Active customers (with names when ``with_names``) and active products, by id."""
    with db.reading() as session:
        active = Customer.active.is_(True)
        rows: Iterable[tuple[str, str | None]] = (
            session.execute(
                select(Customer.id, Customer.name).where(active).order_by(Customer.id)
            ).all()
            if with_names  # names are personal data: not even decrypted otherwise
            else [(cid, None) for cid in session.scalars(select(Customer.id).where(active))]
        )
        customers = [CustomerChoice(customer_id=cid, name=name) for cid, name in rows]
        products = session.scalars(
            select(Product).where(Product.active.is_(True)).order_by(Product.sku)
        ).all()
        return (
            customers,
            [
                ProductChoice(sku=p.sku, name=p.name, unit_price=p.unit_price, currency=p.currency)
                for p in products
            ],
        )


def price_list(db: Database, skus: set[str]) -> dict[str, Decimal]:
    """The list price of each of ``skus`` that is on the price list."""
    with db.reading() as session:
        rows = session.execute(
            select(Product.sku, Product.unit_price).where(Product.sku.in_(skus))
        ).all()
    return {row.sku: row.unit_price for row in rows}


class WarehouseChoice(BaseModel):
    """A warehouse stock can be booked in."""

    id: str
    name: str


def stock_choices(db: Database) -> tuple[list[WarehouseChoice], list[ProductChoice]]:
    """Warehouses by priority and active products by SKU, for the stock forms."""
    with db.reading() as session:
        warehouses = session.scalars(select(Warehouse).order_by(Warehouse.priority, Warehouse.id))
        products = session.scalars(
            select(Product).where(Product.active.is_(True)).order_by(Product.sku)
        )
        return (
            [WarehouseChoice(id=w.id, name=w.name) for w in warehouses],
            [
                ProductChoice(sku=p.sku, name=p.name, unit_price=p.unit_price, currency=p.currency)
                for p in products
            ],
        )
