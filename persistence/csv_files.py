"""CSV files as people open them in spreadsheets: one writer and one reader for every file
the product writes or takes (the catalogue's and customers' imports and exports, the
complaint analysis).

Written cells that a spreadsheet would run as a formula (text beginning with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return: OWASP's CSV-injection rule) get a single quote
put before them, which spreadsheets show as text; reading takes exactly that quote off
again, so an export imports back to the same values. Numbers (``int``, ``Decimal``) are
written as they are and never quoted: ``-2.50`` stays a number a spreadsheet can sum, and
a number cannot be a formula. Text that merely looks like one (a phone number
``+49 30 1234``, a name ``-2+3``) is quoted, because a spreadsheet would compute it.

A file that cannot be read is refused with :class:`CsvFileError`, each problem naming
the line (and column, where there is one) and what would be accepted.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

FORMULA_START = re.compile(r"'*[=+\-@\t\r]")
"""Text a spreadsheet would take as a formula (or that, quoted once, would read back as
one): zero or more single quotes, then ``=``, ``+``, ``-``, ``@``, tab or CR."""

_NEUTRALISED = re.compile(r"'+[=+\-@\t\r]")

CELL_LIMIT = csv.field_size_limit()
"""The longest cell the reader takes (Python's csv module's limit, 131,072 characters);
no column of any file takes nearly as much."""

_SEPARATORS = {";": "semicolons (;)", "\t": "tabs"}


class CsvFileError(ValueError):
    """A file that cannot be imported; ``problems`` name each line and column."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = list(problems)


def neutralise(text: str) -> str:
    """``text`` as a spreadsheet shows it as text: a quote put before a formula."""
    return "'" + text if FORMULA_START.match(text) else text


def restore(cell: str) -> str:
    """The value a cell written by :func:`neutralise` holds: its added quote taken off."""
    return cell[1:] if _NEUTRALISED.match(cell) else cell


def cell_text(value: object) -> str:
    """A value as a CSV cell carries it before neutralising: ``true``/``false``, an
    enumeration's value, empty for None."""
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def spreadsheet_cell(value: object) -> str:
    """A value as written to a file: numbers as they are, text neutralised."""
    text = cell_text(value)
    if isinstance(value, int | Decimal | float) and not isinstance(value, bool | Enum):
        return text
    return neutralise(text)


def write_csv(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A CSV file of ``rows`` under a header naming ``columns``, every cell written by
    :func:`spreadsheet_cell`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([neutralise(column) for column in columns])
    writer.writerows([spreadsheet_cell(value) for value in row] for row in rows)
    return out.getvalue()


@dataclass(frozen=True)
class CsvRow:
    """One row of a file: the line it starts on and its cells by column."""

    line: int
    cells: dict[str, str]


@dataclass(frozen=True)
class CsvTable:
    """The columns a file's first line names and the rows below it."""

    columns: list[str]
    rows: list[CsvRow]


def decode_csv(content: bytes) -> str:
    """The text of a file's bytes (UTF-8, with or without the byte-order mark spreadsheets
    save); :class:`CsvFileError` naming the line and column of the first byte that is not
    UTF-8 otherwise."""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        before = content[: error.start].decode("utf-8-sig")
        where = _position(before)
        hint = ""
        try:
            content.decode("cp1252")
            hint = " (it looks like Windows-1252/Latin-1, a spreadsheet's older CSV format)"
        except UnicodeDecodeError:
            pass
        raise CsvFileError(
            [
                f"{where}: byte 0x{content[error.start]:02X} is not UTF-8{hint}; save the "
                "file as UTF-8 (spreadsheets call it “CSV UTF-8”)"
            ]
        ) from None


def read_csv(text: str, *, required: Sequence[str]) -> CsvTable:
    """The header and rows of a CSV file, each cell :func:`restore`-d; blank lines and
    unnamed empty columns (a spreadsheet's trailing commas) are skipped.
    :class:`CsvFileError` when the file is empty, separated by something other than
    commas, names a column twice, has a cell longer than :data:`CELL_LIMIT`, a quoted cell
    that is never closed (which would take every line after it into one cell), a row with
    more cells than the header names, or fewer than its named columns (a row cut short
    is not a row whose last cells are empty), or a cell under an unnamed column;
    ``required`` are the columns a message suggests."""
    if not text.strip():
        raise CsvFileError(
            [
                "the file is empty: its first line names the columns (at least "
                f"{','.join(required)}), and each line below it is one row"
            ]
        )
    # strict: the end of the file inside a quoted cell is an error, not the cell's end.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    columns: list[str] = []
    named = 0  # the header's columns up to its last named one
    rows: list[CsvRow] = []
    problems: list[str] = []
    start = 1
    try:
        for cells in reader:
            if not cells or cells == [""]:
                start = reader.line_num + 1
                continue
            if not columns:
                columns = [cell.strip() for cell in cells]
                _check_separator(columns, required)
                problems += _repeated_columns(columns)
                named = max((i + 1 for i, name in enumerate(columns) if name), default=0)
            elif len(cells) > len(columns):
                problems.append(
                    f"line {start}: {len(cells)} cells where the first line names "
                    f'{len(columns)} columns; quote (") a cell that holds a comma'
                )
            elif len(cells) < named:
                problems.append(
                    f"line {start}: {len(cells)} cells where the first line names "
                    f"{named} columns; give every column a cell (an empty one is two "
                    "commas side by side)"
                )
            elif any(cell.strip() for name, cell in zip(columns, cells, strict=False) if not name):
                problems.append(
                    f"line {start}: a cell under a column the first line does not name; "
                    "name the column or leave its cells empty"
                )
            else:
                given = zip(columns, cells, strict=False)  # only unnamed columns lack cells
                rows.append(CsvRow(start, {name: restore(cell) for name, cell in given if name}))
            start = reader.line_num + 1
    except csv.Error as error:
        problems.append(_unreadable(text, start, columns, error))
    if problems:
        raise CsvFileError(problems)
    if not rows:
        raise CsvFileError(
            [f"the file names its columns ({','.join(columns)}) but has no rows below them"]
        )
    return CsvTable(columns, rows)


def _repeated_columns(columns: list[str]) -> list[str]:
    """A problem for each column the first line names twice (which cell would count?)."""
    named = [name for name in columns if name]
    return [
        f"line 1, column {name!r}: named twice; keep one"
        for name in dict.fromkeys(named)
        if named.count(name) > 1
    ]


def _check_separator(columns: list[str], required: Sequence[str]) -> None:
    if len(columns) != 1:
        return
    for separator, name in _SEPARATORS.items():
        if separator in columns[0]:
            raise CsvFileError(
                [
                    f"line 1: the columns are separated by {name}, not commas; save the file "
                    "as comma-separated values (spreadsheets: “CSV UTF-8 (comma "
                    f"delimited)”), the first line like {','.join(required)}"
                ]
            )


def _unreadable(text: str, line: int, columns: list[str], error: csv.Error) -> str:
    """A problem naming where the csv module gave up on a row starting at ``line``."""
    if "field larger than field limit" in str(error):
        rest = "".join(io.StringIO(text, newline="").readlines()[line - 1 :])
        index = _long_cell(rest)
        column = f", column {columns[index]!r}" if columns and index < len(columns) else ""
        return (
            f"line {line}{column}: a cell longer than {CELL_LIMIT:,} characters, more than "
            'any column takes; if a quote (") opens the cell, close it where the cell ends'
        )
    if "unexpected end of data" in str(error):
        return (
            f'line {line}: a quoted cell is never closed (a " opens it; close it, or '
            'double a " inside it)'
        )
    if "expected after" in str(error):
        return (
            f'line {line}: a quoted cell goes on after the " that closes it; quote the '
            'whole cell and double a " inside it'
        )
    return f"line {line}: not readable as CSV ({error}); save the file as CSV UTF-8"


def _long_cell(text: str) -> int:
    """The index of the first cell of the row ``text`` begins with that is longer than
    :data:`CELL_LIMIT` (the same quoting rules as the csv module's default dialect)."""
    index = length = position = 0
    quoted = False
    while position < len(text) and length <= CELL_LIMIT:
        char = text[position]
        if quoted and char == '"' and text[position + 1 : position + 2] == '"':
            position += 1
            length += 1
        elif char == '"' and (quoted or length == 0):
            quoted = not quoted
        elif char == "," and not quoted:
            index, length = index + 1, 0
        else:
            length += 1
        position += 1
    return index


def _position(before: str) -> str:
    """``line N, column 'name'`` of the character that follows the text ``before``."""
    line = before.count("\n") + 1
    try:
        parsed = list(csv.reader(io.StringIO(before, newline="")))
    except csv.Error:
        return f"line {line}"
    if not parsed or line == 1:
        return f"line {line}"
    header = parsed[0]
    index = 0 if before.endswith(("\n", "\r")) else len(parsed[-1]) - 1
    return f"line {line}, column {header[index]!r}" if index < len(header) else f"line {line}"
