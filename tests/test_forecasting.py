"""Demand forecasts and replenishment rules (issue 16): on synthetic series with a known
structure the chosen method beats seasonal-naive where it should; projections, safety
stock and proposals follow the rules in domain/replenishment.py."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pytest

from domain.forecasting import (
    CROSTON,
    ETS,
    NAIVE,
    RECENT_MEAN,
    TSB_NAME,
    DemandSeries,
    forecast_demand,
    is_intermittent,
    overall_accuracy,
)
from domain.replenishment import (
    ProposalMethod,
    ReplenishmentRules,
    StockPosition,
    project,
    propose,
    safety_stock,
)
from domain.supply import SupplyKind

START = date(2026, 1, 1)
DAYS = 182
WEEK = np.array([1.4, 1.2, 1.0, 1.0, 1.1, 0.2, 0.1])


def series(name: str, units: np.ndarray) -> DemandSeries:
    return DemandSeries(sku=name, warehouse_id="WH", start=START, units=[float(u) for u in units])


@pytest.fixture(scope="module")
def synthetic() -> dict[str, DemandSeries]:
    rng = np.random.default_rng(20261202)
    t = np.arange(DAYS)
    return {
        "SEASONAL": series("SEASONAL", np.maximum(0, 40 * WEEK[t % 7] + rng.normal(0, 4, DAYS))),
        "TRENDING": series("TRENDING", np.maximum(0, 10 + 0.3 * t + rng.normal(0, 3, DAYS))),
        "INTERMITTENT": series(
            "INTERMITTENT", (rng.random(DAYS) < 0.2) * rng.integers(1, 12, DAYS)
        ),
        "NEW": series("NEW", np.array([3.0] * 20)),
        "NEVER": series("NEVER", np.zeros(DAYS)),
    }


def test_each_structure_gets_a_method_that_beats_seasonal_naive(
    synthetic: dict[str, DemandSeries],
) -> None:
    found = {f.sku: f for f in forecast_demand(list(synthetic.values()), horizon=28)}
    seasonal, trending, sparse = found["SEASONAL"], found["TRENDING"], found["INTERMITTENT"]
    assert seasonal.method == ETS
    assert trending.method == ETS
    assert sparse.method in (CROSTON, TSB_NAME)
    assert sparse.intermittent
    assert not seasonal.intermittent
    for forecast in (seasonal, trending, sparse):
        assert forecast.mase is not None
        assert forecast.naive_mase is not None
        assert forecast.mase < forecast.naive_mase
    assert trending.daily[0] > 60  # it follows the trend: 10 + 0.3 x 182 = 64.6
    # the weekly pattern: the cycle's quiet days (5 and 6) sell a fifth of its first day
    assert DAYS % 7 == 0
    assert seasonal.daily[0] > 45
    assert max(seasonal.daily[5], seasonal.daily[6]) < 15
    assert found["NEW"].method == RECENT_MEAN  # too short to backtest
    assert found["NEW"].daily == [3.0] * 28
    assert found["NEVER"].daily == [0.0] * 28
    accuracy = overall_accuracy(list(found.values()))
    assert accuracy.backtested == 3
    assert accuracy.wape is not None
    assert accuracy.naive_wape is not None
    assert accuracy.wape < accuracy.naive_wape


def test_a_method_that_loses_to_naive_is_not_used() -> None:
    # a strict weekly cycle without noise: seasonal-naive is perfect, nothing beats it
    exact = series("EXACT", np.tile([30.0, 25, 20, 20, 22, 4, 2], DAYS // 7))
    [forecast] = forecast_demand([exact], horizon=14)
    assert forecast.method == NAIVE
    assert forecast.mase == 0
    assert forecast.daily[:7] == [30.0, 25, 20, 20, 22, 4, 2]


def test_intermittent_means_long_gaps_between_demand() -> None:
    assert is_intermittent([0, 0, 3, 0, 0, 0, 1, 0])
    assert not is_intermittent([2, 3, 1, 4, 0, 2, 5, 1])


RULES = ReplenishmentRules(horizon_days=30, review_days=7)


def position(**changes: object) -> StockPosition:
    base: dict[str, object] = {
        "sku": "X",
        "warehouse_id": "WH",
        "on_hand": 100,
        "reserved": 20,
        "lead_time_days": 10,
        "kind": SupplyKind.PURCHASE,
        "reorder_point": 60,
        "maximum": 300,
    }
    return StockPosition.model_validate(base | changes)


def test_the_projection_names_the_day_stock_runs_out_and_the_overstock() -> None:
    today = date(2026, 12, 1)
    arriving = position(arrivals=[(today + timedelta(days=5), 50)])
    plan = project(arriving, [10.0] * 30, error_sd=0.0, today=today, rules=RULES)
    assert plan.days[0] == (today, 80.0)
    assert plan.days[5] == (today + timedelta(days=5), 80.0)  # -50 demand, +50 arriving
    assert plan.stockout_on == today + timedelta(days=14)  # 130 units for 10 a day
    heavy = project(position(on_hand=900, reserved=0), [5.0] * 30, 0.0, today, RULES)
    assert heavy.overstock_units == 900 - 50 - 300


def test_safety_stock_from_the_service_level_and_the_forecast_error() -> None:
    assert safety_stock(position(safety_stock=25), 10.0, RULES) == 25  # fixed wins
    derived = safety_stock(position(service_level=Decimal("0.95")), 4.0, RULES)
    assert derived == 21  # 1.645 x 4 x sqrt(10) = 20.8


def test_proposals_order_up_to_the_forecast_or_up_to_the_maximum() -> None:
    today = date(2026, 12, 1)
    low = position(on_hand=70, reserved=20, pack_multiple=12)  # position 50 <= 60
    forecast = [6.0] * 30
    plan = project(low, forecast, error_sd=2.0, today=today, rules=RULES)
    proposal = propose(low, plan, forecast, RULES)
    assert proposal is not None
    assert proposal.method is ProposalMethod.ORDER_UP_TO
    # 17 days (lead 10 + review 7) x 6 = 102, + safety 11 (1.645 x 2 x sqrt 10), - 50 = 63 -> 72
    assert plan.safety_stock == 11
    assert proposal.quantity == 72
    assert "rounded up to packs of 12" in proposal.reason
    without_forecast = propose(low, project(low, [], 0.0, today, RULES), None, RULES)
    assert without_forecast is not None
    assert without_forecast.method is ProposalMethod.MIN_MAX
    assert without_forecast.quantity == 252  # 300 - 50 = 250, in packs of 12
    healthy = position(on_hand=250, reserved=0)
    assert (
        propose(healthy, project(healthy, [1.0] * 30, 0.0, today, RULES), [1.0] * 30, RULES) is None
    )


def test_supply_promised_to_orders_is_not_in_the_position_and_the_reason_says_so() -> None:
    today = date(2026, 12, 1)
    # 20 units on their way for an order's backorder are not arrivals: the order takes them
    short = position(on_hand=1, reserved=1, promised_incoming=20)
    assert short.incoming == 0
    proposal = propose(short, project(short, [], 0.0, today, RULES), None, RULES)
    assert proposal is not None
    assert proposal.quantity == 300  # up to the maximum from a position of nothing
    assert proposal.reason == (
        "position 0 <= reorder point 60; 20 more incoming, promised to orders; "
        "up to the maximum 300"
    )
    # units that will be free (a transfer, a replenishment order) still count
    covered = position(on_hand=1, reserved=1, arrivals=[(today, 70)], promised_incoming=20)
    assert propose(covered, project(covered, [], 0.0, today, RULES), None, RULES) is None
