"""``oms catalogue import|export``: a company's own catalogue from and to CSV files (the
files are described in :mod:`persistence.catalogue_files`)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from persistence.catalogue_files import Kind, export_text, import_report, import_text
from persistence.csv_files import CsvFileError, decode_csv
from persistence.transactions.catalogue import Imported
from runtime.settings import Settings
from runtime.workers import open_database

from ._console import console, errors, fail

catalogue_app = typer.Typer(
    help="The catalogue: products, warehouses and stock levels from and to CSV.",
    no_args_is_help=True,
)

KindArgument = Annotated[Kind, typer.Argument(help="products, warehouses or levels.")]


@catalogue_app.command("import")
def import_file(
    kind: KindArgument,
    path: Annotated[Path, typer.Argument(help="CSV file (UTF-8), or - for standard input.")],
) -> None:
    """Create or update from a CSV file; nothing is written if any row is bad, and a
    known record keeps the fields the file has no column for."""
    text = read_csv_argument(path)
    report_import(path, lambda: asyncio.run(_load(Settings(), kind, text)))


@catalogue_app.command("export")
def export_file(
    kind: KindArgument,
    path: Annotated[
        Path | None, typer.Argument(help="Where to write the CSV (default: standard output).")
    ] = None,
) -> None:
    """Write the catalogue's rows of one kind as CSV, as ``oms catalogue import`` reads it."""
    write_output(asyncio.run(_dump(Settings(), kind)), path)


def read_csv_argument(path: Path) -> str:
    """The text of the CSV file a command names (``-``: standard input); a file that
    cannot be read, or is not UTF-8, ends the command saying why (and where)."""
    try:
        content = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
    except OSError as error:
        raise fail(f"{path}: cannot read: {error}") from error
    try:
        return decode_csv(content)
    except CsvFileError as refused:
        _refused(path, refused)


def report_import(path: Path, load: Callable[[], Imported]) -> None:
    """Run an import and say what it did (each updated record with the fields that
    changed), or name every bad row and end the command."""
    try:
        imported = load()
    except CsvFileError as refused:
        _refused(path, refused)
    counts, *changes = import_report(imported)
    console.print(f"{path}: {counts}", markup=False, highlight=False, soft_wrap=True)
    for change in changes:
        console.print(f"  {change}", markup=False, highlight=False, soft_wrap=True)


def _refused(path: Path, refused: CsvFileError) -> NoReturn:
    for problem in refused.problems:
        errors.print(f"{path}: {problem}", markup=False, highlight=False, soft_wrap=True)
    raise fail(f"{path}: nothing imported ({len(refused.problems)} problem(s))") from None


def write_output(text: str, path: Path | None) -> None:
    """Write an export to ``path``, or to standard output without one."""
    if path is None:
        sys.stdout.write(text)
    else:
        path.write_text(text, encoding="utf-8")


async def _load(settings: Settings, kind: Kind, text: str) -> Imported:
    async with open_database(settings) as db:
        return await db.run(import_text, db, kind, text)


async def _dump(settings: Settings, kind: Kind) -> str:
    async with open_database(settings) as db:
        return await db.run(export_text, db, kind)
