"""Business hours: the clock service levels are counted in.

A :class:`BusinessCalendar` says when the team works: the days of the week, the
opening hours, the holidays, all in one time zone. Deadlines are counted in working
time only: four business hours from Friday 16:00 with 09:00-17:00 days is Monday
12:00. Daylight-saving changes are handled by the time zone (a working day is its
local opening hours, however long the night before was).

Everything here is pure, so the complaint workflow and the tests share the arithmetic;
inputs and outputs are timezone-aware UTC.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""How working days are written in settings (Monday first, as ``date.weekday()``)."""
LONGEST_SEARCH = timedelta(days=3 * 366)
"""A calendar with no working time in three years is refused rather than searched forever."""


class BusinessCalendar(BaseModel):
    """When the team works: days, hours, holidays, in one time zone."""

    model_config = ConfigDict(frozen=True)

    time_zone: str = "UTC"
    """An IANA time zone name (``Europe/Berlin``)."""
    working_days: Annotated[frozenset[int], Field(min_length=1)] = frozenset({0, 1, 2, 3, 4})
    """Days of the week worked, 0 Monday … 6 Sunday."""
    opens: time = time(9)
    closes: time = time(17)
    holidays: frozenset[date] = frozenset()
    """Dates (local) on which nobody works, whatever the day of the week."""

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (an IANA name such as Europe/Berlin)"
            ) from None
        return value

    @field_validator("working_days")
    @classmethod
    def _weekdays(cls, value: frozenset[int]) -> frozenset[int]:
        wrong = sorted(day for day in value if not 0 <= day <= 6)
        if wrong:
            raise ValueError(f"working days are 0 (Monday) to 6 (Sunday), not {wrong}")
        return value

    @model_validator(mode="after")
    def _opens_before_closing(self) -> BusinessCalendar:
        if self.opens >= self.closes:
            raise ValueError(f"opens ({self.opens}) must be before closes ({self.closes})")
        return self

    @property
    def zone(self) -> ZoneInfo:
        """The calendar's time zone."""
        return ZoneInfo(self.time_zone)

    def is_working_day(self, day: date) -> bool:
        """Whether ``day`` (a local date) is worked."""
        return day.weekday() in self.working_days and day not in self.holidays

    def working_periods(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The working periods from ``start`` on, in UTC, the first cut at ``start``."""
        zone = self.zone
        day = start.astimezone(zone).date()
        last_day = day + LONGEST_SEARCH
        while day <= last_day:
            if self.is_working_day(day):
                opens = datetime.combine(day, self.opens, zone).astimezone(UTC)
                closes = datetime.combine(day, self.closes, zone).astimezone(UTC)
                if closes > start:
                    yield max(opens, start), closes
            day += timedelta(days=1)
        raise ValueError(f"no working time within {LONGEST_SEARCH.days} days of {start}")

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The moment ``duration`` of working time after ``start`` has passed.

        Zero or less is ``start`` itself; a deadline that ends exactly at closing
        time is that closing time, not the next opening.
        """
        if duration <= timedelta(0):
            return start
        remaining = duration
        for opens, closes in self.working_periods(start):
            if closes - opens >= remaining:
                return opens + remaining
            remaining -= closes - opens
        raise AssertionError("working_periods never ends without raising")

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Working time from ``start`` to ``end`` (zero when ``end`` is not after ``start``)."""
        if end <= start:
            return timedelta(0)
        total = timedelta(0)
        for opens, closes in self.working_periods(start):
            if opens >= end:
                break
            total += min(closes, end) - opens
        return total


def parse_weekdays(text: str) -> frozenset[int]:
    """``mon,tue,wed`` or ``mon-fri`` as weekday numbers; raises ValueError naming the word."""
    days: set[int] = set()
    for part in (piece.strip().lower() for piece in text.split(",") if piece.strip()):
        first, _, last = part.partition("-")
        for word in (first, last or first):
            if word not in WEEKDAYS:
                raise ValueError(f"unknown weekday {word!r} (use {', '.join(WEEKDAYS)})")
        start, stop = WEEKDAYS.index(first), WEEKDAYS.index(last or first)
        if stop < start:
            raise ValueError(f"weekday range {part!r} runs backwards")
        days.update(range(start, stop + 1))
    return frozenset(days)
