"""``oms customers …``: customer records from and to CSV, one customer shown, deactivated or
activated again. Every change is audited with who made it (``--as``, default $USER)."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy

from domain.credit_scoring import CustomerReviewOutcome
from domain.orders import TASK_QUEUE
from domain.segments import (
    CUSTOMER_REVIEW_WORKFLOW_ID,
    CUSTOMER_REVIEW_WORKFLOW_TYPE,
    CustomerReviewRequest,
)
from persistence.customer_files import export_customers, import_customers
from persistence.customer_views import customer_history
from persistence.database import Database
from persistence.transactions.customers import find_customer, save_customers
from persistence.transactions.privacy import (
    ErasureRefusedError,
    erase_customer,
    export_customer_data,
)
from runtime.settings import Settings
from runtime.temporal import connect
from runtime.workers import open_database

from ._console import ActorOption, JsonOption, console, fail
from .catalogue import read_csv_argument, report_import, write_output
from .rendering import customer_review_table

customers_app = typer.Typer(
    help="Customers: records from and to CSV, one shown, deactivated.", no_args_is_help=True
)

ResultT = TypeVar("ResultT")
CustomerArgument = Annotated[str, typer.Argument(help="The customer id, e.g. CUST-ACME.")]


def _on_database(step: Callable[[Database], ResultT]) -> ResultT:
    async def run() -> ResultT:
        async with open_database(Settings()) as db:
            return await db.run(step, db)

    return asyncio.run(run())


@customers_app.command("import")
def import_file(
    path: Annotated[Path, typer.Argument(help="CSV file (UTF-8), or - for standard input.")],
    actor: ActorOption,
) -> None:
    """Create or update customers from a CSV file; nothing is written if any row is bad,
    and a known customer keeps the fields the file has no column for."""
    text = read_csv_argument(path)
    report_import(path, lambda: _on_database(lambda db: import_customers(db, text, actor)))


@customers_app.command("export")
def export_file(
    path: Annotated[
        Path | None, typer.Argument(help="Where to write the CSV (default: standard output).")
    ] = None,
) -> None:
    """Write every customer as CSV, as ``oms customers import`` reads it (personal data:
    keep the file safe)."""
    write_output(_on_database(export_customers), path)


@customers_app.command("show")
def show(customer_id: CustomerArgument, as_json: JsonOption = False) -> None:
    """One customer: the record, purchases and payment behaviour."""
    today = datetime.now(UTC).date()

    def read(db: Database) -> tuple[Any, Any]:
        record = find_customer(db, customer_id)
        return record, None if record is None else customer_history(db, customer_id, today=today)

    record, history = _on_database(read)
    if record is None:
        raise fail(f"no customer {customer_id!r}")
    if as_json:
        console.print_json(
            data={
                "record": record.model_dump(mode="json"),
                "history": history.model_dump(mode="json"),
            }
        )
        return
    state = "active" if record.active else "deactivated"
    console.print(f"{record.id} · {record.name} <{record.email}> · {state}", highlight=False)
    console.print(
        f"{record.payment_terms} {record.net_days} days · credit limit {record.credit_limit} "
        f"{record.currency} · standing {record.standing}",
        highlight=False,
    )
    payments = history.payments
    console.print(
        f"{history.orders_kept} orders, spend {history.spend} {record.currency}; "
        f"{payments.paid}/{payments.invoices} invoices paid, {payments.overdue} overdue, "
        f"highest dunning rung {payments.highest_dunning_rung}",
        highlight=False,
    )


async def classify_now(client: Client, task_queue: str = TASK_QUEUE) -> CustomerReviewOutcome:
    """Run the customer review now (as the nightly schedule does) and wait for what it
    did (one at a time)."""
    outcome: CustomerReviewOutcome = await client.execute_workflow(
        CUSTOMER_REVIEW_WORKFLOW_TYPE,
        CustomerReviewRequest(),
        id=CUSTOMER_REVIEW_WORKFLOW_ID,
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        result_type=CustomerReviewOutcome,
    )
    return outcome


@customers_app.command("classify")
def classify() -> None:
    """Classify every customer now (RFM segment, ABC class) and evaluate their credit, as
    the nightly schedule does; print how many are in each segment and who moved."""

    async def run() -> CustomerReviewOutcome:
        return await classify_now(await connect(Settings()))

    console.print(customer_review_table(asyncio.run(run())))


def _set_active(customer_id: str, active: bool, actor: str) -> None:
    def change(db: Database) -> bool:
        record = find_customer(db, customer_id)
        if record is None:
            raise KeyError(customer_id)
        loaded = save_customers(db, [record.model_copy(update={"active": active})], actor)
        return bool(loaded.updated)

    try:
        changed = _on_database(change)
    except KeyError:
        raise fail(f"no customer {customer_id!r}") from None
    state = "active" if active else "deactivated"
    console.print(f"{customer_id}: {state}" + ("" if changed else " already"))


@customers_app.command("deactivate")
def deactivate(customer_id: CustomerArgument, actor: ActorOption) -> None:
    """Stop a customer ordering (new orders are rejected); the history stays."""
    _set_active(customer_id, False, actor)


@customers_app.command("activate")
def activate(customer_id: CustomerArgument, actor: ActorOption) -> None:
    """Let a deactivated customer order again."""
    _set_active(customer_id, True, actor)


@customers_app.command("export-data")
def export_data(
    customer_id: CustomerArgument,
    path: Annotated[
        Path | None, typer.Argument(help="Where to write the JSON (default: standard output).")
    ] = None,
) -> None:
    """Everything held about one customer, as JSON (a data subject's access request)."""
    retention_days = Settings().retention_days
    data = _on_database(
        lambda db: export_customer_data(db, customer_id, retention_days=retention_days)
    )
    if data is None:
        raise fail(f"no customer {customer_id!r}")
    text = json.dumps(data, indent=2, ensure_ascii=False)
    if path is None:
        sys.stdout.write(text + "\n")
    else:
        path.write_text(text + "\n", encoding="utf-8")


@customers_app.command("erase")
def erase(
    customer_id: CustomerArgument,
    actor: ActorOption,
    yes: Annotated[bool, typer.Option("--yes", help="Erase without asking.")] = False,
) -> None:
    """Erase a customer's personal data for good; invoices and the archive keep the
    business record by id. Refused while any of their orders is still running."""
    if not yes:
        typer.confirm(f"Erase every piece of personal data of {customer_id}?", abort=True)
    try:
        erased = _on_database(lambda db: erase_customer(db, customer_id, actor))
    except ErasureRefusedError as refused:
        raise fail(str(refused)) from refused
    console.print(
        f"{customer_id}: erased; {erased.orders} order(s) without address, "
        f"{erased.audit_values} audited value(s), {erased.messages} message(s) and "
        f"{erased.staff_texts} staff text(s) blanked",
        highlight=False,
    )
    if not erased.old_versions_removed:
        console.print(
            "warning: a reader kept the database's write-ahead log open, so earlier versions "
            "of the erased values stay in it until the next erasure or a restart",
            style="yellow",
            highlight=False,
        )
