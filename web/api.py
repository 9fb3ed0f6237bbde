"""The HTTP API for systems that do not speak Temporal's protocol: orders in, status out.

Systems authenticate with an API key (``Authorization: Bearer oms_...``). An
order is the same document ``starter.py`` sends, submitted by signal-with-start:
a repeat of the same order id is recorded as a duplicate and never starts a
second workflow.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domain.access import SYSTEM_PERMISSIONS, ApiKeyView, ApiPermission
from domain.messages import whole_json_number
from domain.orders import OrderSubmission, OrderView, SubmittedLine
from ops.submissions import submit
from persistence.order_views import OrderPage, OrderQuery, order_page, order_view
from persistence.transactions.api_keys import key_holder

from .orders import order_query
from .security import database, temporal

MAX_BODY_BYTES = 256 * 1024
"""The largest request body the API takes (an order document is a few kilobytes)."""

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key made by an admin (`oms api-keys create`), as a bearer token.",
)

router = APIRouter(prefix="/api/v1", tags=["orders"])


class Accepted(BaseModel):
    """The answer to a submitted order."""

    order_id: str
    workflow_id: str
    delivery: str
    """``submitted`` (new, or a repeat the running workflow records) or ``already finished``."""
    status_url: str


class Problem(BaseModel):
    """An error, said in words."""

    detail: str


def system(permission: ApiPermission) -> Callable[..., Awaitable[ApiKeyView]]:
    """A dependency: the calling system's key, refused unless it holds ``permission``."""

    async def check(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> ApiKeyView:
        if credentials is None:
            raise HTTPException(
                401, "an API key is required (Authorization: Bearer oms_...)", UNAUTHORISED
            )
        db = database(request)
        holder = await db.run(key_holder, db, credentials.credentials)
        if holder is None:
            raise HTTPException(401, "unknown or revoked API key", UNAUTHORISED)
        if permission not in SYSTEM_PERMISSIONS[holder.role]:
            raise HTTPException(403, f"API key {holder.name!r} ({holder.role}) may not do this")
        return holder

    return check


UNAUTHORISED = {"WWW-Authenticate": "Bearer"}

ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": Problem, "description": "No API key, or an unknown or revoked one."},
    403: {"model": Problem, "description": "The key's role may not do this."},
}


class DocumentLine(SubmittedLine):
    """An order line as JSON sends it: a whole quantity may be written ``5`` or ``5.0``."""

    quantity: Annotated[
        StrictInt, Field(ge=-100_000, le=100_000), BeforeValidator(whole_json_number)
    ]


class OrderDocument(OrderSubmission):
    """The order document over HTTP: the starter's submission with JSON's numbers.

    Through Temporal a quantity is a payload integer; over HTTP any JSON number with no
    fraction is one. The document becomes an :class:`OrderSubmission` before it is sent.
    """

    model_config = ConfigDict(title="OrderSubmission")

    lines: Annotated[list[DocumentLine], Field(min_length=1, max_length=200)]  # type: ignore[assignment]


@router.post(
    "/orders",
    status_code=202,
    response_model=Accepted,
    responses={
        **ERRORS,
        413: {"model": Problem, "description": f"The body is over {MAX_BODY_BYTES} bytes."},
        422: {"description": "The document is not a valid order; each wrong field is named."},
    },
)
async def submit_order(
    request: Request,
    response: Response,
    document: OrderDocument,
    _key: Annotated[ApiKeyView, Depends(system(ApiPermission.SUBMIT_ORDERS))],
) -> Accepted:
    """Submit an order: its workflow starts (or, running, records the repeat as a duplicate)."""
    db = database(request)
    submission = OrderSubmission.model_validate(document.model_dump())
    outcome = await submit(await temporal(request), submission, db)
    location = f"/api/v1/orders/{outcome.order_id}"
    response.headers["Location"] = location
    return Accepted(
        order_id=outcome.order_id,
        workflow_id=outcome.workflow_id,
        delivery=outcome.delivery.value,
        status_url=location,
    )


@router.get(
    "/orders/{order_id}",
    response_model=OrderView,
    responses={**ERRORS, 404: {"model": Problem, "description": "No such order (yet)."}},
)
async def get_order(
    request: Request,
    order_id: str,
    _key: Annotated[ApiKeyView, Depends(system(ApiPermission.READ_ORDERS))],
) -> OrderView:
    """The order's status view, from the business database."""
    db = database(request)
    view = await db.run(order_view, db, order_id)
    if view is None:
        raise HTTPException(404, f"no order {order_id!r} (a new order appears within seconds)")
    return view


@router.get("/orders", response_model=OrderPage, responses=ERRORS)
async def list_orders(
    request: Request,
    _key: Annotated[ApiKeyView, Depends(system(ApiPermission.READ_ORDERS))],
    query: Annotated[OrderQuery, Depends(order_query)],
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> OrderPage:
    """Orders of one list, with the console's filters, a page at a time."""
    db = database(request)
    return await db.run(order_page, db, query.model_copy(update={"page_size": page_size}))


class BodyLimit:
    """Refuses an API request whose body is larger than :data:`MAX_BODY_BYTES` with 413,
    counting what arrives (a missing or false Content-Length does not get past it)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, counting its body."""
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            await _too_large(send)
            return
        received = 0

        async def counting() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > MAX_BODY_BYTES:
                raise _TooLargeError
            return message

        try:
            await self.app(scope, counting, send)
        except _TooLargeError:
            await _too_large(send)


class _TooLargeError(Exception):
    pass


async def _too_large(send: Send) -> None:
    body = f'{{"detail":"the body is over {MAX_BODY_BYTES} bytes"}}'.encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})
