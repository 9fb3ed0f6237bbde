"""The console as people meet it all day: no permission codes, refusals in the reader's
words and language, and no link that would answer 'not allowed'."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from html import unescape

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute, Match

from domain.access import PERMISSIONS, Locale, Permission, Role
from persistence.database import Database
from persistence.transactions import accounts, intake
from runtime.settings import Settings
from tests.factories import submission
from web.app import create_app

PASSWORD = "correct horse battery"


@pytest.fixture
def client(db: Database, database_url: str) -> Iterator[TestClient]:
    """The console with two orders and one user of each role (the analyst reads Chinese)."""
    intake.receive_order(db, submission("WEB-1"), run_id="test-run")
    intake.receive_order(db, submission("WEB-2"), run_id="test-run")
    for role in Role:
        locale = Locale.TRADITIONAL_CHINESE if role is Role.ANALYST else Locale.ENGLISH
        accounts.create_user(db, f"{role.value}.user", PASSWORD, role, locale, actor="test")
    settings = Settings(database_url=database_url)
    with TestClient(create_app(settings, db), follow_redirects=False) as test_client:
        yield test_client


def log_in(client: TestClient, role: Role) -> None:
    client.cookies.clear()
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    answer = client.post(
        "/login",
        data={"username": f"{role.value}.user", "password": PASSWORD, "csrf_token": token.group(1)},
    )
    assert answer.status_code == 303


@pytest.mark.parametrize("role", list(Role))
def test_the_start_page_says_in_words_what_the_role_may_do(client: TestClient, role: Role) -> None:
    log_in(client, role)
    page = client.get("/").text
    codes = [permission.value for permission in Permission if permission.value in page]
    assert codes == []
    assert "<code>" not in page
    if role is Role.ANALYST:
        assert "查看訂單清單與明細" in page  # "See order lists and details", in Chinese
        assert "See order lists and details" not in page


def test_a_refusal_names_the_role_in_the_readers_words_and_language(client: TestClient) -> None:
    log_in(client, Role.ANALYST)
    refused = client.get("/stock/operations")
    assert refused.status_code == 403
    text = unescape(refused.text)
    assert "數據分析" in text  # the analyst's role, in Chinese
    assert "analyst" not in text.replace("analyst.user", "")
    assert "may not do this" not in text
    assert "stock.operate" not in text
    log_in(client, Role.WAREHOUSE)
    english = unescape(client.get("/admin/users").text)
    assert "Your role, Warehouse, may not do this (it needs: Manage users)." in english


def links(page: str) -> list[str]:
    """The same-site pages a page links to (not its static files)."""
    found = re.findall(r'href="(/[^"#]*)', page)
    return [unescape(link) for link in found if not link.startswith(("/static/", "//"))]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("role", list(Role))
def test_no_link_a_role_meets_answers_not_allowed(client: TestClient, role: Role) -> None:
    log_in(client, role)
    seen: dict[str, int] = {}
    refused: list[tuple[str, str]] = []
    queue = [("/", "")]
    while queue and len(seen) < 150:
        path, came_from = queue.pop(0)
        if path in seen:
            continue
        answer = client.get(path)
        seen[path] = answer.status_code
        if answer.status_code == 403:
            refused.append((path, came_from))
        kind = answer.headers.get("content-type", "")
        if answer.status_code == 200 and kind.startswith("text/html"):
            queue += [(link, path) for link in links(answer.text) if link not in seen]
    assert refused == []
    assert len(seen) > 3


def visible_text(page: str) -> str:
    """What a reader sees of a page: its text, without tags, attributes and form values."""
    page = re.sub(r"<(script|style|select)\b.*?</\1>", " ", page, flags=re.S)
    return unescape(re.sub(r"<[^>]+>", " ", page))


ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")

PAGES = [
    "/",
    "/orders",
    "/orders?list=new",
    "/orders/WEB-1",
    "/account",
    "/admin/users",
    "/admin/api-keys",
    "/stock/catalogue",
    "/customers",
    "/customers/campaigns",
    "/complaints/analysis",
]
"""The pages whose times and codes this file looks after (others look after the stock,
replenishment, credit, complaint and care pages)."""


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_times_and_days_are_written_as_the_reader_writes_them(client: TestClient) -> None:
    log_in(client, Role.ADMIN)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text)
    assert token
    made = client.post(
        "/admin/api-keys",
        data={"name": "edi-gateway", "role": "intake", "csrf_token": token.group(1)},
    )
    assert made.status_code == 200  # its "made" time is on the page
    for path in PAGES:
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert ISO_DAY.findall(visible_text(answer.text)) == [], path
    log_in(client, Role.ANALYST)
    analysis = visible_text(client.get("/complaints/analysis").text)
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日", analysis)  # the week, as Chinese writes a day


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_channels_and_languages_are_shown_in_words(client: TestClient, db: Database) -> None:
    log_in(client, Role.ANALYST)
    orders = client.get("/orders").text
    assert "<td>網路商店</td>" in orders  # "web shop"
    assert "<td>web</td>" not in orders
    assert ">傳真</option>" in orders  # the channel filter
    log_in(client, Role.ADMIN)
    users = client.get("/admin/users").text
    assert "<td>繁體中文</td>" in users
    assert "<td>zh_Hant</td>" not in users
    assert "<td>en</td>" not in users
    accounts.set_locale(db, "order_processing.user", Locale.TRADITIONAL_CHINESE)
    log_in(client, Role.ORDER_PROCESSING)
    entry = client.get("/orders/new").text
    assert re.search(r'<option value="fax"[^>]*>傳真</option>', entry)


def api_routes(routes: Sequence[BaseRoute]) -> Iterator[APIRoute]:
    """Every route of the application in the order it tries them (included routers too)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from api_routes(included.routes)


def permissions_needed(app: FastAPI, path: str, method: str) -> set[Permission]:
    """The permissions the route answering ``method path`` asks for (through ``requires``)."""
    scope = {"type": "http", "path": path, "method": method, "root_path": ""}
    for route in api_routes(app.routes):
        if route.matches(scope)[0] is Match.FULL:
            needed: set[Permission] = set()
            pending = list(route.dependant.dependencies)
            while pending:
                dependency = pending.pop()
                pending += dependency.dependencies
                cells = getattr(dependency.call, "__closure__", None) or ()
                needed |= {
                    c.cell_contents for c in cells if isinstance(c.cell_contents, Permission)
                }
            return needed
    raise AssertionError(f"no route answers {method} {path}")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("role", list(Role))
def test_no_form_a_role_meets_asks_for_a_permission_it_lacks(
    client: TestClient, role: Role
) -> None:
    log_in(client, role)
    app = client.app
    assert isinstance(app, FastAPI)
    assert permissions_needed(app, "/orders/WEB-1/approve", "POST") == {Permission.ACT_ON_ORDERS}
    seen: set[str] = set()
    refused: list[tuple[str, str, Permission]] = []
    queue = ["/"]
    while queue and len(seen) < 80:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        answer = client.get(path)
        if answer.status_code != 200 or not answer.headers["content-type"].startswith("text/"):
            continue
        queue += [link for link in links(answer.text) if link not in seen]
        for action in re.findall(r'<form method="post" action="([^"]+)"', answer.text):
            target = unescape(action).split("?")[0]
            for needed in permissions_needed(app, target, "POST"):
                if needed not in PERMISSIONS[role]:
                    refused.append((path, target, needed))
    assert refused == []
