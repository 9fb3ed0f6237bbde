"""Complaints (issue 18): intake from every channel (e-mail senders matched to customers,
gateway duplicates recorded once, the category suggested by the order's facts), and the
case workflow on the time-skipping server: the service-level clocks across nights,
weekends, holidays and pauses, every rung of the ladder, remedies through the order's
money (``oms check`` stays balanced), the survey's timing, closing and reopening."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from temporalio.client import (
    Client,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities import (
    ComplaintActivities,
    CustomerActivities,
    IntakeActivities,
    InventoryActivities,
    NotificationActivities,
    SettlementActivities,
    ShippingActivities,
)
from domain.access import Role
from domain.business_hours import BusinessCalendar
from domain.care import care_task_workflow_id
from domain.complaints import (
    ANSWER_SURVEY_UPDATE,
    ASSIGN_UPDATE,
    CASE_QUERY,
    CUSTOMER_REPLIED_SIGNAL,
    DECIDE_REMEDY_UPDATE,
    REMEDY_UPDATE,
    REPLY_UPDATE,
    RESOLVE_UPDATE,
    SURVEY_ANSWERED_SIGNAL,
    Assignment,
    CaseReply,
    ComplaintCase,
    ComplaintCategory,
    ComplaintChannel,
    ComplaintIntake,
    ComplaintPolicy,
    ComplaintPriority,
    ComplaintStart,
    ComplaintStatus,
    CustomerMessage,
    RemedyDecision,
    RemedyItem,
    RemedyKind,
    RemedyRequest,
    Resolution,
    SlaClock,
    SurveyAnswer,
    SurveyOutcome,
    complaint_workflow_id,
)
from domain.intake import OrderRef
from domain.notifications import Audience
from domain.orders import OrderStatus
from integrations.ports import Notifier
from integrations.simulated_carrier import SimulatedCarrier
from integrations.simulated_payment import SimulatedPaymentGateway
from ops.complaints import EmlError, read_eml
from persistence.database import Database
from persistence.invariants import check_database
from persistence.models import (
    CareTaskRow,
    ComplaintAttachmentRow,
    ComplaintEventRow,
    ComplaintRow,
    CreditNote,
    GoodwillCredit,
    Order,
    Payment,
    Shipment,
    StockLevel,
)
from persistence.transactions import accounts
from persistence.transactions.complaints import ComplaintRefusedError, file_complaint
from tests.activity_runs import run
from tests.histories import HISTORIES_DIR
from tests.test_activities import follow_to_delivery, receive
from tests.test_web_admin import PASSWORD
from tests.workflow_fakes import STEP_THREADS
from workflows.care import CareTaskWorkflow
from workflows.complaint import ComplaintWorkflow
from workflows.shipment import ShipmentWorkflow


@dataclass(frozen=True)
class Sent:
    audience: Audience
    subject: str
    to: str
    message: str


class RecordingNotifier:
    """Delivers each idempotency key once, as a real provider does, and keeps what it sent."""

    def __init__(self) -> None:
        self.delivered: dict[str, Sent] = {}

    @property
    def sent(self) -> list[Sent]:
        return list(self.delivered.values())

    async def send(
        self, *, idempotency_key: str, audience: Audience, subject: str, message: str, to: str = ""
    ) -> str:
        self.delivered.setdefault(idempotency_key, Sent(audience, subject, to, message))
        return f"MSG-{len(self.delivered)}"


def staff(db: Database) -> None:
    accounts.create_user(db, "mia.chen", PASSWORD, Role.CUSTOMER_SERVICE, actor="test")
    accounts.create_user(db, "tom.k", PASSWORD, Role.CUSTOMER_SERVICE, actor="test")


def phone(customer_id: str = "CUST-JANE", **changes: Any) -> ComplaintIntake:
    fields: dict[str, Any] = {
        "channel": ComplaintChannel.PHONE,
        "customer_id": customer_id,
        "subject": "Parcel arrived late",
        "description": "My order came a week after the promised date.",
        "category": ComplaintCategory.LATE_DELIVERY,
        "taken_by": "mia.chen",
    }
    return ComplaintIntake.model_validate(fields | changes)


def events(db: Database, complaint_id: int) -> list[tuple[str, str]]:
    with db.reading() as session:
        return [
            (row.kind, row.detail)
            for row in session.scalars(
                select(ComplaintEventRow)
                .where(ComplaintEventRow.complaint_id == complaint_id)
                .order_by(ComplaintEventRow.id)
            )
        ]


# --- intake (both databases) --------------------------------------------------------


def test_a_phone_complaint_is_filed_with_its_category_and_priority(db: Database) -> None:
    filed = file_complaint(db, phone(category=ComplaintCategory.DAMAGED))
    case = filed.case
    assert (case.customer_id, case.channel, case.category) == (
        "CUST-JANE",
        ComplaintChannel.PHONE,
        ComplaintCategory.DAMAGED,
    )
    assert case.priority is ComplaintPriority.HIGH
    assert case.status is ComplaintStatus.NEW
    with db.reading() as session:
        row = session.get(ComplaintRow, case.id)
        assert row is not None
        assert (row.taken_by, row.description) == (
            "mia.chen",
            "My order came a week after the promised date.",
        )
    assert events(db, case.id) == [("received", "by phone (mia.chen): Parcel arrived late")]


def test_a_chat_systems_complaint_is_filed_once_per_message_id(db: Database) -> None:
    chat = phone(channel=ComplaintChannel.CHAT, taken_by="", message_id="chat-7781")
    first = file_complaint(db, chat)
    again = file_complaint(db, chat)
    assert (first.case.channel, again.duplicate, again.case.id) == (
        ComplaintChannel.CHAT,
        True,
        first.case.id,
    )
    other_channel = file_complaint(db, chat.model_copy(update={"channel": ComplaintChannel.WEB}))
    assert not other_channel.duplicate  # a message id is unique within its channel


def test_an_email_is_matched_to_its_sender_and_filed_once(db: Database) -> None:
    mail = ComplaintIntake(
        channel=ComplaintChannel.EMAIL,
        from_address="Jane Doe <JANE@example.org>",
        subject="Wrong colour",
        description="I ordered blue and got red.",
        message_id="<20261203.1234@mail.example.org>",
        attachments=["mailstore://2026/12/03/1234/photo.jpg"],
    )
    first = file_complaint(db, mail)
    again = file_complaint(db, mail)
    assert first.case.customer_id == "CUST-JANE"
    assert (again.duplicate, again.case.id) == (True, first.case.id)
    with db.reading() as session:
        assert len(session.scalars(select(ComplaintRow)).all()) == 1
        row = session.get(ComplaintRow, first.case.id)
        assert row is not None
        assert row.attachments == ["mailstore://2026/12/03/1234/photo.jpg"]
    stranger = file_complaint(
        db, mail.model_copy(update={"from_address": "nobody@else.example", "message_id": "x-2"})
    )
    assert stranger.case.customer_id is None  # kept, to be linked by customer service


def test_a_reply_naming_the_case_is_the_customer_writing_again(db: Database) -> None:
    first = file_complaint(db, phone())
    reply = ComplaintIntake(
        channel=ComplaintChannel.EMAIL,
        from_address="jane@example.org",
        subject=f"Re: [Complaint #{first.case.id}] Our reply",
        description="Still nothing arrived.",
        message_id="reply-1",
    )
    written = file_complaint(db, reply)
    assert (written.reopen, written.case.id) == (True, first.case.id)
    other = file_complaint(
        db,
        reply.model_copy(update={"from_address": "orders@acme.example", "message_id": "reply-2"}),
    )
    assert (other.reopen, other.case.customer_id) == (False, "CUST-ACME")  # not Jane's case


async def test_the_category_is_suggested_from_the_orders_facts(db: Database) -> None:
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
    web = ComplaintIntake(
        channel=ComplaintChannel.WEB,
        order_id="T-1",
        parcel_id="T-1-S1",
        subject="Where was my parcel?",
        description="Three days late.",
        message_id="shop-77",
    )
    filed = file_complaint(db, web)
    with db.reading() as session:
        order = session.get(Order, "T-1")
        assert order is not None
    assert filed.case.customer_id == order.customer_id  # from the order
    assert (filed.case.category, filed.case.parcel_id) == (
        ComplaintCategory.LATE_DELIVERY,
        "T-1-S1",
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"customer_id": "CUST-NOBODY"}, "customer_id: no customer 'CUST-NOBODY'"),
        ({"order_id": "NO-SUCH"}, "order_id: no order 'NO-SUCH'"),
        ({"customer_id": ""}, "customer_id: name the customer, the order"),
    ],
)
def test_a_complaint_that_names_nothing_real_is_refused_and_nothing_is_kept(
    db: Database, changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(ComplaintRefusedError, match=message):
        file_complaint(db, phone(**changes))
    with db.reading() as session:
        assert session.scalars(select(ComplaintRow)).all() == []


# --- the case workflow (time-skipping) ----------------------------------------------

HOLIDAY_CALENDAR = BusinessCalendar(holidays=frozenset({date(2027, 1, 4)}))


@dataclass
class Cases:
    """Complaint workflows on one time-skipping server, with the real activities."""

    env: WorkflowEnvironment
    db: Database
    queue: str
    notifier: RecordingNotifier
    started: list[WorkflowHandle[Any, ComplaintCase]] = field(default_factory=list)

    @property
    def client(self) -> Client:
        return self.env.client

    async def start(
        self, intake: ComplaintIntake, policy: ComplaintPolicy, at: datetime
    ) -> WorkflowHandle[Any, ComplaintCase]:
        case = file_complaint(self.db, intake).case
        handle = await self.client.start_workflow(
            ComplaintWorkflow.run,
            ComplaintStart(case=case.model_copy(update={"received_at": at}), policy=policy),
            id=complaint_workflow_id(case.id),
            task_queue=self.queue,
        )
        self.started.append(handle)
        return handle

    async def until(self, moment: datetime) -> None:
        """Move the server's clock to ``moment`` in half days at most."""
        while (now := await self.env.get_current_time()) < moment:
            await self.env.sleep(min(moment - now, timedelta(hours=12)))

    async def case(self, handle: WorkflowHandle[Any, ComplaintCase]) -> ComplaintCase:
        for _ in range(50):  # the query may run a moment before a timer's task finished
            case: ComplaintCase = await handle.query(CASE_QUERY, result_type=ComplaintCase)
            await asyncio.sleep(0.02)
            again: ComplaintCase = await handle.query(CASE_QUERY, result_type=ComplaintCase)
            if again == case:
                return case
        return case


def complaint_worker(
    client: Client, db: Database, queue: str, notifier: Notifier, *, link_secret: bytes = b"s"
) -> Worker:
    """A worker for complaint cases (and their care follow-ups) with the real activities."""
    steps = ComplaintActivities(db, SimulatedPaymentGateway(), notifier, link_secret=link_secret)
    care = CustomerActivities(db)
    shipping = ShippingActivities(db, SimulatedCarrier(step_seconds=0), poll_seconds=0.01)
    return Worker(
        client,
        task_queue=queue,
        workflows=[ComplaintWorkflow, CareTaskWorkflow, ShipmentWorkflow],
        activities=[
            steps.record_complaint_event,
            steps.assign_complaint_owner,
            steps.send_complaint_message,
            steps.carry_out_remedy,
            steps.price_replacement,
            steps.follow_up_complaint,
            care.reassign_care_task,
            care.record_care_task_done,
            shipping.book_shipment,
            shipping.poll_tracking,
            shipping.record_milestone,
            IntakeActivities(db).record_order_status,
            NotificationActivities(db, notifier).notify,
        ],
        activity_executor=STEP_THREADS,
    )


@pytest.fixture
async def cases(
    own_time_skipping_env: WorkflowEnvironment, db: Database, request: pytest.FixtureRequest
) -> AsyncIterator[Cases]:
    staff(db)
    queue = f"complaints-{uuid.uuid4()}"
    notifier = RecordingNotifier()
    async with complaint_worker(own_time_skipping_env.client, db, queue, notifier):
        cases = Cases(own_time_skipping_env, db, queue, notifier)
        # Time moves by sleeps only: a client call that waits (an update, a result) would
        # otherwise lock and unlock skipping around it, and a refused update leaves it locked.
        with own_time_skipping_env.auto_time_skipping_disabled():
            yield cases
        if os.environ.get("OMS_RECORD_HISTORIES") and "sqlite" in request.node.name:
            await record_complaint_histories(request.node.name, cases.started)
        with db.reading() as session:
            follow_ups = session.scalars(select(CareTaskRow.id)).all()
        client = own_time_skipping_env.client
        for handle in [
            *cases.started,
            *(client.get_workflow_handle(care_task_workflow_id(task)) for task in follow_ups),
        ]:
            with contextlib.suppress(RPCError):
                await handle.terminate("test over")


async def record_complaint_histories(
    test_name: str, handles: list[WorkflowHandle[Any, ComplaintCase]]
) -> None:
    """Keep the cases' histories for ``tests/test_replay.py`` (see :mod:`tests.histories`)."""
    folder = HISTORIES_DIR / "complaints" / re.sub(r"[^A-Za-z0-9._-]", "_", test_name)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.json"):
        old.unlink()
    for handle in handles:
        history = await handle.fetch_history()
        (folder / f"{handle.id}.json").write_text(history.to_json(), encoding="utf-8")


async def next_weekday(cases: Cases, weekday: int, hour: int) -> datetime:
    """The next ``weekday`` (0 Monday) at ``hour`` UTC after the server's clock."""
    now = await cases.env.get_current_time()
    day = now.date() + timedelta(days=1)
    while day.weekday() != weekday:
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


async def test_an_unanswered_complaint_climbs_every_rung_in_business_hours(cases: Cases) -> None:
    friday = await next_weekday(cases, 4, 16)
    monday = (friday + timedelta(days=3)).date()
    calendar = BusinessCalendar(holidays=frozenset({monday}))  # the Monday is a holiday
    await cases.until(friday)
    handle = await cases.start(phone(), ComplaintPolicy(calendar=calendar), friday)
    tuesday = friday + timedelta(days=4)
    # Normal priority: 8 business hours for the first response. Friday 1 h, Monday is a
    # holiday, Tuesday 7 h: due Tuesday 16:00.
    case = await cases.case(handle)
    first = next(c for c in case.clocks if c.clock is SlaClock.FIRST_RESPONSE)
    assert first.due_at == tuesday.replace(hour=16)
    assert case.owner == "mia.chen"  # round robin: nobody has any open complaint
    await cases.until(tuesday.replace(hour=15, minute=59))
    assert (await cases.case(handle)).escalation_level == 0  # across the night and weekend
    await cases.until(tuesday.replace(hour=16, minute=1))
    case = await cases.case(handle)
    assert (case.escalation_level, case.breaches, case.owner) == (1, 1, "mia.chen")
    # Tell the supervisor 2 business hours later: Tuesday 17:00 + Wednesday 10:00.
    await cases.until(tuesday.replace(hour=17) + timedelta(hours=16, minutes=59))
    assert (await cases.case(handle)).escalation_level == 1
    await cases.until(tuesday.replace(hour=17) + timedelta(hours=17, minutes=1))
    assert (await cases.case(handle)).escalation_level == 2
    # Reassign to the team queue 4 business hours after the deadline: Wednesday 12:00.
    await cases.until(tuesday + timedelta(days=1, hours=-4, minutes=1))
    case = await cases.case(handle)
    assert (case.escalation_level, case.owner) == (3, None)
    kinds = [kind for kind, _ in events(cases.db, case.id)]
    assert kinds.count("sla_breached") == 1
    assert kinds.count("escalated") == 2
    with cases.db.reading() as session:
        row = session.get(ComplaintRow, case.id)
        assert row is not None
        assert (row.sla_breached, row.escalation_level, row.owner) == (True, 3, None)
    told = [sent.audience.value for sent in cases.notifier.sent]
    assert told == ["assignee", "supervisor", "customer_service"]


async def test_waiting_for_the_customer_pauses_the_clock(cases: Cases) -> None:
    monday = await next_weekday(cases, 0, 9)
    await cases.until(monday)
    handle = await cases.start(phone(), ComplaintPolicy(), monday)
    await cases.until(monday + timedelta(hours=1))
    await handle.execute_update(
        REPLY_UPDATE,
        CaseReply(actor="mia.chen", text="Could you send a photo?", wait_for_customer=True),
    )
    case = await cases.case(handle)
    assert case.status is ComplaintStatus.WAITING_FOR_CUSTOMER
    resolution = next(c for c in case.clocks if c.clock is SlaClock.RESOLUTION)
    assert resolution.due_at is None
    assert timedelta(hours=1) <= resolution.used < timedelta(hours=1, seconds=5)
    await cases.until(monday + timedelta(days=14))  # two weeks without an answer
    case = await cases.case(handle)
    assert (case.escalation_level, case.breaches) == (0, 0)
    await handle.signal(CUSTOMER_REPLIED_SIGNAL, CustomerMessage(text="Photo attached."))
    case = await cases.case(handle)
    resolution = next(c for c in case.clocks if c.clock is SlaClock.RESOLUTION)
    # 39 business hours left from Monday 09:00, two weeks on: Friday 16:00.
    expected = monday + timedelta(days=18, hours=7)
    assert resolution.due_at is not None
    assert abs(resolution.due_at - expected) < timedelta(seconds=10)
    assert case.status is ComplaintStatus.IN_PROGRESS
    [message] = [sent for sent in cases.notifier.sent if sent.to == "CUST-JANE"]
    assert message.subject == f"[Complaint #{case.id}] Our reply"


async def test_a_resolved_case_is_surveyed_closed_and_reopened(cases: Cases) -> None:
    monday = await next_weekday(cases, 0, 9)
    await cases.until(monday)
    handle = await cases.start(phone(), ComplaintPolicy(), monday)
    await handle.execute_update(
        REPLY_UPDATE, CaseReply(actor="mia.chen", text="Sorry, a new one is on its way.")
    )
    await handle.execute_update(
        RESOLVE_UPDATE,
        Resolution(actor="mia.chen", summary="Re-sent", root_cause="carrier_delay"),
    )
    resolved = monday + timedelta(seconds=1)

    def surveys() -> list[Sent]:
        return [sent for sent in cases.notifier.sent if "how did we do" in sent.subject.lower()]

    await cases.until(resolved + timedelta(hours=23))
    assert surveys() == []
    await cases.until(resolved + timedelta(days=1, minutes=1))
    assert len(surveys()) == 1  # sent after a day
    await cases.until(resolved + timedelta(days=4, minutes=1))
    assert len(surveys()) == 2  # the reminder three days later
    await cases.until(resolved + timedelta(days=8, minutes=1))
    case = await cases.case(handle)
    assert (case.status, case.survey_score) == (ComplaintStatus.CLOSED, None)
    assert [k for k, _ in events(cases.db, case.id)][-2:] == ["survey_expired", "closed"]
    with cases.db.reading() as session:
        [task] = session.scalars(select(CareTaskRow)).all()
        assert (task.kind, task.customer_id) == ("complaint_follow_up", "CUST-JANE")
    await handle.signal(CUSTOMER_REPLIED_SIGNAL, CustomerMessage(text="It broke again."))
    case = await cases.case(handle)
    assert (case.status, case.reopened) == (ComplaintStatus.IN_PROGRESS, 1)
    await handle.execute_update(
        RESOLVE_UPDATE,
        Resolution(actor="mia.chen", summary="Refunded", root_cause="product_defect"),
    )
    await cases.until(await cases.env.get_current_time() + timedelta(days=1, minutes=1))
    await handle.signal(SURVEY_ANSWERED_SIGNAL, SurveyAnswer(score=4, comment="Fine now"))
    case = await cases.case(handle)
    assert (case.status, case.survey_score) == (ComplaintStatus.CLOSED, 4)
    await cases.until(await cases.env.get_current_time() + timedelta(days=14, minutes=1))
    result = await handle.result()  # the reopening window passed: the case is over
    assert result.status is ComplaintStatus.CLOSED
    with cases.db.reading() as session:
        row = session.get(ComplaintRow, case.id)
        assert row is not None
        assert (row.survey_score, row.survey_comment, row.root_cause, row.reopened) == (
            4,
            "Fine now",
            "product_defect",
            1,
        )


async def test_a_survey_answer_counts_once_and_only_for_its_own_survey(cases: Cases) -> None:
    monday = await next_weekday(cases, 0, 9)
    await cases.until(monday)
    handle = await cases.start(phone(), ComplaintPolicy(), monday)
    resolve = Resolution(actor="mia.chen", summary="Re-sent", root_cause="carrier_delay")
    await handle.execute_update(RESOLVE_UPDATE, resolve)

    async def answer(survey: int, score: int) -> str:
        said: str = await handle.execute_update(
            ANSWER_SURVEY_UPDATE, SurveyAnswer(score=score, survey=survey), result_type=str
        )
        return said

    assert await answer(0, 5) == SurveyOutcome.CLOSED  # not sent yet
    await cases.until(monday + timedelta(days=1, minutes=1))  # survey 0 goes out
    await handle.signal(CUSTOMER_REPLIED_SIGNAL, CustomerMessage(text="It broke again."))
    assert (await cases.case(handle)).reopened == 1  # survey 0 closed unanswered
    assert await answer(0, 1) == SurveyOutcome.CLOSED
    await handle.execute_update(RESOLVE_UPDATE, resolve)
    await cases.until(await cases.env.get_current_time() + timedelta(days=1, minutes=1))
    assert await answer(0, 1) == SurveyOutcome.CLOSED  # the first link answers nothing now
    assert await answer(1, 4) == SurveyOutcome.ANSWERED
    assert await answer(1, 2) == SurveyOutcome.ALREADY_ANSWERED
    case = await cases.case(handle)
    assert (case.status, case.survey_score) == (ComplaintStatus.CLOSED, 4)
    assert await answer(1, 2) == SurveyOutcome.ALREADY_ANSWERED  # closed since, still so
    assert [k for k, _ in events(cases.db, case.id)].count("survey_answered") == 1


async def completed_prepaid_order(db: Database) -> None:
    """Order T-1 (3 widgets, 59.70 EUR, card) reserved, shipped and delivered from WH-BER,
    captured, invoiced, paid and completed, as its workflow would have done."""
    await receive(db)
    settlement = SettlementActivities(db, SimulatedPaymentGateway())
    shipping = ShippingActivities(db, SimulatedCarrier(step_seconds=0), poll_seconds=0.01)
    ref = OrderRef(order_id="T-1")
    await run(settlement.authorise_payment, ref)
    await run(InventoryActivities(db).reserve_stock, ref)
    planned = await run(shipping.plan_shipments, ref)
    for parcel in planned.shipments:
        await follow_to_delivery(shipping, parcel.shipment_id)
    for step in (settlement.capture_payment, settlement.issue_invoice, settlement.issue_receipt):
        await run(step, ref)
    with db.transaction() as session:
        session.execute(
            update(Order).where(Order.id == "T-1").values(status=OrderStatus.COMPLETED.value)
        )


async def test_remedies_go_through_the_orders_money_and_large_ones_need_approval(
    cases: Cases,
) -> None:
    await completed_prepaid_order(cases.db)  # Jane's order
    now = await cases.env.get_current_time()
    handle = await cases.start(phone("", order_id="T-1"), ComplaintPolicy(), now)
    answer = await handle.execute_update(
        REMEDY_UPDATE,
        RemedyRequest(
            actor="mia.chen",
            kind=RemedyKind.REFUND,
            amount=Decimal("9.95"),
            reason="one widget scratched",
        ),
    )
    assert answer.startswith("remedy 1 done: refunded 9.95 EUR")
    answer = await handle.execute_update(
        REMEDY_UPDATE,
        RemedyRequest(
            actor="mia.chen", kind=RemedyKind.REFUND, amount=Decimal("49.75"), reason="the rest too"
        ),
    )
    assert answer.startswith("remedy 2 done")  # 49.75 is not above 50: no approval
    answer = await handle.execute_update(
        REMEDY_UPDATE,
        RemedyRequest(
            actor="mia.chen",
            kind=RemedyKind.GOODWILL_CREDIT,
            amount=Decimal("75"),
            reason="for the trouble",
        ),
    )
    assert answer == "remedy 3 waits for a supervisor's approval"
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(
            DECIDE_REMEDY_UPDATE,
            RemedyDecision(actor="mia.chen", number=3, approve=True, reason="fine"),
        )
    assert "someone other than who proposed it" in str(refused.value.cause)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(
            RESOLVE_UPDATE, Resolution(actor="mia.chen", summary="x", root_cause="other")
        )
    assert "remedy 3 still waits" in str(refused.value.cause)
    answer = await handle.execute_update(
        DECIDE_REMEDY_UPDATE,
        RemedyDecision(actor="sam.lead", number=3, approve=True, reason="loyal customer"),
    )
    assert answer.startswith("remedy 3 done: goodwill credit GC-")
    answer = await handle.execute_update(
        REMEDY_UPDATE,
        RemedyRequest(actor="mia.chen", kind=RemedyKind.REFUND, amount=Decimal("1"), reason="more"),
    )
    assert "more than the 0.00 EUR order T-1 still keeps" in answer
    case = await cases.case(handle)
    assert case.remedy_cost == Decimal("134.70")
    assert [r.status for r in case.remedies] == ["done", "done", "done", "failed"]
    with cases.db.reading() as session:
        notes = session.scalars(select(CreditNote.amount).order_by(CreditNote.id)).all()
        refunds = session.scalars(
            select(Payment.amount).where(Payment.kind == "refund").order_by(Payment.id)
        ).all()
        [credit] = session.scalars(select(GoodwillCredit)).all()
        assert notes == refunds == [Decimal("9.95"), Decimal("49.75")]
        assert (credit.customer_id, credit.amount) == ("CUST-JANE", Decimal("75.00"))
        assert check_database(session) == []  # money kept equals money billed


async def test_staff_actions_name_what_is_wrong(cases: Cases) -> None:
    now = await cases.env.get_current_time()
    handle = await cases.start(phone(), ComplaintPolicy(), now)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(ASSIGN_UPDATE, Assignment(actor="mia.chen", owner="nobody"))
    assert "'nobody' is not an active customer-service user" in str(refused.value.cause)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(REPLY_UPDATE, {"actor": "mia.chen"})
    assert "text" in str(refused.value.cause)
    answer = await handle.execute_update(ASSIGN_UPDATE, Assignment(actor="mia.chen", owner="tom.k"))
    assert answer.endswith("owner tom.k")
    await handle.signal("mystery", {"x": 1})
    await handle.signal(SURVEY_ANSWERED_SIGNAL, {"score": 9})
    kinds = [k for k, _ in events(cases.db, (await cases.case(handle)).id)]
    assert kinds.count("message_ignored") >= 3


def test_an_eml_file_is_filed_as_an_email_complaint_with_its_attachments_kept(
    db: Database, tmp_path: Path
) -> None:
    mail = EmailMessage()
    mail["From"] = "Jane Doe <jane@example.org>"
    mail["To"] = "service@shop.example"
    mail["Subject"] = "Cracked screen"
    mail["Message-ID"] = "<cracked-1@example.org>"
    mail.set_content("The screen arrived cracked.\nPhoto attached.")
    mail.add_attachment(b"\x89PNG...", maintype="image", subtype="png", filename="screen.png")
    path = tmp_path / "cracked.eml"
    path.write_bytes(mail.as_bytes())
    received = read_eml(path)
    intake = received.intake()
    assert (intake.channel, intake.subject, intake.message_id, intake.from_address) == (
        ComplaintChannel.EMAIL,
        "Cracked screen",
        "<cracked-1@example.org>",
        "jane@example.org",
    )
    assert intake.description == "The screen arrived cracked.\nPhoto attached."
    [photo] = received.attachments
    assert (photo.filename, photo.media_type, photo.content) == (
        "screen.png",
        "image/png",
        b"\x89PNG...",
    )
    filed = file_complaint(db, intake, mail=received)
    assert filed.case.customer_id == "CUST-JANE"
    assert file_complaint(db, read_eml(path).intake()).duplicate  # imported twice: filed once
    with db.reading() as session:
        [kept] = session.scalars(select(ComplaintAttachmentRow)).all()
        assert (kept.complaint_id, kept.filename, kept.sha256) == (
            filed.case.id,
            "screen.png",
            hashlib.sha256(b"\x89PNG...").hexdigest(),
        )
    not_mail = tmp_path / "notes.eml"
    not_mail.write_text("just some text\n")
    with pytest.raises(EmlError, match="no From header"):
        read_eml(not_mail)


WIDGETS_IN_BERLIN = select(StockLevel).where(
    StockLevel.sku == "WIDGET-1", StockLevel.warehouse_id == "WH-BER"
)


async def test_a_reship_sends_the_items_from_stock_in_a_parcel_the_case_follows(
    cases: Cases,
) -> None:
    await completed_prepaid_order(cases.db)
    with cases.db.reading() as session:
        [level] = session.scalars(
            select(StockLevel).where(
                StockLevel.sku == "WIDGET-1", StockLevel.warehouse_id == "WH-BER"
            )
        ).all()
        on_hand = level.on_hand
    now = await cases.env.get_current_time()
    handle = await cases.start(phone("", order_id="T-1"), ComplaintPolicy(), now)

    def reship(*items: tuple[str, int]) -> RemedyRequest:
        return RemedyRequest(
            actor="mia.chen",
            kind=RemedyKind.RESHIP,
            items=[RemedyItem(sku=sku, quantity=quantity) for sku, quantity in items],
            reason="two widgets arrived bent",
        )

    for items, reason in (
        ((("GADGET-2", 1),), "GADGET-2: not on order T-1"),
        ((("WIDGET-1", 5),), "WIDGET-1: 5 asked, the order held 3"),
    ):
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(REMEDY_UPDATE, reship(*items))
        assert reason in str(refused.value.cause)
    answer = await handle.execute_update(REMEDY_UPDATE, reship(("WIDGET-1", 2)))
    case_id = (await cases.case(handle)).id
    parcel = f"T-1-C{case_id}R1"
    assert answer == f"remedy 1 done: replacement parcel {parcel} (2 x WIDGET-1) from WH-BER"
    for _ in range(200):
        progress = [d for k, d in events(cases.db, case_id) if k == "parcel_progress"]
        if any("delivered" in detail for detail in progress):
            break
        await cases.env.sleep(timedelta(minutes=30))
    assert any(f"replacement parcel {parcel}: delivered" in d for d in progress), progress
    case = await cases.case(handle)
    assert case.remedy_cost == Decimal("21.80")  # two widgets at their cost price
    assert case.remedies[0].amount == Decimal("39.80")  # their worth, for the approval
    with cases.db.reading() as session:
        level = session.scalars(
            select(StockLevel).where(
                StockLevel.sku == "WIDGET-1", StockLevel.warehouse_id == "WH-BER"
            )
        ).one()
        assert level.on_hand == on_hand - 2
        shipped = session.get(Shipment, parcel)
        assert shipped is not None
        assert (shipped.status, shipped.contents, shipped.complaint_id) == (
            "delivered",
            {"WIDGET-1": 2},
            case_id,
        )
        assert check_database(session) == []


async def test_a_case_started_with_something_else_fails_saying_what_was_wrong(
    cases: Cases,
) -> None:
    sent_by_clients: list[list[Any]] = [[], [{"case": {"id": "seven"}}], [[1, 2]]]
    reasons: list[str] = []
    for number, sent in enumerate(sent_by_clients):
        handle = await cases.client.start_workflow(
            "ComplaintWorkflow",
            args=sent,
            id=f"complaint-hostile-{uuid.uuid4()}",
            task_queue=cases.queue,
        )
        with pytest.raises(WorkflowFailureError) as failed:
            await handle.result()
        cause = failed.value.cause
        assert isinstance(cause, ApplicationError), number
        assert cause.message.startswith("not a complaint case (ComplaintStart): ")
        assert cause.non_retryable
        reasons.append(cause.message)
    assert "no value was sent" in reasons[0]
    assert "case.id" in reasons[1]
    assert "JSON array" in reasons[2]
