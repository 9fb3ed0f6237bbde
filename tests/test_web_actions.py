"""Acting on orders from the console: each action is the order workflow's own update, sent
as the logged-in user; a double click acts once; a role without the permission is refused."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from domain.access import Role
from domain.catalogue import PaymentTerms
from domain.credit import CreditOutcome
from domain.inventory import Backorder
from domain.orders import EventKind, OrderStatus, OrderSubmission
from domain.settlement import RECORD_PAYMENT
from domain.supply import RECEIVE_SUPPLY
from persistence.database import Database
from persistence.transactions import accounts
from runtime.settings import Settings
from tests.workflow_fakes import (
    TOTAL,
    FakePartners,
    order_worker,
    start,
    unique_order,
    view_of,
    wait_for_status,
    wait_until,
)
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


@asynccontextmanager
async def an_order_in_the_console(
    environment: WorkflowEnvironment, db: Database, database_url: str, partners: FakePartners
) -> AsyncIterator[tuple[TestClient, WorkflowHandle[Any, Any], OrderSubmission]]:
    """A worker with ``partners``, the console, and a new order started on that worker."""
    worker, queue = order_worker(environment.client, partners.activities())
    client = console(db, database_url, environment)
    async with worker:
        order = unique_order()
        yield client, await start(environment.client, queue, order), order


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
    running = an_order_in_the_console(time_skipping_env, users, database_url, partners)
    async with running as (client, handle, order):
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
    running = an_order_in_the_console(time_skipping_env, users, database_url, partners)
    async with running as (client, handle, order):
        token = await asyncio.to_thread(log_in, client, "olivia")
        await handle.result()
        answer = await post(
            client,
            f"/orders/{order.order_id}/approve",
            {"csrf_token": token, "reason": "late", "action_id": "c3"},
        )
    assert answer.status_code == 409
    assert f"order {order.order_id}" in answer.text


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_payment_booked_in_the_console_settles_a_net_terms_order(
    time_skipping_env: WorkflowEnvironment, users: Database, database_url: str
) -> None:
    partners = FakePartners(terms=PaymentTerms.NET)
    running = an_order_in_the_console(time_skipping_env, users, database_url, partners)
    async with running as (client, handle, order):
        await wait_for_status(handle, OrderStatus.DELIVERED)
        token = await asyncio.to_thread(log_in, client, "olivia")
        path = f"/orders/{order.order_id}/pay"
        wrong = await post(
            client, path, {"csrf_token": token, "amount": "12,50x", "bank_ref": "B-1"}
        )
        assert wrong.status_code == 422
        assert "amount" in wrong.text
        form = {"csrf_token": token, "amount": "20.00", "bank_ref": "BANK-7", "action_id": "p1"}
        first = await post(client, path, form)
        repeat = await post(client, path, {**form, "action_id": "p2"})  # the same bank reference
        rest = await post(
            client,
            path,
            {**form, "amount": str(TOTAL - 20), "bank_ref": "BANK-8", "action_id": "p3"},
        )
        result = await handle.result()
        view = await view_of(handle)
    assert first.status_code == rest.status_code == 303
    assert repeat.status_code == 409
    assert "BANK-7" in repeat.text
    assert result.status is OrderStatus.COMPLETED
    assert partners.calls.count(RECORD_PAYMENT) == 2
    # Booked in the name of the person logged in, not "system".
    payments = [e for e in view.history if e.kind == EventKind.PAYMENT_RECEIVED.value]
    assert [(e.actor, "BANK-7" in e.detail) for e in payments][:1] == [("olivia", True)]
    assert {e.actor for e in payments} == {"olivia"}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_deadline_moved_in_the_console_is_recorded_with_the_user(
    time_skipping_env: WorkflowEnvironment, users: Database, database_url: str
) -> None:
    partners = FakePartners(credit=CreditOutcome.HOLD)
    running = an_order_in_the_console(time_skipping_env, users, database_url, partners)
    async with running as (client, handle, order):
        await wait_for_status(handle, OrderStatus.AWAITING_APPROVAL)
        token = await asyncio.to_thread(log_in, client, "olivia")
        path = f"/orders/{order.order_id}/extend"
        form = {"csrf_token": token, "reason": "customer on holiday", "action_id": "e1"}
        garbled = await post(client, path, {**form, "new_deadline": "next tuesday"})
        later = (await time_skipping_env.get_current_time()) + timedelta(days=3)
        moved = await post(client, path, {**form, "new_deadline": f"{later:%Y-%m-%dT%H:%M}"})
        view = await view_of(handle)
        await handle.cancel()
    assert garbled.status_code == 422
    assert "new_deadline" in garbled.text
    assert moved.status_code == 303, moved.text
    extended = [c for c in partners.status_changes if c.event.value == "deadline_extended"]
    assert [c.actor for c in extended] == ["olivia"]
    assert "customer on holiday" in (extended[0].detail or "")
    assert view.waiting is not None
    assert view.waiting.ladder is not None
    assert view.waiting.ladder.next_at == later.replace(second=0, microsecond=0)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_supply_received_in_the_console_lets_the_order_ship(
    time_skipping_env: WorkflowEnvironment, users: Database, database_url: str
) -> None:
    partners = FakePartners(backorders=[Backorder(line_no=2, sku="BOLT-M8", quantity=4)])
    running = an_order_in_the_console(time_skipping_env, users, database_url, partners)
    async with running as (client, handle, order):
        await wait_until(handle, lambda v: bool(v.supply and v.supply[0].kind), "supply ordered")
        token = await asyncio.to_thread(log_in, client, "olivia")
        path = f"/orders/{order.order_id}/supply/2/receive"
        form = {"csrf_token": token, "note": "DN-77", "action_id": "s1"}
        too_many = await post(client, path, {**form, "quantity": "0"})
        received = await post(client, path, {**form, "quantity": "4"})
        unknown_line = await post(
            client, f"/orders/{order.order_id}/supply/9/receive", {**form, "quantity": "1"}
        )
        result = await handle.result()
    assert too_many.status_code == 422
    assert "Quantity: must be at least 1" in too_many.text
    assert received.status_code == 303
    assert unknown_line.status_code == 409
    assert f"supply for order {order.order_id} line 9" in unknown_line.text
    assert result.status is OrderStatus.COMPLETED
    assert partners.calls.count(RECEIVE_SUPPLY) == 1


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_parcel_decision_goes_to_the_parcels_workflow(
    time_skipping_env: WorkflowEnvironment, users: Database, database_url: str
) -> None:
    client = console(users, database_url, time_skipping_env)
    token = await asyncio.to_thread(log_in, client, "olivia")
    form = {"csrf_token": token, "reason": "box crushed", "action_id": "r1"}
    nonsense = await post(
        client, "/orders/X-1/parcels/X-1-S1/resolve", {**form, "resolution": "burn"}
    )
    absent = await post(
        client, "/orders/X-1/parcels/X-1-S1/resolve", {**form, "resolution": "reship"}
    )
    assert nonsense.status_code == 422
    assert "action" in nonsense.text
    assert absent.status_code == 409
    assert "parcel X-1-S1: no running workflow" in absent.text
