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
