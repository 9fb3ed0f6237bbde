"""The customers part of the HTTP API, for a CRM or the web shop's account pages: one
customer's record out, and batches in that create new customers and update known ones,
all or nothing, each change audited with the key's name as the actor (``api:<name>``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, HTTPException, Path, Request

from domain.access import ApiKeyView, ApiPermission
from domain.customers import CUSTOMER_ID_PATTERN, CustomerRecord
from persistence.transactions.catalogue import CatalogueRecordsError, Loaded
from persistence.transactions.customers import find_customer, save_customers

from .api import BODY_ERRORS, ERRORS, ApiRoute, problems, system
from .security import database

router = APIRouter(prefix="/api/v1/customers", tags=["customers"], route_class=ApiRoute)

MAX_RECORDS = 500
"""The most customers one request may carry."""


@router.get(
    "/{customer_id}",
    response_model=CustomerRecord,
    responses={**ERRORS, **problems({404: "No such customer."})},
)
async def get_customer(
    request: Request,
    customer_id: Annotated[str, Path(pattern=CUSTOMER_ID_PATTERN)],
    _key: Annotated[ApiKeyView, Depends(system(ApiPermission.READ_CUSTOMERS))],
) -> CustomerRecord:
    """One customer's record, personal data included (the key's role is trusted with it)."""
    db = database(request)
    record = await db.run(find_customer, db, customer_id)
    if record is None:
        raise HTTPException(404, f"no customer {customer_id!r}")
    return record


@router.post(
    "",
    response_model=Loaded,
    responses={
        **ERRORS,
        **BODY_ERRORS,
        **problems(
            {
                409: "Refused, nothing written: a record breaks a rule of its own "
                "(consent without how it was given, net terms without days) or repeats another; "
                "the detail names each by its position (from 1)."
            }
        ),
    },
)
async def put_customers(
    request: Request,
    records: Annotated[
        list[CustomerRecord],
        Body(min_length=1, max_length=MAX_RECORDS, description=f"1 to {MAX_RECORDS} records"),
    ],
    key: Annotated[ApiKeyView, Depends(system(ApiPermission.MANAGE_CUSTOMERS))],
) -> Loaded:
    """Create the customers that are new, update those that differ (by id)."""
    db = database(request)
    try:
        return await db.run(save_customers, db, records, f"api:{key.name}"[:64])
    except CatalogueRecordsError as refused:
        raise HTTPException(409, str(refused)) from refused
