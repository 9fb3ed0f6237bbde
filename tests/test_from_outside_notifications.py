"""Issue 25 from outside, notifications (items 18, 22, 23): what a customer is sent about a
complaint is in the notifications record and `oms complaints show`; a survey link answers
its own survey once and says so afterwards, never a later survey; a link that is not ours
gets the "not valid" page; a campaign reads consent just before each message; the
simulated notifier keeps books, so a worker killed mid-send delivers nothing twice."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from temporalio.service import RPCError
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment
from typer.testing import CliRunner

from activities import CampaignActivities
from domain.access import SystemRole
from domain.campaigns import BatchRequest, campaign_workflow_id
from domain.complaints import (
    COMPLAINT_WORKFLOW_TYPE,
    CUSTOMER_REPLIED_SIGNAL,
    REPLY_UPDATE,
    RESOLVE_UPDATE,
    CaseReply,
    ComplaintPolicy,
    ComplaintStart,
    ComplaintStatus,
    CustomerMessage,
    Resolution,
    complaint_workflow_id,
)
from domain.notifications import Audience
from integrations.simulated_books import PartnerBooks
from integrations.simulated_notifier import SimulatedNotifier
from ops.cli import app
from persistence.database import Database
from persistence.keys import link_secrets, link_token
from persistence.models import ComplaintRow, NotificationRow
from persistence.transactions import api_keys
from persistence.transactions.campaigns import choose_audience, unsubscribe, unsubscribe_token
from persistence.transactions.complaint_surveys import survey_subject
from persistence.transactions.complaints import file_complaint
from runtime.settings import Settings
from tests.conftest import TEST_KEY_RING, start_time_skipping_server
from tests.test_campaigns import SECRET, campaign, people, recipients
from tests.test_complaints import Cases, RecordingNotifier, complaint_worker, phone, staff
from tests.test_web_complaints import settled
from tests.test_web_stock_operations import text_of
from web import complaint_survey, complaints_api
from web.app import create_app

# --- item 18: complaint messages, the survey link, `oms complaints show` ---------------


@pytest.fixture
async def lone_time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping server of the test's own, for an update that times out because no
    worker polls (such an update leaves the server's time skipping locked for whoever
    uses it next)."""
    env = await start_time_skipping_server()
    yield env
    await env.shutdown()


@pytest.fixture
async def surveyed(
    lone_time_skipping_env: WorkflowEnvironment, db: Database, database_url: str, tmp_path: Path
) -> AsyncIterator[tuple[Cases, TestClient]]:
    """Complaint cases on a time-skipping server of the test's own (each test moves its
    clock days ahead), and the customer's site signing links with the same key as the
    worker."""
    staff(db)
    settings = Settings(database_url=database_url, data_dir=tmp_path)
    secret = link_secrets(settings.load_key_ring())[0]
    queue = f"complaints-{uuid.uuid4()}"
    notifier = RecordingNotifier()
    client = lone_time_skipping_env.client
    site = TestClient(create_app(settings, db, client), follow_redirects=False)
    async with complaint_worker(client, db, queue, notifier, link_secret=secret):
        cases = Cases(lone_time_skipping_env, db, queue, notifier)
        with lone_time_skipping_env.auto_time_skipping_disabled():
            yield cases, site
        for handle in cases.started:
            with contextlib.suppress(RPCError):
                await handle.terminate("test over")


def survey_links(cases: Cases) -> list[str]:
    """The survey links the customer was sent, in order (reminders repeat their survey's)."""
    links = []
    for sent in cases.notifier.sent:
        found = re.search(r"http://localhost:8080(/survey/\S+)", sent.message)
        if found and found.group(1) not in links:
            links.append(found.group(1))
    return links


async def page(site: TestClient, link: str, **form: str) -> str:
    """The survey page's text: opened (GET), or answered with ``form`` (POST)."""
    if form:
        answer = await asyncio.to_thread(site.post, link, data=form)
    else:
        answer = await asyncio.to_thread(site.get, link)
    assert answer.status_code == 200, answer.text
    return text_of(answer.text)


async def test_a_survey_link_answers_its_own_survey_once(
    surveyed: tuple[Cases, TestClient], database_url: str, tmp_path: Path
) -> None:
    cases, site = surveyed
    start = await cases.env.get_current_time()
    handle = await cases.start(phone(), ComplaintPolicy(), start)
    await handle.execute_update(REPLY_UPDATE, CaseReply(actor="mia.chen", text="We look into it."))
    await handle.execute_update(
        RESOLVE_UPDATE, Resolution(actor="mia.chen", summary="Re-sent", root_cause="carrier_delay")
    )
    await cases.until(start + timedelta(days=1, minutes=1))
    [first] = survey_links(cases)
    assert "How satisfied are you" in await page(site, first)
    # The customer writes again instead of answering: the case reopens, the first survey
    # closes with it; resolved again, the second survey goes out.
    await handle.signal(CUSTOMER_REPLIED_SIGNAL, CustomerMessage(text="It broke again."))
    assert (await cases.case(handle)).status is ComplaintStatus.IN_PROGRESS
    await handle.execute_update(
        RESOLVE_UPDATE, Resolution(actor="mia.chen", summary="Refund", root_cause="carrier_delay")
    )
    await cases.until(await cases.env.get_current_time() + timedelta(days=1, minutes=1))
    [_, second] = survey_links(cases)
    assert "This survey is closed" in await page(site, first)
    assert "This survey is closed" in await page(site, first, score="1", comment="old link")
    assert "How satisfied are you" in await page(site, second)  # the first link took nothing
    assert "Thank you" in await page(site, second, score="4", comment="Fine now")
    again = await page(site, second, score="1", comment="changed my mind")
    assert "You have answered this survey already" in again
    assert "Thank you" not in again
    case = await cases.case(handle)
    await settled(cases.db, case.id, "closed")
    assert (case.status, case.survey_score, case.reopened) == (ComplaintStatus.CLOSED, 4, 1)
    assert "You have answered this survey already" in await page(site, second)
    assert "This survey is closed" in await page(site, first)
    with cases.db.reading() as session:
        row = session.get(ComplaintRow, case.id)
        assert row is not None
        assert (row.survey_score, row.survey_comment) == (4, "Fine now")
        sent = session.scalars(
            select(NotificationRow)
            .where(NotificationRow.order_id == complaint_workflow_id(case.id))
            .order_by(NotificationRow.id)
        ).all()
    # Every message the customer got is in the notifications record.
    assert [(n.audience, n.subject) for n in sent] == [
        ("customer", f"[Complaint #{case.id}] Our reply"),
        ("customer", f"[Complaint #{case.id}] How did we do?"),
        ("customer", f"[Complaint #{case.id}] How did we do?"),
    ]
    assert "We look into it." in sent[0].message
    assert first in sent[1].message
    assert second in sent[2].message
    # Support sees the case, its state, clocks, remedies and what was sent.
    env = {
        "OMS_DATABASE_URL": database_url,
        "OMS_KEY_RING": TEST_KEY_RING.serialise(),
        "OMS_DATA_DIR": str(tmp_path / ".oms"),
    }
    shown = await asyncio.to_thread(
        CliRunner().invoke, app, ["complaints", "show", str(case.id)], env=env
    )
    assert shown.exit_code == 0, shown.output
    text = " ".join(shown.output.split())
    for expected in (
        f"Complaint #{case.id} closed",
        "Service levels",
        "first response",
        "Remedies",
        "Messages sent",
        "Our reply",
        "We look into it.",
        "satisfaction 4/5 (Fine now)",
        "reopened 1",
    ):
        assert expected in text, expected
    as_json = await asyncio.to_thread(
        CliRunner().invoke, app, ["complaints", "show", str(case.id), "--json"], env=env
    )
    shown_json = json.loads(as_json.output)
    assert shown_json["complaint"]["case"]["status"] == "closed"
    assert shown_json["messages"][0]["subject"].endswith("Our reply")
    missing = await asyncio.to_thread(
        CliRunner().invoke, app, ["complaints", "show", "999999"], env=env
    )
    assert missing.exit_code == 1
    assert "complaint #999999: not found" in missing.output


async def test_an_answer_the_case_cannot_take_now_asks_to_send_it_again(
    lone_time_skipping_env: WorkflowEnvironment,
    db: Database,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(complaint_survey, "ANSWER_WAIT", timedelta(seconds=1))
    settings = Settings(database_url=database_url, data_dir=tmp_path)
    secret = link_secrets(settings.load_key_ring())[0]
    client = lone_time_skipping_env.client
    number = uuid.uuid4().int % 10**9 + 1
    case = file_complaint(db, phone()).case.model_copy(update={"id": number})
    handle = await client.start_workflow(  # no worker polls its queue: the worker is away
        COMPLAINT_WORKFLOW_TYPE,
        ComplaintStart(case=case),
        id=complaint_workflow_id(number),
        task_queue=f"nobody-{uuid.uuid4()}",
    )
    site = TestClient(create_app(settings, db, client), follow_redirects=False)
    link = f"/survey/{number}/0/{link_token(secret, survey_subject(number, 0))}"
    with lone_time_skipping_env.auto_time_skipping_disabled():
        answer = await asyncio.to_thread(site.post, link, data={"score": "5"})
    await handle.terminate("test over")
    assert answer.status_code == 503
    shown = text_of(answer.text)
    assert "We could not take your answer just now" in shown
    assert "How satisfied are you" in shown  # the form again, to send later


async def test_the_api_says_what_the_case_did_with_a_survey_answer(
    surveyed: tuple[Cases, TestClient],
) -> None:
    cases, site = surveyed
    key = api_keys.create_api_key(cases.db, "gateway", SystemRole.INTAKE, actor="t").key

    async def answer(number: int, **body: object) -> tuple[int, dict[str, object]]:
        answered = await asyncio.to_thread(
            site.post,
            f"/api/v1/complaints/{number}/survey",
            json=body,
            headers={"Authorization": f"Bearer {key}"},
        )
        return answered.status_code, answered.json()

    start = await cases.env.get_current_time()
    handle = await cases.start(phone(), ComplaintPolicy(), start)
    number = (await cases.case(handle)).id
    status, said = await answer(number, score=4)  # no survey yet
    assert (status, said["detail"]) == (409, f"complaint {number}: no survey is open")
    await handle.execute_update(
        RESOLVE_UPDATE, Resolution(actor="mia.chen", summary="Re-sent", root_cause="carrier_delay")
    )
    await cases.until(start + timedelta(days=1, minutes=1))
    status, said = await answer(number, score=3, survey=999999)
    assert (status, said["detail"]) == (409, f"complaint {number}: survey 999999 is closed")
    assert await answer(number, score=4, comment="Fine") == (
        200,
        {"complaint_id": number, "workflow_id": handle.id, "outcome": "answered"},
    )
    status, said = await answer(number, score=1)
    assert (status, said["detail"]) == (409, f"complaint {number}: its survey was answered already")
    assert (await cases.case(handle)).survey_score == 4


async def test_a_survey_answer_the_case_cannot_take_in_time_is_503_over_the_api(
    lone_time_skipping_env: WorkflowEnvironment,
    db: Database,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(complaints_api, "ANSWER_WAIT", timedelta(seconds=1))
    settings = Settings(database_url=database_url, data_dir=tmp_path)
    client = lone_time_skipping_env.client
    case = file_complaint(db, phone()).case
    handle = await client.start_workflow(  # no worker polls its queue: the worker is away
        COMPLAINT_WORKFLOW_TYPE,
        ComplaintStart(case=case),
        id=complaint_workflow_id(case.id),
        task_queue=f"nobody-{uuid.uuid4()}",
    )
    key = api_keys.create_api_key(db, "gateway", SystemRole.INTAKE, actor="t").key
    api = TestClient(create_app(settings, db, client))
    with lone_time_skipping_env.auto_time_skipping_disabled():
        answer = await asyncio.to_thread(
            api.post,
            f"/api/v1/complaints/{case.id}/survey",
            json={"score": 5},
            headers={"Authorization": f"Bearer {key}"},
        )
    await handle.terminate("test over")
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "link",
    [
        "/survey/abc/0/0123456789abcdef",
        "/survey/abc/0123456789abcdef",
        "/survey/12/x/0123456789abcdef",
        "/survey/-1/0/0123456789abcdef",
        "/survey/99999999999999999999999/0/0123456789abcdef",
        "/survey/12/99999999999999999999999/0123456789abcdef",
        "/survey/12/0/forged",
        "/survey/12/0/%F0%9F",
        "/survey/12/%F0%9F%98%80",
        "/survey/%F0%9F%98%80/0/x",
    ],
)
def test_a_malformed_survey_link_gets_the_not_valid_page(
    link: str, db: Database, database_url: str, tmp_path: Path
) -> None:
    site = TestClient(
        create_app(Settings(database_url=database_url, data_dir=tmp_path), db),
        follow_redirects=False,
    )
    for answer in (site.get(link), site.post(link, data={"score": "5"})):
        assert answer.status_code == 404
        assert answer.headers["content-type"].startswith("text/html")
        assert "this survey link is not valid" in text_of(answer.text)


@pytest.mark.parametrize(
    "link", ["/unsubscribe/NEWS-01/forged", "/unsubscribe/%00/x", "/unsubscribe/NEWS-01/%F0%9F"]
)
def test_an_unsubscribe_link_that_is_not_ours_gets_the_not_valid_page_when_opened(
    link: str, db: Database, database_url: str, tmp_path: Path
) -> None:
    site = TestClient(
        create_app(Settings(database_url=database_url, data_dir=tmp_path), db),
        follow_redirects=False,
    )
    for answer in (site.get(link), site.post(link)):
        assert answer.status_code == 404
        assert "this unsubscribe link is not valid" in text_of(answer.text)


# --- item 22: consent read just before each message ------------------------------------


class UnsubscribingWhileSending:
    """The provider delivers; meanwhile ``leaving`` unsubscribes from an earlier campaign's
    link, right after the batch's first message went out."""

    def __init__(self, db: Database, leaving: str) -> None:
        self.db = db
        self.leaving = leaving
        self.notifier = SimulatedNotifier()

    async def send(
        self, *, idempotency_key: str, audience: Audience, subject: str, message: str, to: str = ""
    ) -> str:
        reference = await self.notifier.send(
            idempotency_key=idempotency_key,
            audience=audience,
            subject=subject,
            message=message,
            to=to,
        )
        link = unsubscribe_token(SECRET, self.leaving)
        assert unsubscribe(self.db, [SECRET], self.leaving, link)
        return reference


async def test_a_customer_who_unsubscribes_while_the_batch_runs_gets_nothing(
    db: Database,
) -> None:
    people(db)
    campaign_id = campaign(db)
    choose_audience(db, campaign_id)
    first, leaving, *_ = sorted(c for c, s in recipients(db, campaign_id).items() if s == "pending")
    notifier = UnsubscribingWhileSending(db, leaving)
    steps = CampaignActivities(db, notifier, link_secret=SECRET, console_url="https://x")
    batch = await ActivityEnvironment().run(
        steps.send_campaign_batch, BatchRequest(campaign_id=campaign_id, limit=3)
    )
    assert (batch.sent, batch.skipped) == (2, 1)
    assert recipients(db, campaign_id)[leaving] == "skipped"
    delivered = notifier.notifier.deliveries()
    assert delivered[first] == 1
    assert leaving not in delivered


# --- item 23: the notifier's books ------------------------------------------------------


class WorkerKilledError(Exception):
    """The worker process ended (in a real kill nothing after the send runs)."""


class KilledAfterDelivering:
    """A worker that dies right after the provider delivered its ``after``-th message, before
    the outbox recorded it."""

    def __init__(self, notifier: SimulatedNotifier, after: int) -> None:
        self.notifier = notifier
        self.after = after
        self.asked = 0

    async def send(
        self, *, idempotency_key: str, audience: Audience, subject: str, message: str, to: str = ""
    ) -> str:
        reference = await self.notifier.send(
            idempotency_key=idempotency_key,
            audience=audience,
            subject=subject,
            message=message,
            to=to,
        )
        self.asked += 1
        if self.asked == self.after:
            raise WorkerKilledError
        return reference


async def test_a_worker_killed_mid_send_delivers_each_message_once_by_the_providers_books(
    db: Database, tmp_path: Path
) -> None:
    people(db)
    campaign_id = campaign(db)
    choose_audience(db, campaign_id)
    path = tmp_path / "simulated-partners.db"
    killed = KilledAfterDelivering(SimulatedNotifier(PartnerBooks(path)), after=2)
    run = ActivityEnvironment().run
    request = BatchRequest(campaign_id=campaign_id, limit=3)
    dying = CampaignActivities(db, killed, link_secret=SECRET, console_url="x")
    with pytest.raises(WorkerKilledError):
        await run(dying.send_campaign_batch, request)
    # Another worker picks the batch up with the same keys (a retry), and sends on.
    retrying = SimulatedNotifier(PartnerBooks(path))
    steps = CampaignActivities(db, retrying, link_secret=SECRET, console_url="x")
    while (await run(steps.send_campaign_batch, request)).remaining:
        pass
    sent = {c for c, s in recipients(db, campaign_id).items() if s == "sent"}
    provider = SimulatedNotifier(PartnerBooks(path))
    assert provider.deliveries() == dict.fromkeys(sent, 1)  # one delivery per recipient
    [repeated] = [e for e in provider.books.effects(provider.name) if e.requests > 1]
    assert repeated.requests == 2  # the killed worker's last message was asked for twice
    assert repeated.idempotency_key.startswith(campaign_workflow_id(campaign_id))
    with db.reading() as session:
        outbox = session.scalars(
            select(NotificationRow.key).where(
                NotificationRow.order_id == campaign_workflow_id(campaign_id)
            )
        ).all()
    assert sorted(outbox) == sorted(f"message:{c}" for c in sent)


def test_the_openapi_document_says_what_a_survey_answer_gets(
    db: Database, database_url: str
) -> None:
    api = TestClient(create_app(Settings(database_url=database_url), db))
    post = api.get("/openapi.json").json()["paths"]["/api/v1/complaints/{complaint_id}/survey"]
    answers = post["post"]["responses"]
    assert {"200", "404", "409", "503"} <= set(answers)
    assert "202" not in answers
    assert answers["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/SurveyReceipt"
    }
