"""Complaints from the outside (issue 18): the web shop, the mail gateway and a chat
system file them over the API with their keys; customer service takes a phone complaint
in the console, answers it and puts it right with a partial refund a supervisor approves;
the case is found in Temporal by its search attributes and the order's money balances."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path

import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from typer.testing import CliRunner, Result

from domain.access import Locale, Role, SystemRole
from domain.complaints import (
    RESOLVE,
    ComplaintChannel,
    ComplaintIntake,
    ComplaintStatus,
    Resolution,
    complaint_workflow_id,
)
from domain.orders import TASK_QUEUE
from domain.visibility import CATEGORY, COMPLAINT_ID, COMPLAINT_STATUS, CUSTOMER_ID, PRIORITY
from ops.checks import stuck_complaints
from ops.cli import app
from ops.complaints import CaseNotStartedError, file_and_open
from ops.staff import StaffAction, perform
from persistence.database import Database
from persistence.invariants import check_database
from persistence.keys import link_secrets, link_token
from persistence.models import ComplaintEventRow, ComplaintRow, CreditNote, Payment
from persistence.transactions import accounts, api_keys
from persistence.transactions.complaints import find_case
from runtime.settings import Settings
from tests.conftest import TEST_KEY_RING
from tests.test_complaints import RecordingNotifier, complaint_worker, completed_prepaid_order
from tests.test_web_actions import log_in, post
from tests.test_web_admin import PASSWORD
from web.app import create_app
from web.complaints import remedy_items


@asynccontextmanager
async def cases_on_the_orders_queue(
    env: WorkflowEnvironment, db: Database, notifier: RecordingNotifier | None = None
) -> AsyncIterator[None]:
    """A worker for complaint cases on the task queue the console and API start them on."""
    async with complaint_worker(env.client, db, TASK_QUEUE, notifier or RecordingNotifier()):
        yield


def number_complaints_from(db: Database, first: int) -> None:
    """Make the next complaint number ``first``: the tests' databases (emptied for each test,
    and two of them) share one Temporal server, where ``complaint-<n>`` must be new."""
    with db.transaction() as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("select setval('complaints_id_seq', :n, false)"), {"n": first})
        else:
            session.execute(text("delete from sqlite_sequence where name = 'complaints'"))
            session.execute(
                text("insert into sqlite_sequence (name, seq) values ('complaints', :n)"),
                {"n": first - 1},
            )


@pytest.fixture
def console(db: Database, database_url: str, dev_server: WorkflowEnvironment) -> TestClient:
    number_complaints_from(db, uuid.uuid4().int % 10**9 + 1)
    accounts.create_user(db, "mia.chen", PASSWORD, Role.CUSTOMER_SERVICE, actor="test")
    accounts.create_user(db, "sam.lead", PASSWORD, Role.ADMIN, actor="test")
    settings = Settings(database_url=database_url, complaint_approval_above=Decimal(25))
    app = create_app(settings, db, dev_server.client)
    return TestClient(app, follow_redirects=False)


async def settled(db: Database, complaint_id: int, kind: str) -> None:
    """Wait until the case has recorded an event of ``kind``."""
    for _ in range(200):
        with db.reading() as session:
            if session.scalar(
                select(ComplaintEventRow.id).where(
                    ComplaintEventRow.complaint_id == complaint_id, ComplaintEventRow.kind == kind
                )
            ):
                return
        await asyncio.sleep(0.05)
    raise AssertionError(f"complaint {complaint_id} recorded no {kind}")


async def test_systems_file_complaints_over_the_api_once_per_message(
    dev_server: WorkflowEnvironment, db: Database, console: TestClient
) -> None:
    shop = api_keys.create_api_key(db, "shop", SystemRole.INTAKE, actor="t").key
    wms = api_keys.create_api_key(db, "wms", SystemRole.WAREHOUSE, actor="t").key
    message_id = f"shop-{uuid.uuid4()}"
    complaint = {
        "channel": "web",
        "customer_id": "CUST-JANE",
        "category": "damaged",
        "subject": "Broken lamp",
        "description": "The lamp arrived in pieces.",
        "message_id": message_id,
    }
    async with cases_on_the_orders_queue(dev_server, db):

        async def call(key: str, path: str, body: dict[str, str]) -> httpx2.Response:
            return await asyncio.to_thread(
                console.post, path, json=body, headers={"Authorization": f"Bearer {key}"}
            )

        refused = await call(wms, "/api/v1/complaints", complaint)
        assert refused.status_code == 403
        first = await call(shop, "/api/v1/complaints", complaint)
        assert first.status_code == 201, first.text
        again = await call(shop, "/api/v1/complaints", complaint)
        assert again.status_code == 200
        assert again.json()["complaint_id"] == first.json()["complaint_id"]
        assert again.json()["duplicate"] is True
        complaint_id = first.json()["complaint_id"]
        await settled(db, complaint_id, "assigned")
        handle = dev_server.client.get_workflow_handle(complaint_workflow_id(complaint_id))
        attributes = (await handle.describe()).typed_search_attributes
        assert attributes.get(COMPLAINT_ID) == str(complaint_id)
        assert (attributes.get(CUSTOMER_ID), attributes.get(CATEGORY)) == ("CUST-JANE", "damaged")
        assert attributes.get(PRIORITY) == "high"
        assert attributes.get(COMPLAINT_STATUS) == "new"

        mail = {
            "channel": "email",
            "from_address": "Jane Doe <jane@example.org>",
            "subject": f"Re: [Complaint #{complaint_id}] Our reply",
            "description": "Any news?",
            "message_id": f"<{uuid.uuid4()}@example.org>",
        }
        reply = await call(shop, "/api/v1/complaints", mail)
        assert reply.status_code == 200
        assert (reply.json()["reply_to_case"], reply.json()["complaint_id"]) == (True, complaint_id)
        await settled(db, complaint_id, "customer_replied")

        chat = await call(
            shop, f"/api/v1/complaints/{complaint_id}/messages", {"text": "Hello from chat"}
        )
        assert chat.status_code == 202
        unknown = await call(
            shop, "/api/v1/complaints", {**complaint, "customer_id": "NOPE", "message_id": "m-2"}
        )
        assert unknown.status_code == 409
        assert unknown.json()["detail"] == "customer_id: no customer 'NOPE'"
        read = await asyncio.to_thread(
            console.get,
            f"/api/v1/complaints/{complaint_id}",
            headers={"Authorization": f"Bearer {shop}"},
        )
        assert read.json()["status"] == "new"
        assert await stuck_complaints(dev_server.client, [complaint_id]) == []
        await handle.terminate("test over")
        [stuck] = await stuck_complaints(dev_server.client, [complaint_id])
        assert (stuck.subject, stuck.detail) == (
            f"complaint #{complaint_id}",
            f"workflow complaint-{complaint_id} is TERMINATED",
        )
    with db.reading() as session:
        assert len(session.scalars(select(ComplaintRow)).all()) == 1


async def test_customer_service_takes_a_phone_complaint_and_refunds_part_with_approval(
    dev_server: WorkflowEnvironment, db: Database, console: TestClient
) -> None:
    await completed_prepaid_order(db)  # Jane's order T-1: 59.70 EUR, captured and invoiced
    async with cases_on_the_orders_queue(dev_server, db):
        token = await asyncio.to_thread(log_in, console, "mia.chen")
        filed = await post(
            console,
            "/complaints/new",
            {
                "csrf_token": token,
                "channel": "phone",
                "order_id": "T-1",
                "subject": "Two widgets scratched",
                "description": "Customer called: two of three widgets are scratched.",
                "category": "damaged",
            },
        )
        assert filed.status_code == 303, filed.text
        page_path = filed.headers["location"].split("?")[0]
        complaint_id = int(page_path.rsplit("/", 1)[1])
        await settled(db, complaint_id, "assigned")
        page = await asyncio.to_thread(console.get, page_path)
        assert "Two widgets scratched" in page.text
        assert "mia.chen" in page.text

        steps: list[tuple[str, dict[str, str]]] = [
            ("reply", {"text": "Sorry! We will refund the two widgets."}),
            ("remedy", {"kind": "refund", "amount": "39.80", "reason": "two widgets scratched"}),
        ]
        for action, form in steps:
            answer = await post(console, f"{page_path}/{action}", {"csrf_token": token, **form})
            assert answer.status_code == 303, answer.text
        case = await db.run(find_case, db, complaint_id)
        assert case is not None
        assert [r.status for r in case.remedies] == ["awaiting approval"]  # above 25.00
        console.cookies.clear()
        lead = await asyncio.to_thread(log_in, console, "sam.lead")
        approved = await post(
            console,
            f"{page_path}/decide",
            {"csrf_token": lead, "number": "1", "approve": "yes", "reason": "fair"},
        )
        assert approved.status_code == 303, approved.text
        console.cookies.clear()
        token = await asyncio.to_thread(log_in, console, "mia.chen")
        resolved = await post(
            console,
            f"{page_path}/resolve",
            {"csrf_token": token, "summary": "Refunded two widgets", "root_cause": "packing_error"},
        )
        assert resolved.status_code == 303, resolved.text
        case = await db.run(find_case, db, complaint_id)
        assert case is not None
        assert case.status is ComplaintStatus.RESOLVED
        assert case.remedy_cost == Decimal("39.80")
        await dev_server.client.get_workflow_handle(complaint_workflow_id(complaint_id)).terminate(
            "test over"
        )
    with db.reading() as session:
        assert session.scalars(select(CreditNote.amount)).all() == [Decimal("39.80")]
        refunds = select(Payment.amount).where(Payment.kind == "refund")
        assert session.scalars(refunds).all() == [Decimal("39.80")]
        assert check_database(session) == []


def test_the_analysis_shows_charts_and_exports_csv_for_analysts(
    db: Database, console: TestClient
) -> None:
    from tests.test_complaint_analysis import WEEK, known_week

    known_week(db)
    accounts.create_user(db, "wen.li", PASSWORD, Role.ANALYST, actor="test")
    log_in(console, "wen.li")
    assert console.get("/complaints").status_code == 403  # analysts read figures only
    page = console.get(f"/complaints/analysis?week={WEEK}")
    assert page.status_code == 200
    text = page.text
    assert "live, not yet kept" in text
    assert "Packed wrong or incomplete" in text
    assert "needs an improvement action" in text
    assert "Run the analysis of this week now" not in text  # customer service runs it
    trend = console.get(f"/complaints/analysis/trend.svg?week={WEEK}")
    assert trend.headers["content-type"] == "image/svg+xml"
    assert "Complaints a week" in trend.text
    bars = console.get(f"/complaints/analysis/rates.svg?week={WEEK}&dimension=category")
    assert "Damaged" in bars.text  # the category as people read it
    exported = console.get(f"/complaints/analysis.csv?week={WEEK}")
    lines = exported.text.splitlines()
    assert lines[0] == "section,key,complaints,orders,per_100_orders,value"
    assert "week,per_100_orders,,,,40.0" in lines
    assert "carrier,DHL,2,5,40.0," in lines
    assert "root_cause,packing_error,3,,,recurring" in lines


def test_customer_service_records_an_improvement_action(db: Database, console: TestClient) -> None:
    from tests.test_complaint_analysis import WEEK, known_week

    known_week(db)
    token = log_in(console, "mia.chen")
    added = console.post(
        "/complaints/analysis/actions",
        data={
            "csrf_token": token,
            "week": str(WEEK),
            "root_cause": "packing_error",
            "title": "Second check at the packing table",
            "owner": "wh.lead",
            "due_date": "2026-12-15",
        },
    )
    assert added.status_code == 303
    page = console.get(f"/complaints/analysis?week={WEEK}").text
    assert "Second check at the packing table" in page
    assert "improvement under way" in page
    refused = console.post(
        "/complaints/analysis/root-causes",
        data={"csrf_token": token, "week": str(WEEK), "code": "Bad Code", "label": "x"},
    )
    assert refused.status_code == 422
    assert "is not a code" in refused.text


async def test_oms_imports_eml_files_once_each_and_names_the_file_it_could_not_read(
    dev_server: WorkflowEnvironment, db: Database, database_url: str, tmp_path: Path
) -> None:
    number_complaints_from(db, uuid.uuid4().int % 10**9 + 1)
    mail = EmailMessage()
    mail["From"] = "orders@acme.example"
    mail["Subject"] = "Pallet short by two boxes"
    mail["Message-ID"] = f"<{uuid.uuid4()}@acme.example>"
    mail.set_content("Delivery note says 20 boxes, we counted 18.")
    good = tmp_path / "short.eml"
    good.write_bytes(mail.as_bytes())
    bad = tmp_path / "scan.eml"
    bad.write_text("not an e-mail\n")
    env = {
        "OMS_TEMPORAL_ADDRESS": dev_server.client.service_client.config.target_host,
        "OMS_DATABASE_URL": database_url,
        "OMS_KEY_RING": TEST_KEY_RING.serialise(),
        "OMS_DATA_DIR": str(tmp_path / ".oms"),
    }

    def oms(*files: Path) -> Result:
        arguments = ["complaints", "import-eml", *map(str, files)]
        return CliRunner().invoke(app, arguments, env=env)

    first = await asyncio.to_thread(oms, good, bad)
    assert first.exit_code == 1
    assert "no From header: not an e-mail message" in first.output
    filed = re.search(r"short\.eml: complaint #(\d+) filed", first.output)
    assert filed, first.output
    again = await asyncio.to_thread(oms, good)
    assert again.exit_code == 0
    assert f"complaint #{filed.group(1)} duplicate" in again.output
    case = await db.run(find_case, db, int(filed.group(1)))
    assert case is not None
    assert (case.customer_id, case.channel.value) == ("CUST-ACME", "email")
    await dev_server.client.get_workflow_handle(complaint_workflow_id(case.id)).terminate("over")


async def test_a_customer_answers_the_survey_on_the_page_its_link_opens(
    dev_server: WorkflowEnvironment, db: Database, database_url: str, tmp_path: Path
) -> None:
    number_complaints_from(db, uuid.uuid4().int % 10**9 + 1)
    settings = Settings(
        database_url=database_url, data_dir=tmp_path, complaint_survey_delay_hours=0
    )
    site = TestClient(create_app(settings, db, dev_server.client), follow_redirects=False)
    secret = link_secrets(settings.load_key_ring())[0]
    notifier = RecordingNotifier()
    async with complaint_worker(dev_server.client, db, TASK_QUEUE, notifier, link_secret=secret):
        filed = await file_and_open(
            dev_server.client,
            db,
            ComplaintIntake(
                channel=ComplaintChannel.WEB,
                customer_id="CUST-JANE",
                subject="Late",
                description="Two days late.",
                message_id=f"web-{uuid.uuid4()}",
            ),
            settings.complaint_policy(),
        )
        number = filed.case.id
        await perform(
            dev_server.client,
            StaffAction(complaint_workflow_id(number), RESOLVE, f"complaint #{number}"),
            Resolution(actor="mia.chen", summary="Explained", root_cause="carrier_delay"),
        )
        await settled(db, number, "survey_sent")
        [survey] = [sent for sent in notifier.sent if "How did we do" in sent.subject]
        link = re.search(r"http://localhost:8080(/survey/\d+/0/\w+)", survey.message)
        assert link, survey.message
        assert (await asyncio.to_thread(site.get, f"/survey/{number}/forged")).status_code == 404
        page = await asyncio.to_thread(site.get, link.group(1))
        assert "How satisfied are you with how we handled your complaint" in page.text
        # A link sent before surveys were numbered belongs to the case's first survey.
        legacy = f"/survey/{number}/{link_token(secret, f'survey:{number}')}"
        assert "How satisfied are you" in (await asyncio.to_thread(site.get, legacy)).text
        wrong = await asyncio.to_thread(site.post, link.group(1), data={"score": "9"})
        assert wrong.status_code == 422
        answered = await asyncio.to_thread(
            site.post, link.group(1), data={"score": "5", "comment": "Quick and kind"}
        )
        assert "Thank you" in answered.text
        await settled(db, number, "closed")
        await dev_server.client.get_workflow_handle(complaint_workflow_id(number)).terminate("over")
    with db.reading() as session:
        row = session.get(ComplaintRow, number)
        assert row is not None
        assert (row.survey_score, row.survey_comment) == (5, "Quick and kind")


async def test_a_complaint_recorded_while_temporal_was_away_is_named_and_opened(
    dev_server: WorkflowEnvironment, db: Database, database_url: str, tmp_path: Path
) -> None:
    number_complaints_from(db, uuid.uuid4().int % 10**9 + 1)
    away = Client(
        dev_server.client.service_client,
        namespace="no-such-namespace",
        data_converter=pydantic_data_converter,
    )
    policy = Settings(database_url=database_url).complaint_policy()
    intake = ComplaintIntake(
        channel=ComplaintChannel.PHONE,
        customer_id="CUST-BOLT",
        subject="Wrong bolts",
        description="M6 instead of M8.",
    )
    with pytest.raises(CaseNotStartedError, match="oms complaints open") as late:
        await file_and_open(away, db, intake, policy)
    number = late.value.complaint_id
    [stuck] = await stuck_complaints(dev_server.client, [number])
    assert stuck.detail == f"workflow complaint-{number} is missing"
    env = {
        "OMS_TEMPORAL_ADDRESS": dev_server.client.service_client.config.target_host,
        "OMS_DATABASE_URL": database_url,
        "OMS_KEY_RING": TEST_KEY_RING.serialise(),
        "OMS_DATA_DIR": str(tmp_path / ".oms"),
    }
    opened = await asyncio.to_thread(
        CliRunner().invoke, app, ["complaints", "open", str(number)], env=env
    )
    assert opened.exit_code == 0, opened.output
    assert f"complaint #{number}: case complaint-{number} running" in opened.output
    assert await stuck_complaints(dev_server.client, [number]) == []
    await dev_server.client.get_workflow_handle(complaint_workflow_id(number)).terminate("over")


def test_the_remedy_form_reads_the_items_to_send_again() -> None:
    assert remedy_items("WIDGET-1 x 2, GADGET-2\u00d71,BOLT-M8*10") == [
        {"sku": "WIDGET-1", "quantity": 2},
        {"sku": "GADGET-2", "quantity": 1},
        {"sku": "BOLT-M8", "quantity": 10},
    ]
    assert remedy_items("  ") == []
    with pytest.raises(ValueError, match="'two widgets' is not 'SKU x quantity'"):
        remedy_items("WIDGET-1 x 1, two widgets")


def test_the_work_lists_show_the_team_queue_and_mine(db: Database, console: TestClient) -> None:
    from persistence.transactions.complaints import file_complaint

    filed = file_complaint(
        db,
        ComplaintIntake(
            channel=ComplaintChannel.PHONE,
            customer_id="CUST-BOLT",
            subject="Wrong bolts delivered",
            description="M6 instead of M8.",
        ),
    )
    log_in(console, "mia.chen")
    team = console.get("/complaints?list=team").text
    assert "Wrong bolts delivered" in team
    assert f'href="/complaints/{filed.case.id}"' in team
    assert "Wrong bolts delivered" not in console.get("/complaints?list=mine").text
    assert "Wrong bolts delivered" in console.get("/complaints?list=nonsense").text  # open


async def test_a_refund_above_what_the_order_still_holds_is_refused_when_proposed(
    dev_server: WorkflowEnvironment, db: Database, console: TestClient
) -> None:
    await completed_prepaid_order(db)  # Jane's order T-1: 59.70 EUR, captured and invoiced
    accounts.set_locale(db, "mia.chen", Locale.TRADITIONAL_CHINESE)
    async with cases_on_the_orders_queue(dev_server, db):
        token = await asyncio.to_thread(log_in, console, "mia.chen")
        filed = await post(
            console,
            "/complaints/new",
            {
                "csrf_token": token,
                "channel": "phone",
                "order_id": "T-1",
                "subject": "Widgets scratched",
                "description": "Customer called: the widgets are scratched.",
                "category": "damaged",
            },
        )
        assert filed.status_code == 303, filed.text
        page_path = filed.headers["location"].split("?")[0]
        complaint_id = int(page_path.rsplit("/", 1)[1])
        await settled(db, complaint_id, "assigned")
        answer = await post(
            console,
            f"{page_path}/remedy",
            {"csrf_token": token, "kind": "refund", "amount": "1000", "reason": "all of it"},
        )
        assert answer.status_code == 409, answer.text
        assert "退款 1000.00 EUR 超過訂單 T-1 尚保留的 59.70 EUR" in answer.text
        assert 'name="amount" inputmode="decimal" value="1000"' in answer.text  # kept as typed
        case = await db.run(find_case, db, complaint_id)
        assert case is not None
        assert case.remedies == []  # nothing put to a supervisor that could not be done
        await dev_server.client.get_workflow_handle(complaint_workflow_id(complaint_id)).terminate(
            "test over"
        )


async def test_a_refused_reply_keeps_what_was_typed_beside_its_problem_in_chinese(
    dev_server: WorkflowEnvironment, db: Database, console: TestClient
) -> None:
    accounts.set_locale(db, "mia.chen", Locale.TRADITIONAL_CHINESE)
    async with cases_on_the_orders_queue(dev_server, db):
        token = await asyncio.to_thread(log_in, console, "mia.chen")
        filed = await post(
            console,
            "/complaints/new",
            {
                "csrf_token": token,
                "channel": "phone",
                "customer_id": "CUST-ACME",
                "subject": "Widgets scratched",
                "description": "Customer called: the widgets are scratched.",
                "category": "damaged",
            },
        )
        assert filed.status_code == 303, filed.text
        page_path = filed.headers["location"].split("?")[0]
        complaint_id = int(page_path.rsplit("/", 1)[1])
        await settled(db, complaint_id, "assigned")
        long_reply = "很抱歉造成您的不便。\r\n" * 600  # 6600 characters, a line break as one
        answer = await post(
            console,
            f"{page_path}/reply",
            {"csrf_token": token, "text": long_reply, "wait_for_customer": "on"},
        )
        assert answer.status_code == 422, answer.text
        assert "訊息：最多 5000 個字元" in answer.text  # noqa: RUF001
        assert "很抱歉造成您的不便。\n很抱歉" in answer.text  # the reply as typed, kept
        assert 'name="wait_for_customer" checked' in answer.text
        assert "String should" not in answer.text
        await dev_server.client.get_workflow_handle(complaint_workflow_id(complaint_id)).terminate(
            "test over"
        )
