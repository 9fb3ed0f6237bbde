"""The satisfaction survey page a customer opens from the link in our message after their
complaint was resolved: a score of 1 to 5 and a comment, passed to the case's workflow.
No login: the link is signed (see :func:`persistence.keys.link_token`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import Response
from temporalio.service import RPCError

from domain.complaints import (
    SURVEY_ANSWERED_SIGNAL,
    ComplaintStatus,
    SurveyAnswer,
    complaint_workflow_id,
)
from persistence.keys import link_secrets, link_token_valid
from persistence.transactions.complaints import find_case, survey_subject

from .campaigns import customer_locale
from .rendering import render
from .security import RowNumber, database, settings_of, temporal
from .stock import reasons_of

router = APIRouter()


def _valid(request: Request, complaint_id: int, token: str) -> bool:
    secrets = link_secrets(settings_of(request).load_key_ring())
    return link_token_valid(secrets, survey_subject(complaint_id), token)


def _invalid(request: Request) -> Response:
    return render(
        "problem.html",
        customer_locale(request),
        404,
        status=404,
        reason="this survey link is not valid",
        back=None,
    )


@router.get("/survey/{complaint_id}/{token}")
async def survey_page(request: Request, complaint_id: RowNumber, token: str) -> Response:
    """The survey: how satisfied the customer is with how their complaint was handled."""
    if not _valid(request, complaint_id, token):
        return _invalid(request)
    db = database(request)
    case = await db.run(find_case, db, complaint_id)
    is_open = case is not None and case.status is ComplaintStatus.RESOLVED
    return render(
        "survey.html",
        customer_locale(request),
        complaint_id=complaint_id,
        token=token,
        open=is_open,
        done=False,
        problem=None,
    )


@router.post("/survey/{complaint_id}/{token}")
async def answer_survey(request: Request, complaint_id: RowNumber, token: str) -> Response:
    """Pass the answer to the case (the first answer while the survey is open counts)."""
    if not _valid(request, complaint_id, token):
        return _invalid(request)
    form = await request.form()
    locale = customer_locale(request)
    try:
        answer = SurveyAnswer.model_validate(
            {"score": form.get("score", ""), "comment": str(form.get("comment", "")).strip()}
        )
    except ValidationError as invalid:
        return render(
            "survey.html",
            locale,
            422,
            complaint_id=complaint_id,
            token=token,
            open=True,
            done=False,
            problem=reasons_of(invalid),
        )
    handle = (await temporal(request)).get_workflow_handle(complaint_workflow_id(complaint_id))
    try:
        await handle.signal(SURVEY_ANSWERED_SIGNAL, answer)
    except RPCError:
        return render(
            "survey.html",
            locale,
            complaint_id=complaint_id,
            token=token,
            open=False,
            done=False,
            problem=None,
        )
    return render(
        "survey.html",
        locale,
        complaint_id=complaint_id,
        token=token,
        open=False,
        done=True,
        problem=None,
    )
