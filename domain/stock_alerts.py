"""Stock alerts: when a product in a warehouse runs low, runs out, piles up or stops moving.

The rules are data (:class:`AlertRules`) and one pure function
(:func:`alert_conditions`) over the facts of a stock level; the inventory review
compares what holds now with the alerts still open, raising each alert once when its
condition starts and clearing it when the condition ends.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel

from domain.wording import N_, Wording


class AlertKind(StrEnum):
    """What is wrong with a stock level."""

    STOCK_OUT = "stock_out"
    """Nothing free: every unit on hand is promised (or there is none)."""
    LOW_STOCK = "low_stock"
    """Free stock and incoming units nobody waits for at or below the reorder point."""
    OVERSTOCK = "overstock"
    """Above the maximum, or more days of cover than the rules allow."""
    SLOW_MOVING = "slow_moving"
    """Stock on hand and nothing went out for a while."""
    DEAD_STOCK = "dead_stock"
    """Stock on hand and nothing went out for a long time."""


class AlertRules(BaseModel):
    """The thresholds of the alerts (the defaults suit a wholesaler; settings override)."""

    overstock_cover_days: int = 180
    """More days of cover than this (at the forecast's daily demand) is overstock."""
    slow_moving_days: int = 60
    """No goods out for this many days: slow-moving."""
    dead_stock_days: int = 180
    """No goods out for this many days: dead stock (instead of slow-moving)."""


class LevelFacts(BaseModel):
    """What the review knows of one product in one warehouse."""

    sku: str
    warehouse_id: str
    on_hand: int
    reserved: int
    incoming: int
    incoming_promised: int = 0
    """Of the incoming units, those promised to orders waiting for them (never free)."""
    has_policy: bool
    """The warehouse keeps this product on purpose (a stock policy exists)."""
    reorder_point: int = 0
    maximum: int = 0
    daily_demand: Decimal | None = None
    """Forecast units a day; None when there is no forecast."""
    last_out_at: datetime | None = None
    """The last time goods went out (shipped or issued)."""
    first_in_at: datetime | None = None
    """The first movement of this level: the age of stock that never went out."""

    @property
    def free(self) -> int:
        """On hand and promised to nobody."""
        return self.on_hand - self.reserved

    @property
    def incoming_free(self) -> int:
        """Incoming units nobody waits for: what will add to free stock."""
        return self.incoming - self.incoming_promised


class Condition(BaseModel):
    """An alert's condition that holds, with the figures behind it."""

    kind: AlertKind
    detail: str
    """In English (the CLI, the API, older readers)."""
    wording: Wording | None = None
    """The detail as a wording, shown in the reader's language."""


def _condition(kind: AlertKind, message: str, **args: str | int) -> Condition:
    wording = Wording(message=message, args=args)
    return Condition(kind=kind, detail=wording.english(), wording=wording)


def alert_conditions(facts: LevelFacts, rules: AlertRules, now: datetime) -> list[Condition]:
    """Every alert condition that holds for this level now (a stock-out is not also low)."""
    held = []
    if facts.has_policy and facts.free <= 0:
        held.append(
            _condition(
                AlertKind.STOCK_OUT,
                N_(
                    "%(on_hand)s on hand, %(reserved)s reserved, nothing free; "
                    "%(incoming)s incoming"
                ),
                on_hand=facts.on_hand,
                reserved=facts.reserved,
                incoming=facts.incoming,
            )
        )
    elif facts.has_policy and facts.free + facts.incoming_free <= facts.reorder_point:
        low = {
            "free": facts.free,
            "incoming": facts.incoming_free,
            "point": facts.reorder_point,
        }
        held.append(
            _condition(
                AlertKind.LOW_STOCK,
                N_(
                    "%(free)s free + %(incoming)s incoming <= reorder point %(point)s "
                    "(%(promised)s more incoming, promised to orders)"
                ),
                **low,
                promised=facts.incoming_promised,
            )
            if facts.incoming_promised
            else _condition(
                AlertKind.LOW_STOCK,
                N_("%(free)s free + %(incoming)s incoming <= reorder point %(point)s"),
                **low,
            )
        )
    cover = (
        facts.on_hand / facts.daily_demand
        if facts.daily_demand and facts.daily_demand > 0
        else None
    )
    if facts.maximum and facts.on_hand > facts.maximum:
        held.append(
            _condition(
                AlertKind.OVERSTOCK,
                N_("%(on_hand)s on hand > maximum %(maximum)s"),
                on_hand=facts.on_hand,
                maximum=facts.maximum,
            )
        )
    elif cover is not None and cover > rules.overstock_cover_days:
        held.append(
            _condition(
                AlertKind.OVERSTOCK,
                N_("%(on_hand)s on hand cover %(days)s days of demand (> %(limit)s)"),
                on_hand=facts.on_hand,
                days=f"{cover:.0f}",
                limit=rules.overstock_cover_days,
            )
        )
    since = facts.last_out_at or facts.first_in_at
    if facts.on_hand > 0 and since is not None:
        idle = now - since
        message = (
            N_("%(on_hand)s on hand; last goods out %(days)s days ago")
            if facts.last_out_at
            else N_("%(on_hand)s on hand; no goods out since the first receipt %(days)s days ago")
        )
        if idle >= timedelta(days=rules.dead_stock_days):
            held.append(
                _condition(AlertKind.DEAD_STOCK, message, on_hand=facts.on_hand, days=idle.days)
            )
        elif idle >= timedelta(days=rules.slow_moving_days):
            held.append(
                _condition(AlertKind.SLOW_MOVING, message, on_hand=facts.on_hand, days=idle.days)
            )
    return held


class AlertView(BaseModel):
    """An alert as people read it: open, or cleared with when."""

    id: int
    sku: str
    warehouse_id: str
    kind: AlertKind
    detail: str
    wording: Wording | None = None
    """The detail as a wording (None: raised before they were kept)."""
    raised_at: datetime
    cleared_at: datetime | None = None


class AlertChanges(BaseModel):
    """What one review changed: alerts raised and alerts cleared."""

    raised: list[AlertView] = []
    cleared: list[AlertView] = []
