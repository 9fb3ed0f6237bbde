"""Customers in the console: the list, the customer view (profile, purchase history,
payment behaviour, derived preferences, the change audit), the record's form, and CSV
import and export (role ``customer_service`` keeps records; order processing reads)."""

from __future__ import annotations

import functools
import json
import secrets
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy import select
from starlette.responses import Response
from temporalio.common import WorkflowIDConflictPolicy

from domain.access import Permission
from domain.care import COMPLETE_CARE_TASK, CareTaskDone, care_task_workflow_id
from domain.catalogue import Standing
from domain.credit_scoring import CreditDecisionInput
from domain.customers import ContactRecord, CustomerRecord
from domain.orders import TASK_QUEUE
from domain.segments import (
    CUSTOMER_REVIEW_WORKFLOW_ID,
    CUSTOMER_REVIEW_WORKFLOW_TYPE,
    Abc,
    CustomerReviewRequest,
    Segment,
)
from ops.staff import StaffAction
from persistence.complaint_views import customer_complaints
from persistence.csv_files import CsvFileError
from persistence.customer_files import export_customers, import_customers
from persistence.customer_views import customer_history
from persistence.database import Database
from persistence.models import Customer
from persistence.transactions.care import care_tasks
from persistence.transactions.catalogue import CatalogueRecordsError
from persistence.transactions.credit_reviews import (
    CreditDecisionError,
    credit_proposals,
    credit_standing,
    decide_credit_proposal,
)
from persistence.transactions.customers import (
    add_contact,
    customer_changes,
    customer_contacts,
    customer_record,
    find_customer,
    remove_contact,
    save_customers,
)
from persistence.transactions.privacy import (
    ErasureRefusedError,
    erase_customer,
    export_customer_data,
)
from persistence.transactions.segments import segment_counts, segment_standing

from .catalogue import form_fields, imported, read_upload, record_values, shown_problems
from .labels import CUSTOMER_FIELD_LABELS
from .rendering import render
from .security import FormChecked, RowNumber, Staff, database, requires, settings_of, temporal
from .stock import act_on_workflow, reasons_of, refusal_page

router = APIRouter(prefix="/customers")

Reader = Annotated[Staff, Depends(requires(Permission.VIEW_CUSTOMERS))]
Keeper = Annotated[Staff, Depends(requires(Permission.EDIT_CUSTOMERS))]

LIST_LIMIT = 500
"""The most customers a list shows (narrow it with the search)."""


def _matching(db: Database, q: str, tag: str, active: str) -> tuple[list[CustomerRecord], bool]:
    """Customers whose id, name or e-mail holds ``q`` and that carry ``tag``; whether
    more matched than the list shows. Names are encrypted at rest, so the search reads
    them here rather than in SQL."""
    needle = q.casefold()
    found: list[CustomerRecord] = []
    with db.reading() as session:
        query = select(Customer).order_by(Customer.id)
        if active in ("yes", "no"):
            query = query.where(Customer.active.is_(active == "yes"))
        if tag:
            query = query.where(Customer.tags.contains(tag))
        for row in session.scalars(query):
            record = customer_record(row)
            if tag and tag not in record.tags.split(", "):
                continue
            text = f"{record.id}\n{record.name}\n{record.email}".casefold()
            if needle and needle not in text:
                continue
            found.append(record)
            if len(found) > LIST_LIMIT:
                return found[:LIST_LIMIT], True
    return found, False


@router.get("")
async def customers_page(
    request: Request, user: Reader, q: str = "", tag: str = "", active: str = "yes"
) -> Response:
    """Customers by id, searched by id, name or e-mail, by tag, active or not."""
    db = database(request)
    rows, more = await db.run(_matching, db, q.strip(), tag.strip(), active)
    return render(
        "customers.html",
        user.account.locale,
        user=user,
        rows=rows,
        more=more,
        filters={"q": q, "tag": tag, "active": active},
        keeper=user.may(Permission.EDIT_CUSTOMERS),
        problems=[],
        done=request.query_params.get("done"),
    )


@router.get("/export.csv")
async def export(request: Request, _user: Keeper) -> Response:
    """Every customer as a CSV file ``oms customers import`` takes back (personal data:
    for those who keep the records)."""
    db = database(request)
    text = await db.run(export_customers, db)
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="customers.csv"'},
    )


@router.post("/import")
async def import_file(request: Request, user: Keeper, _form: FormChecked) -> Response:
    """Create or update customers from an uploaded CSV file; nothing is written if any row
    is bad, and each bad row is listed with its line and column. A known customer keeps
    the fields the file has no column for; the message names the fields that changed."""
    try:
        name, text = await read_upload(request)
        db = database(request)
        loaded = await db.run(import_customers, db, text, user.account.username)
    except CsvFileError as refused:
        return render(
            "customers.html",
            user.account.locale,
            422,
            user=user,
            rows=[],
            more=False,
            filters={"q": "", "tag": "", "active": "yes"},
            keeper=True,
            problems=shown_problems(refused.problems),
            done=None,
        )
    return RedirectResponse(f"/customers?done={quote(imported(name, loaded))}", status_code=303)


@router.get("/segments")
async def segments_page(
    request: Request, user: Annotated[Staff, Depends(requires(Permission.VIEW_CUSTOMER_FIGURES))]
) -> Response:
    """Customers per RFM segment and ABC class from the last classification (figures only),
    and a button to classify now."""
    db = database(request)
    counts = await db.run(segment_counts, db)
    return render(
        "segments.html",
        user.account.locale,
        user=user,
        counts=counts,
        segments=list(Segment),
        classes=list(Abc),
        keeper=user.may(Permission.EDIT_CUSTOMERS),
        done=request.query_params.get("done"),
    )


@router.post("/segments/classify")
async def classify_now(request: Request, _user: Keeper, _form: FormChecked) -> Response:
    """Start the customer review now (one at a time); the figures change when it ends."""
    await (await temporal(request)).start_workflow(
        CUSTOMER_REVIEW_WORKFLOW_TYPE,
        CustomerReviewRequest(),
        id=CUSTOMER_REVIEW_WORKFLOW_ID,
        task_queue=TASK_QUEUE,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    return RedirectResponse("/customers/segments?done=classify", status_code=303)


@router.get("/care")
async def care_page(request: Request, user: Keeper, done: str = "") -> Response:
    """Care tasks: mine, the team queue's, and (for admins) everyone's open ones."""
    db = database(request)
    me = user.account.username
    mine = await db.run(functools.partial(care_tasks, owner=me), db)
    queue = await db.run(functools.partial(care_tasks, team_queue=True), db)
    everyone = await db.run(care_tasks, db) if user.may(Permission.MANAGE_USERS) else []
    return render(
        "care.html",
        user.account.locale,
        user=user,
        mine=mine,
        queue=queue,
        others=[t for t in everyone if t.owner not in (None, me)],
        done=done,
        action_id=secrets.token_urlsafe(12),
    )


@router.post("/care/{task_id}/complete")
async def complete_care_task(
    request: Request, task_id: RowNumber, user: Keeper, _form: FormChecked
) -> Response:
    """The task is done: its outcome goes to the task's workflow, which records it."""
    form = await request.form()
    return await act_on_workflow(
        request,
        user,
        StaffAction(care_task_workflow_id(task_id), COMPLETE_CARE_TASK, f"care task {task_id}"),
        lambda: CareTaskDone.model_validate(
            {"outcome": str(form.get("outcome", "")), "actor": user.account.username}
        ),
        back="/customers/care",
        done=str(task_id),
        update_id=str(form.get("action_id", "")) or None,
    )


Authority = Annotated[Staff, Depends(requires(Permission.CREDIT_AUTHORITY))]


@router.get("/credit")
async def credit_page(request: Request, user: Authority, done: str = "") -> Response:
    """The credit evaluation's open proposals, each with its score and reasons, to accept
    or override; and the latest decisions."""
    return await _credit(request, user, done=done)


@router.post("/credit/{proposal_id}/{answer}")
async def decide_credit(
    request: Request, proposal_id: RowNumber, answer: str, user: Authority, _form: FormChecked
) -> Response:
    """Accept a proposal as it is, or override it with a limit, a standing and a reason."""
    if answer not in ("accept", "override"):
        return _missing(user, f"credit/{proposal_id}/{answer}")
    form = await request.form()
    values = {name: str(value).strip() for name, value in form.items()}
    try:
        decision = CreditDecisionInput.model_validate(
            {
                "accept": answer == "accept",
                "limit": values.get("limit") or None,
                "standing": values.get("standing") or None,
                "reason": values.get("reason", ""),
                "actor": user.account.username,
            }
        )
    except ValidationError as invalid:
        return await _credit(
            request, user, problem=reasons_of(invalid, user.account.locale), status=422
        )
    db = database(request)
    try:
        await db.run(decide_credit_proposal, db, proposal_id, decision)
    except CreditDecisionError as refused:
        return await _credit(request, user, problem=str(refused), status=409)
    return RedirectResponse(f"/customers/credit?done={proposal_id}", status_code=303)


async def _credit(
    request: Request, user: Staff, *, done: str = "", problem: str = "", status: int = 200
) -> Response:
    db = database(request)
    open_ones = await db.run(credit_proposals, db)
    decided = [
        p
        for p in await db.run(functools.partial(credit_proposals, open_only=False), db)
        if p.status in ("accepted", "overridden")
    ][:20]
    return render(
        "credit.html",
        user.account.locale,
        status,
        user=user,
        proposals=open_ones,
        decided=decided,
        standings=list(Standing),
        done=done,
        problem=problem,
    )


@router.get("/new")
async def new_customer(user: Keeper) -> Response:
    """The form for a new customer."""
    return _form(
        user,
        {"kind": "company", "language": "en", "active": "true", "contact_by_email": "true"},
        None,
    )


@router.post("/new")
async def create_customer(request: Request, user: Keeper, _form: FormChecked) -> Response:
    """Create a customer; a wrong field is shown on the form with what was typed."""
    return await _save(request, user, None)


@router.get("/{customer_id}")
async def customer_page(request: Request, customer_id: str, user: Reader) -> Response:
    """One customer: profile, purchase history, payment behaviour, derived preferences,
    and who changed what."""
    db = database(request)
    record = await db.run(find_customer, db, customer_id)
    if record is None:
        return _missing(user, customer_id)
    today = datetime.now(UTC).date()
    history = await db.run(functools.partial(customer_history, today=today), db, customer_id)
    changes = await db.run(customer_changes, db, customer_id)
    standing = await db.run(segment_standing, db, customer_id)
    credit = await db.run(credit_standing, db, customer_id)
    tasks = await db.run(functools.partial(care_tasks, customer_id=customer_id), db)
    contacts = await db.run(customer_contacts, db, customer_id)
    complaints = await db.run(customer_complaints, db, customer_id)
    return render(
        "customer.html",
        user.account.locale,
        user=user,
        customer=record,
        history=history,
        changes=changes,
        standing=standing,
        credit=credit,
        tasks=tasks,
        contacts=contacts,
        complaints=complaints,
        keeper=user.may(Permission.EDIT_CUSTOMERS),
        saved=request.query_params.get("saved"),
    )


@router.get("/{customer_id}/export.json")
async def export_data(request: Request, customer_id: str, _user: Keeper) -> Response:
    """Everything held about the customer, as a JSON file (an access request)."""
    db = database(request)
    retention_days = settings_of(request).retention_days
    data = await db.run(export_customer_data, db, customer_id, retention_days=retention_days)
    if data is None:
        return Response(status_code=404)
    return Response(
        json.dumps(data, indent=2, ensure_ascii=False),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{customer_id}.json"'},
    )


@router.post("/{customer_id}/erase")
async def erase(request: Request, customer_id: str, user: Keeper, _form: FormChecked) -> Response:
    """Erase the customer's personal data, once the id is typed again to confirm."""
    form = await request.form()
    back = f"/customers/{quote(customer_id)}"
    if str(form.get("confirm", "")).strip() != customer_id:
        return refusal_page(user, f"type the customer id {customer_id} to confirm", back, 422)
    db = database(request)
    try:
        await db.run(erase_customer, db, customer_id, user.account.username)
    except ErasureRefusedError as refused:
        return refusal_page(user, str(refused), back)
    return RedirectResponse(f"{back}?saved=erased", status_code=303)


@router.post("/{customer_id}/contacts")
async def add_contact_person(
    request: Request, customer_id: str, user: Keeper, _form: FormChecked
) -> Response:
    """Add a person to talk to at the customer (audited)."""
    form = await request.form()
    back = f"/customers/{quote(customer_id)}"
    values = {
        name: str(form.get(name, "")).strip()
        for name in ("name", "role", "email", "phone")
        if str(form.get(name, "")).strip()
    }
    try:
        contact = ContactRecord.model_validate(values)
    except ValidationError as invalid:
        return refusal_page(user, reasons_of(invalid, user.account.locale), back, 422)
    db = database(request)
    try:
        await db.run(add_contact, db, customer_id, contact, user.account.username)
    except CatalogueRecordsError as refused:
        return refusal_page(user, str(refused), back, 404)
    return RedirectResponse(f"{back}?saved=contact#contacts", status_code=303)


@router.post("/{customer_id}/contacts/{contact_id}/remove")
async def remove_contact_person(
    request: Request, customer_id: str, contact_id: RowNumber, user: Keeper, _form: FormChecked
) -> Response:
    """Remove a contact (audited)."""
    db = database(request)
    back = f"/customers/{quote(customer_id)}"
    if not await db.run(remove_contact, db, customer_id, contact_id, user.account.username):
        return refusal_page(user, f"no contact {contact_id} of {customer_id}", back, 404)
    return RedirectResponse(f"{back}?saved=contact#contacts", status_code=303)


@router.get("/{customer_id}/edit")
async def edit_customer(request: Request, customer_id: str, user: Keeper) -> Response:
    """The form for an existing customer."""
    db = database(request)
    record = await db.run(find_customer, db, customer_id)
    if record is None:
        return _missing(user, customer_id)
    return _form(user, record_values(record), customer_id)


@router.post("/{customer_id}/edit")
async def change_customer(
    request: Request, customer_id: str, user: Keeper, _form: FormChecked
) -> Response:
    """Change a customer (deactivating one is unticking "active")."""
    return await _save(request, user, customer_id)


async def _save(request: Request, user: Staff, customer_id: str | None) -> Response:
    form = await request.form()
    values = {name: str(value).strip() for name, value in form.items() if name != "csrf_token"}
    if customer_id is not None:
        values["id"] = customer_id
    typed = {
        field.name: ("true" if values.get(field.name) else "false")
        if field.checkbox
        else values.get(field.name, "")
        for field in form_fields(CustomerRecord)
    }
    try:
        record = CustomerRecord.model_validate_strings({k: v for k, v in typed.items() if v != ""})
    except ValidationError as invalid:
        return _form(
            user,
            typed,
            customer_id,
            reasons_of(invalid, user.account.locale, CUSTOMER_FIELD_LABELS),
        )
    db = database(request)
    if customer_id is None and await db.run(find_customer, db, record.id) is not None:
        return _form(user, typed, None, f"id: customer {record.id} exists already", 409)
    try:
        await db.run(save_customers, db, [record], user.account.username)
    except CatalogueRecordsError as refused:
        reason = "; ".join(why for _index, why in refused.problems)
        return _form(user, typed, customer_id, reason, 409)
    return RedirectResponse(f"/customers/{quote(record.id)}?saved=1", status_code=303)


def _form(
    user: Staff,
    values: dict[str, str],
    customer_id: str | None,
    problem: str | None = None,
    status: int = 422,
) -> Response:
    return render(
        "customer_form.html",
        user.account.locale,
        status if problem else 200,
        user=user,
        fields=form_fields(CustomerRecord),
        values=values,
        customer_id=customer_id,
        problem=problem,
    )


def _missing(user: Staff, customer_id: str) -> Response:
    return render(
        "problem.html",
        user.account.locale,
        404,
        status=404,
        reason=f"no customer {customer_id!r}",
        back="/customers",
    )
