"""The console's door: login, locks, sessions, CSRF, logout, password and language, on both
databases, through the real application (FastAPI's test client)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import httpx2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from domain.access import LOCK_AFTER_FAILURES, Locale, Role
from persistence.database import Database
from persistence.models import SecurityEvent, StaffSession
from persistence.transactions import accounts
from persistence.transactions.records import utcnow
from runtime.settings import Settings
from web.app import SECURITY_HEADERS, create_app
from web.security import SESSION_COOKIE

PASSWORD = "correct horse battery"


@pytest.fixture
def client(db: Database, database_url: str) -> Iterator[TestClient]:
    """The application on the test database, with one user of each kind it needs."""
    accounts.create_user(db, "olivia", PASSWORD, Role.ORDER_PROCESSING, actor="test")
    accounts.create_user(
        db, "wen.li", PASSWORD, Role.ANALYST, Locale.TRADITIONAL_CHINESE, actor="test"
    )
    settings = Settings(database_url=database_url, session_idle_minutes=30)
    with TestClient(create_app(settings, db), follow_redirects=False) as test_client:
        yield test_client


def form_token(page: httpx2.Response) -> str:
    """The CSRF token a page's form carries."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def refusal_text(page: httpx2.Response) -> str:
    """What a refused login's page says, without the form's one-time token."""
    return re.sub(r'name="csrf_token" value="[^"]+"', "", page.text)


def log_in(
    client: TestClient, username: str = "olivia", password: str = PASSWORD
) -> httpx2.Response:
    """Fill in and send the login form as a browser would."""
    page = client.get("/login")
    fields = {"username": username, "password": password, "csrf_token": form_token(page)}
    answer: httpx2.Response = client.post("/login", data={**fields, "next": "/"})
    return answer


def test_pages_need_a_login_and_say_where_to_go(client: TestClient) -> None:
    answer = client.get("/account")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=/account"
    login = client.get("/login")
    assert login.status_code == 200
    for header, value in SECURITY_HEADERS.items():
        assert login.headers[header] == value
    assert '<form method="post" action="/login">' in login.text


def test_a_login_opens_a_server_side_session_with_a_safe_cookie(
    client: TestClient, db: Database
) -> None:
    answer = log_in(client)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain HTTP here; over TLS it is Secure
    home = client.get("/")
    assert home.status_code == 200
    assert "Welcome, olivia" in home.text
    assert "Order processing" in home.text
    with db.reading() as session:
        assert session.scalar(select(StaffSession.address)) == "testclient"
        kinds = list(session.scalars(select(SecurityEvent.kind).order_by(SecurityEvent.id)))
    assert kinds[-1] == "login"


def test_a_wrong_password_is_refused_on_the_page_and_logged(client: TestClient) -> None:
    answer = log_in(client, password="not the password")
    assert answer.status_code == 401
    assert "Wrong user name or password." in answer.text
    assert SESSION_COOKIE not in client.cookies


def test_repeated_failures_lock_the_account_and_the_page_tells_no_one_it_exists(
    client: TestClient, db: Database
) -> None:
    for _ in range(LOCK_AFTER_FAILURES):
        answer = log_in(client, password="guess again")
    locked = log_in(client)  # the right password does not open it
    unknown = log_in(client, username="no.such.user", password="guess again")
    assert locked.status_code == unknown.status_code == 401
    assert "Wrong user name or password." in locked.text
    assert refusal_text(locked) == refusal_text(unknown) == refusal_text(answer)
    [olivia] = [a for a in accounts.list_users(db) if a.username == "olivia"]
    assert olivia.locked_until is not None  # an admin sees the lock on the users' list
    with db.reading() as session:
        kinds = list(
            session.scalars(select(SecurityEvent.kind).where(SecurityEvent.username == "olivia"))
        )
    assert "locked" in kinds


def test_a_login_form_without_its_token_is_refused(client: TestClient) -> None:
    client.get("/login")
    answer = client.post(
        "/login", data={"username": "olivia", "password": PASSWORD, "csrf_token": "forged"}
    )
    assert answer.status_code == 403
    assert SESSION_COOKIE not in client.cookies


def test_logout_needs_the_token_and_ends_the_session(client: TestClient, db: Database) -> None:
    log_in(client)
    token = client.cookies[SESSION_COOKIE]
    home = client.get("/")
    assert client.post("/logout", data={"csrf_token": "forged"}).status_code == 403
    assert client.get("/").status_code == 200  # still logged in
    answer = client.post("/logout", data={"csrf_token": form_token(home)})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login"
    assert accounts.session_of(db, token, timedelta(minutes=30)) is None
    client.cookies.set(SESSION_COOKIE, token)  # the old cookie opens nothing any more
    assert client.get("/").status_code == 303


def test_a_logout_without_a_session_ends_nothing_and_goes_to_the_login(
    client: TestClient, db: Database
) -> None:
    log_in(client)
    token = client.cookies[SESSION_COOKIE]
    client.cookies.clear()  # another site's form: the SameSite cookie is not sent
    answer = client.post("/logout", data={"csrf_token": "whatever"})
    assert answer.headers["location"] == "/login"
    assert "set-cookie" not in answer.headers
    assert accounts.session_of(db, token, timedelta(minutes=30)) is not None
    client.cookies.set(SESSION_COOKIE, token)
    with db.transaction() as session:  # the session ran out while the page was open
        session.execute(update(StaffSession).values(last_seen_at=utcnow() - timedelta(hours=1)))
    assert client.post("/logout", data={"csrf_token": "stale"}).headers["location"] == "/login"


def test_an_idle_session_sends_the_browser_back_to_the_login(
    client: TestClient, db: Database
) -> None:
    log_in(client)
    with db.transaction() as session:
        session.execute(update(StaffSession).values(last_seen_at=utcnow() - timedelta(hours=1)))
    assert client.get("/").headers["location"] == "/login?next=/"


def test_a_password_change_needs_the_current_one_and_ends_the_session(client: TestClient) -> None:
    log_in(client)
    page = client.get("/account")
    wrong = client.post(
        "/account/password",
        data={"csrf_token": form_token(page), "current": "nope", "new": "a brand new password"},
    )
    assert wrong.status_code == 422
    assert "the current password is not right" in wrong.text
    changed = client.post(
        "/account/password",
        data={"csrf_token": form_token(page), "current": PASSWORD, "new": "a brand new password"},
    )
    assert changed.headers["location"] == "/login"
    assert client.get("/").status_code == 303
    assert log_in(client, password="a brand new password").status_code == 303


def test_each_user_reads_the_console_in_their_language(client: TestClient) -> None:
    log_in(client, "wen.li")
    home = client.get("/")
    assert "歡迎，wen.li" in home.text  # noqa: RUF001 - Chinese writes its own comma
    assert "數據分析" in home.text  # the analyst role, in Chinese
    page = client.get("/account")
    client.post("/account/language", data={"csrf_token": form_token(page), "locale": "en"})
    assert "Welcome, wen.li" in client.get("/").text


def test_the_login_page_follows_the_browser_language(client: TestClient) -> None:
    chinese = client.get("/login", headers={"Accept-Language": "zh-TW,zh;q=0.9,en;q=0.5"})
    assert "登入" in chinese.text
    assert "Log in" in client.get("/login", headers={"Accept-Language": "de-DE"}).text


def test_a_login_never_redirects_off_the_site(client: TestClient) -> None:
    page = client.get("/login")
    answer = client.post(
        "/login",
        data={
            "username": "olivia",
            "password": PASSWORD,
            "csrf_token": form_token(page),
            "next": "//evil.example/steal",
        },
    )
    assert answer.headers["location"] == "/"


def test_a_chinese_reader_is_told_the_password_rules_in_chinese(client: TestClient) -> None:
    log_in(client, "wen.li")
    page = client.get("/account")
    wrong = client.post(
        "/account/password",
        data={"csrf_token": form_token(page), "current": "nope", "new": "a brand new password"},
    )
    assert wrong.status_code == 422
    assert "目前的密碼不正確" in wrong.text
    weak = client.post(
        "/account/password",
        data={"csrf_token": form_token(page), "current": PASSWORD, "new": " wen.li-secret "},
    )
    assert weak.status_code == 422
    assert "新密碼：開頭與結尾不可有空格；不可包含使用者名稱" in weak.text  # noqa: RUF001
    assert "must not" not in weak.text
