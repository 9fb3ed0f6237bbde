"""The HTTP API against its own OpenAPI document: schemathesis generates requests from the
served schema (valid and invalid ones) and checks that no answer is a server error and every
answer matches the document (status codes, headers, content types, bodies)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from temporalio.testing import WorkflowEnvironment

from domain.access import SystemRole
from persistence.database import Database
from persistence.transactions import api_keys
from runtime.settings import Settings
from web import complaints_api
from web.app import create_app

pytestmark = [
    pytest.mark.devserver,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

EXAMPLES_PER_OPERATION = 50
"""Generated cases per operation: with twenty operations (complaints start a case each)
this keeps the check about a minute, inside CI's time budget."""


def check_every_operation(
    schema: schemathesis.schemas.BaseSchema, keys: dict[str, str]
) -> list[str]:
    """Run generated cases against every operation, each with the key of the system that
    uses it (by the path's prefix); the labels of the operations checked."""
    checked = []
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # an Err raises: the schema is broken
        key = next(key for prefix, key in keys.items() if operation.path.startswith(prefix))
        check_operation(operation, {"Authorization": f"Bearer {key}"})
        checked.append(operation.label)
    return checked


def check_operation(operation: schemathesis.APIOperation, headers: dict[str, str]) -> None:  # type: ignore[type-arg]
    """Generated cases against one operation: no server error, every answer as documented."""

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(case=operation.as_strategy())
    def run(case: schemathesis.Case) -> None:  # type: ignore[type-arg]
        case.call_and_validate(headers=headers)

    run()


async def test_every_api_operation_keeps_to_the_openapi_document(
    dev_server: WorkflowEnvironment,
    db: Database,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # No worker runs the cases the generated complaints start: a survey answer waits for
    # one as long as the API does (15 s), then answers 503 as documented; not that long here.
    monkeypatch.setattr(complaints_api, "ANSWER_WAIT", timedelta(milliseconds=200))
    keys = {
        "/api/v1/stock": api_keys.create_api_key(db, "wms", SystemRole.WAREHOUSE, actor="t").key,
        "/api/v1/orders": api_keys.create_api_key(db, "shop", SystemRole.INTAKE, actor="t").key,
        "/api/v1/customers": api_keys.create_api_key(db, "crm", SystemRole.CRM, actor="t").key,
        "/api/v1/complaints": api_keys.create_api_key(db, "mail", SystemRole.INTAKE, actor="t").key,
    }
    app = create_app(Settings(database_url=database_url), db, dev_server.client)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    checked = await asyncio.to_thread(check_every_operation, schema, keys)
    assert sorted(checked) == [
        "GET /api/v1/complaints/{complaint_id}",
        "GET /api/v1/customers/{customer_id}",
        "GET /api/v1/orders",
        "GET /api/v1/orders/{order_id}",
        "GET /api/v1/stock",
        "GET /api/v1/stock/levels",
        "GET /api/v1/stock/products",
        "GET /api/v1/stock/warehouses",
        "POST /api/v1/complaints",
        "POST /api/v1/complaints/{complaint_id}/messages",
        "POST /api/v1/complaints/{complaint_id}/survey",
        "POST /api/v1/customers",
        "POST /api/v1/orders",
        "POST /api/v1/stock/levels",
        "POST /api/v1/stock/operations",
        "POST /api/v1/stock/parcels/{shipment_id}/packed",
        "POST /api/v1/stock/products",
        "POST /api/v1/stock/transfers",
        "POST /api/v1/stock/transfers/{transfer_id}/receive",
        "POST /api/v1/stock/warehouses",
    ]
