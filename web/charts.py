"""Charts for the console, drawn on the server by matplotlib as SVG (no script, no CDN).

Text stays text in the SVG (``svg.fonttype: none``), so the browser draws it in its own
fonts, Chinese included; the labels come translated from the caller, and dates on the
axes are written in the reader's language by babel. Matplotlib still measures every
label with a font of its own to lay the chart out: DejaVu Sans for Latin text, and a CJK
font (Noto Sans CJK, Debian's ``fonts-noto-cjk``) as its fallback for Chinese when one
is installed, so Chinese labels are measured, not logged as missing glyphs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from io import BytesIO
from typing import Any

import matplotlib as mpl
from babel.dates import format_skeleton
from matplotlib import font_manager
from matplotlib.dates import AutoDateLocator, date2num, num2date
from matplotlib.figure import Figure
from matplotlib.ticker import Formatter
from matplotlib.typing import RcKeyType

from domain.access import Locale
from persistence.stock_views import TimelinePoint

ON_HAND_COLOUR = "#1f5f99"
FREE_COLOUR = "#2e9d5b"
LIMIT_COLOUR = "#b3261e"

LATIN_FONT = "DejaVu Sans"
"""Matplotlib's own font, for Latin text and digits."""

CJK_FONTS = ("Noto Sans CJK TC", "Noto Sans CJK HK", "Noto Sans CJK JP", "Noto Sans CJK SC")
"""The CJK fonts a chart falls back to for Chinese, first installed one wins (the faces of
``fonts-noto-cjk``; Traditional Chinese first, as the console writes it)."""


@cache
def cjk_font() -> str | None:
    """The first of :data:`CJK_FONTS` matplotlib knows, or ``None`` when none is installed.

    Matplotlib lists the system's fonts once into its cache; a font installed after that
    is looked for among the system's font files and added.
    """
    known = {font.name for font in font_manager.fontManager.ttflist}
    if not known.intersection(CJK_FONTS):
        for path in font_manager.findSystemFonts():
            if "CJK" in path and "Sans" in path:
                font_manager.fontManager.addfont(path)
        known = {font.name for font in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in known), None)


def chart_style() -> dict[RcKeyType, Any]:
    """Matplotlib settings every chart is drawn with: text kept as text, Latin letters in
    matplotlib's own font and Chinese in the CJK fallback when it is installed."""
    fallback = cjk_font()
    return {
        "svg.fonttype": "none",
        "svg.hashsalt": "oms",
        "font.size": 9,
        "font.family": [LATIN_FONT, fallback] if fallback else [LATIN_FONT],
    }


class DayFormatter(Formatter):
    """Date ticks in the reader's language, as short as they stay clear: the first tick
    in full, a new year with its year, a new month with its month, other days by number
    (``Sep 15, 2026 · Oct · 15 · Nov · … · Jan 2027``; in Chinese
    ``2026年9月15日 · 10月 · 15日 · 11月 · … · 2027年1月``)."""

    def __init__(self, locale: Locale) -> None:
        self.locale = locale

    def __call__(self, x: float, pos: int | None = None) -> str:
        return self._label(num2date(x).date(), None)  # type: ignore[no-untyped-call]

    def format_ticks(self, values: Sequence[float] | Any) -> list[str]:
        days = [num2date(value).date() for value in values]  # type: ignore[no-untyped-call]
        return [self._label(day, days[i - 1] if i else None) for i, day in enumerate(days)]

    def _label(self, day: date, before: date | None) -> str:
        if before is None:
            skeleton = "yMMMd"
        elif day.year != before.year:
            skeleton = "yMMM" if day.day == 1 else "yMMMd"
        elif day.month != before.month:
            skeleton = "MMM" if day.day == 1 else "MMMd"
        else:
            skeleton = "d"
        return format_skeleton(skeleton, day, locale=self.locale.value)


@dataclass(frozen=True)
class StockChartLabels:
    """The chart's words, in the reader's language."""

    title: str
    on_hand: str
    free: str
    reorder_point: str
    maximum: str
    units: str
    locale: Locale = Locale.ENGLISH
    """The reader's language, for the dates on the axis."""


def stock_chart_svg(
    points: Sequence[TimelinePoint],
    labels: StockChartLabels,
    *,
    reorder_point: int | None = None,
    maximum: int | None = None,
) -> bytes:
    """On hand and free stock day by day as steps, with the reorder point and maximum."""
    with mpl.rc_context(chart_style()):
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
        axes.xaxis.set_major_locator(AutoDateLocator())  # type: ignore[no-untyped-call]
        axes.xaxis.set_major_formatter(DayFormatter(labels.locale))
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
    locale: Locale = Locale.ENGLISH
    """The reader's language, for the dates on the axis."""


def projection_chart_svg(
    projection: Sequence[tuple[date, float]],
    forecast: Sequence[float],
    safety_stock: int,
    labels: ProjectionChartLabels,
) -> bytes:
    """Projected free stock day by day, the forecast demand a day, and the safety stock."""
    with mpl.rc_context(chart_style()):
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
        axes.xaxis.set_major_locator(AutoDateLocator())  # type: ignore[no-untyped-call]
        axes.xaxis.set_major_formatter(DayFormatter(labels.locale))
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
    locale: Locale = Locale.ENGLISH
    """The reader's language, for the weeks' dates."""


def complaint_trend_svg(
    points: Sequence[tuple[date, int, float | None]], labels: TrendChartLabels
) -> bytes:
    """Complaints a week as bars, and complaints per 100 orders as a line on its own axis."""
    with mpl.rc_context(chart_style()):
        figure = Figure(figsize=(9, 3.2), layout="constrained")
        axes = figure.subplots()
        weeks = [
            format_skeleton("MMMd", week, locale=labels.locale.value) for week, _c, _r in points
        ]
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
    with mpl.rc_context(chart_style()):
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
