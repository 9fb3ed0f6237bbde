"""The stock part of the HTTP API, for warehouse systems and scanner apps: levels out,
receipts, issues, adjustments and transfers in. A key of role ``warehouse`` may use it;
its name is recorded as the actor of every movement it books (``api:<name>``)."""

from __future__ import annotations

import functools
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from pydantic import BaseModel

from domain.access import ApiKeyView, ApiPermission
from domain.inventory import StockChangeDocument, StockMoved, TransferDocument, TransferView
from domain.shipping import PARCEL_PACKED_SIGNAL, PackingDocument, shipment_workflow_id
from ops.staff import StaffAction, StaffActionError, perform
from persistence.stock_views import StockRow, stock_rows
from persistence.transactions.stock import StockOperationError, book_stock_change
from persistence.transactions.transfers import dispatch_transfer, receive_transfer

from .api import BODY_ERRORS, ERRORS, ApiRoute, problems, system
from .security import RowNumber, database, temporal

router = APIRouter(prefix="/api/v1/stock", tags=["stock"], route_class=ApiRoute)

REFUSAL = problems(
    {
        409: "Refused: it would leave fewer units than orders hold or than none, "
        "or names an unknown product or warehouse; the detail says which."
    }
)
REFUSED = {**BODY_ERRORS, **REFUSAL}


class WorkflowAnswer(BaseModel):
    """What the workflow said to a confirmation it took."""

    detail: str


def _actor(key: ApiKeyView) -> str:
    return f"api:{key.name}"[:64]


@router.get("", response_model=list[StockRow], responses=ERRORS)
async def list_stock(
    request: Request,
    _key: Annotated[ApiKeyView, Depends(system(ApiPermission.READ_STOCK))],
    warehouse: str | None = None,
    q: str | None = None,
) -> list[StockRow]:
    """Stock per product and warehouse: on hand, reserved, free, incoming, value at cost."""
    db = database(request)
    return await db.run(
        functools.partial(stock_rows, warehouse_id=warehouse or None, search=q or None), db
    )


@router.post("/operations", response_model=StockMoved, responses={**ERRORS, **REFUSED})
async def book_operation(
    request: Request,
    document: StockChangeDocument,
    key: Annotated[ApiKeyView, Depends(system(ApiPermission.OPERATE_STOCK))],
) -> StockMoved:
    """A goods receipt, goods issue or adjustment; the same reference twice books once
    (the answer then says ``repeated``)."""
    db = database(request)
    try:
        return await db.run(book_stock_change, db, document.by(_actor(key)))
    except StockOperationError as refused:
        raise HTTPException(409, str(refused)) from refused


@router.post("/transfers", response_model=TransferView, responses={**ERRORS, **REFUSED})
async def send_transfer(
    request: Request,
    document: TransferDocument,
    key: Annotated[ApiKeyView, Depends(system(ApiPermission.OPERATE_STOCK))],
) -> TransferView:
    """Send stock to another warehouse: out now, in transit until received."""
    db = database(request)
    try:
        return await db.run(dispatch_transfer, db, document.by(_actor(key)))
    except StockOperationError as refused:
        raise HTTPException(409, str(refused)) from refused


@router.post(
    "/transfers/{transfer_id}/receive",
    response_model=TransferView,
    responses={**ERRORS, **REFUSAL},
)
async def receive(
    request: Request,
    transfer_id: RowNumber,
    key: Annotated[ApiKeyView, Depends(system(ApiPermission.OPERATE_STOCK))],
) -> TransferView:
    """Book a transfer in transit into its receiving warehouse (once)."""
    db = database(request)
    try:
        return await db.run(receive_transfer, db, transfer_id, _actor(key))
    except StockOperationError as refused:
        raise HTTPException(409, str(refused)) from refused


@router.post(
    "/parcels/{shipment_id}/packed",
    response_model=WorkflowAnswer,
    responses={
        **ERRORS,
        **BODY_ERRORS,
        **problems(
            {
                409: "The parcel does not wait to be packed (booked already, not "
                "planned yet, or no such parcel); the detail says which."
            }
        ),
    },
)
async def parcel_packed(
    request: Request,
    shipment_id: Annotated[str, Path(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9._-]+$")],
    document: PackingDocument,
    key: Annotated[ApiKeyView, Depends(system(ApiPermission.OPERATE_STOCK))],
) -> WorkflowAnswer:
    """The parcel is picked and packed: its workflow books the carrier."""
    target = StaffAction(
        shipment_workflow_id(shipment_id), PARCEL_PACKED_SIGNAL, f"parcel {shipment_id}"
    )
    try:
        answer = await perform(await temporal(request), target, document.by(_actor(key)))
    except StaffActionError as refused:
        raise HTTPException(409, str(refused)) from refused
    return WorkflowAnswer(detail=answer)
