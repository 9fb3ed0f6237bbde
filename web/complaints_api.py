"""The complaints part of the HTTP API, for the web shop, the mail gateway and a chat
system: complaints filed (once per message id, or without one once per content), the
customer's replies passed on to the case's workflow, survey answers taken by the case (or
refused, saying why), and a case read back."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request, Response
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt
from temporalio.client import RPCTimeoutOrCancelledError, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from domain.access import ApiKeyView, ApiPermission
from domain.complaint_mail import intake_key
from domain.complaints import (
    ANSWER_SURVEY_UPDATE,
    CUSTOMER_REPLIED_SIGNAL,
    ComplaintCase,
    ComplaintIntake,
    ComplaintStatus,
    CustomerMessage,
    SurveyAnswer,
    SurveyOutcome,
    complaint_workflow_id,
)
from domain.messages import whole_json_number
from ops.complaints import CaseNotStartedError, file_and_open
from persistence.transactions.complaint_surveys import survey_standing
from persistence.transactions.complaints import ComplaintRefusedError, find_case

from .api import BODY_ERRORS, ERRORS, ApiRoute, problems, system
from .complaint_survey import case_over
from .security import database, settings_of, temporal

router = APIRouter(prefix="/api/v1/complaints", tags=["complaints"], route_class=ApiRoute)

Filer = Annotated[ApiKeyView, Depends(system(ApiPermission.FILE_COMPLAINTS))]
ComplaintNumber = Annotated[int, Path(ge=1, le=2**31 - 1)]
NOT_FOUND = problems({404: "No such complaint."})


class ComplaintReceipt(BaseModel):
    """What became of a filed complaint."""

    complaint_id: int
    workflow_id: str
    status: ComplaintStatus
    duplicate: bool
    """The same message came before (the same message id; without one, the same channel,
    sender, customer, order, parcel, subject and text): nothing new was filed, and the
    rest of the receipt says what became of it the first time."""
    reply_to_case: bool
    """The message names an earlier case of the sender: it went to that case (for a
    duplicate: the first delivery did)."""


class SurveyDocument(SurveyAnswer):
    """A survey answer as JSON sends it: the score is a JSON number (``4`` or ``4.0``),
    never ``true`` or ``"4"`` (the survey page's form reads its own text)."""

    model_config = ConfigDict(title="SurveyAnswer")

    score: Annotated[StrictInt, Field(ge=1, le=5), BeforeValidator(whole_json_number)]


class SurveyReceipt(BaseModel):
    """A survey answer the case took."""

    complaint_id: int
    workflow_id: str
    outcome: SurveyOutcome
    """``answered``: the case recorded this answer."""


ANSWER_WAIT = timedelta(seconds=15)
"""How long an answer waits for the case to take it (Temporal's acceptance of the update)
before the API answers 503 (the worker may be restarting): send it again later."""


class Accepted(BaseModel):
    """A message handed to a case."""

    complaint_id: int
    workflow_id: str


@router.post(
    "",
    response_model=ComplaintReceipt,
    status_code=201,
    responses={
        **ERRORS,
        200: {
            "model": ComplaintReceipt,
            "description": "A repeat (same message id; without one, the same "
            "content) or a reply to an earlier case: nothing new filed.",
        },
        **BODY_ERRORS,
        **problems(
            {
                409: "Refused, nothing kept: it names a customer, "
                "order or parcel that does not exist, or no customer at all.",
                503: "Recorded, but Temporal is out of reach: send it again with the "
                "same message id to open its case.",
            }
        ),
    },
)
async def file_complaint(
    request: Request, response: Response, intake: ComplaintIntake, _key: Filer
) -> ComplaintReceipt:
    """File a complaint and open its case (a ``ComplaintWorkflow``)."""
    db = database(request)
    if not intake.message_id:  # a gateway's retry of it is the same complaint
        intake = intake.model_copy(update={"message_id": intake_key(intake)})
    try:
        filed = await file_and_open(
            await temporal(request), db, intake, settings_of(request).complaint_policy()
        )
    except ComplaintRefusedError as refused:
        raise HTTPException(409, str(refused)) from refused
    except CaseNotStartedError as late:
        raise HTTPException(503, str(late)) from late
    if filed.duplicate or filed.reopen:
        response.status_code = 200
    return ComplaintReceipt(
        complaint_id=filed.case.id,
        workflow_id=complaint_workflow_id(filed.case.id),
        status=filed.case.status,
        duplicate=filed.duplicate,
        reply_to_case=filed.reopen,
    )


@router.get("/{complaint_id}", response_model=ComplaintCase, responses={**ERRORS, **NOT_FOUND})
async def get_complaint(
    request: Request, complaint_id: ComplaintNumber, _key: Filer
) -> ComplaintCase:
    """Where a case stands: status, owner, service-level clocks, remedies."""
    db = database(request)
    case = await db.run(find_case, db, complaint_id)
    if case is None:
        raise HTTPException(404, f"no complaint {complaint_id}")
    return case


async def _signal(request: Request, complaint_id: int, name: str, message: BaseModel) -> Accepted:
    db = database(request)
    if await db.run(find_case, db, complaint_id) is None:
        raise HTTPException(404, f"no complaint {complaint_id}")
    workflow_id = complaint_workflow_id(complaint_id)
    try:
        await (await temporal(request)).get_workflow_handle(workflow_id).signal(name, message)
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:
            raise HTTPException(
                409, f"complaint {complaint_id} is over (closed and past reopening)"
            ) from error
        raise
    return Accepted(complaint_id=complaint_id, workflow_id=workflow_id)


ENDED = {**BODY_ERRORS, **problems({409: "The case is over: file a new complaint."})}


@router.post(
    "/{complaint_id}/messages",
    response_model=Accepted,
    status_code=202,
    responses={**ERRORS, **NOT_FOUND, **ENDED},
)
async def customer_wrote(
    request: Request, complaint_id: ComplaintNumber, message: CustomerMessage, _key: Filer
) -> Accepted:
    """The customer wrote about the case (a chat message, an e-mail reply): a case waiting
    for them runs on; a resolved or closed one reopens."""
    return await _signal(request, complaint_id, CUSTOMER_REPLIED_SIGNAL, message)


@router.post(
    "/{complaint_id}/survey",
    response_model=SurveyReceipt,
    responses={
        **ERRORS,
        **NOT_FOUND,
        **BODY_ERRORS,
        **problems(
            {
                409: "Not taken: the case has no survey open, that survey is closed "
                "(expired, or the case was reopened or closed since), or it was "
                "answered already.",
                503: "Temporal or the worker did not take the answer in time; nothing "
                "was taken: send it again later.",
            }
        ),
    },
)
async def survey_answered(
    request: Request, complaint_id: ComplaintNumber, answer: SurveyDocument, _key: Filer
) -> SurveyReceipt:
    """The customer's satisfaction score (1 to 5) and comment for the case's open survey
    (or the survey ``survey`` names, its link's number): 200 once the case took it, 409
    saying why it did not (no survey open, closed, answered already)."""
    db = database(request)
    case = await db.run(find_case, db, complaint_id)
    if case is None:
        raise HTTPException(404, f"no complaint {complaint_id}")
    survey = SurveyAnswer.model_validate(answer.model_dump())
    workflow_id = complaint_workflow_id(complaint_id)
    handle = (await temporal(request)).get_workflow_handle(workflow_id)
    try:
        said = await handle.execute_update(
            ANSWER_SURVEY_UPDATE, survey, result_type=str, rpc_timeout=ANSWER_WAIT
        )
        outcome = SurveyOutcome(said)
    except (RPCError, WorkflowUpdateFailedError, RPCTimeoutOrCancelledError) as failure:
        if not case_over(failure):
            raise HTTPException(
                503, f"complaint {complaint_id}: the case did not take the answer in time"
            ) from failure
        outcome = SurveyOutcome.CLOSED
    if outcome is SurveyOutcome.CLOSED:
        # Closed, or the case is over: its history says whether that survey (without a
        # number: the case's latest, one per reopening) was answered before.
        number = case.reopened if survey.survey is None else survey.survey
        standing = await db.run(survey_standing, db, complaint_id, number)
        if standing is SurveyOutcome.ALREADY_ANSWERED:
            outcome = standing
    if outcome is SurveyOutcome.ANSWERED:
        return SurveyReceipt(complaint_id=complaint_id, workflow_id=workflow_id, outcome=outcome)
    raise HTTPException(409, _not_taken(complaint_id, survey.survey, outcome))


def _not_taken(complaint_id: int, survey: int | None, outcome: SurveyOutcome) -> str:
    """Why the case did not take a survey answer, in words."""
    which = f"complaint {complaint_id}: " + ("its survey" if survey is None else f"survey {survey}")
    if outcome is SurveyOutcome.ALREADY_ANSWERED:
        return f"{which} was answered already"
    if survey is None:
        return f"complaint {complaint_id}: no survey is open"
    return f"{which} is closed"
