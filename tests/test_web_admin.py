"""Admins manage users in the console; nobody else may, whatever the page shows."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from domain.access import Role
from persistence.database import Database
from persistence.models import SecurityEvent
from persistence.transactions import accounts, api_keys
from runtime.settings import Settings
from web.app import create_app

PASSWORD = "correct horse battery"


@pytest.fixture
def client(db: Database, database_url: str) -> Iterator[TestClient]:
    accounts.create_user(db, "root.admin", PASSWORD, Role.ADMIN, actor="test")
    accounts.create_user(db, "olivia", PASSWORD, Role.ORDER_PROCESSING, actor="test")
    with TestClient(
        create_app(Settings(database_url=database_url), db), follow_redirects=False
    ) as test_client:
        yield test_client


def log_in(client: TestClient, username: str) -> str:
    """Log in; the session's form token."""
    page = client.get("/login")
    login = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert login
    client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": login.group(1)}
    )
    session = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text)
    assert session
    return session.group(1)


def test_an_admin_creates_unlocks_disables_and_resets_users(
    client: TestClient, db: Database
) -> None:
    token = log_in(client, "root.admin")
    assert "olivia" in client.get("/admin/users").text
    created = client.post(
        "/admin/users",
        data={
            "csrf_token": token,
            "username": "kai.wu",
            "role": "warehouse",
            "locale": "zh_Hant",
            "password": "a warehouse password",
        },
    )
    assert created.status_code == 303
    [kai] = [u for u in accounts.list_users(db) if u.username == "kai.wu"]
    assert (kai.role, kai.locale.value) == (Role.WAREHOUSE, "zh_Hant")

    weak = client.post(
        "/admin/users",
        data={"csrf_token": token, "username": "weak", "role": "analyst", "password": "short"},
    )
    assert weak.status_code == 422
    assert "at least 12 characters" in weak.text

    for _ in range(5):
        accounts.authenticate(db, "olivia", "guess", "192.0.2.1")
    assert "olivia" in [u.username for u in accounts.list_users(db) if u.locked_until]
    client.post("/admin/users/olivia/unlock", data={"csrf_token": token})
    assert accounts.authenticate(db, "olivia", PASSWORD, "192.0.2.1").account is not None

    client.post("/admin/users/olivia/disable", data={"csrf_token": token})
    assert accounts.authenticate(db, "olivia", PASSWORD, "192.0.2.1").account is None
    client.post("/admin/users/olivia/enable", data={"csrf_token": token})
    client.post(
        "/admin/users/olivia/password", data={"csrf_token": token, "password": "olive tree 2026!"}
    )
    assert accounts.authenticate(db, "olivia", "olive tree 2026!", "192.0.2.1").account
    with db.reading() as session:
        about_others = select(SecurityEvent.kind).where(
            SecurityEvent.actor == "root.admin", SecurityEvent.username != "root.admin"
        )
        by_admin = set(session.scalars(about_others))
    assert by_admin == {
        "user_created",
        "unlocked",
        "user_disabled",
        "user_enabled",
        "password_changed",
    }


def test_only_admins_may_manage_users(client: TestClient, db: Database) -> None:
    token = log_in(client, "olivia")
    assert client.get("/admin/users").status_code == 403
    refused = client.post(
        "/admin/users",
        data={"csrf_token": token, "username": "mallory", "role": "admin", "password": PASSWORD},
    )
    assert refused.status_code == 403
    assert "mallory" not in [user.username for user in accounts.list_users(db)]
    assert "/admin/users" not in client.get("/").text  # nor is the way there shown


def test_a_user_form_without_the_session_token_is_refused(client: TestClient, db: Database) -> None:
    log_in(client, "root.admin")
    refused = client.post("/admin/users/olivia/disable", data={"csrf_token": "stale"})
    assert refused.status_code == 403
    assert all(user.active for user in accounts.list_users(db))


def test_an_admin_makes_a_key_shown_once_that_opens_the_api_until_revoked(
    client: TestClient, db: Database
) -> None:
    token = log_in(client, "root.admin")
    made = client.post(
        "/admin/api-keys", data={"csrf_token": token, "name": "edi-gateway", "role": "intake"}
    )
    assert made.status_code == 200
    assert made.headers["cache-control"] == "no-store"
    secret = re.search(r'<code class="secret">(oms_[\w-]+)</code>', made.text)
    assert secret
    listed = client.get("/admin/api-keys").text
    assert "edi-gateway" in listed
    assert secret.group(1) not in listed  # shown once, never again
    assert f"{secret.group(1)[:12]}…" in listed

    bearer = {"Authorization": f"Bearer {secret.group(1)}"}
    assert client.get("/api/v1/orders", headers=bearer).status_code == 200
    twice = client.post(
        "/admin/api-keys", data={"csrf_token": token, "name": "edi-gateway", "role": "reader"}
    )
    assert twice.status_code == 422
    assert "edi-gateway" in twice.text
    revoked = client.post("/admin/api-keys/edi-gateway/revoke", data={"csrf_token": token})
    assert revoked.status_code == 303
    assert client.get("/api/v1/orders", headers=bearer).status_code == 401


def test_only_admins_may_manage_api_keys(client: TestClient, db: Database) -> None:
    token = log_in(client, "olivia")
    assert client.get("/admin/api-keys").status_code == 403
    refused = client.post(
        "/admin/api-keys", data={"csrf_token": token, "name": "sneaky", "role": "intake"}
    )
    assert refused.status_code == 403
    assert api_keys.list_api_keys(db) == []
