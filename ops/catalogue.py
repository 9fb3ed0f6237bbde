"""``oms catalogue import|export``: a company's own products from and to CSV files.

A file is read whole before anything is written: every bad row is reported
with its line and column, and when any row is bad nothing is written. The
columns are the fields of :class:`domain.catalogue.ProductRecord`; ``sku``,
``name`` and ``unit_price`` are required, the rest have defaults.
"""

from __future__ import annotations

import asyncio
import csv
import io
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel, ValidationError

from domain.catalogue import ProductRecord
from persistence.migrate import upgrade
from persistence.transactions.catalogue import load_products, product_records
from runtime.settings import Settings
from runtime.workers import open_database

from ._console import console, errors, fail

catalogue_app = typer.Typer(help="The catalogue: products from and to CSV.", no_args_is_help=True)

FIELDS = list(ProductRecord.model_fields)


class CatalogueFileError(ValueError):
    """A file that cannot be imported; ``problems`` name each line and column."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = list(problems)


def read_products(text: str) -> list[ProductRecord]:
    """The records of a products CSV, or :class:`CatalogueFileError` naming every problem."""
    reader = csv.DictReader(io.StringIO(text))
    columns = reader.fieldnames or []
    problems = [
        f"line 1, column {name!r}: unknown column" for name in columns if name not in FIELDS
    ]
    problems += [
        f"line 1: required column {name!r} is missing"
        for name in ("sku", "name", "unit_price")
        if name not in columns
    ]
    if problems:
        raise CatalogueFileError(problems)
    records: list[ProductRecord] = []
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        values = {name: value for name, value in row.items() if value not in (None, "")}
        try:
            record = ProductRecord.model_validate_strings(values)
        except ValidationError as invalid:
            problems += [
                f"line {line}, column {'.'.join(map(str, error['loc'])) or '?'!r}: {error['msg']}"
                for error in invalid.errors()
            ]
            continue
        if record.sku in seen:
            problems.append(
                f"line {line}, column 'sku': {record.sku!r} is also on line {seen[record.sku]}"
            )
        seen[record.sku] = line
        records.append(record)
    if problems:
        raise CatalogueFileError(problems)
    if not records:
        raise CatalogueFileError(["the file holds no products"])
    return records


def write_products(records: Sequence[BaseModel]) -> str:
    """The CSV of ``records`` (the columns an import takes, in the same order)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow(_cells(record.model_dump(mode="json")))
    return out.getvalue()


def _cells(values: dict[str, Any]) -> dict[str, str]:
    return {
        name: ("true" if v is True else "false" if v is False else str(v))
        for name, v in values.items()
    }


@catalogue_app.command("import")
def import_products(
    path: Annotated[Path, typer.Argument(help="CSV file of products (UTF-8), or - for stdin.")],
) -> None:
    """Create or update products from a CSV file; nothing is written if any row is bad."""
    text = sys.stdin.read() if str(path) == "-" else _read(path)
    try:
        records = read_products(text)
    except CatalogueFileError as refused:
        for problem in refused.problems:
            errors.print(f"{path}: {problem}", highlight=False, soft_wrap=True)
        raise fail(f"{path}: nothing imported ({len(refused.problems)} problem(s))") from None
    loaded = asyncio.run(_load(Settings(), records))
    console.print(
        f"{path}: {loaded.created} created, {loaded.updated} updated, {loaded.unchanged} unchanged"
    )


@catalogue_app.command("export")
def export_products(
    path: Annotated[
        Path | None, typer.Argument(help="Where to write the CSV (default: standard output).")
    ] = None,
) -> None:
    """Write every product as CSV, as ``oms catalogue import`` reads it."""
    text = write_products(asyncio.run(_records(Settings())))
    if path is None:
        sys.stdout.write(text)
    else:
        path.write_text(text, encoding="utf-8")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise fail(f"{path}: cannot read: {error}") from error


async def _load(settings: Settings, records: list[ProductRecord]) -> Any:
    settings.prepare_data_dir()
    await asyncio.to_thread(upgrade, settings.resolved_database_url)
    async with open_database(settings) as db:
        return await db.run(load_products, db, records)


async def _records(settings: Settings) -> list[ProductRecord]:
    async with open_database(settings) as db:
        return await db.run(product_records, db)
