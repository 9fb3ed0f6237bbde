"""``oms api-keys``: keys for systems that call the HTTP API."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from domain.access import ApiKeyView, SystemRole
from persistence.transactions import api_keys

from ._console import ActorOption, JsonOption, console
from .users import on_database

api_keys_app = typer.Typer(
    help="API keys for systems (web shop, EDI gateway).", no_args_is_help=True
)

NameArgument = Annotated[str, typer.Argument(help="What the key is for, e.g. edi-gateway.")]


@api_keys_app.command("create")
def create(
    name: Annotated[str, typer.Option("--name", help="What the key is for, e.g. edi-gateway.")],
    role: Annotated[SystemRole, typer.Option("--role", help="What the system may do.")],
    actor: ActorOption,
) -> None:
    """Make a key and print it once: hand it to the system now, it is not kept."""
    made = on_database(lambda db: api_keys.create_api_key(db, name, role, actor=actor))
    console.print(f"API key {made.view.name} ({made.view.role}), shown this once:")
    console.print(made.key, highlight=False, soft_wrap=True)


@api_keys_app.command("list")
def list_(as_json: JsonOption = False) -> None:
    """Every key: role, who made it, when it was last used, whether revoked."""
    keys: list[ApiKeyView] = on_database(api_keys.list_api_keys)
    if as_json:
        console.print_json("[" + ",".join(key.model_dump_json() for key in keys) + "]")
        return
    table = Table("name", "role", "starts with", "made by", "last used", "revoked")
    for key in keys:
        table.add_row(
            key.name,
            key.role,
            key.prefix,
            key.created_by,
            f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "",
            f"{key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "",
        )
    console.print(table)


@api_keys_app.command("revoke")
def revoke(name: NameArgument) -> None:
    """Revoke a key: it opens nothing from now on."""
    on_database(lambda db: api_keys.revoke_api_key(db, name))
    console.print(f"Revoked {name}.")
