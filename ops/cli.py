"""``oms``: the command line for support staff and operators."""

from __future__ import annotations

import asyncio
import sys
from typing import Annotated

import typer
from rich.console import Console

from domain.orders import STATUS_QUERY, OrderStatus, OrderView, order_workflow_id
from persistence.demo_catalogue import seed_demo_catalogue
from persistence.migrate import new_revision, upgrade
from persistence.order_views import list_orders, load_order_view
from runtime.settings import Settings
from runtime.temporal import connect
from runtime.workers import open_database

from .demo import DemoTimeoutError, run_demo
from .rendering import order_timeline, summary_table

app = typer.Typer(
    help="Order management on Temporal: inspect and run orders.", no_args_is_help=True
)
orders_app = typer.Typer(help="Lists of orders from the business database.", no_args_is_help=True)
db_app = typer.Typer(help="The business database.", no_args_is_help=True)
app.add_typer(orders_app, name="orders")
app.add_typer(db_app, name="db")

console = Console(width=None if sys.stdout.isatty() else 120)
errors = Console(stderr=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def fail(message: str) -> typer.Exit:
    """Print ``message`` to stderr and return the exit to raise."""
    errors.print(f"[red]error:[/red] {message}")
    return typer.Exit(code=1)


@app.command()
def demo(
    keep_running: Annotated[
        bool | None,
        typer.Option(
            "--keep-running/--exit",
            help="Keep the server and worker up for the Web UI after the table "
            "(default: when run on a terminal).",
        ),
    ] = None,
) -> None:
    """Run the embedded default: dev server, worker, demo orders, final status table."""
    settings = Settings()
    stay = sys.stdout.isatty() if keep_running is None else keep_running
    try:
        views = asyncio.run(run_demo(settings, console, stay))
    except DemoTimeoutError as error:
        raise fail(str(error)) from error
    except KeyboardInterrupt:
        return
    if any(view.status is OrderStatus.FAILED for view in views):
        raise fail("a demo order FAILED; see the table above and the worker log")


@app.command()
def status(
    order_id: Annotated[str, typer.Argument(help="The order id, e.g. WEB-10001.")],
    as_json: JsonOption = False,
    live: Annotated[
        bool, typer.Option("--live", help="Ask the running workflow (query 'status').")
    ] = False,
) -> None:
    """Show one order: lines, stock, parcels, money and its timeline."""
    settings = Settings()
    view = asyncio.run(_live_view(settings, order_id) if live else _stored_view(settings, order_id))
    if view is None:
        raise fail(
            f"order {order_id!r}: not found in {settings.resolved_database_url} "
            "(check the id, or OMS_DATABASE_URL)"
        )
    if as_json:
        console.print_json(view.model_dump_json())
    else:
        console.print(order_timeline(view))


async def _stored_view(settings: Settings, order_id: str) -> OrderView | None:
    async with open_database(settings) as sessions, sessions() as session:
        return await load_order_view(session, order_id)


async def _live_view(settings: Settings, order_id: str) -> OrderView | None:
    client = await connect(settings)
    handle = client.get_workflow_handle(order_workflow_id(order_id))
    view: OrderView = await handle.query(STATUS_QUERY, result_type=OrderView)
    return view


@orders_app.command("list")
def orders_list(
    status: Annotated[
        list[OrderStatus] | None,
        typer.Option(
            "--status", "-s", help="Only orders in this status (repeatable).", case_sensitive=False
        ),
    ] = None,
    customer: Annotated[str | None, typer.Option("--customer", "-c", help="Customer id.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many.")] = 50,
    as_json: JsonOption = False,
) -> None:
    """List orders, most recently changed first."""

    async def load() -> list[str]:
        async with open_database(Settings()) as sessions, sessions() as session:
            rows = await list_orders(
                session, statuses=status or (), customer_id=customer, limit=limit
            )
        if as_json:
            return [row.model_dump_json() for row in rows]
        console.print(summary_table(rows))
        return []

    rows = asyncio.run(load())
    if as_json:
        console.print_json("[" + ",".join(rows) + "]")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the business database to the newest schema."""
    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url)
    console.print(f"Migrated {settings.resolved_database_url} to head.")


@db_app.command("revision")
def db_revision(
    message: Annotated[str, typer.Option("--message", "-m", help="What the change does.")],
) -> None:
    """Generate a migration from changes to persistence/models.py (review it!)."""
    settings = Settings()
    upgrade(settings.resolved_database_url)
    path = new_revision(settings.resolved_database_url, message)
    console.print(f"Wrote {path}; review it before committing.")


@db_app.command("seed-demo")
def db_seed_demo() -> None:
    """Load the demo catalogue into an empty business database."""

    async def seed() -> bool:
        async with open_database(Settings()) as sessions:
            return await seed_demo_catalogue(sessions)

    seeded = asyncio.run(seed())
    console.print("Seeded the demo catalogue." if seeded else "Database already has customers.")
