"""Complaints in the console (role ``customer_service``): the work list, a phone or chat
complaint taken down, and one case worked: assigned, noted, answered (optionally waiting
for the customer), recategorised, put right by a remedy (a supervisor approves the large
ones), resolved with its root cause. Every action is an update on the case's workflow."""

from __future__ import annotations

import functools
import re
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData
from starlette.responses import Response
from temporalio.exceptions import ApplicationError

from domain.access import Permission, Role
from domain.complaints import (
    ACTION_REFUSED,
    ASSIGN,
    DECIDE_REMEDY,
    NOTE,
    RECATEGORISE,
    REMEDY,
    REPLY,
    RESOLVE,
    Assignment,
    CaseNote,
    CaseReply,
    ComplaintCategory,
    ComplaintChannel,
    ComplaintIntake,
    ComplaintStatus,
    Recategorisation,
    RemedyDecision,
    RemedyKind,
    RemedyOrder,
    RemedyRequest,
    Resolution,
    complaint_workflow_id,
    possible_remedies,
)
from domain.money import typed_amount
from domain.wording import N_, Wording
from ops.complaints import CaseNotStartedError, file_and_open
from ops.staff import StaffAction
from persistence.complaint_views import (
    Download,
    attachment_download,
    complaint_counts,
    complaint_detail,
    complaint_list,
    original_download,
    root_causes,
)
from persistence.transactions import accounts
from persistence.transactions.complaints import ComplaintRefusedError, find_case, plan_refund

from .field_words import COMPLAINT_ACTION_LABELS
from .i18n import translations, words
from .rendering import render
from .security import FormChecked, RowNumber, Staff, database, requires, settings_of, temporal
from .stock import act_on_workflow, reasons_of, refusal_page

router = APIRouter(prefix="/complaints")

Handler = Annotated[Staff, Depends(requires(Permission.HANDLE_COMPLAINTS))]
LISTS = ("open", "mine", "team", "breached", "all")
TAKEN_BY_STAFF = (ComplaintChannel.PHONE, ComplaintChannel.CHAT)


@router.get("")
async def complaints_page(
    request: Request, user: Handler, chosen: Annotated[str, Query(alias="list")] = "open"
) -> Response:
    """The work list: open complaints, mine, the team queue, the breached, or all."""
    which = chosen if chosen in LISTS else "open"
    owner = {"mine": user.account.username, "team": "-"}.get(which)
    db = database(request)
    rows = await db.run(
        functools.partial(
            complaint_list, db, which="open" if which in ("mine", "team") else which, owner=owner
        )
    )
    counts = await db.run(complaint_counts, db, user.account.username)
    return render(
        "complaints.html", user.account.locale, user=user, rows=rows, which=which, counts=counts
    )


@router.get("/new")
async def new_complaint_page(request: Request, user: Handler) -> Response:
    """The form for a complaint taken by phone or chat."""
    return _new_form(user, {}, None)


def _new_form(
    user: Staff, values: dict[str, str], problem: str | None, status: int = 200
) -> Response:
    return render(
        "complaint_new.html",
        user.account.locale,
        status,
        user=user,
        values=values,
        problem=problem,
        channels=TAKEN_BY_STAFF,
        categories=list(ComplaintCategory),
    )


@router.post("/new")
async def take_complaint(request: Request, user: Handler, _form: FormChecked) -> Response:
    """File the complaint (taken by the logged-in user) and open its case."""
    values = _values(await request.form())
    fields: dict[str, Any] = {name: value for name, value in values.items() if value}
    fields["taken_by"] = user.account.username
    try:
        intake = ComplaintIntake.model_validate(fields)
        if intake.channel not in TAKEN_BY_STAFF:
            raise ValueError("channel: phone or chat")
    except ValidationError as invalid:
        return _new_form(user, values, reasons_of(invalid, user.account.locale), 422)
    except ValueError as wrong:
        return _new_form(user, values, str(wrong), 422)
    db = database(request)
    try:
        filed = await file_and_open(
            await temporal(request), db, intake, settings_of(request).complaint_policy()
        )
    except ComplaintRefusedError as refused:
        return _new_form(user, values, str(refused), 409)
    except CaseNotStartedError as late:
        return _new_form(user, values, str(late), 503)
    return RedirectResponse(f"/complaints/{filed.case.id}?done=filed", status_code=303)


@router.get("/{complaint_id}")
async def complaint_page(request: Request, complaint_id: RowNumber, user: Handler) -> Response:
    """One case: what the customer said, the clocks, remedies, history and the actions."""
    return await _case_page(request, user, complaint_id)


async def _case_page(
    request: Request,
    user: Staff,
    complaint_id: int,
    typed: dict[str, dict[str, Any]] | None = None,
    problems: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    """The case's page; a refused action's form keeps what was ``typed`` and shows its
    problem beside it (both by the action's name)."""
    db = database(request)
    detail = await db.run(complaint_detail, db, complaint_id)
    if detail is None:
        return render(
            "problem.html",
            user.account.locale,
            404,
            status=404,
            reason=translations(user.account.locale).gettext(N_("no complaint %(id)s"))
            % {"id": complaint_id},
            back="/complaints",
        )
    staff = await db.run(accounts.list_users, db)
    agents = [a.username for a in staff if a.role is Role.CUSTOMER_SERVICE and a.active]
    return render(
        "complaint.html",
        user.account.locale,
        status,
        typed=typed or {},
        problems=problems or {},
        user=user,
        complaint=detail,
        agents=agents,
        categories=list(ComplaintCategory),
        remedy_kinds=[
            kind
            for kind in possible_remedies(detail.case)
            if kind is not RemedyKind.RESHIP or detail.reshippable
        ],
        root_causes=await db.run(root_causes, db),
        policy=settings_of(request).complaint_policy(),
        open=detail.case.status
        in (ComplaintStatus.NEW, ComplaintStatus.IN_PROGRESS, ComplaintStatus.WAITING_FOR_CUSTOMER),
        may_approve=user.may(Permission.APPROVE_REMEDIES),
        done=request.query_params.get("done"),
    )


SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9.+-]*/[a-z0-9][a-z0-9.+-]*")


@router.get("/{complaint_id}/attachments/{attachment_id}")
async def attachment(
    request: Request, complaint_id: RowNumber, attachment_id: RowNumber, user: Handler
) -> Response:
    """Download an attachment of the case (staff who may open the case may download it)."""
    db = database(request)
    found = await db.run(attachment_download, db, complaint_id, attachment_id)
    return _download(user, found, f"complaint-{complaint_id}-{attachment_id}", complaint_id)


@router.get("/{complaint_id}/mail/{mail_id}/original")
async def original_message(
    request: Request, complaint_id: RowNumber, mail_id: RowNumber, user: Handler
) -> Response:
    """Download a message of the case as it was delivered (``.eml``)."""
    db = database(request)
    found = await db.run(original_download, db, complaint_id, mail_id)
    return _download(user, found, "", complaint_id)


def _download(user: Staff, found: Download | None, prefix: str, complaint_id: int) -> Response:
    if found is None:
        return render(
            "problem.html",
            user.account.locale,
            404,
            status=404,
            reason=translations(user.account.locale).gettext(N_("no such file on this complaint")),
            back=f"/complaints/{complaint_id}",
        )
    # Content from a mail is never shown by the console itself: always a download, of
    # the type it claims only if that is a well-formed one, never sniffed or scripted.
    name = SAFE_NAME.sub("_", found.filename).strip("._")[:100] or "file"
    filename = f"{prefix}-{name}" if prefix else name
    media_type = found.media_type if MEDIA_TYPE.fullmatch(found.media_type) else ""
    return Response(
        found.content,
        media_type=media_type or "application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox; default-src 'none'",
            "Cache-Control": "no-store",
        },
    )


ITEM = re.compile(r"(\S+)\s*[x\u00d7*]\s*(\d+)")  # x, the multiplication sign, or *


def remedy_items(text: str) -> list[dict[str, Any]]:
    """``WIDGET-1 x 2, GADGET-2 x 1`` as re-shipment items; ValueError naming a bad part."""
    items = []
    for part in (piece.strip() for piece in text.split(",") if piece.strip()):
        found = ITEM.fullmatch(part)
        if found is None:
            raise ValueError(f"items: {part!r} is not 'SKU x quantity' (e.g. WIDGET-1 x 2)")
        items.append({"sku": found.group(1), "quantity": int(found.group(2))})
    return items


def _values(form: FormData) -> dict[str, str]:
    # A browser counts a line break as one character and sends it as two (CRLF): a
    # reply that fits the box would otherwise be refused as too long.
    return {
        name: str(value).replace("\r\n", "\n").strip()
        for name, value in form.items()
        if name != "csrf_token"
    }


async def _refund_refused(
    request: Request, user: Staff, complaint_id: int, values: dict[str, Any]
) -> str | None:
    """Why a proposed refund could not be carried out (more than the order still holds, no
    finished order or invoice), in the reader's language; None when it could, or when the
    form is not a readable refund (the workflow's own checks answer that).

    The same rule refuses the refund when it is carried out; asked up front, a refund that
    would fail is not put to a supervisor first."""
    if values.get("kind") != RemedyKind.REFUND.value:
        return None
    try:
        amount = Decimal(typed_amount(str(values.get("amount", ""))))
    except (ValueError, ArithmeticError):
        return None
    if amount <= 0:
        return None
    db = database(request)
    case = await db.run(find_case, db, complaint_id)
    if case is None:
        return None
    remedy = RemedyOrder(
        complaint_id=complaint_id,
        number=len(case.remedies) + 1,
        kind=RemedyKind.REFUND,
        customer_id=case.customer_id,
        order_id=case.order_id,
        amount=amount,
        reason=str(values.get("reason", "")),
    )
    try:
        await db.run(plan_refund, db, remedy)
    except ApplicationError as refusal:
        if refusal.type != ACTION_REFUSED:
            raise
        said = refusal.details[0] if refusal.details else None
        if not isinstance(said, dict):
            return refusal.message
        return words(Wording.model_validate(said), user.account.locale)
    return None


def _build(model: type[BaseModel], values: dict[str, Any]) -> BaseModel:
    return model.model_validate({name: value for name, value in values.items() if value != ""})


ACTIONS: dict[str, tuple[str, type[BaseModel]]] = {
    "assign": (ASSIGN, Assignment),
    "note": (NOTE, CaseNote),
    "reply": (REPLY, CaseReply),
    "recategorise": (RECATEGORISE, Recategorisation),
    "remedy": (REMEDY, RemedyRequest),
    "resolve": (RESOLVE, Resolution),
}


@router.post("/{complaint_id}/{action}")
async def act(
    request: Request, complaint_id: RowNumber, action: str, user: Handler, _form: FormChecked
) -> Response:
    """A staff action on the case: an update on its workflow, as the logged-in user."""
    back = f"/complaints/{complaint_id}"
    values: dict[str, Any] = _values(await request.form())
    values["actor"] = user.account.username
    name: str
    model: type[BaseModel]
    if action == "decide":
        if not user.may(Permission.APPROVE_REMEDIES):
            return refusal_page(
                user,
                translations(user.account.locale).gettext(
                    N_("approving remedies is a supervisor's part")
                ),
                back,
                403,
            )
        values["approve"] = values.get("approve") == "yes"
        name, model = DECIDE_REMEDY, RemedyDecision
    elif action in ACTIONS:
        name, model = ACTIONS[action]
        if action == "reply":
            values["wait_for_customer"] = values.get("wait_for_customer") == "on"
        if action == "remedy":
            try:
                values["items"] = remedy_items(values.get("items", ""))
            except ValueError as wrong:
                return refusal_page(user, str(wrong), back, 422)
            if (refused := await _refund_refused(request, user, complaint_id, values)) is not None:
                return await _case_page(
                    request,
                    user,
                    complaint_id,
                    typed={action: values},
                    problems={action: refused},
                    status=409,
                )
        if action == "resolve" and (cause := values.get("root_cause")):
            # The form offers the active root causes; anything else would be counted in
            # the analysis under a cause nobody defined.
            db = database(request)
            known = [code for code, _label in await db.run(root_causes, db)]
            if cause not in known:
                gettext = translations(user.account.locale).gettext
                return refusal_page(
                    user,
                    gettext(N_("root_cause: not a root cause in use (one of: %(codes)s)"))
                    % {"codes": ", ".join(known) or gettext(N_("none defined"))},
                    back,
                    422,
                )
    else:
        return RedirectResponse(back, status_code=303)
    try:  # a wrong field: the case's page again, the form as typed, the problem beside it
        _build(model, values)
    except ValidationError as invalid:
        return await _case_page(
            request,
            user,
            complaint_id,
            typed={action: values},
            problems={action: reasons_of(invalid, user.account.locale, COMPLAINT_ACTION_LABELS)},
            status=422,
        )
    return await act_on_workflow(
        request,
        user,
        StaffAction(complaint_workflow_id(complaint_id), name, f"complaint #{complaint_id}"),
        functools.partial(_build, model, values),
        back=back,
        done=action,
    )
