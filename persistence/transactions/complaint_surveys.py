"""A complaint's satisfaction surveys: what each survey's link signs, and where a survey
stands by the case's history.

A case is surveyed once per resolution; a survey is numbered by the case's reopening
count when it went out (0 the first, 1 after the first reopening, ...). Its link signs
that number, so the link of an earlier survey never answers a later one, and it takes
no answer once its survey closed (answered, expired, or the case reopened or closed).
"""

from __future__ import annotations

from sqlalchemy import select

from domain.complaints import ComplaintEventKind, SurveyOutcome
from persistence.database import Database
from persistence.models import ComplaintEventRow


def survey_subject(complaint_id: int, survey: int | None) -> str:
    """What the link to survey ``survey`` of a complaint signs (see
    :func:`persistence.keys.link_token`); None: the links sent before surveys were
    numbered, which belong to the case's first survey."""
    if survey is None:
        return f"survey:{complaint_id}"
    return f"survey:{complaint_id}:{survey}"


def survey_standing(db: Database, complaint_id: int, survey: int) -> SurveyOutcome | None:
    """Where survey ``survey`` of the complaint stands by the case's recorded history:
    None while it is open (sent, neither answered nor closed), else answered already or
    closed (also when it was never sent)."""
    with db.reading() as session:
        kinds = session.scalars(
            select(ComplaintEventRow.kind)
            .where(ComplaintEventRow.complaint_id == complaint_id)
            .order_by(ComplaintEventRow.id)
        ).all()
    number = 0  # the survey round an event belongs to: the reopenings before it
    sent = False
    for kind in kinds:
        if kind == ComplaintEventKind.REOPENED.value:
            number += 1
        elif number != survey:
            continue
        elif kind == ComplaintEventKind.SURVEY_SENT.value:
            sent = True
        elif kind == ComplaintEventKind.SURVEY_ANSWERED.value:
            return SurveyOutcome.ALREADY_ANSWERED
        elif kind in (ComplaintEventKind.SURVEY_EXPIRED.value, ComplaintEventKind.CLOSED.value):
            return SurveyOutcome.CLOSED
    return None if sent and number == survey else SurveyOutcome.CLOSED
