"""Manual order entry for the phone and fax desks: the starter's submission, from a form.

The form builds the same :class:`domain.orders.OrderSubmission` a channel sends
and submits it by signal-with-start (:func:`ops.submissions.submit`). Before
it submits, it checks the document (every field) and the intake rules
(customer, products, prices, address) and shows each problem beside its
field, so the desk corrects the order while the customer is on the line
instead of finding it rejected later.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.responses import Response

from domain.access import Permission
from domain.orders import Channel, OrderSubmission
from ops.submissions import submit
from persistence.catalogue_views import entry_choices, price_list
from persistence.database import Database
from persistence.transactions.intake import problems_of

from .field_words import named_problem, problem_in_words
from .i18n import words
from .rendering import render
from .security import FormChecked, Staff, database, requires, temporal

router = APIRouter(prefix="/orders")

LINE_ROWS = 8
"""Line rows the form offers; empty rows are left out of the order."""
LINE_PARTS = ("sku", "quantity", "unit_price")
WHOLE_NUMBER = re.compile(r"[+-]?\d{1,7}")
DESK_CHANNELS = (Channel.PHONE, Channel.FAX)
ADDRESS_FIELDS = ("name", "street", "postal_code", "city", "country")
PROBLEM_FIELD = re.compile(
    r"^(lines\[(?P<line>\d+)\]\.(?P<part>\w+)|shipping_address\.(?P<address>\w+)|(?P<top>\w+))"
)
"""The field an intake rule's reason names: ``lines[2].sku 'X': ...``, ``customer_id ...``."""


@dataclass
class EntryForm:
    """What the desk typed, and each field's problems (by the form's field name)."""

    values: dict[str, str]
    problems: dict[str, list[str]] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)

    def add(self, name: str, message: str, named: str | None = None) -> None:
        """A problem of field ``name`` (``general`` when the form has no such field,
        then said as ``named`` when given: the problem naming its field)."""
        if name in self.values or name.startswith("lines-"):
            self.problems.setdefault(name, []).append(message)
        else:
            self.general.append(named or message)


@router.get("/new")
async def entry_form(
    request: Request, user: Annotated[Staff, Depends(requires(Permission.ENTER_ORDERS))]
) -> Response:
    """An empty order form."""
    return await _page(request, user, EntryForm(values={"channel": Channel.PHONE.value}))


@router.post("/new")
async def enter_order(
    request: Request,
    user: Annotated[Staff, Depends(requires(Permission.ENTER_ORDERS))],
    _form: FormChecked,
) -> Response:
    """Check the order; submit it by signal-with-start when nothing is wrong with it."""
    locale = user.account.locale
    fields = {key: str(value).strip() for key, value in (await request.form()).items()}
    form = EntryForm(values=fields)
    db = database(request)
    document, rows = await _document(db, fields)
    try:
        submission = OrderSubmission.model_validate(document)
    except ValidationError as invalid:
        for error in invalid.errors():
            form.add(
                _field_name(error["loc"], rows),
                problem_in_words(error, locale),
                words(named_problem(error), locale),
            )
        # The intake rules speak too, about the lines that could be read, so the desk
        # sees every problem at once rather than one round after another.
        readable = _readable_part(document, rows, invalid)
        if readable is None:
            return await _page(request, user, form, status_code=422)
        submission, rows = readable
    unreadable = set(form.problems)
    for problem in await db.run(problems_of, db, submission):
        match = PROBLEM_FIELD.match(problem.english())
        name = _problem_field(match, rows) if match else "general"
        if name not in unreadable:  # that field's own problem is shown already
            form.add(name, words(problem, locale))
    if form.problems or form.general:
        return await _page(request, user, form, status_code=422)
    await submit(await temporal(request), submission, db)
    return RedirectResponse(
        f"/orders?list=new&q={submission.order_id}&entered={submission.order_id}",
        status_code=303,
    )


async def _document(db: Database, fields: dict[str, str]) -> tuple[dict[str, Any], list[int]]:
    """The order document from the form, and the form row of each of its lines: empty
    rows left out, a line without a price priced from the price list, an order number
    made when none was typed. Values stay as typed (a quantity becomes a number when it
    is one), so the order document's own validation names every wrong field."""
    rows = [
        row
        for row in range(1, LINE_ROWS + 1)
        if any(fields.get(f"lines-{row}-{part}") for part in LINE_PARTS)
    ]
    lines: list[dict[str, Any]] = [
        {part: fields.get(f"lines-{row}-{part}", "") for part in LINE_PARTS} for row in rows
    ]
    unpriced = {line["sku"] for line in lines if line["sku"] and not line["unit_price"]}
    prices = await db.run(price_list, db, unpriced) if unpriced else {}
    for line in lines:
        if not line["unit_price"]:
            # Not on the price list: the intake rules then say "no such product".
            line["unit_price"] = str(prices.get(line["sku"], "0"))
        if WHOLE_NUMBER.fullmatch(line["quantity"]):  # else refused, naming the field
            line["quantity"] = int(line["quantity"])
    channel = fields.get("channel") or Channel.PHONE.value
    order_id = fields.get("order_id") or (
        f"{channel.upper()}-{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(3).upper()}"
    )
    document = {
        "order_id": order_id,
        "channel": channel,
        "customer_id": fields.get("customer_id", ""),
        "currency": fields.get("currency") or "EUR",
        "lines": lines,
        "shipping_address": {
            name: fields.get(f"shipping_address-{name}", "") for name in ADDRESS_FIELDS
        },
    }
    if fields.get("customer_reference"):
        document["customer_reference"] = fields["customer_reference"]
    return document, rows


STAND_INS: dict[tuple[int | str, ...], Any] = {
    ("order_id",): "UNREADABLE",
    ("channel",): Channel.PHONE.value,
    ("customer_id",): "?",
    ("currency",): "EUR",
    ("customer_reference",): None,
    **{("shipping_address", name): "" for name in ADDRESS_FIELDS},
}
"""What stands in for a field the document check could not read while the intake rules
look at the rest (the field's own problem is already shown; the rules' words about the
stand-in are not)."""


def _readable_part(
    document: dict[str, Any], rows: list[int], invalid: ValidationError
) -> tuple[OrderSubmission, list[int]] | None:
    """The submission with stand-ins for the fields the document check refused and
    without the lines it refused, and the rows of the lines kept; None when no line is
    left or something else stays unreadable."""
    bad_lines = set()
    readable: dict[str, Any] = {
        **document,
        "shipping_address": dict(document["shipping_address"]),
    }
    for error in invalid.errors():
        location = tuple(error["loc"])
        if len(location) >= 2 and location[0] == "lines" and isinstance(location[1], int):
            bad_lines.add(location[1])
        elif location in STAND_INS and len(location) == 1:
            readable[str(location[0])] = STAND_INS[location]
        elif location in STAND_INS:
            readable["shipping_address"][str(location[1])] = STAND_INS[location]
        else:
            return None
    keep = [index for index in range(len(rows)) if index not in bad_lines]
    if not keep:
        return None
    readable["lines"] = [document["lines"][index] for index in keep]
    try:
        submission = OrderSubmission.model_validate(readable)
    except ValidationError:
        return None
    return submission, [rows[index] for index in keep]


def _field_name(location: tuple[int | str, ...], rows: list[int]) -> str:
    """The form field of a validation error's location: (``lines``, 0, ``sku``) is the
    SKU field of the row the first line came from."""
    parts = [
        str(rows[part]) if isinstance(part, int) and part < len(rows) else str(part)
        for part in location
    ]
    return "-".join(parts) or "general"


def _problem_field(match: re.Match[str], rows: list[int]) -> str:
    """The form field an intake rule's reason names (its ``lines[n]`` count from 1)."""
    if match["line"]:
        index = int(match["line"]) - 1
        row = rows[index] if index < len(rows) else match["line"]
        return f"lines-{row}-{match['part']}"
    if match["address"]:
        return f"shipping_address-{match['address']}"
    return match["top"]


async def _page(request: Request, user: Staff, form: EntryForm, status_code: int = 200) -> Response:
    db = database(request)
    customers, products = await db.run(
        entry_choices, db, with_names=user.may(Permission.VIEW_PERSONAL_DATA)
    )
    return render(
        "entry.html",
        user.account.locale,
        status_code,
        user=user,
        form=form,
        channels=DESK_CHANNELS,
        rows=range(1, LINE_ROWS + 1),
        address_fields=ADDRESS_FIELDS,
        customers=customers,
        products=products,
    )
