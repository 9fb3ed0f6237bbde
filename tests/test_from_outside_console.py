"""Issue 25, tried from outside on the staff console as its users and another site would
(items 5, 6, 32, 33, 34 and 35): each test is the reproduction the issue describes, on both
databases, through the real application (FastAPI's test client)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select
from temporalio.testing import WorkflowEnvironment

from domain.access import LOCK_AFTER_FAILURES, Locale, Role, SystemRole
from domain.care import CareKind, CareReviewRequest, CareRules
from domain.catalogue import PaymentTerms
from domain.inventory import MovementKind, StockChange, StockOperation, StockReason
from domain.orders import PAYMENT_RECEIVED_SIGNAL, Channel, EventKind, OrderStatus
from domain.settlement import RECORD_PAYMENT, IncomingPayment, PaymentBooking
from domain.worklists import OrderList
from ops.staff import StaffAction, StaffActionError, perform
from persistence import stock_views
from persistence.database import Database
from persistence.models import OrderEventRow, SecurityEvent
from persistence.order_views import OrderQuery, order_page
from persistence.transactions import accounts, api_keys, intake, money
from persistence.transactions.care import create_care_tasks
from persistence.transactions.stock import book_stock_change
from runtime.settings import Settings
from tests.commands import oms
from tests.factories import submission
from tests.test_care import NOW as NOW_FOR_CARE
from tests.test_care import order as care_order
from tests.test_web_orders import receive
from tests.workflow_fakes import FakePartners, order_worker, start, unique_order, wait_for_status
from web import orders
from web import stock as web_stock
from web.app import SECURITY_HEADERS, create_app
from web.security import SESSION_COOKIE

PASSWORD = "correct horse battery"
WEB = Path(__file__).resolve().parent.parent / "web"


@pytest.fixture
def console_db(db: Database) -> Database:
    """Seven orders on two channels and four statuses, twelve stock movements of two
    products in two warehouses, and a user of each role the tests need."""
    receive(db, "WEB-1")
    receive(db, "WEB-2", customer_reference="PO-7781")
    receive(db, "FAX-3", channel=Channel.FAX)
    receive(db, "FAX-4", channel=Channel.FAX, customer_id="CUST-ACME")
    receive(db, "WEB-5", OrderStatus.AWAITING_APPROVAL)
    receive(db, "WEB-6", OrderStatus.AWAITING_APPROVAL)
    receive(db, "WEB-7", customer_id="CUST-ACME")
    for n in range(12):
        book_stock_change(
            db,
            StockChange(
                operation=StockOperation.ISSUE if n >= 8 else StockOperation.RECEIPT,
                sku="WIDGET-1" if n % 2 else "BOLT-M8",
                warehouse_id="WH-BER" if n % 4 < 2 else "WH-HAM",
                quantity=1,
                reason=StockReason.SCRAP if n >= 8 else StockReason.SUPPLIER_DELIVERY,
                reference=f"REF-{n:02d}",
                actor="kai.wu",
            ),
        )
    accounts.create_user(db, "root.admin", PASSWORD, Role.ADMIN, actor="test")
    accounts.create_user(db, "olivia", PASSWORD, Role.ORDER_PROCESSING, actor="test")
    return db


@pytest.fixture
def client(
    console_db: Database, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    """The console, with pages of two orders and two movements so paging shows."""
    monkeypatch.setattr(orders, "PAGE_SIZE", 2)
    monkeypatch.setattr(stock_views, "MOVEMENTS_PAGE", 2)
    app = create_app(Settings(database_url=database_url), console_db)
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


def form_token(page: httpx2.Response) -> str:
    """The CSRF token a page's form carries."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def log_in(client: TestClient, username: str, password: str = PASSWORD) -> httpx2.Response:
    """Fill in and send the login form as a browser would."""
    fields = {
        "username": username,
        "password": password,
        "csrf_token": form_token(client.get("/login")),
    }
    answer: httpx2.Response = client.post("/login", data=fields)
    return answer


def console_pages(client: TestClient) -> list[APIRoute]:
    """Every page of the console a browser may ask for (not the API, not static files)."""
    app: Any = client.app
    routes: list[Any] = []
    for route in app.routes:
        # An included router is one route of its own in newer FastAPI versions.
        included = getattr(route, "original_router", None)
        routes += included.routes if included is not None else [route]
    return [
        route
        for route in routes
        if isinstance(route, APIRoute)
        and "GET" in (route.methods or ())
        and not route.path.startswith("/api/")
    ]


def sample_path(route: APIRoute) -> str:
    """The route's path with a plausible value in each parameter."""
    values = {"order_id": "WEB-1", "sku": "WIDGET-1", "username": "olivia"}
    path = route.path
    for parameter in route.dependant.path_params:
        value = values.get(parameter.name, "1" if parameter.field_info.annotation is int else "X-1")
        path = path.replace(f"{{{parameter.name}}}", value)
    return path


def link(page: httpx2.Response, rel: str) -> str | None:
    """The address of the page's ``rel`` link (``next``, ``prev``), as the browser reads it."""
    found = re.search(rf'<a href="([^"]+)" rel="{rel}">', page.text)
    return html.unescape(found.group(1)) if found else None


# --- 5: pages behind login are not stored ----------------------------------------------


def test_every_console_page_answers_no_store_so_back_after_logout_shows_nothing(
    client: TestClient,
) -> None:
    before_login = client.get("/orders/WEB-1")
    assert before_login.headers["cache-control"] == "no-store"
    assert log_in(client, "root.admin").status_code == 303
    pages = console_pages(client)
    assert len(pages) > 30
    answered = {}
    for route in pages:
        path = sample_path(route)
        answer = client.get(path)
        answered[path] = answer.status_code
        assert answer.headers.get("cache-control") == "no-store", (path, answer.status_code)
    assert list(answered.values()).count(200) > 20  # pages, not only refusals

    order = client.get("/orders/WEB-1")
    assert "Erika Mustermann" in order.text
    assert order.headers["cache-control"] == "no-store"
    client.post("/logout", data={"csrf_token": form_token(order)})
    assert client.get("/orders/WEB-1").headers["location"] == "/login?next=/orders/WEB-1"
    assert "cache-control" not in client.get("/static/oms.css").headers  # the style sheet may


# --- 6: a lock does not tell that an account exists ------------------------------------


def test_a_locked_account_is_refused_in_the_words_of_an_unknown_name(
    client: TestClient, console_db: Database
) -> None:
    for _ in range(LOCK_AFTER_FAILURES):
        log_in(client, "olivia", "wrong guess")
    existing = log_in(client, "olivia", "wrong guess")
    right_password = log_in(client, "olivia")
    unknown = log_in(client, "nobody.here", "wrong guess")

    def said(page: httpx2.Response) -> str:
        return re.sub(r'name="csrf_token" value="[^"]+"', "", page.text)

    assert existing.status_code == right_password.status_code == unknown.status_code == 401
    assert said(existing) == said(right_password) == said(unknown)
    assert "Wrong user name or password." in said(unknown)
    assert "locked until" not in said(existing).lower()

    # The lock is still applied, audited, and shown to an admin.
    [olivia] = [a for a in accounts.list_users(console_db) if a.username == "olivia"]
    assert olivia.locked_until is not None
    with console_db.reading() as session:
        kinds = session.scalars(
            select(SecurityEvent.kind).where(SecurityEvent.username == "olivia")
        ).all()
    assert "locked" in kinds
    assert log_in(client, "root.admin").status_code == 303
    users = client.get("/admin/users").text
    assert re.search(r"olivia.*?Unlock", users, flags=re.S)


# --- 32: every list's paging, with and without each filter -----------------------------

ORDER_FILTERS: list[dict[str, str]] = [
    {},
    {"channel": "fax"},
    {"channel": "web"},
    {"customer": "CUST-ACME"},
    {"status": OrderStatus.CONFIRMED.value},
    {"from": datetime.now(UTC).date().isoformat()},
    {"to": "2999-12-31"},
    {"q": "WEB"},
    {"channel": "web", "customer": "CUST-JANE", "q": "WEB"},
]


@pytest.mark.parametrize("chosen", ORDER_FILTERS, ids=lambda f: "&".join(f) or "none")
def test_the_orders_list_pages_through_with_and_without_each_filter(
    client: TestClient, console_db: Database, chosen: dict[str, str]
) -> None:
    log_in(client, "olivia")
    # The filter form sends every field, the empty ones too, as a browser does.
    form = {"list": "new", "channel": "", "customer": "", "status": "", "from": "", "to": ""}
    page = client.get("/orders", params={**form, "q": "", **chosen})
    expected = order_page(
        console_db,
        OrderQuery(
            worklist=OrderList.NEW,
            channel=chosen.get("channel"),
            customer_id=chosen.get("customer"),
            status=OrderStatus(chosen["status"]) if "status" in chosen else None,
            created_from=datetime.fromisoformat(chosen["from"]).date()
            if "from" in chosen
            else None,
            created_to=datetime.fromisoformat(chosen["to"]).date() if "to" in chosen else None,
            search=chosen.get("q"),
            page_size=1000,
        ),
    )
    seen: list[str] = []
    visited = []
    while True:
        assert page.status_code == 200, page.text
        assert page.headers["content-type"].startswith("text/html")
        seen += re.findall(r'<td><a href="/orders/([^"]+)">', page.text)
        following = link(page, "next")
        if following is None:
            break
        visited.append(following)
        page = client.get(following)
    assert sorted(seen) == sorted(row.order_id for row in expected.rows)
    assert len(seen) > 0
    for address in visited:  # links carry only the filters that are set
        assert "=&" not in address
        assert not address.endswith("=")
        for name, value in chosen.items():
            assert f"{name}={value}" in address
    if visited:
        back = link(page, "prev")
        assert back is not None
        assert client.get(back).status_code == 200


MOVEMENT_FILTERS: list[dict[str, str]] = [
    {},
    {"sku": "WIDGET-1"},
    {"warehouse": "WH-HAM"},
    {"kind": MovementKind.ISSUE.value},
    {"outside_orders": "true"},
    {"sku": "BOLT-M8", "warehouse": "WH-BER", "kind": MovementKind.RECEIVE.value},
]


@pytest.mark.parametrize("chosen", MOVEMENT_FILTERS, ids=lambda f: "&".join(f) or "none")
def test_stock_movements_page_back_in_time_with_and_without_each_filter(
    client: TestClient, console_db: Database, chosen: dict[str, str]
) -> None:
    assert log_in(client, "root.admin").status_code == 303
    form = {"sku": "", "warehouse": "", "kind": ""}
    page = client.get("/stock/movements", params={**form, **chosen})
    seen: list[str] = []
    while True:
        assert page.status_code == 200, page.text
        seen += re.findall(r"<td>(REF-\d\d)</td>", page.text)
        older = link(page, "next")
        if older is None:
            break
        assert "=&" not in older
        for name, value in chosen.items():
            assert f"{name}={value}" in older
        page = client.get(older)
    expected = [
        f"REF-{n:02d}"
        for n in reversed(range(12))
        if ("sku" not in chosen or chosen["sku"] == ("WIDGET-1" if n % 2 else "BOLT-M8"))
        and (
            "warehouse" not in chosen
            or chosen["warehouse"] == ("WH-BER" if n % 4 < 2 else "WH-HAM")
        )
        and ("kind" not in chosen or chosen["kind"] == ("issue" if n >= 8 else "receive"))
    ]
    assert seen == expected
    assert len(seen) > 0


def test_no_console_page_refuses_a_blank_query_value(client: TestClient) -> None:
    """Every filter of every list, sent empty as a form sends it, means no filter."""
    assert log_in(client, "root.admin").status_code == 303
    asked = 0
    for route in console_pages(client):
        parameters = [
            *route.dependant.query_params,
            *(p for dependency in route.dependant.dependencies for p in dependency.query_params),
        ]
        blanks = {
            parameter.alias: ""
            for parameter in parameters
            if not parameter.field_info.is_required()
        }
        if not blanks:
            continue
        answer = client.get(sample_path(route), params=blanks)
        asked += 1
        assert answer.status_code != 422, (route.path, answer.text)
        assert not answer.headers["content-type"].startswith("application/json"), route.path
    assert asked >= 8


def test_the_orders_list_takes_a_date_as_a_date_not_a_number(client: TestClient) -> None:
    """``to=0`` was read as 1 January 1970; the console reads dates as the API does."""
    assert log_in(client, "root.admin").status_code == 303
    for wrong in ("0", "1700000000", "2026-02-30", "06/12/2026"):
        answer = client.get("/orders", params={"list": "processed", "to": wrong})
        assert answer.status_code == 422, wrong
        assert "to" in answer.text
        assert not answer.headers["content-type"].startswith("application/json")
    assert client.get("/orders", params={"list": "processed", "to": "2026-12-06"}).is_success


# --- 33: who booked a payment ----------------------------------------------------------


def test_a_payment_booked_by_a_person_is_recorded_in_their_name(console_db: Database) -> None:
    intake.receive_order(console_db, submission("NET-1"), run_id="test-run")
    by_hand = IncomingPayment(payment_id="BANK-7", amount=Decimal("20.00"), actor="olivia")
    by_feed = IncomingPayment(payment_id="BANK-8", amount=Decimal("1.00"))
    money.record_incoming_payment(console_db, PaymentBooking(order_id="NET-1", payment=by_hand))
    money.record_incoming_payment(console_db, PaymentBooking(order_id="NET-1", payment=by_feed))
    with console_db.reading() as session:
        booked = session.execute(
            select(OrderEventRow.actor, OrderEventRow.detail)
            .where(OrderEventRow.kind == EventKind.PAYMENT_RECEIVED.value)
            .order_by(OrderEventRow.id)
        ).all()
    assert [(actor, "BANK-7" in detail) for actor, detail in booked] == [
        ("olivia", True),
        ("system", False),
    ]


WORKFLOW_FORMS: dict[str, dict[str, str]] = {
    "/orders/WEB-5/approve": {"reason": "customer called"},
    "/orders/WEB-5/cancel": {"reason": "customer called"},
    "/orders/WEB-5/extend": {"new_deadline": "2030-01-02T09:00", "reason": "holiday"},
    "/orders/WEB-5/pay": {"amount": "20.00", "bank_ref": "BANK-7"},
    "/orders/WEB-5/supply/1/receive": {"quantity": "4", "note": "DN-77"},
    "/orders/WEB-5/parcels/WEB-5-S1/resolve": {"resolution": "reship", "reason": "lost"},
    "/stock/replenishment/1/receive": {"quantity": "4", "note": "DN-78"},
    "/stock/packing/WEB-5-S1": {"packages": "2"},
    "/customers/care/1/complete": {"outcome": "called back"},
    "/customers/campaigns/1/pause": {},
}


def test_every_console_action_on_a_workflow_is_sent_in_the_users_name(
    console_db: Database, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[tuple[str, Any]] = []

    async def perform(_client: object, target: Any, argument: Any, **_: object) -> str:
        sent.append((target.workflow_id, argument))
        return "done"

    monkeypatch.setattr(orders, "perform", perform)
    monkeypatch.setattr(web_stock, "perform", perform)
    # A client is needed only to be handed to perform, which is replaced.
    no_temporal: Any = object()
    app = create_app(Settings(database_url=database_url), console_db, temporal=no_temporal)
    with TestClient(app, follow_redirects=False) as client:
        log_in(client, "root.admin")
        token = form_token(client.get("/"))
        for path, form in WORKFLOW_FORMS.items():
            answer = client.post(path, data={"csrf_token": token, **form})
            assert answer.status_code == 303, (path, answer.text)
    assert len(sent) == len(WORKFLOW_FORMS)
    for workflow_id, argument in sent:
        actor = getattr(argument, "actor", None) or argument.decision.actor
        assert actor == "root.admin", (workflow_id, argument)


# --- 34: no inline styles (the console's own policy refuses them) ---------------------


def test_no_template_has_an_inline_style_and_line_breaks_come_from_the_style_sheet() -> None:
    offending = {
        template.name
        for template in (WEB / "templates").glob("*.html")
        if re.search(r"\sstyle\s*=|<style", template.read_text(encoding="utf-8"), re.I)
    }
    assert offending == set()
    assert "style-src" not in SECURITY_HEADERS["Content-Security-Policy"]  # 'self' only
    sheet = (WEB / "static" / "oms.css").read_text(encoding="utf-8")
    assert re.search(r"\.as-written\s*\{\s*white-space:\s*pre-wrap;", sheet)
    complaint = (WEB / "templates" / "complaint.html").read_text(encoding="utf-8")
    assert '<p class="as-written">{{ complaint.description }}</p>' in complaint


# --- 35: a cross-site form leaves the session alone ------------------------------------


def test_a_cross_site_post_is_refused_without_touching_the_session_cookie(
    client: TestClient,
) -> None:
    log_in(client, "olivia")
    session = client.cookies[SESSION_COOKIE]
    # Another site's form: the browser sends no SameSite=Lax cookie with a cross-site POST.
    client.cookies.clear()
    forged = client.post(
        "/orders/WEB-5/approve",
        data={"reason": "approve it", "action_id": "x1"},
        headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
    )
    assert forged.status_code == 403
    assert "set-cookie" not in forged.headers
    assert "without a valid session" in forged.text
    assert "sent from another site" in forged.text
    # The session is still good, and a page without a session does not end it either.
    client.cookies.set(SESSION_COOKIE, session)
    assert client.get("/orders").status_code == 200
    client.cookies.clear()
    redirected = client.get("/orders")
    assert redirected.status_code == 303
    assert "set-cookie" not in redirected.headers
    client.cookies.set(SESSION_COOKIE, session)
    assert client.get("/").status_code == 200


# --- issue 25, 1: a payment booked by hand is money as people write it, and no more than owed


NOT_AN_AMOUNT = ("1e9", "1E+9", "0x10", "  ", "NaN", "-5", "99.505", "1,000.00")


def test_the_payment_form_books_only_an_amount_written_as_people_write_money(
    console_db: Database, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``amount=1e9`` was read as a thousand million and booked against a 99.50 invoice."""
    sent: list[Any] = []

    async def perform(_client: object, _target: object, argument: Any, **_: object) -> str:
        sent.append(argument)
        return "done"

    monkeypatch.setattr(orders, "perform", perform)
    no_temporal: Any = object()
    app = create_app(Settings(database_url=database_url), console_db, temporal=no_temporal)
    with TestClient(app, follow_redirects=False) as client:
        log_in(client, "olivia")
        token = form_token(client.get("/"))
        for wrong in NOT_AN_AMOUNT:
            form = {"csrf_token": token, "amount": wrong, "bank_ref": "HX-E"}
            answer = client.post("/orders/WEB-5/pay", data=form)
            assert answer.status_code == 422, wrong
            assert "Amount:" in html.unescape(answer.text), wrong
        assert sent == []
        form = {"csrf_token": token, "amount": " 99.50 ", "bank_ref": "HX-E"}
        assert client.post("/orders/WEB-5/pay", data=form).status_code == 303
    assert [(payment.amount, payment.actor) for payment in sent] == [(Decimal("99.50"), "olivia")]


def test_a_chinese_reader_is_told_what_is_wrong_with_a_form_or_link_in_chinese(
    console_db: Database, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each field by its label, each problem in words, no English sentence and no code
    (the API answers the same mistakes in English: tests/test_api.py)."""

    async def perform(_client: object, _target: object, _argument: Any, **_: object) -> str:
        raise AssertionError("nothing is sent")

    monkeypatch.setattr(orders, "perform", perform)
    accounts.create_user(
        console_db,
        "mei.lin",
        PASSWORD,
        Role.ORDER_PROCESSING,
        Locale.TRADITIONAL_CHINESE,
        actor="test",
    )
    no_temporal: Any = object()
    app = create_app(Settings(database_url=database_url), console_db, temporal=no_temporal)
    with TestClient(app, follow_redirects=False) as client:
        log_in(client, "mei.lin")
        token = form_token(client.get("/"))
        said = {
            ("/orders/WEB-5/pay", "1e9"): "金額：請以數字填寫金額，最多兩位小數",  # noqa: RUF001
            ("/orders/WEB-5/pay", "-5"): "金額：必須大於 0",  # noqa: RUF001
        }
        for (path, amount), words in said.items():
            page = html.unescape(
                client.post(
                    path, data={"csrf_token": token, "amount": amount, "bank_ref": "B"}
                ).text
            )
            assert words in page, page
            assert "Value error" not in page
            assert "amount:" not in page
        extend = {
            "csrf_token": token,
            "new_deadline": "2030-01-02T09:00",
            "reason": "holiday\x07",
        }
        page = html.unescape(client.post("/orders/WEB-5/extend", data=extend).text)
        assert "原因：含有控制字元 U+0007，無法儲存" in page  # noqa: RUF001
        page = html.unescape(client.get("/orders?from=2026-13-45").text)
        assert "沒有這一天（2026-13-45）；請以 YYYY-MM-DD 填寫" in page  # noqa: RUF001
        page = html.unescape(client.get("/orders?status=LOST").text)
        assert "必須是下列其中之一：" in page  # noqa: RUF001
        assert "Input should" not in page
        key = api_keys.create_api_key(console_db, "reader", SystemRole.READER, actor="root").key
        api = client.get(
            "/api/v1/orders?from=2026-13-45", headers={"Authorization": f"Bearer {key}"}
        )
        assert api.status_code == 422
        assert "there is no such day (2026-13-45)" in api.json()["errors"][0]["detail"]


@pytest.mark.parametrize("wrong", ["1e9", "1E+9", "0x10", "NaN", "-5"])
def test_oms_pay_refuses_an_amount_not_written_as_money(wrong: str) -> None:
    """``oms pay`` read its amount as Python's Decimal does (``1e9``); it names the field."""
    answer = oms("pay", "--bank-ref", "HX-E", "--as", "olivia", "--", "WEB-5", wrong)
    assert answer.returncode == 1
    assert "payment: amount:" in answer.stderr + answer.stdout


async def test_a_payment_booked_by_hand_for_more_than_is_owed_is_refused(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    """The console and ``oms pay`` send their payment through :func:`ops.staff.perform`:
    the order refuses more than its open balance, naming it; the bank's feed is recorded."""
    partners = FakePartners(terms=PaymentTerms.NET)
    worker, queue = order_worker(time_skipping_env.client, partners.activities())
    async with worker:
        handle = await start(time_skipping_env.client, queue, unique_order())
        view = await wait_for_status(handle, OrderStatus.DELIVERED)
        assert view.money.total == Decimal("59.70")
        action = StaffAction(handle.id, PAYMENT_RECEIVED_SIGNAL, f"order {view.order_id}")

        def by_hand(bank_ref: str, amount: str) -> IncomingPayment:
            return IncomingPayment(payment_id=bank_ref, amount=Decimal(amount), actor="olivia")

        client = time_skipping_env.client
        with pytest.raises(StaffActionError, match=r"open balance of 59\.70 EUR"):
            await perform(client, action, by_hand("HX-E", "1000000000"))
        await perform(client, action, by_hand("BANK-1", "20.00"))
        with pytest.raises(StaffActionError, match=r"open balance of 39\.70 EUR"):
            await perform(client, action, by_hand("BANK-2", "39.71"))
        with pytest.raises(StaffActionError, match="payment BANK-1 was booked already"):
            await perform(client, action, by_hand("BANK-1", "20.00"))
        # Money that arrived is recorded whatever its amount.
        await handle.signal(PAYMENT_RECEIVED_SIGNAL, IncomingPayment(payment_id="B-3", amount=100))
        result = await handle.result()
    assert result.status is OrderStatus.COMPLETED
    assert partners.calls.count(RECORD_PAYMENT) == 2


# --- issue 25, 11: a customer ordering several times a day is not "every 0 days" --------


def test_a_care_task_of_a_customer_ordering_hourly_counts_whole_days(console_db: Database) -> None:
    """The demo's customer H1-C00001 ordered minutes apart: "usually orders every 0 days",
    and a task came up minutes after their last order. An interval is counted in whole days,
    at least one: hours after the last order nothing is overdue; days after, it is."""
    for number in range(4):
        at = NOW_FOR_CARE - timedelta(hours=8 - number)
        care_order(console_db, f"HOURLY-{number}", "CUST-BOLT", at)
    request = CareReviewRequest(at=NOW_FOR_CARE, at_risk=[])
    assert create_care_tasks(console_db, request, CareRules()) == []
    later = CareReviewRequest(at=NOW_FOR_CARE + timedelta(days=3), at_risk=[])
    [made] = create_care_tasks(console_db, later, CareRules())
    assert made.kind is CareKind.OVERDUE
    assert made.reason == "usually orders every day; last order 3 days ago"
