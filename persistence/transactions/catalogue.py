"""The catalogue a company keeps: products put in, changed and read out (import, export)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from domain.catalogue import ProductRecord, Sourcing
from persistence.database import Database
from persistence.models import Product


@dataclass(frozen=True)
class Loaded:
    """What an import did."""

    created: int
    updated: int
    unchanged: int


def load_products(db: Database, records: Sequence[ProductRecord]) -> Loaded:
    """Put every record in, in one transaction: new SKUs are created, known ones updated
    to the record (a product is never deleted: ``active`` false retires it)."""
    created = updated = unchanged = 0
    with db.transaction() as session:
        known = {
            row.sku: row
            for row in session.scalars(
                select(Product).where(Product.sku.in_([r.sku for r in records]))
            )
        }
        for record in records:
            values = record.model_dump()
            values["sourcing"] = record.sourcing.value
            row = known.get(record.sku)
            if row is None:
                session.add(Product(**values))
                created += 1
            elif product_record(row) == record:
                unchanged += 1
            else:
                for name, value in values.items():
                    setattr(row, name, value)
                updated += 1
    return Loaded(created=created, updated=updated, unchanged=unchanged)


def product_records(db: Database) -> list[ProductRecord]:
    """Every product, by SKU, as an import takes it."""
    with db.reading() as session:
        return [
            product_record(row) for row in session.scalars(select(Product).order_by(Product.sku))
        ]


def product_record(row: Product) -> ProductRecord:
    """The record of a product row."""
    return ProductRecord(
        sku=row.sku,
        name=row.name,
        unit=row.unit,
        unit_price=row.unit_price,
        currency=row.currency,
        cost=row.cost,
        sourcing=Sourcing(row.sourcing),
        lead_time_days=row.lead_time_days,
        pack_multiple=row.pack_multiple,
        supplier=row.supplier,
        category=row.category,
        active=row.active,
    )
