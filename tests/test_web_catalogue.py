"""The catalogue kept in the console and over the API (issue 16): products, warehouses and
stock levels created, changed and imported from CSV; every bad field or row named, nothing
half-written; readers see it and cannot change it."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from domain.access import Role, SystemRole
from domain.catalogue import ProductRecord
from persistence.database import Database
from persistence.transactions import accounts
from persistence.transactions.catalogue import (
    product_records,
    stock_policy_records,
    stored_record,
    warehouse_records,
)
from runtime.settings import Settings
from tests.test_stock_api import bearer
from tests.test_web_admin import PASSWORD, log_in
from tests.test_web_stock_operations import text_of
from web.app import create_app


@pytest.fixture
def client(db: Database, database_url: str) -> Iterator[TestClient]:
    accounts.create_user(db, "kai.wu", PASSWORD, Role.WAREHOUSE, actor="test")
    accounts.create_user(db, "wen.li", PASSWORD, Role.ANALYST, actor="test")
    with TestClient(
        create_app(Settings(database_url=database_url), db), follow_redirects=False
    ) as test_client:
        yield test_client


def test_a_warehouse_user_creates_and_changes_a_product_and_its_levels(
    client: TestClient, db: Database
) -> None:
    token = log_in(client, "kai.wu")
    page = client.get("/stock/catalogue")
    assert page.status_code == 200
    shown = text_of(page.text)
    assert "WIDGET-1 Widget, steel pcs" in shown  # the demo catalogue, imported from CSV
    assert "WH-HAM Hamburg port DE 20" in shown
    blank = client.get("/stock/catalogue/products/record")
    assert blank.status_code == 200
    assert 'name="sourcing"' in blank.text
    assert '<option value="make" >made (production order)</option>' in blank.text  # words
    product = {
        "csrf_token": token,
        "sku": "VALVE-9",
        "name": "Valve DN50",
        "unit": "pcs",
        "unit_price": "88.00",
        "currency": "EUR",
        "cost": "41.00",
        "sourcing": "make",
        "lead_time_days": "12",
        "pack_multiple": "10",
        "supplier": "Factory Hamburg",
        "category": "valves",
        "active": "true",
    }
    created = client.post("/stock/catalogue/products/record", data=product)
    assert created.status_code == 303
    assert "saved=VALVE-9" in created.headers["location"]
    valve = stored_record(db, ProductRecord, ("VALVE-9",))
    assert valve is not None
    assert (valve.unit_price, valve.pack_multiple, valve.sourcing.value, valve.active) == (
        Decimal("88.00"),
        10,
        "make",
        True,
    )

    form = client.get("/stock/catalogue/products/record?sku=VALVE-9")
    assert 'value="Factory Hamburg"' in form.text
    assert 'name="sku" value="VALVE-9" readonly' in form.text
    retired = {**product, "unit_price": "91.50"}
    del retired["active"]  # an unticked box is not sent: the product is retired
    assert client.post("/stock/catalogue/products/record", data=retired).status_code == 303
    valve = stored_record(db, ProductRecord, ("VALVE-9",))
    assert valve is not None
    assert (valve.unit_price, valve.active) == (Decimal("91.50"), False)

    wrong = client.post(
        "/stock/catalogue/products/record",
        data={**product, "sku": "NEW-1", "unit_price": "cheap", "lead_time_days": "-1"},
    )
    assert wrong.status_code == 422
    said = text_of(wrong.text)
    assert "List price: write the amount as digits" in said
    assert "Lead time (days): must be at least 0" in said
    assert 'value="cheap"' in wrong.text  # what was typed stays
    assert stored_record(db, ProductRecord, ("NEW-1",)) is None

    level = {
        "csrf_token": token,
        "sku": "VALVE-9",
        "warehouse_id": "WH-HAM",
        "reorder_point": "20",
        "minimum": "30",
        "maximum": "100",
    }
    disordered = client.post("/stock/catalogue/levels/record", data=level)
    assert disordered.status_code == 409
    assert "minimum 30 is above the reorder point 20" in text_of(disordered.text)
    unknown = client.post(
        "/stock/catalogue/levels/record", data={**level, "warehouse_id": "WH-NOPE", "minimum": "5"}
    )
    assert unknown.status_code == 409
    assert "warehouse_id 'WH-NOPE': no such warehouse" in text_of(unknown.text)
    kept = client.post("/stock/catalogue/levels/record", data={**level, "minimum": "5"})
    assert kept.status_code == 303
    [valve_level] = [p for p in stock_policy_records(db) if p.sku == "VALVE-9"]
    assert (valve_level.reorder_point, valve_level.minimum, valve_level.maximum) == (20, 5, 100)

    warehouse = {"csrf_token": token, "id": "WH-TPE", "name": "Taipei north", "country": "TW"}
    assert client.post("/stock/catalogue/warehouses/record", data=warehouse).status_code == 303
    assert "WH-TPE" in {w.id for w in warehouse_records(db)}


def test_a_csv_upload_names_every_bad_row_and_writes_nothing(
    client: TestClient, db: Database
) -> None:
    token = log_in(client, "kai.wu")
    before = product_records(db)
    bad = (
        "sku,name,unit_price,sourcing\n"
        "BOX-S,Box small,2.50,buy\n"
        "BOX M,Box medium,3.50,buy\n"
        "BOX-L,,x,sell\n"
    )
    refused = client.post(
        "/stock/catalogue/import",
        data={"csrf_token": token, "kind": "products"},
        files={"file": ("boxes.csv", bad.encode(), "text/csv")},
    )
    assert refused.status_code == 422
    said = text_of(refused.text)
    assert "Nothing was imported" in said
    assert "line 3, column 'sku'" in said
    assert "line 4, column 'name'" in said
    assert "line 4, column 'sourcing'" in said
    assert product_records(db) == before

    good = (
        "\ufeffsku,name,unit_price,sourcing\nBOX-S,Box small,2.50,buy\nBOX-M,Box medium,3.50,buy\n"
    )
    loaded = client.post(
        "/stock/catalogue/import",
        data={"csrf_token": token, "kind": "products"},
        files={"file": ("boxes.csv", good.encode(), "text/csv")},
    )
    assert loaded.status_code == 200
    assert "boxes.csv: 2 created, 0 updated, 0 unchanged" in text_of(loaded.text)
    exported = client.get("/stock/catalogue/products.csv")
    assert exported.headers["content-type"].startswith("text/csv")
    assert "BOX-M,Box medium,pcs,3.50,EUR,0.00,buy,0,1,,,true" in exported.text

    levels = "sku,warehouse_id,reorder_point\nBOX-S,WH-BER,10\nGHOST,WH-BER,1\n"
    unknown = client.post(
        "/stock/catalogue/import",
        data={"csrf_token": token, "kind": "levels"},
        files={"file": ("levels.csv", levels.encode(), "text/csv")},
    )
    assert unknown.status_code == 422
    assert "line 3: sku 'GHOST': no such product" in text_of(unknown.text)
    assert not [p for p in stock_policy_records(db) if p.sku == "BOX-S"]


def test_readers_see_the_catalogue_but_cannot_change_it(client: TestClient, db: Database) -> None:
    token = log_in(client, "wen.li")
    page = client.get("/stock/catalogue")
    assert page.status_code == 200
    assert "WIDGET-1" in page.text
    assert "/stock/catalogue/import" not in page.text
    assert "Edit" not in text_of(page.text)
    refused = client.post(
        "/stock/catalogue/warehouses/record",
        data={"csrf_token": token, "id": "WH-X", "name": "X", "country": "DE"},
    )
    assert refused.status_code == 403
    assert "WH-X" not in {w.id for w in warehouse_records(db)}


@pytest.fixture
def api(db: Database, database_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=database_url), db)) as test_client:
        yield test_client


def test_an_erp_keeps_the_catalogue_over_the_api(api: TestClient, db: Database) -> None:
    headers = bearer(db, SystemRole.WAREHOUSE, "erp")
    products = [
        {"sku": "BOX-S", "name": "Box small", "unit_price": "2.50", "sourcing": "buy"},
        {"sku": "WIDGET-1", "name": "Widget, steel", "unit_price": 21.0, "cost": "10.90"},
    ]
    loaded = api.post("/api/v1/stock/products", json=products, headers=headers)
    assert loaded.status_code == 200, loaded.text
    assert loaded.json() == {
        "created": 1,
        "updated": 1,
        "unchanged": 0,
        "changes": [{"key": "WIDGET-1", "fields": ["unit_price"]}],
    }
    listed = {p["sku"]: p for p in api.get("/api/v1/stock/products", headers=headers).json()}
    assert listed["WIDGET-1"]["unit_price"] == "21.00"

    repeated = api.post(
        "/api/v1/stock/levels",
        json=[
            {"sku": "BOX-S", "warehouse_id": "WH-BER", "reorder_point": 10},
            {"sku": "BOX-S", "warehouse_id": "WH-BER", "reorder_point": 20},
            {"sku": "BOX-S", "warehouse_id": "WH-HAM", "reorder_point": 5, "maximum": 4},
        ],
        headers=headers,
    )
    assert repeated.status_code == 409
    assert repeated.json()["detail"] == "record 2: the same ('BOX-S', 'WH-BER') as record 1"
    disordered = api.post(
        "/api/v1/stock/levels",
        json=[{"sku": "BOX-S", "warehouse_id": "WH-HAM", "reorder_point": 5, "maximum": 4}],
        headers=headers,
    )
    assert disordered.status_code == 409
    assert disordered.json()["detail"] == "record 1: reorder_point 5 is above the maximum 4"
    assert not [p for p in stock_policy_records(db) if p.sku == "BOX-S"]

    empty = api.post("/api/v1/stock/warehouses", json=[], headers=headers)
    assert empty.status_code == 422
    reader = bearer(db, SystemRole.READER, "bi")
    assert api.post("/api/v1/stock/warehouses", json=[], headers=reader).status_code == 403
    assert api.get("/api/v1/stock/warehouses", headers=headers).json()[0]["id"] == "WH-BER"


def test_a_file_bad_on_every_row_lists_the_first_problems_and_counts_the_rest(
    client: TestClient,
) -> None:
    token = log_in(client, "kai.wu")
    rows = "".join(f"BAD {n},Name,1.00\n" for n in range(250))
    refused = client.post(
        "/stock/catalogue/import",
        data={"csrf_token": token, "kind": "products"},
        files={"file": ("bad.csv", ("sku,name,unit_price\n" + rows).encode())},
    )
    assert refused.status_code == 422
    shown = text_of(refused.text)
    assert "line 201, column 'sku'" in shown
    assert "line 202, column 'sku'" not in shown
    assert "… 50 more" in shown


def test_a_catalogue_product_no_warehouse_keeps_opens_its_stock_page(
    client: TestClient, db: Database
) -> None:
    log_in(client, "wen.li")
    assert "/stock/products/LEGACY-0" in client.get("/stock/catalogue").text
    page = client.get("/stock/products/LEGACY-0")
    assert page.status_code == 200, page.text
    shown = text_of(page.text)
    assert "LEGACY-0" in shown
    assert "No stock of this product is kept in any warehouse. It is no longer sold." in shown
    assert client.get("/stock/products/NO-SUCH-9").status_code == 404
