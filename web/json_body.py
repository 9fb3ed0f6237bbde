"""Reading an API request's body before FastAPI validates it, each refusal said for what
it is (:mod:`web.problems`).

FastAPI reads any body it cannot parse as "There was an error parsing the body" (400),
whatever the cause; and Python's JSON reader takes what JSON has not (``NaN``, a lone
surrogate from a string cut inside an emoji) and fails deep inside on what it cannot
(100,000 nested arrays, a 5,000-digit number). :class:`ApiRequest` is the request the
API's routes read instead (through :class:`web.api.ApiRoute`): the body is counted as it
arrives and checked in this order:

- over :data:`MAX_BODY_BYTES` (declared or counted, chunked too): 413;
- a body that is not ``application/json`` (or ``+json``): 415;
- not UTF-8, not JSON, nested deeper than :data:`MAX_DEPTH`, a number longer than
  :data:`MAX_NUMBER_LENGTH` characters: 400, saying which and where (a UTF-8 byte-order
  mark before the JSON, as Windows tools write, is taken off: RFC 8259 lets a reader);
- a string (or a name) holding a lone surrogate, a number that is ``NaN`` or infinite:
  422 naming each such field (``string_unicode``, ``finite_number``).
"""

from __future__ import annotations

import codecs
import email.message
import json
import math
import re
from typing import Any

from starlette.requests import Request

from .problems import (
    MAX_FIELD_PROBLEMS,
    FieldProblem,
    ProblemError,
    ProblemType,
    invalid_fields,
    pointer,
)

MAX_BODY_BYTES = 256 * 1024
"""The largest request body the API takes (an order document is a few kilobytes)."""
MAX_DEPTH = 32
"""The deepest nesting of arrays and objects the API reads (its documents need four)."""
MAX_NUMBER_LENGTH = 100
"""The most characters a JSON number may have (a price has a dozen)."""


class ApiRequest(Request):
    """A request of the API: its body read once, bounded, and checked as JSON."""

    async def body(self) -> bytes:
        """The body, refused (413) beyond :data:`MAX_BODY_BYTES` and (415) when it is not
        JSON."""
        if not hasattr(self, "_body"):
            declared = self.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
                raise too_large()
            chunks, size = [], 0
            async for chunk in self.stream():
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise too_large()
                chunks.append(chunk)
            body = b"".join(chunks)
            if body and not _is_json(self.headers.get("content-type", "")):
                raise ProblemError(
                    415,
                    ProblemType.NOT_JSON,
                    "send the body as JSON with Content-Type: application/json",
                )
            self._body = body
        return self._body

    async def json(self) -> Any:
        """The body as JSON (see :func:`read_json`)."""
        if not hasattr(self, "_json"):
            self._json = read_json(await self.body())
        return self._json


def too_large() -> ProblemError:
    """The refusal of a body over :data:`MAX_BODY_BYTES`."""
    return ProblemError(
        413,
        ProblemType.BODY_TOO_LARGE,
        f"the body is over {MAX_BODY_BYTES} bytes; send fewer records per request",
    )


class _NumberTooLongError(ValueError):
    def __init__(self, length: int) -> None:
        super().__init__(length)
        self.length = length


def _whole(text: str) -> int:
    if len(text) > MAX_NUMBER_LENGTH:
        raise _NumberTooLongError(len(text))
    return int(text)


def _fraction(text: str) -> float:
    if len(text) > MAX_NUMBER_LENGTH:
        raise _NumberTooLongError(len(text))
    return float(text)


def read_json(body: bytes) -> Any:
    """The JSON value of ``body``, or a :class:`~web.problems.ProblemError` saying why not:
    400 for a body that is not UTF-8, not JSON, nested too deeply or holding too long a
    number; 422 naming the fields that hold a lone surrogate or ``NaN``/``Infinity``. A
    UTF-8 byte-order mark before the JSON is not part of it."""
    mark = len(codecs.BOM_UTF8) if body.startswith(codecs.BOM_UTF8) else 0
    try:
        text = body[mark:].decode("utf-8")
    except UnicodeDecodeError as wrong:
        start = mark + wrong.start  # the byte's place in the body as it was sent
        line = body.count(b"\n", 0, start) + 1
        raise ProblemError(
            400,
            ProblemType.NOT_UTF8,
            f"byte {start} (line {line}) is not UTF-8 ({wrong.reason}); send the body as UTF-8",
        ) from None
    try:
        value = json.loads(text, parse_int=_whole, parse_float=_fraction)
    except json.JSONDecodeError as wrong:
        raise ProblemError(
            400,
            ProblemType.INVALID_JSON,
            f"{wrong.msg} at line {wrong.lineno}, column {wrong.colno}",
        ) from None
    except RecursionError:
        raise too_deep() from None
    except _NumberTooLongError as wrong:
        raise ProblemError(
            400,
            ProblemType.NUMBER_TOO_LONG,
            f"a number is written with {wrong.length} characters; "
            f"the API reads numbers of up to {MAX_NUMBER_LENGTH}",
        ) from None
    _check_values(value)
    return value


def too_deep() -> ProblemError:
    """The refusal of a body nested deeper than :data:`MAX_DEPTH`."""
    return ProblemError(
        400,
        ProblemType.TOO_DEEP,
        f"arrays and objects are nested more than {MAX_DEPTH} levels deep",
    )


_SURROGATE = re.compile("[\ud800-\udfff]")
"""A surrogate in a decoded JSON string is a lone one (a pair decodes to one character)."""


def _check_values(value: Any) -> None:
    """Walk ``value`` (without recursion): refuse nesting beyond :data:`MAX_DEPTH`, and
    name every field holding a lone surrogate or a number that is not finite."""
    problems: list[FieldProblem] = []
    count = 0
    waiting: list[tuple[Any, tuple[object, ...]]] = [(value, ())]
    while waiting:
        item, path = waiting.pop()
        if isinstance(item, dict | list):
            if len(path) >= MAX_DEPTH:
                raise too_deep()
            entries = item.items() if isinstance(item, dict) else enumerate(item)
            for key, inner in reversed(list(entries)):
                if isinstance(key, str) and _SURROGATE.search(key):
                    count += 1
                    problems.append(_unstorable_name((*path, key)))
                waiting.append((inner, (*path, key)))
            continue
        wrong = _wrong_value(item, path)
        if wrong is not None:
            count += 1
            problems.append(wrong)
    if problems:
        raise invalid_fields(problems[:MAX_FIELD_PROBLEMS], count)


def _wrong_value(item: Any, path: tuple[object, ...]) -> FieldProblem | None:
    if isinstance(item, str) and _SURROGATE.search(item):
        return FieldProblem(
            code="string_unicode",
            detail="holds a lone surrogate (half of a character, as a string cut inside "
            "an emoji): no text can store it; send whole characters",
            pointer=pointer(path),
        )
    if isinstance(item, float) and not math.isfinite(item):
        return FieldProblem(
            code="finite_number",
            detail="NaN and Infinity are not JSON numbers; send a finite number",
            pointer=pointer(path),
        )
    return None


def _unstorable_name(path: tuple[object, ...]) -> FieldProblem:
    return FieldProblem(
        code="string_unicode",
        detail="the field's name holds a lone surrogate; send whole characters",
        pointer=pointer(path),
    )


def _is_json(content_type: str) -> bool:
    """Whether ``content_type`` is JSON (``application/json``, ``application/*+json``),
    as FastAPI decides whether to read a body as JSON."""
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )
