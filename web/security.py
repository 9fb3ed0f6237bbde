"""Who is asking, and may they: sessions from cookies, permissions, CSRF tokens.

Every page and route that needs a logged-in user depends on :func:`staff` or on
:func:`requires` (a permission from :mod:`domain.access`); a hidden button is
not a control, the server refuses. Every state-changing form carries the
session's CSRF token and is checked with :func:`check_csrf`.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Form, Path, Request
from starlette.responses import Response
from temporalio.client import Client

from domain.access import Permission, Role, StaffAccount, allows
from domain.wording import N_, Wording
from persistence.database import Database
from persistence.transactions import accounts
from runtime.settings import Settings
from runtime.temporal import connect

from .labels import PERMISSION_LABELS, ROLE_LABELS

SESSION_COOKIE = "oms_session"
"""The cookie holding the session token (HttpOnly, SameSite=Lax, Secure over TLS)."""
LOGIN_CSRF_COOKIE = "oms_login_csrf"
"""Double-submit token of the login form, before there is a session to hold one."""


class LoginRequiredError(Exception):
    """No valid session: the browser is sent to the login page."""


class ForbiddenError(Exception):
    """The user's role does not hold the permission a page or action needs; ``reason``
    is shown in the reader's language (``str()`` is its English sentence)."""

    def __init__(self, permission: Permission | None, reason: Wording) -> None:
        super().__init__(reason.english())
        self.permission = permission
        self.reason = reason


@dataclass(frozen=True)
class Staff:
    """The logged-in user of a request."""

    account: StaffAccount
    csrf_token: str

    def may(self, permission: Permission) -> bool:
        """Whether this user's role holds ``permission``."""
        return allows(self.account.role, permission)

    @property
    def permissions(self) -> frozenset[str]:
        """The codes of every permission this user's role holds (for templates)."""
        return frozenset(p.value for p in Permission if self.may(p))


def database(request: Request) -> Database:
    """The business database the application was built with."""
    db: Database = request.app.state.db
    return db


def settings_of(request: Request) -> Settings:
    """The settings the application was built with."""
    settings: Settings = request.app.state.settings
    return settings


async def temporal(request: Request) -> Client:
    """The application's Temporal client, connected on first use."""
    client: Client | None = request.app.state.temporal
    if client is None:
        client = await connect(settings_of(request))
        request.app.state.temporal = client
    return client


def client_address(request: Request) -> str:
    """Where the request came from (the proxy's view when behind one, with --proxy-headers)."""
    return request.client.host if request.client else "unknown"


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
"""Methods that change nothing: without a session they are sent to the login page."""
NO_SESSION_REFUSAL = Wording(
    message=N_(
        "This form came without a valid session (sent from another site, or after your "
        "session ended), so nothing was done and your session was left as it was; open the "
        "page again and send the form from there."
    )
)
"""Why a state-changing request without a session is refused (403, not the login page)."""


async def session_user(request: Request) -> Staff | None:
    """The user of the request's session, or None when it came without a valid one."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    db = database(request)
    idle = timedelta(minutes=settings_of(request).session_idle_minutes)
    active = await db.run(accounts.session_of, db, token, idle)
    if active is None:
        return None
    return Staff(account=active.account, csrf_token=active.csrf_token)


async def staff(request: Request) -> Staff:
    """The logged-in user; else :class:`LoginRequiredError` for a page, and for a request
    that would change something :class:`ForbiddenError` (a cross-site form: the browser
    does not send the SameSite cookie, and answering with the login page would let
    another site touch the session)."""
    user = await session_user(request)
    if user is None:
        if request.method not in SAFE_METHODS:
            raise ForbiddenError(None, NO_SESSION_REFUSAL)
        raise LoginRequiredError
    return user


def requires(permission: Permission) -> Callable[..., Awaitable[Staff]]:
    """A dependency: the logged-in user, refused with 403 unless their role holds ``permission``."""

    async def check(user: Staff = Depends(staff)) -> Staff:  # noqa: B008 - FastAPI's idiom
        if not user.may(permission):
            raise ForbiddenError(permission, role_refusal(user.account.role, permission))
        return user

    return check


STALE_FORM_REFUSAL = Wording(
    message=N_("The form's security token is missing or stale; reload the page.")
)
"""Why a form whose token is not the session's is refused."""


def role_refusal(role: Role, permission: Permission) -> Wording:
    """Why ``role`` is refused something needing ``permission``: both in words."""
    return Wording(
        message=N_("Your role, %(role)s, may not do this (it needs: %(what)s)."),
        terms={"role": ROLE_LABELS[role], "what": PERMISSION_LABELS[permission]},
    )


async def check_csrf(
    user: Staff = Depends(staff),  # noqa: B008 - FastAPI's idiom
    csrf_token: str = Form(default=""),
) -> Staff:
    """A dependency of every state-changing form: its token must be the session's."""
    return check_form_token(user, csrf_token)


def check_form_token(user: Staff, csrf_token: str) -> Staff:
    """``user`` if ``csrf_token`` is their session's, else :class:`ForbiddenError`."""
    if not secrets.compare_digest(csrf_token, user.csrf_token):
        raise ForbiddenError(None, STALE_FORM_REFUSAL)
    return user


def set_session_cookie(response: Response, request: Request, token: str, max_age: int) -> None:
    """Give the browser its session token: HttpOnly, SameSite=Lax, Secure over TLS."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


def set_login_cookie(response: Response, request: Request, token: str) -> None:
    """Give the browser the login form's double-submit token (see :data:`LOGIN_CSRF_COOKIE`)."""
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/login",
    )


FormChecked = Annotated[Staff, Depends(check_csrf)]
"""A route parameter: the form carried the session's token (else 403 before the route runs)."""


RowNumber = Annotated[int, Path(ge=1, le=2_147_483_647)]
"""A path's row number (a transfer, a count, a proposal): what a database integer holds."""
