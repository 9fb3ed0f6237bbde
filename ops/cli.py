"""``oms``: the command line for support staff and operators."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from datetime import UTC, datetime
from typing import Annotated

import typer
from pydantic import BaseModel, ValidationError
from rich.markup import escape
from rich.progress import Progress
from sqlalchemy.exc import DBAPIError

from domain.credit import APPROVE_SIGNAL, REJECT_SIGNAL
from domain.escalation import EXTEND_DEADLINE_SIGNAL, DeadlineExtension
from domain.messages import describe_validation_error
from domain.orders import (
    CANCEL_SIGNAL,
    PAYMENT_RECEIVED_SIGNAL,
    RETRY_COMPENSATION_SIGNAL,
    STATUS_QUERY,
    OrderStatus,
    OrderView,
    StaffDecision,
    order_workflow_id,
)
from domain.settlement import IncomingPayment
from domain.shipping import (
    CARRIER_EVENT_SIGNAL,
    PARCEL_PACKED_SIGNAL,
    RESOLVE_SHIPMENT_SIGNAL,
    Milestone,
    ParcelPacked,
    ParcelProblem,
    ShipmentAction,
    ShipmentResolution,
    TrackingEvent,
    shipment_workflow_id,
)
from domain.supply import SUPPLY_RECEIVED_SIGNAL, SupplyReceipt, supply_workflow_id
from persistence.database import Database
from persistence.invariants import (
    Violation,
    check_database,
    unclosed_complaint_ids,
    unfinished_order_ids,
)
from persistence.migrate import new_revision, upgrade
from persistence.order_views import list_orders, order_view
from persistence.unavailable import not_migrated, unavailable
from runtime.logging import configure_logging
from runtime.settings import Settings
from runtime.shutdown import exit_after
from runtime.temporal import connect
from runtime.workers import BusinessDatabaseMissingError, open_database

from ._console import (
    PROGRESS_COLUMNS,
    ActorOption,
    JsonOption,
    OrderIdArgument,
    ReasonOption,
    console,
    errors,
    fail,
)
from .api_keys import api_keys_app
from .catalogue import catalogue_app
from .checks import failing_workflows, stuck_complaints, stuck_orders, with_failing_workflows
from .complaint_case import show_complaint
from .complaints import complaints_app
from .customers import customers_app
from .history import HistoryError, write_demo_history
from .rendering import history_table, order_timeline, summary_table, violation_table
from .replenishment import replenishment_app
from .staff import StaffAction, StaffActionError, perform
from .stock import stock_app
from .stocktakes import stocktake_app
from .users import users_app

app = typer.Typer(
    help="Order management on Temporal: run, inspect and act on orders.", no_args_is_help=True
)
orders_app = typer.Typer(help="Lists of orders from the business database.", no_args_is_help=True)
db_app = typer.Typer(help="The business database.", no_args_is_help=True)
supply_app = typer.Typer(help="Production and purchase orders.", no_args_is_help=True)
carrier_app = typer.Typer(help="Tracking events entered by hand.", no_args_is_help=True)
shipment_app = typer.Typer(help="Decisions about parcels.", no_args_is_help=True)
parcel_app = typer.Typer(help="The warehouse's part in a parcel.", no_args_is_help=True)
app.add_typer(orders_app, name="orders")
app.add_typer(supply_app, name="supply")
app.add_typer(carrier_app, name="carrier")
app.add_typer(shipment_app, name="shipment")
app.add_typer(parcel_app, name="parcel")
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(api_keys_app, name="api-keys")
app.add_typer(catalogue_app, name="catalogue")
app.add_typer(customers_app, name="customers")
complaints_app.command("show")(show_complaint)
app.add_typer(complaints_app, name="complaints")
app.add_typer(stock_app, name="stock")
app.add_typer(replenishment_app, name="replenishment")
app.add_typer(stocktake_app, name="stocktake")


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
    from .demo import DemoTimeoutError, run_demo  # the console and worker: imported on use

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
    async with open_database(settings) as db:
        return await db.run(order_view, db, order_id)


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
    needs_attention: Annotated[
        bool,
        typer.Option(
            "--needs-attention",
            help="Only orders waiting for a person, those stuck on a failing workflow task first.",
        ),
    ] = False,
    escalated: Annotated[
        int,
        typer.Option("--escalated", help="Only orders at this escalation level or higher.", min=0),
    ] = 0,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many.")] = 50,
    as_json: JsonOption = False,
) -> None:
    """List orders, most recently changed first."""

    async def load() -> list[str]:
        settings = Settings()
        async with open_database(settings) as db:
            rows = await db.run(
                list_orders,
                db,
                statuses=status or (),
                customer_id=customer,
                needs_attention=needs_attention,
                escalated=escalated,
                limit=limit,
            )
        if needs_attention:  # orders stuck on a failing workflow task cannot say so themselves
            failing = await failing_workflows(await connect(settings))
            rows = with_failing_workflows(rows, failing)[:limit]
        if as_json:
            return [row.model_dump_json() for row in rows]
        console.print(summary_table(rows))
        return []

    rows = asyncio.run(load())
    if as_json:
        console.print_json("[" + ",".join(rows) + "]")


def _decision(actor: str, reason: str) -> StaffDecision:
    """Who acts and why, or a clear error when either is empty or too long."""
    try:
        return StaffDecision(actor=actor, reason=reason)
    except ValidationError as invalid:
        problem = invalid.errors()[0]
        field = problem["loc"][0]
        option = "--as" if field == "actor" else "--reason"
        raise fail(f"{option} {problem['input']!r}: {problem['msg']}") from invalid


def _act(action: StaffAction, argument: BaseModel, as_json: bool) -> None:
    """Perform a staff action and report the workflow's answer (or why it was refused)."""

    async def go() -> str:
        return await perform(await connect(Settings()), action, argument)

    try:
        answer = asyncio.run(go())
    except StaffActionError as refused:
        if as_json:
            console.print_json(
                json.dumps({"target": action.workflow_id, "accepted": False, "error": str(refused)})
            )
        raise fail(str(refused)) from refused
    if as_json:
        console.print_json(
            json.dumps({"target": action.workflow_id, "accepted": True, "answer": answer})
        )
    else:
        console.print(answer)


def _order_action(order_id: str, signal: str) -> StaffAction:
    return StaffAction(order_workflow_id(order_id), signal, f"order {order_id}")


def _decision_command(name: str, signal: str, summary: str) -> None:
    """Register ``oms NAME ORDER_ID --reason TEXT [--as NAME]``, sending ``signal``'s update."""

    def command(
        order_id: OrderIdArgument,
        reason: ReasonOption,
        actor: ActorOption,
        as_json: JsonOption = False,
    ) -> None:
        _act(_order_action(order_id, signal), _decision(actor, reason), as_json)

    command.__doc__ = summary
    app.command(name)(command)


_decision_command("approve", APPROVE_SIGNAL, "Approve an order held for credit review.")
_decision_command("reject", REJECT_SIGNAL, "Reject an order held for credit review.")
_decision_command(
    "cancel", CANCEL_SIGNAL, "Cancel an order before dispatch; every step done so far is undone."
)
_decision_command(
    "retry",
    RETRY_COMPENSATION_SIGNAL,
    "Retry the undo step of an order that NEEDS_ATTENTION (after fixing its cause).",
)


@app.command()
def extend(
    order_id: OrderIdArgument,
    until: Annotated[
        datetime,
        typer.Option(
            "--until",
            help="New deadline, ISO 8601 (e.g. 2026-12-01T09:00); UTC when no zone is given.",
            formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d"],
        ),
    ],
    reason: ReasonOption,
    actor: ActorOption,
    as_json: JsonOption = False,
) -> None:
    """Move the next escalation of whatever the order waits for (approval, supply, parcel)."""
    deadline = until if until.tzinfo else until.replace(tzinfo=UTC)
    decision = _decision(actor, reason)
    extension = DeadlineExtension(
        actor=decision.actor, reason=decision.reason, new_deadline=deadline
    )
    _act(_order_action(order_id, EXTEND_DEADLINE_SIGNAL), extension, as_json)


@app.command()
def pay(
    order_id: OrderIdArgument,
    amount: Annotated[
        str, typer.Argument(help="Amount received: digits, at most two decimals, e.g. 120.50.")
    ],
    actor: ActorOption,
    bank_ref: Annotated[
        str | None,
        typer.Option(
            "--bank-ref",
            help="The bank's transaction id; the same id twice counts once "
            "(default: manual-ORDER-AMOUNT-DATE, so repeating the command today changes nothing).",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Book money received for a net-terms order, in the name of whoever --as says."""
    # Taken as text and read by the payment itself: Decimal would read 1e9 as a number.
    amount = amount.strip()
    payment_id = bank_ref or f"manual-{order_id}-{amount}-{datetime.now(UTC):%Y%m%d}"
    try:
        payment = IncomingPayment.model_validate(
            {"payment_id": payment_id[:64], "amount": amount, "actor": actor}
        )
    except ValidationError as invalid:
        reasons = "; ".join(describe_validation_error(invalid))
        raise fail(f"payment: {reasons} (amount {amount})") from invalid
    _act(_order_action(order_id, PAYMENT_RECEIVED_SIGNAL), payment, as_json)


@supply_app.command("receive")
def supply_receive(
    order_id: OrderIdArgument,
    line_no: Annotated[int, typer.Argument(help="The order line the supply order is for.", min=1)],
    quantity: Annotated[int, typer.Argument(help="Units delivered.", min=1, max=100_000)],
    note: Annotated[
        str, typer.Option("--note", help="Delivery note number; the same note twice counts once.")
    ],
    actor: ActorOption,
    as_json: JsonOption = False,
) -> None:
    """Units of a production or purchase order arrived (partial deliveries allowed)."""
    action = StaffAction(
        supply_workflow_id(order_id, line_no),
        SUPPLY_RECEIVED_SIGNAL,
        f"supply for order {order_id} line {line_no}",
    )
    _act(action, SupplyReceipt(receipt_id=note, quantity=quantity, actor=actor), as_json)


@carrier_app.command("event")
def carrier_event(
    shipment_id: Annotated[str, typer.Argument(help="The parcel, e.g. WEB-10001-S1.")],
    milestone: Annotated[Milestone, typer.Argument(help="What happened.", case_sensitive=False)],
    problem: Annotated[
        ParcelProblem | None,
        typer.Option("--problem", help="For an exception: lost or damaged.", case_sensitive=False),
    ] = None,
    detail: Annotated[str, typer.Option("--detail", help="The carrier's words.")] = "",
    as_json: JsonOption = False,
) -> None:
    """Enter a tracking event for a parcel by hand (as the carrier would send it)."""
    if problem is not None and milestone is not Milestone.EXCEPTION:
        raise fail(f"--problem {problem.value} needs milestone exception, not {milestone.value}")
    event = TrackingEvent(milestone=milestone, at=datetime.now(UTC), detail=detail, problem=problem)
    action = StaffAction(
        shipment_workflow_id(shipment_id), CARRIER_EVENT_SIGNAL, f"parcel {shipment_id}"
    )
    _act(action, event, as_json)


@shipment_app.command("resolve")
def shipment_resolve(
    shipment_id: Annotated[str, typer.Argument(help="The parcel, e.g. WEB-10001-S1.")],
    action: Annotated[
        ShipmentAction,
        typer.Argument(help="reship, refund, or wait (late parcels only).", case_sensitive=False),
    ],
    reason: ReasonOption,
    actor: ActorOption,
    as_json: JsonOption = False,
) -> None:
    """Decide about a lost, damaged or very late parcel."""
    resolution = ShipmentResolution(action=action, decision=_decision(actor, reason))
    target = StaffAction(
        shipment_workflow_id(shipment_id), RESOLVE_SHIPMENT_SIGNAL, f"parcel {shipment_id}"
    )
    _act(target, resolution, as_json)


@parcel_app.command("packed")
def parcel_packed(
    shipment_id: Annotated[str, typer.Argument(help="The parcel, e.g. WEB-10001-S1.")],
    actor: ActorOption,
    packages: Annotated[int, typer.Option("--packages", help="How many packages.")] = 1,
    note: Annotated[str, typer.Option("--note", help="Anything the carrier should know.")] = "",
    as_json: JsonOption = False,
) -> None:
    """The parcel is picked and packed: the carrier is booked (warehouses that confirm
    packing; others book at once)."""
    try:
        packed = ParcelPacked(actor=actor, packages=packages, note=note)
    except ValidationError as invalid:
        raise fail("; ".join(describe_validation_error(invalid))) from invalid
    target = StaffAction(
        shipment_workflow_id(shipment_id), PARCEL_PACKED_SIGNAL, f"parcel {shipment_id}"
    )
    _act(target, packed, as_json)


@app.command()
def check(
    with_temporal: Annotated[
        bool,
        typer.Option(
            "--temporal/--no-temporal",
            help="Also check that every unfinished order and every complaint not yet "
            "closed has a running workflow.",
        ),
    ] = True,
    as_json: JsonOption = False,
) -> None:
    """Check the invariants: stock and money conservation, nothing open, nothing stuck."""
    violations = asyncio.run(_violations(Settings(), with_temporal))
    if as_json:
        console.print_json(json.dumps([violation.model_dump() for violation in violations]))
    elif violations:
        console.print(violation_table(violations))
    else:
        console.print("All invariants hold.")
    if violations:
        raise typer.Exit(code=1)


async def _violations(settings: Settings, with_temporal: bool) -> list[Violation]:
    def read(db: Database) -> tuple[list[Violation], list[str], list[int]]:
        with db.reading() as session:
            return (
                check_database(session),
                unfinished_order_ids(session),
                unclosed_complaint_ids(session),
            )

    async with open_database(settings) as db:
        violations, unfinished, complaints = await db.run(read, db)
    if with_temporal:
        client = await connect(settings)
        violations += await stuck_orders(client, unfinished)
        violations += await stuck_complaints(client, complaints)
    return violations


@app.command("demo-history")
def demo_history(
    orders: Annotated[
        int, typer.Option("--orders", min=1, max=2_000_000, help="Finished orders to write.")
    ] = 5_000,
    days: Annotated[
        int, typer.Option("--days", min=1, max=3_650, help="Days back the history begins.")
    ] = 365,
    seed: Annotated[int, typer.Option("--seed", help="The same seed writes the same past.")] = 1,
    open_orders: Annotated[
        int,
        typer.Option(
            "--open",
            min=0,
            max=1_000,
            help="Also submit this many new orders by the history's customers through "
            "Temporal (signal-with-start); workers take them on.",
        ),
    ] = 0,
    as_json: JsonOption = False,
) -> None:
    """Write a realistic past into the business database (through the workers' transactions)."""
    settings = Settings()
    try:
        with Progress(*PROGRESS_COLUMNS, console=errors, transient=True) as bar:
            task = bar.add_task("writing history", total=orders)

            def show(finished: int, planned: int) -> None:
                bar.update(task, completed=finished, total=planned)

            summary = asyncio.run(
                write_demo_history(settings, orders, days, seed, open_orders, show)
            )
    except HistoryError as refused:
        raise fail(str(refused)) from refused
    if as_json:
        console.print_json(summary.model_dump_json())
    else:
        console.print(history_table(summary))


@app.command("serve")
def serve_console(
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (default: OMS_WEB_HOST).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: OMS_WEB_PORT).")] = None,
) -> None:
    """Run the staff console and the HTTP API on the business database until Ctrl-C."""
    from .serve import serve  # the web application: imported on use

    settings = Settings()
    settings = settings.model_copy(
        update={"web_host": host or settings.web_host, "web_port": port or settings.web_port}
    )
    console.print(f"Console and API on http://{settings.web_host}:{settings.web_port}/")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(settings))


@app.command("codec-server")
def codec_server(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "0.0.0.0",
) -> None:
    """Serve the payload codec for the Web UI and the CLI (token and origins from settings)."""
    from runtime.codec_server import running_codec_server

    settings = Settings()

    async def serve() -> None:
        async with running_codec_server(
            settings.load_key_ring(),
            settings.load_codec_token(),
            settings.resolved_codec_ui_origins,
            host,
            settings.resolved_codec_port,
        ):
            await asyncio.Event().wait()

    configure_logging(settings.log_format, settings.log_level)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the business database to the newest schema."""
    settings = Settings()
    settings.prepare_data_dir()
    upgrade(settings.resolved_database_url)
    console.print(f"Migrated {settings.shown_database_url} to head.")


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
    from persistence.demo_catalogue import seed_demo_catalogue

    async def seed() -> bool:
        async with open_database(Settings()) as db:
            return await db.run(seed_demo_catalogue, db)

    seeded = asyncio.run(seed())
    console.print("Seeded the demo catalogue." if seeded else "Database already has customers.")


def main() -> None:
    """The ``oms`` command: run it, then exit with its status (see :mod:`runtime.shutdown`)."""
    exit_after(_run_explaining_database_errors)


def _run_explaining_database_errors() -> None:
    """Run the command; a database that cannot answer is one line naming it, not a traceback:
    busy or not reachable says to try again; only a missing table or column (a database
    older than this version) says to run ``oms db upgrade``."""
    try:
        app()
    except BusinessDatabaseMissingError as missing:
        errors.print(f"[red]error:[/red] {escape(str(missing))}", soft_wrap=True)
        raise SystemExit(1) from None
    except DBAPIError as error:
        cause = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        shown = Settings().shown_database_url
        why = unavailable(error)
        if why is not None:
            message = f"the business database {shown} is {why} ({cause}): try again"
        elif not_migrated(error):
            message = (
                f"business database {shown}: {cause}. "
                "If it is new, or older than this version, run `oms db upgrade`."
            )
        else:
            message = f"business database {shown}: {cause}"
        errors.print(f"[red]error:[/red] {escape(message)}", soft_wrap=True)
        raise SystemExit(1) from None
