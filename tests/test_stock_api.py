"""The stock API (issue 16): a warehouse system reads levels and books operations and
transfers with its key; refusals are 409 with the reason, bad fields 422 naming them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from domain.access import SystemRole
from persistence.database import Database
from persistence.invariants import check_database
from persistence.models import StockMovement
from persistence.transactions import api_keys
from runtime.settings import Settings
from web.app import create_app


@pytest.fixture
def api(db: Database, database_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=database_url), db)) as client:
        yield client


def bearer(db: Database, role: SystemRole, name: str = "wms") -> dict[str, str]:
    key = api_keys.create_api_key(db, name, role, actor="root").key
    return {"Authorization": f"Bearer {key}"}


def test_a_warehouse_system_books_a_receipt_once_and_reads_the_level(
    api: TestClient, db: Database
) -> None:
    headers = bearer(db, SystemRole.WAREHOUSE)
    receipt = {
        "operation": "receipt",
        "sku": "GADGET-2",
        "warehouse_id": "WH-BER",
        "quantity": 12,
        "reason": "supplier_delivery",
        "reference": "DN-1001",
    }
    first = api.post("/api/v1/stock/operations", json=receipt, headers=headers)
    assert first.status_code == 200, first.text
    assert first.json() == {
        "sku": "GADGET-2",
        "warehouse_id": "WH-BER",
        "on_hand": 52,
        "reserved": 0,
        "repeated": False,
    }
    again = api.post("/api/v1/stock/operations", json=receipt, headers=headers)
    assert again.json()["repeated"] is True
    assert again.json()["on_hand"] == 52
    levels = api.get("/api/v1/stock", params={"q": "GADGET"}, headers=headers).json()
    assert [(r["warehouse_id"], r["on_hand"], r["free"]) for r in levels] == [("WH-BER", 52, 52)]
    with db.reading() as session:
        actors = session.scalars(
            select(StockMovement.actor).where(StockMovement.reference == "DN-1001")
        ).all()
        assert actors == ["api:wms"]


def test_refusals_and_bad_fields_are_named(api: TestClient, db: Database) -> None:
    headers = bearer(db, SystemRole.WAREHOUSE)
    too_many = api.post(
        "/api/v1/stock/operations",
        json={
            "operation": "issue",
            "sku": "GADGET-2",
            "warehouse_id": "WH-BER",
            "quantity": 41,
            "reason": "scrap",
        },
        headers=headers,
    )
    assert too_many.status_code == 409
    assert "issue of 41 refused: 40 on hand" in too_many.json()["detail"]
    wrong = api.post(
        "/api/v1/stock/operations",
        json={
            "operation": "issue",
            "sku": "GADGET-2",
            "warehouse_id": "WH-BER",
            "quantity": 1,
            "reason": "found",
            "actor": "someone else",
        },
        headers=headers,
    )
    assert wrong.status_code == 422
    assert "actor" in wrong.text  # the key says who; a body may not
    wrong_reason = api.post(
        "/api/v1/stock/operations",
        json={
            "operation": "issue",
            "sku": "GADGET-2",
            "warehouse_id": "WH-BER",
            "quantity": 1,
            "reason": "found",
        },
        headers=headers,
    )
    assert wrong_reason.status_code == 409
    assert "reason 'found' is not one for a stock issue" in wrong_reason.json()["detail"]
    intake_key = bearer(db, SystemRole.INTAKE, "shop")
    forbidden = api.get("/api/v1/stock", headers=intake_key)
    assert forbidden.status_code == 403


def test_a_transfer_over_the_api(api: TestClient, db: Database) -> None:
    headers = bearer(db, SystemRole.WAREHOUSE)
    sent = api.post(
        "/api/v1/stock/transfers",
        json={
            "from_warehouse_id": "WH-HAM",
            "to_warehouse_id": "WH-BER",
            "lines": [{"sku": "BOLT-M8", "quantity": 100}],
            "reference": "TN-5",
        },
        headers=headers,
    )
    assert sent.status_code == 200, sent.text
    assert sent.json()["status"] == "in_transit"
    transfer_id = sent.json()["id"]
    received = api.post(f"/api/v1/stock/transfers/{transfer_id}/receive", headers=headers)
    assert received.json()["received_by"] == "api:wms"
    twice = api.post(f"/api/v1/stock/transfers/{transfer_id}/receive", headers=headers)
    assert twice.status_code == 409
    with db.reading() as session:
        assert check_database(session) == []
