"""End to end on the Temporal dev server with the real worker, activities and database."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from google.protobuf import json_format
from rich.console import Console
from sqlalchemy import func, select
from temporalio import workflow
from temporalio.api.common.v1 import Payloads
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import Client
from temporalio.common import RawValue, WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker
from typer.testing import CliRunner, Result

from domain.credit import APPROVE_SIGNAL
from domain.customers import CustomerRecord
from domain.escalation import EXTEND_DEADLINE_SIGNAL, DeadlineExtension
from domain.intake import SUBMITTED_UNENCRYPTED
from domain.orders import (
    CANCEL_SIGNAL,
    PAYMENT_RECEIVED_SIGNAL,
    STATUS_QUERY,
    SUBMIT_ORDER_SIGNAL,
    TASK_QUEUE,
    UPDATE_SUFFIX,
    WORKFLOW_TYPE,
    OrderResult,
    OrderStatus,
    OrderView,
    ShippingAddress,
    StaffDecision,
    order_workflow_id,
)
from domain.settlement import IncomingPayment
from domain.visibility import (
    ESCALATION_LEVEL,
    NEEDS_ATTENTION,
    ORDER_TOTAL,
)
from ops.checks import failing_workflows, stuck_orders
from ops.cli import app
from ops.demo import follow_orders, submit_demo_orders
from ops.submissions import DEMO_ENDS, Delivery, demo_example, read_submission, submit
from persistence.database import Database
from persistence.demo_catalogue import seed_demo_catalogue
from persistence.invariants import Violation, check_database, unfinished_order_ids
from persistence.models import (
    Invoice,
    NotificationRow,
    Order,
    OrderEventRow,
    Payment,
    Receipt,
    Reservation,
    Shipment,
)
from persistence.order_views import load_order_view
from persistence.transactions.customers import save_customers
from persistence.transactions.privacy import erase_customer
from runtime.codec_server import codec_app
from runtime.encryption import encrypted_data_converter
from runtime.settings import Settings
from runtime.workers import order_worker
from tests.conftest import TEST_KEY_RING, fresh_database
from tests.factories import ADDRESS, line, submission
from tests.test_privacy import personal_data_left
from tests.workflow_fakes import wait_for_status, wait_until

pytestmark = pytest.mark.devserver

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
RESULT_SECONDS = 180
"""Longest an order of these tests takes to end on a loaded machine (most take seconds)."""
KEY_RING = TEST_KEY_RING
"""The worker, the tests' client and the ``oms`` runs share it, as a deployment does."""


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def pipeline_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A fresh, migrated business database for this module: every test runs on both."""
    with fresh_database(request.param, tmp_path_factory.mktemp("e2e")) as url:
        yield url


@pytest.fixture(scope="module")
async def pipeline(
    dev_server: WorkflowEnvironment, pipeline_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[Client, Database]]:
    """A worker with real activities on the module's business database."""
    url = pipeline_url
    db = Database(url)
    seed_demo_catalogue(db)
    # Steps of 0.2 s: the slow route picks up at 2 s, well after its 0.8 s promise.
    settings = Settings(
        database_url=url,
        data_dir=tmp_path_factory.mktemp("partners"),
        carrier_sim_step_seconds=0.2,
        carrier_poll_seconds=0.05,
    )
    client = await Client.connect(
        dev_server.client.service_client.config.target_host,
        data_converter=encrypted_data_converter(KEY_RING),
    )
    async with order_worker(client, db, settings):
        yield client, db
    db.dispose()


async def count(db: Database, model: Any, order_id: str, *where: Any) -> int:
    with db.reading() as session:
        query = select(func.count()).select_from(model).where(model.order_id == order_id, *where)
        return int(session.scalar(query) or 0)


async def duplicate_events(db: Database, order_id: str) -> int:
    return await count(db, OrderEventRow, order_id, OrderEventRow.kind == "duplicate_submission")


async def result_of(client: Client, order_id: str) -> OrderResult:
    handle = client.get_workflow_handle(order_workflow_id(order_id), result_type=OrderResult)
    # A bound, so an order stuck waiting (for supply nobody sends) fails the test, not CI.
    result: OrderResult = await asyncio.wait_for(handle.result(), RESULT_SECONDS)
    return result


async def test_example_order_completes_with_one_of_everything(
    pipeline: tuple[Client, Database],
) -> None:
    client, db = pipeline
    example = read_submission(EXAMPLES / "web-prepaid.json")
    # A fresh id: the module runs once per database on the same Temporal server.
    order = example.model_copy(update={"order_id": f"{example.order_id}-{uuid.uuid4().hex[:6]}"})
    outcome = await submit(client, order, db)
    assert outcome.delivery is Delivery.SUBMITTED
    result = await result_of(client, order.order_id)
    assert result.status is OrderStatus.COMPLETED
    assert await count(db, Reservation, order.order_id) == 2  # two lines, one warehouse
    assert await count(db, Shipment, order.order_id) == 1
    assert await count(db, Invoice, order.order_id) == 1
    assert await count(db, Receipt, order.order_id) == 1
    assert await count(db, Payment, order.order_id, Payment.kind == "capture") == 1

    handle = client.get_workflow_handle(order_workflow_id(order.order_id))
    live = await handle.query(STATUS_QUERY, result_type=OrderView)
    with db.reading() as session:
        stored = load_order_view(session, order.order_id)
    assert stored is not None
    assert stored.status is live.status is OrderStatus.COMPLETED
    assert stored.lines == live.lines
    assert stored.reservations == live.reservations
    # The read model keeps no ladder per parcel: on a loaded machine a parcel can be
    # delivered after its (0.8 s) promise and have climbed a rung in the live view.
    unladdered = [p.model_copy(update={"escalation_level": 0}) for p in live.shipments]
    assert stored.shipments == unladdered
    assert stored.money == live.money
    assert {e.kind for e in live.history} <= {e.kind for e in stored.history}

    again = await submit(client, order, db)
    assert again.delivery is Delivery.ALREADY_FINISHED
    assert await count(db, Reservation, order.order_id) == 2
    assert await count(db, Invoice, order.order_id) == 1
    assert await duplicate_events(db, order.order_id) == 1


async def test_resubmitting_a_running_order_is_recorded_not_processed(
    pipeline: tuple[Client, Database],
) -> None:
    client, db = pipeline
    order = submission(
        f"E2E-NET-{uuid.uuid4().hex[:6]}", customer_id="CUST-ACME", payment_token=None
    )
    await submit(client, order, db)
    await submit(client, order, db)
    handle = client.get_workflow_handle(order_workflow_id(order.order_id))
    await handle.signal(
        PAYMENT_RECEIVED_SIGNAL, IncomingPayment(payment_id="BANK-E2E", amount=Decimal("59.70"))
    )
    result = await result_of(client, order.order_id)
    assert result.status is OrderStatus.COMPLETED
    assert await count(db, Invoice, order.order_id) == 1
    assert await count(db, Payment, order.order_id, Payment.kind == "incoming") == 1
    assert await duplicate_events(db, order.order_id) == 1


async def test_invalid_order_ends_rejected_with_its_reasons(
    pipeline: tuple[Client, Database],
) -> None:
    client, db = pipeline
    order = submission(
        f"E2E-BAD-{uuid.uuid4().hex[:6]}",
        lines=[line("WIDGET-1", 0, "19.90"), line("NO-SUCH", 1, "1.00")],
    )
    await submit(client, order, db)
    result = await result_of(client, order.order_id)
    assert result.status is OrderStatus.REJECTED
    assert result.reasons == [
        "lines[1].quantity 0: must be at least 1",
        "lines[2].sku 'NO-SUCH': no such product",
    ]
    with db.reading() as session:
        stored = load_order_view(session, order.order_id)
    assert stored is not None
    assert stored.status is OrderStatus.REJECTED
    assert stored.rejection_reasons == result.reasons
    assert await count(db, Reservation, order.order_id) == 0


async def test_demo_set_ends_as_each_scenario_says(
    pipeline: tuple[Client, Database], pipeline_url: str
) -> None:
    client, db = pipeline
    cast = await submit_demo_orders(client, db)
    views = await follow_orders(db, cast.order_ids, Console(file=io.StringIO()), cast)
    by_example = {demo_example(view.order_id): view for view in views}
    assert {example: view.status for example, view in by_example.items()} == DEMO_ENDS
    assert DEMO_ENDS["WEB-10003"] is OrderStatus.CANCELLED
    assert DEMO_ENDS["FAX-BAD"] is OrderStatus.REJECTED
    held = by_example["EDI-4600000777"]
    assert ("approved_by_staff", "demo-support") in {(e.kind, e.actor) for e in held.history}
    backorder = by_example["TEL-2026-0099"]
    assert [(s.kind, s.status) for s in backorder.supply] == [("production", "received")]
    assert backorder.supply[0].received == backorder.supply[0].quantity >= 2
    late = by_example["WEB-10002"]
    assert late.escalation_level >= 1
    assert "escalated" in {e.kind for e in late.history}
    cancelled = by_example["WEB-10003"]
    assert [s.status for s in cancelled.supply] == ["cancelled"]
    assert {r.status for r in cancelled.reservations} == {"released"}
    assert cancelled.money.authorised == cancelled.money.total
    assert await count(db, Payment, cancelled.order_id, Payment.kind == "void") == 1
    for view in views:
        if view.money.payment_terms == "net" and view.status is OrderStatus.COMPLETED:
            assert view.money.received == view.money.total
    with db.reading() as session:
        assert check_database(session) == []
        unfinished = set(unfinished_order_ids(session)) & set(cast.order_ids)
    assert unfinished == set()
    checked = await asyncio.to_thread(oms, client, pipeline_url, "check")
    assert (checked.exit_code, checked.output.strip()) == (0, "All invariants hold.")
    # An order the read model shows unfinished while its workflow has ended is stuck.
    assert await stuck_orders(client, [held.order_id]) == [
        Violation(
            invariant="every unfinished order has a running workflow",
            subject=f"order {held.order_id}",
            detail=f"workflow order-{held.order_id} is COMPLETED",
        )
    ]


def oms(client: Client, sessions_url: str, *args: str) -> Result:
    """Run ``oms`` against the test's dev server and business database."""
    env = {
        "OMS_TEMPORAL_ADDRESS": client.service_client.config.target_host,
        "OMS_DATABASE_URL": sessions_url,
        "OMS_KEY_RING": KEY_RING.serialise(),
    }
    return CliRunner().invoke(app, list(args), env=env)


async def test_support_staff_commands_act_on_running_orders(
    pipeline: tuple[Client, Database], pipeline_url: str
) -> None:
    client, db = pipeline
    held = submission(
        f"E2E-HELD-{uuid.uuid4().hex[:6]}", customer_id="CUST-WATCH", payment_token=None
    )
    short = submission(
        f"E2E-SHORT-{uuid.uuid4().hex[:6]}",
        customer_id="CUST-ACME",
        payment_token=None,
        lines=[line("GADGET-2", 60, "249.00")],
    )
    for order in (held, short):
        await submit(client, order, db)
    held_handle = client.get_workflow_handle(order_workflow_id(held.order_id))
    short_handle = client.get_workflow_handle(order_workflow_id(short.order_id))
    await wait_for_status(held_handle, OrderStatus.AWAITING_APPROVAL)
    ordered = await wait_until(
        short_handle, lambda v: bool(v.supply) and v.supply[0].kind != "", "ordered"
    )
    backordered = ordered.supply[0].quantity

    def run(*args: str) -> Result:
        return oms(client, pipeline_url, *args)

    unknown = await asyncio.to_thread(run, "approve", "NO-SUCH-ORDER", "--reason", "x")
    assert unknown.exit_code == 1
    assert "order NO-SUCH-ORDER: no running workflow 'order-NO-SUCH-ORDER'" in unknown.output
    not_held = await asyncio.to_thread(run, "approve", short.order_id, "--reason", "x")
    assert not_held.exit_code == 1
    assert "approve refused: the order is AWAITING_SUPPLY, not held for approval" in not_held.output
    past = await asyncio.to_thread(
        run, "extend", held.order_id, "--until", "2020-01-01", "--reason", "x", "--as", "sam"
    )
    assert past.exit_code == 1
    assert "is not in the future" in past.output
    extended = await asyncio.to_thread(
        run,
        "extend",
        held.order_id,
        "--until",
        "2099-01-01T09:00",
        "--reason",
        "papers",
        "--as",
        "sam",
    )
    assert extended.exit_code == 0, extended.output
    approved = await asyncio.to_thread(
        run, "approve", held.order_id, "--reason", "limit raised", "--as", "sam", "--json"
    )
    assert approved.exit_code == 0, approved.output
    assert json.loads(approved.output)["accepted"] is True
    again = await asyncio.to_thread(run, "approve", held.order_id, "--reason", "twice")
    assert again.exit_code == 1
    assert "approve refused: the order was approved by sam already" in again.output

    received = await asyncio.to_thread(
        run, "supply", "receive", short.order_id, "1", "1", "--note", "DN-77"
    )
    assert received.exit_code == 0, received.output
    repeated = await asyncio.to_thread(
        run, "supply", "receive", short.order_id, "1", "1", "--note", "DN-77"
    )
    assert repeated.exit_code == 1
    assert "delivery note 'DN-77' was received already" in repeated.output
    rest = await asyncio.to_thread(
        run, "supply", "receive", short.order_id, "1", str(backordered - 1), "--note", "DN-78"
    )
    assert rest.exit_code == 0, rest.output
    bad_pay = await asyncio.to_thread(run, "pay", short.order_id, "0", "--bank-ref", "B-1")
    assert bad_pay.exit_code == 1
    assert "amount 0" in bad_pay.output

    listed = await asyncio.to_thread(run, "orders", "list", "--customer", "CUST-WATCH", "--json")
    assert held.order_id in {row["order_id"] for row in json.loads(listed.output)}
    for handle in (held_handle, short_handle):
        await wait_for_status(handle, OrderStatus.DELIVERED)
        view = await handle.query(STATUS_QUERY, result_type=OrderView)
        paid = await asyncio.to_thread(run, "pay", view.order_id, str(view.money.total))
        assert paid.exit_code == 0, paid.output
        assert (await result_of(client, view.order_id)).status is OrderStatus.COMPLETED
    with db.reading() as session:
        events = session.scalars(
            select(OrderEventRow)
            .where(OrderEventRow.order_id == held.order_id)
            .order_by(OrderEventRow.id)
        )
        staff = [(e.kind, e.actor) for e in events if e.actor == "sam"]
    assert staff == [("deadline_extended", "sam"), ("approved_by_staff", "sam")]
    cancel_done = await asyncio.to_thread(run, "cancel", held.order_id, "--reason", "late")
    assert cancel_done.exit_code == 1
    assert "no running workflow" in cancel_done.output


def at_level(level: int) -> Callable[[OrderView], bool]:
    """The order has reached escalation ``level``."""
    return lambda view: view.escalation_level == level


async def test_visibility_query_finds_held_orders_by_escalation_level_and_customer(
    pipeline: tuple[Client, Database],
) -> None:
    client, db = pipeline
    tag = uuid.uuid4().hex[:6]
    held = {
        level: submission(f"E2E-VIS-{tag}-{level}", customer_id="CUST-WATCH", payment_token=None)
        for level in (0, 1, 2)
    }
    for order in held.values():
        await submit(client, order, db)
    for level, order in held.items():
        handle = client.get_workflow_handle(order_workflow_id(order.order_id))
        await wait_for_status(handle, OrderStatus.AWAITING_APPROVAL)
        for reached in range(1, level + 1):
            soon = datetime.now(UTC) + timedelta(seconds=1)
            extension = DeadlineExtension(actor="sam", reason="chase it now", new_deadline=soon)
            await handle.execute_update(EXTEND_DEADLINE_SIGNAL + UPDATE_SUFFIX, extension)
            await wait_until(handle, at_level(reached), f"escalation level {reached}")
    query = (
        "OrderStatus = 'AWAITING_APPROVAL' AND EscalationLevel >= 2 "
        "AND CustomerId = 'CUST-WATCH' AND OrderStage = 'audit'"
    )
    found: set[str] = set()
    for _ in range(100):
        found = {
            execution.id
            async for execution in client.list_workflows(query)
            if f"E2E-VIS-{tag}" in execution.id
        }
        if found:
            break
        await asyncio.sleep(0.1)
    assert found == {order_workflow_id(held[2].order_id)}
    attributes = (
        await client.get_workflow_handle(order_workflow_id(held[2].order_id)).describe()
    ).typed_search_attributes
    assert attributes.get(ESCALATION_LEVEL) == 2
    assert attributes.get(ORDER_TOTAL) == float(Decimal("59.70"))
    assert attributes.get(NEEDS_ATTENTION) is False
    metadata = await client.get_workflow_handle(order_workflow_id(held[2].order_id)).query(
        "__temporal_workflow_metadata", result_type=WorkflowMetadata
    )
    assert "Waiting for an approve or reject decision from support staff" in (
        metadata.current_details
    )
    assert "Next escalation: auto-reject at " in metadata.current_details
    assert "Erika" not in metadata.current_details
    for order in held.values():
        await client.get_workflow_handle(order_workflow_id(order.order_id)).signal(
            CANCEL_SIGNAL, StaffDecision(actor="sam", reason="test over")
        )


# --- other clients: raw JSON through the codec server, as a Node or Java backend sends it ----

CODEC_TOKEN = "integrator-token"


@pytest.fixture
async def codec() -> AsyncIterator[TestClient[Any, Any]]:
    """The codec server (``oms codec-server``) in this process, on the deployment's key ring."""
    async with TestClient(TestServer(codec_app(KEY_RING, CODEC_TOKEN, []))) as client:
        yield client


async def encoded(codec: TestClient[Any, Any], value: Any) -> RawValue:
    """``value`` as JSON, encrypted by the codec server's ``/encode``: what a client of
    another language does before it sends a payload."""
    plain = {
        "metadata": {"encoding": base64.b64encode(b"json/plain").decode()},
        "data": base64.b64encode(json.dumps(value).encode()).decode(),
    }
    response = await codec.post(
        "/encode",
        json={"payloads": [plain]},
        headers={"Authorization": f"Bearer {CODEC_TOKEN}"},
    )
    assert response.status == 200, await response.text()
    [payload] = json_format.Parse(await response.text(), Payloads()).payloads
    return RawValue(payload)


async def raw_client(pipeline: tuple[Client, Database]) -> Client:
    """A client with no codec and no models: it sends the payloads it is given as they are."""
    return await Client.connect(pipeline[0].service_client.config.target_host)


async def start_as_other_client(
    client: Client, order_id: str, document: Any, **options: Any
) -> None:
    await client.start_workflow(
        "OrderWorkflow",
        id=order_workflow_id(order_id),
        task_queue=TASK_QUEUE,
        start_signal=SUBMIT_ORDER_SIGNAL,
        start_signal_args=[document],
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        **options,
    )


async def events(db: Database, order_id: str, kind: str) -> list[str]:
    with db.reading() as session:
        rows = session.scalars(
            select(OrderEventRow.detail)
            .where(OrderEventRow.order_id == order_id, OrderEventRow.kind == kind)
            .order_by(OrderEventRow.id)
        )
        return list(rows)


async def test_a_client_of_another_language_runs_an_order_through_the_codec_server(
    pipeline: tuple[Client, Database], codec: TestClient[Any, Any]
) -> None:
    client, db = pipeline
    other = await raw_client(pipeline)
    # Widgets only: they are in stock whatever the module's other orders took.
    order_id = f"NODE-{uuid.uuid4().hex[:8]}"
    document = submission(order_id).model_dump(mode="json")
    await start_as_other_client(other, order_id, await encoded(codec, document))
    await start_as_other_client(other, order_id, await encoded(codec, document))
    handle = other.get_workflow_handle(order_workflow_id(order_id))
    await handle.signal(APPROVE_SIGNAL, await encoded(codec, {"user": "kim", "comment": "ok"}))
    result = await result_of(client, order_id)
    assert result.status is OrderStatus.COMPLETED
    assert len(await events(db, order_id, "duplicate_submission")) == 1
    assert await events(db, order_id, "signal_ignored") == [
        "signal approve ignored: actor: Field required; reason: Field required"
    ]
    found = [e.id async for e in client.list_workflows(f"OrderId = '{order_id}'")]
    for _ in range(50):
        if found:
            break
        await asyncio.sleep(0.1)
        found = [e.id async for e in client.list_workflows(f"OrderId = '{order_id}'")]
    assert found == [order_workflow_id(order_id)], "operators find it by its search attributes"

    # The CLI's and the TypeScript SDK's default reuse policy allow a new run once
    # the first has closed: the new run finds the order taken and does nothing.
    notified = await count(db, NotificationRow, order_id)
    await start_as_other_client(
        other,
        order_id,
        await encoded(codec, document),
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
    )
    again = await result_of(client, order_id)
    assert again.status is OrderStatus.COMPLETED
    assert len(await events(db, order_id, "duplicate_submission")) == 2
    assert await count(db, Payment, order_id, Payment.kind == "capture") == 1
    assert await count(db, Shipment, order_id) == 1
    assert await count(db, NotificationRow, order_id) == notified, "nobody is told again"


async def test_an_order_sent_without_the_codec_is_refused_and_keeps_no_personal_data(
    pipeline: tuple[Client, Database],
) -> None:
    client, db = pipeline
    other = await raw_client(pipeline)
    document = json.loads((EXAMPLES / "web-prepaid.json").read_text(encoding="utf-8"))
    order_id = document["order_id"] = f"PLAIN-{uuid.uuid4().hex[:8]}"
    await start_as_other_client(other, order_id, document)
    result = await result_of(client, order_id)
    assert result.status is OrderStatus.REJECTED
    assert result.reasons == [SUBMITTED_UNENCRYPTED]
    with db.reading() as session:
        row = session.get(Order, order_id)
    assert row is not None
    assert (row.status, row.ship_to_name, row.payment_token) == ("REJECTED", "", None)
    assert await count(db, Reservation, order_id) == 0


def booked(view: OrderView) -> bool:
    """The order's first parcel is booked with the carrier."""
    return bool(view.shipments) and view.shipments[0].tracking_number != ""


async def test_business_outcomes_and_cancellations_log_no_warning_or_error(
    pipeline: tuple[Client, Database], caplog: pytest.LogCaptureFixture
) -> None:
    client, db = pipeline
    caplog.set_level(logging.WARNING)
    tag = uuid.uuid4().hex[:6]
    short = submission(f"E2E-SHORT-{tag}", lines=[line("WIDGET-1", 900, "19.90")])
    slow = submission(
        f"E2E-BOOKED-{tag}",
        shipping_address=ADDRESS.model_copy(update={"postal_code": "SIM-SLOW-1"}),
    )
    await submit(client, short, db)
    await submit(client, slow, db)
    handle = client.get_workflow_handle(order_workflow_id(slow.order_id))
    await wait_until(
        handle,
        lambda view: bool(view.shipments) and view.shipments[0].tracking_number != "",
        "parcel booked",
    )
    await handle.signal(CANCEL_SIGNAL, StaffDecision(actor="sam", reason="customer called"))
    assert (await result_of(client, short.order_id)).status is OrderStatus.REJECTED
    assert (await result_of(client, slow.order_id)).status is OrderStatus.CANCELLED
    await asyncio.sleep(0.5)  # the parcel workflow's cancellation settles
    loud = [
        f"{record.levelname} {record.name}: {record.getMessage()}"
        for record in caplog.records
        if record.name == "temporalio.activity"  # "Completing activity as failed"
        or "insufficient stock" in record.getMessage()
        or "never retrieved" in record.getMessage()
        or record.levelno >= logging.ERROR
    ]
    assert loud == []


@workflow.defn(name=WORKFLOW_TYPE)
class BrokenOrderWorkflow:
    """An order workflow whose every workflow task fails, as a bad deployment's would."""

    @workflow.run
    async def run(self) -> None:
        """Fail the workflow task."""
        raise RuntimeError("a bug in this deployment")


async def test_an_order_whose_workflow_task_keeps_failing_is_listed_as_stuck(
    pipeline: tuple[Client, Database], pipeline_url: str
) -> None:
    client, _ = pipeline
    order_id = f"E2E-WEDGED-{uuid.uuid4().hex[:6]}"
    queue = f"broken-{order_id}"
    async with Worker(
        client,
        task_queue=queue,
        workflows=[BrokenOrderWorkflow],
        workflow_runner=UnsandboxedWorkflowRunner(),
    ):
        handle = await client.start_workflow(
            WORKFLOW_TYPE, id=order_workflow_id(order_id), task_queue=queue
        )
        try:
            failing = []
            for _ in range(120):
                failing = [f for f in await failing_workflows(client) if f.order_id == order_id]
                if failing:
                    break
                await asyncio.sleep(0.5)
            assert [f.workflow_id for f in failing] == [handle.id]
            checked = await asyncio.to_thread(oms, client, pipeline_url, "check", "--json")
            listed = await asyncio.to_thread(
                oms, client, pipeline_url, "orders", "list", "--needs-attention", "--json"
            )
        finally:
            await handle.terminate("test over")
    assert checked.exit_code == 1
    assert {
        (violation["invariant"], violation["subject"]) for violation in json.loads(checked.output)
    } >= {("no order's workflow task keeps failing", f"order {order_id}")}
    assert listed.exit_code == 0, listed.output
    stuck = [row for row in json.loads(listed.output) if row["order_id"] == order_id]
    assert len(stuck) == 1
    assert "its workflow task keeps failing" in stuck[0]["needs_attention"]


async def test_an_erased_customers_new_order_leaves_no_personal_data_anywhere(
    pipeline: tuple[Client, Database], caplog: pytest.LogCaptureFixture
) -> None:
    """Erasure (issue 17): an order that arrives for an erased customer is rejected and its
    personal data is nowhere: not in the business database, not readable in Temporal's
    history (the codec encrypted it), not in the logs."""
    client, db = pipeline
    caplog.set_level(logging.DEBUG)
    tag = uuid.uuid4().hex[:6]
    customer_id = f"ERASE-{tag}"
    personal = ("Ottilie Zwanzigacker", "Quittenweg 17", f"ottilie.{tag}@example.org")
    save_customers(
        db,
        [CustomerRecord(id=customer_id, name=personal[0], email=personal[2], notes=personal[1])],
        "test",
    )
    erase_customer(db, customer_id, "dpo")
    address = ShippingAddress(
        name=personal[0], street=personal[1], postal_code="07743", city="Jena", country="DE"
    )
    order = submission(f"E2E-ERASED-{tag}", customer_id=customer_id, shipping_address=address)
    await submit(client, order, db)
    result = await result_of(client, order.order_id)
    assert result.status is OrderStatus.REJECTED
    assert f"customer {customer_id} was erased" in result.reasons
    assert personal_data_left(db, personal) == []
    stored = (
        await (await raw_client(pipeline))
        .get_workflow_handle(order_workflow_id(order.order_id))
        .fetch_history()
    )
    raw = b"".join(event.SerializeToString() for event in stored.events)
    assert all(text.encode() not in raw for text in personal)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert all(text not in logged for text in personal)
