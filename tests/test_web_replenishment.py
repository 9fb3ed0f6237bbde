"""Replenishment in the console (issue 16): a warehouse user approves an edited proposal,
receives its delivery, and reads the forecast; analysts read but cannot decide."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from html import unescape

import pytest
from fastapi.testclient import TestClient
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.inventory_review import run_review
from domain.access import Role
from domain.catalogue import StockPolicyRecord
from domain.orders import TASK_QUEUE
from domain.replenishment import ProposalStatus, ReplenishmentRules
from persistence.database import Database
from persistence.models import StockLevel
from persistence.transactions import accounts
from persistence.transactions.catalogue import load_stock_policies
from persistence.transactions.replenishment import proposals
from runtime.settings import Settings
from tests.test_inventory_review import activities
from tests.test_web_admin import PASSWORD, log_in
from tests.workflow_fakes import STEP_THREADS
from web.app import create_app
from workflows.registry import ORDER_WORKFLOWS

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def console(
    db: Database, database_url: str, time_skipping_env: WorkflowEnvironment
) -> Iterator[TestClient]:
    accounts.create_user(db, "kai.wu", PASSWORD, Role.WAREHOUSE, actor="test")
    accounts.create_user(db, "wen.li", PASSWORD, Role.ANALYST, actor="test")
    load_stock_policies(
        db,
        [StockPolicyRecord(sku="WIDGET-1", warehouse_id="WH-BER", reorder_point=600, maximum=900)],
    )
    run_review(db, ReplenishmentRules(), datetime.now(UTC).date())
    app = create_app(Settings(database_url=database_url), db, time_skipping_env.client)
    with TestClient(app, follow_redirects=False) as client:
        yield client


def text_of(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


async def test_a_planner_approves_an_edited_proposal_and_receives_it(
    console: TestClient, db: Database, time_skipping_env: WorkflowEnvironment
) -> None:
    [proposal] = proposals(db)
    analyst = await asyncio.to_thread(log_in, console, "wen.li")
    page = text_of((await asyncio.to_thread(console.get, "/stock/replenishment")).text)
    assert "WIDGET-1" in page
    assert "/approve" not in (await asyncio.to_thread(console.get, "/stock/replenishment")).text
    forbidden = await asyncio.to_thread(
        console.post, f"/stock/replenishment/{proposal.id}/approve", data={"csrf_token": analyst}
    )
    assert forbidden.status_code == 403

    token = await asyncio.to_thread(log_in, console, "kai.wu")
    bad = await asyncio.to_thread(
        console.post,
        f"/stock/replenishment/{proposal.id}/approve",
        data={"csrf_token": token, "quantity": "lots"},
    )
    assert bad.status_code == 422
    assert "quantity: a whole number of units, not 'lots'" in text_of(bad.text)
    worker = Worker(  # on the queue the console starts replenishment orders on
        time_skipping_env.client,
        task_queue=TASK_QUEUE,
        workflows=ORDER_WORKFLOWS,
        activities=activities(db),
        activity_executor=STEP_THREADS,
    )
    async with worker:
        approved = await asyncio.to_thread(
            console.post,
            f"/stock/replenishment/{proposal.id}/approve",
            data={"csrf_token": token, "quantity": "420", "note": "promotion"},
        )
        assert approved.status_code == 303, approved.text
        [ordered] = proposals(db, status=ProposalStatus.ORDERED)
        assert (ordered.quantity, ordered.decided_by) == (420, "kai.wu")
        again = await asyncio.to_thread(
            console.post,
            f"/stock/replenishment/{proposal.id}/approve",
            data={"csrf_token": token},
        )
        assert again.status_code == 409
        assert f"proposal {proposal.id} is ordered (by kai.wu" in text_of(again.text)
        for _ in range(100):
            if proposals(db, status=ProposalStatus.ORDERED)[0].order_status == "open":
                break
            await asyncio.sleep(0.05)
        received = await asyncio.to_thread(
            console.post,
            f"/stock/replenishment/{proposal.id}/receive",
            data={"csrf_token": token, "quantity": "420", "note": "DN-55"},
        )
        assert received.status_code == 303, received.text
        for _ in range(100):
            if proposals(db, status=ProposalStatus.ORDERED)[0].order_status == "received":
                break
            await asyncio.sleep(0.05)
    with db.reading() as session:
        level = session.get(StockLevel, ("WIDGET-1", "WH-BER"))
        assert level is not None
        assert level.on_hand == 920
    decided = text_of((await asyncio.to_thread(console.get, "/stock/replenishment")).text)
    assert "420 (proposed 400)" in decided
    assert "received · 420 of 420 received" in decided


async def test_the_forecast_page_shows_methods_and_accuracy(console: TestClient) -> None:
    await asyncio.to_thread(log_in, console, "wen.li")
    page = text_of((await asyncio.to_thread(console.get, "/stock/forecast")).text)
    assert "Computed by the inventory review" in page
    assert "RecentMean" in page  # the demo has no order history: too short to backtest
    product = await asyncio.to_thread(console.get, "/stock/products/WIDGET-1?warehouse=WH-BER")
    assert "/stock/products/WIDGET-1/projection.svg?warehouse=WH-BER" in product.text
    chart = await asyncio.to_thread(
        console.get, "/stock/products/WIDGET-1/projection.svg?warehouse=WH-BER"
    )
    assert chart.headers["content-type"] == "image/svg+xml"
    assert "Projected free stock" in chart.text
