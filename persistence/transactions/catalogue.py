"""The catalogue a company keeps: products, warehouses and stock policies put in, changed
and read out (``oms catalogue import|export``). Nothing is ever deleted here: a product
is retired with ``active`` false, and stock moves only through the ledger."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from domain.catalogue import ProductRecord, StockPolicyRecord, WarehouseRecord
from persistence.database import Database
from persistence.models import Base, Product, StockPolicy, Warehouse

RecordT = TypeVar("RecordT", bound=BaseModel)

RecordKey = tuple[str, ...]
"""What names a record: a product's SKU, a warehouse's id, a level's SKU and warehouse."""

KEYS_PER_QUERY = 500
"""How many keys one look-up names (well under every database's limit of parameters)."""


@dataclass(frozen=True)
class Loaded:
    """What an import did."""

    created: int
    updated: int
    unchanged: int


@dataclass(frozen=True)
class RecordChanged:
    """A record an import updated, and the fields it changed."""

    key: str
    """The record's key as people read it (``P-1``, ``BOX-S · WH-BER``)."""
    fields: tuple[str, ...]


@dataclass(frozen=True)
class Imported(Loaded):
    """What an import did, with each record it updated."""

    changes: tuple[RecordChanged, ...] = ()


class CatalogueRecordsError(ValueError):
    """Records the catalogue cannot take as they are (levels out of order, or naming
    products or warehouses it does not have); nothing was written. ``problems`` pairs
    each bad record's position with the reason."""

    def __init__(self, problems: Sequence[tuple[int, str]]) -> None:
        super().__init__("; ".join(f"record {index + 1}: {why}" for index, why in problems))
        self.problems = list(problems)


def load_products(db: Database, records: Sequence[ProductRecord]) -> Loaded:
    """Create new SKUs and update known ones to their records, in one transaction."""
    with db.transaction() as session:
        return load_products_in(session, records)


def load_products_in(session: Session, records: Sequence[ProductRecord]) -> Imported:
    """Create new SKUs and update known ones to their records, within a transaction."""
    _refuse_repeats(records, lambda r: r.sku)
    return _upsert(session, Product, records, lambda r: r.sku, product_record, _product_values)


def load_warehouses(db: Database, records: Sequence[WarehouseRecord]) -> Loaded:
    """Create new warehouses and update known ones, in one transaction."""
    with db.transaction() as session:
        return load_warehouses_in(session, records)


def load_warehouses_in(session: Session, records: Sequence[WarehouseRecord]) -> Imported:
    """Create new warehouses and update known ones, within a transaction."""
    _refuse_repeats(records, lambda r: r.id)
    return _upsert(
        session, Warehouse, records, lambda r: r.id, warehouse_record, BaseModel.model_dump
    )


def load_stock_policies(db: Database, records: Sequence[StockPolicyRecord]) -> Loaded:
    """Set each product's policy in each warehouse, in one transaction; refuses them all
    (:class:`CatalogueRecordsError`) when a record's levels are out of order or it names an
    unknown product or warehouse."""
    with db.transaction() as session:
        return load_stock_policies_in(session, records)


def load_stock_policies_in(session: Session, records: Sequence[StockPolicyRecord]) -> Imported:
    """Set each product's policy in each warehouse within a transaction (see
    :func:`load_stock_policies`)."""
    _refuse_repeats(records, lambda r: (r.sku, r.warehouse_id))
    skus = set(session.scalars(select(Product.sku)))
    warehouses = set(session.scalars(select(Warehouse.id)))
    problems = [
        (index, reason)
        for index, record in enumerate(records)
        for reason in (
            record.problem(),
            f"sku {record.sku!r}: no such product" if record.sku not in skus else None,
            f"warehouse_id {record.warehouse_id!r}: no such warehouse"
            if record.warehouse_id not in warehouses
            else None,
        )
        if reason
    ]
    if problems:
        raise CatalogueRecordsError(problems)
    return _upsert(
        session,
        StockPolicy,
        records,
        lambda r: (r.sku, r.warehouse_id),
        stock_policy_record,
        BaseModel.model_dump,
    )


def product_records(db: Database) -> list[ProductRecord]:
    """Every product, by SKU, as an import takes it."""
    with db.reading() as session:
        rows = session.scalars(select(Product).order_by(Product.sku))
        return [product_record(row) for row in rows]


def find_product(db: Database, sku: str) -> ProductRecord | None:
    """The catalogue's product ``sku`` (stocked or not), or None when there is none."""
    with db.reading() as session:
        row = session.get(Product, sku)
        return None if row is None else product_record(row)


def warehouse_records(db: Database) -> list[WarehouseRecord]:
    """Every warehouse, by id, as an import takes it."""
    with db.reading() as session:
        return [
            warehouse_record(row)
            for row in session.scalars(select(Warehouse).order_by(Warehouse.id))
        ]


def stock_policy_records(db: Database) -> list[StockPolicyRecord]:
    """Every stock policy, by SKU and warehouse, as an import takes it."""
    with db.reading() as session:
        rows = session.scalars(
            select(StockPolicy).order_by(StockPolicy.sku, StockPolicy.warehouse_id)
        )
        return [stock_policy_record(row) for row in rows]


def stored_record(db: Database, kind: type[RecordT], key: tuple[str, ...]) -> RecordT | None:
    """The product (key: SKU), warehouse (id) or stock level (SKU, warehouse) as an import
    takes it, or None when the catalogue has none."""
    model, record_of = STORED[kind]
    with db.reading() as session:
        row = session.get(model, key if len(key) > 1 else key[0])
        return None if row is None else record_of(row)


def records_by_key(
    session: Session,
    kind: type[RecordT],
    key_fields: tuple[str, ...],
    keys: Collection[RecordKey],
) -> dict[RecordKey, RecordT]:
    """The stored records of ``kind`` (a product, warehouse or level record) whose
    ``key_fields`` are one of ``keys``, locked until the transaction ends so that an
    import's merge is not overtaken by another change."""
    model, record_of = STORED[kind]
    first = getattr(model, key_fields[0])
    wanted = sorted({key[0] for key in keys})
    found: dict[RecordKey, RecordT] = {}
    for start in range(0, len(wanted), KEYS_PER_QUERY):
        chunk = wanted[start : start + KEYS_PER_QUERY]
        for row in session.scalars(select(model).where(first.in_(chunk)).with_for_update()):
            key = tuple(str(getattr(row, name)) for name in key_fields)
            if key in keys:
                found[key] = record_of(row)
    return found


def product_record(row: Product) -> ProductRecord:
    """The record of a product row."""
    return ProductRecord.model_validate(row, from_attributes=True)


def warehouse_record(row: Warehouse) -> WarehouseRecord:
    """The record of a warehouse row."""
    return WarehouseRecord.model_validate(row, from_attributes=True)


def stock_policy_record(row: StockPolicy) -> StockPolicyRecord:
    """The record of a stock policy row."""
    return StockPolicyRecord.model_validate(row, from_attributes=True)


STORED: dict[type[Any], tuple[type[Base], Callable[[Any], Any]]] = {
    ProductRecord: (Product, product_record),
    WarehouseRecord: (Warehouse, warehouse_record),
    StockPolicyRecord: (StockPolicy, stock_policy_record),
}
"""Where each kind of record is kept, and how a row becomes one."""


def _refuse_repeats(records: Sequence[RecordT], key_of: Callable[[RecordT], Any]) -> None:
    """Refuse records that name the same product, warehouse or level twice."""
    first: dict[Any, int] = {}
    problems = []
    for index, record in enumerate(records):
        key = key_of(record)
        if key in first:
            problems.append((index, f"the same {key} as record {first[key] + 1}"))
        first.setdefault(key, index)
    if problems:
        raise CatalogueRecordsError(problems)


def _product_values(record: BaseModel) -> dict[str, Any]:
    values = record.model_dump()
    values["sourcing"] = values["sourcing"].value
    return values


def _upsert(
    session: Session,
    model: type[Base],
    records: Sequence[RecordT],
    key_of: Callable[[RecordT], Any],
    record_of: Callable[[Any], RecordT],
    values_of: Callable[[RecordT], dict[str, Any]],
) -> Imported:
    """Create the rows ``records`` describe that do not exist, update those that differ
    (naming the fields that changed)."""
    created = unchanged = 0
    changes = []
    for record in records:
        key = key_of(record)
        row = session.get(model, key)
        if row is None:
            session.add(model(**values_of(record)))
            created += 1
            continue
        before = record_of(row)
        fields = tuple(
            name
            for name in type(record).model_fields
            if getattr(before, name) != getattr(record, name)
        )
        if not fields:
            unchanged += 1
            continue
        for name, value in values_of(record).items():
            setattr(row, name, value)
        text = " · ".join(key) if isinstance(key, tuple) else str(key)
        changes.append(RecordChanged(text, fields))
    return Imported(
        created=created, updated=len(changes), unchanged=unchanged, changes=tuple(changes)
    )
