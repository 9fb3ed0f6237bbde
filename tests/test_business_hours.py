"""Business hours (issue 18): service-level deadlines count working time only, across
nights, weekends, holidays and daylight-saving changes, in the calendar's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from pydantic import ValidationError

from domain.business_hours import BusinessCalendar, parse_weekdays
from domain.complaints import (
    COMPLAINT_LADDER,
    SlaClock,
    next_rung_at,
    pause_clock,
    resume_clock,
    start_clock,
    stop_clock,
)

OFFICE = BusinessCalendar()  # Monday to Friday, 09:00-17:00 UTC
FRIDAY_4PM = datetime(2026, 12, 4, 16, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def test_a_deadline_skips_the_night_and_the_weekend() -> None:
    assert OFFICE.add(FRIDAY_4PM, timedelta(hours=4)) == at(7, 12)  # Fri 1 h + Mon 3 h
    assert OFFICE.add(at(7, 8), timedelta(hours=1)) == at(7, 10)  # before opening
    assert OFFICE.add(at(7, 20), timedelta(hours=1)) == at(8, 10)  # after closing
    assert OFFICE.add(at(5, 11), timedelta(hours=2)) == at(7, 11)  # Saturday
    assert OFFICE.add(at(7, 9), timedelta(hours=8)) == at(7, 17)  # ends at closing time
    assert OFFICE.add(at(7, 9), timedelta(hours=40)) == at(11, 17)  # a working week


def test_a_holiday_is_not_worked() -> None:
    with_holiday = BusinessCalendar(holidays=frozenset({date(2026, 12, 7)}))
    assert with_holiday.add(FRIDAY_4PM, timedelta(hours=4)) == at(8, 12)
    assert with_holiday.between(FRIDAY_4PM, at(8, 12)) == timedelta(hours=4)


def test_working_time_between_two_moments() -> None:
    assert OFFICE.between(FRIDAY_4PM, at(7, 12)) == timedelta(hours=4)
    assert OFFICE.between(at(5, 10), at(6, 15)) == timedelta(0)  # a weekend
    assert OFFICE.between(at(7, 12), at(7, 11)) == timedelta(0)
    assert OFFICE.between(at(7, 16, 30), at(8, 9, 30)) == timedelta(hours=1)


def test_hours_are_local_to_the_calendars_time_zone_across_daylight_saving() -> None:
    berlin = BusinessCalendar(time_zone="Europe/Berlin", opens=time(8), closes=time(16))
    # Friday 27 March 2026, 15:00 in Berlin is 14:00 UTC; clocks go forward on Sunday.
    friday = datetime(2026, 3, 27, 14, tzinfo=UTC)
    # 1 h on Friday, then Monday 08:00 Berlin summer time is 06:00 UTC: + 2 h = 08:00 UTC.
    assert berlin.add(friday, timedelta(hours=3)) == datetime(2026, 3, 30, 8, tzinfo=UTC)


def test_a_calendar_names_what_is_wrong_with_it() -> None:
    with pytest.raises(ValidationError, match="unknown time zone 'Mars/Olympus'"):
        BusinessCalendar(time_zone="Mars/Olympus")
    with pytest.raises(ValidationError, match=r"opens .* must be before closes"):
        BusinessCalendar(opens=time(18), closes=time(9))
    with pytest.raises(ValidationError, match=r"0 \(Monday\) to 6 \(Sunday\), not \[7\]"):
        BusinessCalendar(working_days=frozenset({7}))
    assert parse_weekdays("mon-fri") == frozenset(range(5))
    assert parse_weekdays("mon,wed, sat") == frozenset({0, 2, 5})
    with pytest.raises(ValueError, match="unknown weekday 'fry'"):
        parse_weekdays("mon-fry")


def test_a_paused_clock_moves_its_deadline_by_the_pause() -> None:
    clock = start_clock(SlaClock.RESOLUTION, timedelta(hours=8), at(7, 9), OFFICE)
    assert clock.due_at == at(7, 17)
    paused = pause_clock(clock, at(7, 11), OFFICE)  # 2 h used
    assert (paused.used, paused.due_at, next_rung_at(paused, OFFICE)) == (
        timedelta(hours=2),
        None,
        None,
    )
    resumed = resume_clock(paused, at(9, 15), OFFICE)  # Wednesday 15:00: 6 h left
    assert resumed.due_at == at(10, 13)
    assert next_rung_at(resumed, OFFICE) == at(10, 13)
    second = resumed.model_copy(update={"rungs_fired": 1})
    assert next_rung_at(second, OFFICE) == OFFICE.add(at(10, 13), COMPLAINT_LADDER[1].after)
    stopped = stop_clock(resumed, at(10, 9), OFFICE)
    assert (stopped.used, next_rung_at(stopped, OFFICE)) == (timedelta(hours=4), None)
    assert resume_clock(stopped, at(11, 9), OFFICE) == stopped  # stopped for good
