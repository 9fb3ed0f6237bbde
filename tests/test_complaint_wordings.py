# ruff: noqa: RUF001 - the Chinese sentences use full-width punctuation
"""What the complaint workflow, the intake and the care rules write for people is kept as
wordings (message and arguments) and read in the reader's language: a case's history,
its remedies, the care list's reasons. The English stays beside them for the CLI and the
API; erasure blanks the wordings as it blanks the text."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from domain.access import Locale, Role
from domain.care import CareKind, CareReviewRequest, CareRules, reason_wording_of
from domain.complaints import (
    REMEDY_UPDATE,
    REPLY_UPDATE,
    RESOLVE_UPDATE,
    CaseReply,
    ComplaintCategory,
    ComplaintChannel,
    ComplaintIntake,
    ComplaintPolicy,
    RemedyKind,
    RemedyRequest,
    Resolution,
)
from domain.inventory import StockReason
from domain.segments import Segment
from domain.wording import Wording
from persistence.complaint_views import complaint_detail, cut_wording, older_wording
from persistence.database import Database
from persistence.models import CareTaskRow, ComplaintEventRow, ComplaintRow, OrderEventRow
from persistence.transactions import accounts
from persistence.transactions.care import care_tasks, create_care_tasks
from persistence.transactions.complaints import add_root_cause, file_complaint
from persistence.transactions.privacy import erase_customer
from persistence.transactions.records import read_wording
from runtime.settings import Settings
from tests.factories import line
from tests.test_campaigns import campaign, people
from tests.test_care import NOW, order
from tests.test_complaint_pages import text_of
from tests.test_complaints import Cases, cases, completed_prepaid_order, next_weekday, phone
from tests.test_web_admin import PASSWORD, log_in
from web.app import create_app
from web.i18n import translations, words
from web.labels import REASON_LABELS, SEGMENT_LABELS

__all__ = ["cases"]  # the fixture, shared with tests/test_complaints.py

ON_SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

OUR_ENGLISH = (
    "assigned to",
    "team queue",
    "deadline",
    "missed",
    "remind the owner",
    "remedy 1",
    "goodwill credit",
    "refunded",
    "survey",
    "satisfaction",
    "by phone",
    "awaiting approval",
    "UTC",
)
"""Words of the sentences the system writes into a case (none may show in Chinese)."""
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d")


def console_in_chinese(db: Database, database_url: str, username: str) -> TestClient:
    accounts.set_locale(db, username, Locale.TRADITIONAL_CHINESE)
    client = TestClient(create_app(Settings(database_url=database_url), db), follow_redirects=False)
    log_in(client, username)
    return client


@ON_SQLITE
async def test_a_case_worked_by_its_workflow_reads_in_chinese(
    cases: Cases, database_url: str
) -> None:
    await completed_prepaid_order(cases.db)  # Jane's order T-1, shipped and paid
    monday = await next_weekday(cases, 0, 9)
    await cases.until(monday)
    handle = await cases.start(phone("", order_id="T-1"), ComplaintPolicy(), monday)
    await handle.execute_update(
        REMEDY_UPDATE,
        RemedyRequest(
            actor="mia.chen",
            kind=RemedyKind.GOODWILL_CREDIT,
            amount=Decimal(10),
            reason="sorry for the wait",
        ),
    )
    for amount in (Decimal(45), Decimal(20)):  # the order kept 59.70: the second is refused
        await handle.execute_update(
            REMEDY_UPDATE,
            RemedyRequest(
                actor="mia.chen", kind=RemedyKind.REFUND, amount=amount, reason="scratched"
            ),
        )
    # Normal priority: 8 business hours to the first answer, due Monday 17:00.
    await cases.until(monday.replace(hour=17, minute=1))
    await handle.execute_update(REPLY_UPDATE, CaseReply(actor="mia.chen", text="On its way."))
    await handle.execute_update(
        RESOLVE_UPDATE,
        Resolution(actor="mia.chen", summary="Credit given", root_cause="carrier_delay"),
    )
    await cases.until(monday + timedelta(days=1, hours=9))  # the survey went out
    case = await cases.case(handle)

    client = console_in_chinese(cases.db, database_url, "mia.chen")
    page = text_of(client.get(f"/complaints/{case.id}").text)
    for chinese in (
        "透過電話（mia.chen）：Parcel arrived late",
        "已指派給 mia.chen",
        "首次回應期限",
        "已逾期：提醒負責人",
        "補救 1：善意補償額度 10 EUR：sorry for the wait",  # the amount with its currency
        "補救 1：善意補償額度 GC-",
        "已寄出滿意度問卷",
        "補救 2：已退款 45 EUR",
        "補救 3：退款 20.00 EUR 超過訂單 T-1 尚保留的 14.70 EUR",
        "未能執行：退款 20.00 EUR",  # a full-width colon after Chinese words
        "已受理",  # the case received, not an order taken in
    ):
        assert chinese in page, chinese
    assert " 系統 " in page  # the workflow's own entries: the actor in words
    assert " system " not in page
    typed = (
        "Parcel arrived late",
        "My order came",
        "sorry for the wait",
        "scratched",
        "On its way.",
    )
    shown = page
    for text in typed:  # what people typed stays as they wrote it
        shown = shown.replace(text, "")
    for english in OUR_ENGLISH:
        assert english not in shown, english
    assert not TIMESTAMP.search(shown)

    with cases.db.reading() as session:  # the order's timeline words what the case did too
        order_events = session.execute(
            select(OrderEventRow.kind, OrderEventRow.detail, OrderEventRow.wording).where(
                OrderEventRow.order_id == "T-1",
                OrderEventRow.kind.in_(["complaint_received", "payment_refunded"]),
            )
        ).all()
    assert {kind for kind, _detail, _wording in order_events} == {
        "complaint_received",
        "payment_refunded",
    }
    for kind, english, stored in order_events:
        worded = read_wording(stored)
        assert worded is not None, kind
        if kind == "payment_refunded":
            assert worded.english() == english
            assert f"complaint #{case.id}: scratched" in english
        assert "：" in words(worded, Locale.TRADITIONAL_CHINESE)

    detail = complaint_detail(cases.db, case.id)  # the English stays for the CLI and API
    assert detail is not None
    written = [entry.detail for entry in detail.history]
    assert "assigned to mia.chen" in written
    assert any(
        re.fullmatch(
            r"first response deadline \d{4}-\d\d-\d\d \d\d:\d\d UTC missed: remind the owner", d
        )
        for d in written
    )


@ON_SQLITE
async def test_an_open_case_offers_its_root_causes_and_items_in_chinese(
    db: Database, database_url: str
) -> None:
    await completed_prepaid_order(db)
    accounts.create_user(db, "mia.chen", PASSWORD, Role.CUSTOMER_SERVICE, actor="test")
    shipped = file_complaint(db, phone("", order_id="T-1")).case.id
    client = console_in_chinese(db, database_url, "mia.chen")
    page = client.get(f"/complaints/{shipped}").text
    assert "物流業者延遲送達" in page
    assert "Carrier delivered late" not in page
    assert 'name="items"' in page
    assert "WIDGET-1 x 3" in text_of(page)
    assert '<label class="check"><input type="checkbox" name="wait_for_customer">' in page

    no_order = file_complaint(
        db,
        ComplaintIntake(
            channel=ComplaintChannel.PHONE,
            customer_id="CUST-JANE",
            subject="Rude driver",
            description="The driver shouted at me.",
            category=ComplaintCategory.SERVICE,
            taken_by="mia.chen",
        ),
    ).case.id
    page = client.get(f"/complaints/{no_order}").text
    assert 'name="items"' not in page
    assert 'value="reship"' not in page


def test_wordings_survive_the_database_and_erasure_blanks_them(db: Database) -> None:
    filed = file_complaint(db, phone()).case
    with db.reading() as session:
        [event] = session.scalars(
            select(ComplaintEventRow).where(ComplaintEventRow.complaint_id == filed.id)
        ).all()
        assert event.detail == "by phone (mia.chen): Parcel arrived late"
        assert event.wording is not None
    detail = complaint_detail(db, filed.id)
    assert detail is not None
    assert detail.history[0].wording == Wording(
        message="by %(channel)s (%(who)s): %(subject)s",
        terms={"channel": "phone"},
        args={"who": "mia.chen", "subject": "Parcel arrived late"},
    )

    order(db, "JANE-1", "CUST-JANE", NOW - timedelta(days=3), lines=[line("PANEL-X", 1, "1290")])
    request = CareReviewRequest(at=NOW, at_risk=["CUST-WATCH"])
    made = {task.customer_id: task for task in create_care_tasks(db, request, CareRules())}
    read = {task.customer_id: task for task in care_tasks(db)}
    assert read == made
    assert read["CUST-WATCH"].reason_wording == Wording(
        message="moved into the at-risk segment: call before they go"
    )
    assert read["CUST-JANE"].reason == "first order JANE-1 (1290.00 EUR) delivered"
    assert read["CUST-JANE"].reason_wording is not None
    assert read["CUST-JANE"].reason_wording.english() == read["CUST-JANE"].reason

    with db.transaction() as session:  # erasure waits for the customer's open cases
        session.execute(
            update(ComplaintRow).where(ComplaintRow.id == filed.id).values(status="closed")
        )
    erase_customer(db, "CUST-JANE", "dpo")
    with db.reading() as session:
        assert session.scalars(
            select(ComplaintEventRow.wording).where(ComplaintEventRow.complaint_id == filed.id)
        ).all() == [None]
        assert session.scalar(
            select(CareTaskRow.reason_wording).where(CareTaskRow.customer_id == "CUST-JANE")
        )


@ON_SQLITE
def test_the_care_list_reads_in_chinese(db: Database, database_url: str) -> None:
    accounts.create_user(db, "mia.chen", PASSWORD, Role.CUSTOMER_SERVICE, actor="test")
    for number in range(4):  # Bolt orders every 10 days; the last 40 days ago
        order(db, f"BOLT-{number}", "CUST-BOLT", NOW - timedelta(days=70 - 10 * number))
    order(db, "JANE-1", "CUST-JANE", NOW - timedelta(days=3), lines=[line("PANEL-X", 1, "1290")])
    create_care_tasks(db, CareReviewRequest(at=NOW, at_risk=["CUST-WATCH"]), CareRules())
    client = console_in_chinese(db, database_url, "mia.chen")
    page = text_of(client.get("/customers/care").text)
    for chinese in (
        "已進入流失風險分群：請在客戶流失前致電",
        "通常每 10 天下單一次；上次下單在 40 天前",
        "首筆訂單 JANE-1（1290.00 EUR）已送達",
    ):
        assert chinese in page, chinese
    for english in ("usually orders", "last order", "moved into", "first order", "delivered"):
        assert english not in page, english
    customer = text_of(client.get("/customers/CUST-BOLT").text)
    assert "通常每 10 天下單一次" in customer
    assert "致謝電話：首筆訂單 JANE-1" in page  # a full-width colon after Chinese words
    assert "致謝電話: " not in page
    segments = translations(Locale.TRADITIONAL_CHINESE).gettext
    assert segments(SEGMENT_LABELS[Segment.LOST]) == "流失"  # customers lost, not mislaid
    assert segments(REASON_LABELS[StockReason.LOST]) == "遺失"  # stock lost stays lost


def test_older_entries_without_a_wording_are_read_from_their_english() -> None:
    at = datetime(2026, 12, 1, 16, 0, tzinfo=UTC)
    missed = older_wording(
        "sla_breached", "first response deadline 2026-12-01 16:00 UTC missed: remind the owner"
    )
    assert missed is not None
    assert missed.moments == {"due": at}
    assert missed.english() == (
        f"first response deadline {at.isoformat()} missed: remind the owner"
    )
    assert older_wording("assigned", "in the team queue") == Wording(message="in the team queue")
    received = older_wording("received", "by web: Where is my parcel?")
    assert received is not None
    assert received.args == {"subject": "Where is my parcel?"}
    assert older_wording("note", "in the team queue") is None  # what a person typed


@pytest.mark.parametrize(
    ("kind", "detail"),
    [
        ("remedy_proposed", "remedy 1: goodwill credit of 10: sorry for the wait"),
        ("remedy_proposed", "remedy 2: reship of 39.80, 2 x WIDGET-1: scratched"),
        ("remedy_done", "remedy 1: goodwill credit GC-2026-000001 of 10 EUR"),
        ("remedy_done", "remedy 2: refunded 45 EUR (simpay_1) with credit note CN-2026-000001"),
        ("remedy_done", "remedy 3: replacement parcel T-1-R1 (2 x WIDGET-1) from WH-BER"),
        ("parcel_progress", "replacement parcel T-1-R1: delivered (SIM SIM123)"),
    ],
)
def test_older_remedy_and_parcel_entries_are_read_from_their_english(
    kind: str, detail: str
) -> None:
    worded = older_wording(kind, detail)
    assert worded is not None
    assert worded.english() == detail


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        (CareKind.AT_RISK, "moved into the at-risk segment: call before they go"),
        (CareKind.OVERDUE, "usually orders every 5 hours; last order 2 days ago"),
        (CareKind.OVERDUE, "usually orders every day; last order 1 hour ago"),
        (
            CareKind.OVERDUE,
            "usually orders more than once a minute; last order less than a minute ago",
        ),
        (CareKind.THANK_YOU, "first order EDI-4500012345-06221552 (2288.00 EUR) delivered"),
        (CareKind.COMPLAINT_FOLLOW_UP, "complaint #12 closed: call to check all is well"),
    ],
)
def test_older_care_reasons_are_read_from_their_english(kind: CareKind, reason: str) -> None:
    worded = reason_wording_of(kind, reason)
    assert worded is not None
    assert worded.english() == reason
    assert reason_wording_of(kind, "called them already") is None


@pytest.mark.parametrize(
    "cut",
    [
        "subject: 2 control character(s) removed",
        "the message nests more than 50 multipart parts: only its headers were read "
        "(the original message is kept)",
        "From: 3 undecodable character(s) shown as \ufffd",
        "From: 1 control character(s) removed",
        "text: 1 undecodable byte(s) shown as \ufffd",
        "text: 120,000 characters, the first 100,000 shown (the whole is in the original message)",
        "parts nested deeper than 10 levels were not read",
        "30 attachments: the first 20 listed (the original message keeps them all)",
        "text: unknown charset 'x-klingon', read as UTF-8",
        "text: bytes that are not text in its charset shown as \ufffd",
        "attachment 2: its 300-character name shortened",
        "attachment 1 (photo (1).jpg): 30,000,000 bytes, over the limit of 10,000,000; not "
        "stored on its own (it is in the original message)",
    ],
)
def test_what_reading_a_message_cut_is_read_in_the_readers_language(cut: str) -> None:
    worded = cut_wording(cut)
    assert worded is not None
    assert worded.english() == cut
    chinese = words(worded, Locale.TRADITIONAL_CHINESE)
    assert chinese != cut
    assert not re.search(r"[a-z]{4,} [a-z]{3,}", chinese.replace("x-klingon", "")), chinese


@ON_SQLITE
def test_a_campaign_reads_in_chinese(db: Database, database_url: str) -> None:
    accounts.create_user(db, "mia.chen", PASSWORD, Role.CUSTOMER_SERVICE, actor="test")
    people(db)
    campaign_id = campaign(db)
    client = console_in_chinese(db, database_url, "mia.chen")
    listed = text_of(client.get("/customers/campaigns").text)
    shown = text_of(client.get(f"/customers/campaigns/{campaign_id}?done=pause").text)
    assert "Spring offer 寄送中" in shown
    assert "行銷活動已暫停。" in shown
    assert "每分鐘 5 封" in shown
    for page in (listed, shown):
        for english in ("sending", "Done:", "/ min", "points"):
            assert english not in page, english
    missing = text_of(client.get("/customers/campaigns/999").text)
    assert "找不到行銷活動 999" in missing


@ON_SQLITE
def test_the_analysis_names_the_installed_root_causes_in_chinese(
    db: Database, database_url: str
) -> None:
    accounts.create_user(db, "mia.chen", PASSWORD, Role.CUSTOMER_SERVICE, actor="test")
    add_root_cause(db, "wrong_label", "Label printed wrong")  # one staff wrote: as written
    client = console_in_chinese(db, database_url, "mia.chen")
    page = client.get("/complaints/analysis?done=root-cause")
    assert page.status_code == 200
    shown = text_of(page.text)
    for chinese in ("物流業者延遲送達", "未達客戶期望（無過失）", "根本原因已新增。"):
        assert chinese in shown, chinese
    assert "Label printed wrong" in shown
    for english in ("Carrier delivered late", "Expectation not met", "Done:"):
        assert english not in shown, english
