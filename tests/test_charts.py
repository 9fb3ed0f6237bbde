"""The console's charts read in the reader's language: Chinese labels are measured with a
CJK font (no glyph reported missing), and the dates on the axes are written by babel.

The CJK font is Debian's ``fonts-noto-cjk``; without it the font tests are skipped on a
developer's machine and fail in CI (``CI=true``), where ``.ci/run`` installs it.
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from datetime import date, timedelta

import pytest
from matplotlib import font_manager
from matplotlib.ft2font import FT2Font

from domain.access import Locale
from persistence.stock_views import TimelinePoint
from web.charts import (
    StockChartLabels,
    TrendChartLabels,
    chart_style,
    cjk_font,
    complaint_trend_svg,
    stock_chart_svg,
)

CHINESE = StockChartLabels(
    title="GADGET-2 · 所有倉庫",
    on_hand="現有庫存",
    free="可用庫存",
    reorder_point="再訂購點",
    maximum="上限",
    units="件",
    locale=Locale.TRADITIONAL_CHINESE,
)
ENGLISH = StockChartLabels(
    title="GADGET-2 · all warehouses",
    on_hand="On hand",
    free="Free",
    reorder_point="Reorder point",
    maximum="Maximum",
    units="Units",
)
MONTHS = re.compile(r">(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b")


def ninety_days() -> list[TimelinePoint]:
    first = date(2026, 9, 8)
    return [
        TimelinePoint(day=first + timedelta(days=n), on_hand=100 - n // 2, free=80 - n // 2)
        for n in range(90)
    ]


def needs_a_cjk_font() -> str:
    """The CJK font charts fall back to; a failure in CI when there is none, else a skip."""
    found = cjk_font()
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("no CJK font is installed (apt-get install fonts-noto-cjk)")
        pytest.skip("no CJK font is installed (apt-get install fonts-noto-cjk)")
    return found


def test_a_chart_with_chinese_labels_reports_no_missing_glyph(
    caplog: pytest.LogCaptureFixture,
) -> None:
    needs_a_cjk_font()
    with warnings.catch_warnings(record=True) as warned, caplog.at_level(logging.DEBUG):
        warnings.simplefilter("always")
        svg = stock_chart_svg(ninety_days(), CHINESE, reorder_point=20, maximum=120).decode()
        complaint_trend_svg(
            [(date(2026, 11, 2) + timedelta(weeks=n), n, n / 3) for n in range(5)],
            TrendChartLabels(
                title="每週客訴",
                complaints="客訴",
                per_100_orders="每百筆訂單",
                locale=Locale.TRADITIONAL_CHINESE,
            ),
        )
    reported = [str(warning.message) for warning in warned] + caplog.messages
    assert [text for text in reported if "Glyph" in text] == []
    assert "現有庫存" in svg  # text stays text, for the browser to draw


def test_the_font_matplotlib_resolves_for_a_chinese_character_has_its_glyph() -> None:
    """Matplotlib draws each character with the first font of the family list that has it:
    for a Chinese one that is the CJK fallback, and it has the glyph."""
    fallback = needs_a_cjk_font()
    families: list[str] = chart_style()["font.family"]
    assert families[-1] == fallback
    for character in "訂單庫存客訴":
        having = [
            family
            for family in families
            if FT2Font(
                font_manager.findfont(
                    font_manager.FontProperties(family=family), fallback_to_default=False
                )
            ).get_char_index(ord(character))
            != 0
        ]
        assert having[:1] == [fallback], character


def test_dates_on_the_axis_are_written_in_the_readers_language() -> None:
    chinese = stock_chart_svg(ninety_days(), CHINESE).decode()
    english = stock_chart_svg(ninety_days(), ENGLISH).decode()
    assert MONTHS.search(chinese) is None
    assert ">10月<" in chinese
    assert re.search(r">2026年9月\d{1,2}日<", chinese)  # the first tick in full
    assert ">Oct<" in english
    assert re.search(r">Sep \d{1,2}, 2026<", english)
    trend = complaint_trend_svg(
        [(date(2026, 11, 2), 3, 1.5)],
        TrendChartLabels(
            title="每週客訴",
            complaints="客訴",
            per_100_orders="每百筆訂單",
            locale=Locale.TRADITIONAL_CHINESE,
        ),
    ).decode()
    assert ">11月2日<" in trend
