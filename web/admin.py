"""Administration: staff users (create, disable, enable, unlock, new password) and API keys
for systems (create, shown once; revoke)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from domain.access import Locale, Permission, Role, SystemRole
from persistence.database import Database
from persistence.transactions import accounts, api_keys
from persistence.transactions.accounts import AccountError

from .field_words import in_words
from .rendering import render
from .security import FormChecked, Staff, client_address, database, requires

router = APIRouter(prefix="/admin")

Admin = Annotated[Staff, Depends(requires(Permission.MANAGE_USERS))]
KeyAdmin = Annotated[Staff, Depends(requires(Permission.MANAGE_API_KEYS))]


@router.get("/users")
async def users_page(request: Request, user: Admin) -> Response:
    """Every user, and the form for a new one."""
    return await _users(request, user, None, 200)


@router.post("/users")
async def create_user(
    request: Request,
    user: Admin,
    _form: FormChecked,
    username: Annotated[str, Form()] = "",
    role: Annotated[Role, Form()] = Role.ANALYST,
    locale: Annotated[Locale, Form()] = Locale.ENGLISH,
    password: Annotated[str, Form()] = "",
) -> Response:
    """Create a user with the password the admin gives them."""
    return await _change(
        request,
        user,
        lambda db, actor, address: accounts.create_user(
            db, username.strip(), password, role, locale, actor=actor, address=address
        ),
    )


@router.post("/users/{username}/unlock")
async def unlock(request: Request, username: str, user: Admin, _form: FormChecked) -> Response:
    """Lift a lock after failed logins."""
    return await _change(
        request,
        user,
        lambda db, actor, address: accounts.unlock(db, username, actor=actor, address=address),
    )


@router.post("/users/{username}/disable")
async def disable(request: Request, username: str, user: Admin, _form: FormChecked) -> Response:
    """Disable a user; their sessions end at once."""
    return await _change(
        request,
        user,
        lambda db, actor, address: accounts.set_active(
            db, username, False, actor=actor, address=address
        ),
    )


@router.post("/users/{username}/enable")
async def enable(request: Request, username: str, user: Admin, _form: FormChecked) -> Response:
    """Enable a disabled user again."""
    return await _change(
        request,
        user,
        lambda db, actor, address: accounts.set_active(
            db, username, True, actor=actor, address=address
        ),
    )


@router.post("/users/{username}/password")
async def new_password(
    request: Request,
    username: str,
    user: Admin,
    _form: FormChecked,
    password: Annotated[str, Form()] = "",
) -> Response:
    """Give a user a new password; their sessions end."""
    return await _change(
        request,
        user,
        lambda db, actor, address: accounts.set_password(
            db, username, password, actor=actor, address=address
        ),
    )


async def _change(
    request: Request, user: Staff, change: Callable[[Database, str, str], object]
) -> Response:
    """Make ``change`` as the admin, from their address; back to the list, or the reason."""
    db = database(request)
    try:
        await db.run(change, db, user.account.username, client_address(request))
    except AccountError as refused:
        return await _users(request, user, in_words(refused, user.account.locale), 422)
    return RedirectResponse("/admin/users", status_code=303)


async def _users(request: Request, user: Staff, error: str | None, status: int) -> Response:
    db = database(request)
    return render(
        "users.html",
        user.account.locale,
        status,
        user=user,
        users=await db.run(accounts.list_users, db),
        roles=list(Role),
        error=error,
    )


@router.get("/api-keys")
async def api_keys_page(request: Request, user: KeyAdmin) -> Response:
    """Every API key (never a secret), and the form for a new one."""
    return await _keys(request, user)


@router.post("/api-keys")
async def create_api_key(
    request: Request,
    user: KeyAdmin,
    _form: FormChecked,
    name: Annotated[str, Form()] = "",
    role: Annotated[SystemRole, Form()] = SystemRole.INTAKE,
) -> Response:
    """Make a key for a system and show its secret this once (it is not kept)."""
    db = database(request)
    try:
        made = await db.run(
            api_keys.create_api_key, db, name.strip(), role, actor=user.account.username
        )
    except AccountError as refused:
        return await _keys(request, user, error=str(refused), status=422)
    response = await _keys(request, user, new_key=made.key, new_name=made.view.name)
    response.headers["Cache-Control"] = "no-store"  # the secret must not stay in a cache
    return response


@router.post("/api-keys/{name}/revoke")
async def revoke_api_key(
    request: Request, name: str, user: KeyAdmin, _form: FormChecked
) -> Response:
    """Revoke a key: the system's next call is refused."""
    db = database(request)
    try:
        await db.run(api_keys.revoke_api_key, db, name)
    except AccountError as refused:
        return await _keys(request, user, error=str(refused), status=422)
    return RedirectResponse("/admin/api-keys", status_code=303)


async def _keys(
    request: Request,
    user: Staff,
    *,
    error: str | None = None,
    status: int = 200,
    new_key: str | None = None,
    new_name: str | None = None,
) -> Response:
    db = database(request)
    return render(
        "api_keys.html",
        user.account.locale,
        status,
        user=user,
        keys=await db.run(api_keys.list_api_keys, db),
        roles=list(SystemRole),
        error=error,
        new_key=new_key,
        new_name=new_name,
    )
