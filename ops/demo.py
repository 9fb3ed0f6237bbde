"""The main job on the embedded default: server, worker, demo orders, final table."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from temporalio.client import Client

from domain.catalogue import PaymentTerms
from domain.orders import PAYMENT_RECEIVED_SIGNAL, OrderStatus, OrderView, order_workflow_id
from domain.settlement import IncomingPayment
from persistence.database import SessionFactory
from persistence.demo_catalogue import seed_demo_catalogue
from persistence.migrate import upgrade
from persistence.order_views import load_order_view
from runtime.logging import configure_logging
from runtime.settings import LogFormat, Settings
from runtime.temporal import connect, temporal_server
from runtime.workers import open_database, order_worker

from ._clock import utcnow
from .rendering import order_table
from .submissions import demo_submissions, submit

POLL_SECONDS = 0.5
DEMO_DEADLINE_SECONDS = 300.0


class DemoTimeoutError(RuntimeError):
    """The demo orders did not all finish in time."""


async def prepare_database(settings: Settings) -> None:
    """Migrate the business database to head and seed the demo catalogue if it is empty."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    await asyncio.to_thread(upgrade, settings.resolved_database_url)


async def pay_as_simulated_bank(client: Client, view: OrderView, paid: set[str]) -> None:
    """Simulated customer bank: pay a net-terms order's invoice in full, once."""
    if (
        view.money.payment_terms == PaymentTerms.NET
        and view.status is OrderStatus.INVOICED
        and view.order_id not in paid
    ):
        payment = IncomingPayment(payment_id=f"SIMBANK-{view.order_id}", amount=view.money.total)
        handle = client.get_workflow_handle(order_workflow_id(view.order_id))
        await handle.signal(PAYMENT_RECEIVED_SIGNAL, payment)
        paid.add(view.order_id)


async def follow_orders(
    client: Client, sessions: SessionFactory, order_ids: Sequence[str], console: Console
) -> list[OrderView]:
    """Show progress until every order has finished; returns their final views."""
    paid: set[str] = set()
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("orders running", total=len(order_ids))
        deadline = asyncio.get_running_loop().time() + DEMO_DEADLINE_SECONDS
        while True:
            async with sessions() as session:
                views = [await load_order_view(session, order_id) for order_id in order_ids]
            known = [view for view in views if view is not None]
            for view in known:
                await pay_as_simulated_bank(client, view, paid)
            finished = sum(view.status.is_final for view in known)
            stages = sorted({view.status.value for view in known if not view.status.is_final})
            progress.update(
                task, completed=finished, description=f"orders running {' '.join(stages)}".strip()
            )
            if finished == len(order_ids):
                return known
            if asyncio.get_running_loop().time() > deadline:
                raise DemoTimeoutError(
                    f"{len(order_ids) - finished} demo order(s) unfinished after "
                    f"{DEMO_DEADLINE_SECONDS:.0f}s; see the Web UI and the worker log"
                )
            await asyncio.sleep(POLL_SECONDS)


async def run_demo(settings: Settings, console: Console, keep_running: bool) -> list[OrderView]:
    """Run the embedded default end to end and print each demo order's final status."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    log_path = settings.data_dir / "worker.log"
    with log_path.open("a", encoding="utf-8") as log_file:
        configure_logging(LogFormat.JSON, settings.log_level, stream=log_file)
        console.print(f"Business database: {settings.resolved_database_url}")
        await prepare_database(settings)
        async with open_database(settings) as sessions:
            if await seed_demo_catalogue(sessions):
                console.print("Seeded the demo catalogue (customers, products, stock).")
            console.print("Starting the Temporal dev server (or reusing a running one)...")
            async with temporal_server(settings) as address:
                client = await connect(settings, address)
                console.print(f"Temporal at {address}; Web UI: {settings.ui_url}")
                async with order_worker(client, sessions, settings):
                    submissions = demo_submissions(utcnow().strftime("%d%H%M%S"))
                    for submission in submissions:
                        await submit(client, submission, sessions)
                    console.print(
                        f"Submitted {len(submissions)} orders by signal-with-start; "
                        f"worker log: {log_path}"
                    )
                    views = await follow_orders(
                        client, sessions, [s.order_id for s in submissions], console
                    )
                    console.print(order_table(views))
                    if keep_running:
                        console.print(
                            f"Open {settings.ui_url}/namespaces/{settings.temporal_namespace}"
                            "/workflows to inspect every order. Press Ctrl-C to stop."
                        )
                        await asyncio.Event().wait()
    logging.getLogger().handlers.clear()
    return views
