# ruff: noqa: RUF001 - the Chinese sentences use full-width punctuation
"""What the order pipeline writes for people reads in the reader's language.

An order's timeline, what it waits for and why it needs a person are kept as wordings
(catalogue message and arguments) beside their English text: the console shows them in
the reader's language and time zone, from the running workflow's view and from the
audit log after the workflow has ended. The audit log keeps the wording encrypted, as
it keeps the English text, and erasing the customer erases the reason a person typed
in both.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities import order_activities
from domain.access import Locale, Role, StaffAccount
from domain.escalation import EXTEND_DEADLINE_SIGNAL, DeadlineExtension
from domain.intake import StatusChange
from domain.orders import CANCEL_SIGNAL, EventKind, OrderStatus, OrderView, StaffDecision
from domain.wording import N_, Wording
from integrations.simulated_carrier import SimulatedCarrier
from integrations.simulated_notifier import SimulatedNotifier
from integrations.simulated_payment import SimulatedPaymentGateway
from integrations.simulated_supply import simulated_factory, simulated_supplier
from persistence.database import Database
from persistence.models import Order, OrderEventRow
from persistence.order_views import order_view
from persistence.transactions import intake
from persistence.transactions.privacy import erase_customer
from tests.factories import submission
from tests.test_privacy import finish, lena_orders, personal_data_left
from tests.test_web_orders import client, log_in, orders  # noqa: F401 - fixtures
from tests.workflow_fakes import order_worker, start, unique_order, wait_until
from web import i18n
from web.rendering import render
from web.security import Staff

CANCEL = StaffDecision(actor="sam", reason="customer withdrew the order")
ENGLISH_DETAILS = (
    "customer is on credit watch",
    "an approve or reject decision",
    "until 20",  # the extension's English detail, an ISO time after "until"
    "cancelled by sam",
    "via web",
    "credit hold",
)
"""Bits of the English texts the workflow and the activities write for this order."""


@pytest.fixture
def shop(time_skipping_env: WorkflowEnvironment, db: Database) -> Callable[[], Worker]:
    """Builds a worker with the real activities against the business database."""

    def build() -> Worker:
        activities = order_activities(
            db,
            gateway=SimulatedPaymentGateway(),
            carrier=SimulatedCarrier(pushes_events=True),
            factory=simulated_factory(),
            supplier=simulated_supplier(),
            notifier=SimulatedNotifier(),
            tracking_poll_seconds=0.05,
        )
        worker, _ = order_worker(time_skipping_env.client, activities)
        return worker

    return build


def order_page(view: OrderView, *, live: bool) -> str:
    """The order's page as a zh-Hant reader of the console gets it (times in UTC)."""
    reader = Staff(
        account=StaffAccount(
            username="wen.li",
            role=Role.ORDER_PROCESSING,
            locale=Locale.TRADITIONAL_CHINESE,
            active=True,
            failed_logins=0,
            locked_until=None,
            created_at=datetime.now(UTC),
        ),
        csrf_token="token",
    )
    page = render(
        "order.html",
        Locale.TRADITIONAL_CHINESE,
        user=reader,
        view=view,
        live=live,
        address=None,
        country="DE",
        workflow_url="http://temporal/ui",
        offers=SimpleNamespace(any=False),
        action_id="action",
        done=None,
        zone="UTC",
    )
    return bytes(page.body).decode()


def in_chinese(moment: datetime) -> str:
    return i18n.when(moment, Locale.TRADITIONAL_CHINESE)


async def test_an_orders_timeline_reads_in_chinese_live_and_from_the_audit_log(
    time_skipping_env: WorkflowEnvironment, db: Database, shop: Callable[[], Worker]
) -> None:
    order = unique_order(customer_id="CUST-WATCH", payment_token=None)
    worker = shop()
    async with worker:
        handle = await start(time_skipping_env.client, worker.task_queue, order)
        held = await wait_until(
            handle,
            lambda view: view.status is OrderStatus.AWAITING_APPROVAL and view.waiting is not None,
            "held for approval",
        )
        deadline = (await time_skipping_env.get_current_time()).astimezone(UTC).replace(
            microsecond=0
        ) + timedelta(days=5)
        extension = DeadlineExtension(
            actor="sam", reason="the customer calls back on Friday", new_deadline=deadline
        )
        await handle.signal(EXTEND_DEADLINE_SIGNAL, extension)
        live = await wait_until(
            handle,
            lambda view: any(e.kind == EventKind.DEADLINE_EXTENDED for e in view.history),
            "deadline moved",
        )
        page = order_page(live, live=True)
        await handle.signal(CANCEL_SIGNAL, CANCEL)
        assert (await handle.result()).status is OrderStatus.CANCELLED

    assert held.waiting is not None
    assert held.waiting.waiting_for == "an approve or reject decision from support staff"
    assert "客戶列入信用觀察名單" in page  # the credit hold's reason
    assert "等待客服人員核准或拒絕" in page  # what it waits for
    assert "提醒負責人" in page  # the next escalation rung
    assert f"客服人員核准或拒絕 延至 {in_chinese(deadline)}：{extension.reason}" in page
    assert deadline.isoformat() not in page
    for english in ENGLISH_DETAILS:
        assert english not in page

    stored = order_view(db, order.order_id)
    assert stored is not None
    page = order_page(stored, live=False)
    assert "客戶列入信用觀察名單" in page
    assert f"客服人員核准或拒絕 延至 {in_chinese(deadline)}：{extension.reason}" in page
    assert f"由 sam 取消：{CANCEL.reason}" in page  # the final event and the reason on top
    assert f"經由網路商店，共 1 行，總計 {stored.money.total} {stored.money.currency}" in page
    assert "<td>系統</td>" in page  # the well-known actors in words, people by user name
    assert "<td>system</td>" not in page
    assert deadline.isoformat() not in page
    for english in ENGLISH_DETAILS:
        assert english not in page
    # The English texts stay for the CLI, the API and the Temporal UI.
    assert [e.detail for e in stored.history if e.kind == EventKind.CREDIT_HOLD] == [
        "customer is on credit watch"
    ]
    assert stored.rejection_reasons == [f"cancelled by sam: {CANCEL.reason}"]


def test_a_wording_is_kept_encrypted_and_read_back_whole(db: Database) -> None:
    intake.receive_order(db, submission("WORDED-1"), run_id="run")
    deadline = datetime(2026, 12, 10, 9, 30, tzinfo=UTC)
    worded = Wording(
        message=N_("%(target)s until %(deadline)s: %(reason)s"),
        args={"reason": "waiting for the customer's call"},
        moments={"deadline": deadline},
        parts={"target": Wording(message=N_("delivery of every parcel"))},
    )
    intake.record_order_status(
        db,
        StatusChange(
            order_id="WORDED-1", event=EventKind.DEADLINE_EXTENDED, wording=worded, actor="sam"
        ),
    )
    with db.reading() as session:
        raw = session.execute(
            text("SELECT detail, wording FROM order_events WHERE kind = 'deadline_extended'")
        ).one()
    assert raw.wording.startswith("enc:v1:")
    assert "customer's call" not in raw.wording
    assert "until" not in raw.wording
    view = order_view(db, "WORDED-1")
    assert view is not None
    event = next(e for e in view.history if e.kind == EventKind.DEADLINE_EXTENDED)
    assert event.wording == worded
    assert event.detail == (
        f"delivery of every parcel until {deadline.isoformat()}: waiting for the customer's call"
    )
    assert i18n.words(event.wording, Locale.TRADITIONAL_CHINESE) == (
        f"所有包裹送達 延至 {in_chinese(deadline)}：waiting for the customer's call"
    )


def test_erasing_the_customer_erases_the_reason_in_the_wording_too(db: Database) -> None:
    lena_orders(db, "LENA-1")
    said: Callable[[str], Wording] = lambda reason: Wording(  # noqa: E731
        message=N_("cancelled by %(actor)s: %(reason)s"), args={"actor": "mia", "reason": reason}
    )
    for kind, wording in (
        (EventKind.CANCELLED, said("Lena Berger moved away")),
        (
            EventKind.DEADLINE_EXTENDED,
            Wording(
                message=N_("%(target)s until %(deadline)s: %(reason)s"),
                args={"reason": "Lena Berger is on holiday"},
                moments={"deadline": datetime(2026, 12, 10, tzinfo=UTC)},
                parts={"target": Wording(message=N_("delivery of every parcel"))},
            ),
        ),
    ):
        intake.record_order_status(
            db, StatusChange(order_id="LENA-1", event=kind, wording=wording, actor="mia")
        )
    finish(db, "LENA-1")
    erase_customer(db, "CUST-LENA", "mia.chen")
    assert personal_data_left(db, ("Lena Berger",)) == []
    view = order_view(db, "LENA-1")
    assert view is not None
    events = {e.kind: e for e in view.history}
    cancelled = events[EventKind.CANCELLED]
    assert cancelled.detail == "cancelled by mia: [erased]"
    assert cancelled.wording is not None
    assert i18n.words(cancelled.wording, Locale.TRADITIONAL_CHINESE) == "由 mia 取消：[erased]"
    extended = events[EventKind.DEADLINE_EXTENDED]
    assert extended.detail == "[erased]"
    assert extended.wording is None
    with db.reading() as session:
        kept = session.scalars(
            select(OrderEventRow.wording).where(OrderEventRow.order_id == "LENA-1")
        ).all()
    assert all(stored is None or "Lena" not in stored for stored in kept)


def test_the_order_list_says_why_an_order_needs_a_person_in_the_readers_language(
    client: TestClient,  # noqa: F811 - the fixture
    orders: Database,  # noqa: F811 - the fixture
) -> None:
    late = Wording(
        message=N_("line %(line)s supply is late: extend the deadline or cancel"),
        args={"line": 2},
    )
    intake.record_order_status(
        orders,
        StatusChange(
            order_id="WEB-6",
            event=EventKind.ESCALATED,
            detail="production delay: ask support: wait longer or cancel (level 3)",
            escalation_level=3,
            needs_attention_wording=late,
        ),
    )
    log_in(client, "wen.li")
    page = client.get("/orders?list=needs_attention")
    assert "第 2 行的補貨延遲：請延後期限或取消" in page.text
    assert "supply is late" not in page.text
    with orders.reading() as session:
        assert (
            session.scalar(select(Order.needs_attention).where(Order.id == "WEB-6"))
            == late.english()
        )
