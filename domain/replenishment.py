"""Replenishment: projected stock, safety stock and the proposals a planner approves.

For each product and warehouse the projection runs day by day: free stock today
(on hand - reserved), plus what is expected to arrive, minus the forecast demand. It
names the first day free stock runs out and how far it will stand above the maximum.
A proposal is made when the stock position (free + incoming) is at or below the
reorder point, or the projection runs below the safety stock within the lead time.
Incoming counts what will become free: supply already promised to orders waiting for
it (their lines' production and purchase orders) is reserved for them on arrival, so it
is neither in the position nor among the projection's arrivals.

- **order-up-to (forecast)** when there is a forecast: enough to cover the forecast
  demand over the lead time and the review period, plus the safety stock;
- **min/max** otherwise: up to the maximum.

Either is rounded up to the product's pack multiple. Pure rules, no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from statistics import NormalDist
from typing import Annotated

from pydantic import BaseModel, Field, StrictInt

from domain.escalation import EscalationLadder, EscalationRung
from domain.messages import InboundMessage
from domain.notifications import Audience
from domain.supply import SupplyKind
from domain.wording import N_, Wording

INVENTORY_REVIEW_WORKFLOW_TYPE = "InventoryReviewWorkflow"
INVENTORY_REVIEW_WORKFLOW_ID = "inventory-review"
"""The id of an on-demand review; scheduled runs get the schedule's ids."""
INVENTORY_REVIEW_SCHEDULE_ID = "inventory-review-daily"
REPLENISHMENT_WORKFLOW_TYPE = "ReplenishmentWorkflow"

REVIEW_STOCK_ALERTS = "review_stock_alerts"
"""Activity: raise and clear stock alerts."""
FORECAST_AND_PROPOSE = "forecast_and_propose"
"""Activity: forecast demand, project stock, write proposals and the forecast report."""
PLACE_REPLENISHMENT = "place_replenishment"
"""Activity: record the replenishment's supply order and place it with the partner."""
RECEIVE_REPLENISHMENT = "receive_replenishment"
"""Activity: book a replenishment receipt into stock through the ledger, once."""


def replenishment_workflow_id(proposal_id: int) -> str:
    """The workflow id of the replenishment order an approved proposal starts."""
    return f"replenishment-{proposal_id}"


class ReplenishmentRules(BaseModel):
    """The review's settings (data; settings override)."""

    horizon_days: int = 90
    """How far forecasts and projections look."""
    history_days: int = 365
    """How much order history the forecast learns from."""
    review_days: int = 7
    """Order-up-to covers the lead time plus this period."""
    default_service_level: Decimal = Decimal("0.95")
    """For safety stock where a policy names none."""


class ProposalMethod(StrEnum):
    """How a proposal's quantity was found."""

    ORDER_UP_TO = "order_up_to"
    MIN_MAX = "min_max"


class ProposalStatus(StrEnum):
    """Life of a proposal."""

    PROPOSED = "proposed"
    """Waits for a planner (a later review updates its figures)."""
    ORDERED = "ordered"
    """Approved (as proposed or edited, or automatically): a replenishment order runs."""
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    """A later review found it no longer needed before anyone decided."""


class StockPosition(BaseModel):
    """One product in one warehouse as the review sees it."""

    sku: str
    warehouse_id: str
    on_hand: int
    reserved: int
    arrivals: list[tuple[date, int]] = []
    """Expected receipts that add to free stock (replenishment orders, transfers in
    transit) by day."""
    promised_incoming: int = 0
    """Units on their way already promised to orders waiting for them (their lines'
    production and purchase orders): reserved on arrival, never free."""
    lead_time_days: int
    pack_multiple: int = 1
    kind: SupplyKind
    reorder_point: int = 0
    minimum: int = 0
    maximum: int = 0
    safety_stock: int = 0
    service_level: Decimal | None = None
    automatic: bool = False
    """The policy lets approved proposals skip the planner."""

    @property
    def free(self) -> int:
        """On hand and promised to nobody."""
        return self.on_hand - self.reserved

    @property
    def incoming(self) -> int:
        """Every unit on its way that will add to free stock."""
        return sum(units for _day, units in self.arrivals)


class Projection(BaseModel):
    """Projected free stock of one product in one warehouse, day by day."""

    sku: str
    warehouse_id: str
    days: list[tuple[date, float]]
    """(day, free stock at its end) from today to the horizon."""
    stockout_on: date | None
    """The first day free stock falls below zero."""
    overstock_units: int
    """How far free stock stands above the maximum at the end of the lead time (0: not)."""
    safety_stock: int


class Proposal(BaseModel):
    """What the review proposes to order."""

    sku: str
    warehouse_id: str
    kind: SupplyKind
    quantity: int
    method: ProposalMethod
    reason: str
    """In English, the clauses joined with "; " (the CLI, the API, older readers)."""
    reason_wordings: list[Wording] = []
    """The reason's clauses as wordings, shown in the reader's language."""
    stockout_on: date | None = None
    automatic: bool = False


def safety_stock(position: StockPosition, error_sd: float, rules: ReplenishmentRules) -> int:
    """The policy's fixed safety stock, or z(service level) x daily error x sqrt(lead time)."""
    if position.safety_stock:
        return position.safety_stock
    level = float(position.service_level or rules.default_service_level)
    level = min(max(level, 0.5), 0.9999)
    z = NormalDist().inv_cdf(level)
    return math.ceil(z * error_sd * math.sqrt(max(position.lead_time_days, 1)))


def project(
    position: StockPosition,
    forecast: Sequence[float],
    error_sd: float,
    today: date,
    rules: ReplenishmentRules,
) -> Projection:
    """Free stock day by day: today's, plus arrivals, minus the forecast."""
    arrivals: dict[date, int] = {}
    for day, units in position.arrivals:
        arrivals[max(day, today)] = arrivals.get(max(day, today), 0) + units
    free = float(position.free) + arrivals.get(today, 0)
    days = [(today, free)]
    stockout = None if free >= 0 else today
    for offset in range(1, rules.horizon_days + 1):
        day = today + timedelta(days=offset)
        demand = forecast[offset - 1] if offset - 1 < len(forecast) else 0.0
        free += arrivals.get(day, 0) - demand
        days.append((day, free))
        if stockout is None and free < 0:
            stockout = day
    lead_end = days[min(position.lead_time_days, len(days) - 1)][1]
    over = (
        int(lead_end - position.maximum) if position.maximum and lead_end > position.maximum else 0
    )
    return Projection(
        sku=position.sku,
        warehouse_id=position.warehouse_id,
        days=days,
        stockout_on=stockout,
        overstock_units=over,
        safety_stock=safety_stock(position, error_sd, rules),
    )


def propose(
    position: StockPosition,
    projection: Projection,
    forecast: Sequence[float] | None,
    rules: ReplenishmentRules,
) -> Proposal | None:
    """The order this level needs now, or None."""
    stock_position = position.free + position.incoming
    lead_days = max(position.lead_time_days, 0)
    lowest_in_lead = min(free for _day, free in projection.days[: lead_days + 1])
    below_point = bool(position.reorder_point) and stock_position <= position.reorder_point
    runs_short = forecast is not None and lowest_in_lead < projection.safety_stock
    if not (below_point or runs_short):
        return None
    if forecast:
        cover = lead_days + rules.review_days
        demand = sum(forecast[:cover])
        target = demand + projection.safety_stock
        needed = math.ceil(target - stock_position)
        method = ProposalMethod.ORDER_UP_TO
        figures = {
            "position": stock_position,
            "free": position.free,
            "incoming": position.incoming,
        }
        why = [
            Wording(
                message=N_("position %(position)s (free %(free)s + incoming %(incoming)s)"),
                args=figures,
            )
            if not position.promised_incoming
            else Wording(
                message=N_(
                    "position %(position)s (free %(free)s + incoming %(incoming)s; "
                    "%(promised)s more incoming, promised to orders)"
                ),
                args={**figures, "promised": position.promised_incoming},
            ),
            Wording(
                message=N_("forecast %(demand)s over %(days)s days + safety stock %(safety)s"),
                args={"demand": f"{demand:.0f}", "days": cover, "safety": projection.safety_stock},
            ),
        ]
    elif position.maximum:
        needed = position.maximum - stock_position
        method = ProposalMethod.MIN_MAX
        why = [
            Wording(
                message=N_("position %(position)s <= reorder point %(point)s"),
                args={"position": stock_position, "point": position.reorder_point},
            ),
            *_promised(position),
            Wording(
                message=N_("up to the maximum %(maximum)s"), args={"maximum": position.maximum}
            ),
        ]
    else:
        return None
    if needed <= 0:
        return None
    pack = max(position.pack_multiple, 1)
    quantity = math.ceil(needed / pack) * pack
    if projection.stockout_on:
        why.append(Wording(message=N_("runs out on %(day)s"), days={"day": projection.stockout_on}))
    if pack > 1:
        why.append(Wording(message=N_("rounded up to packs of %(pack)s"), args={"pack": pack}))
    return Proposal(
        sku=position.sku,
        warehouse_id=position.warehouse_id,
        kind=position.kind,
        quantity=quantity,
        method=method,
        reason="; ".join(clause.english() for clause in why),
        reason_wordings=why,
        stockout_on=projection.stockout_on,
        automatic=position.automatic,
    )


def _promised(position: StockPosition) -> list[Wording]:
    """Why supply on its way is not in the position, when some is."""
    if not position.promised_incoming:
        return []
    return [
        Wording(
            message=N_("%(units)s more incoming, promised to orders"),
            args={"units": position.promised_incoming},
        )
    ]


class ProposalView(BaseModel):
    """A proposal as planners see it."""

    id: int
    sku: str
    name: str
    warehouse_id: str
    kind: SupplyKind
    quantity: int
    proposed_quantity: int
    method: ProposalMethod
    reason: str
    reason_wordings: list[Wording] | None = None
    """The reason's clauses as wordings (None: proposed before they were kept)."""
    stockout_on: date | None
    status: ProposalStatus
    created_at: datetime
    updated_at: datetime
    decided_by: str | None = None
    decision_note: str = ""
    workflow_id: str | None = None
    order_status: str | None = None
    """The replenishment order's status once placed: open, received, cancelled."""
    received: int = 0
    expected_at: datetime | None = None
    partner_reference: str | None = None


class ProposalDecision(InboundMessage):
    """A planner's answer to a proposal (console, ``oms replenishment``)."""

    approve: bool
    quantity: Annotated[StrictInt | None, Field(ge=1, le=10_000_000)] = None
    """Approve another quantity than proposed (edited)."""
    note: Annotated[str, Field(max_length=400)] = ""
    actor: Annotated[str, Field(min_length=1, max_length=64)]


class ReplenishmentRequest(BaseModel):
    """Input of the replenishment workflow: one approved proposal."""

    proposal_id: int
    sku: str
    warehouse_id: str
    kind: SupplyKind
    quantity: int


class ReviewRequest(BaseModel):
    """Input of the review and its steps: the day reviewed (UTC). The schedule starts the
    review without one: the workflow takes the day it runs."""

    day: date | None = None


class ReviewFindings(BaseModel):
    """Result of :data:`FORECAST_AND_PROPOSE`."""

    series: int
    wape: float | None
    naive_wape: float | None
    methods: dict[str, int]
    proposals_new: int
    proposals_updated: int
    proposals_withdrawn: int
    ordered: list[ReplenishmentRequest]
    """Ordered proposals whose replenishment is to start (automatic ones, and any whose
    start did not happen)."""


class ReviewOutcome(BaseModel):
    """What one inventory review did (the review workflow's result)."""

    day: date
    series: int
    wape: float | None
    naive_wape: float | None
    alerts_raised: int
    alerts_cleared: int
    proposals_new: int
    proposals_updated: int
    proposals_withdrawn: int
    replenishments_started: list[str] = []


class ReplenishmentView(BaseModel):
    """Where a replenishment order stands (its workflow's query)."""

    proposal_id: int
    sku: str
    warehouse_id: str
    kind: SupplyKind
    quantity: int
    received: int = 0
    status: str = "ordering"
    partner_reference: str = ""
    expected_at: datetime | None = None
    escalation_level: int = 0
    needs_attention: str | None = None


def replenishment_delay_ladder(kind: SupplyKind) -> EscalationLadder:
    """The delay ladder of a replenishment order, from the date the partner promised: no
    customer is waiting, so planners hear first, then support decides."""
    planners = Audience.PURCHASING if kind is SupplyKind.PURCHASE else Audience.PLANNING
    return EscalationLadder(
        name=f"replenishment {kind.value} delay",
        rungs=(
            EscalationRung(
                name=f"remind {planners.value}", after=timedelta(days=1), notify=planners
            ),
            EscalationRung(
                name="tell inventory planning the stock will come late",
                after=timedelta(days=3),
                notify=Audience.INVENTORY,
            ),
            EscalationRung(
                name="ask support: wait longer or cancel",
                after=timedelta(days=7),
                notify=Audience.SUPPORT,
                asks_for_decision=True,
            ),
        ),
    )
