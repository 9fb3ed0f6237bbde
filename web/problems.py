"""The HTTP API's refusals as RFC 9457 problem details: one shape for every 4xx answer.

Every refusal under ``/api/`` is ``application/problem+json`` with ``type`` (what kind of
problem: ``about:blank`` when the status says it all, else one of :class:`ProblemType`),
``title``, ``status`` and ``detail``; a request whose fields are wrong also carries
``errors``, each field at fault named by a JSON Pointer into the body (``#/lines/0/quantity``)
or as the query or path ``parameter``, with a machine-readable ``code`` (pydantic's error
type: ``missing``, ``int_type``, ``extra_forbidden`` ...) and what is wrong in words.

The input is never copied into an answer: its size does not grow with the request's, and a
value no JSON answer can carry (a lone surrogate, ``NaN``) cannot make the handler fail.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match

from persistence.unavailable import RETRY_AFTER_SECONDS, Unavailable

PROBLEM_JSON = "application/problem+json"
"""The media type of every refusal of the API (RFC 9457)."""

PROBLEM_TYPES = "tag:oms,2026:problem:"
"""The prefix of the API's own problem types: identifiers (RFC 4151 tag URIs), not pages."""

MAX_FIELD_PROBLEMS = 50
"""The most fields one answer names; the detail says how many more were wrong."""
MAX_DETAIL = 8000
"""The longest detail an answer carries (a refusal naming many records is cut here)."""
MAX_FIELD_TEXT = 300
"""The longest pointer, parameter or message of one field."""


class ProblemType(StrEnum):
    """The API's own kinds of problem, beyond what the status says."""

    INVALID_FIELDS = "invalid-fields"
    """422: the request is JSON, but fields are missing, unknown or wrong; each is named."""
    INVALID_JSON = "invalid-json"
    """400: the body is not JSON (the detail says where)."""
    NOT_UTF8 = "not-utf-8"
    """400: the body is not UTF-8 text (the detail says where)."""
    TOO_DEEP = "too-deeply-nested"
    """400: arrays and objects are nested deeper than the API reads."""
    NUMBER_TOO_LONG = "number-too-long"
    """400: a number is written with more characters than the API reads."""
    BODY_TOO_LARGE = "body-too-large"
    """413: the body is larger than the API takes."""
    NOT_JSON = "not-json"
    """415: a body sent as something other than ``application/json``."""

    @property
    def uri(self) -> str:
        """The problem's ``type``."""
        return PROBLEM_TYPES + self.value


TITLES = {
    ProblemType.INVALID_FIELDS: "Invalid fields",
    ProblemType.INVALID_JSON: "The body is not JSON",
    ProblemType.NOT_UTF8: "The body is not UTF-8",
    ProblemType.TOO_DEEP: "The body is nested too deeply",
    ProblemType.NUMBER_TOO_LONG: "A number is too long",
    ProblemType.BODY_TOO_LARGE: "The body is too large",
    ProblemType.NOT_JSON: "The body must be JSON",
}


class FieldProblem(BaseModel):
    """One field at fault (named, never quoted)."""

    code: str = Field(examples=["int_type", "missing", "extra_forbidden"])
    """Machine-readable: pydantic's error type (``string_unicode`` for a lone surrogate,
    ``finite_number`` for ``NaN`` or ``Infinity``)."""
    detail: str
    """What is wrong, in words."""
    pointer: str | None = Field(default=None, examples=["#/lines/0/quantity"])
    """Where in the body: a JSON Pointer (RFC 6901) as a URI fragment; ``#`` is the body."""
    parameter: str | None = Field(default=None, examples=["page_size"])
    """Or the query or path parameter at fault."""


class Problem(BaseModel):
    """A refusal (RFC 9457 problem details, ``application/problem+json``)."""

    type: str = Field(default="about:blank", examples=[ProblemType.INVALID_FIELDS.uri])
    """What kind of problem: ``about:blank`` (the status says it) or one of the API's own."""
    title: str
    """The kind of problem in a few words (the same for every problem of the type)."""
    status: int
    """The HTTP status code."""
    detail: str
    """This occurrence, in words."""
    errors: list[FieldProblem] | None = None
    """The fields at fault (invalid fields only)."""


class ProblemError(HTTPException):
    """A refusal of a kind of its own (:class:`ProblemType`), perhaps naming fields."""

    def __init__(
        self,
        status: int,
        kind: ProblemType,
        detail: str,
        errors: Sequence[FieldProblem] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(status, detail, headers)
        self.kind = kind
        self.errors = list(errors)


class ProblemResponse(JSONResponse):
    """A problem as ``application/problem+json``."""

    media_type = PROBLEM_JSON


_SURROGATES = re.compile("[\ud800-\udfff]")


def printable(text: str, limit: int) -> str:
    """``text`` as an answer can carry it: a lone surrogate (not encodable as UTF-8)
    becomes U+FFFD, and text beyond ``limit`` characters is cut."""
    text = _SURROGATES.sub("\ufffd", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def problem_response(problem: Problem, headers: Mapping[str, str] | None = None) -> Response:
    """The answer carrying ``problem``."""
    return ProblemResponse(
        problem.model_dump(mode="json", exclude_none=True),
        status_code=problem.status,
        headers=dict(headers) if headers else None,
    )


def http_problem(error: HTTPException, headers: Mapping[str, str] | None = None) -> Response:
    """The problem answer of a refusal raised as an ``HTTPException`` (with ``headers``,
    else its own)."""
    detail = printable(str(error.detail), MAX_DETAIL)
    if isinstance(error, ProblemError):
        problem = Problem(
            type=error.kind.uri,
            title=TITLES[error.kind],
            status=error.status_code,
            detail=detail,
            errors=error.errors or None,
        )
    else:
        problem = Problem(title=_phrase(error.status_code), status=error.status_code, detail=detail)
    return problem_response(problem, error.headers if headers is None else headers)


def unavailable_detail(why: Unavailable) -> str:
    """What a person or system is told when the business database cannot answer now."""
    return f"The business database is {why}; nothing was changed. Try again shortly."


def unavailable_problem(why: Unavailable) -> Response:
    """The 503 answer of a request the business database could not serve now (busy or not
    reachable), asking the client to try again after :data:`RETRY_AFTER_SECONDS`."""
    return problem_response(
        Problem(title=_phrase(503), status=503, detail=unavailable_detail(why)),
        {"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def invalid_request_problem(error: RequestValidationError) -> Response:
    """The problem answer of a request whose fields are wrong (422), or whose body FastAPI
    could not read as JSON (400)."""
    errors = list(error.errors())
    unreadable = next((item for item in errors if item.get("type") == "json_invalid"), None)
    if unreadable is not None:
        reason = str(unreadable.get("ctx", {}).get("error", "not JSON"))
        return http_problem(
            ProblemError(400, ProblemType.INVALID_JSON, printable(reason, MAX_FIELD_TEXT))
        )
    return http_problem(invalid_fields(field_problems(errors), len(errors)))


def invalid_fields(problems: Sequence[FieldProblem], count: int) -> ProblemError:
    """The 422 refusal naming ``problems``, the first of ``count`` fields at fault."""
    said = "1 field is" if count == 1 else f"{count} fields are"
    more = f"; the first {len(problems)} are named" if count > len(problems) else ""
    return ProblemError(
        422, ProblemType.INVALID_FIELDS, f"{said} not valid (see errors){more}", problems
    )


def field_problems(errors: Iterable[Mapping[str, Any]]) -> list[FieldProblem]:
    """The fields at fault in pydantic's (or FastAPI's) errors, without their input."""
    problems: list[FieldProblem] = []
    for error in errors:
        if len(problems) == MAX_FIELD_PROBLEMS:
            break
        location = tuple(error.get("loc", ()))
        where, path = (
            (location[0], location[1:])
            if location and location[0] in ("body", "query", "path", "header", "cookie")
            else ("body", location)
        )
        named: dict[str, str] = (
            {"pointer": pointer(path)}
            if where == "body"
            else {"parameter": printable(".".join(map(str, path)), MAX_FIELD_TEXT)}
        )
        problems.append(
            FieldProblem(
                code=printable(str(error.get("type", "invalid")), 64),
                detail=printable(str(error.get("msg", "not valid")), MAX_FIELD_TEXT),
                **named,
            )
        )
    return problems


def pointer(path: Iterable[object]) -> str:
    """The JSON Pointer (RFC 6901) of ``path`` as a URI fragment: ``#/lines/0/quantity``."""
    steps = (
        quote(printable(str(step), 64).replace("~", "~0").replace("/", "~1"), safe=_FRAGMENT)
        for step in path
    )
    return printable("#" + "".join("/" + step for step in steps), MAX_FIELD_TEXT)


_FRAGMENT = "!$&'()*+,;=:@~"
"""What a URI fragment holds as it is, besides letters, digits and ``-._``."""


def allowed_methods(request: Request) -> str:
    """The ``Allow`` header of a 405: every method some route of the path takes (one
    route per method here, so the route that refused knows only its own)."""
    methods: set[str] = set()
    # Included routers are matched through FastAPI's route contexts, not as plain routes.
    for route in iter_route_contexts(request.app.routes):
        if route.methods and route.matches(dict(request.scope))[0] is not Match.NONE:
            methods |= route.methods
    return ", ".join(sorted(methods))


def document_problems(app: FastAPI) -> None:
    """Make the OpenAPI document say what the API answers: each refusal of an API route
    (every 4xx and 5xx the route declares) is ``application/problem+json``."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        document = build()  # FastAPI's, cached: moving the content again changes nothing
        for path, operations in document.get("paths", {}).items():
            if not path.startswith("/api/"):
                continue
            for operation in operations.values():
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if status[0] in "45" and "application/json" in content:
                        response["content"] = {PROBLEM_JSON: content["application/json"]}
        return document

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
