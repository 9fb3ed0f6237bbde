"""Two worker processes share one batch; when one is killed the other finishes everything.

The workers are real ``python worker.py`` processes against the dev server and
the PostgreSQL business database, as two containers of ``--scale worker=2`` would
be. Who did what is read from the workflow histories: every activity attempt and
workflow task records the identity (``pid@host``) of the worker that ran it.
"""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from domain.orders import OrderStatus
from integrations.simulated_books import PartnerBooks
from ops.submissions import submit
from persistence.database import Database
from persistence.invariants import check_database
from persistence.order_views import load_order_view
from runtime.encryption import encrypted_data_converter
from runtime.processes import WorkerProcess, wait_for_pollers
from tests.conftest import TEST_KEY_RING
from tests.factories import submission

pytestmark = pytest.mark.devserver

ORDERS = 16
DEADLINE_SECONDS = 240.0
WORKER_START_SECONDS = 240.0
"""Two worker processes starting beside the rest of the suite on two loaded cores took
over a minute to poll."""


async def statuses(db: Database, order_ids: list[str]) -> dict[str, OrderStatus]:
    with db.reading() as session:
        views = [load_order_view(session, order_id) for order_id in order_ids]
    return {view.order_id: view.status for view in views if view is not None}


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_two_workers_share_a_batch_and_one_finishes_it_alone(
    dev_server: WorkflowEnvironment,
    db: Database,
    database_url: str,
    tmp_path: Path,
) -> None:
    address = dev_server.client.service_client.config.target_host
    environment = {
        **os.environ,
        "OMS_TEMPORAL_ADDRESS": address,
        "OMS_DATABASE_URL": database_url,
        "OMS_KEY_RING": TEST_KEY_RING.serialise(),
        "OMS_DATA_DIR": str(tmp_path),
        "OMS_LOG_FORMAT": "json",
        "OMS_CARRIER_SIM_STEP_SECONDS": "0.3",
        "OMS_CARRIER_POLL_SECONDS": "0.3",
    }
    workers = [WorkerProcess(environment, tmp_path, name) for name in ("worker-a", "worker-b")]
    for worker in workers:
        await worker.start()
    client = await Client.connect(address, data_converter=encrypted_data_converter(TEST_KEY_RING))
    order_ids = [f"SCALE-{n:02d}-{os.getpid()}" for n in range(ORDERS)]
    try:
        # Both poll before the batch arrives, so both take orders from the start.
        await wait_for_pollers(client, [worker.pid for worker in workers], WORKER_START_SECONDS)
        for order_id in order_ids:
            await submit(client, submission(order_id))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + DEADLINE_SECONDS
        # Mid-batch: once a few orders are done, the first worker dies.
        while sum(s.is_final for s in (await statuses(db, order_ids)).values()) < 3:
            assert loop.time() < deadline, "no order finished with two workers"
            await asyncio.sleep(0.5)
        killed_pid = workers[0].pid
        await workers[0].kill()
        while True:
            ended = await statuses(db, order_ids)
            if len(ended) == ORDERS and all(s.is_final for s in ended.values()):
                break
            assert loop.time() < deadline, f"unfinished after the kill: {ended}"
            await asyncio.sleep(0.5)
    finally:
        for worker in workers:
            await worker.stop()

    assert set(ended.values()) == {OrderStatus.COMPLETED}
    with db.reading() as session:
        assert check_database(session) == []
    identities: set[str] = set()
    for order_id in order_ids:
        history = await client.get_workflow_handle(f"order-{order_id}").fetch_history()
        for event in history.events:
            # Database steps are local activities, run by the worker that ran the workflow task.
            if event.HasField("activity_task_started_event_attributes"):
                identities.add(event.activity_task_started_event_attributes.identity)
            if event.HasField("workflow_task_completed_event_attributes"):
                identities.add(event.workflow_task_completed_event_attributes.identity)
    host = socket.gethostname()
    assert f"{killed_pid}@{host}" in identities, "the killed worker did no work"
    assert f"{workers[1].pid}@{host}" in identities, "the surviving worker did no work"

    # The provider's own books: one authorisation and one capture per order, one
    # booking per parcel, whichever worker asked and however often.
    books = PartnerBooks(tmp_path / "simulated-partners.db")
    for partner, operation in (
        ("simulated-payments", "auth"),
        ("simulated-payments", "capture"),
        ("simulated-carrier", "book"),
    ):
        per_order = books.effects_per_order(partner, operation)
        assert per_order == dict.fromkeys(order_ids, 1), f"{partner} {operation}"
    books.close()
