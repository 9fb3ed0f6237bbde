"""Staff accounts, logins, locks and sessions, on SQLite and PostgreSQL, and ``oms users``."""

from __future__ import annotations

import json
import os
import re
import stat
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from domain.access import (
    FIRST_LOCK_SECONDS,
    LOCK_AFTER_FAILURES,
    PERMISSIONS,
    Locale,
    LoginRefusal,
    Permission,
    Role,
    SecurityEventKind,
    allows,
    lock_seconds,
)
from persistence.database import Database
from persistence.models import SecurityEvent, StaffSession, StaffUser
from persistence.transactions import accounts
from persistence.transactions.accounts import AccountError
from persistence.transactions.records import utcnow
from tests.commands import oms, one_line_error

PASSWORD = "correct horse battery"
ADDRESS = "192.0.2.10"
IDLE = timedelta(minutes=30)


def events(db: Database, username: str) -> list[tuple[str, str, str]]:
    """The security log of ``username``: kind, actor and address, oldest first."""
    with db.reading() as session:
        rows = session.execute(
            select(SecurityEvent.kind, SecurityEvent.actor, SecurityEvent.address)
            .where(SecurityEvent.username == username)
            .order_by(SecurityEvent.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def new_user(
    db: Database, username: str = "maria.chen", role: Role = Role.ORDER_PROCESSING
) -> None:
    accounts.create_user(db, username, PASSWORD, role, Locale.TRADITIONAL_CHINESE, actor="root")


def test_the_matrix_gives_admins_everything_and_analysts_no_personal_data() -> None:
    assert PERMISSIONS[Role.ADMIN] == frozenset(Permission)
    assert not allows(Role.ANALYST, Permission.VIEW_PERSONAL_DATA)
    assert not allows(Role.CUSTOMER_SERVICE, Permission.ACT_ON_ORDERS)
    assert allows(Role.ORDER_PROCESSING, Permission.ACT_ON_ORDERS)
    assert set(PERMISSIONS) == set(Role)


def test_locks_grow_with_each_failure_after_the_first() -> None:
    assert lock_seconds(LOCK_AFTER_FAILURES - 1) == 0
    assert lock_seconds(LOCK_AFTER_FAILURES) == FIRST_LOCK_SECONDS
    assert lock_seconds(LOCK_AFTER_FAILURES + 2) == 4 * FIRST_LOCK_SECONDS
    assert lock_seconds(1000) == 24 * 3600


def test_a_user_is_stored_with_an_argon2id_hash_and_the_creation_is_audited(db: Database) -> None:
    new_user(db)
    with db.reading() as session:
        user = session.scalar(select(StaffUser).where(StaffUser.username == "maria.chen"))
        assert user is not None
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash
    [account] = accounts.list_users(db)
    assert (account.role, account.locale, account.active) == (
        Role.ORDER_PROCESSING,
        Locale.TRADITIONAL_CHINESE,
        True,
    )
    assert events(db, "maria.chen") == [("user_created", "root", "cli")]


@pytest.mark.parametrize(
    ("username", "password", "says"),
    [
        ("Maria", PASSWORD, "user name 'Maria': 2 to 64 characters, lower-case"),
        ("maria", "short", "password: at least 12 characters (it has 5)"),
        ("maria", " padded password ", "no spaces at the start or end"),
        ("maria", "maria-is-my-password", "must not contain the user name"),
    ],
)
def test_bad_accounts_are_refused_naming_what_is_wrong(
    db: Database, username: str, password: str, says: str
) -> None:
    with pytest.raises(AccountError, match=re.escape(says)):
        accounts.create_user(db, username, password, Role.ANALYST, actor="root")
    assert accounts.list_users(db) == []


def test_a_user_name_is_taken_once(db: Database) -> None:
    new_user(db)
    with pytest.raises(AccountError, match=re.escape("user 'maria.chen' exists already")):
        new_user(db)


def test_a_login_succeeds_with_the_password_and_is_audited_with_its_address(
    db: Database,
) -> None:
    new_user(db)
    result = accounts.authenticate(db, "maria.chen", PASSWORD, ADDRESS)
    assert result.account is not None
    assert result.account.username == "maria.chen"
    assert events(db, "maria.chen")[-1] == ("login", "maria.chen", ADDRESS)


def test_a_wrong_password_and_an_unknown_name_are_refused_alike(db: Database) -> None:
    new_user(db)
    wrong = accounts.authenticate(db, "maria.chen", "not the password", ADDRESS)
    unknown = accounts.authenticate(db, "nobody", PASSWORD, ADDRESS)
    assert wrong.refusal is unknown.refusal is LoginRefusal.WRONG_CREDENTIALS
    assert wrong.account is unknown.account is None
    [account] = accounts.list_users(db)
    assert account.failed_logins == 1
    assert events(db, "maria.chen")[-1] == ("login_failed", "maria.chen", ADDRESS)
    assert events(db, "nobody") == [("login_failed", "nobody", ADDRESS)]


def locked_until(db: Database, username: str) -> datetime | None:
    """When ``username``'s lock ends, as an admin sees it on the users' list."""
    [account] = [a for a in accounts.list_users(db) if a.username == username]
    return account.locked_until


def test_repeated_failures_lock_the_account_even_against_the_right_password(
    db: Database,
) -> None:
    new_user(db)
    for _ in range(LOCK_AFTER_FAILURES - 1):
        assert accounts.authenticate(db, "maria.chen", "guess", ADDRESS).refusal is (
            LoginRefusal.WRONG_CREDENTIALS
        )
    before = utcnow()
    locking = accounts.authenticate(db, "maria.chen", "guess", ADDRESS)
    assert (locking.account, locking.refusal) == (None, LoginRefusal.WRONG_CREDENTIALS)
    until = locked_until(db, "maria.chen")
    assert until is not None
    assert (until - before).total_seconds() == pytest.approx(FIRST_LOCK_SECONDS, abs=5)
    right = accounts.authenticate(db, "maria.chen", PASSWORD, ADDRESS)
    assert (right.account, right.refusal) == (None, LoginRefusal.WRONG_CREDENTIALS)
    assert SecurityEventKind.LOCKED.value in [kind for kind, _, _ in events(db, "maria.chen")]

    # The lock runs out: one more wrong guess locks it again, for twice as long.
    with db.transaction() as session:
        session.execute(update(StaffUser).values(locked_until=utcnow() - timedelta(seconds=1)))
    again = accounts.authenticate(db, "maria.chen", "guess", ADDRESS)
    assert again.refusal is LoginRefusal.WRONG_CREDENTIALS
    until = locked_until(db, "maria.chen")
    assert until is not None
    assert (until - utcnow()).total_seconds() == pytest.approx(2 * FIRST_LOCK_SECONDS, abs=5)

    # An admin lifts it, and the right password works at once.
    accounts.unlock(db, "maria.chen", actor="root")
    assert accounts.authenticate(db, "maria.chen", PASSWORD, ADDRESS).account is not None
    [account] = accounts.list_users(db)
    assert (account.failed_logins, account.locked_until) == (0, None)


def test_a_session_lives_until_logout_idleness_or_its_lifetime(db: Database) -> None:
    new_user(db)
    opened = accounts.open_session(db, "maria.chen", ADDRESS, timedelta(hours=8))
    active = accounts.session_of(db, opened.token, IDLE)
    assert active is not None
    assert active.account.username == "maria.chen"
    assert active.csrf_token == opened.csrf_token
    with db.reading() as session:
        [stored] = session.scalars(select(StaffSession.token_hash)).all()
    assert opened.token not in stored  # only a digest is kept

    # Left idle for longer than the idle timeout: over.
    with db.transaction() as session:
        session.execute(update(StaffSession).values(last_seen_at=utcnow() - IDLE * 2))
    assert accounts.session_of(db, opened.token, IDLE) is None

    # Past its absolute lifetime, however active: over.
    fresh = accounts.open_session(db, "maria.chen", ADDRESS, timedelta(hours=8))
    with db.transaction() as session:
        session.execute(
            update(StaffSession)
            .where(StaffSession.csrf_token == fresh.csrf_token)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    assert accounts.session_of(db, fresh.token, IDLE) is None

    # Logged out: over, and the logout is audited.
    third = accounts.open_session(db, "maria.chen", ADDRESS, timedelta(hours=8))
    accounts.close_session(db, third.token, ADDRESS)
    assert accounts.session_of(db, third.token, IDLE) is None
    assert events(db, "maria.chen")[-1] == ("logout", "maria.chen", ADDRESS)
    assert accounts.session_of(db, "a token nobody was given", IDLE) is None


def test_disabling_a_user_or_resetting_the_password_ends_their_sessions(db: Database) -> None:
    new_user(db)
    first = accounts.open_session(db, "maria.chen", ADDRESS, timedelta(hours=8))
    accounts.set_password(db, "maria.chen", "another long password", actor="root")
    assert accounts.session_of(db, first.token, IDLE) is None
    assert accounts.authenticate(db, "maria.chen", PASSWORD, ADDRESS).account is None
    assert accounts.authenticate(db, "maria.chen", "another long password", ADDRESS).account

    second = accounts.open_session(db, "maria.chen", ADDRESS, timedelta(hours=8))
    accounts.set_active(db, "maria.chen", False, actor="root")
    assert accounts.session_of(db, second.token, IDLE) is None
    disabled = accounts.authenticate(db, "maria.chen", "another long password", ADDRESS)
    assert disabled.refusal is LoginRefusal.WRONG_CREDENTIALS
    accounts.set_active(db, "maria.chen", True, actor="root")
    assert accounts.authenticate(db, "maria.chen", "another long password", ADDRESS).account


def test_oms_users_creates_the_first_admin_and_lists_users(db: Database, database_url: str) -> None:
    environment = {**os.environ, "OMS_DATABASE_URL": database_url}
    created = oms(
        "users",
        "create",
        "root.admin",
        "--role",
        "admin",
        "--password-stdin",
        "--as",
        "setup",
        environment=environment,
        stdin=PASSWORD + "\n",
    )
    assert created.returncode == 0, created.stderr
    assert "Created root.admin (admin)." in created.stdout
    listed = oms("users", "list", "--json", environment=environment)
    assert [(u["username"], u["role"]) for u in json.loads(listed.stdout)] == [
        ("root.admin", "admin")
    ]
    assert accounts.authenticate(db, "root.admin", PASSWORD, ADDRESS).account is not None
    assert events(db, "root.admin")[0] == ("user_created", "setup", "cli")

    weak = oms(
        "users",
        "create",
        "weak.one",
        "--role",
        "analyst",
        "--password-stdin",
        environment=environment,
        stdin="short\n",
    )
    assert one_line_error(weak) == ("error: password: at least 12 characters (it has 5)")
    unknown = oms("users", "disable", "nobody", environment=environment)
    assert one_line_error(unknown) == "error: no user 'nobody'"


def test_the_docs_show_the_permission_matrix_as_it_is() -> None:
    readme = (Path(__file__).resolve().parent.parent / "docs" / "roles.md").read_text("utf-8")
    header = "| permission | " + " | ".join(role.value for role in Role) + " |"
    assert header in readme
    rows = readme.split(header, 1)[1].split("\n\n", 1)[0].strip().splitlines()[1:]
    shown = {}
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        permission = Permission(cells[0].split("`")[1])
        shown[permission] = {role for role, cell in zip(Role, cells[1:], strict=True) if cell}
    assert shown == {
        permission: {role for role in Role if allows(role, permission)} for permission in Permission
    }


def test_the_demo_makes_one_user_per_role_once_and_keeps_the_logins_private(
    db: Database, tmp_path: Path
) -> None:
    logins = tmp_path / "demo-logins"
    made = accounts.ensure_demo_users(db, logins)
    assert {
        name: account.role for name, account in ((a.username, a) for a in accounts.list_users(db))
    } == {f"demo.{role.value.replace('_', '-')}": role for role in Role}
    assert stat.S_IMODE(logins.stat().st_mode) == 0o600
    written = dict(line.split() for line in logins.read_text(encoding="utf-8").splitlines())
    assert written == made
    for username, password in made.items():
        assert accounts.authenticate(db, username, password, ADDRESS).account is not None
    assert accounts.ensure_demo_users(db, logins) == {}  # a second demo makes none
    assert len(logins.read_text(encoding="utf-8").splitlines()) == len(Role)
