"""Customer records (issue 17): created, changed and deactivated in the console, over the API,
with ``oms customers`` and from CSV; every change audited (who, when, old → new) with the
personal data encrypted at rest, the audit's too; the customer view's history and payment
behaviour on known data."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text, update

from domain.access import Locale, Role, SystemRole
from domain.credit_scoring import InvoiceMoney, MoneyMovement
from domain.customers import CustomerRecord, PaymentBehaviour, payment_behaviour
from domain.orders import EventKind
from domain.settlement import IncomingPayment, PaymentBooking
from persistence.csv_files import CsvFileError
from persistence.customer_files import export_customers, import_customers
from persistence.customer_views import customer_history
from persistence.database import Database
from persistence.models import Customer, Order, OrderEventRow
from persistence.transactions import accounts, intake
from persistence.transactions.catalogue import CatalogueRecordsError
from persistence.transactions.customers import (
    customer_changes,
    customer_contacts,
    find_customer,
    save_customers,
)
from persistence.transactions.money import issue_invoice, issue_receipt, record_incoming_payment
from runtime.settings import Settings
from tests.commands import oms
from tests.factories import line, submission
from tests.test_from_outside_credit import at
from tests.test_stock_api import bearer
from tests.test_web_admin import PASSWORD, log_in
from tests.test_web_stock_operations import text_of
from web.app import create_app

LENA = CustomerRecord(
    id="CUST-LENA",
    kind="person",
    name="Lena Berger",
    email="lena@example.de",
    phone="+49 30 1234",
    billing_street="Lindenweg 4",
    billing_postal_code="10115",
    billing_city="Berlin",
    billing_country="DE",
    payment_terms="net",
    net_days=14,
    credit_limit=Decimal("2500.00"),
    tags="retail,  newsletter retail",
    notes="Prefers deliveries after 16:00.",
)


def test_a_change_is_audited_field_by_field_with_personal_data_encrypted(db: Database) -> None:
    created = save_customers(db, [LENA], "mia.chen")
    assert (created.created, created.updated, created.unchanged) == (1, 0, 0)
    stored = find_customer(db, "CUST-LENA")
    assert stored is not None
    assert stored.tags == "retail, newsletter"  # each tag once
    assert save_customers(db, [LENA], "mia.chen").unchanged == 1  # no change, no audit

    consented = LENA.model_copy(
        update={"credit_limit": Decimal("4000.00"), "marketing_consent": True}
    )
    with pytest.raises(CatalogueRecordsError) as refused:
        save_customers(db, [consented], "mia.chen")
    assert refused.value.problems == [
        (0, "consent_source: say how the marketing consent was given")
    ]
    consented = consented.model_copy(update={"consent_source": "signed form"})
    assert save_customers(db, [consented], "tom.k").updated == 1
    changes = customer_changes(db, "CUST-LENA")
    latest = {c.field: (c.old, c.new, c.actor) for c in changes[:3]}
    assert latest == {
        "credit_limit": ("2500.00", "4000.00", "tom.k"),
        "marketing_consent": ("false", "true", "tom.k"),
        "consent_source": ("", "signed form", "tom.k"),
    }
    assert {c.field for c in changes[3:]} >= {"name", "email", "notes"}  # the creation
    with db.reading() as session:
        row = session.get(Customer, "CUST-LENA")
        assert row is not None
        assert row.consent_at is not None
        raw = session.execute(
            text("SELECT name, notes, billing_street FROM customers WHERE id = 'CUST-LENA'")
        ).one()
        audit = session.execute(
            text("SELECT old_value, new_value FROM customer_changes WHERE field = 'name'")
        ).all()
    assert all(value.startswith("enc:v1:") for value in raw)
    assert all(value.startswith("enc:v1:") for pair in audit for value in pair if value)
    withdrawn = consented.model_copy(update={"marketing_consent": False, "consent_source": ""})
    save_customers(db, [withdrawn], "lena-by-mail")
    with db.reading() as session:
        row = session.get(Customer, "CUST-LENA")
        assert row is not None
        assert row.consent_at is None


def test_a_customers_file_names_every_bad_row_and_writes_nothing(db: Database) -> None:
    bad = (
        "id,name,email,payment_terms,net_days,marketing_consent\n"
        "CUST-A,Anna,anna@example.org,prepaid,0,false\n"
        "CUST-B,,not-an-address,prepaid,0,false\n"
        "CUST-C,Carl,carl@example.org,net,0,false\n"
        "CUST-A,Anna again,anna@example.org,prepaid,0,false\n"
    )
    with pytest.raises(CsvFileError) as refused:
        import_customers(db, bad, "import")
    problems = refused.value.problems
    assert any(p.startswith("line 3, column 'name'") for p in problems)
    assert any(p.startswith("line 3, column 'email'") for p in problems)
    assert "line 5: the same as line 2 (CUST-A)" in problems
    assert find_customer(db, "CUST-A") is None
    with pytest.raises(CsvFileError) as rule:
        import_customers(
            db,
            bad.replace("CUST-B,,not-an-address", "CUST-B,Bo,bo@x.org").replace(
                "CUST-A,Anna again", "CUST-D,Dora"
            ),
            "import",
        )
    assert rule.value.problems == [
        "line 4: net_days: net terms give the customer at least one day to pay"
    ]
    assert find_customer(db, "CUST-A") is None
    exported = export_customers(db)
    assert exported.startswith("id,kind,name,email,")
    assert "CUST-ACME,company,Acme Retail GmbH,orders@acme.example" in exported  # demo, as CSV
    loaded = import_customers(db, exported, "import")
    assert (loaded.created, loaded.updated) == (0, 0)  # export, import: the same


def test_the_history_and_payment_behaviour_of_a_customer(db: Database) -> None:
    save_customers(db, [LENA], "mia.chen")
    start = datetime(2026, 3, 2, 9, tzinfo=UTC)
    for number, days in enumerate((0, 10, 20, 40)):
        order_id = f"LENA-{number}"
        intake.receive_order(
            db,
            submission(
                order_id,
                customer_id="CUST-LENA",
                payment_token=None,
                lines=[line("WIDGET-1", 2, "19.90"), line("BOLT-M8", 1, "7.45")],
            ),
            run_id="run",
        )
        with db.transaction() as session:
            session.execute(
                update(Order)
                .where(Order.id == order_id)
                .values(created_at=start + timedelta(days=days))
            )
    with db.transaction() as session:
        session.execute(update(Order).where(Order.id == "LENA-3").values(status="CANCELLED"))
    # Invoiced on days 0, 10 and 20, due 14 days later. The first is paid after 10 days, its
    # receipt written six days later, after the due date (the receipt is not the payment: on
    # time); the second is paid in two parts, the last after 30 days (late); the third not
    # at all (overdue).
    payments_made = ((0, ((10, "47.25"),)), (10, ((5, "20.00"), (30, "27.25"))), (20, ()))
    for number, (issued, paid) in enumerate(payments_made):
        order_id = f"LENA-{number}"
        with at(start + timedelta(days=issued)):
            issue_invoice(db, order_id)
        for days, amount in paid:
            moment = start + timedelta(days=issued + days)
            money = IncomingPayment(
                payment_id=f"BANK-{order_id}-{days}", amount=Decimal(amount), received_at=moment
            )
            with at(moment):
                record_incoming_payment(db, PaymentBooking(order_id=order_id, payment=money))
        if paid:
            with at(moment + timedelta(days=6)):
                issue_receipt(db, order_id)
    with db.transaction() as session:
        session.add(
            OrderEventRow(
                order_id="LENA-2",
                kind=EventKind.ESCALATED.value,
                detail="dunning: escalate to finance (level 2)",
                created_at=start,
            )
        )
    history = customer_history(db, "CUST-LENA", today=date(2026, 5, 1))
    assert (history.orders, history.orders_kept) == (4, 3)
    assert history.spend == Decimal("141.75")  # three kept orders of 47.25
    assert history.usual_interval_days == 10
    assert history.top_channel == "web"
    assert [p.sku for p in history.top_products] == ["WIDGET-1", "BOLT-M8"]
    assert history.top_products[0].units == 6
    assert history.recent[0].order_id == "LENA-3"
    payments = history.payments
    assert (payments.invoices, payments.paid, payments.paid_late) == (3, 2, 1)
    assert payments.average_days_to_pay == 20
    assert (payments.overdue, payments.overdue_amount) == (1, Decimal("47.25"))
    assert payments.highest_dunning_rung == 2


def test_payment_behaviour_counts_money_received_not_receipts_written() -> None:
    issued = datetime(2026, 6, 1, 9, tzinfo=UTC)

    def invoice(*movements: MoneyMovement, voided: bool = False) -> InvoiceMoney:
        return InvoiceMoney(
            amount=Decimal(100),
            issued_at=issued,
            due_on=date(2026, 6, 15),
            voided=voided,
            movements=movements,
        )

    def money(days: float, received: str = "0", credited: str = "0") -> MoneyMovement:
        return MoneyMovement(
            at=issued + timedelta(days=days), received=Decimal(received), credited=Decimal(credited)
        )

    behaviour = payment_behaviour(
        [
            invoice(money(-0.001, "100")),  # prepaid: captured a moment before its invoice
            invoice(money(17, "100")),  # two days late
            invoice(money(1, "100"), voided=True),  # cancelled: nobody owed it
            invoice(money(2, credited="30"), money(5, "50")),  # 20 still owed, overdue
            invoice(money(40, "100")),  # paid after today: overdue today
        ],
        today=date(2026, 7, 1),
        highest_dunning_rung=1,
    )
    assert behaviour == PaymentBehaviour(
        invoices=4,
        paid=2,
        average_days_to_pay=(0 + 17) / 2,
        paid_late=1,
        overdue=2,
        overdue_amount=Decimal(20 + 100),
        highest_dunning_rung=1,
    )


@pytest.fixture
def client(db: Database, database_url: str) -> Iterator[TestClient]:
    accounts.create_user(db, "mia.chen", PASSWORD, Role.CUSTOMER_SERVICE, actor="test")
    accounts.create_user(db, "olivia", PASSWORD, Role.ORDER_PROCESSING, actor="test")
    accounts.create_user(db, "wen.li", PASSWORD, Role.ANALYST, actor="test")
    with TestClient(
        create_app(Settings(database_url=database_url), db), follow_redirects=False
    ) as test_client:
        yield test_client


def test_customer_service_creates_changes_and_deactivates_a_customer(
    client: TestClient, db: Database
) -> None:
    token = log_in(client, "mia.chen")
    form = {
        "csrf_token": token,
        "id": "CUST-NORD",
        "kind": "company",
        "name": "Nordlicht Handel GmbH",
        "email": "einkauf@nordlicht.example",
        "billing_street": "Hafenstraße 1",
        "billing_postal_code": "24103",
        "billing_city": "Kiel",
        "billing_country": "DE",
        "payment_terms": "net",
        "net_days": "30",
        "credit_limit": "15000",
        "currency": "EUR",
        "standing": "good",
        "active": "true",
        "preferred_channel": "edi",
        "language": "de",
        "contact_by_email": "true",
        "tags": "wholesale",
    }
    wrong = client.post("/customers/new", data={**form, "email": "nordlicht", "net_days": "x"})
    assert wrong.status_code == 422
    assert "E-mail: has a form this field does not take (an e-mail address" in text_of(wrong.text)
    assert 'value="nordlicht"' in wrong.text
    assert find_customer(db, "CUST-NORD") is None
    created = client.post("/customers/new", data=form)
    assert created.status_code == 303
    again = client.post("/customers/new", data=form)
    assert again.status_code == 409
    assert "customer CUST-NORD exists already" in text_of(again.text)

    deactivated = dict(form)
    del deactivated["active"]  # unticked
    deactivated["credit_limit"] = "20000"
    changed = client.post("/customers/CUST-NORD/edit", data={**deactivated, "id": "HIJACK"})
    assert changed.status_code == 303
    stored = find_customer(db, "CUST-NORD")
    assert stored is not None
    assert (stored.active, stored.credit_limit) == (False, Decimal("20000.00"))
    assert find_customer(db, "HIJACK") is None  # the id in the address wins
    page = client.get("/customers/CUST-NORD")
    shown = text_of(page.text)
    assert "Nordlicht Handel GmbH" in shown
    assert "Deactivated" in shown
    assert "mia.chen Credit limit 15000.00 20000.00" in shown, shown
    listed = text_of(client.get("/customers?q=nordlicht&active=all").text)
    assert "CUST-NORD" in listed
    assert "CUST-ACME" not in listed


def test_the_customer_form_offers_words_and_a_new_customer_is_active(
    client: TestClient, db: Database
) -> None:
    accounts.set_locale(db, "mia.chen", Locale.TRADITIONAL_CHINESE)
    log_in(client, "mia.chen")
    blank = client.get("/customers/new").text
    assert '<input type="checkbox" name="active" value="true" checked>' in blank
    for value, words in (
        ("person", "個人"),
        ("net", "月結"),
        ("watch", "信用觀察中"),
        ("web", "網路商店"),
        ("de", "德文"),
    ):
        assert f'<option value="{value}" >{words}</option>' in blank, value
    assert '<option value="en" selected>英文</option>' in blank
    assert "en、de、zh_Hant" not in blank  # the language is chosen, not typed as a code
    save_customers(db, [LENA.model_copy(update={"language": "fr"})], "mia.chen")
    kept = client.get("/customers/CUST-LENA/edit").text
    assert '<option value="fr" selected>法文</option>' in kept  # a code not offered stays


def test_order_processing_reads_customers_and_analysts_do_not(
    client: TestClient, db: Database
) -> None:
    token = log_in(client, "olivia")
    page = client.get("/customers/CUST-ACME")
    assert page.status_code == 200
    assert "Acme Retail GmbH" in page.text
    assert "/customers/CUST-ACME/edit" not in page.text
    refused = client.post(
        "/customers/CUST-ACME/edit", data={"csrf_token": token, "name": "Changed"}
    )
    assert refused.status_code == 403
    log_in(client, "wen.li")
    assert client.get("/customers").status_code == 403
    assert client.get("/customers/CUST-ACME").status_code == 403


@pytest.fixture
def api(db: Database, database_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=database_url), db)) as test_client:
        yield test_client


def test_a_crm_keeps_customers_over_the_api(api: TestClient, db: Database) -> None:
    headers = bearer(db, SystemRole.CRM, "crm")
    record = LENA.model_dump(mode="json")
    saved = api.post("/api/v1/customers", json=[record], headers=headers)
    assert saved.status_code == 200, saved.text
    assert saved.json() == {"created": 1, "updated": 0, "unchanged": 0, "changes": []}
    read = api.get("/api/v1/customers/CUST-LENA", headers=headers).json()
    assert (read["name"], read["credit_limit"]) == ("Lena Berger", "2500.00")
    assert customer_changes(db, "CUST-LENA")[0].actor == "api:crm"
    refused = api.post(
        "/api/v1/customers",
        json=[{**record, "marketing_consent": True}, record],
        headers=headers,
    )
    assert refused.status_code == 409
    assert refused.json()["detail"] == (
        "record 1: consent_source: say how the marketing consent was given; "
        "record 2: the same customer CUST-LENA as record 1"
    )
    assert api.get("/api/v1/customers/NOBODY", headers=headers).status_code == 404
    warehouse = bearer(db, SystemRole.WAREHOUSE, "wms")
    assert api.get("/api/v1/customers/CUST-LENA", headers=warehouse).status_code == 403


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_oms_customers_imports_shows_and_deactivates(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    environment = {**os.environ, "OMS_DATABASE_URL": database_url}
    path = tmp_path / "customers.csv"
    path.write_text(
        "id,name,email,payment_terms,net_days,tags\n"
        "CUST-A,Anna Adler,anna@example.org,prepaid,0,vip\n"
        "CUST-B,,b@example.org,prepaid,0,\n",
        encoding="utf-8",
    )
    refused = oms("customers", "import", str(path), "--as", "mia", environment=environment)
    assert refused.returncode == 1
    assert "line 3, column 'name'" in refused.stderr
    path.write_text(
        "id,name,email,payment_terms,net_days,tags\n"
        "CUST-A,Anna Adler,anna@example.org,prepaid,0,vip\n"
    )
    loaded = oms("customers", "import", str(path), "--as", "mia", environment=environment)
    assert "1 created" in loaded.stdout, loaded.stderr
    off = oms("customers", "deactivate", "CUST-A", "--as", "mia", environment=environment)
    assert "CUST-A: deactivated" in off.stdout, off.stderr
    shown = oms("customers", "show", "CUST-A", environment=environment)
    assert "CUST-A · Anna Adler <anna@example.org> · deactivated" in shown.stdout
    assert customer_changes(db, "CUST-A")[0].actor == "mia"
    missing = oms("customers", "show", "NOBODY", environment=environment)
    assert missing.returncode == 1
    assert "no customer 'NOBODY'" in missing.stderr
    with db.reading() as session:
        assert session.scalar(select(Customer.active).where(Customer.id == "CUST-A")) is False


def test_contacts_are_added_and_removed_audited_and_encrypted(
    client: TestClient, db: Database
) -> None:
    token = log_in(client, "mia.chen")
    added = client.post(
        "/customers/CUST-ACME/contacts",
        data={
            "csrf_token": token,
            "name": "Petra Ruhl",
            "role": "buyer",
            "email": "p@acme.example",
        },
    )
    assert added.status_code == 303
    wrong = client.post(
        "/customers/CUST-ACME/contacts",
        data={"csrf_token": token, "name": "Kai", "email": "kai at acme"},
    )
    assert wrong.status_code == 422
    assert "E-mail: has a form this field does not take" in text_of(wrong.text)
    [petra] = customer_contacts(db, "CUST-ACME")
    assert (petra.name, petra.role, petra.email) == ("Petra Ruhl", "buyer", "p@acme.example")
    with db.reading() as session:
        raw = session.execute(text("SELECT name, email FROM customer_contacts")).one()
    assert all(value.startswith("enc:v1:") for value in raw)
    page = text_of(client.get("/customers/CUST-ACME").text)
    assert "Petra Ruhl buyer p@acme.example" in page
    removed = client.post(
        f"/customers/CUST-ACME/contacts/{petra.id}/remove", data={"csrf_token": token}
    )
    assert removed.status_code == 303
    assert customer_contacts(db, "CUST-ACME") == []
    audit = [(c.field, c.old, c.new) for c in customer_changes(db, "CUST-ACME")[:2]]
    assert audit == [
        ("contact", "Petra Ruhl · buyer · p@acme.example", ""),
        ("contact", "", "Petra Ruhl · buyer · p@acme.example"),
    ]


def test_a_customers_file_uploaded_in_the_console(client: TestClient, db: Database) -> None:
    token = log_in(client, "mia.chen")
    bad = "id,name,email\nCUST-X,Xaver,xaver@example.org\nCUST-Y,,y@example.org\n"
    refused = client.post(
        "/customers/import",
        data={"csrf_token": token},
        files={"file": ("people.csv", bad.encode(), "text/csv")},
    )
    assert refused.status_code == 422
    assert "line 3, column 'name'" in text_of(refused.text)
    assert find_customer(db, "CUST-X") is None
    latin = client.post(
        "/customers/import",
        data={"csrf_token": token},
        files={"file": ("people.csv", "id,name,email\nA,Jürgen,j@x.de\n".encode("latin-1"))},
    )
    assert latin.status_code == 422
    assert "people.csv: line 2, column 'name': byte 0xFC is not UTF-8" in text_of(latin.text)
    good = client.post(
        "/customers/import",
        data={"csrf_token": token},
        files={"file": ("people.csv", bad.replace("CUST-Y,,", "CUST-Y,Yvonne,").encode())},
    )
    assert good.status_code == 303
    assert "people.csv: 2 created" in unquote(good.headers["location"])
    assert customer_changes(db, "CUST-Y")[0].actor == "mia.chen"


def test_a_refused_customer_form_says_each_field_s_problem_in_chinese(
    client: TestClient, db: Database
) -> None:
    accounts.set_locale(db, "mia.chen", Locale.TRADITIONAL_CHINESE)
    token = log_in(client, "mia.chen")
    form = {
        "csrf_token": token,
        "id": "CUST-ZH",
        "kind": "company",
        "name": "Nordlicht Handel GmbH",
        "billing_street": "Hafenstraße 1",
        "billing_postal_code": "24103",
        "billing_city": "Kiel",
        "billing_country": "DE",
        "payment_terms": "net",
        "net_days": "30",
        "credit_limit": "1e3",
        "currency": "eur",
        "standing": "good",
        "language": "de",
    }
    wrong = client.post("/customers/new", data=form)
    assert wrong.status_code == 422
    page = text_of(wrong.text)
    assert "信用額度：請以數字填寫金額" in page  # noqa: RUF001
    assert "幣別：格式不符合此欄位（三個大寫英文字母，例如 EUR）" in page  # noqa: RUF001
    assert "Value error" not in page
    assert "String should" not in page
    assert 'value="1e3"' in wrong.text  # what was typed stays
