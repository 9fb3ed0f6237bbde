"""Customer classification: RFM scores and named segments, and ABC by revenue share.

The rules are data (:class:`ClassificationRules`): the window the figures are taken
over, the segment grid, the ABC shares. :func:`classify` is pure; the nightly
``CustomerClassificationWorkflow`` feeds it each customer's figures and keeps the
result and its history.

**RFM.** Over the last ``window_days``: *recency* is the days since the customer's
last order kept (neither rejected nor cancelled), *frequency* the orders kept,
*monetary* what they came to. Each is scored 1 to 5 by quintile among the customers
who ordered in the window (5 best: most recent, most often, most spent): the
customer's rank among them as a share, in fifths rounded up; ties share their average
rank, so they share a score. The
segment is looked up by the recency score and the rounded mean of the frequency and
monetary scores in :data:`SEGMENT_GRID`. Customers who ordered before
the window but not in it are *lost*; customers who never ordered are *prospects*.

**ABC.** Customers by spend in the window, largest first: those making up the first
80 % of revenue are A, the next 15 % B, the rest (and those without spend) C.
"""

from __future__ import annotations

import bisect
import math
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Segment(StrEnum):
    """A named RFM segment."""

    CHAMPIONS = "champions"
    """Bought recently, often, and spend the most."""
    LOYAL = "loyal"
    """Buy regularly and well."""
    PROMISING = "promising"
    """Recent buyers who have not bought much yet."""
    NEEDS_ATTENTION = "needs_attention"
    """Middling recency, little bought: slipping unless someone acts."""
    AT_RISK = "at_risk"
    """Used to buy often and well, not lately."""
    HIBERNATING = "hibernating"
    """Little, and not lately."""
    LOST = "lost"
    """Lowest recency and little bought, or no order in the window at all."""
    PROSPECT = "prospect"
    """Never ordered."""


class Abc(StrEnum):
    """A customer's class by revenue share."""

    A = "A"
    B = "B"
    C = "C"


SEGMENT_GRID: dict[int, dict[int, Segment]] = {
    5: {5: Segment.CHAMPIONS, 4: Segment.CHAMPIONS, 3: Segment.LOYAL}
    | {2: Segment.PROMISING, 1: Segment.PROMISING},
    4: {5: Segment.CHAMPIONS, 4: Segment.LOYAL, 3: Segment.LOYAL}
    | {2: Segment.PROMISING, 1: Segment.PROMISING},
    3: {5: Segment.LOYAL, 4: Segment.LOYAL, 3: Segment.LOYAL}
    | {2: Segment.NEEDS_ATTENTION, 1: Segment.NEEDS_ATTENTION},
    2: {5: Segment.AT_RISK, 4: Segment.AT_RISK, 3: Segment.AT_RISK}
    | {2: Segment.HIBERNATING, 1: Segment.HIBERNATING},
    1: {5: Segment.AT_RISK, 4: Segment.AT_RISK, 3: Segment.AT_RISK}
    | {2: Segment.LOST, 1: Segment.LOST},
}
"""Segment by recency score (outer) and frequency-monetary score (inner)."""

ALARMING = frozenset({Segment.AT_RISK, Segment.NEEDS_ATTENTION, Segment.LOST})
"""Segments whose arrival customer care hears about."""


class ClassificationRules(BaseModel):
    """How customers are classified."""

    model_config = ConfigDict(frozen=True)

    window_days: int = Field(default=365, ge=30, le=3650)
    a_share: Decimal = Decimal("0.80")
    """Revenue share of the A customers."""
    b_share: Decimal = Decimal("0.95")
    """Revenue share of the A and B customers together."""


class CustomerFigures(BaseModel):
    """What classification reads about one customer."""

    model_config = ConfigDict(frozen=True)

    customer_id: str
    last_order_at: datetime | None
    """The last order kept, ever."""
    orders: int
    """Orders kept in the window."""
    spend: Decimal
    """What the orders kept in the window came to."""


class Classification(BaseModel):
    """One customer's scores, segment and class."""

    model_config = ConfigDict(frozen=True)

    customer_id: str
    segment: Segment
    abc: Abc
    recency: int
    """Score 1 to 5; 0 without an order in the window."""
    frequency: int
    monetary: int
    recency_days: int | None
    orders: int
    spend: Decimal


def classify(
    figures: list[CustomerFigures], now: datetime, rules: ClassificationRules
) -> list[Classification]:
    """Every customer's RFM scores, segment and ABC class (see the module's text)."""
    window_start = now.timestamp() - rules.window_days * 86400
    active = [
        f
        for f in figures
        if f.orders and f.last_order_at and f.last_order_at.timestamp() >= window_start
    ]
    days = {f.customer_id: _days(now, f.last_order_at) for f in figures}
    recency_scale = sorted(-(days[f.customer_id] or 0) for f in active)
    frequency_scale = sorted(f.orders for f in active)
    monetary_scale = sorted(f.spend for f in active)
    classes = _abc(figures, rules)
    result = []
    for f in figures:
        if f in active:
            r = _quintile(recency_scale, -(days[f.customer_id] or 0))
            fr = _quintile(frequency_scale, f.orders)
            m = _quintile(monetary_scale, f.spend)
            segment = SEGMENT_GRID[r][round((fr + m) / 2 + 0.01)]
        else:
            r = fr = m = 0
            segment = Segment.LOST if f.last_order_at else Segment.PROSPECT
        result.append(
            Classification(
                customer_id=f.customer_id,
                segment=segment,
                abc=classes[f.customer_id],
                recency=r,
                frequency=fr,
                monetary=m,
                recency_days=days[f.customer_id],
                orders=f.orders,
                spend=f.spend,
            )
        )
    return result


def _days(now: datetime, then: datetime | None) -> int | None:
    return None if then is None else max((now - then).days, 0)


def _quintile(scale: list[int] | list[Decimal], value: int | Decimal) -> int:
    """1 to 5: ``value``'s rank in the scale as a share of it, in fifths rounded up; ties
    share their average rank (the best of the scale scores 5)."""
    rank = (bisect.bisect_left(scale, value) + 1 + bisect.bisect_right(scale, value)) / 2
    return max(1, math.ceil(5 * rank / len(scale)))


def _abc(figures: list[CustomerFigures], rules: ClassificationRules) -> dict[str, Abc]:
    total = sum((f.spend for f in figures if f.spend > 0), start=Decimal(0))
    classes = {f.customer_id: Abc.C for f in figures}
    if not total:
        return classes
    running = Decimal(0)
    for f in sorted(figures, key=lambda f: (-f.spend, f.customer_id)):
        if f.spend <= 0:
            break
        share_before = running / total
        running += f.spend
        if share_before < rules.a_share:
            classes[f.customer_id] = Abc.A
        elif share_before < rules.b_share:
            classes[f.customer_id] = Abc.B
    return classes


class SegmentMove(BaseModel):
    """A customer who entered another segment in a classification."""

    model_config = ConfigDict(frozen=True)

    customer_id: str
    segment: Segment
    previous: Segment | None
    abc: Abc


class ClassificationOutcome(BaseModel):
    """What one classification did."""

    classified: int
    moved: list[SegmentMove]
    """Customers whose segment changed (new customers included)."""
    segments: dict[str, int]
    """Customers per segment now."""
    abc: dict[str, int]


class SegmentStanding(BaseModel):
    """A customer's segment as the customer view shows it, with its history."""

    current: Classification | None
    since: datetime | None
    computed_at: datetime | None
    history: list[tuple[datetime, str, str]]
    """(when, segment, ABC class), newest first."""


CUSTOMER_REVIEW_WORKFLOW_TYPE = "CustomerReviewWorkflow"
CUSTOMER_REVIEW_WORKFLOW_ID = "customer-review"
"""The id of a review started on demand (the schedule's runs have their own)."""
CUSTOMER_REVIEW_SCHEDULE_ID = "customer-review-nightly"
CLASSIFY_CUSTOMERS = "classify_customers"
"""Activity: classify every customer (RFM, segment, ABC) and keep the result."""
PURGE_EXPIRED_PERSONAL_DATA = "purge_expired_personal_data"
"""Activity: remove the address and payment token of orders archived longer than the
retention period."""
EVALUATE_CREDIT = "evaluate_credit"
"""Activity: score every customer's credit and propose the changes worth a look."""


class CustomerReviewRequest(BaseModel):
    """Input of the nightly customer review and its steps: the moment classified. The
    schedule starts the review without one: the workflow takes the time it runs."""

    at: datetime | None = None
