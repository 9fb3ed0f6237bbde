"""Reading what any client sent: signals, updates and submissions checked field by field.

Other Temporal clients (the CLI, Node, Java, the Web UI) can send a message with
no payload, ``null``, a string where an object belongs, fields of another shape
or extra fields. Workflows read every inbound message through
:func:`read_message`, which never raises: it returns the message, what it
ignored and every reason it could not be read, each naming the field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from domain.wording import N_, WordedError, Wording

ModelT = TypeVar("ModelT", bound=BaseModel)

MESSAGE_REFUSED = "MessageRefused"
"""ApplicationError type of a refused update: unreadable, or not applicable now."""

ARRIVED_UNENCRYPTED = "oms-arrived-unencrypted"
"""Payload metadata the workers' codec adds to a payload that reached it in clear
(a client without the codec); workflows refuse order documents that carry it."""

_UNSTORABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
"""Characters no database column or document can hold: C0 controls other than tab,
line feed and carriage return (PostgreSQL refuses NUL in text), DEL, and lone
surrogates (not encodable as UTF-8)."""


def unstorable_character(text: str) -> str | None:
    """The first character of ``text`` that cannot be stored, as ``U+XXXX``; else None."""
    found = _UNSTORABLE.search(text)
    return None if found is None else f"U+{ord(found.group()):04X}"


_CONTROL = "\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f"
STORABLE_TEXT = f"^[^{_CONTROL}]*$"
"""The JSON schema's pattern for text without control characters, as validation reads it.
(Lone surrogates, refused too, cannot be named in a pattern that every regex dialect of
JSON Schema tools compiles; UTF-8 JSON cannot carry them except as ``\\ud800`` escapes.)"""
STORABLE_WORDS = f"^[^{_CONTROL}]*[^{_CONTROL}\\s][^{_CONTROL}]*$"
"""The same for a required field of a model that strips spaces: something besides them."""


def whole_json_number(value: object, info: ValidationInfo) -> object:
    """JSON has one kind of number: ``5.0`` is the integer 5 (as JSON Schema counts it).
    A ``BeforeValidator`` for ``StrictInt`` fields of documents that arrive as JSON.

    Text read as text (a CSV cell or a form field, through ``model_validate_strings``) is
    read as pydantic reads a whole number written out; a validator in front of a strict
    type would otherwise make it refuse every text."""
    mode: str = info.mode  # "string" for model_validate_strings (typed as python | json)
    if mode == "string" and isinstance(value, str):
        try:
            return _WHOLE_NUMBER_TEXT.validate_strings(value)
        except ValidationError:
            return value  # refused by the strict type, naming the field
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


_WHOLE_NUMBER_TEXT = TypeAdapter(int)


def _storable_text_in_schema(schema: dict[str, Any], model: type[BaseModel]) -> None:
    """Say in the JSON schema what validation refuses: text fields without a pattern of
    their own get :data:`STORABLE_TEXT`, or :data:`STORABLE_WORDS` where the model strips
    spaces and the field may not be empty (an API client's generator then keeps to it)."""
    strips = bool(model.model_config.get("str_strip_whitespace"))
    for prop in schema.get("properties", {}).values():
        for variant in [prop, *prop.get("anyOf", [])]:
            if variant.get("type") == "string" and "pattern" not in variant:
                required = strips and variant.get("minLength", 0) >= 1
                variant["pattern"] = STORABLE_WORDS if required else STORABLE_TEXT


class InboundMessage(BaseModel):
    """Base of every model a client sends in: text fields refuse unstorable characters."""

    model_config = ConfigDict(json_schema_extra=_storable_text_in_schema)

    @field_validator("*")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            character = unstorable_character(value)
            if character is not None:
                raise WordedError(
                    Wording(
                        message=N_(
                            "contains the control character %(character)s, which cannot be "
                            "stored; send printable text"
                        ),
                        args={"character": character},
                    )
                )
        return value


class StrictInboundMessage(InboundMessage):
    """An inbound message whose unknown fields are refused, not dropped (order documents)."""

    model_config = ConfigDict(extra="forbid")


def describe_validation_error(error: ValidationError) -> list[str]:
    """One reason per wrong field, ``lines.1.quantity: Input should be ...`` style."""
    reasons = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "(document)"
        if item["type"] == "extra_forbidden":
            reasons.append(f"{where}: unknown field (not part of the document; remove it)")
        else:
            reasons.append(f"{where}: {item['msg']}")
    return reasons


@dataclass(frozen=True)
class Reading(Generic[ModelT]):
    """What :func:`read_message` made of a message."""

    value: ModelT | None
    """The message, or None when it could not be read."""
    problems: list[str] = field(default_factory=list)
    """Why it could not be read: empty when ``value`` is set."""
    ignored: list[str] = field(default_factory=list)
    """What was dropped from a message that was read (extra fields, extra arguments)."""

    def summary(self) -> str:
        """The problems, or what was ignored, as one line for the audit log."""
        return "; ".join(self.problems or self.ignored)


def _field_names(model: type[BaseModel]) -> str:
    return ", ".join(model.model_fields)


def read_message(model: type[ModelT], arguments: Sequence[Any]) -> Reading[ModelT]:
    """Read the arguments a client sent as one ``model``, whatever they are.

    ``arguments`` are the message's decoded JSON values (one per payload).
    Unknown fields are ignored and named, unless the model forbids them.
    """
    expected = f"expected one JSON object with the fields {_field_names(model)}"
    if not arguments:
        return Reading(None, [f"no value was sent; {expected}"])
    value, extra_arguments = arguments[0], len(arguments) - 1
    ignored = [f"{extra_arguments} extra argument(s) after the first"] if extra_arguments else []
    if value is None:
        return Reading(None, [f"the value is null; {expected}"])
    if not isinstance(value, Mapping):
        return Reading(None, [f"the value is a JSON {_json_kind(value)}; {expected}"])
    forbids_extra = model.model_config.get("extra") == "forbid"
    unknown = sorted(str(name) for name in value if name not in model.model_fields)
    if unknown and not forbids_extra:
        ignored.append(f"unknown field(s) {', '.join(unknown)}")
        value = {name: item for name, item in value.items() if name in model.model_fields}
    try:
        return Reading(model.model_validate(value), ignored=ignored)
    except ValidationError as error:
        return Reading(None, describe_validation_error(error), ignored)


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return type(value).__name__
