"""What every ``oms`` command shares: its consoles, common options and the one-line failure."""

from __future__ import annotations

import getpass
import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn

console = Console(width=None if sys.stdout.isatty() else 120)
errors = Console(stderr=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
OrderIdArgument = Annotated[str, typer.Argument(help="The order id, e.g. WEB-10001.")]
ReasonOption = Annotated[
    str, typer.Option("--reason", "-r", help="Why; recorded in the audit log.")
]
ActorOption = Annotated[
    str,
    typer.Option(
        "--as", help="Who is acting (default: $USER).", default_factory=lambda: getpass.getuser()
    ),
]

LARGEST_ID = 2**31 - 1
"""The largest number a record takes (the databases' INTEGER: 32 bits on PostgreSQL; SQLite's
driver cannot even pass a number beyond 64 bits)."""


def record_number(record: str, help: str) -> Any:
    """The argument of a ``record``'s number (every id argument of ``oms`` is one): a number
    beyond :data:`LARGEST_ID` or below 1 is no such record, said at once as a usage error
    (the database driver would fail on it with a traceback)."""

    def check(value: int | list[int] | None) -> int | list[int] | None:
        for number in value if isinstance(value, list) else [value]:
            if number is not None and not 1 <= number <= LARGEST_ID:
                raise typer.BadParameter(f"no such {record}: #{number}")
        return value

    return typer.Argument(help=help, callback=check)


def fail(message: str) -> typer.Exit:
    """Print ``message`` (text, not markup) to stderr on one line, however long, and
    return the exit to raise."""
    errors.print(f"[red]error:[/red] {escape(message)}", soft_wrap=True)
    return typer.Exit(code=1)


PROGRESS_COLUMNS = (
    TextColumn("{task.description}"),
    BarColumn(),
    MofNCompleteColumn(),
    TimeElapsedColumn(),
)
"""A progress bar's columns: what runs, the bar, done of all, time so far."""
