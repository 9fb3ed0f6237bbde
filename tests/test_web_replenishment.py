"""Replenishment in the console (issue 16): analysts read proposals and forecasts but
cannot decide; a wrong quantity is named. (The approval and a delivery, which start and
signal workflows, run in Chromium: tests/test_browser_stock.py.)"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from html import unescape

import pytest
from fastapi.testclient import TestClient
from temporalio.testing import WorkflowEnvironment

from activities.inventory_review import run_review
from domain.access import Role
from domain.catalogue import StockPolicyRecord
from domain.replenishment import ReplenishmentRules
from persistence.database import Database
from persistence.transactions import accounts
from persistence.transactions.catalogue import load_stock_policies
from persistence.transactions.replenishment import proposals
from runtime.settings import Settings
from tests.test_web_admin import PASSWORD, log_in
from web.app import create_app

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


async def test_analysts_read_proposals_and_a_wrong_quantity_is_named(
    console: TestClient, db: Database
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
    assert "Quantity: a whole number of units, not 'lots'" in text_of(bad.text)
    # approving starts a workflow: in Chromium (tests/test_browser_stock.py), where the
    # console runs on the test's event loop beside the Temporal client


async def test_the_forecast_page_shows_methods_and_accuracy(console: TestClient) -> None:
    await asyncio.to_thread(log_in, console, "wen.li")
    page = text_of((await asyncio.to_thread(console.get, "/stock/forecast")).text)
    assert "Computed by the inventory review" in page
    assert "recent mean" in page  # the demo has no order history: too short to backtest
    product = await asyncio.to_thread(console.get, "/stock/products/WIDGET-1?warehouse=WH-BER")
    assert "/stock/products/WIDGET-1/projection.svg?warehouse=WH-BER" in product.text
    chart = await asyncio.to_thread(
        console.get, "/stock/products/WIDGET-1/projection.svg?warehouse=WH-BER"
    )
    assert chart.headers["content-type"] == "image/svg+xml"
    assert "Projected free stock" in chart.text
    assert "projection (recent mean)" in chart.text  # the method in words, not its class name
    assert "RecentMean" not in chart.text
