"""The weekly complaint analysis: how many complaints, against how many orders, where from,
how fast they were answered and solved, what putting them right cost, how satisfied the
customers were, and which root causes keep coming back.

Rates are complaints per 100 orders of the same week: for a product, a warehouse or a
carrier, per 100 orders that held the product, shipped from the warehouse or went with
the carrier. Times are business hours (the service levels' calendar). A root cause is
*recurring* when at least :data:`RECURRING_AT` complaints of the week closed with it;
it then needs an improvement action with an owner and a due date.

Everything here is pure: the activity gathers the facts, this computes the figures.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from domain.business_hours import BusinessCalendar
from domain.messages import InboundMessage
from domain.money import Amount

COMPLAINT_ANALYSIS_WORKFLOW_TYPE = "ComplaintAnalysisWorkflow"
COMPLAINT_ANALYSIS_SCHEDULE_ID = "complaint-analysis-weekly"
ANALYSE_COMPLAINTS = "analyse_complaints"
"""Activity: compute the analysis of a week and keep it."""
TREND_WEEKS = 8
"""Weeks shown before the analysed one."""
RECURRING_AT = 3
"""Complaints of a week with one root cause that make it recurring."""
DIMENSIONS = ("category", "product", "warehouse", "carrier", "channel")


def week_of(day: date) -> date:
    """The Monday that starts ``day``'s week."""
    return day - timedelta(days=day.weekday())


class AnalysisRequest(BaseModel):
    """Input of the analysis workflow: the week (its Monday); None: the week just ended."""

    week_start: date | None = None


class ComplaintFact(BaseModel):
    """What the analysis needs of one complaint."""

    received_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    category: str
    channel: str
    products: list[str] = []
    warehouses: list[str] = []
    carriers: list[str] = []
    breached: bool
    remedy_cost: Amount = Decimal(0)
    survey_score: int | None = None
    root_cause: str | None = None


class OrderFact(BaseModel):
    """What the analysis needs of one order: when, and what it held and how it went."""

    created_at: datetime
    products: list[str] = []
    warehouses: list[str] = []
    carriers: list[str] = []


class Rate(BaseModel):
    """Complaints of one key of a dimension, against the orders of that key."""

    dimension: str
    key: str
    complaints: int
    orders: int
    per_100_orders: float | None


class WeekPoint(BaseModel):
    """One week of the trend."""

    week_start: date
    complaints: int
    orders: int
    per_100_orders: float | None


class RootCauseCount(BaseModel):
    """Complaints of the week closed with one root cause."""

    code: str
    label: str
    complaints: int
    recurring: bool
    open_action: bool = False
    """An improvement action for it is under way."""


class ComplaintAnalysis(BaseModel):
    """The analysis of one week."""

    week_start: date
    complaints: int
    orders: int
    per_100_orders: float | None
    rates: list[Rate]
    trend: list[WeekPoint]
    resolved: int
    sla_compliance: float | None
    """Share of the week's complaints that kept every service level (None: none yet)."""
    first_response_median_hours: float | None
    first_response_p90_hours: float | None
    resolution_median_hours: float | None
    resolution_p90_hours: float | None
    remedy_cost: Amount
    surveys_answered: int
    csat: float | None
    """Share of answered surveys scoring 4 or 5."""
    average_score: float | None
    root_causes: list[RootCauseCount]


def per_100(complaints: int, orders: int) -> float | None:
    """Complaints per 100 orders, None without orders."""
    return round(100 * complaints / orders, 2) if orders else None


def median_and_p90(values: Sequence[float]) -> tuple[float | None, float | None]:
    """The median and the 90th percentile (inclusive method), rounded to a tenth."""
    if not values:
        return None, None
    if len(values) == 1:
        return round(values[0], 1), round(values[0], 1)
    p90 = statistics.quantiles(values, n=10, method="inclusive")[-1]
    return round(statistics.median(values), 1), round(p90, 1)


def _in_week(moment: datetime, week_start: date) -> bool:
    return week_start <= moment.date() < week_start + timedelta(days=7)


def analyse(
    week_start: date,
    complaints: Iterable[ComplaintFact],
    orders: Iterable[OrderFact],
    calendar: BusinessCalendar,
    root_cause_labels: dict[str, str],
    open_actions: set[str] | None = None,
) -> ComplaintAnalysis:
    """The analysis of the week starting ``week_start`` (facts of earlier weeks make the
    trend; later ones are ignored)."""
    all_complaints = list(complaints)
    all_orders = list(orders)
    week = [c for c in all_complaints if _in_week(c.received_at, week_start)]
    week_orders = [o for o in all_orders if _in_week(o.created_at, week_start)]
    rates = _rates(week, week_orders)
    trend = []
    for back in range(TREND_WEEKS, -1, -1):
        start = week_start - timedelta(weeks=back)
        count = sum(_in_week(c.received_at, start) for c in all_complaints)
        placed = sum(_in_week(o.created_at, start) for o in all_orders)
        trend.append(
            WeekPoint(
                week_start=start,
                complaints=count,
                orders=placed,
                per_100_orders=per_100(count, placed),
            )
        )
    first = [
        calendar.between(c.received_at, c.first_response_at).total_seconds() / 3600
        for c in week
        if c.first_response_at is not None
    ]
    solved = [
        calendar.between(c.received_at, c.resolved_at).total_seconds() / 3600
        for c in week
        if c.resolved_at is not None
    ]
    settled = [c for c in week if c.resolved_at is not None or c.breached]
    scores = [c.survey_score for c in week if c.survey_score is not None]
    first_median, first_p90 = median_and_p90(first)
    solved_median, solved_p90 = median_and_p90(solved)
    causes = Counter(c.root_cause for c in week if c.root_cause)
    actions = open_actions or set()
    return ComplaintAnalysis(
        week_start=week_start,
        complaints=len(week),
        orders=len(week_orders),
        per_100_orders=per_100(len(week), len(week_orders)),
        rates=rates,
        trend=trend,
        resolved=len(solved),
        sla_compliance=(
            round(sum(not c.breached for c in settled) / len(settled), 3) if settled else None
        ),
        first_response_median_hours=first_median,
        first_response_p90_hours=first_p90,
        resolution_median_hours=solved_median,
        resolution_p90_hours=solved_p90,
        remedy_cost=sum((c.remedy_cost for c in week), Decimal(0)),
        surveys_answered=len(scores),
        csat=round(sum(s >= 4 for s in scores) / len(scores), 3) if scores else None,
        average_score=round(statistics.fmean(scores), 2) if scores else None,
        root_causes=[
            RootCauseCount(
                code=code,
                label=root_cause_labels.get(code, code),
                complaints=count,
                recurring=count >= RECURRING_AT,
                open_action=code in actions,
            )
            for code, count in sorted(causes.items(), key=lambda item: (-item[1], item[0]))
        ],
    )


def _rates(week: list[ComplaintFact], orders: list[OrderFact]) -> list[Rate]:
    total = len(orders)
    rates = []
    for key, count in sorted(Counter(c.category for c in week).items()):
        rates.append(
            Rate(
                dimension="category",
                key=key,
                complaints=count,
                orders=total,
                per_100_orders=per_100(count, total),
            )
        )
    for dimension in ("product", "warehouse", "carrier"):
        attribute = dimension + "s"
        complained = Counter(key for c in week for key in set(getattr(c, attribute)))
        placed = Counter(key for o in orders for key in set(getattr(o, attribute)))
        for key, count in sorted(complained.items(), key=lambda item: (-item[1], item[0])):
            rates.append(
                Rate(
                    dimension=dimension,
                    key=key,
                    complaints=count,
                    orders=placed.get(key, 0),
                    per_100_orders=per_100(count, placed.get(key, 0)),
                )
            )
    for key, count in sorted(Counter(c.channel for c in week).items()):
        rates.append(
            Rate(
                dimension="channel",
                key=key,
                complaints=count,
                orders=total,
                per_100_orders=per_100(count, total),
            )
        )
    return rates


class NewImprovementAction(InboundMessage):
    """An improvement action as a person defines it."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    root_cause: Annotated[str, Field(min_length=1, max_length=64)]
    title: Annotated[str, Field(min_length=1, max_length=200)]
    owner: Annotated[str, Field(min_length=1, max_length=64)]
    due_date: date


class ImprovementActionView(BaseModel):
    """An improvement action as the console lists it."""

    id: int
    root_cause: str
    root_cause_label: str
    title: str
    owner: str
    due_date: date
    status: str
    created_by: str
    created_at: datetime
    done_at: datetime | None
    outcome: str
