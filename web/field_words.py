"""A refused form's problems in the reader's language: each field by its form label, each
problem by pydantic's error ``type`` and its context, our validators' own sentences by
their catalogue message.

The HTTP API keeps pydantic's English (``web.problems``); only the console's pages read
an error through here. A problem the catalogue has no words for is shown in English
rather than lost.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from domain.access import Locale
from domain.wording import N_, Wording

from .i18n import translations, words

FIELD_LABELS: dict[str, str] = {
    "sku": N_("SKU"),
    "name": N_("Name"),
    "email": N_("E-mail"),
    "phone": N_("Phone"),
    "country": N_("Country"),
    "currency": N_("Currency"),
    "credit_limit": N_("Credit limit"),
    "standing": N_("Standing"),
    "category": N_("Category"),
    "subject": N_("Subject"),
    "owner": N_("Owner"),
    "order_id": N_("Order number"),
    "channel": N_("Channel"),
    "customer_id": N_("Customer"),
    "customer_reference": N_("Customer's reference"),
    "lines": N_("Lines"),
    "quantity": N_("Quantity"),
    "unit_price": N_("Unit price"),
    "shipping_address": N_("Ship to"),
    "street": N_("Street"),
    "postal_code": N_("Postal code"),
    "city": N_("City"),
    "amount": N_("Amount"),
    "reason": N_("Reason"),
    "reference": N_("Reference"),
    "note": N_("Note"),
    "text": N_("Message"),
    "warehouse_id": N_("Warehouse"),
    "from_warehouse_id": N_("From"),
    "to_warehouse_id": N_("To"),
    "skus": N_("Products"),
    "approval_threshold": N_("Approval threshold"),
    "packages": N_("Packages"),
    "password": N_("New password"),
    "current_password": N_("Current password"),
    "from": N_("From"),
    "to": N_("To"),
    "status": N_("Status"),
    "deadline": N_("Deadline"),
}
"""Field names as the console's forms label them (the name itself where none is here);
a form with labels of its own (the customer and product forms, a complaint's actions)
passes them too."""

COMPLAINT_ACTION_LABELS: dict[str, str] = {
    "kind": N_("Remedy"),
    "reason": N_("Why"),
    "summary": N_("How it was solved"),
    "root_cause": N_("Root cause"),
    "items": N_("Items to send again"),
}
"""The fields of a complaint's action forms that the general labels name otherwise."""

PATTERN_HINTS: dict[str, str] = {
    "currency": N_("three capital letters, like EUR"),
    "language": N_("a language code: en, de or zh_Hant"),
    "country": N_("two capital letters, like DE"),
    "billing_country": N_("two capital letters, like DE"),
    "shipping_country": N_("two capital letters, like DE"),
    "sku": N_("capital letters, digits and dashes, like WIDGET-1"),
    "email": N_("an e-mail address, like name@example.com"),
}
"""What a field's form is, for a value that does not have it."""

PROBLEMS: dict[str, str] = {
    "missing": N_("is required"),
    "string_too_short": N_("needs at least %(min_length)s characters"),
    "string_too_long": N_("takes at most %(max_length)s characters"),
    "string_pattern_mismatch": N_("has a form this field does not take"),
    "string_type": N_("write text"),
    "string_unicode": N_("contains characters that cannot be stored"),
    "greater_than": N_("must be more than %(gt)s"),
    "greater_than_equal": N_("must be at least %(ge)s"),
    "less_than": N_("must be less than %(lt)s"),
    "less_than_equal": N_("must be at most %(le)s"),
    "int_parsing": N_("write a whole number"),
    "int_type": N_("write a whole number"),
    "int_from_float": N_("write a whole number"),
    "decimal_parsing": N_("write a number"),
    "decimal_type": N_("write a number"),
    "float_parsing": N_("write a number"),
    "float_type": N_("write a number"),
    "finite_number": N_("write a finite number"),
    "decimal_max_places": N_("at most %(decimal_places)s digits after the decimal point"),
    "decimal_max_digits": N_("at most %(max_digits)s digits in all"),
    "decimal_whole_digits": N_("at most %(whole_digits)s digits before the decimal point"),
    "bool_parsing": N_("answer yes or no"),
    "bool_type": N_("answer yes or no"),
    "enum": N_("must be one of: %(expected)s"),
    "literal_error": N_("must be one of: %(expected)s"),
    "date_parsing": N_("write a day as YYYY-MM-DD"),
    "date_from_datetime_parsing": N_("write a day as YYYY-MM-DD"),
    "date_from_datetime_inexact": N_("write a day as YYYY-MM-DD"),
    "date_type": N_("write a day as YYYY-MM-DD"),
    "datetime_parsing": N_("write a date and time as YYYY-MM-DD HH:MM"),
    "datetime_from_date_parsing": N_("write a date and time as YYYY-MM-DD HH:MM"),
    "datetime_type": N_("write a date and time as YYYY-MM-DD HH:MM"),
    "too_short": N_("needs at least %(min_length)s entries"),
    "too_long": N_("takes at most %(max_length)s entries"),
    "extra_forbidden": N_("is not a field of this form"),
    "list_type": N_("write a list"),
    "dict_type": N_("is not a group of fields"),
    "model_type": N_("is not a group of fields"),
    "url_parsing": N_("write a web address"),
    "email": N_("write an e-mail address"),
}
"""pydantic's error types in words; ``%(name)s`` are the error's context."""


def problem_wording(error: ErrorDetails | Mapping[str, Any]) -> Wording:
    """What is wrong with one field, as a wording (without naming the field)."""
    kind = str(error.get("type", ""))
    context: Mapping[str, Any] = error.get("ctx") or {}
    cause = context.get("error")
    if kind in ("value_error", "assertion_error") and cause is not None:
        return reason_wording(cause)
    message = PROBLEMS.get(kind)
    if message is None:
        return plain(str(error.get("msg", "not valid")).removeprefix("Value error, "))
    if kind == "string_too_short" and context.get("min_length") == 1:
        return Wording(message=N_("is required"))
    if kind == "too_short" and context.get("min_length") == 1:
        return Wording(message=N_("needs at least one entry"))
    args = {name: _shown(value) for name, value in context.items() if f"%({name})s" in message}
    if not _all_given(message, args):  # a context pydantic did not give: its own words
        return plain(str(error.get("msg", "not valid")))
    if kind in ("enum", "literal_error"):
        args["expected"] = str(context.get("expected", "")).replace(" or ", ", ")
    said = Wording(message=message, args=args)
    if kind == "string_pattern_mismatch":
        field = _last_name(error.get("loc", ()))
        hint = PATTERN_HINTS.get(field or "")
        if hint is not None:
            return Wording(
                message=N_("%(problem)s (%(hint)s)"),
                parts={"problem": said, "hint": Wording(message=hint)},
            )
    return said


def reason_wording(cause: object) -> Wording:
    """A validator's own refusal: its wording when it has one, else its English sentence
    (translated when the catalogue has that very sentence)."""
    wording = getattr(cause, "wording", None)  # a WordedError, a refusal carrying one
    if isinstance(wording, Wording):
        return wording
    return plain(str(cause))


def plain(text: str) -> Wording:
    """An English sentence as a wording: translated when the catalogue has that very
    sentence (a ``%`` in it is kept as it is, untranslated)."""
    if "%" in text:
        return Wording(message="%(text)s", args={"text": text})
    return Wording(message=text)


def field_wording(
    location: Sequence[int | str], labels: Mapping[str, str] | None = None
) -> Wording | None:
    """The field a location names, by its form label: ``lines.1.sku`` is "Line 2: SKU";
    None for the whole form."""
    table = {**FIELD_LABELS, **(labels or {})}
    steps = [step for step in location if step not in ("body", "query", "path", "form")]
    if not steps:
        return None
    last = steps[-1]
    if isinstance(last, int):  # an entry of a list: the list, by its position
        owner = str(steps[-2]) if len(steps) > 1 else ""
        return Wording(
            message=N_("%(field)s, entry %(row)s"),
            args={"row": last + 1},
            parts={"field": plain(table.get(owner, owner))},
        )
    label = plain(table.get(str(last), str(last)))
    rows = [step for step in steps[:-1] if isinstance(step, int)]
    if rows:
        return Wording(
            message=N_("line %(row)s, %(field)s"),
            args={"row": rows[-1] + 1},
            parts={"field": label},
        )
    return label


def error_wordings(
    invalid: BaseException, labels: Mapping[str, str] | None = None
) -> list[Wording]:
    """Each problem of a refused form, the field named by its label."""
    if isinstance(invalid, ValidationError | RequestValidationError):
        return [named_problem(error, labels) for error in invalid.errors()]
    return [reason_wording(invalid)]


def named_problem(
    error: ErrorDetails | Mapping[str, Any], labels: Mapping[str, str] | None = None
) -> Wording:
    """One field's problem, the field named: ``Currency: has a form ...``."""
    problem = problem_wording(error)
    field = field_wording(tuple(error.get("loc", ())), labels)
    if field is None:
        return problem
    return Wording(message=N_("%(field)s: %(problem)s"), parts={"field": field, "problem": problem})


def in_words(
    invalid: BaseException | Iterable[Wording],
    locale: Locale,
    labels: Mapping[str, str] | None = None,
) -> str:
    """A refused form's problems as one line in ``locale``."""
    said = error_wordings(invalid, labels) if isinstance(invalid, BaseException) else list(invalid)
    separator = translations(locale).gettext(N_("; "))
    return separator.join(words(wording, locale) for wording in said)


def problem_in_words(error: ErrorDetails | Mapping[str, Any], locale: Locale) -> str:
    """One field's problem in ``locale``, without naming the field (shown beside it)."""
    return words(problem_wording(error), locale)


def _last_name(location: Iterable[int | str]) -> str | None:
    names = [step for step in location if isinstance(step, str)]
    return names[-1] if names else None


def _shown(value: object) -> str | int:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool):
        return str(value)
    return value if isinstance(value, int | str) else str(value)


def _all_given(message: str, args: Mapping[str, object]) -> bool:
    """Whether every placeholder of ``message`` has its value."""
    return all(name in args for name in re.findall(r"%\((\w+)\)s", message))
