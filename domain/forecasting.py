"""Demand forecasts per product and warehouse, with statsforecast, chosen per series by
backtest against a seasonal-naive forecast.

Each daily demand series is classified (Syntetos-Boylan: the average interval between
days with demand, ADI): a steady series is forecast with ETS (statsforecast's AutoETS,
weekly season), an intermittent one with Croston's method (optimised) and TSB. Every
candidate and the seasonal-naive benchmark are backtested on the last weeks of
history (rolling origin); the candidate with the lowest MASE wins, unless it does not
beat seasonal-naive: then seasonal-naive is used for that series. WAPE is reported
beside MASE per series and overall. A series that sold nothing over the backtest window
has no MASE (any forecast of nothing by nothing scores a perfect 0, which says nothing):
it is reported as not measured, with the reason, and still counts in the overall WAPE.

Pure computation, no I/O; numerical libraries, so workflows never import it (the
inventory review runs it in an activity).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

import numpy as np
from pydantic import BaseModel

if TYPE_CHECKING:  # pandas and statsforecast take seconds to import: only when forecasting
    import pandas as pd

SEASON_DAYS = 7
"""Demand repeats weekly (weekdays and weekends)."""
INTERMITTENT_ADI = 1.32
"""Average demand interval above which a series counts as intermittent (Syntetos-Boylan)."""
BACKTEST_HORIZON = 14
BACKTEST_WINDOWS = 3
BACKTEST_DAYS = BACKTEST_HORIZON * BACKTEST_WINDOWS
"""The backtest window: the last days of history."""
MIN_HISTORY_DAYS = 2 * SEASON_DAYS + BACKTEST_DAYS
"""A series shorter than this is not backtested: its forecast is its recent mean."""

NAIVE = "SeasonalNaive"
ETS = "AutoETS"
CROSTON = "CrostonOptimized"
TSB_NAME = "TSB"
RECENT_MEAN = "RecentMean"
"""Not enough history to backtest: the mean of the last weeks."""


class DemandSeries(BaseModel):
    """Daily demand of one product in one warehouse, oldest first, one value a day."""

    sku: str
    warehouse_id: str
    start: date
    units: list[float]


class SeriesForecast(BaseModel):
    """The forecast of one series, the method chosen and how well it did in backtest."""

    sku: str
    warehouse_id: str
    method: str
    intermittent: bool
    daily: list[float]
    """Forecast units for each day of the horizon, from the day after the history."""
    mase: float | None = None
    """None when not measured (:attr:`mase_not_measured` says why)."""
    wape: float | None = None
    naive_mase: float | None = None
    naive_wape: float | None = None
    error_sd: float = 0.0
    """Standard deviation of the daily backtest error (for safety stock)."""
    backtest_units: float = 0.0
    backtest_abs_error: float = 0.0
    naive_abs_error: float = 0.0

    @property
    def backtested(self) -> bool:
        """The series was long enough to backtest (its errors count in the overall WAPE)."""
        return self.method != RECENT_MEAN

    @property
    def mase_not_measured(self) -> MaseNotMeasured | None:
        """Why this series has no MASE; None when it has one."""
        return mase_not_measured(self.method, self.backtest_units)

    @property
    def daily_mean(self) -> Decimal:
        """Average forecast units a day over the horizon."""
        if not self.daily:
            return Decimal(0)
        return Decimal(str(round(sum(self.daily) / len(self.daily), 4)))


class Accuracy(BaseModel):
    """Backtest accuracy over all series: WAPE of the chosen methods and of naive."""

    series: int
    backtested: int
    wape: float | None
    naive_wape: float | None
    methods: dict[str, int]
    """How many series each method forecasts."""


class MaseNotMeasured(StrEnum):
    """Why a series has no MASE."""

    SHORT_HISTORY = "short_history"
    """Less history than :data:`MIN_HISTORY_DAYS`: not backtested."""
    NO_DEMAND = "no_demand"
    """Nothing sold over the backtest window: no error to measure against demand (a
    forecast of nothing scores a perfect 0 that says nothing)."""

    @property
    def reason(self) -> str:
        """The reason in words (English; the console translates its own)."""
        if self is MaseNotMeasured.SHORT_HISTORY:
            return f"not backtested: less than {MIN_HISTORY_DAYS} days of history"
        return (
            f"no demand in the backtest window (the last {BACKTEST_DAYS} days): "
            "nothing to measure the error against"
        )


def mase_not_measured(method: str, backtest_units: float) -> MaseNotMeasured | None:
    """Why a forecast by ``method`` whose backtest window held ``backtest_units`` has no
    MASE; None when it has one."""
    if method == RECENT_MEAN:
        return MaseNotMeasured.SHORT_HISTORY
    if backtest_units <= 0:
        return MaseNotMeasured.NO_DEMAND
    return None


def is_intermittent(units: Sequence[float]) -> bool:
    """More than :data:`INTERMITTENT_ADI` days on average between days with demand."""
    demand_days = sum(1 for value in units if value > 0)
    return demand_days == 0 or len(units) / demand_days > INTERMITTENT_ADI


def forecast_demand(series: Sequence[DemandSeries], horizon: int) -> list[SeriesForecast]:
    """A forecast of ``horizon`` days for every series, each by its best method."""
    long = [s for s in series if len(s.units) >= MIN_HISTORY_DAYS and any(s.units)]
    short = [s for s in series if s not in long]
    results = [_recent_mean(s, horizon) for s in short]
    steady = [s for s in long if not is_intermittent(s.units)]
    sparse = [s for s in long if is_intermittent(s.units)]
    from statsforecast.models import TSB, AutoETS, CrostonOptimized

    if steady:
        results += _forecast_group(steady, [AutoETS(season_length=SEASON_DAYS)], horizon, False)
    if sparse:
        results += _forecast_group(sparse, [CrostonOptimized(), TSB(0.1, 0.1)], horizon, True)
    return sorted(results, key=lambda r: (r.sku, r.warehouse_id))


def overall_accuracy(forecasts: Sequence[SeriesForecast]) -> Accuracy:
    """WAPE over every backtested series (errors and units summed), and the methods used."""
    tested = [f for f in forecasts if f.backtested]
    units = sum(f.backtest_units for f in tested)
    methods: dict[str, int] = {}
    for forecast in forecasts:
        methods[forecast.method] = methods.get(forecast.method, 0) + 1
    return Accuracy(
        series=len(forecasts),
        backtested=len(tested),
        wape=sum(f.backtest_abs_error for f in tested) / units if units else None,
        naive_wape=sum(f.naive_abs_error for f in tested) / units if units else None,
        methods=methods,
    )


def _frame(series: Sequence[DemandSeries]) -> pd.DataFrame:
    import pandas as pd

    frames = [
        pd.DataFrame(
            {
                "unique_id": _key(s),
                "ds": pd.date_range(s.start, periods=len(s.units), freq="D"),
                "y": np.asarray(s.units, dtype=float),
            }
        )
        for s in series
    ]
    return pd.concat(frames, ignore_index=True)


def _key(series: DemandSeries) -> str:
    return f"{series.sku}\x1f{series.warehouse_id}"


def _forecast_group(
    series: Sequence[DemandSeries], candidates: list[object], horizon: int, intermittent: bool
) -> list[SeriesForecast]:
    from statsforecast import StatsForecast
    from statsforecast.models import SeasonalNaive

    names = [type(model).__name__ for model in candidates]
    frame = _frame(series)
    engine = StatsForecast(
        models=[*candidates, SeasonalNaive(season_length=SEASON_DAYS)], freq="D", n_jobs=1
    )
    backtest = engine.cross_validation(
        df=frame, h=BACKTEST_HORIZON, n_windows=BACKTEST_WINDOWS, step_size=BACKTEST_HORIZON
    )
    future = engine.forecast(df=frame, h=horizon)
    results = []
    for item in series:
        key = _key(item)
        tested = backtest[backtest["unique_id"] == key]
        actual = tested["y"].to_numpy()
        scale = _naive_scale(item.units)
        errors = {name: np.abs(tested[name].to_numpy() - actual) for name in [*names, NAIVE]}
        mase = {name: float(errors[name].mean() / scale) for name in errors}
        best = min(names, key=lambda name: mase[name])
        chosen = best if mase[best] < mase[NAIVE] else NAIVE
        total = float(actual.sum())
        measured = total > 0  # an error scaled against no demand says nothing
        forecast = future[future["unique_id"] == key][chosen].to_numpy()
        results.append(
            SeriesForecast(
                sku=item.sku,
                warehouse_id=item.warehouse_id,
                method=chosen,
                intermittent=intermittent,
                daily=[max(0.0, float(v)) for v in forecast],
                mase=mase[chosen] if measured else None,
                wape=float(errors[chosen].sum() / total) if total else None,
                naive_mase=mase[NAIVE] if measured else None,
                naive_wape=float(errors[NAIVE].sum() / total) if total else None,
                error_sd=float(np.std(tested[chosen].to_numpy() - actual)),
                backtest_units=total,
                backtest_abs_error=float(errors[chosen].sum()),
                naive_abs_error=float(errors[NAIVE].sum()),
            )
        )
    return results


def _naive_scale(units: Sequence[float]) -> float:
    """MASE's scale: the in-sample mean absolute error of the seasonal-naive forecast
    (1 when the series is flat, so a perfect forecast still scores 0)."""
    values = np.asarray(units, dtype=float)
    if len(values) <= SEASON_DAYS:
        return 1.0
    scale = float(np.abs(values[SEASON_DAYS:] - values[:-SEASON_DAYS]).mean())
    return scale if scale > 0 and math.isfinite(scale) else 1.0


def _recent_mean(series: DemandSeries, horizon: int) -> SeriesForecast:
    recent = series.units[-4 * SEASON_DAYS :]
    mean = sum(recent) / len(recent) if recent else 0.0
    return SeriesForecast(
        sku=series.sku,
        warehouse_id=series.warehouse_id,
        method=RECENT_MEAN,
        intermittent=is_intermittent(series.units),
        daily=[mean] * horizon,
        error_sd=float(np.std(recent)) if recent else 0.0,
    )
