"""The catalogue in the console: products, warehouses and stock levels listed, created and
changed one at a time, imported from and exported to the same CSV files ``oms catalogue``
reads and writes (role ``warehouse`` and admins keep it; stock readers see it)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from types import NoneType
from typing import Annotated, Any, get_args
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, ValidationError
from starlette.datastructures import UploadFile
from starlette.responses import Response

from domain.access import Permission
from persistence.catalogue_files import (
    KINDS,
    Kind,
    export_text,
    import_report,
    import_text,
    load_records,
)
from persistence.catalogue_views import catalogue_page
from persistence.csv_files import CsvFileError, decode_csv
from persistence.transactions.catalogue import CatalogueRecordsError, Imported, stored_record

from .labels import CATALOGUE_FIELD_LABELS
from .rendering import render
from .security import FormChecked, Staff, database, requires
from .stock import reasons_of

router = APIRouter(prefix="/stock/catalogue")

Reader = Annotated[Staff, Depends(requires(Permission.VIEW_STOCK))]
Keeper = Annotated[Staff, Depends(requires(Permission.MANAGE_CATALOGUE))]

KEYS = {
    Kind.PRODUCTS: ("sku",),
    Kind.WAREHOUSES: ("id",),
    Kind.LEVELS: ("sku", "warehouse_id"),
}
"""The fields that name a record of each kind (fixed once it exists)."""

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
"""The largest CSV file the console takes (tens of thousands of rows)."""

CHANGES_SHOWN = 50
"""Changed records an import's message names; the rest are counted."""

PROBLEMS_SHOWN = 200
"""Problems of a refused file a page lists; the rest are counted."""


@dataclass(frozen=True)
class FormField:
    """One input of a record's form."""

    name: str
    required: bool
    choices: tuple[str, ...] | None
    """The allowed values of an enumeration (a select); None for free text."""
    checkbox: bool
    blank: bool
    """The field may be left empty (an enumeration's select then offers no choice)."""


def form_fields(record: type[BaseModel]) -> list[FormField]:
    """The inputs of a form for ``record``, in its fields' order."""
    fields = []
    for name, info in record.model_fields.items():
        kinds = [k for k in get_args(info.annotation) or (info.annotation,) if k is not NoneType]
        enum = next((k for k in kinds if isinstance(k, type) and issubclass(k, Enum)), None)
        fields.append(
            FormField(
                name=name,
                required=info.is_required(),
                choices=tuple(str(member.value) for member in enum) if enum else None,
                checkbox=info.annotation is bool,
                blank=NoneType in get_args(info.annotation),
            )
        )
    return fields


@router.get("")
async def catalogue(request: Request, user: Reader) -> Response:
    """Products (a page at a time, searched by SKU or name), their stock levels and the
    warehouses, with forms to change them and to import a CSV file. A page number that is
    not one shows the first page; one past the end, the last."""
    search = request.query_params.get("q", "").strip()
    number = request.query_params.get("page", "")
    page = int(number) if number.isdigit() and len(number) < 10 else 1
    return await _catalogue(request, user, search=search, page=page)


@router.get("/{kind}.csv")
async def export(request: Request, kind: Kind, _user: Reader) -> Response:
    """One kind of the catalogue as a CSV file ``oms catalogue import`` takes back."""
    db = database(request)
    text = await db.run(export_text, db, kind)
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{kind.value}.csv"'},
    )


@router.post("/import")
async def import_file(request: Request, user: Keeper, _form: FormChecked) -> Response:
    """Create or update from an uploaded CSV file; nothing is written if any row is bad,
    and each bad row is listed with its line and column."""
    form = await request.form()
    try:
        kind = Kind(str(form.get("kind", "")))
        name, text = await read_upload(request)
        db = database(request)
        loaded = await db.run(import_text, db, kind, text)
    except CsvFileError as refused:
        return await _catalogue(request, user, problems=refused.problems, status=422)
    except ValueError:  # not a kind of file
        problems = ["kind: products, warehouses or levels"]
        return await _catalogue(request, user, problems=problems, status=422)
    return await _catalogue(request, user, done=imported(name, loaded))


async def read_upload(request: Request) -> tuple[str, str]:
    """The name and text of the CSV file a form uploaded; :class:`CsvFileError` saying
    what is wrong with it (none chosen, too large, not UTF-8 and where)."""
    upload = (await request.form()).get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise CsvFileError(["file: choose a CSV file"])
    content = await upload.read(MAX_UPLOAD_BYTES + 1)
    if len(content) > MAX_UPLOAD_BYTES:
        raise CsvFileError([f"{upload.filename}: larger than 10 MB; split it into smaller files"])
    try:
        return upload.filename, decode_csv(content)
    except CsvFileError as refused:
        raise CsvFileError([f"{upload.filename}: {p}" for p in refused.problems]) from None


def shown_problems(problems: list[str]) -> list[str]:
    """The problems of a refused file as a page lists them: the first
    :data:`PROBLEMS_SHOWN`, then how many more there are."""
    more = len(problems) - PROBLEMS_SHOWN
    return problems[:PROBLEMS_SHOWN] + ([f"… {more} more"] if more > 0 else [])


def imported(name: str, done: Imported) -> str:
    """What an import did, as the page says it: the counts, then each updated record
    with the fields that changed (the first :data:`CHANGES_SHOWN`)."""
    counts, *changes = import_report(done)
    more = len(changes) - CHANGES_SHOWN
    named = "; ".join(changes[:CHANGES_SHOWN]) + (f"; … {more} more" if more > 0 else "")
    return f"{name}: {counts}" + (f" ({named})" if changes else "")


@router.get("/{kind}/record")
async def record_form(request: Request, kind: Kind, user: Keeper) -> Response:
    """The form for a new record of ``kind``, or for the one the query names."""
    key = tuple(request.query_params.get(name, "") for name in KEYS[kind])
    values: dict[str, str] = {}
    if all(key):
        db = database(request)
        stored = await db.run(stored_record, db, KINDS[kind].record, key)
        if stored is None:
            return render(
                "problem.html",
                user.account.locale,
                404,
                status=404,
                reason=f"no {kind.value[:-1]} {' in '.join(key)} in the catalogue",
                back="/stock/catalogue",
            )
        values = record_values(stored)
    else:
        values = {name: value for name, value in zip(KEYS[kind], key, strict=True) if value}
    return _record_form(user, kind, values, editing=all(key))


@router.post("/{kind}/record")
async def save_record(request: Request, kind: Kind, user: Keeper, _form: FormChecked) -> Response:
    """Create or change one record; a wrong field or a refusal is shown on the form with
    what was typed."""
    form = await request.form()
    values = {name: str(value).strip() for name, value in form.items() if name != "csrf_token"}
    record_type = KINDS[kind].record
    typed = {
        field.name: ("true" if values.get(field.name) else "false")
        if field.checkbox
        else values.get(field.name, "")
        for field in form_fields(record_type)
    }
    editing = values.get("editing") == "1"
    try:
        record = record_type.model_validate_strings({k: v for k, v in typed.items() if v != ""})
    except ValidationError as invalid:
        return _record_form(
            user,
            kind,
            typed,
            editing=editing,
            problem=reasons_of(invalid, user.account.locale, CATALOGUE_FIELD_LABELS),
        )
    db = database(request)
    try:
        await db.run(load_records, db, kind, [record])
    except CatalogueRecordsError as refused:
        reason = "; ".join(why for _index, why in refused.problems)
        return _record_form(user, kind, typed, editing=editing, problem=reason, status=409)
    saved = " · ".join(typed[name] for name in KEYS[kind])
    return RedirectResponse(
        f"/stock/catalogue?{urlencode({'saved': saved})}#{kind.value}", status_code=303
    )


def record_values(record: BaseModel) -> dict[str, str]:
    """A record's fields as its form shows them (a ticked box is ``true``)."""
    dumped = record.model_dump(mode="json")
    return {
        name: ("true" if value else "")
        if isinstance(value, bool)
        else ""
        if value is None
        else str(value)
        for name, value in dumped.items()
    }


def _record_form(
    user: Staff,
    kind: Kind,
    values: dict[str, Any],
    *,
    editing: bool,
    problem: str | None = None,
    status: int = 422,
) -> Response:
    return render(
        "catalogue_record.html",
        user.account.locale,
        status if problem else 200,
        user=user,
        kind=kind.value,
        fields=form_fields(KINDS[kind].record),
        keys=KEYS[kind],
        values=values,
        editing=editing,
        problem=problem,
    )


async def _catalogue(
    request: Request,
    user: Staff,
    *,
    problems: list[str] | None = None,
    done: str | None = None,
    status: int = 409,
    search: str = "",
    page: int = 1,
) -> Response:
    db = database(request)
    found = await db.run(catalogue_page, db, search, page)

    def page_link(number: int) -> str:
        kept = {"q": search} if search else {}
        return f"/stock/catalogue?{urlencode({**kept, 'page': number})}"

    return render(
        "catalogue.html",
        user.account.locale,
        status if problems else 200,
        user=user,
        records={
            Kind.PRODUCTS.value: found.products,
            Kind.WAREHOUSES.value: found.warehouses,
            Kind.LEVELS.value: found.levels,
        },
        found=found,
        search=search,
        previous_page=page_link(found.page - 1) if found.page > 1 else None,
        next_page=page_link(found.page + 1) if found.page < found.pages else None,
        keeper=user.may(Permission.MANAGE_CATALOGUE),
        problems=shown_problems(problems or []),
        done=done,
        saved=request.query_params.get("saved"),
    )
