"""The complaint case page as customer service reads it (issue 26, "Console polish"): the
remedies granted and those awaiting approval apart, forms that preselect no remedy or root
cause, and the suggested category with the order's facts behind it and who chose otherwise.

The page is read from the database, so the case is filed and its events recorded by the
same transactions the workflow's activities use; no Temporal server is needed (a form the
server refuses is refused before any update is sent)."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from activities import InventoryActivities, SettlementActivities
from domain.access import Locale, Role
from domain.complaints import (
    CaseEvent,
    ComplaintCase,
    ComplaintCategory,
    ComplaintChannel,
    ComplaintEventKind,
    ComplaintIntake,
    OrderFacts,
    RemedyKind,
    RemedyView,
    suggest_category,
)
from domain.intake import OrderRef
from integrations.simulated_payment import SimulatedPaymentGateway
from persistence.database import Database
from persistence.models import ComplaintRow, Invoice, Shipment
from persistence.transactions import accounts
from persistence.transactions.complaints import file_complaint, record_case_event
from runtime.settings import Settings
from tests.activity_runs import run
from tests.test_activities import receive
from tests.test_web_actions import log_in
from tests.test_web_admin import PASSWORD
from web.app import create_app

ON_SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
"""The pages read the same rows on both databases; the intake runs on both elsewhere."""


@pytest.fixture
def console(db: Database, database_url: str) -> TestClient:
    accounts.create_user(db, "mia.chen", PASSWORD, Role.CUSTOMER_SERVICE, actor="test")
    app = create_app(Settings(database_url=database_url), db)
    client = TestClient(app, follow_redirects=False)
    log_in(client, "mia.chen")
    return client


async def late_parcel_complaint(db: Database, category: ComplaintCategory | None) -> int:
    """A phone complaint about order T-1, whose parcel T-1-S1 came three days late."""
    await receive(db)
    with db.transaction() as session:
        session.add(
            Shipment(
                id="T-1-S1",
                order_id="T-1",
                warehouse_id="WH-BER",
                carrier="SIM",
                tracking_number="SIM1",
                status="delivered",
                booked_at=datetime(2026, 11, 1, tzinfo=UTC),
                promised_by=datetime(2026, 11, 3, tzinfo=UTC),
                delivered_at=datetime(2026, 11, 6, tzinfo=UTC),
            )
        )
    intake = ComplaintIntake(
        channel=ComplaintChannel.PHONE,
        order_id="T-1",
        subject="The parcel",
        description="It came late and the box was crushed.",
        category=category,
        taken_by="mia.chen",
    )
    return file_complaint(db, intake).case.id


def record(
    db: Database,
    complaint_id: int,
    kind: ComplaintEventKind,
    *,
    actor: str = "system",
    detail: str = "",
    **changes: object,
) -> None:
    """Record an event of the case as the workflow does, the case changed by ``changes``."""
    with db.reading() as session:
        row = session.get(ComplaintRow, complaint_id)
        assert row is not None
        case = ComplaintCase.model_validate(row.case).model_copy(update=changes)
    record_case_event(db, CaseEvent(case=case, kind=kind, actor=actor, detail=detail))


def text_of(page: str) -> str:
    """The page's words, tags removed and spaces collapsed."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def test_the_suggestion_follows_the_orders_facts() -> None:
    assert suggest_category(None) is ComplaintCategory.OTHER
    assert suggest_category(OrderFacts()) is ComplaintCategory.SERVICE
    assert suggest_category(OrderFacts(overdue_invoice="INV-1")) is ComplaintCategory.BILLING
    assert suggest_category(OrderFacts(voided_invoice="INV-1")) is ComplaintCategory.BILLING
    late = OrderFacts(late_parcels=["P-1"], overdue_invoice="INV-1")
    assert suggest_category(late) is ComplaintCategory.LATE_DELIVERY
    lost = OrderFacts(lost_or_damaged_parcels=["P-2"], late_parcels=["P-1"])
    assert suggest_category(lost) is ComplaintCategory.DAMAGED


async def test_the_case_keeps_the_facts_its_category_was_suggested_from(db: Database) -> None:
    complaint_id = await late_parcel_complaint(db, None)
    with db.reading() as session:
        row = session.get(ComplaintRow, complaint_id)
        assert row is not None
        assert (row.category, row.suggested_category) == ("late_delivery", "late_delivery")
        assert row.case["suggested_from"] == {
            "lost_or_damaged_parcels": [],
            "late_parcels": ["T-1-S1"],
            "overdue_invoice": "",
            "voided_invoice": "",
        }


@ON_SQLITE
async def test_a_category_chosen_against_the_suggestion_says_what_was_suggested_and_why(
    db: Database, console: TestClient
) -> None:
    complaint_id = await late_parcel_complaint(db, ComplaintCategory.SERVICE)
    page = text_of(console.get(f"/complaints/{complaint_id}").text)
    assert "Suggested category: Late delivery" in page
    assert "parcel T-1-S1 later than promised" in page
    assert "Service was chosen by mia.chen when the complaint was taken." in page

    record(
        db,
        complaint_id,
        ComplaintEventKind.RECATEGORISED,
        category=ComplaintCategory.DAMAGED,
        actor="mia.chen",
        detail="service → damaged: the photo shows a crushed box",
    )
    page = text_of(console.get(f"/complaints/{complaint_id}").text)
    changed = re.search(r"Changed from Service to Damaged by mia\.chen on ([^.]+)\. Why:", page)
    assert changed, page
    assert "the photo shows a crushed box" in page

    record(
        db,
        complaint_id,
        ComplaintEventKind.RECATEGORISED,
        category=ComplaintCategory.LATE_DELIVERY,
        actor="mia.chen",
        detail="damaged → late_delivery",
    )
    page = text_of(console.get(f"/complaints/{complaint_id}").text)
    assert "The case's category is the suggested one." in page
    assert "Changed from" not in page


@ON_SQLITE
async def test_the_explanation_is_in_the_readers_language(
    db: Database, console: TestClient
) -> None:
    complaint_id = await late_parcel_complaint(db, ComplaintCategory.SERVICE)
    accounts.set_locale(db, "mia.chen", Locale.TRADITIONAL_CHINESE)
    page = text_of(console.get(f"/complaints/{complaint_id}").text)
    assert "包裹 T-1-S1 晚於承諾日期" in page
    assert "later than promised" not in page


@ON_SQLITE
async def test_the_header_shows_granted_remedies_and_those_awaiting_approval_apart(
    db: Database, console: TestClient
) -> None:
    complaint_id = await late_parcel_complaint(db, None)
    remedies = [
        RemedyView(
            number=1,
            kind=RemedyKind.GOODWILL_CREDIT,
            amount=Decimal(12),
            currency="EUR",
            reason="for the wait",
            asked_by="mia.chen",
            status="done",
        ),
        RemedyView(
            number=2,
            kind=RemedyKind.REFUND,
            amount=Decimal(30),
            currency="EUR",
            reason="the crushed box",
            asked_by="mia.chen",
            status="awaiting approval",
        ),
        RemedyView(
            number=3,
            kind=RemedyKind.REFUND,
            amount=Decimal(99),
            currency="EUR",
            reason="too much",
            asked_by="mia.chen",
            status="refused",
        ),
    ]
    record(
        db,
        complaint_id,
        ComplaintEventKind.REMEDY_PROPOSED,
        remedies=remedies,
        remedy_cost=Decimal(12),
    )
    header = console.get(f"/complaints/{complaint_id}").text
    kpis = text_of(header.split('class="card kpis"')[1].split("</section>")[0])
    assert "Remedies €12.00 granted €30.00 awaiting approval" in kpis


@ON_SQLITE
async def test_the_forms_preselect_no_remedy_and_no_root_cause(
    db: Database, console: TestClient
) -> None:
    complaint_id = await late_parcel_complaint(db, None)
    page = console.get(f"/complaints/{complaint_id}").text
    for name in ("kind", "root_cause"):
        select = re.search(rf'<select name="{name}" required>(.*?)</select>', page, re.S)
        assert select, name
        options = re.findall(r"<option [^>]*>", select.group(1))
        assert options[0] == '<option value="">', name
        assert not any("selected" in option for option in options), name


@ON_SQLITE
@pytest.mark.parametrize(
    ("action", "form", "problem"),
    [
        ("remedy", {"kind": "", "amount": "10", "reason": "late"}, "Remedy: is required"),
        ("resolve", {"summary": "Refunded", "root_cause": ""}, "Root cause: is required"),
        (
            "resolve",
            {"summary": "Refunded", "root_cause": "made_up"},
            "root_cause: not a root cause in use (one of: ",
        ),
    ],
)
async def test_a_form_sent_without_a_choice_is_refused_naming_the_field(
    db: Database, console: TestClient, action: str, form: dict[str, str], problem: str
) -> None:
    complaint_id = await late_parcel_complaint(db, None)
    page = console.get(f"/complaints/{complaint_id}").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    answer = console.post(
        f"/complaints/{complaint_id}/{action}", data=form | {"csrf_token": token.group(1)}
    )
    assert answer.status_code == 422
    assert answer.headers["content-type"].startswith("text/html")
    assert problem in text_of(answer.text)
    with db.reading() as session:  # nothing was recorded
        row = session.get(ComplaintRow, complaint_id)
        assert row is not None
        assert (row.root_cause, row.status) == (None, "new")


def remedy_options(page: str) -> list[str]:
    select = re.search(r'<select name="kind" required>(.*?)</select>', page, re.S)
    return [] if select is None else re.findall(r'<option value="([^"]*)"', select.group(1))


@ON_SQLITE
async def test_only_remedies_the_case_has_what_they_need_for_are_offered(
    db: Database, console: TestClient
) -> None:
    with_order = await late_parcel_complaint(db, None)
    page = console.get(f"/complaints/{with_order}").text
    assert remedy_options(page) == ["", "refund", "goodwill_credit", "reship"]

    without_order = file_complaint(
        db,
        ComplaintIntake(
            channel=ComplaintChannel.PHONE,
            customer_id="CUST-JANE",
            subject="Rude driver",
            description="The driver shouted at me.",
            taken_by="mia.chen",
        ),
    ).case.id
    page = console.get(f"/complaints/{without_order}").text
    assert remedy_options(page) == ["", "goodwill_credit"]
    assert "A refund or a re-shipment needs the complaint's order" in text_of(page)
    assert "No order was named: nothing on file points to a category." in text_of(page)

    stranger = file_complaint(
        db,
        ComplaintIntake(
            channel=ComplaintChannel.EMAIL,
            from_address="nobody@else.example",
            subject="Your shop",
            description="Who are you?",
            message_id="stranger-1",
        ),
    ).case.id
    page = console.get(f"/complaints/{stranger}").text
    assert remedy_options(page) == []
    assert "A remedy needs the complaint's customer or order" in text_of(page)


async def test_a_prepaid_orders_captured_invoice_is_no_billing_fact(db: Database) -> None:
    """Money captured for a prepaid order settles its invoice, receipt or not (as the credit
    score counts it): a complaint about the parcel on its way is not about billing."""
    await receive(db)  # Jane's order T-1, paid by card
    settlement = SettlementActivities(db, SimulatedPaymentGateway())
    ref = OrderRef(order_id="T-1")
    await run(settlement.authorise_payment, ref)
    await run(InventoryActivities(db).reserve_stock, ref)
    await run(settlement.capture_payment, ref)
    await run(settlement.issue_invoice, ref)
    with db.transaction() as session:  # invoiced a week ago, the receipt waits for delivery
        session.execute(
            update(Invoice)
            .where(Invoice.order_id == "T-1")
            .values(issued_at=datetime.now(UTC) - timedelta(days=7), due_date=date(2026, 1, 1))
        )
    intake = ComplaintIntake(
        channel=ComplaintChannel.PHONE,
        order_id="T-1",
        subject="Where is it?",
        description="Nothing has come yet.",
        taken_by="mia.chen",
    )
    complaint_id = file_complaint(db, intake).case.id
    with db.reading() as session:
        row = session.get(ComplaintRow, complaint_id)
        assert row is not None
        assert row.case["suggested_from"]["overdue_invoice"] == ""
        assert row.suggested_category != "billing"
