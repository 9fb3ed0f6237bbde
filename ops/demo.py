"""The main job on the embedded default: server, worker, demo orders, final table."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import socket
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import structlog
import uvicorn
from pydantic import BaseModel
from rich.console import Console
from rich.progress import Progress
from temporalio.client import Client

from domain.catalogue import PaymentTerms
from domain.credit import APPROVE_SIGNAL
from domain.escalation import EXTEND_DEADLINE_SIGNAL, DeadlineExtension
from domain.orders import (
    CANCEL_SIGNAL,
    PAYMENT_RECEIVED_SIGNAL,
    OrderStatus,
    OrderView,
    StaffDecision,
    SupplyView,
    order_workflow_id,
)
from domain.settlement import IncomingPayment
from domain.supply import SUPPLY_RECEIVED_SIGNAL, SupplyReceipt, SupplyStatus, supply_workflow_id
from persistence.database import Database
from persistence.demo_catalogue import seed_demo_catalogue
from persistence.migrate import upgrade
from persistence.order_views import order_view, order_views
from persistence.transactions import accounts
from runtime.logging import configure_logging
from runtime.schedules import ensure_schedules
from runtime.settings import LogFormat, Settings
from runtime.temporal import connect, register_search_attributes, temporal_server
from runtime.workers import open_database, order_worker
from web.app import create_app

from ._clock import utcnow
from ._console import PROGRESS_COLUMNS
from .complaints import complaint_table, file_demo_complaints
from .customers import classify_now
from .history import HistoryError, write_history
from .rendering import customer_review_table, inventory_review_table, order_table
from .replenishment import review_now
from .staff import StaffAction, StaffActionError, perform
from .submissions import DemoRole, demo_submissions, held_order_for_operator, submit

log = structlog.get_logger(__name__)

POLL_SECONDS = 0.5
DEMO_DEADLINE_SECONDS = 300.0


class DemoTimeoutError(RuntimeError):
    """The demo orders did not all finish in time."""


async def prepare_database(settings: Settings) -> bool:
    """Migrate the embedded default's business database to head and seed the demo catalogue
    if it is empty (so the example orders can be taken at once); True if it seeded."""
    settings.prepare_data_dir()
    await asyncio.to_thread(upgrade, settings.resolved_database_url)
    async with open_database(settings) as db:
        return await db.run(seed_demo_catalogue, db)


class DemoCast:
    """Plays everyone outside the system for the demo orders, through the same doors they use.

    The customer's bank pays delivered net-terms invoices (signal), the
    simulated factory and supplier deliver open supply orders in full (update,
    as ``oms supply receive``), and support staff approve or cancel the orders
    whose demo role says so (update, as ``oms approve`` / ``oms cancel``).
    """

    def __init__(self, client: Client, roles: dict[str, DemoRole]) -> None:
        self._client = client
        self._roles = roles
        self._done: set[tuple[str, str]] = set()
        self.order_ids = list(roles)

    async def act(self, view: OrderView) -> None:
        """Do whatever is due for this order now, each thing once."""
        role = self._roles.get(view.order_id, DemoRole.NONE)
        if view.status is OrderStatus.AWAITING_APPROVAL and role is DemoRole.APPROVE:
            decision = StaffDecision(actor="demo-support", reason="credit limit raised by phone")
            await self._once(view, "approve", APPROVE_SIGNAL, decision)
        if view.status is OrderStatus.AWAITING_SUPPLY and any(s.kind for s in view.supply):
            if role is DemoRole.CANCEL:
                decision = StaffDecision(actor="demo-support", reason="customer cannot wait")
                await self._once(view, "cancel", CANCEL_SIGNAL, decision)
            else:
                for supply in view.supply:
                    await self._deliver(view, supply)
        if (
            view.money.payment_terms == PaymentTerms.NET
            and view.status is OrderStatus.DELIVERED
            and (view.order_id, "pay") not in self._done
        ):
            payment = IncomingPayment(
                payment_id=f"SIMBANK-{view.order_id}", amount=view.money.total
            )
            handle = self._client.get_workflow_handle(order_workflow_id(view.order_id))
            await handle.signal(PAYMENT_RECEIVED_SIGNAL, payment)
            self._done.add((view.order_id, "pay"))

    async def _deliver(self, view: OrderView, supply: SupplyView) -> None:
        outstanding = supply.quantity - supply.received
        placed = bool(supply.kind)  # refused (and recorded) before the partner confirmed it
        if supply.status != SupplyStatus.OPEN.value or outstanding <= 0 or not placed:
            return
        key = (view.order_id, f"deliver:{supply.line_no}")
        if key in self._done:
            return
        action = StaffAction(
            supply_workflow_id(view.order_id, supply.line_no),
            SUPPLY_RECEIVED_SIGNAL,
            f"supply for order {view.order_id} line {supply.line_no}",
        )
        receipt = SupplyReceipt(
            receipt_id=f"SIMDN-{view.order_id}-L{supply.line_no}", quantity=outstanding
        )
        if await self._try(action, receipt):
            self._done.add(key)

    async def _once(self, view: OrderView, what: str, signal: str, argument: StaffDecision) -> None:
        key = (view.order_id, what)
        if key in self._done:
            return
        action = StaffAction(order_workflow_id(view.order_id), signal, f"order {view.order_id}")
        if await self._try(action, argument):
            self._done.add(key)

    async def _try(self, action: StaffAction, argument: BaseModel) -> bool:
        """Act; a refusal means the workflow is not there yet (the read model ran ahead)."""
        try:
            await perform(self._client, action, argument)
        except StaffActionError as refused:
            log.info("demo action not taken yet", reason=str(refused))
            return False
        return True


async def follow_orders(
    db: Database, order_ids: Sequence[str], console: Console, cast: DemoCast
) -> list[OrderView]:
    """Show progress until every order has finished; returns their final views."""
    with Progress(*PROGRESS_COLUMNS, console=console, transient=True) as progress:
        task = progress.add_task("orders running", total=len(order_ids))
        deadline = asyncio.get_running_loop().time() + DEMO_DEADLINE_SECONDS
        while True:
            views = await db.run(order_views, db, order_ids)
            known = [view for view in views if view is not None]
            for view in known:
                await cast.act(view)
            finished = sum(view.status.is_final for view in known)
            stages = sorted({view.status.value for view in known if not view.status.is_final})
            progress.update(
                task, completed=finished, description=f"orders running {' '.join(stages)}".strip()
            )
            if finished == len(order_ids):
                return known
            if asyncio.get_running_loop().time() > deadline:
                unfinished = ", ".join(
                    f"{view.order_id} ({view.status.value})"
                    for view in known
                    if not view.status.is_final
                )
                raise DemoTimeoutError(
                    f"{len(order_ids) - finished} demo order(s) unfinished after "
                    f"{DEMO_DEADLINE_SECONDS:.0f}s: {unfinished or 'not yet recorded'}; "
                    "see the Web UI and the worker log"
                )
            await asyncio.sleep(POLL_SECONDS)


OPERATOR_QUERY = "OrderStatus = 'AWAITING_APPROVAL' AND EscalationLevel >= 2"


async def leave_an_escalated_order(client: Client, db: Database) -> str:
    """Submit an order held for credit review and escalate it twice, for an operator to find.

    The demo's supervisor pulls the approval deadline forward twice (``extend``
    to a second from now), so the ladder's first two rungs fall due at once.
    """
    order = held_order_for_operator(utcnow().strftime("%d%H%M%S"))
    await submit(client, order, db)
    action = StaffAction(
        order_workflow_id(order.order_id), EXTEND_DEADLINE_SIGNAL, f"order {order.order_id}"
    )
    for level in (1, 2):
        while True:
            view = await db.run(order_view, db, order.order_id)
            if view is not None and view.escalation_level >= level:
                break
            if view is not None and view.status is OrderStatus.AWAITING_APPROVAL:
                soon = datetime.now(UTC) + timedelta(seconds=1)
                extension = DeadlineExtension(
                    actor="demo-supervisor", reason="demo: escalate now", new_deadline=soon
                )
                with contextlib.suppress(StaffActionError):  # not held yet: try again
                    await perform(client, action, extension)
            await asyncio.sleep(POLL_SECONDS * 3)
    return order.order_id


DEMO_LOGINS = "demo-logins"
"""File in the data folder with the demo users' passwords (0600)."""


async def serve_console(settings: Settings, db: Database, client: Client, console: Console) -> None:
    """Serve the staff console until Ctrl-C, with one demo user per role (logins shown once)."""
    if not port_is_free(settings.web_host, settings.web_port):
        console.print(
            f"\nThe staff console was not started: {settings.web_host}:{settings.web_port} is "
            "taken (set OMS_WEB_PORT to another port). The server and worker keep running."
        )
        await asyncio.Event().wait()
    logins_file = settings.data_dir / DEMO_LOGINS
    made = await db.run(accounts.ensure_demo_users, db, logins_file)
    address = f"http://{settings.web_host}:{settings.web_port}/"
    console.print(f"\nStaff console: {address}")
    if made:
        console.print(f"Demo logins (shown once; also in {logins_file}, readable only by you):")
        for username, password in made.items():
            console.print(f"  {username}  {password}", highlight=False)
    else:
        console.print(f"Demo logins: {logins_file}")
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, db, client),
            host=settings.web_host,
            port=settings.web_port,
            log_config=None,
            access_log=False,
        )
    )
    await server.serve()


def port_is_free(host: str, port: int) -> bool:
    """Whether something may listen on ``host``:``port`` now (as uvicorn binds: a port
    left in TIME_WAIT by an earlier run counts as free)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def operator_walkthrough(settings: Settings, order_id: str) -> str:
    """What an operator can try now that the demo has finished."""
    workflows = f"{settings.ui_url}/namespaces/{settings.temporal_namespace}/workflows"
    return (
        f"\nOrder {order_id} is held for credit review and escalated twice. Try the operator's "
        f"path:\n  1. open {workflows} and query:  {OPERATOR_QUERY}\n"
        f"  2. to read it decrypted, click the glasses icon (Configure Codec Server, top right), "
        f"choose my browser's endpoint and enter "
        f"http://localhost:{settings.resolved_codec_port}/t/<token from "
        f"{settings.data_dir / 'codec-token'}>; or in a terminal:\n"
        f"     .venv/bin/temporal workflow show -w {order_workflow_id(order_id)} "
        f"--codec-endpoint http://localhost:{settings.resolved_codec_port} "
        f'--codec-auth "Bearer $(cat {settings.data_dir / "codec-token"})"\n'
        f"  3. in another terminal:  .venv/bin/oms approve {order_id} --reason 'checked'\n"
        f"  4. once delivered it waits for the money:  .venv/bin/oms pay {order_id} 99.50\n"
        "Press Ctrl-C to stop the server, the worker and the console."
    )


async def submit_demo_orders(client: Client, db: Database) -> DemoCast:
    """Submit the demo set; the cast that will play staff and partners for it."""
    demo = demo_submissions(utcnow().strftime("%d%H%M%S"))
    for submission, _ in demo:
        await submit(client, submission, db)
    return DemoCast(client, {submission.order_id: role for submission, role in demo})


DEMO_HISTORY = {"orders": 600, "days": 120, "seed": 1}
"""The past ``oms demo`` writes for the console's lists (``oms demo-history`` writes more)."""


async def write_modest_history(db: Database, console: Console) -> None:
    """Give the console a past to show, once per database (after the demo orders, so their
    outcome never depends on the history's stock)."""
    with Progress(*PROGRESS_COLUMNS, console=console, transient=True) as bar:
        task = bar.add_task("writing a history", total=DEMO_HISTORY["orders"])
        try:
            summary = await db.run(
                functools.partial(
                    write_history,
                    progress=lambda done, planned: bar.update(task, completed=done, total=planned),
                ),
                db,
                **DEMO_HISTORY,
            )
        except HistoryError:
            return  # written by an earlier run
    console.print(
        f"Wrote a history of {summary.orders:,} finished orders over {DEMO_HISTORY['days']} days "
        "for the console (oms demo-history writes more)."
    )


async def run_the_reviews(client: Client, console: Console) -> None:
    """Run the inventory and customer reviews now, as their schedules will later, so the
    forecasts, alerts, replenishment proposals, segments and credit proposals are there
    the first time someone opens the console."""
    console.print(inventory_review_table(await review_now(client)))
    console.print(customer_review_table(await classify_now(client)))


async def run_demo(settings: Settings, console: Console, keep_running: bool) -> list[OrderView]:
    """Run the embedded default end to end and print each demo order's final status."""
    settings.prepare_data_dir()
    log_path = settings.data_dir / "worker.log"
    with log_path.open("a", encoding="utf-8") as log_file:
        configure_logging(LogFormat.JSON, settings.log_level, stream=log_file)
        console.print(f"Business database: {settings.resolved_database_url}")
        if await prepare_database(settings):
            console.print("Seeded the demo catalogue (customers, products, stock).")
        async with open_database(settings, threads=settings.worker_database_threads) as db:
            console.print("Starting the Temporal dev server (or reusing a running one)...")
            async with temporal_server(settings) as address:
                client = await connect(settings, address)
                await register_search_attributes(client)
                console.print(f"Temporal at {address}; Web UI: {settings.ui_url}")
                if not settings.temporal_address:
                    console.print(
                        "Payloads are encrypted; to read them in the Web UI set its codec "
                        f"endpoint to http://localhost:{settings.resolved_codec_port}/t/<token> "
                        f"(token in {settings.data_dir / 'codec-token'}; see README)"
                    )
                await ensure_schedules(client, settings)
                async with order_worker(client, db, settings):
                    cast = await submit_demo_orders(client, db)
                    console.print(
                        f"Submitted {len(cast.order_ids)} orders by signal-with-start; "
                        f"worker log: {log_path}"
                    )
                    views = await follow_orders(db, cast.order_ids, console, cast)
                    console.print(order_table(views))
                    tag = views[0].order_id.rsplit("-", 1)[-1] if views else "demo"
                    cases = await file_demo_complaints(
                        client, db, settings.complaint_policy(), views, tag
                    )
                    console.print(complaint_table(cases))
                    if keep_running:
                        await write_modest_history(db, console)
                    await run_the_reviews(client, console)
                    if keep_running:
                        held = await leave_an_escalated_order(client, db)
                        console.print(operator_walkthrough(settings, held))
                        await serve_console(settings, db, client, console)
    logging.getLogger().handlers.clear()
    return views
