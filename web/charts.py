"""Charts for the console, drawn on the server by matplotlib as SVG (no script, no CDN).

Text stays text in the SVG (``svg.fonttype: none``), so the browser draws it in the
page's fonts, Chinese included, and the labels come translated from the caller.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from io import BytesIO

import matplotlib as mpl
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
from matplotlib.figure import Figure

from persistence.stock_views import TimelinePoint

ON_HAND_COLOUR = "#1f5f99"
FREE_COLOUR = "#2e9d5b"
LIMIT_COLOUR = "#b3261e"


@dataclass(frozen=True)
class StockChartLabels:
    """The chart's words, in the reader's language."""

    title: str
    on_hand: str
    free: str
    reorder_point: str
    maximum: str
    units: str


def stock_chart_svg(
    points: Sequence[TimelinePoint],
    labels: StockChartLabels,
    *,
    reorder_point: int | None = None,
    maximum: int | None = None,
) -> bytes:
    """On hand and free stock day by day as steps, with the reorder point and maximum."""
    with mpl.rc_context({"svg.fonttype": "none", "font.size": 9, "svg.hashsalt": "oms"}):
        figure = Figure(figsize=(9, 3.2), layout="constrained")
        axes = figure.subplots()
        days = date2num([point.day for point in points])  # type: ignore[no-untyped-call]
        axes.step(
            days,
            [p.on_hand for p in points],
            where="post",
            label=labels.on_hand,
            color=ON_HAND_COLOUR,
            linewidth=1.8,
        )
        axes.step(
            days,
            [p.free for p in points],
            where="post",
            label=labels.free,
            color=FREE_COLOUR,
            linewidth=1.2,
        )
        if reorder_point:
            axes.axhline(
                reorder_point,
                color=LIMIT_COLOUR,
                linestyle="--",
                linewidth=1,
                label=labels.reorder_point,
            )
        if maximum:
            axes.axhline(
                maximum, color=LIMIT_COLOUR, linestyle=":", linewidth=1, label=labels.maximum
            )
        locator = AutoDateLocator()  # type: ignore[no-untyped-call]
        axes.xaxis.set_major_locator(locator)
        axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
        axes.set_ylabel(labels.units)
        axes.set_ylim(bottom=0)
        axes.set_title(labels.title, loc="left")
        axes.grid(axis="y", alpha=0.3)
        axes.legend(loc="upper left", frameon=False, ncols=4)
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        out = BytesIO()
        figure.savefig(out, format="svg", metadata={"Date": None})
        return out.getvalue()


@dataclass(frozen=True)
class ProjectionChartLabels:
    """The projection chart's words, in the reader's language."""

    title: str
    free: str
    demand: str
    safety_stock: str
    units: str


def projection_chart_svg(
    projection: Sequence[tuple[date, float]],
    forecast: Sequence[float],
    safety_stock: int,
    labels: ProjectionChartLabels,
) -> bytes:
    """Projected free stock day by day, the forecast demand a day, and the safety stock."""
    with mpl.rc_context({"svg.fonttype": "none", "font.size": 9, "svg.hashsalt": "oms"}):
        figure = Figure(figsize=(9, 3.2), layout="constrained")
        axes = figure.subplots()
        days = date2num([day for day, _free in projection])  # type: ignore[no-untyped-call]
        axes.plot(
            days,
            [free for _day, free in projection],
            color=ON_HAND_COLOUR,
            linewidth=1.8,
            label=labels.free,
        )
        demand_days = days[1 : len(forecast) + 1]
        axes.bar(
            demand_days,
            list(forecast)[: len(demand_days)],
            width=0.8,
            color=FREE_COLOUR,
            alpha=0.5,
            label=labels.demand,
        )
        if safety_stock:
            axes.axhline(
                safety_stock,
                color=LIMIT_COLOUR,
                linestyle="--",
                linewidth=1,
                label=labels.safety_stock,
            )
        axes.axhline(0, color="#888", linewidth=0.8)
        locator = AutoDateLocator()  # type: ignore[no-untyped-call]
        axes.xaxis.set_major_locator(locator)
        axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
        axes.set_ylabel(labels.units)
        axes.set_title(labels.title, loc="left")
        axes.grid(axis="y", alpha=0.3)
        axes.legend(loc="upper right", frameon=False, ncols=3)
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        out = BytesIO()
        figure.savefig(out, format="svg", metadata={"Date": None})
        return out.getvalue()


@dataclass(frozen=True)
class TrendChartLabels:
    """The complaint trend chart's words, in the reader's language."""

    title: str
    complaints: str
    per_100_orders: str


def complaint_trend_svg(
    points: Sequence[tuple[date, int, float | None]], labels: TrendChartLabels
) -> bytes:
    """Complaints a week as bars, and complaints per 100 orders as a line on its own axis."""
    with mpl.rc_context({"svg.fonttype": "none", "font.size": 9, "svg.hashsalt": "oms"}):
        figure = Figure(figsize=(9, 3.2), layout="constrained")
        axes = figure.subplots()
        weeks = [f"{week:%d %b}" for week, _count, _rate in points]
        axes.bar(
            weeks,
            [count for _w, count, _r in points],
            color=ON_HAND_COLOUR,
            alpha=0.7,
            label=labels.complaints,
        )
        axes.set_ylabel(labels.complaints)
        rates = axes.twinx()
        rates.plot(
            weeks,
            [rate if rate is not None else float("nan") for _w, _c, rate in points],
            color=LIMIT_COLOUR,
            marker="o",
            linewidth=1.8,
            label=labels.per_100_orders,
        )
        rates.set_ylabel(labels.per_100_orders)
        rates.set_ylim(bottom=0)
        axes.set_title(labels.title, loc="left")
        axes.grid(axis="y", alpha=0.3)
        handles = axes.get_legend_handles_labels()
        more = rates.get_legend_handles_labels()
        axes.legend(
            handles[0] + more[0], handles[1] + more[1], loc="upper left", frameon=False, ncols=2
        )
        for side in ("top",):
            axes.spines[side].set_visible(False)
            rates.spines[side].set_visible(False)
        out = BytesIO()
        figure.savefig(out, format="svg", metadata={"Date": None})
        return out.getvalue()


def rate_bars_svg(bars: Sequence[tuple[str, float]], title: str) -> bytes:
    """Horizontal bars, largest on top: complaints per 100 orders by one dimension."""
    with mpl.rc_context({"svg.fonttype": "none", "font.size": 9, "svg.hashsalt": "oms"}):
        height = 1.2 + 0.32 * max(len(bars), 1)
        figure = Figure(figsize=(9, height), layout="constrained")
        axes = figure.subplots()
        ordered = sorted(bars, key=lambda bar: bar[1])
        axes.barh(
            [name for name, _v in ordered], [value for _n, value in ordered], color=FREE_COLOUR
        )
        for index, (_name, value) in enumerate(ordered):
            axes.text(value, index, f" {value:g}", va="center")
        axes.set_title(title, loc="left")
        axes.grid(axis="x", alpha=0.3)
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        out = BytesIO()
        figure.savefig(out, format="svg", metadata={"Date": None})
        return out.getvalue()
