"""Issue 25, customers and privacy (items 19, 20 and 24), reproduced from outside: what staff
typed about a customer is encrypted at rest and erased with them; an erasure leaves no
erased value readable in the SQLite file or its WAL while the system runs, nor in
PostgreSQL's table pages after its vacuum; the data export holds campaigns, care tasks, the
segment, the survey message and the facts of the processing."""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from domain.access import Role
from domain.campaigns import campaign_workflow_id
from domain.care import CareRules, CareTaskCompletion
from domain.complaints import (
    CaseEvent,
    ComplaintEventKind,
    ComplaintStatus,
    RemedyKind,
    RemedyOrder,
    RemedyView,
    complaint_workflow_id,
)
from domain.intake import StatusChange
from domain.notifications import Audience, Notification
from domain.orders import EventKind, OrderStatus
from persistence.database import Database
from persistence.demo_catalogue import seed_demo_catalogue
from persistence.encrypted import PREFIX
from persistence.migrate import downgrade, upgrade
from persistence.models import (
    CampaignRecipient,
    CampaignRow,
    CareTaskRow,
    CreditProposal,
    CustomerSegmentRow,
    NotificationRow,
    OrderEventRow,
)
from persistence.transactions import accounts
from persistence.transactions.care import create_complaint_follow_up, record_done
from persistence.transactions.complaints import (
    book_goodwill_credit,
    file_complaint,
    find_case,
    record_case_event,
)
from persistence.transactions.intake import record_order_status
from persistence.transactions.money import void_invoice
from persistence.transactions.outbox import messages_about, record_notification
from persistence.transactions.privacy import erase_customer, export_customer_data
from runtime.settings import Settings
from tests.commands import oms
from tests.conftest import TEST_KEY_RING, fresh_database
from tests.test_complaints import phone
from tests.test_privacy import finish, lena_orders, personal_data_left
from tests.test_web_admin import PASSWORD, log_in
from web.app import create_app

CANCEL_REASON = "Lena Berger phoned: please cancel"
CARE_OUTCOME = "Called Lena Berger on +49 30 1234"
GOODWILL_REASON = "Lena Berger waited two weeks for her parcel"
OVERRIDE_NOTE = "Lena Berger promised to pay by Friday"
STAFF_WROTE = ("Lena Berger", "+49 30 1234", "please cancel", "waited two weeks", "promised to pay")
"""What staff typed about Lena, and her name and phone number inside it."""


def staff_wrote_about_lena(db: Database) -> int:
    """LENA-1 cancelled on the phone, its invoice voided with the reason; a complaint closed
    with a goodwill credit (in its case record too); the follow-up call done. The complaint."""
    lena_orders(db, "LENA-1", "LENA-2")
    record_order_status(
        db,
        StatusChange(
            order_id="LENA-1",
            event=EventKind.CANCELLATION_REQUESTED,
            detail=CANCEL_REASON,
            actor="mia.chen",
        ),
    )
    void_invoice(db, "LENA-1", f"cancelled by mia.chen: {CANCEL_REASON}")
    record_order_status(
        db,
        StatusChange(
            order_id="LENA-1",
            event=EventKind.CANCELLED,
            detail=f"cancelled by mia.chen: {CANCEL_REASON}",
            actor="mia.chen",
            status=OrderStatus.CANCELLED,
            rejection_reasons=[f"cancelled by mia.chen: {CANCEL_REASON}"],
        ),
    )
    finish(db, "LENA-2")
    complaint = file_complaint(db, phone("CUST-LENA", taken_by="mia.chen")).case
    remedy = RemedyOrder(
        complaint_id=complaint.id,
        number=1,
        kind=RemedyKind.GOODWILL_CREDIT,
        customer_id="CUST-LENA",
        order_id=None,
        amount=Decimal(15),
        reason=GOODWILL_REASON,
    )
    book_goodwill_credit(db, remedy, key="goodwill-1")
    view = RemedyView(
        number=1,
        kind=RemedyKind.GOODWILL_CREDIT,
        amount=Decimal(15),
        currency="EUR",
        reason=GOODWILL_REASON,
        asked_by="mia.chen",
        status="done",
    )
    closed = complaint.model_copy(update={"remedies": [view], "status": ComplaintStatus.CLOSED})
    record_case_event(
        db, CaseEvent(case=closed, kind=ComplaintEventKind.CLOSED, actor="mia.chen", key="close")
    )
    now = datetime.now(UTC)
    [task] = create_complaint_follow_up(db, "CUST-LENA", complaint.id, now, CareRules())
    record_done(
        db, CareTaskCompletion(task_id=task.id, outcome=CARE_OUTCOME, actor="mia.chen"), now
    )
    with db.transaction() as session:  # a credit proposal overridden with a note
        session.add(
            CreditProposal(
                customer_id="CUST-LENA",
                created_at=now,
                score=48,
                current_limit=Decimal(5000),
                current_standing="good",
                suggested_limit=Decimal(2000),
                suggested_standing="watch",
                reasons=[],
                status="overridden",
                decided_by="finn.ance",
                decided_at=now,
                final_limit=Decimal(5000),
                final_standing="good",
                note=OVERRIDE_NOTE,
            )
        )
    return complaint.id


def stored_plaintext(db: Database, *texts: str) -> list[str]:
    """The columns whose raw stored values (as the database holds them) contain ``texts``."""
    columns = (
        ("order_events", "detail"),
        ("orders", "rejection_reasons"),
        ("credit_notes", "reason"),
        ("goodwill_credits", "reason"),
        ("care_tasks", "outcome"),
        ("credit_proposals", "note"),
        ("complaints", '"case"'),
        ("notifications", "subject"),
        ("notifications", "message"),
    )
    found = []
    with db.reading() as session:
        for table, column in columns:
            for (value,) in session.execute(text(f"SELECT CAST({column} AS TEXT) FROM {table}")):
                found += [f"{table}.{column}: {t}" for t in texts if t in (value or "")]
    return found


# --- item 19: what staff typed ---------------------------------------------------------


def test_what_staff_typed_about_a_customer_is_encrypted_at_rest(db: Database) -> None:
    staff_wrote_about_lena(db)
    assert stored_plaintext(db, *STAFF_WROTE) == []
    # ...and reads back through the models.
    data = export_customer_data(db, "CUST-LENA")
    assert data is not None
    details = [event["detail"] for event in data["orders"][0]["events"]]
    assert CANCEL_REASON in details
    assert data["goodwill_credits"][0]["reason"] == GOODWILL_REASON
    assert data["care_tasks"][0]["outcome"] == CARE_OUTCOME
    assert data["credit_proposals"][0]["note"] == OVERRIDE_NOTE


def test_erasure_clears_what_staff_typed_keeping_who_wrote_it_and_when(db: Database) -> None:
    complaint_id = staff_wrote_about_lena(db)
    erased = erase_customer(db, "CUST-LENA", "dpo")
    assert erased.staff_texts >= 7
    assert personal_data_left(db, STAFF_WROTE) == []
    with db.reading() as session:
        requested = session.scalars(
            select(OrderEventRow).where(
                OrderEventRow.order_id == "LENA-1",
                OrderEventRow.kind == EventKind.CANCELLATION_REQUESTED.value,
            )
        ).one()
        assert (requested.actor, requested.detail) == ("mia.chen", "[erased]")
        assert requested.created_at is not None
        cancelled = session.scalars(
            select(OrderEventRow).where(OrderEventRow.kind == EventKind.CANCELLED.value)
        ).one()
        assert cancelled.detail == "cancelled by mia.chen: [erased]"
        task = session.scalars(select(CareTaskRow)).one()
        assert (task.outcome, task.completed_by) == ("[erased]", "mia.chen")
        assert task.completed_at is not None
    case = find_case(db, complaint_id)
    assert case is not None
    assert [(r.reason, r.asked_by, r.amount) for r in case.remedies] == [
        ("[erased]", "mia.chen", Decimal(15))
    ]
    data = export_customer_data(db, "CUST-LENA")
    assert not [t for t in STAFF_WROTE if t in json.dumps(data)]
    assert data is not None
    assert data["goodwill_credits"][0]["amount"] == "15.00"  # the voucher stays


# --- item 19: what the customer was sent (the notifications record) ------------------

SENT_TO_LENA = ("Lena Berger", "Lindenweg 4", "INV-LENA-7", "spring cushions")
"""What the messages sent to Lena say about her (her name, address, an invoice she owes,
what a campaign's author typed in its subject)."""


def messages_sent_to_lena(db: Database) -> list[Notification]:
    """What staff wrote about Lena, and the messages sent to her: an order's dunning, a
    complaint's reply and survey link, a campaign's message (with the one
    :func:`tests.test_privacy.lena_orders` keeps), and finance's order to pay back a
    refund, quoting its reason. The messages recorded here."""
    complaint_id = staff_wrote_about_lena(db)
    now = datetime.now(UTC)
    with db.transaction() as session:
        session.add(
            CampaignRow(
                id=7,
                name="Spring",
                definition={"name": "Spring", "subject": "Your spring offer", "message": "Hi"},
                status="finished",
                created_by="max",
                created_at=now,
            )
        )
        session.flush()
        session.add(
            CampaignRecipient(
                campaign_id=7, customer_id="CUST-LENA", control=False, status="sent", sent_at=now
            )
        )
    case = complaint_workflow_id(complaint_id)
    sent = [
        Notification(
            order_id="LENA-2",
            key="dunning:rung1",
            audience=Audience.CUSTOMER,
            subject="Lena Berger: invoice INV-LENA-7 is overdue",
            message="Dear Lena Berger, invoice INV-LENA-7 for Lindenweg 4 is 10 days late.",
        ),
        Notification(
            order_id=case,
            key="reply:0:3",
            audience=Audience.CUSTOMER,
            subject=f"[Complaint #{complaint_id}] Our reply",
            message="Dear Lena Berger, we are sorry your parcel to Lindenweg 4 was late.",
        ),
        Notification(
            order_id=case,
            key="survey:0:5",
            audience=Audience.CUSTOMER,
            subject=f"[Complaint #{complaint_id}] How did we do?",
            message="Lena Berger, please rate us: https://oms.example/survey/1/0/token",
        ),
        Notification(
            order_id=campaign_workflow_id(7),
            key="message:CUST-LENA",
            audience=Audience.CUSTOMER,
            subject="Lena Berger, your spring cushions",
            message="Hi Lena Berger, spring cushions for Lindenweg 4.",
        ),
        Notification(  # to finance, quoting the refund's reason (activities.complaints)
            order_id=case,
            key="remedy2:finance",
            audience=Audience.FINANCE,
            subject="Pay back 20.00 EUR for order LENA-2",
            message=f"Complaint #{complaint_id}: {GOODWILL_REASON} (bank transfer by finance).",
        ),
    ]
    for number, notification in enumerate(sent):
        record_notification(db, notification, f"sent-{number}", f"sim-{number}")
    return sent


def test_every_message_sent_to_a_customer_is_encrypted_at_rest(db: Database) -> None:
    sent = messages_sent_to_lena(db)
    assert stored_plaintext(db, *SENT_TO_LENA) == []
    with db.reading() as session:
        stored = session.execute(text("SELECT subject, message FROM notifications")).all()
    assert len(stored) == 6
    assert all(value.startswith(PREFIX) for row in stored for value in row)
    # Read back through the models: support's view of a case, and the data export.
    case = sent[1].order_id
    assert [(m.subject, m.message) for m in messages_about(db, case)] == [
        (n.subject, n.message) for n in sent if n.order_id == case
    ]
    data = export_customer_data(db, "CUST-LENA")
    assert data is not None
    exported = {(m["subject"], m["message"]) for m in data["messages"]}
    assert {(n.subject, n.message) for n in sent} <= exported
    assert ("Your order has shipped", "Dear Lena Berger, your parcel goes to Lindenweg 4.") in (
        exported
    )


def test_erasure_blanks_every_message_about_the_customer_keeping_when_and_to_whom(
    db: Database,
) -> None:
    sent = messages_sent_to_lena(db)
    erased = erase_customer(db, "CUST-LENA", "dpo")
    assert erased.messages == 6
    assert personal_data_left(db, (*SENT_TO_LENA, *STAFF_WROTE)) == []
    data = export_customer_data(db, "CUST-LENA")
    assert data is not None
    assert not [t for t in (*SENT_TO_LENA, *STAFF_WROTE) if t in json.dumps(data)]
    kept = {(m["key"], m["audience"], m["subject"], m["message"]) for m in data["messages"]}
    assert kept >= {(n.key, n.audience.value, "[erased]", "[erased]") for n in sent}
    assert all(m["reference"] and m["created_at"] for m in data["messages"])
    with db.reading() as session:  # the blanks are encrypted too, like every value
        stored = session.execute(text("SELECT subject, message FROM notifications")).all()
    assert all(value.startswith(PREFIX) for row in stored for value in row)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_migration_0028_encrypts_the_messages_already_sent_and_0027_gets_them_back_in_plain(
    kind: str, tmp_path: Path
) -> None:
    """Messages recorded before the notifications record was encrypted are encrypted by
    the upgrade and read back the same; the downgrade writes them back in plain, a subject
    cut to the 200 characters its column held then."""
    long_subject = "Lena Berger, " + "x" * 250
    with fresh_database(kind, tmp_path) as url:
        db = Database(url)
        seed_demo_catalogue(db)
        sent = messages_sent_to_lena(db)
        record_notification(
            db,
            Notification(
                order_id="LENA-1",
                key="long",
                audience=Audience.CUSTOMER,
                subject=long_subject,
                message="Dear Lena Berger",
            ),
            "long",
            "sim-long",
        )
        read_before = export_customer_data(db, "CUST-LENA")
        assert read_before is not None
        assert stored_plaintext(db, *SENT_TO_LENA) == []
        db.dispose()

        downgrade(url, "0027")
        db = Database(url)
        with db.reading() as session:
            rows = session.execute(text("SELECT key, subject FROM notifications"))
            plain = {row.key: row.subject for row in rows}
        assert {n.key: n.subject for n in sent}.items() <= plain.items()
        assert plain["long"] == long_subject[:200]
        assert len(stored_plaintext(db, *SENT_TO_LENA)) >= 10  # as they were before 0028
        db.dispose()

        upgrade(url)
        db = Database(url)
        assert stored_plaintext(db, *SENT_TO_LENA) == []
        read_after = export_customer_data(db, "CUST-LENA")
        assert read_after is not None
        for exported in (read_before, read_after):
            exported.pop("exported_at")
            for message in exported["messages"]:
                if message["key"] == "long":
                    message["subject"] = message["subject"][:200]
        # The downgrade to 0027 drops the wordings of 0029-0031 (their English stays).
        assert without_wordings(read_after) == without_wordings(read_before)
        db.dispose()


def without_wordings(exported: Any) -> Any:
    """An export without the wording columns (the texts beside them stay)."""
    if isinstance(exported, dict):
        return {
            key: without_wordings(value)
            for key, value in exported.items()
            if not (key.endswith("wording") or key.endswith("wordings"))
        }
    if isinstance(exported, list):
        return [without_wordings(value) for value in exported]
    return exported


@pytest.fixture
def client(db: Database, database_url: str) -> Iterator[TestClient]:
    accounts.create_user(db, "mia.chen", PASSWORD, Role.CUSTOMER_SERVICE, actor="test")
    with TestClient(
        create_app(Settings(database_url=database_url), db), follow_redirects=False
    ) as test_client:
        yield test_client


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_order_and_complaint_pages_and_oms_status_show_no_erased_staff_text(
    client: TestClient, db: Database, database_url: str
) -> None:
    complaint_id = staff_wrote_about_lena(db)
    log_in(client, "mia.chen")
    assert "please cancel" in client.get("/orders/LENA-1").text  # what it shows before
    assert "waited two weeks" in client.get(f"/complaints/{complaint_id}").text
    erase_customer(db, "CUST-LENA", "dpo")
    for page in ("/orders/LENA-1", f"/complaints/{complaint_id}"):
        shown = client.get(page)
        assert shown.status_code == 200
        assert not [t for t in STAFF_WROTE if t in shown.text], page
    status = oms("status", "LENA-1", environment={**os.environ, "OMS_DATABASE_URL": database_url})
    assert status.returncode == 0, status.stderr
    assert "mia.chen" in status.stdout
    assert not [t for t in STAFF_WROTE if t in status.stdout]


# --- item 20: erasure is physical ------------------------------------------------------

CIPHERTEXT = re.compile(rb"enc:v1:([A-Za-z0-9_-]+):([A-Za-z0-9+/]+={0,2})")


def readable_in(*files: Path) -> list[str]:
    """Every value in the raw bytes of ``files`` that reads as text or decrypts with the
    tests' key ring (SQLite's free space and the WAL's old frames included)."""
    ciphers = {key_id: AESGCM(key) for key_id, key in TEST_KEY_RING.keys.items()}
    values = []
    for path in files:
        raw = path.read_bytes() if path.exists() else b""
        for match in CIPHERTEXT.finditer(raw):
            key_id = match.group(1).decode()
            try:
                sealed = base64.b64decode(match.group(2) + b"=" * (-len(match.group(2)) % 4))
                plain = ciphers[key_id].decrypt(sealed[:12], sealed[12:], key_id.encode())
            except (ValueError, KeyError, InvalidTag):  # cut short by a page's end, or zeroed
                continue
            values.append(plain.decode(errors="replace"))
        values += [t for t in STAFF_WROTE if t.encode() in raw]
    return values


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_no_erased_value_stays_in_the_sqlite_file_or_its_wal_while_the_system_runs(
    db: Database, database_url: str
) -> None:
    staff_wrote_about_lena(db)
    path = Path(database_url.removeprefix("sqlite:///"))
    files = (path, path.with_name(path.name + "-wal"))
    before = readable_in(*files)
    assert [v for v in before if any(t in v for t in STAFF_WROTE)]  # the check finds them
    other = Database(database_url)  # another process's connections stay open meanwhile
    try:
        with other.reading() as session:
            session.scalars(select(NotificationRow)).all()
        erased = erase_customer(db, "CUST-LENA", "dpo")
        assert erased.old_versions_removed
        left = readable_in(*files)
        personal = ("Lena Berger", "lena@example.de", "Lindenweg 4", "+49 30 1234", *STAFF_WROTE)
        assert [v for v in left if any(t in v for t in personal)] == []
        assert files[1].stat().st_size == 0  # the WAL's old frames are gone
    finally:
        other.dispose()


def test_every_sqlite_connection_zeroes_what_it_deletes(sqlite_url: str) -> None:
    """This machine's SQLite is built with secure_delete on, so the raw-file test above
    cannot tell; builds elsewhere (python.org, macOS) default to off."""
    db = Database(sqlite_url)
    try:
        for engine in db.engines:
            with engine.connect() as connection:
                assert connection.exec_driver_sql("PRAGMA secure_delete").scalar_one() == 1
    finally:
        db.dispose()


ERASED_COLUMNS = {
    "order_events": "detail",
    "notifications": "message",
    "care_tasks": "outcome",
    "goodwill_credits": "reason",
    "credit_notes": "reason",
    "customers": "name",
}


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgresql_tables_keep_no_version_of_an_erased_value(db: Database) -> None:
    """Every tuple on the tables' pages, live or dead (an update leaves the old version
    until a vacuum removes it), read raw: none holds a value the erasure replaced. (The
    bytes of a removed version stay in the page's free space until PostgreSQL reuses it;
    see the report.)"""
    staff_wrote_about_lena(db)
    with db.engine.connect() as connection:
        connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pageinspect")
        connection.commit()

    def stored() -> set[bytes]:
        with db.engine.connect() as connection:
            return {
                value.encode()
                for table, column in ERASED_COLUMNS.items()
                for (value,) in connection.execute(text(f"SELECT {column} FROM {table}"))
                if value and value.startswith(PREFIX)
            }

    before = stored()
    erase_customer(db, "CUST-LENA", "dpo")
    replaced = before - stored()
    assert len(replaced) >= 6
    with db.engine.connect() as connection:
        tuples = [
            bytes(data)
            for table in ERASED_COLUMNS
            for (data,) in connection.execute(
                text(
                    "SELECT item.t_data FROM generate_series(0, "
                    "pg_relation_size(CAST(:table AS text)) "
                    "/ current_setting('block_size')::int - 1) AS page, "
                    "heap_page_items(get_raw_page(CAST(:table AS text), page::int)) AS item "
                    "WHERE item.lp_flags = 1"
                ),
                {"table": table},
            )
        ]
    assert [value for value in replaced if any(value in data for data in tuples)] == []


# --- item 24: the data export -----------------------------------------------------------


def test_the_export_holds_campaigns_care_the_segment_the_survey_and_the_processing_facts(
    db: Database,
) -> None:
    complaint_id = staff_wrote_about_lena(db)
    now = datetime.now(UTC)
    with db.transaction() as session:
        for number, (name, control) in enumerate([("Spring", False), ("Summer", True)], 1):
            session.add(
                CampaignRow(
                    id=number,
                    name=name,
                    definition={"name": name, "subject": f"{name} offers", "message": "Hi"},
                    status="finished",
                    created_by="max",
                    created_at=now,
                )
            )
            session.flush()
            session.add(
                CampaignRecipient(
                    campaign_id=number,
                    customer_id="CUST-LENA",
                    control=control,
                    status="control" if control else "sent",
                    sent_at=None if control else now,
                    reference=None if control else "sim-9",
                )
            )
        session.add(
            NotificationRow(
                order_id="campaign-1",
                key="message:CUST-LENA",
                audience="customer",
                subject="Spring offers",
                message="Hi Lena Berger",
                reference="sim-9",
                created_at=now,
            )
        )
        session.add(
            NotificationRow(
                order_id=complaint_workflow_id(complaint_id),
                key="survey",
                audience="customer",
                subject="How did we do?",
                message="Dear Lena Berger, please rate us: https://oms.example/survey/...",
                reference="sim-10",
                created_at=now,
            )
        )
        session.add(
            CustomerSegmentRow(
                customer_id="CUST-LENA",
                segment="loyal",
                abc="B",
                recency=4,
                frequency=4,
                monetary=3,
                recency_days=12,
                orders=2,
                spend=Decimal("240.00"),
                since=now - timedelta(days=30),
                computed_at=now,
            )
        )
    data = export_customer_data(db, "CUST-LENA", retention_days=365)
    assert data is not None
    assert [(c["name"], c["control_group"], c["status"]) for c in data["campaigns"]] == [
        ("Spring", False, "sent"),
        ("Summer", True, "control"),
    ]
    subjects = {m["subject"] for m in data["messages"]}
    assert {"Spring offers", "How did we do?"} <= subjects
    assert data["care_tasks"][0]["outcome"] == CARE_OUTCOME
    assert (data["segment"]["segment"], data["segment"]["abc"]) == ("loyal", "B")
    facts = data["processing"]
    assert any("consent" in purpose for purpose in facts["purposes"])
    assert any(recipient.startswith("carriers") for recipient in facts["recipients"])
    assert "payment provider" in facts["source"]
    assert "365 days" in facts["retention"]["order address and payment token"]
    assert "40 points" in facts["automated_decisions"]["credit_score"]
    json.dumps(data)

    erase_customer(db, "CUST-LENA", "dpo")  # and the erasure blanks those messages too
    assert personal_data_left(db) == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_oms_customers_export_data_names_the_configured_retention(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    lena_orders(db, "LENA-1")
    path = tmp_path / "lena.json"
    exported = oms(
        "customers",
        "export-data",
        "CUST-LENA",
        str(path),
        environment={**os.environ, "OMS_DATABASE_URL": database_url, "OMS_RETENTION_DAYS": "90"},
    )
    assert exported.returncode == 0, exported.stderr
    facts = json.loads(path.read_text())["processing"]
    assert "90 days" in facts["retention"]["order address and payment token"]
    assert PREFIX not in path.read_text()
