"""Issue 25, the business database tried from outside: a busy database (item 3) is a 503
for the API and the console and "try again" for ``oms``; an id beyond the database's
integers (item 4) is "no such ...", never a traceback or a 500; ``oms`` run where no
business database is (item 5) refuses instead of creating an empty one."""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from domain.access import Role, SystemRole
from persistence import database as database_module
from persistence.database import Database
from persistence.models import StockMovement
from persistence.transactions import accounts, api_keys
from persistence.unavailable import Unavailable, unavailable
from runtime.settings import Settings
from tests.commands import oms, one_line_error
from web.app import create_app
from web.problems import PROBLEM_JSON
from web.security import LOGIN_CSRF_COOKIE

PASSWORD = "correct horse battery"
RECEIPT = {
    "operation": "receipt",
    "sku": "WIDGET-1",
    "warehouse_id": "WH-BER",
    "quantity": 3,
    "reason": "supplier_delivery",
}


@contextmanager
def write_lock_held(database_url: str) -> Iterator[None]:
    """Another connection holds the SQLite write lock (``BEGIN IMMEDIATE``) meanwhile."""
    path = make_url(database_url).database
    assert path
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@pytest.fixture
def short_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """Connections opened from now on wait 0.2 s for the lock, not 30 s."""
    monkeypatch.setitem(database_module.SQLITE_PRAGMAS, "busy_timeout", "200")


def movements(db: Database) -> int:
    with db.transaction() as session:
        return session.scalar(select(func.count()).select_from(StockMovement)) or 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_busy_database_is_a_503_problem_for_the_api_and_a_503_page_for_people(
    db: Database, database_url: str, short_wait: None
) -> None:
    key = api_keys.create_api_key(db, "outside-busy", SystemRole.WAREHOUSE, actor="test").key
    before = movements(db)
    waiting = Database(database_url)
    app = create_app(Settings(database_url=database_url), waiting)
    try:
        with (
            TestClient(app, raise_server_exceptions=False, follow_redirects=False) as client,
            write_lock_held(database_url),
        ):
            answer = client.post(
                "/api/v1/stock/operations",
                json=RECEIPT,
                headers={"Authorization": f"Bearer {key}"},
            )
            client.cookies.set(LOGIN_CSRF_COOKIE, "token", path="/login")
            page = client.post(
                "/login", data={"username": "x", "password": "y", "csrf_token": "token"}
            )
    finally:
        waiting.dispose()
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"] == PROBLEM_JSON
    assert int(answer.headers["retry-after"]) > 0
    body = answer.json()
    assert body["status"] == 503
    assert body["type"] == "about:blank"
    assert "busy" in body["detail"]
    assert movements(db) == before  # nothing half-written
    assert page.status_code == 503, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert "busy" in page.text


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_oms_says_a_busy_database_is_busy_not_to_upgrade_it(
    db: Database, database_url: str, short_wait: None
) -> None:
    environment = {**os.environ, "OMS_DATABASE_URL": database_url}
    before = movements(db)
    with write_lock_held(database_url):
        finished = oms(
            "stock", "receive", "WIDGET-1", "WH-BER", "3", "--as", "kai", environment=environment
        )
    error = one_line_error(finished)
    assert "is busy (database is locked): try again" in error
    assert "db upgrade" not in error
    assert movements(db) == before


def test_a_postgresql_server_that_refuses_connections_is_not_reachable() -> None:
    refused = Database("postgresql://postgres@127.0.0.1:1/test")
    try:
        with pytest.raises(DBAPIError) as raised, refused.transaction() as session:
            session.execute(select(1))
    finally:
        refused.dispose()
    assert unavailable(raised.value) is Unavailable.NOT_REACHABLE


def test_oms_says_a_postgresql_server_is_not_reachable(tmp_path: Path) -> None:
    url = "postgresql://postgres@127.0.0.1:1/test"
    finished = oms("stock", "transfers", environment={**os.environ, "OMS_DATABASE_URL": url})
    error = one_line_error(finished)
    assert "is not reachable" in error
    assert "try again" in error
    assert "db upgrade" not in error


BEYOND = [str(2**31), str(2**63), "9" * 20]
"""Ids beyond PostgreSQL's INTEGER, beyond SQLite's (its driver cannot even pass them)."""


def integer_path_routes(app: Any, number: str) -> list[tuple[str, str]]:
    """Every route with an integer path parameter, as (method, path with ``number`` in each)."""
    found: list[tuple[str, str]] = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute):
            continue
        params = route.dependant.path_params
        numbers = {param.name for param in params if param.field_info.annotation is int}
        if not numbers:
            continue
        path = context.path_format or ""
        for name in re.findall(r"{(\w+)}", path):
            path = path.replace(f"{{{name}}}", number if name in numbers else "x")
        found.extend((method, path) for method in sorted(context.methods or ()))
    return found


@pytest.mark.parametrize("number", BEYOND)
def test_an_id_beyond_the_databases_integers_is_never_a_server_error(
    db: Database, database_url: str, number: str
) -> None:
    accounts.create_user(db, "root.admin", PASSWORD, Role.ADMIN, actor="test")
    keys = {
        role: api_keys.create_api_key(db, f"outside-{role.value}", role, actor="test").key
        for role in SystemRole
    }
    app = create_app(Settings(database_url=database_url), db)
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as client:
        login = client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', login.text)
        assert token
        fields = {"username": "root.admin", "password": PASSWORD, "csrf_token": token.group(1)}
        assert client.post("/login", data=fields).status_code == 303
        home = client.get("/account")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', home.text)
        assert csrf
        routes = integer_path_routes(app, number)
        assert len(routes) >= 10
        answers = {}
        for method, path in routes:
            for key in keys.values() if path.startswith("/api/") else [None]:
                answer = client.request(
                    method,
                    path,
                    data=None if path.startswith("/api/") else {"csrf_token": csrf.group(1)},
                    json={} if path.startswith("/api/") and method == "POST" else None,
                    headers={"Authorization": f"Bearer {key}"} if key else {},
                )
                if answer.status_code != 403:
                    answers[f"{method} {path}"] = answer.status_code
    assert answers
    assert {where: status for where, status in answers.items() if status >= 500} == {}


@pytest.mark.parametrize(
    ("command", "record"),
    [
        (["complaints", "show", "{id}"], "complaint"),
        (["complaints", "open", "{id}"], "complaint"),
        (["stock", "receive-transfer", "{id}"], "transfer"),
        (["stocktake", "show", "{id}"], "stock count"),
        (["stocktake", "cancel", "{id}"], "stock count"),
        (["stocktake", "count", "{id}", "WIDGET-1=1"], "stock count"),
        (["replenishment", "approve", "{id}"], "proposal"),
    ],
)
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_oms_says_no_such_record_for_an_id_beyond_the_databases_integers(
    db: Database, database_url: str, command: list[str], record: str
) -> None:
    environment = {**os.environ, "OMS_DATABASE_URL": database_url}
    for number in BEYOND:
        finished = oms(*(part.format(id=number) for part in command), environment=environment)
        said = " ".join(finished.stderr.split())
        assert finished.returncode == 2, finished.stdout + finished.stderr
        assert "Traceback" not in said
        assert f"no such {record}: #{number}" in said


def test_oms_run_from_another_folder_refuses_instead_of_creating_an_empty_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in {"OMS_DATABASE_URL", "OMS_DATA_DIR", "OMS_KEY_RING", "OMS_KEY_RING_FILE"}
    }
    for command in (
        ["catalogue", "export", "products", "p.csv"],
        ["customers", "export", "c.csv"],
        ["stock", "transfers"],
        ["stocktake", "show", "1"],
    ):
        finished = oms(*command, environment=environment)
        error = one_line_error(finished)
        assert "does not exist" in error
        assert str((tmp_path / ".oms").resolve()) in error
        assert "oms db upgrade" in error
        assert "OMS_DATABASE_URL" in error
    assert not (tmp_path / "p.csv").exists()
    assert not (tmp_path / ".oms" / "oms.db").exists()
    assert not (tmp_path / ".oms" / "keyring").exists()


def test_oms_refuses_a_database_that_was_never_migrated(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    sqlite3.connect(tmp_path / "empty.db").close()
    finished = oms("stock", "transfers", environment={**os.environ, "OMS_DATABASE_URL": url})
    error = one_line_error(finished)
    assert f"the business database {url} is not migrated" in error
    assert "run `oms db upgrade`" in error


def test_oms_db_upgrade_still_creates_the_database_where_it_is_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in {"OMS_DATABASE_URL", "OMS_DATA_DIR"}
    }
    upgraded = oms("db", "upgrade", environment=environment)
    assert upgraded.returncode == 0, upgraded.stderr
    assert (tmp_path / ".oms" / "oms.db").exists()
    listed = oms("stock", "transfers", environment=environment)
    assert listed.returncode == 0, listed.stderr


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_busy_postgresql_database_is_a_503_problem_and_nothing_is_written(
    db: Database, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database_module, "POSTGRES_LOCK_TIMEOUT", "200ms")
    key = api_keys.create_api_key(db, "outside-busy", SystemRole.WAREHOUSE, actor="test").key
    before = movements(db)
    waiting = Database(database_url)
    holder = Database(database_url)
    app = create_app(Settings(database_url=database_url), waiting)
    try:
        with (
            TestClient(app, raise_server_exceptions=False, follow_redirects=False) as client,
            holder.transaction() as session,
        ):
            session.execute(text("LOCK TABLE stock_levels IN ACCESS EXCLUSIVE MODE"))
            answer = client.post(
                "/api/v1/stock/operations",
                json=RECEIPT,
                headers={"Authorization": f"Bearer {key}"},
            )
    finally:
        waiting.dispose()
        holder.dispose()
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"] == PROBLEM_JSON
    assert "busy" in answer.json()["detail"]
    assert movements(db) == before
