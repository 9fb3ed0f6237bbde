"""Soak: run a batch of orders while the worker is SIGKILLed at random and the server restarts.

    .venv/bin/python -m bench.soak --orders 500 --kills 20 [--chaos] [--postgres URL]

It starts the Temporal dev server with persistent state (as the embedded default
does) and a worker in a child process (``python worker.py``), submits the demo
mix of orders in waves by signal-with-start, and plays the customers' bank, the
factory, the supplier and support staff. Meanwhile it kills the worker with
SIGKILL at random moments (in the middle of activities, timers and signals:
whatever is running) and starts a new one at once, and stops and restarts the
dev server mid-batch. With ``--chaos`` the partners and the database misbehave
too (see ``runtime.chaos``).

When every order has ended it counts, from the business database and from
Temporal: orders by final status, effects applied more than once (must be 0),
invariant violations (must be 0) and orders left unfinished. It prints a table,
writes the figures as JSON and exits non-zero if anything is wrong.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import func, select
from temporalio.client import Client
from temporalio.service import RPCError

from bench._installation import add_run_options, prepare_installation, save_figures, state_folder
from domain.catalogue import PaymentTerms, Sourcing
from domain.inventory import MovementKind
from domain.orders import OrderStatus, OrderSubmission, OrderView
from domain.settlement import PaymentKind
from integrations.simulated_books import PartnerBooks
from ops.demo import DemoCast
from ops.histories import count_order_steps, recoveries_after_kills, unexplained_timeouts
from ops.staff import StaffActionError
from ops.submissions import DEMO_ENDS, DemoRole, demo_example, demo_submissions, submit
from persistence.database import Database
from persistence.demo_catalogue import seed_demo_catalogue
from persistence.invariants import Violation, check_database, effects_applied_once
from persistence.models import (
    OrderLine,
    Payment,
    Product,
    Receipt,
    Shipment,
    StockLevel,
    StockMovement,
)
from persistence.order_views import load_order_view, order_views
from persistence.transactions.stock import change_stock
from runtime.chaos import ChaosRates
from runtime.processes import DevServer, WorkerProcess
from runtime.shutdown import exit_after
from runtime.temporal import connect
from runtime.workers import open_database

SOAK_STOCK = 1_000_000
"""Units of every stocked product after the soak's stocktake: the batch tests crashes,
not shortages, so stock-only products never run out."""

CHAOS_PARTNERS = ChaosRates(
    error=0.1, timeout=0.03, slow=0.1, timeout_seconds=2.0, slow_seconds=0.5
)
CHAOS_DATABASE = ChaosRates(error=0.01, slow=0.02, slow_seconds=0.2)

POLL_SECONDS = 1.0
DISRUPTION_WINDOW = 20.0
"""Seconds after a worker kill or a server restart in which a workflow task's timeout is
its doing: a task a killed worker held or had on its sticky queue times out after 10 s,
and a restarted server takes a few seconds to come back."""


@dataclass
class SoakFigures:
    """What a soak run measured."""

    orders: int
    database: str
    chaos: bool
    seconds: float = 0.0
    worker_kills: int = 0
    worker_exits: int = 0
    """Worker processes that ended by themselves (a crash the soak did not cause)."""
    server_restarts: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    unexpected_ends: list[str] = field(default_factory=list)
    """Orders that ended otherwise than the same order does without crashes."""
    duplicates: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    unfinished: list[str] = field(default_factory=list)
    workflow_executions: int = 0
    """Order workflows on the server: one per order, however often it was submitted."""
    retried_steps: int = 0
    """Activities, remote or local, of the orders and their children that needed another attempt."""
    timed_out_workflow_tasks: int = 0
    """Workflow tasks of the orders that timed out: a killed worker held them, or they
    waited on its sticky queue, or the server was down."""
    unexplained_task_timeouts: int = 0
    """Those of them with no kill or server restart in the :data:`DISRUPTION_WINDOW`
    seconds before: a worker too busy to finish a task in time. Expected 0."""
    recoveries: list[float] = field(default_factory=list)
    """Seconds from a kill to the result of each step it interrupted, taken over by the
    next worker (from the histories; tracking polls left out)."""
    provider_effects: dict[str, int] = field(default_factory=dict)
    """What the simulated partners did, from their own books (authorisations, captures,
    bookings)."""

    @property
    def passed(self) -> bool:
        """True when every order ended as expected, once, with every invariant holding."""
        return not (self.unexpected_ends or self.duplicates or self.violations or self.unfinished)


def stocktake(db: Database, units: int) -> None:
    """Count the stock of products kept in stock only up to ``units`` (a ledger row each).

    Products made or bought per order keep their levels, so their orders still
    wait for supply (and one of them is cancelled while it waits).
    """
    with db.transaction() as session:
        levels = session.scalars(
            select(StockLevel)
            .join(Product, Product.sku == StockLevel.sku)
            .where(Product.sourcing == Sourcing.STOCK.value)
        )
        for level in list(levels):
            if level.on_hand < units:
                change_stock(
                    session,
                    sku=level.sku,
                    warehouse_id=level.warehouse_id,
                    kind=MovementKind.STOCKTAKE,
                    on_hand_change=units - level.on_hand,
                )


def soak_mix(orders: int, run_tag: str) -> list[tuple[OrderSubmission, DemoRole]]:
    """``orders`` orders of the demo mix, in waves of the demo set with fresh ids.

    Support approves every order that is held for credit review (many open
    orders of one customer can add up to its limit) and cancels the ones whose
    role says so.
    """
    mix: list[tuple[OrderSubmission, DemoRole]] = []
    wave = 0
    while len(mix) < orders:
        for submission, role in demo_submissions(f"{run_tag}{wave:04d}"):
            keep = DemoRole.CANCEL if role is DemoRole.CANCEL else DemoRole.APPROVE
            mix.append((submission, keep))
        wave += 1
    return mix[:orders]


async def submit_all(
    client: Client,
    db: Database,
    mix: list[tuple[OrderSubmission, DemoRole]],
    open_orders: asyncio.Semaphore,
    submitted: list[str],
    server: DevServer,
    restarts: int,
) -> None:
    """Submit every order, at most as many at once as ``open_orders`` allows.

    Each time another 1/(restarts+1) of the orders is in, the server is restarted
    (the worker and the cast meanwhile find it gone, as they would in production).
    """
    restart_at = {len(mix) * n // (restarts + 1) for n in range(1, restarts + 1)}
    for submission, _ in mix:
        if len(submitted) in restart_at:
            await server.restart(down_seconds=3.0)
        await open_orders.acquire()
        while True:
            try:
                await submit(client, submission, db)
                break
            except RPCError:  # the server is restarting: submit again
                await asyncio.sleep(POLL_SECONDS)
        submitted.append(submission.order_id)


async def kill_workers(
    worker: WorkerProcess, kills: int, mean_gap: float, rng: random.Random, done: asyncio.Event
) -> None:
    """Kill the worker ``kills`` times at random moments, about ``mean_gap`` seconds apart."""
    while worker.kills < kills and not done.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), rng.uniform(0.3, 1.7) * mean_gap)
        if not done.is_set():
            await worker.kill_and_restart()


def exactly_once(db: Database, order_ids: list[str]) -> list[str]:
    """Per completed order: one receipt, one capture if prepaid, every ordered unit shipped once."""
    problems = []
    with db.reading() as session:
        for order_id in order_ids:
            view = load_order_view(session, order_id)
            if view is None or view.status is not OrderStatus.COMPLETED:
                continue
            receipts = session.scalar(
                select(func.count()).select_from(Receipt).where(Receipt.order_id == order_id)
            )
            captures = session.scalar(
                select(func.count())
                .select_from(Payment)
                .where(Payment.order_id == order_id, Payment.kind == PaymentKind.CAPTURE.value)
            )
            ordered = session.scalar(
                select(func.sum(OrderLine.quantity)).where(OrderLine.order_id == order_id)
            )
            shipped = session.scalar(
                select(-func.sum(StockMovement.on_hand_change)).where(
                    StockMovement.order_id == order_id,
                    StockMovement.kind == MovementKind.SHIP.value,
                )
            )
            prepaid = view.money.payment_terms == PaymentTerms.PREPAID.value
            if receipts != 1:
                problems.append(f"order {order_id}: {receipts} receipts")
            if captures != (1 if prepaid else 0):
                problems.append(f"order {order_id}: {captures} captures")
            if shipped != ordered:
                problems.append(f"order {order_id}: {shipped} of {ordered} unit(s) shipped")
    return problems


PROVIDER_STEPS = (
    ("simulated-payments", "auth"),
    ("simulated-payments", "capture"),
    ("simulated-carrier", "book"),
)


def provider_books(path: Path, db: Database) -> tuple[dict[str, int], list[str]]:
    """What the simulated partners did, by their own books, and every double effect:
    an order authorised or charged twice, or more parcels booked than the orders have."""
    books = PartnerBooks(path)
    counts: dict[str, int] = {}
    twice = []
    try:
        for partner, operation in PROVIDER_STEPS:
            per_order = books.effects_per_order(partner, operation)
            counts[f"{partner} {operation}"] = sum(per_order.values())
            if operation != "book":
                twice += [
                    f"{partner} did {operation} {times} times for order {order_id}"
                    for order_id, times in per_order.items()
                    if times > 1
                ]
    finally:
        books.close()
    with db.reading() as session:
        booked = session.scalar(
            select(func.count()).select_from(Shipment).where(Shipment.tracking_number != "")
        )
    if counts["simulated-carrier book"] != booked:
        twice.append(f"the carrier booked {counts['simulated-carrier book']} parcels, we {booked}")
    return counts, twice


async def run_soak(options: argparse.Namespace, data_dir: Path, console: Console) -> SoakFigures:
    """Run the soak as ``options`` say, with its state in ``data_dir``; the figures."""
    settings, environment = await prepare_installation(
        data_dir,
        options.port,
        options.postgres,
        {
            "OMS_LOG_FORMAT": "json",
            "OMS_CARRIER_SIM_STEP_SECONDS": "0.3",
            "OMS_CARRIER_POLL_SECONDS": "1.0",
        },
    )
    if options.chaos:
        environment["OMS_CHAOS_PARTNERS"] = CHAOS_PARTNERS.model_dump_json()
        environment["OMS_CHAOS_DATABASE"] = CHAOS_DATABASE.model_dump_json()
    figures = SoakFigures(
        orders=options.orders,
        database=settings.shown_database_url,
        chaos=options.chaos,
    )
    rng = random.Random(options.seed)
    mix = soak_mix(options.orders, f"S{rng.randrange(16**4):04X}")
    console.print(f"Soak in {data_dir}: {options.orders} orders, {options.kills} worker kills")
    async with open_database(settings) as db:
        await db.run(seed_demo_catalogue, db)
        await db.run(stocktake, db, SOAK_STOCK)
        server = DevServer(data_dir, options.port)
        await server.start()
        worker = WorkerProcess(environment, data_dir)
        await worker.start()
        client = await connect(settings)
        started = time.monotonic()
        done = asyncio.Event()
        submitted: list[str] = []
        open_orders = asyncio.Semaphore(options.in_flight)
        cast = DemoCast(client, {s.order_id: role for s, role in mix})

        async def watch_worker() -> None:
            while not done.is_set():
                await worker.restart_if_it_died()
                await asyncio.sleep(POLL_SECONDS)

        background = [
            asyncio.create_task(
                submit_all(client, db, mix, open_orders, submitted, server, options.server_restarts)
            ),
            asyncio.create_task(kill_workers(worker, options.kills, options.kill_every, rng, done)),
            asyncio.create_task(watch_worker()),
        ]
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
        try:
            with Progress(*columns, TimeElapsedColumn(), console=console) as progress:
                settled = await follow(
                    db,
                    cast,
                    submitted,
                    len(mix),
                    open_orders,
                    progress,
                    worker,
                    server,
                    started + options.deadline,
                )
        finally:
            done.set()
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
        figures.seconds = round(time.monotonic() - started, 1)
        figures.worker_kills, figures.worker_exits = worker.kills, worker.exits
        figures.server_restarts = server.restarts
        order_ids = [s.order_id for s, _ in mix]
        figures.by_status = dict(Counter(status.value for status in settled.values()))
        figures.unfinished = sorted(set(order_ids) - set(settled))
        figures.unexpected_ends = sorted(
            f"{order_id}: {status.value}, expected {DEMO_ENDS[demo_example(order_id)].value}"
            for order_id, status in settled.items()
            if status is not DEMO_ENDS[demo_example(order_id)]
        )
        once, everything = await db.run(checked, db)
        figures.duplicates = [describe(v) for v in once] + await db.run(exactly_once, db, order_ids)
        figures.violations = [describe(v) for v in everything if v not in once]
        figures.workflow_executions = (
            await client.count_workflows("WorkflowType = 'OrderWorkflow'")
        ).count
        if figures.workflow_executions != len(order_ids):
            figures.duplicates.append(
                f"{figures.workflow_executions} order workflows for {len(order_ids)} orders"
            )
        steps = await count_order_steps(client, order_ids)
        figures.retried_steps = steps.retried_activities
        figures.timed_out_workflow_tasks = steps.timed_out_workflow_tasks
        figures.unexplained_task_timeouts = len(
            unexplained_timeouts(
                steps.workflow_task_timeouts_at,
                worker.kill_times + server.restart_times,
                DISRUPTION_WINDOW,
            )
        )
        figures.recoveries = sorted(
            round(seconds, 1)
            for seconds in await recoveries_after_kills(client, order_ids, worker.kill_times)
        )
        figures.provider_effects, twice = await db.run(
            provider_books, settings.resolved_simulated_partners_file, db
        )
        figures.duplicates += twice
        await worker.stop()
        await server.stop()
    return figures


def checked(db: Database) -> tuple[list[Violation], list[Violation]]:
    """Effects applied more than once, and every invariant's violations."""
    with db.reading() as session:
        return effects_applied_once(session), check_database(session)


async def follow(
    db: Database,
    cast: DemoCast,
    submitted: list[str],
    total: int,
    open_orders: asyncio.Semaphore,
    progress: Progress,
    worker: WorkerProcess,
    server: DevServer,
    deadline: float,
) -> dict[str, OrderStatus]:
    """Play the cast until every order has ended (or needs a person); their statuses.

    The progress line shows the worker kills and server restarts so far.
    """
    task = progress.add_task("orders", total=total)
    settled: dict[str, OrderStatus] = {}
    while len(settled) < total and time.monotonic() < deadline:
        waiting = []
        pending = [o for o in submitted if o not in settled]
        for order_id, view in zip(pending, await db.run(order_views, db, pending), strict=True):
            if view is None:
                continue
            if view.status.is_final or view.status is OrderStatus.NEEDS_ATTENTION:
                settled[order_id] = view.status
                open_orders.release()
            else:
                waiting.append(view)
        # Staff and partners act on every order at once; an update waits while no worker runs.
        await asyncio.gather(*(play(cast, view) for view in waiting))
        progress.update(
            task,
            completed=len(settled),
            description=f"orders (worker kills {worker.kills}, server restarts {server.restarts})",
        )
        await asyncio.sleep(POLL_SECONDS)
    return settled


async def play(cast: DemoCast, view: OrderView) -> None:
    """Whatever staff or a partner does to this order now; refusals and outages are retried
    at the next round."""
    with contextlib.suppress(RPCError, StaffActionError):
        await cast.act(view)


def describe(violation: Violation) -> str:
    """One line for a violation."""
    return f"{violation.invariant}: {violation.subject}: {violation.detail}"


def recovery_figures(recoveries: list[float]) -> str:
    """Median and maximum of the recoveries, or a dash when no kill interrupted a step."""
    if not recoveries:
        return "-"
    return f"{statistics.median(recoveries):.1f} s / {max(recoveries):.1f} s"


def figures_table(figures: SoakFigures) -> Table:
    """The figures as a table."""
    table = Table(title="Soak", show_header=False)
    rows = [
        ("orders", str(figures.orders)),
        ("database", figures.database),
        ("chaos", "on" if figures.chaos else "off"),
        ("time taken", f"{figures.seconds} s"),
        ("worker kills (SIGKILL)", str(figures.worker_kills)),
        ("worker exits by themselves", str(figures.worker_exits)),
        ("server restarts", str(figures.server_restarts)),
        ("final statuses", ", ".join(f"{k} {v}" for k, v in sorted(figures.by_status.items()))),
        ("order workflows on the server", str(figures.workflow_executions)),
        ("activities that needed a retry", str(figures.retried_steps)),
        ("workflow tasks timed out", str(figures.timed_out_workflow_tasks)),
        (
            "  with no kill or restart just before",
            str(figures.unexplained_task_timeouts),
        ),
        ("steps taken over after a kill", str(len(figures.recoveries))),
        ("kill to step done, median / max", recovery_figures(figures.recoveries)),
        (
            "provider's books",
            ", ".join(f"{name} {count}" for name, count in figures.provider_effects.items()),
        ),
        ("ended otherwise than expected", str(len(figures.unexpected_ends))),
        ("duplicates (must be 0)", str(len(figures.duplicates))),
        ("invariant violations (must be 0)", str(len(figures.violations))),
        ("unfinished", str(len(figures.unfinished))),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


def main() -> None:
    """Parse the options, run the soak, print and save the figures."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.soak", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--orders", type=int, default=500, help="orders in the batch (500)")
    parser.add_argument("--kills", type=int, default=20, help="worker SIGKILLs (20)")
    parser.add_argument(
        "--kill-every", type=float, default=6.0, help="mean seconds between kills (6)"
    )
    parser.add_argument(
        "--server-restarts", type=int, default=1, help="dev server restarts mid-batch (1)"
    )
    parser.add_argument(
        "--in-flight", type=int, default=60, help="orders open at once at most (60)"
    )
    parser.add_argument("--chaos", action="store_true", help="partners and database misbehave")
    add_run_options(parser, port=7533)
    parser.add_argument("--seed", type=int, help="seed for kill times and order ids")
    parser.add_argument(
        "--deadline", type=float, default=3600.0, help="give up after this many seconds"
    )
    options = parser.parse_args()
    console = Console()
    data_dir = state_folder(options, "oms-soak-")
    figures = asyncio.run(run_soak(options, data_dir, console))
    console.print(figures_table(figures))
    for title, lines in (
        ("Ended otherwise than expected", figures.unexpected_ends),
        ("Duplicates", figures.duplicates),
        ("Invariant violations", figures.violations),
        ("Unfinished", figures.unfinished),
    ):
        for line in lines[:20]:
            console.print(f"{title}: {line}")
    save_figures(options, figures)
    sys.exit(0 if figures.passed else 1)


if __name__ == "__main__":
    exit_after(main)
