"""The catalogue's CSV files: ``products``, ``warehouses`` and ``levels`` (how much of each
product each warehouse keeps), read and written for ``oms catalogue import|export``, the
console's upload and the demo catalogue.

A file is read whole before anything is written: every bad row is reported with its
line and column, and when any row is bad nothing is written. The columns are the fields
of the kind's record in :mod:`domain.catalogue`; each kind names the columns it cannot
do without.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ValidationError

from domain.catalogue import ProductRecord, StockPolicyRecord, WarehouseRecord
from persistence.database import Database
from persistence.transactions import catalogue
from persistence.transactions.catalogue import CatalogueRecordsError, Loaded


class Kind(StrEnum):
    """What a catalogue file holds."""

    PRODUCTS = "products"
    WAREHOUSES = "warehouses"
    LEVELS = "levels"


@dataclass(frozen=True)
class RecordFile:
    """How a CSV file of records is read and written."""

    record: type[BaseModel]
    required: tuple[str, ...]
    """The columns a file cannot do without."""
    key: Callable[[Any], object]
    """What names a record (no two rows may share it)."""


@dataclass(frozen=True)
class FileKind(RecordFile):
    """How one kind of catalogue file is read, written and loaded."""

    load: Callable[[Database, Any], Loaded]
    dump: Callable[[Database], Sequence[BaseModel]]


KINDS = {
    Kind.PRODUCTS: FileKind(
        ProductRecord,
        ("sku", "name", "unit_price"),
        lambda r: r.sku,
        catalogue.load_products,
        catalogue.product_records,
    ),
    Kind.WAREHOUSES: FileKind(
        WarehouseRecord,
        ("id", "name", "country"),
        lambda r: r.id,
        catalogue.load_warehouses,
        catalogue.warehouse_records,
    ),
    Kind.LEVELS: FileKind(
        StockPolicyRecord,
        ("sku", "warehouse_id"),
        lambda r: (r.sku, r.warehouse_id),
        catalogue.load_stock_policies,
        catalogue.stock_policy_records,
    ),
}


class CatalogueFileError(ValueError):
    """A file that cannot be imported; ``problems`` name each line and column."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = list(problems)


@dataclass(frozen=True)
class Rows:
    """The records of a file and the line each came from."""

    records: list[Any]
    lines: list[int]


def read_rows(text: str, kind: RecordFile) -> Rows:
    """The records of a CSV file, or :class:`CatalogueFileError` naming every problem."""
    fields = list(kind.record.model_fields)
    reader = csv.DictReader(io.StringIO(text))
    columns = reader.fieldnames or []
    problems = [
        f"line 1, column {name!r}: unknown column" for name in columns if name not in fields
    ]
    problems += [
        f"line 1: required column {name!r} is missing"
        for name in kind.required
        if name not in columns
    ]
    if problems:
        raise CatalogueFileError(problems)
    rows = Rows(records=[], lines=[])
    seen: dict[object, int] = {}
    for row in reader:
        line = reader.line_num
        values = {name: value for name, value in row.items() if value not in (None, "")}
        try:
            record = kind.record.model_validate_strings(values)
        except ValidationError as invalid:
            problems += [
                f"line {line}, column {'.'.join(map(str, e['loc'])) or 'row'!r}: {e['msg']}"
                for e in invalid.errors()
            ]
            continue
        key = kind.key(record)
        if key in seen:
            problems.append(f"line {line}: the same as line {seen[key]} ({key})")
        seen[key] = line
        rows.records.append(record)
        rows.lines.append(line)
    if problems:
        raise CatalogueFileError(problems)
    if not rows.records:
        raise CatalogueFileError(["the file holds no rows"])
    return rows


def read_products(text: str) -> list[ProductRecord]:
    """The records of a products CSV (see :func:`read_rows`)."""
    return read_rows(text, KINDS[Kind.PRODUCTS]).records


def write_rows(records: Sequence[BaseModel], kind: RecordFile) -> str:
    """The CSV of ``records`` (the columns an import takes, in the same order)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(kind.record.model_fields), lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow(_cells(record.model_dump(mode="json")))
    return out.getvalue()


def write_products(records: Sequence[BaseModel]) -> str:
    """The CSV of product records."""
    return write_rows(records, KINDS[Kind.PRODUCTS])


def _cells(values: dict[str, Any]) -> dict[str, str]:
    def cell(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        return "" if value is None else str(value)

    return {name: cell(value) for name, value in values.items()}


def import_text(db: Database, kind: Kind, text: str) -> Loaded:
    """Read a CSV file of ``kind`` and load it in one transaction; when any row is bad
    (its shape, or what it names), :class:`CatalogueFileError` names each by line and
    nothing is written."""
    rows = read_rows(text, KINDS[kind])
    try:
        return KINDS[kind].load(db, rows.records)
    except CatalogueRecordsError as refused:
        raise by_line(rows, refused) from refused


def by_line(rows: Rows, refused: CatalogueRecordsError) -> CatalogueFileError:
    """The records a load refused, named by the line of the file each came from."""
    return CatalogueFileError(
        [f"line {rows.lines[index]}: {reason}" for index, reason in refused.problems]
    )


def export_text(db: Database, kind: Kind) -> str:
    """The catalogue's rows of ``kind`` as a CSV file an import takes back."""
    return write_rows(KINDS[kind].dump(db), KINDS[kind])
