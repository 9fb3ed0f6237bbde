"""Race: many one-unit orders for a few units, several workers, many parallel clients.

Every order wants one unit of WIDGET-1 (kept in stock only), and only ``--units``
are on hand: exactly that many orders must complete and every other one must be
rejected for insufficient stock, with no unit sold twice. The run counts the
workflow tasks that timed out (a worker too busy to finish a task within its
10 s, for example because a local activity waited too long) across every
history of the batch.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from bench._installation import add_run_options, prepare_installation, save_figures, state_folder
from bench.throughput import happy_orders
from domain.inventory import MovementKind
from domain.orders import OrderStatus, OrderSubmission
from ops.histories import count_order_steps
from ops.submissions import submit
from persistence.database import Database
from persistence.invariants import check_database
from persistence.models import Order, StockLevel
from persistence.transactions.stock import change_stock
from runtime.logging import configure_logging
from runtime.processes import DevServer, WorkerProcess, wait_for_pollers
from runtime.settings import LogFormat
from runtime.shutdown import exit_after
from runtime.temporal import connect
from runtime.workers import open_database

SKU = "WIDGET-1"
WORKER_START_SECONDS = 120.0
DEADLINE_SECONDS = 600.0


@dataclass
class RaceFigures:
    """What one race measured."""

    database: str
    orders: int
    units: int
    workers: int
    clients: int
    worker_database_threads: int | None
    seconds: float = 0.0
    by_status: dict[str, int] = field(default_factory=dict)
    units_left: int = 0
    workflow_task_timeouts: int = 0
    retried_steps: int = 0
    violations: list[str] = field(default_factory=list)

    @property
    def correct(self) -> bool:
        """Exactly ``units`` orders completed, every other one was rejected, nothing broke."""
        return (
            self.by_status
            == {
                OrderStatus.COMPLETED.value: self.units,
                OrderStatus.REJECTED.value: self.orders - self.units,
            }
            and self.units_left == 0
            and not self.violations
        )


def set_free_units(db: Database, units: int) -> None:
    """Count WIDGET-1 to ``units`` on hand in total (all of them in the first warehouse)."""
    with db.transaction() as session:
        levels = session.scalars(
            select(StockLevel).where(StockLevel.sku == SKU).order_by(StockLevel.warehouse_id)
        ).all()
        for number, level in enumerate(levels):
            wanted = units if number == 0 else 0
            change_stock(
                session,
                sku=SKU,
                warehouse_id=level.warehouse_id,
                kind=MovementKind.STOCKTAKE,
                on_hand_change=wanted - level.on_hand,
            )


def statuses(db: Database, order_ids: list[str]) -> dict[str, OrderStatus]:
    """The read model's status of each order it holds."""
    with db.reading() as session:
        rows = session.execute(select(Order.id, Order.status).where(Order.id.in_(order_ids)))
        return {order_id: OrderStatus(status) for order_id, status in rows}


def units_left(db: Database) -> int:
    """Free units of WIDGET-1 in every warehouse."""
    with db.reading() as session:
        return sum(
            level.on_hand - level.reserved
            for level in session.scalars(select(StockLevel).where(StockLevel.sku == SKU))
        )


def violations(db: Database) -> list[str]:
    """Every broken invariant (``oms check``), described."""
    with db.reading() as session:
        return [f"{v.invariant} ({v.subject}): {v.detail}" for v in check_database(session)]


async def run_race(options: argparse.Namespace, data_dir: Path, console: Console) -> RaceFigures:
    """Run the race as ``options`` say; the figures."""
    worker_settings = {
        "OMS_LOG_LEVEL": "WARNING",
        "OMS_CARRIER_SIM_STEP_SECONDS": "0",
        "OMS_CARRIER_POLL_SECONDS": "0.05",
    }
    if options.database_threads:
        worker_settings["OMS_WORKER_DATABASE_THREADS"] = str(options.database_threads)
    settings, environment = await prepare_installation(
        data_dir, options.port, options.postgres, worker_settings
    )
    figures = RaceFigures(
        database=settings.shown_database_url,
        orders=options.orders,
        units=options.units,
        workers=options.workers,
        clients=options.clients,
        worker_database_threads=options.database_threads,
    )
    orders = [
        order.model_copy(update={"order_id": order.order_id.replace("BENCH", "RACE")})
        for order in happy_orders(options.orders, f"{int(time.time()) % 100000:05d}")
    ]
    order_ids = [order.order_id for order in orders]
    server = DevServer(data_dir, options.port)
    await server.start()
    workers = [
        WorkerProcess(environment, data_dir, f"race-worker-{n}") for n in range(options.workers)
    ]
    try:
        async with open_database(settings) as db:
            await db.run(set_free_units, db, options.units)
            for worker in workers:
                await worker.start()
            clients = [await connect(settings) for _ in range(options.clients)]
            await wait_for_pollers(clients[0], [w.pid for w in workers], WORKER_START_SECONDS)

            async def one_client(client_number: int) -> None:
                mine: list[OrderSubmission] = orders[client_number :: options.clients]
                for order in mine:
                    await submit(clients[client_number], order)

            console.print(
                f"{options.orders} orders for {options.units} units: {options.workers} workers, "
                f"{options.clients} clients, {settings.shown_database_url}"
            )
            began = time.monotonic()
            await asyncio.gather(*(one_client(n) for n in range(options.clients)))
            while True:
                ended = await db.run(statuses, db, order_ids)
                if len(ended) == len(order_ids) and all(s.is_final for s in ended.values()):
                    break
                if time.monotonic() - began > DEADLINE_SECONDS:
                    raise TimeoutError(f"unfinished after {DEADLINE_SECONDS:.0f} s")
                await asyncio.sleep(0.5)
            figures.seconds = round(time.monotonic() - began, 1)
            figures.by_status = dict(Counter(status.value for status in ended.values()))
            figures.units_left = await db.run(units_left, db)
            figures.violations = await db.run(violations, db)
            steps = await count_order_steps(clients[0], order_ids)
            figures.workflow_task_timeouts = steps.timed_out_workflow_tasks
            figures.retried_steps = steps.retried_activities
    finally:
        for worker in workers:
            await worker.stop()
        await server.stop()
    return figures


def figures_table(figures: RaceFigures) -> Table:
    """The figures as a readable table."""
    table = Table(title="Race", show_header=False)
    rows = [
        ("database", figures.database),
        ("orders / units", f"{figures.orders} / {figures.units}"),
        ("workers / clients", f"{figures.workers} / {figures.clients}"),
        ("seconds", str(figures.seconds)),
        ("ended", ", ".join(f"{n} {s}" for s, n in sorted(figures.by_status.items()))),
        ("units left", str(figures.units_left)),
        ("workflow task timeouts", str(figures.workflow_task_timeouts)),
        ("steps retried", str(figures.retried_steps)),
        ("invariants", "; ".join(figures.violations) or "all hold"),
        ("correct", "yes" if figures.correct else "NO"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


def main() -> None:
    """Parse the options, run the race, print and save the figures; exit 1 if it went wrong."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.race", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--orders", type=int, default=200, help="one-unit orders (200)")
    parser.add_argument("--units", type=int, default=7, help="units on hand (7)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (2)")
    parser.add_argument("--clients", type=int, default=20, help="parallel clients (20)")
    parser.add_argument(
        "--database-threads", type=int, help="OMS_WORKER_DATABASE_THREADS of the workers"
    )
    add_run_options(parser, port=7635)
    options = parser.parse_args()
    data_dir = state_folder(options, "oms-race-")
    console = Console()
    configure_logging(LogFormat.CONSOLE, "WARNING")
    figures = asyncio.run(run_race(options, data_dir, console))
    console.print(figures_table(figures))
    save_figures(options, figures)
    if not figures.correct:
        raise SystemExit(1)


if __name__ == "__main__":
    exit_after(main)
