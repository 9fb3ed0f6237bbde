"""Benchmark: orders per second end to end, against the engine's own ceiling, in one run.

    .venv/bin/python -m bench.throughput [--orders 300] [--open-orders 2000]
        [--postgres URL] [--json bench.json]

It starts the Temporal dev server with persistent state (the embedded default's
settings) on a fresh data folder and business database, and measures:

1. **Pipeline**: ``--orders`` happy-path orders (prepaid, every channel, partner
   simulators answering at once) submitted by signal-with-start to one worker
   process: orders per second, latency from submit to accepted and to completed
   (p50/p95/p99), activity calls and workflow tasks per order (order, parcel and
   supply workflows together), worker peak memory, CPU seconds of worker and server.
2. **Ceiling**: as many baseline workflows (``bench.baseline``), each making as many
   no-op activity calls as an order made, on the same server with a worker of the
   same settings; our throughput as a ratio of it.
3. **Reservation hot path**: the reserve-stock activity under contention against a
   raw conditional ``UPDATE`` doing the same reservations on the same database.
4. **Open orders** (``--open-orders``): that many orders held for credit review at
   once; worker memory per open order and how fast one of them answers an update.

It prints a table and writes the figures as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import psutil
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import select, text
from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.testing import ActivityEnvironment

from activities import IntakeActivities, InventoryActivities
from bench._installation import add_run_options, prepare_installation, save_figures, state_folder
from bench.baseline_workflow import START_SIGNAL, BaselineRun
from bench.baseline_workflow import TASK_QUEUE as BASELINE_QUEUE
from domain.credit import APPROVE_SIGNAL
from domain.intake import OrderRef
from domain.inventory import MovementKind
from domain.orders import (
    Channel,
    EventKind,
    OrderStatus,
    OrderSubmission,
    ShippingAddress,
    StaffDecision,
    SubmittedLine,
    order_workflow_id,
)
from ops.histories import count_order_steps
from ops.staff import StaffAction, perform
from ops.submissions import submit
from persistence.database import Database
from persistence.demo_catalogue import seed_demo_catalogue
from persistence.models import OrderEventRow, StockLevel
from persistence.order_views import order_view
from persistence.transactions.stock import change_stock
from runtime.logging import configure_logging
from runtime.processes import DevServer, WorkerProcess, wait_for_pollers
from runtime.settings import LogFormat, Settings
from runtime.shutdown import exit_after
from runtime.temporal import connect
from runtime.workers import open_database

SUBMIT_CONCURRENCY = 50
HOT_PATH_RESERVATIONS = 400
HOT_PATH_CONCURRENCY = 20
WORKER_START_SECONDS = 120.0
"""How long the worker processes may take to start polling."""
RAW_RESERVATION = text(
    "UPDATE stock_levels SET reserved = reserved + 1 "
    "WHERE sku = 'WIDGET-1' AND warehouse_id = 'WH-BER' AND on_hand - reserved >= 1"
)
"""The hot path's yardstick: one unit reserved by the plainest conditional update there is."""
ADDRESS = ShippingAddress(
    name="Bench Customer", street="Teststrasse 1", postal_code="10115", city="Berlin", country="DE"
)


@dataclass
class Percentiles:
    """Latency percentiles in seconds."""

    p50: float
    p95: float
    p99: float

    @classmethod
    def of(cls, samples: list[float]) -> Percentiles:
        """The percentiles of ``samples``."""
        cuts = statistics.quantiles(samples, n=100, method="inclusive")
        return cls(p50=round(cuts[49], 3), p95=round(cuts[94], 3), p99=round(cuts[98], 3))


@dataclass
class RunFigures:
    """One timed batch of workflows."""

    workflows: int
    seconds: float
    per_second: float
    worker_cpu_seconds: float
    server_cpu_seconds: float
    worker_peak_mb: float


@dataclass
class BenchFigures:
    """What one benchmark run measured."""

    database: str
    orders: int
    workers: int = 1
    """Worker processes (for the orders and for the baseline alike)."""
    pipeline: RunFigures | None = None
    accepted_latency: Percentiles | None = None
    completed_latency: Percentiles | None = None
    activities_per_order: float = 0.0
    workflow_tasks_per_order: float = 0.0
    workflow_task_timeouts: int = 0
    """Workflow tasks of the batch's orders (and their children) that timed out."""
    baseline: RunFigures | None = None
    ratio_to_baseline: float = 0.0
    hot_path: dict[str, float] = field(default_factory=dict)
    open_orders: dict[str, float] = field(default_factory=dict)


class ResourceWatch:
    """Samples the memory of processes while a batch runs (their sum); CPU seconds (their
    sum) from start to stop."""

    def __init__(self, *pids: int) -> None:
        self._processes = [psutil.Process(pid) for pid in pids]
        self._cpu_at_start = self._cpu()
        self.peak_rss = self._rss()
        self._task: asyncio.Task[None] | None = None

    def _cpu(self) -> float:
        return sum(
            float(times.user + times.system)
            for times in (process.cpu_times() for process in self._processes)
        )

    def _rss(self) -> int:
        return sum(process.memory_info().rss for process in self._processes)

    async def _sample(self) -> None:
        while True:
            self.peak_rss = max(self.peak_rss, self._rss())
            await asyncio.sleep(0.2)

    def start(self) -> None:
        """Start sampling memory."""
        self._task = asyncio.create_task(self._sample())

    def stop(self) -> float:
        """Stop sampling; the CPU seconds used since the watch was made."""
        if self._task is not None:
            self._task.cancel()
        return round(self._cpu() - self._cpu_at_start, 1)


class WorkerGroup:
    """``count`` worker processes of the same kind, started and stopped together."""

    def __init__(
        self,
        environment: dict[str, str],
        log_dir: Path,
        name: str,
        count: int,
        arguments: Sequence[str] = ("worker.py",),
    ) -> None:
        self._processes = [
            WorkerProcess(environment, log_dir, f"{name}-{n}", arguments) for n in range(count)
        ]

    @property
    def pids(self) -> list[int]:
        """Their process ids."""
        return [pid for process in self._processes if (pid := process.pid) is not None]

    async def start(self) -> None:
        """Start every process."""
        for process in self._processes:
            await process.start()

    async def stop(self) -> None:
        """Stop every process."""
        for process in self._processes:
            await process.stop()

    async def wait(self) -> None:
        """Return when any of them has exited."""
        waits = [asyncio.ensure_future(process.wait()) for process in self._processes]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()


def server_pid() -> int:
    """The dev server started by this process."""
    [server] = [
        child
        for child in psutil.Process().children(recursive=True)
        if child.name() == "temporal" or "start-dev" in " ".join(child.cmdline())
    ]
    return int(server.pid)


def happy_orders(count: int, tag: str) -> list[OrderSubmission]:
    """Prepaid orders from every channel, answered at once by the simulators."""
    channels = list(Channel)
    return [
        OrderSubmission(
            order_id=f"BENCH-{tag}-{n:05d}",
            channel=channels[n % len(channels)],
            customer_id="CUST-JANE",
            payment_token="tok_visa_4242",
            lines=[SubmittedLine(sku="WIDGET-1", quantity=1, unit_price=Decimal("19.90"))],
            shipping_address=ADDRESS,
        )
        for n in range(count)
    ]


async def bounded(tasks: Iterable[Callable[[], Awaitable[Any]]], limit: int) -> list[Any]:
    """Run the tasks with at most ``limit`` at once; their results in order."""
    gate = asyncio.Semaphore(limit)

    async def one(task: Callable[[], Awaitable[Any]]) -> Any:
        async with gate:
            return await task()

    return await asyncio.gather(*(one(task) for task in tasks))


async def timed_batch(
    console: Console,
    label: str,
    workers: WorkerGroup,
    start_all: Callable[[dict[str, float]], Awaitable[list[WorkflowHandle[Any, Any]]]],
) -> tuple[RunFigures, dict[str, float], dict[str, float]]:
    """Start a batch, wait for every result; figures, submit times and completion times."""
    worker_watch, server_watch = ResourceWatch(*workers.pids), ResourceWatch(server_pid())
    worker_watch.start()
    submitted: dict[str, float] = {}
    completed: dict[str, float] = {}
    began = time.monotonic()
    handles = await start_all(submitted)
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(label, total=len(handles))

        async def finish(handle: WorkflowHandle[Any, Any]) -> None:
            await handle.result()
            completed[handle.id] = time.time()
            progress.advance(task)

        results: asyncio.Future[Any] = asyncio.ensure_future(
            asyncio.gather(*(finish(h) for h in handles))
        )
        died: asyncio.Future[Any] = asyncio.ensure_future(workers.wait())
        await asyncio.wait([results, died], return_when=asyncio.FIRST_COMPLETED)
        died.cancel()
        if not results.done():
            results.cancel()
            raise RuntimeError(f"the {label} worker died; see its log in the data folder")
        results.result()
    seconds = time.monotonic() - began
    figures = RunFigures(
        workflows=len(handles),
        seconds=round(seconds, 1),
        per_second=round(len(handles) / seconds, 2),
        worker_cpu_seconds=worker_watch.stop(),
        server_cpu_seconds=server_watch.stop(),
        worker_peak_mb=round(worker_watch.peak_rss / 2**20, 1),
    )
    return figures, submitted, completed


def accepted_times(db: Database, order_ids: list[str]) -> dict[str, float]:
    """When each order was confirmed (its ``confirmed`` audit event)."""
    with db.reading() as session:
        rows = session.execute(
            select(OrderEventRow.order_id, OrderEventRow.created_at).where(
                OrderEventRow.order_id.in_(order_ids),
                OrderEventRow.kind == EventKind.CONFIRMED.value,
            )
        )
        return {order_id: at.timestamp() for order_id, at in rows}


def restock(db: Database, units: int) -> None:
    """Make sure WIDGET-1 in Berlin has ``units`` free (a stocktake ledger row)."""
    with db.transaction() as session:
        level = session.get(StockLevel, ("WIDGET-1", "WH-BER"))
        assert level is not None
        missing = units - (level.on_hand - level.reserved)
        if missing > 0:
            change_stock(
                session,
                sku="WIDGET-1",
                warehouse_id="WH-BER",
                kind=MovementKind.STOCKTAKE,
                on_hand_change=missing,
            )


async def measure_pipeline(
    console: Console,
    client: Client,
    db: Database,
    workers: WorkerGroup,
    orders: list[OrderSubmission],
    figures: BenchFigures,
) -> None:
    """Part 1: the order pipeline."""

    async def start_all(submitted: dict[str, float]) -> list[WorkflowHandle[Any, Any]]:
        async def one(order: OrderSubmission) -> WorkflowHandle[Any, Any]:
            submitted[order.order_id] = time.time()
            await submit(client, order)
            return client.get_workflow_handle(order_workflow_id(order.order_id))

        return await bounded([partial(one, o) for o in orders], SUBMIT_CONCURRENCY)

    figures.pipeline, submitted, completed = await timed_batch(
        console, "orders", workers, start_all
    )
    accepted = await db.run(accepted_times, db, list(submitted))
    figures.accepted_latency = Percentiles.of(
        [accepted[o] - submitted[o] for o in submitted if o in accepted]
    )
    figures.completed_latency = Percentiles.of(
        [completed[order_workflow_id(o)] - submitted[o] for o in submitted]
    )
    sample = [order.order_id for order in orders[:20]]
    steps = await count_order_steps(client, sample)
    figures.activities_per_order = round(steps.activities / len(sample), 1)
    figures.workflow_tasks_per_order = round(steps.workflow_tasks / len(sample), 1)
    everything = await count_order_steps(client, list(submitted))
    figures.workflow_task_timeouts = everything.timed_out_workflow_tasks


async def measure_baseline(
    console: Console, client: Client, workers: WorkerGroup, count: int, calls: int, tag: str
) -> RunFigures:
    """Part 2: the no-op baseline of the same length."""

    async def start_all(submitted: dict[str, float]) -> list[WorkflowHandle[Any, Any]]:
        async def one(n: int) -> WorkflowHandle[Any, Any]:
            workflow_id = f"baseline-{tag}-{n:05d}"
            submitted[workflow_id] = time.time()
            return await client.start_workflow(
                "BaselineWorkflow",
                id=workflow_id,
                task_queue=BASELINE_QUEUE,
                start_signal=START_SIGNAL,
                start_signal_args=[BaselineRun(calls=calls)],
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            )

        return await bounded([partial(one, n) for n in range(count)], SUBMIT_CONCURRENCY)

    run, _, _ = await timed_batch(console, "baseline", workers, start_all)
    return run


async def measure_hot_path(db: Database, tag: str) -> dict[str, float]:
    """Part 3: reserve-stock activity vs a raw conditional UPDATE, same reservations.

    Both run on the database's threads, ``HOT_PATH_CONCURRENCY`` at a time, as a
    worker runs its steps.
    """
    await db.run(restock, db, HOT_PATH_RESERVATIONS * 2)
    orders = happy_orders(HOT_PATH_RESERVATIONS, f"HOT{tag}")
    order_ids = [order.order_id for order in orders]
    receiver = IntakeActivities(db)
    await bounded(
        [partial(db.run, ActivityEnvironment().run, receiver.receive_order, o) for o in orders],
        HOT_PATH_CONCURRENCY,
    )
    inventory = InventoryActivities(db)
    began = time.monotonic()
    await bounded(
        [
            partial(
                db.run, ActivityEnvironment().run, inventory.reserve_stock, OrderRef(order_id=o)
            )
            for o in order_ids
        ],
        HOT_PATH_CONCURRENCY,
    )
    activity_rate = HOT_PATH_RESERVATIONS / (time.monotonic() - began)

    def raw_reservation() -> None:
        with db.transaction() as session:
            session.execute(RAW_RESERVATION)

    began = time.monotonic()
    await bounded([partial(db.run, raw_reservation)] * HOT_PATH_RESERVATIONS, HOT_PATH_CONCURRENCY)
    raw_rate = HOT_PATH_RESERVATIONS / (time.monotonic() - began)
    with db.transaction() as session:  # give the raw reservations back
        session.execute(
            text(
                "UPDATE stock_levels SET reserved = reserved - :n "
                "WHERE sku = 'WIDGET-1' AND warehouse_id = 'WH-BER'"
            ),
            {"n": HOT_PATH_RESERVATIONS},
        )
    return {
        "reservations": HOT_PATH_RESERVATIONS,
        "concurrency": HOT_PATH_CONCURRENCY,
        "activity_per_second": round(activity_rate, 1),
        "raw_update_per_second": round(raw_rate, 1),
        "ratio": round(activity_rate / raw_rate, 2),
    }


async def measure_open_orders(
    console: Console,
    client: Client,
    db: Database,
    workers: WorkerGroup,
    count: int,
    tag: str,
    cache: int,
) -> dict[str, float]:
    """Part 4: ``count`` orders held for credit review at once."""
    memory = ResourceWatch(*workers.pids)
    before = memory.peak_rss
    held = [
        order.model_copy(update={"customer_id": "CUST-WATCH", "payment_token": None})
        for order in happy_orders(count, f"OPEN{tag}")
    ]
    began = time.monotonic()
    await bounded([partial(submit, client, o) for o in held], SUBMIT_CONCURRENCY)
    with Progress(
        TextColumn("held orders"), BarColumn(), MofNCompleteColumn(), console=console
    ) as progress:
        task = progress.add_task("held", total=count)
        while True:
            waiting = await db.run(orders_waiting, db, f"BENCH-OPEN{tag}-%")
            progress.update(task, completed=waiting)
            if waiting == count:
                break
            await asyncio.sleep(1.0)
    held_per_second = count / (time.monotonic() - began)
    await asyncio.sleep(2.0)
    after = ResourceWatch(*workers.pids).peak_rss
    target = held[count // 2].order_id
    action = StaffAction(order_workflow_id(target), APPROVE_SIGNAL, f"order {target}")
    began = time.monotonic()
    await perform(client, action, StaffDecision(actor="bench", reason="benchmark"))
    answered = time.monotonic() - began
    view = await db.run(order_view, db, target)
    return {
        "open_orders": count,
        "worker_cache": cache,
        "held_per_second": round(held_per_second, 1),
        "worker_rss_before_mb": round(before / 2**20, 1),
        "worker_rss_held_mb": round(after / 2**20, 1),
        "kb_per_open_order": round((after - before) / count / 1024, 1),
        "approve_update_seconds": round(answered, 3),
        "approved_order_moved_on": float(
            view is not None and view.status.value != "AWAITING_APPROVAL"
        ),
    }


def orders_waiting(db: Database, pattern: str) -> int:
    """Orders whose id matches ``pattern`` (SQL LIKE) held for credit review."""
    with db.reading() as session:
        waiting = session.scalar(
            text("SELECT count(*) FROM orders WHERE id LIKE :p AND status = :s"),
            {"p": pattern, "s": OrderStatus.AWAITING_APPROVAL.value},
        )
    return int(waiting or 0)


def worker_cache(options: argparse.Namespace) -> int:
    """Workflows the worker keeps in memory: room for every open order and the batch.

    A held order evicted from the cache is rebuilt by replaying its history when
    its next task comes (a signal, a rung), so a cache smaller than the open
    orders costs a replay per task and, while they pile up, a replay per step.
    """
    needed: int = options.open_orders + options.orders + 100
    return max(Settings().worker_max_cached_workflows, needed)


async def run_benchmark(
    options: argparse.Namespace, data_dir: Path, console: Console
) -> BenchFigures:
    """Run every part as ``options`` say; the figures."""
    cache = worker_cache(options)
    settings, environment = await prepare_installation(
        data_dir,
        options.port,
        options.postgres,
        {
            "OMS_LOG_LEVEL": "WARNING",
            "OMS_CARRIER_SIM_STEP_SECONDS": "0",
            "OMS_CARRIER_POLL_SECONDS": "0.05",
            "OMS_WORKER_MAX_CACHED_WORKFLOWS": str(cache),
        },
    )
    figures = BenchFigures(
        database=settings.shown_database_url, orders=options.orders, workers=options.workers
    )
    tag = f"{int(time.time()) % 100000:05d}"
    if options.hot_path_only:
        async with open_database(settings, threads=HOT_PATH_CONCURRENCY) as db:
            await db.run(seed_demo_catalogue, db)
            figures.hot_path = await measure_hot_path(db, tag)
        return figures
    server = DevServer(data_dir, options.port)
    await server.start()
    try:
        async with open_database(settings, threads=HOT_PATH_CONCURRENCY) as db:
            await db.run(seed_demo_catalogue, db)
            await db.run(restock, db, options.orders * 2)
            client = await connect(settings)
            workers = WorkerGroup(environment, data_dir, "bench-worker", options.workers)
            await workers.start()
            await wait_for_pollers(client, workers.pids, WORKER_START_SECONDS)
            await submit(client, happy_orders(1, f"WARM{tag}")[0])  # worker up and warm
            warm = order_workflow_id(f"BENCH-WARM{tag}-00000")
            await client.get_workflow_handle(warm).result()
            orders = happy_orders(options.orders, tag)
            await measure_pipeline(console, client, db, workers, orders, figures)
            if options.open_orders:
                figures.open_orders = await measure_open_orders(
                    console,
                    client,
                    db,
                    workers,
                    options.open_orders,
                    tag,
                    cache,
                )
            await workers.stop()
            baseline_workers = WorkerGroup(
                environment, data_dir, "baseline-worker", options.workers, ("-m", "bench.baseline")
            )
            await baseline_workers.start()
            calls = max(1, round(figures.activities_per_order))
            figures.baseline = await measure_baseline(
                console, client, baseline_workers, options.orders, calls, tag
            )
            await baseline_workers.stop()
            assert figures.pipeline is not None
            figures.ratio_to_baseline = round(
                figures.pipeline.per_second / figures.baseline.per_second, 2
            )
            figures.hot_path = await measure_hot_path(db, tag)
    finally:
        await server.stop()
    return figures


def figures_table(figures: BenchFigures) -> Table:
    """The figures as a readable table."""
    table = Table(title="Benchmark", show_header=False)
    pipeline, baseline = figures.pipeline, figures.baseline
    accepted, completed = figures.accepted_latency, figures.completed_latency
    rows = [("database", figures.database)]
    if pipeline and baseline and accepted and completed:
        rows += [
            ("orders", str(figures.orders)),
            ("worker processes", str(figures.workers)),
            ("pipeline orders/s", f"{pipeline.per_second} ({pipeline.seconds} s)"),
            (
                "submit -> accepted p50/p95/p99",
                f"{accepted.p50} / {accepted.p95} / {accepted.p99} s",
            ),
            (
                "submit -> completed p50/p95/p99",
                f"{completed.p50} / {completed.p95} / {completed.p99} s",
            ),
            ("activity calls per order", str(figures.activities_per_order)),
            ("workflow tasks per order", str(figures.workflow_tasks_per_order)),
            ("workflow task timeouts", str(figures.workflow_task_timeouts)),
            ("worker peak memory", f"{pipeline.worker_peak_mb} MB"),
            (
                "CPU seconds worker / server",
                f"{pipeline.worker_cpu_seconds} / {pipeline.server_cpu_seconds}",
            ),
            ("baseline workflows/s", f"{baseline.per_second} ({baseline.seconds} s)"),
            (
                "baseline CPU worker / server",
                f"{baseline.worker_cpu_seconds} / {baseline.server_cpu_seconds}",
            ),
            ("pipeline / baseline", f"{figures.ratio_to_baseline}x (target 1.0x)"),
        ]
    hot = figures.hot_path
    rows.append(
        (
            "reserve activity / raw UPDATE",
            f"{hot['activity_per_second']} / {hot['raw_update_per_second']} per s = "
            f"{hot['ratio']}x (target 0.5x)",
        )
    )
    if figures.open_orders:
        held = figures.open_orders
        rows += [
            ("open orders held", f"{int(held['open_orders'])}"),
            ("worker workflow cache", f"{int(held['worker_cache'])} workflows"),
            ("held at (orders/s)", f"{held['held_per_second']}"),
            ("worker memory per open order", f"{held['kb_per_open_order']} KB"),
            ("approve update answered in", f"{held['approve_update_seconds']} s"),
        ]
    for name, value in rows:
        table.add_row(name, value)
    return table


def main() -> None:
    """Parse the options, run the benchmark, print and save the figures."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.throughput", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--orders", type=int, default=300, help="orders in the batch (300)")
    parser.add_argument(
        "--open-orders", type=int, default=0, help="orders to hold open at once (0: skip)"
    )
    add_run_options(parser, port=7633)
    parser.add_argument(
        "--hot-path-only", action="store_true", help="only the reservation hot path (no server)"
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="worker processes, for orders and baseline (1)"
    )
    options = parser.parse_args()
    data_dir = state_folder(options, "oms-bench-")
    console = Console()
    configure_logging(LogFormat.CONSOLE, "WARNING")
    figures = asyncio.run(run_benchmark(options, data_dir, console))
    console.print(figures_table(figures))
    save_figures(options, figures)


if __name__ == "__main__":
    exit_after(main)
