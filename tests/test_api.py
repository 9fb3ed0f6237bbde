"""The HTTP API for systems: API keys, orders by signal-with-start, status, errors, OpenAPI."""

from __future__ import annotations

import asyncio
import json
import os
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from domain.access import SystemRole
from domain.orders import order_workflow_id
from persistence.database import Database
from persistence.transactions import api_keys, intake
from runtime.settings import Settings
from tests.commands import oms, one_line_error
from tests.factories import submission
from web.app import create_app
from web.json_body import MAX_BODY_BYTES
from web.problems import ProblemType

pytestmark = pytest.mark.devserver


@pytest.fixture
async def api(
    dev_server: WorkflowEnvironment, db: Database, database_url: str
) -> AsyncIterator[TestClient]:
    app = create_app(Settings(database_url=database_url), db, dev_server.client)
    with TestClient(app, follow_redirects=False) as client:
        yield client


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def call(client: TestClient, method: str, path: str, **options: Any) -> httpx2.Response:
    """A request from a system, off the event loop the server's client runs on."""
    return await asyncio.to_thread(client.request, method, path, **options)


def document(order_id: str) -> dict[str, Any]:
    """The order document a system sends, as JSON."""
    body: dict[str, Any] = json.loads(submission(order_id).model_dump_json())
    return body


async def test_a_system_submits_an_order_once_however_often_it_sends_it(
    api: TestClient, db: Database, dev_server: WorkflowEnvironment
) -> None:
    key = api_keys.create_api_key(db, "edi-gateway", SystemRole.INTAKE, actor="root").key
    order_id = f"API-{uuid.uuid4().hex[:8]}"
    first = await call(api, "POST", "/api/v1/orders", json=document(order_id), headers=bearer(key))
    again = await call(api, "POST", "/api/v1/orders", json=document(order_id), headers=bearer(key))
    assert first.status_code == again.status_code == 202
    assert first.headers["location"] == f"/api/v1/orders/{order_id}"
    assert first.json()["delivery"] == "submitted"
    handle = dev_server.client.get_workflow_handle(order_workflow_id(order_id))
    try:
        described = await handle.describe()
        assert described.status is WorkflowExecutionStatus.RUNNING
        runs = [
            run
            async for run in dev_server.client.list_workflows(
                f"WorkflowId = '{order_workflow_id(order_id)}'"
            )
        ]
        assert len(runs) == 1  # the repeat went to the same workflow
    finally:
        await handle.terminate("test over")
    [holder] = api_keys.list_api_keys(db)
    assert holder.last_used_at is not None


async def test_keys_are_required_checked_and_revocable(api: TestClient, db: Database) -> None:
    intake_key = api_keys.create_api_key(db, "web-shop", SystemRole.INTAKE, actor="root").key
    reader_key = api_keys.create_api_key(db, "reports", SystemRole.READER, actor="root").key
    body = document(f"API-{uuid.uuid4().hex[:8]}")
    missing = await call(api, "POST", "/api/v1/orders", json=body)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    wrong = await call(api, "POST", "/api/v1/orders", json=body, headers=bearer("oms_guessed"))
    assert wrong.status_code == 401
    reader = await call(api, "POST", "/api/v1/orders", json=body, headers=bearer(reader_key))
    assert reader.status_code == 403
    assert "'reports' (reader) may not do this" in reader.json()["detail"]
    api_keys.revoke_api_key(db, "web-shop")
    revoked = await call(api, "GET", "/api/v1/orders", headers=bearer(intake_key))
    assert revoked.status_code == 401
    assert (await call(api, "GET", "/api/v1/orders", headers=bearer(reader_key))).status_code == 200


async def test_bad_and_oversized_documents_are_refused_naming_what_is_wrong(
    api: TestClient, db: Database
) -> None:
    key = api_keys.create_api_key(db, "edi-gateway", SystemRole.INTAKE, actor="root").key
    bad = document(f"API-{uuid.uuid4().hex[:8]}")
    bad["lines"][0]["quantity"] = "three"
    bad["surprise"] = True
    refused = await call(api, "POST", "/api/v1/orders", json=bad, headers=bearer(key))
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    wrong = {error["pointer"]: error["code"] for error in refused.json()["errors"]}
    assert wrong == {"#/lines/0/quantity": "int_type", "#/surprise": "extra_forbidden"}
    assert "three" not in refused.text  # fields are named, values never copied back
    huge = b'{"order_id": "' + b"x" * (MAX_BODY_BYTES + 1) + b'"}'
    too_large = await call(
        api,
        "POST",
        "/api/v1/orders",
        content=huge,
        headers={**bearer(key), "Content-Type": "application/json"},
    )
    assert too_large.status_code == 413
    assert too_large.json()["type"] == ProblemType.BODY_TOO_LARGE.uri


async def test_an_order_s_status_and_lists_come_from_the_read_model(
    api: TestClient, db: Database
) -> None:
    key = api_keys.create_api_key(db, "reports", SystemRole.READER, actor="root").key
    unknown = await call(api, "GET", "/api/v1/orders/API-NOT-YET", headers=bearer(key))
    assert unknown.status_code == 404
    intake.receive_order(db, submission("API-KNOWN"), run_id="test")
    known = await call(api, "GET", "/api/v1/orders/API-KNOWN", headers=bearer(key))
    assert known.status_code == 200
    assert known.json()["status"] == "CONFIRMED"
    listed = await call(api, "GET", "/api/v1/orders?list=new", headers=bearer(key))
    assert [row["order_id"] for row in listed.json()["rows"]] == ["API-KNOWN"]


async def test_the_openapi_document_describes_the_api_and_no_console_page(
    api: TestClient,
) -> None:
    spec = (await call(api, "GET", "/openapi.json")).json()
    assert set(spec["paths"]) == {
        "/api/v1/complaints",
        "/api/v1/complaints/{complaint_id}",
        "/api/v1/complaints/{complaint_id}/messages",
        "/api/v1/complaints/{complaint_id}/survey",
        "/api/v1/orders",
        "/api/v1/orders/{order_id}",
        "/api/v1/stock",
        "/api/v1/stock/operations",
        "/api/v1/stock/transfers",
        "/api/v1/stock/transfers/{transfer_id}/receive",
        "/api/v1/stock/parcels/{shipment_id}/packed",
        "/api/v1/stock/products",
        "/api/v1/stock/warehouses",
        "/api/v1/stock/levels",
        "/api/v1/customers",
        "/api/v1/customers/{customer_id}",
    }
    assert spec["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"
    post = spec["paths"]["/api/v1/orders"]["post"]
    assert {"202", "400", "401", "403", "413", "415", "422"} <= set(post["responses"])
    assert set(post["responses"]["422"]["content"]) == {"application/problem+json"}
    assert post["security"] == [{"ApiKey": []}]
    assert (await call(api, "GET", "/docs")).status_code == 404  # no page that needs a CDN
    # Prices are numbers, or strings of digits with at most two decimals: the document says
    # which strings, as validation takes them (schemathesis found "" described as valid).
    line = spec["components"]["schemas"]["DocumentLine"]["properties"]["unit_price"]
    pattern = next(form["pattern"] for form in line["anyOf"] if form["type"] == "string")
    assert [bool(re.fullmatch(pattern, text)) for text in ("19.90", "1000000", "", "1.999")] == [
        True,
        True,
        False,
        False,
    ]


def test_oms_api_keys_makes_lists_and_revokes_keys(db: Database, database_url: str) -> None:
    environment = {**os.environ, "OMS_DATABASE_URL": database_url}
    made = oms(
        "api-keys",
        "create",
        "--name",
        "edi-gateway",
        "--role",
        "intake",
        "--as",
        "root",
        environment=environment,
    )
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip().splitlines()[-1]
    assert key.startswith("oms_")
    assert api_keys.key_holder(db, key) is not None
    listed = json.loads(oms("api-keys", "list", "--json", environment=environment).stdout)
    assert [(k["name"], k["role"], k["created_by"]) for k in listed] == [
        ("edi-gateway", "intake", "root")
    ]
    assert oms("api-keys", "revoke", "edi-gateway", environment=environment).returncode == 0
    assert api_keys.key_holder(db, key) is None
    twice = oms(
        "api-keys",
        "create",
        "--name",
        "edi-gateway",
        "--role",
        "intake",
        environment=environment,
    )
    assert one_line_error(twice) == "error: an API key named 'edi-gateway' exists already"
