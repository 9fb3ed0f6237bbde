"""The catalogue's CSV files: ``products``, ``warehouses`` and ``levels`` (how much of each
product each warehouse keeps), read and written for ``oms catalogue import|export``, the
console's upload and the demo catalogue.

A file is read whole before anything is written: every bad row is reported with its
line and column, and when any row is bad nothing is written. The columns are the fields
of the kind's record in :mod:`domain.catalogue`. A file may hold only some of them: a
record the catalogue already has keeps the fields the file has no column for (an empty
cell sets the field's default), while a new record needs the columns its kind cannot do
without. Cells are written and read by :mod:`persistence.csv_files`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from domain.catalogue import ProductRecord, StockPolicyRecord, WarehouseRecord
from persistence.csv_files import CsvFileError, CsvTable, cell_text, read_csv, write_csv
from persistence.database import Database
from persistence.transactions import catalogue
from persistence.transactions.catalogue import CatalogueRecordsError, Imported, RecordKey


class Kind(StrEnum):
    """What a catalogue file holds."""

    PRODUCTS = "products"
    WAREHOUSES = "warehouses"
    LEVELS = "levels"


@dataclass(frozen=True)
class RecordFile:
    """How a CSV file of records is read and written."""

    record: type[BaseModel]
    keys: tuple[str, ...]
    """The columns that name a record (no two rows may share them; every row has them)."""
    required: tuple[str, ...]
    """The columns a new record cannot do without (the keys among them)."""
    noun: str
    """What one record is, as a message names it (``product``)."""


@dataclass(frozen=True)
class FileKind(RecordFile):
    """How one kind of catalogue file is read, written and loaded."""

    load_in: Callable[[Session, Sequence[Any]], Imported]
    dump: Callable[[Database], Sequence[BaseModel]]

    def stored_in(self, session: Session, keys: Collection[RecordKey]) -> dict[RecordKey, Any]:
        """The records the catalogue has under ``keys`` (locked until the import ends)."""
        return catalogue.records_by_key(session, self.record, self.keys, keys)


KINDS = {
    Kind.PRODUCTS: FileKind(
        ProductRecord,
        ("sku",),
        ("sku", "name", "unit_price"),
        "product",
        catalogue.load_products_in,
        catalogue.product_records,
    ),
    Kind.WAREHOUSES: FileKind(
        WarehouseRecord,
        ("id",),
        ("id", "name", "country"),
        "warehouse",
        catalogue.load_warehouses_in,
        catalogue.warehouse_records,
    ),
    Kind.LEVELS: FileKind(
        StockPolicyRecord,
        ("sku", "warehouse_id"),
        ("sku", "warehouse_id"),
        "stock level",
        catalogue.load_stock_policies_in,
        catalogue.stock_policy_records,
    ),
}


@dataclass(frozen=True)
class Rows:
    """The records of a file and the line each came from."""

    records: list[Any]
    lines: list[int]


def read_table(text: str, kind: RecordFile) -> CsvTable:
    """The header and rows of a file of ``kind``, or :class:`CsvFileError` naming a file
    that is not CSV, a column the kind does not have, or a missing key column."""
    table = read_csv(text, required=kind.required)
    fields = kind.record.model_fields
    problems = [
        f"line 1, column {name!r}: unknown column (the columns: {', '.join(fields)})"
        for name in table.columns
        if name and name not in fields
    ]
    problems += [
        f"line 1: required column {name!r} is missing (it names each {kind.noun})"
        for name in kind.keys
        if name not in table.columns
    ]
    if problems:
        raise CsvFileError(problems)
    return table


def row_keys(table: CsvTable, kind: RecordFile) -> set[RecordKey]:
    """The keys the rows of a file name."""
    return {_key_cells(row.cells, kind) for row in table.rows}


def records_of(table: CsvTable, kind: RecordFile, stored: Mapping[RecordKey, BaseModel]) -> Rows:
    """The records the rows of a file make: a stored record (``stored``, by key) with the
    file's cells put over it, or a new one from its cells alone; :class:`CsvFileError`
    naming every bad row."""
    problems: list[str] = []
    missing: dict[str, list[int]] = {}
    rows = Rows(records=[], lines=[])
    seen: dict[RecordKey, int] = {}
    for row in table.rows:
        key = _key_cells(row.cells, kind)
        if key in seen:
            problems.append(f"line {row.line}: the same as line {seen[key]} ({' · '.join(key)})")
            continue
        seen[key] = row.line
        before = stored.get(key)
        if before is None:
            absent = [name for name in kind.required if name not in row.cells]
            for name in absent:
                missing.setdefault(name, []).append(row.line)
            if absent:
                continue
            values = dict(row.cells)
        else:
            values = {name: cell_text(value) for name, value in before.model_dump().items()}
            values.update(row.cells)
        try:
            record = kind.record.model_validate_strings(
                {name: value for name, value in values.items() if value != ""}
            )
        except ValidationError as invalid:
            problems += [
                f"line {row.line}, column {_column(e['loc'], row.cells)}: {e['msg']}"
                for e in invalid.errors()
            ]
            continue
        rows.records.append(record)
        rows.lines.append(row.line)
    problems[:0] = [
        f"line 1: required column {name!r} is missing, and a new {kind.noun} needs it "
        f"({_lines(lines)})"
        for name, lines in missing.items()
    ]
    if problems:
        raise CsvFileError(problems)
    return rows


def read_rows(text: str, kind: RecordFile) -> Rows:
    """The records of a CSV file, every row a new record, or :class:`CsvFileError`
    naming every problem."""
    return records_of(read_table(text, kind), kind, {})


def read_products(text: str) -> list[ProductRecord]:
    """The records of a products CSV (see :func:`read_rows`)."""
    return read_rows(text, KINDS[Kind.PRODUCTS]).records


def write_rows(records: Sequence[BaseModel], kind: RecordFile) -> str:
    """The CSV of ``records`` (the columns an import takes, in the same order)."""
    fields = list(kind.record.model_fields)
    return write_csv(fields, ([getattr(record, name) for name in fields] for record in records))


def write_products(records: Sequence[BaseModel]) -> str:
    """The CSV of product records."""
    return write_rows(records, KINDS[Kind.PRODUCTS])


def import_into(
    db: Database,
    text: str,
    kind: RecordFile,
    stored_in: Callable[[Session, Collection[RecordKey]], Mapping[RecordKey, BaseModel]],
    load_in: Callable[[Session, Sequence[Any]], Imported],
) -> Imported:
    """Read a CSV file of ``kind`` and load it in one transaction: each row over the
    record ``stored_in`` finds for it (the columns the file lacks keep their values),
    saved by ``load_in``. When any row is bad (its shape, or what it names),
    :class:`CsvFileError` names each by line and nothing is written."""
    table = read_table(text, kind)
    with db.transaction() as session:
        rows = records_of(table, kind, stored_in(session, row_keys(table, kind)))
        try:
            return load_in(session, rows.records)
        except CatalogueRecordsError as refused:
            raise by_line(rows, refused) from refused


def import_text(db: Database, kind: Kind, text: str) -> Imported:
    """Read a CSV file of ``kind`` and load it (see :func:`import_into`)."""
    file = KINDS[kind]
    return import_into(db, text, file, file.stored_in, file.load_in)


def load_records(db: Database, kind: Kind, records: Sequence[BaseModel]) -> Imported:
    """Create or update whole records of ``kind`` (a form's), in one transaction."""
    with db.transaction() as session:
        return KINDS[kind].load_in(session, records)


def merge_into(
    db: Database,
    sent: Sequence[Mapping[str, Any]],
    kind: RecordFile,
    stored_in: Callable[[Session, Collection[RecordKey]], Mapping[RecordKey, BaseModel]],
    load_in: Callable[[Session, Sequence[Any]], Imported],
) -> Imported:
    """Load records of which only some fields were sent (an API batch: each item the
    fields it holds, already valid) in one transaction, as :func:`import_into` loads a
    file, with the same ``stored_in`` (locking what it finds) and ``load_in``: a stored
    record keeps every field not sent; a new one needs its kind's required fields and
    takes the defaults for the rest; ``load_in`` checks the records as they will be kept,
    saves them and names what changed. An explicit value (``None`` too, where the field
    takes it) is set as sent. A new record lacking a required field is refused with the
    others (:class:`CatalogueRecordsError`, each by its position) and nothing is written."""
    keys = [tuple(str(values[name]) for name in kind.keys) for values in sent]
    with db.transaction() as session:
        stored = stored_in(session, set(keys))
        records: list[BaseModel] = []
        missing: list[tuple[int, str]] = []
        for index, (key, values) in enumerate(zip(keys, sent, strict=True)):
            before = stored.get(key)
            if before is not None:
                records.append(before.model_copy(update=values))
            elif absent := tuple(name for name in kind.required if name not in values):
                missing.append((index, f"a new {kind.noun} needs {', '.join(absent)}"))
            else:
                records.append(kind.record.model_validate(dict(values)))
        if missing:
            raise CatalogueRecordsError(missing)
        return load_in(session, records)


def merge_records(db: Database, kind: Kind, sent: Sequence[Mapping[str, Any]]) -> Imported:
    """Load catalogue records of which only some fields were sent (see :func:`merge_into`)."""
    file = KINDS[kind]
    return merge_into(db, sent, file, file.stored_in, file.load_in)


def by_line(rows: Rows, refused: CatalogueRecordsError) -> CsvFileError:
    """The records a load refused, named by the line of the file each came from."""
    return CsvFileError(
        [f"line {rows.lines[index]}: {reason}" for index, reason in refused.problems]
    )


def import_report(imported: Imported) -> list[str]:
    """What an import did: the counts, then each changed record with the fields that
    changed (``P-1: name, unit_price``)."""
    counts = (
        f"{imported.created} created, {imported.updated} updated, {imported.unchanged} unchanged"
    )
    return [counts, *(f"{c.key}: {', '.join(c.fields)}" for c in imported.changes)]


def export_text(db: Database, kind: Kind) -> str:
    """The catalogue's rows of ``kind`` as a CSV file an import takes back."""
    return write_rows(KINDS[kind].dump(db), KINDS[kind])


def _key_cells(cells: Mapping[str, str], kind: RecordFile) -> RecordKey:
    return tuple(cells.get(name, "").strip() for name in kind.keys)


def _column(location: tuple[int | str, ...], cells: Mapping[str, str]) -> str:
    name = ".".join(map(str, location)) or "row"
    if name in cells or name == "row":
        return repr(name)
    return f"{name!r} (not in the file: the value stored)"


def _lines(lines: list[int]) -> str:
    shown = ", ".join(map(str, lines[:5]))
    more = f" and {len(lines) - 5} more" if len(lines) > 5 else ""
    return f"line{'s' if len(lines) > 1 else ''} {shown}{more}"
