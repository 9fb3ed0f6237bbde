"""Marketing campaigns (issue 17): a CampaignWorkflow sends only to consenting customers,
each at most once, at its rate; a worker stopped mid-campaign and a new one started send
nothing twice; an unsubscribe takes effect for the very next message; pause, resume and
cancel; the response against the held-out control group; the console and the public
unsubscribe page."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from temporalio.client import WorkflowHandle
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment
from temporalio.worker import Worker

from activities import CampaignActivities
from domain.access import Role
from domain.campaigns import (
    CANCEL_CAMPAIGN,
    PAUSE_CAMPAIGN,
    RESUME_CAMPAIGN,
    BatchRequest,
    CampaignAction,
    CampaignDefinition,
    CampaignStart,
    campaign_workflow_id,
)
from domain.customers import CustomerRecord
from domain.notifications import Audience
from domain.orders import UPDATE_SUFFIX
from integrations.simulated_books import PartnerBooks
from integrations.simulated_notifier import SimulatedNotifier
from persistence.database import Database
from persistence.keys import link_secrets
from persistence.models import CampaignRecipient, CampaignRow, NotificationRow
from persistence.transactions import accounts, intake
from persistence.transactions.campaigns import (
    campaign_response,
    choose_audience,
    create_campaign,
    record_turn,
    unsubscribe,
    unsubscribe_token,
)
from persistence.transactions.customers import customer_changes, find_customer, save_customers
from persistence.transactions.records import utcnow
from runtime.settings import Settings
from tests.factories import submission
from tests.test_web_admin import PASSWORD, log_in
from tests.test_web_stock_operations import text_of
from tests.workflow_fakes import STEP_THREADS
from web.app import create_app
from workflows.campaign import CampaignWorkflow

SECRET = b"s" * 32


class CountingNotifier:
    """The simulated notifier (which delivers each idempotency key once, by its books),
    counting every call made to it."""

    def __init__(self, books: PartnerBooks | None = None) -> None:
        self.calls: list[str] = []
        self.provider = SimulatedNotifier(books)

    @property
    def delivered(self) -> dict[str, str]:
        """Each idempotency key delivered, with its recipient, by the provider's books."""
        return {
            effect.idempotency_key: effect.detail
            for effect in self.provider.books.effects(self.provider.name)
        }

    async def send(
        self,
        *,
        idempotency_key: str,
        audience: Audience,
        subject: str,
        message: str,
        to: str = "",
    ) -> str:
        self.calls.append(idempotency_key)
        return await self.provider.send(
            idempotency_key=idempotency_key,
            audience=audience,
            subject=subject,
            message=message,
            to=to,
        )


def people(db: Database) -> None:
    records = [
        CustomerRecord(
            id=f"NEWS-{n:02d}",
            name=f"Reader {n}",
            email=f"reader{n}@example.org",
            tags="newsletter",
            marketing_consent=n % 10 != 0,  # 00, 10, 20: no consent
            consent_source="web shop sign-up" if n % 10 else "",
            active=n != 33,  # deactivated, consent or not
        )
        for n in range(40)
    ]
    save_customers(db, records, "test")


def campaign(db: Database, **changes: Any) -> int:
    values: dict[str, Any] = {
        "name": "Spring offer",
        "tag": "newsletter",
        "subject": "Spring offer",
        "message": "10 % off widgets this week.",
        "rate_per_minute": 5,
        "control_share": Decimal("0.20"),
        "response_days": 3,
    }
    values.update(changes)
    return create_campaign(db, CampaignDefinition(**values), "mia.chen")


def worker(
    env: WorkflowEnvironment, db: Database, notifier: CountingNotifier, queue: str
) -> Worker:
    steps = CampaignActivities(db, notifier, link_secret=SECRET, console_url="https://oms.example")
    return Worker(
        env.client,
        task_queue=queue,
        workflows=[CampaignWorkflow],
        activities=[
            steps.select_campaign_audience,
            steps.send_campaign_batch,
            steps.measure_campaign,
            steps.record_campaign_status,
        ],
        activity_executor=STEP_THREADS,
        # No sticky cache: the workflow's next task goes to whichever worker runs (the
        # time-skipping server does not time out a stopped worker's sticky queue).
        max_cached_workflows=0,
    )


def recipients(db: Database, campaign_id: int) -> dict[str, str]:
    with db.reading() as session:
        rows = session.scalars(
            select(CampaignRecipient).where(CampaignRecipient.campaign_id == campaign_id)
        ).all()
        return {row.customer_id: row.status for row in rows}


async def test_each_consenting_customer_gets_it_once_across_a_worker_restart(
    own_time_skipping_env: WorkflowEnvironment, db: Database, tmp_path: Path
) -> None:
    people(db)
    campaign_id = campaign(db)
    notifier = CountingNotifier(PartnerBooks(tmp_path / "simulated-partners.db"))
    queue = f"campaign-{uuid.uuid4()}"
    start = CampaignStart(campaign_id=campaign_id, rate_per_minute=5, response_days=3)
    client = own_time_skipping_env.client
    async with worker(own_time_skipping_env, db, notifier, queue):
        handle: WorkflowHandle[Any, Any] = await client.start_workflow(
            CampaignWorkflow.run, start, id=campaign_workflow_id(campaign_id), task_queue=queue
        )
        await own_time_skipping_env.sleep(timedelta(seconds=90))  # two batches
    first = len(notifier.calls)
    assert 5 <= first < 30  # stopped mid-campaign
    chosen = recipients(db, campaign_id)
    pending = sorted(c for c, status in chosen.items() if status == "pending")
    leaving = pending[-1]  # unsubscribes from the link before their turn
    assert unsubscribe(db, [SECRET], leaving, unsubscribe_token(SECRET, leaving))
    async with worker(own_time_skipping_env, db, notifier, queue):  # a new worker
        response = await handle.result()
    chosen = recipients(db, campaign_id)
    never = {"NEWS-00", "NEWS-10", "NEWS-20", "NEWS-30", "NEWS-33"}  # no consent, inactive
    assert never.isdisjoint(chosen)
    control = {c for c, status in chosen.items() if status == "control"}
    sent = {c for c, status in chosen.items() if status == "sent"}
    assert control  # a fifth held out, give or take
    assert chosen[leaving] == "skipped"
    assert len(sent) == len(chosen) - len(control) - 1
    assert Counter(notifier.calls).most_common(1)[0][1] == 1  # no key sent twice
    assert set(notifier.delivered.values()) == sent
    assert notifier.provider.deliveries() == dict.fromkeys(sent, 1)  # the provider's books
    with db.reading() as session:
        outbox = session.scalars(
            select(NotificationRow).where(
                NotificationRow.order_id == campaign_workflow_id(campaign_id)
            )
        ).all()
        status = session.get(CampaignRow, campaign_id)
        assert status is not None
        assert status.status == "finished"
    assert len(outbox) == len(sent)
    assert "https://oms.example/unsubscribe/NEWS-" in outbox[0].message
    assert response is not None
    assert (response.sent, response.control) == (len(sent), len(control))


def test_the_response_is_measured_against_the_control_group(db: Database) -> None:
    people(db)
    campaign_id = campaign(db)
    chosen = choose_audience(db, campaign_id)
    statuses = recipients(db, campaign_id)
    targeted = sorted(c for c, s in statuses.items() if s == "pending")
    held_out = sorted(c for c, s in statuses.items() if s == "control")
    assert (chosen.targeted, chosen.control) == (len(targeted), len(held_out))
    for customer_id in targeted:
        record_turn(db, campaign_id, customer_id, reference=f"MSG-{customer_id}")
    buyers = [*targeted[:4], held_out[0]]
    for number, customer_id in enumerate(buyers):
        intake.receive_order(
            db, submission(f"CAMP-{number}", customer_id=customer_id, payment_token=None), "run"
        )
    response = campaign_response(db, campaign_id, utcnow())
    assert (response.sent, response.targeted_ordered, response.control_ordered) == (
        len(targeted),
        4,
        1,
    )
    assert response.response_rate == pytest.approx(4 / len(targeted))
    assert response.uplift == pytest.approx(4 / len(targeted) - 1 / len(held_out))


async def test_pause_resume_and_cancel(
    own_time_skipping_env: WorkflowEnvironment, db: Database
) -> None:
    people(db)
    campaign_id = campaign(db, rate_per_minute=2)
    notifier = CountingNotifier()
    queue = f"campaign-{uuid.uuid4()}"
    client = own_time_skipping_env.client
    async with worker(own_time_skipping_env, db, notifier, queue):
        handle: WorkflowHandle[Any, Any] = await client.start_workflow(
            CampaignWorkflow.run,
            CampaignStart(campaign_id=campaign_id, rate_per_minute=2, response_days=3),
            id=campaign_workflow_id(campaign_id),
            task_queue=queue,
        )
        await own_time_skipping_env.sleep(timedelta(seconds=30))
        paused = await handle.execute_update(
            PAUSE_CAMPAIGN + UPDATE_SUFFIX, CampaignAction(actor="mia.chen")
        )
        assert paused == "paused by mia.chen"
        before = len(notifier.calls)
        await own_time_skipping_env.sleep(timedelta(minutes=10))
        assert len(notifier.calls) == before  # nothing while paused
        await handle.execute_update(
            RESUME_CAMPAIGN + UPDATE_SUFFIX, CampaignAction(actor="mia.chen")
        )
        await own_time_skipping_env.sleep(timedelta(minutes=2))
        assert len(notifier.calls) > before
        await handle.execute_update(
            CANCEL_CAMPAIGN + UPDATE_SUFFIX, CampaignAction(actor="mia.chen")
        )
        assert await handle.result() is None
    with db.reading() as session:
        row = session.get(CampaignRow, campaign_id)
        assert row is not None
        assert row.status == "cancelled"
    assert "pending" in recipients(db, campaign_id).values()  # the rest never sent


@pytest.fixture
def client(db: Database, database_url: str) -> Iterator[TestClient]:
    accounts.create_user(db, "mia.chen", PASSWORD, Role.CUSTOMER_SERVICE, actor="test")
    with TestClient(
        create_app(Settings(database_url=database_url), db), follow_redirects=False
    ) as test_client:
        yield test_client


def test_the_console_and_the_unsubscribe_page(client: TestClient, db: Database) -> None:
    people(db)
    token = log_in(client, "mia.chen")
    page = client.get("/customers/campaigns")
    assert page.status_code == 200
    assert "New campaign" in text_of(page.text)
    wrong = client.post(
        "/customers/campaigns",
        data={
            "csrf_token": token,
            "name": "",
            "subject": "x",
            "message": "y",
            "rate_per_minute": "0",
        },
    )
    assert wrong.status_code == 422
    assert "rate_per_minute" in text_of(wrong.text)
    campaign_id = campaign(db)
    shown = text_of(client.get(f"/customers/campaigns/{campaign_id}").text)
    assert "Spring offer sending" in shown

    secret = link_secrets(Settings().load_key_ring())[0]
    link = f"/unsubscribe/NEWS-01/{unsubscribe_token(secret, 'NEWS-01')}"
    assert client.get(link).status_code == 200  # opening the link changes nothing
    forged = client.post("/unsubscribe/NEWS-01/0000")
    assert forged.status_code == 404
    done = client.post(link)
    assert done.status_code == 200
    assert "no more marketing messages" in text_of(done.text)
    record = find_customer(db, "NEWS-01")
    assert record is not None
    assert record.marketing_consent is False
    assert customer_changes(db, "NEWS-01")[0].actor == "unsubscribe link"


async def test_a_batch_cut_short_after_a_send_repeats_only_the_idempotency_key(
    db: Database,
) -> None:
    people(db)
    campaign_id = campaign(db)
    choose_audience(db, campaign_id)
    first = sorted(c for c, s in recipients(db, campaign_id).items() if s == "pending")[0]
    notifier = CountingNotifier()
    key = f"{campaign_workflow_id(campaign_id)}:message:{first}"
    # A worker sent this message and died before it recorded it: the retry asks the
    # notifier again with the same key, which delivers it once.
    await notifier.send(
        idempotency_key=key, audience=Audience.CUSTOMER, subject="s", message="m", to=first
    )
    steps = CampaignActivities(db, notifier, link_secret=SECRET, console_url="https://x")
    run = ActivityEnvironment().run
    sent = await run(steps.send_campaign_batch, BatchRequest(campaign_id=campaign_id, limit=3))
    assert sent.sent == 3
    assert notifier.calls.count(key) == 2
    assert list(notifier.delivered.values()).count(first) == 1
    again = await run(steps.send_campaign_batch, BatchRequest(campaign_id=campaign_id, limit=3))
    assert first not in [to for k, to in notifier.delivered.items() if k != key]
    assert again.sent == 3
    assert len(set(notifier.calls)) == 6
