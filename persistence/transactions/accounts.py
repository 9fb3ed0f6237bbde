"""Staff accounts, logins and sessions, with the security audit log.

Passwords are hashed with Argon2id (argon2-cffi's RFC 9106 profile). Hashing
and checking a password costs tens of milliseconds and 64 MiB, so it happens
outside any transaction: no writer waits on it. Session tokens are random; the
database keeps only their SHA-256, so a copy of the database opens no session.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from domain.access import (
    USERNAME,
    Locale,
    LoginRefusal,
    Role,
    SecurityEventKind,
    StaffAccount,
    lock_seconds,
    password_wordings,
)
from domain.wording import N_, Wording
from persistence.database import Database
from persistence.models import SecurityEvent, StaffSession, StaffUser

from .records import utcnow

_HASHER = PasswordHasher()
"""Argon2id with argon2-cffi's defaults (RFC 9106, low-memory profile)."""
_NOBODY = _HASHER.hash(secrets.token_urlsafe(16))
"""Checked against when the user name is unknown, so that takes as long as a real check."""

CLI = "cli"
"""The address recorded for changes made with ``oms`` on the command line."""


class AccountError(ValueError):
    """An account change that cannot be made, saying why (given as a wording, the console
    shows it in the reader's language; ``str`` is its English)."""

    def __init__(self, why: str | Wording) -> None:
        super().__init__(why.english() if isinstance(why, Wording) else why)
        self.wording = why if isinstance(why, Wording) else None


@dataclass(frozen=True)
class LoginResult:
    """A successful login's account, or the refusal, the same for every reason (a wrong
    password, an unknown or disabled name, a locked account): a refusal must not tell
    whether an account exists. Locks are in the audit log and on the users' list."""

    account: StaffAccount | None
    refusal: LoginRefusal | None = None


@dataclass(frozen=True)
class NewSession:
    """A session just opened: the token for the cookie (shown once) and its CSRF token."""

    token: str
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True)
class ActiveSession:
    """Who a valid session belongs to, and the CSRF token its forms must carry."""

    account: StaffAccount
    csrf_token: str


def create_user(
    db: Database,
    username: str,
    password: str,
    role: Role,
    locale: Locale = Locale.ENGLISH,
    *,
    actor: str,
    address: str = CLI,
) -> StaffAccount:
    """Create an active user; :class:`AccountError` says what is wrong with the input."""
    if not USERNAME.fullmatch(username):
        raise AccountError(
            f"user name {username!r}: 2 to 64 characters, lower-case letters, digits, "
            "'.', '_' or '-', starting with a letter"
        )
    _check_password(password, username)
    password_hash = _HASHER.hash(password)
    now = utcnow()
    with db.transaction() as session:
        if session.scalar(select(StaffUser.id).where(StaffUser.username == username)):
            raise AccountError(f"user {username!r} exists already")
        user = StaffUser(
            username=username,
            password_hash=password_hash,
            role=role.value,
            locale=locale.value,
            active=True,
            failed_logins=0,
            created_at=now,
            password_changed_at=now,
        )
        session.add(user)
        _audit(session, SecurityEventKind.USER_CREATED, username, actor, address, f"role {role}")
        session.flush()
        return _account(user)


def list_users(db: Database) -> list[StaffAccount]:
    """Every user, by name."""
    with db.reading() as session:
        return [
            _account(user)
            for user in session.scalars(select(StaffUser).order_by(StaffUser.username))
        ]


def set_password(
    db: Database, username: str, password: str, *, actor: str, address: str = CLI
) -> None:
    """Give ``username`` a new password; their sessions end and any lock is lifted."""
    _check_password(password, username)
    password_hash = _HASHER.hash(password)
    with db.transaction() as session:
        user = _user(session, username)
        user.password_hash = password_hash
        user.password_changed_at = utcnow()
        user.failed_logins = 0
        user.locked_until = None
        _revoke_sessions(session, user.id)
        _audit(session, SecurityEventKind.PASSWORD_CHANGED, username, actor, address, "")


def change_own_password(
    db: Database, username: str, current: str, new: str, *, address: str
) -> None:
    """A user changes their own password, proving the current one first."""
    with db.reading() as session:
        stored = _user(session, username).password_hash
    if not _verify(stored, current):
        raise AccountError(Wording(message=N_("the current password is not right")))
    set_password(db, username, new, actor=username, address=address)


def set_locale(db: Database, username: str, locale: Locale) -> StaffAccount:
    """The language ``username`` sees the console in."""
    with db.transaction() as session:
        user = _user(session, username)
        user.locale = locale.value
        return _account(user)


def set_active(
    db: Database, username: str, active: bool, *, actor: str, address: str = CLI
) -> None:
    """Enable or disable ``username``; a disabled user's sessions end at once."""
    with db.transaction() as session:
        user = _user(session, username)
        user.active = active
        if not active:
            _revoke_sessions(session, user.id)
        kind = SecurityEventKind.USER_ENABLED if active else SecurityEventKind.USER_DISABLED
        _audit(session, kind, username, actor, address, "")


def unlock(db: Database, username: str, *, actor: str, address: str = CLI) -> None:
    """Lift a lock after failed logins and start the count again."""
    with db.transaction() as session:
        user = _user(session, username)
        user.failed_logins = 0
        user.locked_until = None
        _audit(session, SecurityEventKind.UNLOCKED, username, actor, address, "")


def authenticate(db: Database, username: str, password: str, address: str) -> LoginResult:
    """Check a login and record it: a success, a failure, or a lock it caused.

    After :data:`domain.access.LOCK_AFTER_FAILURES` failures in a row the account
    is locked, for twice as long with each further failure; a correct password
    does not open a locked account. An unknown name costs as long as a known one
    and is refused in the same words, locked or not: only the audit log and the
    users' list (for admins) say that an account is locked.
    """
    now = utcnow()
    with db.reading() as session:
        user = session.scalar(select(StaffUser).where(StaffUser.username == username))
        stored = user.password_hash if user is not None and user.active else _NOBODY
        locked_until = user.locked_until if user is not None else None
    matches = _verify(stored, password) and stored is not _NOBODY
    if user is None or not user.active:
        with db.transaction() as session:
            _audit(session, SecurityEventKind.LOGIN_FAILED, username, username, address, "")
        return LoginResult(None, LoginRefusal.WRONG_CREDENTIALS)
    if locked_until is not None and locked_until > now:
        with db.transaction() as session:
            _audit(
                session,
                SecurityEventKind.LOGIN_FAILED,
                username,
                username,
                address,
                f"locked until {locked_until:%Y-%m-%d %H:%M:%S} UTC",
            )
        return LoginResult(None, LoginRefusal.WRONG_CREDENTIALS)
    if not matches:
        return _record_failure(db, user.id, username, address, now)
    with db.transaction() as session:
        fresh = session.get(StaffUser, user.id)
        assert fresh is not None
        fresh.failed_logins = 0
        fresh.locked_until = None
        if _HASHER.check_needs_rehash(fresh.password_hash):
            fresh.password_hash = _HASHER.hash(password)
        _audit(session, SecurityEventKind.LOGIN, username, username, address, "")
        return LoginResult(_account(fresh))


def open_session(db: Database, username: str, address: str, lifetime: timedelta) -> NewSession:
    """Open a session for ``username`` that ends after ``lifetime`` at the latest."""
    token = secrets.token_urlsafe(32)
    csrf_token = secrets.token_urlsafe(32)
    now = utcnow()
    with db.transaction() as session:
        user = _user(session, username)
        session.add(
            StaffSession(
                token_hash=_digest(token),
                user_id=user.id,
                csrf_token=csrf_token,
                address=address[:64],
                created_at=now,
                last_seen_at=now,
                expires_at=now + lifetime,
            )
        )
    return NewSession(token=token, csrf_token=csrf_token, expires_at=now + lifetime)


def session_of(db: Database, token: str, idle_timeout: timedelta) -> ActiveSession | None:
    """The account behind ``token`` if its session is still valid, marking it active now.

    A session is over when it was revoked, outlived its absolute lifetime, was
    left idle longer than ``idle_timeout``, or its user was disabled.
    """
    now = utcnow()
    with db.transaction() as session:
        row = session.get(StaffSession, _digest(token))
        if row is None or row.revoked_at is not None:
            return None
        user = session.get(StaffUser, row.user_id)
        if (
            user is None
            or not user.active
            or now >= row.expires_at
            or now - row.last_seen_at > idle_timeout
        ):
            return None
        row.last_seen_at = now
        return ActiveSession(account=_account(user), csrf_token=row.csrf_token)


def close_session(db: Database, token: str, address: str) -> None:
    """Log out: revoke the session behind ``token`` (nothing if there is none)."""
    with db.transaction() as session:
        row = session.get(StaffSession, _digest(token))
        if row is None or row.revoked_at is not None:
            return
        row.revoked_at = utcnow()
        user = session.get(StaffUser, row.user_id)
        name = user.username if user is not None else ""
        _audit(session, SecurityEventKind.LOGOUT, name, name, address, "")


def _record_failure(
    db: Database, user_id: int, username: str, address: str, now: datetime
) -> LoginResult:
    with db.transaction() as session:
        session.execute(
            update(StaffUser)
            .where(StaffUser.id == user_id)
            .values(failed_logins=StaffUser.failed_logins + 1)
        )
        user = session.get(StaffUser, user_id)
        assert user is not None
        session.refresh(user)
        _audit(session, SecurityEventKind.LOGIN_FAILED, username, username, address, "")
        seconds = lock_seconds(user.failed_logins)
        if not seconds:
            return LoginResult(None, LoginRefusal.WRONG_CREDENTIALS)
        user.locked_until = now + timedelta(seconds=seconds)
        _audit(
            session,
            SecurityEventKind.LOCKED,
            username,
            username,
            address,
            f"{user.failed_logins} failed logins in a row; locked for {seconds} s",
        )
        return LoginResult(None, LoginRefusal.WRONG_CREDENTIALS)


def _check_password(password: str, username: str) -> None:
    if problems := password_wordings(password, username):
        said = problems[0]
        for more in problems[1:]:
            said = Wording(message=N_("%(first)s; %(then)s"), parts={"first": said, "then": more})
        raise AccountError(Wording(message=N_("password: %(problems)s"), parts={"problems": said}))


def _verify(stored: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def _user(session: Session, username: str) -> StaffUser:
    user = session.scalar(select(StaffUser).where(StaffUser.username == username))
    if user is None:
        raise AccountError(f"no user {username!r}")
    return user


def _revoke_sessions(session: Session, user_id: int) -> None:
    session.execute(
        update(StaffSession)
        .where(StaffSession.user_id == user_id, StaffSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def _audit(
    session: Session,
    kind: SecurityEventKind,
    username: str,
    actor: str,
    address: str,
    detail: str,
) -> None:
    session.add(
        SecurityEvent(
            at=utcnow(),
            kind=kind.value,
            username=username[:64],
            actor=actor[:64],
            address=address[:64],
            detail=detail,
        )
    )


def _account(user: StaffUser) -> StaffAccount:
    return StaffAccount(
        username=user.username,
        role=Role(user.role),
        locale=Locale(user.locale),
        active=user.active,
        failed_logins=user.failed_logins,
        locked_until=user.locked_until,
        created_at=user.created_at,
    )


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def ensure_demo_users(db: Database, logins_file: Path) -> dict[str, str]:
    """One user per role for the embedded demo (``demo.<role>``), made once.

    New users get generated passwords, appended to ``logins_file`` (0600) and
    returned so they can be shown once; users made by an earlier demo are kept.
    """
    known = {account.username for account in list_users(db)}
    made = {}
    for role in Role:
        username = f"demo.{role.value.replace('_', '-')}"
        if username in known:
            continue
        password = secrets.token_urlsafe(12)
        create_user(db, username, password, role, actor="oms demo")
        made[username] = password
    if made:
        logins_file.touch(mode=0o600, exist_ok=True)
        logins_file.chmod(0o600)
        with logins_file.open("a", encoding="utf-8") as logins:
            logins.writelines(f"{name} {password}\n" for name, password in made.items())
    return made
