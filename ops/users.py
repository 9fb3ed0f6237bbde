"""``oms users``: staff accounts from the command line (the first admin is made here)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import Annotated, TypeVar

import typer
from rich.table import Table

from domain.access import Locale, Role, StaffAccount
from persistence.database import Database
from persistence.transactions import accounts
from persistence.transactions.accounts import AccountError
from runtime.settings import Settings
from runtime.workers import open_database

from ._console import ActorOption, JsonOption, console, fail

users_app = typer.Typer(help="Staff accounts for the console.", no_args_is_help=True)

ResultT = TypeVar("ResultT")

UsernameArgument = Annotated[str, typer.Argument(help="The user name, e.g. maria.chen.")]
PasswordStdinOption = Annotated[
    bool,
    typer.Option(
        "--password-stdin",
        help="Read the password from standard input (for scripts) instead of asking for it.",
    ),
]


def _password(from_stdin: bool) -> str:
    """The new password: one line of standard input, or asked for twice without echo."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


def on_database(step: Callable[[Database], ResultT]) -> ResultT:
    """Run ``step`` on the configured database; an account error is one line, exit 1."""

    async def run() -> ResultT:
        async with open_database(Settings()) as db:
            return await db.run(step, db)

    try:
        return asyncio.run(run())
    except AccountError as refused:
        raise fail(str(refused)) from None


@users_app.command("create")
def create(
    username: UsernameArgument,
    role: Annotated[Role, typer.Option("--role", help="What the user does.")],
    actor: ActorOption,
    locale: Annotated[
        Locale, typer.Option("--locale", help="Language of the console for this user.")
    ] = Locale.ENGLISH,
    password_stdin: PasswordStdinOption = False,
) -> None:
    """Create a user with a password (asked for, or read with --password-stdin)."""
    password = _password(password_stdin)
    account = on_database(
        lambda db: accounts.create_user(db, username, password, role, locale, actor=actor)
    )
    console.print(f"Created {account.username} ({account.role}).")


@users_app.command("list")
def list_(as_json: JsonOption = False) -> None:
    """Every user: role, language, whether active or locked."""
    users: list[StaffAccount] = on_database(accounts.list_users)
    if as_json:
        console.print_json("[" + ",".join(user.model_dump_json() for user in users) + "]")
        return
    table = Table("user", "role", "language", "active", "failed logins", "locked until")
    for user in users:
        locked = f"{user.locked_until:%Y-%m-%d %H:%M} UTC" if user.locked_until else ""
        table.add_row(
            user.username,
            user.role,
            user.locale,
            "yes" if user.active else "no",
            str(user.failed_logins),
            locked,
        )
    console.print(table)


@users_app.command("reset-password")
def reset_password(
    username: UsernameArgument, actor: ActorOption, password_stdin: PasswordStdinOption = False
) -> None:
    """Set a new password; the user's sessions end and any lock is lifted."""
    password = _password(password_stdin)
    on_database(lambda db: accounts.set_password(db, username, password, actor=actor))
    console.print(f"New password set for {username}; their sessions have ended.")


@users_app.command("disable")
def disable(username: UsernameArgument, actor: ActorOption) -> None:
    """Disable a user: they cannot log in, and their sessions end at once."""
    on_database(lambda db: accounts.set_active(db, username, False, actor=actor))
    console.print(f"Disabled {username}.")


@users_app.command("enable")
def enable(username: UsernameArgument, actor: ActorOption) -> None:
    """Enable a disabled user again."""
    on_database(lambda db: accounts.set_active(db, username, True, actor=actor))
    console.print(f"Enabled {username}.")


@users_app.command("unlock")
def unlock(username: UsernameArgument, actor: ActorOption) -> None:
    """Lift the lock that repeated failed logins put on an account."""
    on_database(lambda db: accounts.unlock(db, username, actor=actor))
    console.print(f"Unlocked {username}.")
