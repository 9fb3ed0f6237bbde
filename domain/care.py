"""Customer care: tasks for customer service that rules create, each a durable
``CareTaskWorkflow`` with an owner, a due date and an escalation ladder when left undone.

The rules are data (:class:`CareRules`), applied by the nightly customer review:

- **at risk**: a customer moved into the *at risk* segment (call before they are lost);
- **overdue**: a regular customer (at least ``regular_orders`` orders kept) whose last
  order is ``overdue_factor`` times their usual interval (in whole days, at least one)
  and ``overdue_tolerance_days`` ago, and less than a year;
- **thank you**: a customer's first order, worth at least ``large_order`` and placed in
  the last ``thank_you_within_days``, was delivered (a thank-you call, once per
  customer);
- **complaint follow-up**: a complaint was closed (complaint handling creates these).

One open task per customer and kind; the owner is the customer-service user with the
fewest open tasks (round robin), or the team queue when there is none.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from domain.escalation import EscalationLadder, EscalationRung
from domain.messages import InboundMessage
from domain.notifications import Audience
from domain.wording import N_, Wording


class CareKind(StrEnum):
    """Why a care task exists."""

    AT_RISK = "at_risk"
    OVERDUE = "overdue"
    THANK_YOU = "thank_you"
    COMPLAINT_FOLLOW_UP = "complaint_follow_up"


class CareRules(BaseModel):
    """When care tasks are created and how long each may take."""

    model_config = ConfigDict(frozen=True)

    regular_orders: int = 3
    overdue_factor: float = 1.5
    overdue_tolerance_days: int = 1
    """Days beyond ``overdue_factor`` times the usual interval before a task is made (an
    order a few hours late is not overdue)."""
    large_order: Decimal = Decimal(1000)
    thank_you_within_days: int = 30
    """Only a first order placed this recently gets a thank-you call."""
    due_days: dict[CareKind, int] = {
        CareKind.AT_RISK: 3,
        CareKind.OVERDUE: 5,
        CareKind.THANK_YOU: 2,
        CareKind.COMPLAINT_FOLLOW_UP: 3,
    }


_UNITS = (("day", 86_400), ("hour", 3_600), ("minute", 60))


def _span(length: timedelta) -> tuple[int, str] | None:
    """``length`` in the largest unit it holds at least once, rounded: ``(20, "hour")``,
    ``(2, "day")`` for 36 hours; None when it is under a minute."""
    seconds = length.total_seconds()
    for unit, unit_seconds in _UNITS:
        if seconds >= unit_seconds:
            return round(seconds / unit_seconds), unit
    return None


_EVERY = {
    "day": (N_("usually orders every day"), N_("usually orders every %(count)s days")),
    "hour": (N_("usually orders every hour"), N_("usually orders every %(count)s hours")),
    "minute": (N_("usually orders every minute"), N_("usually orders every %(count)s minutes")),
}
_AGO = {
    "day": (N_("last order 1 day ago"), N_("last order %(count)s days ago")),
    "hour": (N_("last order 1 hour ago"), N_("last order %(count)s hours ago")),
    "minute": (N_("last order 1 minute ago"), N_("last order %(count)s minutes ago")),
}


def _counted(span: tuple[int, str] | None, forms: dict[str, tuple[str, str]], less: str) -> Wording:
    match span:
        case None:
            return Wording(message=less)
        case (1, unit):
            return Wording(message=forms[unit][0])
        case (count, unit):
            return Wording(message=forms[unit][1], args={"count": count})
    raise AssertionError(span)  # pragma: no cover - the match is exhaustive


def usual_interval_days(gaps: Sequence[timedelta]) -> int:
    """A customer's usual interval between orders in whole days: the median gap, rounded,
    and at least one day (a customer ordering several times a day, or many orders entered
    at once, is not "overdue" minutes after the last order)."""
    return max(1, round(statistics.median(gap / timedelta(days=1) for gap in gaps)))


def is_overdue(usual_days: int, since: timedelta, rules: CareRules) -> bool:
    """The last order, ``since`` ago, is later than the usual interval allows: at least
    ``overdue_factor`` times ``usual_days`` and ``overdue_tolerance_days`` more."""
    return since >= timedelta(days=rules.overdue_factor * usual_days + rules.overdue_tolerance_days)


def overdue_wording(usual: timedelta, since: timedelta) -> Wording:
    """Why an overdue task was made: the customer's usual interval between orders and how
    long ago the last was, in days, or in hours or minutes when under a day (a customer
    ordering several times a day read "usually orders every 0 days")."""
    return Wording(
        message=N_("%(interval)s; %(last)s"),
        parts={
            "interval": _counted(
                _span(usual), _EVERY, N_("usually orders more than once a minute")
            ),
            "last": _counted(_span(since), _AGO, N_("last order less than a minute ago")),
        },
    )


def overdue_reason(usual: timedelta, since: timedelta) -> str:
    """:func:`overdue_wording` in English."""
    return overdue_wording(usual, since).english()


def _counted_from(text: str, forms: dict[str, tuple[str, str]], less: str) -> Wording | None:
    if text == less:
        return Wording(message=less)
    for one, many in forms.values():
        if text == one:
            return Wording(message=one)
        pattern = re.escape(many).replace(re.escape("%(count)s"), r"(\d+)")
        if found := re.fullmatch(pattern, text):
            return Wording(message=many, args={"count": int(found.group(1))})
    return None


def reason_wording_of(kind: CareKind, reason: str) -> Wording | None:
    """The wording of a task's reason read from its English (a task made before tasks
    kept one); None when it is not one the rules write."""
    if kind is CareKind.AT_RISK and reason == AT_RISK_REASON.message:
        return AT_RISK_REASON
    if kind is CareKind.OVERDUE:
        interval, _, last = reason.partition("; ")
        every = _counted_from(interval, _EVERY, N_("usually orders more than once a minute"))
        ago = _counted_from(last, _AGO, N_("last order less than a minute ago"))
        if every is not None and ago is not None:
            return Wording(
                message=N_("%(interval)s; %(last)s"), parts={"interval": every, "last": ago}
            )
    if kind is CareKind.THANK_YOU and (
        found := re.fullmatch(r"first order (\S+) \((\S+) (\S+)\) delivered", reason)
    ):
        return Wording(
            message=N_("first order %(order)s (%(total)s %(currency)s) delivered"),
            args={"order": found.group(1), "total": found.group(2), "currency": found.group(3)},
        )
    if kind is CareKind.COMPLAINT_FOLLOW_UP and (
        found := re.fullmatch(r"complaint #(\d+) closed: call to check all is well", reason)
    ):
        return follow_up_reason(int(found.group(1)))
    return None


AT_RISK_REASON = Wording(message=N_("moved into the at-risk segment: call before they go"))
"""Why an at-risk task was made."""


def thank_you_reason(order_id: str, total: Decimal, currency: str) -> Wording:
    """Why a thank-you call was made: the first order, delivered."""
    return Wording(
        message=N_("first order %(order)s (%(total)s %(currency)s) delivered"),
        args={"order": order_id, "total": total, "currency": currency},
    )


def follow_up_reason(complaint_id: int) -> Wording:
    """Why a complaint follow-up was made."""
    return Wording(
        message=N_("complaint #%(complaint)s closed: call to check all is well"),
        args={"complaint": complaint_id},
    )


CARE_LADDER = EscalationLadder(
    name="care task",
    rungs=(
        EscalationRung(name="remind the owner", after=timedelta(0), notify=Audience.ASSIGNEE),
        EscalationRung(
            name="tell the supervisor", after=timedelta(days=2), notify=Audience.SUPERVISOR
        ),
        EscalationRung(
            name="reassign to the team queue",
            after=timedelta(days=4),
            notify=Audience.CUSTOMER_SERVICE,
        ),
    ),
)
"""Counted from the task's due date."""
REASSIGN_RUNG = CARE_LADDER.rungs[-1].name

CARE_TASK_WORKFLOW_TYPE = "CareTaskWorkflow"
COMPLETE_CARE_TASK = "complete_care_task"
"""The staff action that ends a task (the update is this plus ``_now``, as for orders)."""
COMPLETE_CARE_TASK_UPDATE = COMPLETE_CARE_TASK + "_now"
"""Update: the task is done (carries a :class:`CareTaskDone`); answered once recorded."""
CREATE_CARE_TASKS = "create_care_tasks"
"""Activity: apply the care rules, write the new tasks, and return them to start."""
REASSIGN_CARE_TASK = "reassign_care_task"
"""Activity: move a task left undone to the team queue."""
RECORD_CARE_TASK_DONE = "record_care_task_done"
"""Activity: record that a task is done, with its outcome."""


def care_task_workflow_id(task_id: int) -> str:
    """The workflow id of care task ``task_id``."""
    return f"care-task-{task_id}"


class CareReviewRequest(BaseModel):
    """Input of :data:`CREATE_CARE_TASKS`: the moment, and who moved into *at risk*."""

    at: datetime
    at_risk: list[str] = []


class CareTask(BaseModel):
    """A care task: what the workflow works with, and what the console lists."""

    id: int
    customer_id: str
    kind: CareKind
    reason: str
    reason_wording: Wording | None = None
    """``reason`` for people, in the reader's language (None on older tasks)."""
    owner: str | None
    """A customer-service user, or None for the team queue."""
    due_at: datetime
    status: str = "open"
    escalation_level: int = 0
    outcome: str = ""
    completed_by: str | None = None
    completed_at: datetime | None = None


class CareTaskDone(InboundMessage):
    """The task is done: what came of it, and who did it."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    outcome: Annotated[str, Field(min_length=1, max_length=1000)]
    actor: Annotated[str, Field(min_length=1, max_length=64)]


class CareTaskCompletion(BaseModel):
    """Input of :data:`RECORD_CARE_TASK_DONE`."""

    task_id: int
    outcome: str
    actor: str
