"""Acting on orders from the console: each action is the order workflow's own update, sent
as the logged-in user; a double click acts once; a role without the permission is refused."""

from __future__ import annotations

import asyncio
import re

import httpx2
import pytest
from fastapi.testclient import TestClient
from temporalio.testing import WorkflowEnvironment

from domain.access import Role
from domain.credit import CreditOutcome
from domain.orders import OrderStatus
from persistence.database import Database
from persistence.transactions import accounts
from runtime.settings import Settings
from tests.workflow_fakes import FakePartners, order_worker, start, unique_order, wait_for_status
from web.app import create_app

PASSWORD = "correct horse battery"


@pytest.fixture
def users(db: Database) -> Database:
    accounts.create_user(db, "olivia", PASSWORD, Role.ORDER_PROCESSING, actor="test")
    accounts.create_user(db, "wen.li", PASSWORD, Role.ANALYST, actor="test")
    return db


def console(db: Database, database_url: str, environment: WorkflowEnvironment) -> TestClient:
    """The console on ``db``, sending its updates through ``environment``'s client."""
    app = create_app(Settings(database_url=database_url), db, environment.client)
    return TestClient(app, follow_redirects=False)


def log_in(client: TestClient, username: str) -> str:
    """Log in; the session's form token."""
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": token.group(1)}
    )
    home = client.get("/")
    session_token = re.search(r'name="csrf_token" value="([^"]+)"', home.text)
    assert session_token
    return session_token.group(1)


async def post(client: TestClient, path: str, data: dict[str, str]) -> httpx2.Response:
    """A form post from the browser, off the event loop the workflow worker runs on."""
    return await asyncio.to_thread(client.post, path, data=data)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_order_processing_approves_a_held_order_once_and_it_moves_on(
    time_skipping_env: WorkflowEnvironment, users: Database, database_url: str
) -> None:
    partners = FakePartners(credit=CreditOutcome.HOLD)
    worker, queue = order_worker(time_skipping_env.client, partners.activities())
    client = console(users, database_url, time_skipping_env)
    async with worker:
        order = unique_order()
        handle = await start(time_skipping_env.client, queue, order)
        await wait_for_status(handle, OrderStatus.AWAITING_APPROVAL)

        # An analyst may look but not act: the server refuses, whatever the page shows.
        analyst_token = await asyncio.to_thread(log_in, client, "wen.li")
        refused = await post(
            client,
            f"/orders/{order.order_id}/approve",
            {"csrf_token": analyst_token, "reason": "looks fine", "action_id": "a1"},
        )
        assert refused.status_code == 403
        client.cookies.clear()

        token = await asyncio.to_thread(log_in, client, "olivia")
        form = {"csrf_token": token, "reason": "customer called, paid upfront", "action_id": "b7"}
        forged = await post(
            client, f"/orders/{order.order_id}/approve", {**form, "csrf_token": "x"}
        )
        assert forged.status_code == 403
        first = await post(client, f"/orders/{order.order_id}/approve", form)
        again = await post(client, f"/orders/{order.order_id}/approve", form)  # a double click
        assert first.status_code == again.status_code == 303
        assert first.headers["location"] == f"/orders/{order.order_id}?done=approve"
        result = await handle.result()

    assert result.status is OrderStatus.COMPLETED
    approvals = [change for change in partners.status_changes if change.actor == "olivia"]
    assert [change.event.value for change in approvals] == ["approved_by_staff"]
    assert "customer called, paid upfront" in (approvals[0].detail or "")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_refused_action_shows_the_workflow_reason(
    time_skipping_env: WorkflowEnvironment, users: Database, database_url: str
) -> None:
    partners = FakePartners()  # approved at once: nothing to approve by hand
    worker, queue = order_worker(time_skipping_env.client, partners.activities())
    client = console(users, database_url, time_skipping_env)
    async with worker:
        order = unique_order()
        handle = await start(time_skipping_env.client, queue, order)
        token = await asyncio.to_thread(log_in, client, "olivia")
        await handle.result()
        answer = await post(
            client,
            f"/orders/{order.order_id}/approve",
            {"csrf_token": token, "reason": "late", "action_id": "c3"},
        )
    assert answer.status_code == 409
    assert f"order {order.order_id}" in answer.text
