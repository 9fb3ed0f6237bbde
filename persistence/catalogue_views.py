"""Read the catalogue for people: the choices of the manual order entry form and the stock
forms, and the console's catalogue a page at a time."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from pydantic import BaseModel
from sqlalchemy import func, or_, select

from domain.catalogue import ProductRecord, StockPolicyRecord, WarehouseRecord
from persistence.database import Database
from persistence.models import Customer, Product, StockPolicy, Warehouse
from persistence.transactions.catalogue import (
    product_record,
    stock_policy_record,
    warehouse_record,
)


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


CATALOGUE_PAGE_SIZE = 100
"""Products on one page of the console's catalogue (with their stock levels)."""


class CataloguePage(BaseModel):
    """One page of the catalogue: products by SKU, the stock levels of those products, and
    every warehouse (a company has a handful)."""

    products: list[ProductRecord]
    levels: list[StockPolicyRecord]
    warehouses: list[WarehouseRecord]
    page: int
    pages: int
    total: int
    """Products matching the search, on every page."""


def catalogue_page(db: Database, search: str, page: int) -> CataloguePage:
    """Page ``page`` (from 1; past the last: the last) of the products whose SKU or name
    holds ``search`` (any case), with their levels and every warehouse."""
    with db.reading() as session:
        matching = select(Product)
        if search:
            words = search.lower()
            matching = matching.where(
                or_(
                    func.lower(Product.sku).contains(words, autoescape=True),
                    func.lower(Product.name).contains(words, autoescape=True),
                )
            )
        total = session.scalar(select(func.count()).select_from(matching.subquery())) or 0
        pages = max(1, -(-total // CATALOGUE_PAGE_SIZE))
        page = min(max(page, 1), pages)
        products = [
            product_record(row)
            for row in session.scalars(
                matching.order_by(Product.sku)
                .offset((page - 1) * CATALOGUE_PAGE_SIZE)
                .limit(CATALOGUE_PAGE_SIZE)
            )
        ]
        levels = session.scalars(
            select(StockPolicy)
            .where(StockPolicy.sku.in_([p.sku for p in products]))
            .order_by(StockPolicy.sku, StockPolicy.warehouse_id)
        )
        warehouses = session.scalars(select(Warehouse).order_by(Warehouse.id))
        return CataloguePage(
            products=products,
            levels=[stock_policy_record(row) for row in levels],
            warehouses=[warehouse_record(row) for row in warehouses],
            page=page,
            pages=pages,
            total=total,
        )
