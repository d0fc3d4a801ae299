"""Working-time arithmetic (tinycrm.worktime) against a naive minute-by-minute oracle,
across weekends, holidays, DST changes and time zones with odd offsets."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinycrm.errors import InvalidInput
from tinycrm.worktime import (
    Hours,
    Meter,
    add_working,
    parse_holidays,
    parse_hours,
    parse_target,
    target_length,
    working_between,
)

ZONES = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",  # a half-hour DST change
    "Asia/Kathmandu",  # +05:45
    "America/St_Johns",  # -03:30 with DST
    "Pacific/Chatham",  # +12:45 with DST
]
MINUTE = timedelta(minutes=1)


def _working(hours: Hours, tz: ZoneInfo, t: datetime) -> bool:
    local = t.astimezone(tz)
    return (
        local.weekday() in hours.days
        and local.date() not in hours.holidays
        and hours.start <= local.time().replace(tzinfo=None) < hours.end
    )


def oracle_between(hours: Hours, tz: ZoneInfo, a: datetime, b: datetime) -> timedelta:
    n, t = 0, a
    while t < b:
        n += _working(hours, tz, t)
        t += MINUTE
    return n * MINUTE


def oracle_add(hours: Hours, tz: ZoneInfo, start: datetime, minutes: int) -> datetime:
    t, left = start, minutes
    while left:
        left -= _working(hours, tz, t)
        t += MINUTE
    return t


# around the DST changes of 2026 in both hemispheres, and an ordinary stretch
STARTS = [
    datetime(2026, 3, 26, tzinfo=UTC),
    datetime(2026, 3, 31, tzinfo=UTC),
    datetime(2026, 10, 21, tzinfo=UTC),
    datetime(2026, 11, 1, tzinfo=UTC),
    datetime(2026, 4, 2, tzinfo=UTC),
    datetime(2026, 9, 24, tzinfo=UTC),
]


@st.composite
def cases(draw: st.DrawFn) -> tuple[Hours, ZoneInfo, datetime]:
    days = draw(st.frozensets(st.integers(0, 6), min_size=1))
    a = draw(st.integers(0, 23 * 60 - 1))
    b = draw(st.integers(a + 1, 24 * 60 - 1))
    base = draw(st.sampled_from(STARTS))
    start = base + draw(st.integers(0, 8 * 24 * 60)) * MINUTE
    holidays = draw(
        st.frozensets(st.integers(-2, 14).map(lambda d: base.date() + timedelta(days=d)))
    )
    hours = Hours(days, time(a // 60, a % 60), time(b // 60, b % 60), holidays)
    return hours, ZoneInfo(draw(st.sampled_from(ZONES))), start


@settings(max_examples=60, deadline=None)
@given(cases(), st.integers(0, 3 * 24 * 60))
def test_working_between_matches_minute_oracle(
    case: tuple[Hours, ZoneInfo, datetime], span: int
) -> None:
    hours, tz, start = case
    end = start + span * MINUTE
    assert working_between(hours, tz, start, end) == oracle_between(hours, tz, start, end)


@settings(max_examples=60, deadline=None)
@given(cases(), st.lists(st.tuples(st.integers(-3000, 9000), st.integers(0, 9000)), max_size=4))
def test_a_meter_measures_what_the_oracle_does(
    case: tuple[Hours, ZoneInfo, datetime], spans: list[tuple[int, int]]
) -> None:
    """One meter, several intervals in any order (its running total grows both ways)."""
    hours, tz, start = case
    meter = Meter(hours, tz)
    for offset, length in spans:
        a = start + offset * MINUTE
        b = a + length * MINUTE
        assert meter.between(a, b) == oracle_between(hours, tz, a, b)


@settings(max_examples=60, deadline=None)
@given(cases(), st.floats(0, 3))
def test_add_working_matches_minute_oracle(
    case: tuple[Hours, ZoneInfo, datetime], days: float
) -> None:
    hours, tz, start = case
    minutes = int(days * hours.day_length / MINUTE)  # up to three working days
    got = add_working(hours, tz, start, minutes * MINUTE)
    assert got == oracle_add(hours, tz, start, minutes)
    assert working_between(hours, tz, start, got) == minutes * MINUTE


def test_add_skips_weekend_holiday_and_dst_in_berlin() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    hours = parse_hours("Mon-Fri 09:00-17:00", parse_holidays("2026-10-26"))
    # Fri 23 Oct 16:00 Berlin (14:00 UTC, summer time) + 4 working hours: 1 h on Friday,
    # Monday is a holiday, the clocks went back on Sunday: Tuesday 12:00 winter time.
    start = datetime(2026, 10, 23, 14, 0, tzinfo=UTC)
    assert add_working(hours, berlin, start, timedelta(hours=4)) == datetime(
        2026, 10, 27, 11, 0, tzinfo=UTC
    )


def test_hours_text_round_trips_and_bad_text_says_why() -> None:
    assert parse_hours("mon-thu, sat 08:30-16:00").describe() == "Mon-Thu,Sat 08:30-16:00"
    assert parse_hours("Mon-Fri 09:00-17:00").day_length == timedelta(hours=8)
    for bad, msg in [
        ("weekdays", "working hours must look like"),
        ("Mon-Fri 17:00-09:00", "must start before they end"),
        ("Fri-Mon 09:00-17:00", "runs backwards"),
        ("Mon-Fri 09:00-25:00", "is not a time of day"),
        ("Mon-Frx 09:00-17:00", "is not a day"),
    ]:
        with pytest.raises(InvalidInput, match=msg):
            parse_hours(bad)
    with pytest.raises(InvalidInput, match="'24.12.2026' is not a day"):
        parse_holidays("2026-12-25, 24.12.2026")
    assert parse_holidays("2026-12-25 2026-12-24") == {date(2026, 12, 24), date(2026, 12, 25)}


def test_targets() -> None:
    hours = parse_hours("Mon-Fri 09:00-17:30")
    assert parse_target(" 4H ") == "4h"
    assert target_length("3d", hours) == timedelta(hours=25, minutes=30)
    assert target_length("90m", hours) == timedelta(minutes=90)
    with pytest.raises(InvalidInput, match="positive number of working minutes"):
        parse_target("0h")
    with pytest.raises(InvalidInput, match="positive number of working minutes"):
        parse_target("1 week")
