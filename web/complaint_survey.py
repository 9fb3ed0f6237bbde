"""The satisfaction survey page a customer opens from the link in our message after their
complaint was resolved: a score of 1 to 5 and a comment, passed to the case's workflow.
No login: the link is signed (see :func:`persistence.keys.link_token`).

A link belongs to one survey of the case (``/survey/<complaint>/<survey>/<token>``) and
takes one answer while that survey is open; after that it says the survey was answered
or is closed. Links sent before surveys were numbered (``/survey/<complaint>/<token>``)
belong to the case's first survey. Whatever the path holds, a link that is not ours is
answered with the "not valid" page, never an error document.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import Response
from temporalio.client import RPCTimeoutOrCancelledError, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from domain.complaints import (
    ANSWER_SURVEY_UPDATE,
    LARGEST_COMPLAINT_NUMBER,
    SurveyAnswer,
    SurveyOutcome,
    complaint_workflow_id,
)
from ops.staff import NOT_RUNNING
from persistence.keys import link_secrets, link_token_valid
from persistence.transactions.complaint_surveys import survey_standing, survey_subject

from .campaigns import customer_locale
from .rendering import render
from .security import database, settings_of, temporal
from .stock import reasons_of

router = APIRouter()

ANSWER_WAIT = timedelta(seconds=15)
"""How long the page waits for the case to take an answer (Temporal's acceptance of the
update) before asking the customer to send it again later (the worker may be restarting)."""


def case_over(failure: Exception) -> bool:
    """Whether a failed answer means the case's workflow is gone (finished, or never
    started), rather than Temporal or the worker being out of reach for now."""
    if isinstance(failure, WorkflowUpdateFailedError):
        return True
    if isinstance(failure, RPCError):
        return failure.status is RPCStatusCode.NOT_FOUND or bool(
            NOT_RUNNING.search(failure.message)
        )
    return False


def _number(text: str) -> int | None:
    """A link's number part, or None when it is not one (``abc``, ``-1``, 40 digits)."""
    if not text.isascii() or not text.isdigit() or len(text) > len(str(LARGEST_COMPLAINT_NUMBER)):
        return None
    number = int(text)
    return number if number <= LARGEST_COMPLAINT_NUMBER else None


class _NotOurLinkError(Exception):
    """A survey link we did not send (mistyped, cut short, forged)."""


def _link(request: Request, complaint: str, survey: str | None, token: str) -> tuple[int, int]:
    """The complaint and survey a link names; raises :class:`_NotOurLinkError` unless it is ours."""
    complaint_id = _number(complaint)
    number = 0 if survey is None else _number(survey)
    if complaint_id is None or complaint_id < 1 or number is None:
        raise _NotOurLinkError
    secrets = link_secrets(settings_of(request).load_key_ring())
    subject = survey_subject(complaint_id, None if survey is None else number)
    if not link_token_valid(secrets, subject, token):
        raise _NotOurLinkError
    return complaint_id, number


def _invalid(request: Request) -> Response:
    return render(
        "problem.html",
        customer_locale(request),
        404,
        status=404,
        reason="this survey link is not valid",
        back=None,
    )


def _page(
    request: Request,
    action: str,
    complaint_id: int,
    standing: SurveyOutcome | None,
    *,
    code: int = 200,
    done: bool = False,
    problem: str | None = None,
    busy: bool = False,
) -> Response:
    return render(
        "survey.html",
        customer_locale(request),
        code,
        complaint_id=complaint_id,
        action=action,
        open=standing is None,
        answered=standing is SurveyOutcome.ALREADY_ANSWERED,
        done=done,
        problem=problem,
        busy=busy,
    )


@router.get("/survey/{complaint}/{token}")
async def first_survey_page(request: Request, complaint: str, token: str) -> Response:
    """The survey of a link sent before surveys were numbered (the case's first)."""
    return await _show(request, complaint, None, token)


@router.get("/survey/{complaint}/{survey}/{token}")
async def survey_page(request: Request, complaint: str, survey: str, token: str) -> Response:
    """The survey: how satisfied the customer is with how their complaint was handled."""
    return await _show(request, complaint, survey, token)


@router.post("/survey/{complaint}/{token}")
async def answer_first_survey(request: Request, complaint: str, token: str) -> Response:
    """Answer the survey of a link sent before surveys were numbered."""
    return await _answer(request, complaint, None, token)


@router.post("/survey/{complaint}/{survey}/{token}")
async def answer_survey(request: Request, complaint: str, survey: str, token: str) -> Response:
    """Pass the answer to the case: the first answer while its survey is open counts."""
    return await _answer(request, complaint, survey, token)


async def _show(request: Request, complaint: str, survey: str | None, token: str) -> Response:
    try:
        complaint_id, number = _link(request, complaint, survey, token)
    except _NotOurLinkError:
        return _invalid(request)
    db = database(request)
    standing = await db.run(survey_standing, db, complaint_id, number)
    return _page(request, request.url.path, complaint_id, standing)


async def _answer(request: Request, complaint: str, survey: str | None, token: str) -> Response:
    try:
        complaint_id, number = _link(request, complaint, survey, token)
    except _NotOurLinkError:
        return _invalid(request)
    action = request.url.path
    form = await request.form()
    try:
        answer = SurveyAnswer.model_validate(
            {
                "score": form.get("score", ""),
                "comment": str(form.get("comment", "")).strip(),
                "survey": number,
            }
        )
    except ValidationError as invalid:
        return _page(
            request,
            action,
            complaint_id,
            None,
            code=422,
            problem=reasons_of(invalid, customer_locale(request)),
        )
    handle = (await temporal(request)).get_workflow_handle(complaint_workflow_id(complaint_id))
    try:
        said = await handle.execute_update(
            ANSWER_SURVEY_UPDATE, answer, result_type=str, rpc_timeout=ANSWER_WAIT
        )
        outcome = SurveyOutcome(said)
    except (RPCError, WorkflowUpdateFailedError, RPCTimeoutOrCancelledError) as failure:
        if not case_over(failure):  # Temporal or the worker is away: nothing was taken
            return _page(request, action, complaint_id, None, code=503, busy=True)
        # The case is over: its history says whether this survey was answered.
        db = database(request)
        standing = await db.run(survey_standing, db, complaint_id, number)
        outcome = standing or SurveyOutcome.CLOSED
    if outcome is SurveyOutcome.ANSWERED:
        return _page(request, action, complaint_id, SurveyOutcome.ANSWERED, done=True)
    return _page(request, action, complaint_id, outcome)
