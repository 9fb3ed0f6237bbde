"""Issue 25, item 2 over the HTTP API: a batch item without a field wiped it, as a CSV file
without the column did. A field absent from a posted product, warehouse, stock level or
customer now keeps its stored value, ``null`` sent where allowed clears it, a new record
still needs its required fields (409 naming them, as other records the stored ones make
impossible), and the answer names the changed fields."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel, ValidationError

from domain.access import SystemRole
from domain.catalogue import ProductRecord
from domain.complaints import RemedyRequest
from domain.credit_scoring import CreditDecisionInput
from domain.customers import CustomerRecord
from domain.inventory import StocktakeOpening
from persistence.database import Database
from persistence.transactions import api_keys
from persistence.transactions.catalogue import (
    product_records,
    stock_policy_records,
    stored_record,
    warehouse_records,
)
from persistence.transactions.customers import customer_changes, find_customer, save_customers
from runtime.settings import Settings
from tests.test_from_outside_files import retired_valve
from web.app import create_app


@pytest.fixture
def api(db: Database, database_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=database_url), db)) as client:
        yield client


def bearer(db: Database, role: SystemRole, name: str) -> dict[str, str]:
    key = api_keys.create_api_key(db, name, role, actor="root").key
    return {"Authorization": f"Bearer {key}"}


def test_a_partial_product_keeps_its_other_fields_and_the_answer_names_the_change(
    api: TestClient, db: Database
) -> None:
    valve = retired_valve(db)
    answer = api.post(
        "/api/v1/stock/products",
        json=[{"sku": "P-1", "name": "Valve DN50 (brass)", "unit_price": "88.00"}],
        headers=bearer(db, SystemRole.WAREHOUSE, "erp"),
    )
    assert answer.status_code == 200, answer.text
    # It was coming back active, cost 0, no supplier.
    assert stored_record(db, ProductRecord, ("P-1",)) == valve.model_copy(
        update={"name": "Valve DN50 (brass)"}
    )
    assert answer.json() == {
        "created": 0,
        "updated": 1,
        "unchanged": 0,
        "changes": [{"key": "P-1", "fields": ["name"]}],
    }


def test_only_the_key_and_one_field_updates_that_field(api: TestClient, db: Database) -> None:
    valve = retired_valve(db)
    headers = bearer(db, SystemRole.WAREHOUSE, "erp")
    answer = api.post(
        "/api/v1/stock/products", json=[{"sku": "P-1", "active": True}], headers=headers
    )
    assert answer.json()["changes"] == [{"key": "P-1", "fields": ["active"]}]
    assert stored_record(db, ProductRecord, ("P-1",)) == valve.model_copy(update={"active": True})
    again = api.post("/api/v1/stock/products", json=[{"sku": "P-1"}], headers=headers)
    assert again.json() == {"created": 0, "updated": 0, "unchanged": 1, "changes": []}


def test_a_new_record_still_needs_its_required_fields_named_and_nothing_is_written(
    api: TestClient, db: Database
) -> None:
    valve = retired_valve(db)
    refused = api.post(
        "/api/v1/stock/products",
        json=[{"sku": "P-1", "cost": "40.00"}, {"sku": "P-NEW", "name": "New valve"}],
        headers=bearer(db, SystemRole.WAREHOUSE, "erp"),
    )
    # 409 as for a level naming an unknown product: the request is as the document says,
    # what it names is not (the same item is fine once the product exists).
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["detail"] == "record 2: a new product needs unit_price"
    assert "P-NEW" not in {p.sku for p in product_records(db)}
    assert stored_record(db, ProductRecord, ("P-1",)) == valve  # the batch is all or nothing


def test_null_is_refused_where_a_field_takes_none(api: TestClient, db: Database) -> None:
    retired_valve(db)
    refused = api.post(
        "/api/v1/stock/products",
        json=[{"sku": "P-1", "supplier": None}],
        headers=bearer(db, SystemRole.WAREHOUSE, "erp"),
    )
    assert refused.status_code == 422
    assert [e["pointer"] for e in refused.json()["errors"]] == ["#/0/supplier"]
    assert stored_record(db, ProductRecord, ("P-1",)).supplier == "Armaturen Süd"  # type: ignore[union-attr]


def test_a_partial_warehouse_and_level_keep_their_other_fields(
    api: TestClient, db: Database
) -> None:
    headers = bearer(db, SystemRole.WAREHOUSE, "erp")
    [hamburg] = [w for w in warehouse_records(db) if w.id == "WH-HAM"]
    moved = api.post(
        "/api/v1/stock/warehouses", json=[{"id": "WH-HAM", "priority": 7}], headers=headers
    )
    assert moved.json()["changes"] == [{"key": "WH-HAM", "fields": ["priority"]}]
    assert [w for w in warehouse_records(db) if w.id == "WH-HAM"] == [
        hamburg.model_copy(update={"priority": 7})
    ]

    level = stock_policy_records(db)[0].model_copy(update={"service_level": Decimal("0.95")})
    set_whole: dict[str, Any] = level.model_dump(mode="json")
    assert api.post("/api/v1/stock/levels", json=[set_whole], headers=headers).status_code == 200
    key = {"sku": level.sku, "warehouse_id": level.warehouse_id}
    safer = api.post(
        "/api/v1/stock/levels",
        json=[{**key, "safety_stock": level.safety_stock + 3}],
        headers=headers,
    )
    assert safer.json()["changes"] == [
        {"key": f"{level.sku} · {level.warehouse_id}", "fields": ["safety_stock"]}
    ]
    assert stock_policy_records(db)[0] == level.model_copy(
        update={"safety_stock": level.safety_stock + 3}
    )
    cleared = api.post(
        "/api/v1/stock/levels", json=[{**key, "service_level": None}], headers=headers
    )
    assert cleared.json()["changes"][0]["fields"] == ["service_level"]
    assert stock_policy_records(db)[0] == level.model_copy(
        update={"safety_stock": level.safety_stock + 3, "service_level": None}
    )


def test_a_partial_customer_keeps_consent_and_credit_limit_and_only_the_change_is_audited(
    api: TestClient, db: Database
) -> None:
    jane = CustomerRecord(
        id="CUST-P1",
        name="Jane Roe",
        email="jane@example.org",
        phone="+49 30 1234",
        payment_terms="net",
        net_days=30,
        credit_limit=Decimal("5000"),
        marketing_consent=True,
        consent_source="signed form",
        preferred_channel="phone",
        notes="prefers mornings",
    )
    save_customers(db, [jane], "test")
    headers = bearer(db, SystemRole.CRM, "crm")
    answer = api.post(
        "/api/v1/customers",
        json=[{"id": "CUST-P1", "name": "Jane Roe", "email": "jane.roe@example.org"}],
        headers=headers,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["changes"] == [{"key": "CUST-P1", "fields": ["email"]}]
    assert find_customer(db, "CUST-P1") == jane.model_copy(update={"email": "jane.roe@example.org"})
    audited = [(c.field, c.actor) for c in customer_changes(db, "CUST-P1") if c.actor != "test"]
    assert audited == [("email", "api:crm")]

    cleared = api.post(
        "/api/v1/customers", json=[{"id": "CUST-P1", "preferred_channel": None}], headers=headers
    )
    assert cleared.json()["changes"] == [{"key": "CUST-P1", "fields": ["preferred_channel"]}]
    assert find_customer(db, "CUST-P1").preferred_channel is None  # type: ignore[union-attr]

    # A partial record is checked as it will be kept: consent now needs its stored source.
    refused = api.post(
        "/api/v1/customers",
        json=[{"id": "CUST-P1", "consent_source": ""}],
        headers=headers,
    )
    assert refused.status_code == 409
    assert "consent_source" in refused.json()["detail"]
    new = api.post("/api/v1/customers", json=[{"id": "CUST-NEW", "name": "Ann"}], headers=headers)
    assert new.status_code == 409
    assert new.json()["detail"] == "record 1: a new customer needs email"
    assert find_customer(db, "CUST-NEW") is None


@pytest.mark.parametrize("written", ["1e3", "1E+3", "NaN", "0x10", "1,000.00"])
def test_a_price_cost_or_credit_limit_written_otherwise_than_in_digits_is_refused(
    api: TestClient, db: Database, written: str
) -> None:
    """``"1e3"`` was read as Python's Decimal reads it: a thousand, booked from four typed
    characters (as the payment amounts were before them). Every amount typed as text takes
    digits with at most two decimals; the answer names the field and nothing is written."""
    valve = retired_valve(db)
    warehouse = bearer(db, SystemRole.WAREHOUSE, "erp")
    for field in ("unit_price", "cost"):
        answer = api.post(
            "/api/v1/stock/products", json=[{"sku": "P-1", field: written}], headers=warehouse
        )
        assert answer.status_code == 422, answer.text
        assert field in answer.text
        assert "digits" in answer.text
    assert stored_record(db, ProductRecord, ("P-1",)) == valve

    answer = api.post(
        "/api/v1/customers",
        json=[{"id": "CUST-P2", "name": "A", "email": "a@example.org", "credit_limit": written}],
        headers=bearer(db, SystemRole.CRM, "crm"),
    )
    assert answer.status_code == 422, answer.text
    assert "credit_limit" in answer.text
    assert "digits" in answer.text
    assert find_customer(db, "CUST-P2") is None


@pytest.mark.parametrize("written", ["1e3", "1E+3", "NaN", "0x10", "1,000.00"])
def test_a_remedy_a_credit_override_and_a_count_threshold_take_amounts_in_digits(
    written: str,
) -> None:
    """A complaint's refund of ``1e3`` became 1,000.00 EUR, a credit override of ``1e5`` a
    limit of 100,000 and a stocktake's approval threshold of ``1e2`` 100.00: every amount a
    person types takes digits with at most two decimals, refused naming the field."""
    cases: list[tuple[type[BaseModel], dict[str, Any], str]] = [
        (
            RemedyRequest,
            {"actor": "mia", "kind": "refund", "amount": written, "reason": "late"},
            "amount",
        ),
        (CreditDecisionInput, {"accept": False, "limit": written, "actor": "ann"}, "limit"),
        (
            StocktakeOpening,
            {"warehouse_id": "WH-BER", "approval_threshold": written, "actor": "kai"},
            "approval_threshold",
        ),
    ]
    for model, document, field in cases:
        with pytest.raises(ValidationError) as refused:
            model.model_validate(document)
        [problem] = refused.value.errors()
        assert problem["loc"][0] == field
        assert "digits" in problem["msg"]
    assert RemedyRequest.model_validate(
        {"actor": "mia", "kind": "refund", "amount": "12.50", "reason": "late"}
    ).amount == Decimal("12.50")
