"""The HTTP API for systems that do not speak Temporal's protocol: orders in, status out.

Systems authenticate with an API key (``Authorization: Bearer oms_...``). An
order is the same document ``starter.py`` sends, submitted by signal-with-start:
a repeat of the same order id is recorded as a duplicate and never starts a
second workflow.

Every API route is an :class:`ApiRoute`: the key is checked (401, 403) before the body
is read, the body is read by :class:`web.json_body.ApiRequest`, and every refusal is a
problem (:mod:`web.problems`), documented as such in the OpenAPI document.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine, Mapping
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt

from domain.access import SYSTEM_PERMISSIONS, ApiKeyView, ApiPermission
from domain.messages import whole_json_number
from domain.orders import Channel, OrderStatus, OrderSubmission, OrderView, SubmittedLine
from domain.wording import N_, WordedError, Wording
from domain.worklists import OrderList
from ops.submissions import submit
from persistence.order_views import OrderPage, OrderQuery, order_page, order_view
from persistence.transactions.api_keys import key_holder

from .json_body import MAX_BODY_BYTES, MAX_DEPTH, MAX_NUMBER_LENGTH, ApiRequest
from .problems import Problem
from .security import database, temporal

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key made by an admin (`oms api-keys create`), as a bearer token.",
)

UNAUTHORISED = {"WWW-Authenticate": "Bearer"}


class SystemKey:
    """A dependency: the calling system's key, refused unless it holds ``permission``.

    An :class:`ApiRoute` checks it before the body is read; the route's parameter then
    gets the key already checked.
    """

    def __init__(self, permission: ApiPermission) -> None:
        self.permission = permission

    async def __call__(
        self,
        request: Request,
        _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> ApiKeyView:
        """The key, checked (the bearer parameter puts the scheme in the document)."""
        return await self.check(request)

    async def check(self, request: Request) -> ApiKeyView:
        """The key of ``request`` (looked up once per request): 401 when there is none or
        it is unknown or revoked, 403 when its role may not do this."""
        holder: ApiKeyView | None = getattr(request.state, "api_key", None)
        if holder is None:
            credentials = await bearer(request)
            if credentials is None:
                raise HTTPException(
                    401, "an API key is required (Authorization: Bearer oms_...)", UNAUTHORISED
                )
            db = database(request)
            holder = await db.run(key_holder, db, credentials.credentials)
            if holder is None:
                raise HTTPException(401, "unknown or revoked API key", UNAUTHORISED)
            request.state.api_key = holder
        if self.permission not in SYSTEM_PERMISSIONS[holder.role]:
            raise HTTPException(403, f"API key {holder.name!r} ({holder.role}) may not do this")
        return holder


def system(permission: ApiPermission) -> SystemKey:
    """A dependency: the calling system's key, refused unless it holds ``permission``."""
    return SystemKey(permission)


class ApiRoute(APIRoute):
    """A route of the API: the caller's key is checked before anything is read (a request
    without a key gets 401 whatever its body), and the body is read as an
    :class:`~web.json_body.ApiRequest`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """FastAPI's handler, after the key's check."""
        handler = super().get_route_handler()
        keys = _system_keys(self.dependant)

        async def key_first(request: Request) -> Response:
            for key in keys:
                await key.check(request)
            return await handler(ApiRequest(request.scope, request.receive))

        return key_first


def _system_keys(dependant: Dependant) -> list[SystemKey]:
    found = [d.call for d in dependant.dependencies if isinstance(d.call, SystemKey)]
    for inner in dependant.dependencies:
        found += _system_keys(inner)
    return found


def problems(described: Mapping[int, str]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI responses: each status a problem (:class:`web.problems.Problem`), described."""
    return {
        status: {"model": Problem, "description": description}
        for status, description in described.items()
    }


ERRORS = problems(
    {
        401: "No API key, or an unknown or revoked one (checked before the body is read).",
        403: "The key's role may not do this (checked before the body is read).",
        422: "A query or path parameter is not valid; `errors` names each, with a code.",
    }
)
"""The refusals every API route may answer."""

BODY_ERRORS = problems(
    {
        400: f"The body is not UTF-8 JSON, is nested more than {MAX_DEPTH} levels deep, or "
        f"has a number longer than {MAX_NUMBER_LENGTH} characters; the type says which, the "
        "detail where.",
        413: f"The body is over {MAX_BODY_BYTES} bytes.",
        415: "The body is not sent as `application/json`.",
        422: "The body is JSON but not a valid request: `errors` names each field at fault "
        "(a JSON Pointer) with a code: missing, unknown or of the wrong type (a boolean is "
        "`true`/`false`, a number is not a string), out of range, a lone surrogate "
        "(`string_unicode`), NaN or Infinity (`finite_number`).",
    }
)
"""The refusals of a route that reads a body, besides :data:`ERRORS`."""

router = APIRouter(prefix="/api/v1", tags=["orders"], route_class=ApiRoute)


class Accepted(BaseModel):
    """The answer to a submitted order."""

    order_id: str
    workflow_id: str
    delivery: str
    """``submitted`` (new, or a repeat the running workflow records) or ``already finished``."""
    status_url: str


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
    responses={**ERRORS, **BODY_ERRORS},
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
    responses={**ERRORS, **problems({404: "No such order (yet)."})},
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


def _iso_date(value: object) -> object:
    """A date in a query is written ``YYYY-MM-DD``: pydantic alone also reads a number of
    seconds since 1970 (``to=0`` would be 1 January 1970)."""
    if isinstance(value, str):
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise WordedError(Wording(message=N_("write the date as YYYY-MM-DD")))
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise WordedError(
                Wording(
                    message=N_("there is no such day (%(typed)s); write YYYY-MM-DD"),
                    args={"typed": value},
                )
            ) from None
    return value


IsoDate = Annotated[date, Field(strict=True), BeforeValidator(_iso_date)]
"""A date as a query writes it: ``YYYY-MM-DD`` and nothing else."""


def api_order_query(
    worklist: Annotated[OrderList, Query(alias="list")] = OrderList.NEW,
    channel: Channel | None = None,
    customer: Annotated[str | None, Query(max_length=64)] = None,
    status: OrderStatus | None = None,
    created_from: Annotated[IsoDate | None, Query(alias="from")] = None,
    created_to: Annotated[IsoDate | None, Query(alias="to")] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> OrderQuery:
    """A dependency: the list, filters, search and page an API client asks for, each as
    typed (the console's own reading of the same parameters forgives blank ones)."""
    return OrderQuery(
        worklist=worklist,
        channel=channel.value if channel else None,
        customer_id=customer or None,
        status=status,
        created_from=created_from,
        created_to=created_to,
        search=q or None,
        page=page,
        page_size=page_size,
    )


@router.get("/orders", response_model=OrderPage, responses=ERRORS)
async def list_orders(
    request: Request,
    _key: Annotated[ApiKeyView, Depends(system(ApiPermission.READ_ORDERS))],
    query: Annotated[OrderQuery, Depends(api_order_query)],
) -> OrderPage:
    """Orders of one list, with the console's filters, a page at a time."""
    db = database(request)
    return await db.run(order_page, db, query)
