"""The customers part of the HTTP API, for a CRM or the web shop's account pages: one
customer's record out, and batches in that create new customers and update known ones,
all or nothing, each change audited with the key's name as the actor (``api:<name>``). A
field an item does not hold keeps its stored value (:mod:`web.record_batches`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, HTTPException, Path, Request

from domain.access import ApiKeyView, ApiPermission
from domain.customers import CUSTOMER_ID_PATTERN, CustomerRecord
from persistence.customer_files import CUSTOMERS_FILE, merge_customers
from persistence.transactions.catalogue import Imported
from persistence.transactions.customers import find_customer

from .api import BODY_ERRORS, ERRORS, ApiRoute, problems, system
from .record_batches import merged, partial_record, sent_fields
from .security import database

router = APIRouter(prefix="/api/v1/customers", tags=["customers"], route_class=ApiRoute)

MAX_RECORDS = 500
"""The most customers one request may carry."""

CustomerFields = partial_record(CustomerRecord, CUSTOMERS_FILE.keys, CUSTOMERS_FILE.required)


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
    response_model=Imported,
    responses={
        **ERRORS,
        **BODY_ERRORS,
        **problems(
            {
                409: "Refused, nothing written: a record (as sent over the stored one) breaks "
                "a rule of its own (consent without how it was given, net terms without days), "
                "repeats another, or is new and lacks `name` or `email`; the detail names each "
                "by its position (from 1) and what is wrong."
            }
        ),
    },
)
async def put_customers(
    request: Request,
    records: Annotated[
        list[CustomerFields],  # type: ignore[valid-type]
        Body(min_length=1, max_length=MAX_RECORDS, description=f"1 to {MAX_RECORDS} records"),
    ],
    key: Annotated[ApiKeyView, Depends(system(ApiPermission.MANAGE_CUSTOMERS))],
) -> Imported:
    """Create the customers that are new, update those that differ (by id): only the
    fields an item holds are set, the others keep their stored values (`null` clears
    `preferred_channel`). A new customer needs `id`, `name` and `email` (409 naming what it
    lacks). The answer counts the records and names each updated one's changed fields."""
    return await merged(request, merge_customers, sent_fields(records), f"api:{key.name}"[:64])
