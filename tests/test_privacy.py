"""Privacy (issue 17): everything held about a customer exported; erasure refused while an
order runs, then leaving no personal data anywhere in the business database while the
accounts still balance; orders for an erased customer keep no address; the retention
policy purges long-archived orders' personal data."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from domain.access import Role
from domain.customers import ContactRecord
from domain.orders import OrderStatus, ShippingAddress
from persistence.database import Database
from persistence.invariants import check_database
from persistence.models import ArchiveRecord, Base, NotificationRow, Order
from persistence.transactions import accounts, intake
from persistence.transactions.archive import archive_order
from persistence.transactions.customers import add_contact, save_customers
from persistence.transactions.money import issue_invoice
from persistence.transactions.privacy import (
    ErasureRefusedError,
    erase_customer,
    export_customer_data,
    purge_archived_personal_data,
)
from runtime.settings import Settings
from tests.commands import oms
from tests.factories import submission
from tests.test_customers import LENA
from tests.test_web_admin import PASSWORD, log_in
from tests.test_web_stock_operations import text_of
from web.app import create_app

HOME = ShippingAddress(
    name="Lena Berger", street="Lindenweg 4", postal_code="10115", city="Berlin", country="DE"
)
PERSONAL = ("Lena Berger", "lena@example.de", "Lindenweg 4", "+49 30 1234", "after 16:00")


def lena_orders(db: Database, *order_ids: str) -> None:
    save_customers(db, [LENA], "mia.chen")
    add_contact(db, "CUST-LENA", ContactRecord(name="Lena Berger", phone="+49 30 1234"), "mia")
    for order_id in order_ids:
        intake.receive_order(
            db,
            submission(
                order_id, customer_id="CUST-LENA", payment_token=None, shipping_address=HOME
            ),
            run_id="run",
        )
        issue_invoice(db, order_id)
    with db.transaction() as session:
        session.add(
            NotificationRow(
                order_id=order_ids[0],
                key="shipped",
                audience="customer",
                subject="Your order has shipped",
                message="Dear Lena Berger, your parcel goes to Lindenweg 4.",
                reference="sim-1",
                created_at=datetime.now(UTC),
            )
        )


def finish(db: Database, *order_ids: str) -> None:
    with db.transaction() as session:
        session.execute(
            update(Order).where(Order.id.in_(order_ids)).values(status=OrderStatus.COMPLETED.value)
        )


def personal_data_left(db: Database, personal: tuple[str, ...] = PERSONAL) -> list[str]:
    """Every table and column, read through the models (decrypted), that still holds any
    of ``personal`` (Lena's personal data)."""
    found = []
    with db.reading() as session:
        for mapper in Base.registry.mappers:
            model = mapper.class_
            for row in session.scalars(select(model)):
                for column in model.__table__.columns:
                    value = json.dumps(getattr(row, column.key), default=str)
                    found += [
                        f"{model.__tablename__}.{column.key}: {text}"
                        for text in personal
                        if text in value
                    ]
    return found


def test_an_export_holds_everything_about_the_customer(db: Database) -> None:
    lena_orders(db, "LENA-1", "LENA-2")
    data = export_customer_data(db, "CUST-LENA")
    assert data is not None
    assert data["customer"]["name"] == "Lena Berger"
    assert data["customer"]["notes"] == "Prefers deliveries after 16:00."
    assert data["contacts"][0]["phone"] == "+49 30 1234"
    assert [o["id"] for o in data["orders"]] == ["LENA-1", "LENA-2"]
    assert data["orders"][0]["ship_to_street"] == "Lindenweg 4"
    assert data["orders"][0]["lines"][0]["sku"] == "WIDGET-1"
    assert {e["kind"] for e in data["orders"][0]["events"]} >= {"received", "invoice_issued"}
    assert len(data["invoices"]) == 2
    assert data["messages"][0]["message"].startswith("Dear Lena Berger")
    assert {c["field"] for c in data["record_changes"]} >= {"name", "email", "notes"}
    json.dumps(data)  # all of it JSON
    assert export_customer_data(db, "NOBODY") is None


def test_erasure_waits_for_running_orders_then_leaves_no_personal_data(db: Database) -> None:
    lena_orders(db, "LENA-1", "LENA-2")
    assert personal_data_left(db)  # the check finds what is there
    with pytest.raises(ErasureRefusedError, match=r"2 order\(s\) still running \(LENA-1, LENA-2\)"):
        erase_customer(db, "CUST-LENA", "mia.chen")
    assert personal_data_left(db)  # refused: nothing changed
    finish(db, "LENA-1", "LENA-2")
    with db.reading() as session:
        before = check_database(session)  # (the orders were finished by hand, unpaid)
    erased = erase_customer(db, "CUST-LENA", "mia.chen")
    assert (erased.orders, erased.messages) == (2, 1)
    assert personal_data_left(db) == []
    with db.reading() as session:
        assert check_database(session) == before  # erasure moved no money and no stock
    data = export_customer_data(db, "CUST-LENA")
    assert data is not None
    assert len(data["invoices"]) == 2  # kept for the accounts, by id
    assert data["customer"]["name"] == "[erased]"
    assert data["record_changes"][0]["field"] == "erasure"

    intake.receive_order(  # a new order for the erased customer
        db,
        submission("LENA-3", customer_id="CUST-LENA", shipping_address=HOME),
        run_id="run",
    )
    assert personal_data_left(db) == []
    with db.reading() as session:
        order = session.get(Order, "LENA-3")
        assert order is not None
        assert order.status == OrderStatus.REJECTED.value
        assert "customer CUST-LENA was erased" in order.rejection_reasons


def test_the_retention_policy_purges_long_archived_orders(db: Database) -> None:
    lena_orders(db, "LENA-1", "LENA-2")
    finish(db, "LENA-1", "LENA-2")
    archive_order(db, "LENA-1")
    archive_order(db, "LENA-2")
    with db.transaction() as session:
        session.execute(
            update(ArchiveRecord)
            .where(ArchiveRecord.order_id == "LENA-1")
            .values(archived_at=datetime.now(UTC) - timedelta(days=800))
        )
    assert purge_archived_personal_data(db, datetime.now(UTC) - timedelta(days=730)) == 1
    assert purge_archived_personal_data(db, datetime.now(UTC) - timedelta(days=730)) == 0
    with db.reading() as session:
        old = session.get(Order, "LENA-1")
        recent = session.get(Order, "LENA-2")
        assert old is not None
        assert recent is not None
        assert (old.ship_to_name, old.ship_to_street, old.ship_to_country) == ("", "", "DE")
        assert old.personal_data_removed_at is not None
        assert recent.ship_to_street == "Lindenweg 4"


@pytest.fixture
def client(db: Database, database_url: str) -> Iterator[TestClient]:
    accounts.create_user(db, "mia.chen", PASSWORD, Role.CUSTOMER_SERVICE, actor="test")
    with TestClient(
        create_app(Settings(database_url=database_url), db), follow_redirects=False
    ) as test_client:
        yield test_client


def test_customer_service_exports_and_erases_in_the_console(
    client: TestClient, db: Database
) -> None:
    lena_orders(db, "LENA-1")
    token = log_in(client, "mia.chen")
    exported = client.get("/customers/CUST-LENA/export.json")
    assert exported.headers["content-type"] == "application/json"
    assert exported.json()["customer"]["email"] == "lena@example.de"
    unconfirmed = client.post(
        "/customers/CUST-LENA/erase", data={"csrf_token": token, "confirm": "lena"}
    )
    assert unconfirmed.status_code == 422
    refused = client.post(
        "/customers/CUST-LENA/erase", data={"csrf_token": token, "confirm": "CUST-LENA"}
    )
    assert refused.status_code == 409
    assert "still running (LENA-1)" in text_of(refused.text)
    finish(db, "LENA-1")
    erased = client.post(
        "/customers/CUST-LENA/erase", data={"csrf_token": token, "confirm": "CUST-LENA"}
    )
    assert erased.status_code == 303
    assert "Lena Berger" not in client.get("/customers/CUST-LENA").text
    assert personal_data_left(db) == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_oms_customers_export_data_and_erase(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    lena_orders(db, "LENA-1")
    finish(db, "LENA-1")
    environment = {**os.environ, "OMS_DATABASE_URL": database_url}
    path = tmp_path / "lena.json"
    exported = oms("customers", "export-data", "CUST-LENA", str(path), environment=environment)
    assert exported.returncode == 0, exported.stderr
    assert json.loads(path.read_text())["orders"][0]["ship_to_name"] == "Lena Berger"
    erased = oms("customers", "erase", "CUST-LENA", "--yes", "--as", "dpo", environment=environment)
    assert "CUST-LENA: erased; 1 order(s) without address" in erased.stdout, erased.stderr
    assert personal_data_left(db) == []
