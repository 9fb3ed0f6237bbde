"""The FastAPI application: login, the staff's home, their account; modules plug in as routers.

Pages are rendered on the server (Jinja2) in the user's language; every asset
is served from ``web/static`` (no CDN). Database work goes to the database's
threads (:meth:`persistence.database.Database.run`).
"""

from __future__ import annotations

import secrets
from datetime import timedelta, tzinfo
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send
from temporalio.client import Client

from domain.access import Locale, LoginRefusal, Permission
from domain.wording import N_, Wording
from persistence.database import Database
from persistence.transactions import accounts
from persistence.transactions.accounts import AccountError
from persistence.unavailable import RETRY_AFTER_SECONDS, unavailable
from runtime.settings import Settings

from . import (
    admin,
    api,
    campaigns,
    catalogue,
    catalogue_api,
    complaint_analysis,
    complaint_survey,
    complaints,
    complaints_api,
    customers,
    customers_api,
    entry,
    i18n,
    orders,
    replenishment,
    stock,
    stock_api,
)
from .field_words import in_words
from .links import BlankMeansNotGiven
from .problems import (
    allowed_methods,
    document_problems,
    http_problem,
    invalid_request_problem,
    unavailable_detail,
    unavailable_problem,
)
from .rendering import DISPLAY_ZONE, render
from .security import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    ForbiddenError,
    LoginRequiredError,
    Staff,
    check_csrf,
    check_form_token,
    client_address,
    database,
    session_user,
    set_login_cookie,
    set_session_cookie,
    settings_of,
    staff,
)

STATIC_DIR = Path(__file__).resolve().parent / "static"

STALE_LOGIN_FORM_REFUSAL = Wording(
    message=N_("The login form's security token is missing or stale; reload the page.")
)
"""Why a login whose form token is not the browser's is refused."""

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
"""Sent with every response: nothing from elsewhere, no framing, no sniffing."""
NOT_STORED = "no-store"
"""``Cache-Control`` of every answer but the static files: a page behind the login (an
order with the customer's name) must not come back from the browser's cache, with Back,
after its user logged out."""


class SecurityHeaders(BaseHTTPMiddleware):
    """Adds :data:`SECURITY_HEADERS` to every response, and :data:`NOT_STORED` to every
    response that is not a static file."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        """Pass the request on; mark the response."""
        response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        if not request.url.path.startswith("/static/"):
            response.headers["Cache-Control"] = NOT_STORED
        return response


class DisplayZone:
    """Pages answered through it show times in ``zone`` (the console's time zone)."""

    def __init__(self, app: ASGIApp, zone: tzinfo) -> None:
        self.app = app
        self.zone = zone

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer the request with :data:`web.rendering.DISPLAY_ZONE` set."""
        token = DISPLAY_ZONE.set(self.zone)
        try:
            await self.app(scope, receive, send)
        finally:
            DISPLAY_ZONE.reset(token)


def create_app(settings: Settings, db: Database, temporal: Client | None = None) -> FastAPI:
    """The console and API on ``db``, configured by ``settings``; actions on workflows go
    through ``temporal`` (default: connected on first use)."""
    app = FastAPI(
        title="Order management",
        description="HTTP API of the order management system: orders in, status out. "
        "Systems authenticate with an API key as a bearer token.",
        version="1",
        # The interactive docs pages load their scripts from a CDN; the document itself
        # is served at /openapi.json.
        docs_url=None,
        redoc_url=None,
    )
    app.state.db = db
    app.state.settings = settings
    app.state.temporal = temporal
    app.add_middleware(SecurityHeaders)
    app.add_middleware(DisplayZone, zone=settings.display_zone)
    app.add_middleware(BlankMeansNotGiven)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.exception_handler(LoginRequiredError)
    async def to_login(request: Request, _error: LoginRequiredError) -> Response:
        target = request.url.path
        # The session cookie is left alone: a request without a valid session has none
        # to end, and one the browser did not send (SameSite) may still be good.
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def problem(request: Request, error: StarletteHTTPException) -> Response:
        headers = dict(error.headers or {})
        if error.status_code == 405:
            headers["Allow"] = allowed_methods(request)
        if request.url.path.startswith("/api/"):  # systems get problem details, people a page
            return http_problem(error, headers)
        locale = i18n.negotiate(request.headers.get("accept-language"))
        response = render(
            "problem.html", locale, error.status_code, status=error.status_code, reason=error.detail
        )
        response.headers.update(headers)
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> Response:
        if request.url.path.startswith("/api/"):
            return invalid_request_problem(error)
        locale = i18n.negotiate(request.headers.get("accept-language"))
        user = await session_user(request)
        if user is not None:  # the reader's own language
            locale = user.account.locale
        return render("problem.html", locale, 422, status=422, reason=in_words(error, locale))

    @app.exception_handler(DBAPIError)
    async def database_unavailable(request: Request, error: DBAPIError) -> Response:
        # Busy or down is "try again" (503); the session has rolled the transaction back.
        why = unavailable(error)
        if why is None:
            raise error
        if request.url.path.startswith("/api/"):
            return unavailable_problem(why)
        locale = i18n.negotiate(request.headers.get("accept-language"))
        response = render("problem.html", locale, 503, status=503, reason=unavailable_detail(why))
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    @app.exception_handler(ForbiddenError)
    async def forbidden(request: Request, error: ForbiddenError) -> Response:
        locale = i18n.negotiate(request.headers.get("accept-language"))
        user = await session_user(request)
        if user is not None:  # the page and its reason in the user's own language
            locale = user.account.locale
        return render("forbidden.html", locale, 403, reason=error.reason, user=user)

    app.include_router(_pages(), include_in_schema=False)
    app.include_router(entry.router, include_in_schema=False)  # /orders/new before /orders/{id}
    app.include_router(orders.router, include_in_schema=False)
    app.include_router(replenishment.router, include_in_schema=False)
    app.include_router(campaigns.router, include_in_schema=False)  # before /customers/{id}
    app.include_router(complaint_analysis.router, include_in_schema=False)  # before /{id}
    app.include_router(complaint_survey.router, include_in_schema=False)
    app.include_router(complaints.router, include_in_schema=False)
    app.include_router(customers.router, include_in_schema=False)
    app.include_router(catalogue.router, include_in_schema=False)  # before /stock/{...}
    app.include_router(stock.router, include_in_schema=False)
    app.include_router(admin.router, include_in_schema=False)
    app.include_router(api.router)
    app.include_router(stock_api.router)
    app.include_router(catalogue_api.router)
    app.include_router(customers_api.router)
    app.include_router(complaints_api.router)
    document_problems(app)
    return app


def _pages() -> APIRouter:
    """Login, logout, the home page and the user's own account."""
    router = APIRouter()

    @router.get("/login")
    async def login_page(request: Request, next: str = "/") -> Response:
        return _login_page(request, next, None)

    @router.post("/login")
    async def login(
        request: Request,
        username: Annotated[str, Form()] = "",
        password: Annotated[str, Form()] = "",
        csrf_token: Annotated[str, Form()] = "",
        next: Annotated[str, Form()] = "/",
    ) -> Response:
        cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        if not cookie or cookie != csrf_token:
            raise ForbiddenError(None, STALE_LOGIN_FORM_REFUSAL)
        db, settings = database(request), settings_of(request)
        address = client_address(request)
        result = await db.run(accounts.authenticate, db, username.strip(), password, address)
        if result.account is None:
            return _login_page(request, next, result)
        lifetime = timedelta(hours=settings.session_lifetime_hours)
        opened = await db.run(accounts.open_session, db, result.account.username, address, lifetime)
        response = RedirectResponse(_safe_next(next), status_code=303)
        set_session_cookie(response, request, opened.token, int(lifetime.total_seconds()))
        response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
        return response

    @router.post("/logout")
    async def logout(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
        user = await session_user(request)
        if user is None:
            # Nothing to end: the session is over, or another site's form came without it
            # (the cookie, if the browser holds one, is left alone).
            return RedirectResponse("/login", status_code=303)
        check_form_token(user, csrf_token)
        db = database(request)
        token = request.cookies.get(SESSION_COOKIE, "")
        await db.run(accounts.close_session, db, token, client_address(request))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @router.get("/")
    async def home(user: Annotated[Staff, Depends(staff)]) -> Response:
        # In the order the permissions are listed (orders first), each in words.
        held = [permission for permission in Permission if user.may(permission)]
        return render("home.html", user.account.locale, user=user, permissions=held)

    @router.get("/account")
    async def account(user: Annotated[Staff, Depends(staff)]) -> Response:
        return render("account.html", user.account.locale, user=user, error=None, done=None)

    @router.post("/account/password")
    async def change_password(
        request: Request,
        user: Annotated[Staff, Depends(check_csrf)],
        current: Annotated[str, Form()] = "",
        new: Annotated[str, Form()] = "",
    ) -> Response:
        db = database(request)
        try:
            await db.run(
                accounts.change_own_password,
                db,
                user.account.username,
                current,
                new,
                address=client_address(request),
            )
        except AccountError as refused:
            error = in_words(refused, user.account.locale)
            return render(
                "account.html", user.account.locale, 422, user=user, error=error, done=None
            )
        # The new password ended every session, this one too: log in again.
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @router.post("/account/language")
    async def change_language(
        request: Request,
        user: Annotated[Staff, Depends(check_csrf)],
        locale: Annotated[Locale, Form()],
    ) -> Response:
        db = database(request)
        await db.run(accounts.set_locale, db, user.account.username, locale)
        return RedirectResponse("/account", status_code=303)

    return router


def _login_page(request: Request, next: str, refused: accounts.LoginResult | None) -> Response:
    """The login form (401 with the reason after a refused login), with a fresh form token."""
    locale = i18n.negotiate(request.headers.get("accept-language"))
    token = secrets.token_urlsafe(32)
    page = render(
        "login.html",
        locale,
        200 if refused is None else 401,
        csrf_token=token,
        next=_safe_next(next),
        error=None if refused is None else (refused.refusal or LoginRefusal.WRONG_CREDENTIALS),
    )
    set_login_cookie(page, request, token)
    return page


def _safe_next(target: str) -> str:
    """``target`` if it is a path on this site, else the home page (no open redirect)."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"
