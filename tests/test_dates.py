"""Tests for tinycrm.dates: the date language, durations, labels, repeats and time zones."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinycrm import dates
from tinycrm.dates import (
    Recurrence,
    format_relative,
    local_zone,
    next_occurrence,
    parse_date,
    parse_duration,
    parse_recurrence,
    parse_when,
)
from tinycrm.errors import InvalidInput

BERLIN = ZoneInfo("Europe/Berlin")
SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=BERLIN)  # a Monday, 09:00Z
NOW_SH = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)  # 02:00Z


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@pytest.fixture
def no_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dates, "_dateparser_fallback", lambda *args, **kwargs: None)


# ---------------------------------------------------------------------------- parse_when

BERLIN_CASES = [
    # ISO
    ("2026-12-01", utc(2026, 12, 1, 8)),
    ("2026-12-01 14:30", utc(2026, 12, 1, 13, 30)),
    ("2026-12-01T14:30", utc(2026, 12, 1, 13, 30)),
    ("2026-12-01t14:30:15", utc(2026, 12, 1, 13, 30, 15)),
    ("2026-12-01T14:30Z", utc(2026, 12, 1, 14, 30)),
    ("2026-12-01T14:30:00+05:30", utc(2026, 12, 1, 9, 0)),
    ("2026-12-01 14:30 -0500", utc(2026, 12, 1, 19, 30)),
    ("2026-12-01 9am", utc(2026, 12, 1, 8)),
    ("2026/12/01", utc(2026, 12, 1, 8)),
    # named days, optionally with a time
    ("now", utc(2026, 11, 23, 9)),
    ("today", utc(2026, 11, 23, 8)),
    ("tonight", utc(2026, 11, 23, 17)),
    ("tonight 8", utc(2026, 11, 23, 19)),
    ("tomorrow", utc(2026, 11, 24, 8)),
    ("yesterday", utc(2026, 11, 22, 8)),
    ("day after tomorrow", utc(2026, 11, 25, 8)),
    ("tomorrow 9am", utc(2026, 11, 24, 8)),
    ("tomorrow 9", utc(2026, 11, 24, 8)),
    ("tomorrow 14:30", utc(2026, 11, 24, 13, 30)),
    ("today 2pm", utc(2026, 11, 23, 13)),
    ("tomorrow at 9:15am", utc(2026, 11, 24, 8, 15)),
    ("tomorrow noon", utc(2026, 11, 24, 11)),
    ("tomorrow 9:15 p.m.", utc(2026, 11, 24, 20, 15)),
    ("tomorrow morning", utc(2026, 11, 24, 8)),
    ("  Tomorrow   9AM  ", utc(2026, 11, 24, 8)),
    ("ｔｏｍｏｒｒｏｗ　９ａｍ", utc(2026, 11, 24, 8)),
    ("9am tomorrow", utc(2026, 11, 24, 8)),
    ("at 5pm on friday", utc(2026, 11, 27, 16)),
    # bare times: today, or tomorrow when already past
    ("9am", utc(2026, 11, 24, 8)),
    ("14:30", utc(2026, 11, 23, 13, 30)),
    ("at 5pm", utc(2026, 11, 23, 16)),
    ("at 5", utc(2026, 11, 24, 4)),
    ("noon", utc(2026, 11, 23, 11)),
    ("midnight", utc(2026, 11, 23, 23)),
    # offsets
    ("3d", utc(2026, 11, 26, 8)),
    ("2w", utc(2026, 12, 7, 8)),
    ("4h", utc(2026, 11, 23, 13)),
    ("30m", utc(2026, 11, 23, 9, 30)),
    ("1mo", utc(2026, 12, 23, 8)),
    ("3 months", utc(2027, 2, 23, 8)),
    ("1y", utc(2027, 11, 23, 8)),
    ("in 3 days", utc(2026, 11, 26, 8)),
    ("in 2 hours", utc(2026, 11, 23, 11)),
    ("in 1 week", utc(2026, 11, 30, 8)),
    ("in an hour", utc(2026, 11, 23, 10)),
    ("+3d", utc(2026, 11, 26, 8)),
    ("3 weeks from now", utc(2026, 12, 14, 8)),
    ("1d12h", utc(2026, 11, 24, 21)),
    ("2 hours and 30 minutes", utc(2026, 11, 23, 11, 30)),
    ("3d ago", utc(2026, 11, 20, 8)),
    ("2 hours ago", utc(2026, 11, 23, 7)),
    ("-3d", utc(2026, 11, 20, 8)),
    ("3d 5pm", utc(2026, 11, 26, 16)),
    ("in 2 weeks at 10am", utc(2026, 12, 7, 9)),
    # weekdays (today is Monday 23rd)
    ("friday", utc(2026, 11, 27, 8)),
    ("fri", utc(2026, 11, 27, 8)),
    ("next friday", utc(2026, 11, 27, 8)),
    ("this friday", utc(2026, 11, 27, 8)),
    ("last friday", utc(2026, 11, 20, 8)),
    ("monday", utc(2026, 11, 30, 8)),
    ("next monday 10:30", utc(2026, 11, 30, 9, 30)),
    ("this monday", utc(2026, 11, 23, 8)),
    ("last monday", utc(2026, 11, 16, 8)),
    ("friday 3pm", utc(2026, 11, 27, 14)),
    ("thu at 9:15am", utc(2026, 11, 26, 8, 15)),
    ("sunday", utc(2026, 11, 29, 8)),
    # periods
    ("next week", utc(2026, 11, 30, 8)),
    ("next month", utc(2026, 12, 1, 8)),
    ("end of month", utc(2026, 11, 30, 8)),
    ("eom", utc(2026, 11, 30, 8)),
    ("end of week", utc(2026, 11, 27, 8)),
    ("eow", utc(2026, 11, 27, 8)),
    ("eow 5pm", utc(2026, 11, 27, 16)),
    # Chinese
    ("今天", utc(2026, 11, 23, 8)),
    ("明天", utc(2026, 11, 24, 8)),
    ("后天", utc(2026, 11, 25, 8)),
    ("大后天", utc(2026, 11, 26, 8)),
    ("昨天", utc(2026, 11, 22, 8)),
    ("前天", utc(2026, 11, 21, 8)),
    ("下周一", utc(2026, 11, 30, 8)),
    ("下周日", utc(2026, 12, 6, 8)),
    ("下周天", utc(2026, 12, 6, 8)),
    ("下星期三", utc(2026, 12, 2, 8)),
    ("下礼拜五", utc(2026, 12, 4, 8)),
    ("周五", utc(2026, 11, 27, 8)),
    ("星期五", utc(2026, 11, 27, 8)),
    ("礼拜五", utc(2026, 11, 27, 8)),
    ("周一", utc(2026, 11, 23, 8)),
    ("周日", utc(2026, 11, 29, 8)),
    ("这周五", utc(2026, 11, 27, 8)),
    ("本周五", utc(2026, 11, 27, 8)),
    ("上周五", utc(2026, 11, 20, 8)),
    ("3天后", utc(2026, 11, 26, 8)),
    ("三天后", utc(2026, 11, 26, 8)),
    ("十天后", utc(2026, 12, 3, 8)),
    ("两周后", utc(2026, 12, 7, 8)),
    ("2星期后", utc(2026, 12, 7, 8)),
    ("3个月后", utc(2027, 2, 23, 8)),
    ("2小时后", utc(2026, 11, 23, 11)),
    ("30分钟后", utc(2026, 11, 23, 9, 30)),
    ("半小时后", utc(2026, 11, 23, 9, 30)),
    ("3天前", utc(2026, 11, 20, 8)),
    ("明天上午9点", utc(2026, 11, 24, 8)),
    ("明天下午3点", utc(2026, 11, 24, 14)),
    ("明天9点", utc(2026, 11, 24, 8)),
    ("明天15:30", utc(2026, 11, 24, 14, 30)),
    ("明天晚上8点", utc(2026, 11, 24, 19)),
    ("明晚8点", utc(2026, 11, 24, 19)),
    ("下午3点半", utc(2026, 11, 23, 14, 30)),
    ("明天上午九点一刻", utc(2026, 11, 24, 8, 15)),
    ("下周一上午10点", utc(2026, 11, 30, 9)),
    ("周五下午2点", utc(2026, 11, 27, 13)),
    ("三天后下午3点", utc(2026, 11, 26, 14)),
    ("12月5日", utc(2026, 12, 5, 8)),
    ("2027年1月5号", utc(2027, 1, 5, 8)),
]


@pytest.mark.parametrize(("text", "expected"), BERLIN_CASES)
def test_parse_when_berlin(text: str, expected: datetime, no_fallback: None) -> None:
    result = parse_when(text, now=NOW, tz=BERLIN)
    assert result == expected
    assert result.utcoffset() == timedelta(0)


SHANGHAI_CASES = [
    ("tomorrow", utc(2026, 11, 24, 1)),
    ("明天上午9点", utc(2026, 11, 24, 1)),
    ("明天下午3点", utc(2026, 11, 24, 7)),
    ("下午3点", utc(2026, 11, 23, 7)),
    ("9am", utc(2026, 11, 24, 1)),
    ("2026-12-01", utc(2026, 12, 1, 1)),
    ("2026-12-01 00:30", utc(2026, 11, 30, 16, 30)),
    ("周五", utc(2026, 11, 27, 1)),
    ("下周一", utc(2026, 11, 30, 1)),
    ("2小时后", utc(2026, 11, 23, 4)),
    ("3d", utc(2026, 11, 26, 1)),
    ("今晚", utc(2026, 11, 23, 10)),
    ("今晚8点", utc(2026, 11, 23, 12)),
]


@pytest.mark.parametrize(("text", "expected"), SHANGHAI_CASES)
def test_parse_when_shanghai(text: str, expected: datetime, no_fallback: None) -> None:
    assert parse_when(text, now=NOW_SH, tz=SHANGHAI) == expected


PAST_CASES = [
    ("friday", utc(2026, 11, 20, 8)),
    ("monday", utc(2026, 11, 16, 8)),
    ("next friday", utc(2026, 11, 27, 8)),
    ("9am", utc(2026, 11, 23, 8)),
    ("11am", utc(2026, 11, 22, 10)),
    ("周五", utc(2026, 11, 20, 8)),
    ("周一", utc(2026, 11, 23, 8)),
    ("12月5日", utc(2025, 12, 5, 8)),
    ("3d ago", utc(2026, 11, 20, 8)),
]


@pytest.mark.parametrize(("text", "expected"), PAST_CASES)
def test_parse_when_past(text: str, expected: datetime, no_fallback: None) -> None:
    assert parse_when(text, now=NOW, tz=BERLIN, past=True) == expected


def test_default_time_is_used_for_date_only_forms() -> None:
    result = parse_when("tomorrow", now=NOW, tz=BERLIN, default_time=time(17, 45))
    assert result == utc(2026, 11, 24, 16, 45)
    assert parse_when("3d", now=NOW, tz=BERLIN, default_time=time(0)) == utc(2026, 11, 25, 23)


def test_now_in_another_zone_is_converted() -> None:
    now_utc = NOW.astimezone(UTC)
    assert parse_when("tomorrow", now=now_utc, tz=BERLIN) == utc(2026, 11, 24, 8)


@pytest.mark.parametrize(
    ("now", "text", "expected"),
    [
        # spring forward in Berlin: 2026-03-29 02:00 CET -> 03:00 CEST
        (datetime(2026, 3, 28, 12, tzinfo=BERLIN), "tomorrow 9am", utc(2026, 3, 29, 7)),
        (datetime(2026, 3, 28, 12, tzinfo=BERLIN), "tomorrow 2:30", utc(2026, 3, 29, 1, 30)),
        (datetime(2026, 3, 29, 0, tzinfo=BERLIN), "4h", utc(2026, 3, 29, 3)),
        (datetime(2026, 3, 28, 12, tzinfo=BERLIN), "1d", utc(2026, 3, 29, 7)),
        # fall back in Berlin: 2026-10-25 03:00 CEST -> 02:00 CET; 02:30 happens twice
        (datetime(2026, 10, 24, 12, tzinfo=BERLIN), "tomorrow 2:30", utc(2026, 10, 25, 0, 30)),
        (datetime(2026, 10, 24, 12, tzinfo=BERLIN), "tomorrow 9am", utc(2026, 10, 25, 8)),
        # New York: 2026-03-08 and 2026-11-01
        (datetime(2026, 3, 7, 12, tzinfo=NEW_YORK), "tomorrow 2:30am", utc(2026, 3, 8, 7, 30)),
        (datetime(2026, 10, 31, 12, tzinfo=NEW_YORK), "tomorrow 9am", utc(2026, 11, 1, 14)),
    ],
)
def test_parse_when_across_dst(now: datetime, text: str, expected: datetime) -> None:
    assert parse_when(text, now=now, tz=now.tzinfo or UTC) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty date"),
        ("   ", "empty date"),
        ("tomorow", "can't read date 'tomorow': try 'tomorrow 9am', '3d', 'next friday'"),
        ("12/01", "YYYY-MM-DD"),
        ("01.12.2026", "ambiguous date '01.12.2026'"),
        ("12/01 9am", "ambiguous"),
        ("2026-13-01", "can't read date '2026-13-01'"),
        ("2026-02-30", "2026-02-30"),
        ("1800-01-01", "out of range"),
        ("2300-01-01", "out of range"),
        ("99999999d", "out of range"),
        ("9" * 5000 + "d", "out of range"),
        ("5", "can't read date '5'"),
        ("tomorrow 25:00", "can't read date 'tomorrow 25:00': hour must be in 0..23"),
        ("13pm", "no such time '13pm'"),
        ("明天25点", "hour must be in 0..23"),
        ("tomorrow 9:75", "minute must be in 0..59"),
        ("in 3 days ago", "contradict"),
        ("asdf qwer", "can't read date 'asdf qwer'"),
    ],
)
def test_parse_when_errors(text: str, fragment: str, no_fallback: None) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_when(text, now=NOW, tz=BERLIN)
    message = str(info.value)
    assert fragment in message
    assert "\n" not in message


def test_typo_is_rejected_by_the_real_fallback_too() -> None:
    with pytest.raises(InvalidInput, match="can't read date 'tomorow'"):
        parse_when("tomorow", now=NOW, tz=BERLIN)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("december 5th", utc(2026, 12, 5, 8)),
        ("5 dec 2026", utc(2026, 12, 5, 8)),
        ("dec 5 3pm", utc(2026, 12, 5, 14)),
    ],
)
def test_dateparser_fallback(text: str, expected: datetime) -> None:
    assert parse_when(text, now=NOW, tz=BERLIN) == expected


def test_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_when("tomorrow", now=datetime(2026, 11, 23, 10), tz=BERLIN)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_parse_when_never_crashes(text: str) -> None:
    original = dates._dateparser_fallback
    dates._dateparser_fallback = lambda *args, **kwargs: None
    try:
        result = parse_when(text, now=NOW, tz=BERLIN)
    except InvalidInput as exc:
        assert "\n" not in str(exc)
    else:
        assert result.tzinfo is not None and result.utcoffset() == timedelta(0)
    finally:
        dates._dateparser_fallback = original


@settings(max_examples=200, deadline=None)
@given(
    st.from_regex(
        r"(in |\+|-)?[0-9]{1,4} ?(d|w|h|m|days|weeks|hours|mo)( ago)?|"
        r"(next |this |last )?(mon|tue|fri|sunday)( [0-9]{1,2}(:[0-9]{2})?(am|pm)?)?|"
        r"[0-9一二三十两]{1,3}(天|周|小时|个月)(后|前)",
        fullmatch=True,
    )
)
def test_grammar_shapes_never_crash(text: str) -> None:
    try:
        result = parse_when(text, now=NOW, tz=BERLIN)
    except InvalidInput:
        return
    assert result.utcoffset() == timedelta(0)


# ---------------------------------------------------------------------------- import cost


def test_import_and_common_forms_do_not_load_heavy_libraries() -> None:
    script = """
import sys
import tinycrm.dates as d
print('dateparser' in sys.modules, 'dateutil' in sys.modules)
from datetime import datetime
from zoneinfo import ZoneInfo
tz = ZoneInfo('Europe/Berlin')
now = datetime(2026, 11, 23, 10, tzinfo=tz)
for text in ['2026-12-01', 'tomorrow 9am', '3d', 'in 2 hours', 'next friday', '14:30', 'eom',
             '明天下午3点', '下周一', '三天后', 'now', '2026-12-01T14:30Z']:
    d.parse_when(text, now=now, tz=tz)
d.parse_date('friday', today=now.date())
d.parse_duration('1d12h')
d.format_relative(now, now=now, tz=tz)
print('dateparser' in sys.modules, 'dateutil' in sys.modules)
"""
    src = str(Path(dates.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env
    ).stdout.split("\n")
    assert out[:2] == ["False False", "False False"]


# ---------------------------------------------------------------------------- parse_date

TODAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    ("text", "past", "expected"),
    [
        ("tomorrow", False, date(2026, 11, 24)),
        ("today", False, TODAY),
        ("friday", False, date(2026, 11, 27)),
        ("friday", True, date(2026, 11, 20)),
        ("2026-12-01", False, date(2026, 12, 1)),
        ("2026-12-01T23:30-05:00", False, date(2026, 12, 1)),
        ("3d", False, date(2026, 11, 26)),
        ("3d ago", False, date(2026, 11, 20)),
        ("9am", False, TODAY),
        ("9am", True, TODAY),
        ("tomorrow 9am", False, date(2026, 11, 24)),
        ("明天", False, date(2026, 11, 24)),
        ("下周一", False, date(2026, 11, 30)),
        ("eom", False, date(2026, 11, 30)),
        ("1mo", False, date(2026, 12, 23)),
    ],
)
def test_parse_date(text: str, past: bool, expected: date, no_fallback: None) -> None:
    assert parse_date(text, today=TODAY, past=past) == expected


def test_parse_date_month_end_clamps() -> None:
    assert parse_date("1mo", today=date(2026, 1, 31)) == date(2026, 2, 28)


def test_parse_date_errors(no_fallback: None) -> None:
    with pytest.raises(InvalidInput, match="can't read date 'someday'"):
        parse_date("someday", today=TODAY)
    with pytest.raises(InvalidInput, match="out of range"):
        parse_date("1899-12-31", today=TODAY)


# ---------------------------------------------------------------------------- parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3d", timedelta(days=3)),
        ("2w", timedelta(weeks=2)),
        ("4h", timedelta(hours=4)),
        ("30m", timedelta(minutes=30)),
        ("90s", timedelta(seconds=90)),
        ("1d12h", timedelta(days=1, hours=12)),
        ("1d 12h", timedelta(days=1, hours=12)),
        ("2 hours 30 minutes", timedelta(hours=2, minutes=30)),
        ("３Ｄ", timedelta(days=3)),
        ("0d", timedelta(0)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "can't read duration"),
        ("3", "can't read duration '3'"),
        ("3x", "can't read duration"),
        ("-3d", "can't read duration"),
        ("d", "can't read duration"),
        ("1mo", "no fixed length"),
        ("2y", "no fixed length"),
        ("9999999999d", "too long"),
    ],
)
def test_parse_duration_errors(text: str, fragment: str) -> None:
    with pytest.raises(InvalidInput, match=fragment):
        parse_duration(text)


@given(st.integers(min_value=0, max_value=10000))
def test_parse_duration_days_property(n: int) -> None:
    assert parse_duration(f"{n}d") == timedelta(days=n)


# ---------------------------------------------------------------------------- format_relative


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (datetime(2026, 11, 23, 14, tzinfo=BERLIN), "today 14:00"),
        (datetime(2026, 11, 23, 10, tzinfo=BERLIN), "today 10:00"),
        (datetime(2026, 11, 24, 9, tzinfo=BERLIN), "tomorrow 09:00"),
        (datetime(2026, 11, 27, 9, tzinfo=BERLIN), "Fri 09:00"),
        (datetime(2026, 11, 29, 23, 59, tzinfo=BERLIN), "Sun 23:59"),
        (datetime(2026, 11, 30, 9, tzinfo=BERLIN), "2026-11-30"),
        (datetime(2026, 12, 1, 9, tzinfo=BERLIN), "2026-12-01"),
        (datetime(2026, 11, 20, 9, tzinfo=BERLIN), "3d overdue"),
        # past a day, calendar days as the digest counts them (not whole 24 h periods)
        (datetime(2026, 11, 20, 23, tzinfo=BERLIN), "3d overdue"),
        (datetime(2026, 11, 22, 9, tzinfo=BERLIN), "1d overdue"),
        (datetime(2026, 11, 22, 11, tzinfo=BERLIN), "23h overdue"),
        (utc(2026, 11, 20, 23, 30), "2d overdue"),  # 00:30 on the 21st in Berlin
        (datetime(2026, 11, 23, 8, tzinfo=BERLIN), "2h overdue"),
        (datetime(2026, 11, 23, 9, 55, tzinfo=BERLIN), "5 min overdue"),
        (datetime(2026, 11, 23, 9, 59, 30, tzinfo=BERLIN), "now"),
        (utc(2026, 11, 23, 22, 30), "today 23:30"),
        (utc(2026, 11, 23, 23, 30), "tomorrow 00:30"),
    ],
)
def test_format_relative(when: datetime, expected: str) -> None:
    assert format_relative(when, now=NOW, tz=BERLIN) == expected


def test_format_relative_uses_the_given_zone() -> None:
    when = utc(2026, 11, 23, 17)
    assert format_relative(when, now=NOW, tz=SHANGHAI) == "tomorrow 01:00"


# ---------------------------------------------------------------------------- parse_recurrence

RECURRENCE_CASES = [
    ("daily", "FREQ=DAILY"),
    ("weekly", "FREQ=WEEKLY"),
    ("monthly", "FREQ=MONTHLY"),
    ("yearly", "FREQ=YEARLY"),
    ("weekdays", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"),
    ("every weekday", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"),
    ("2d", "FREQ=DAILY;INTERVAL=2"),
    ("2w", "FREQ=WEEKLY;INTERVAL=2"),
    ("3m", "FREQ=MONTHLY;INTERVAL=3"),
    ("1d", "FREQ=DAILY"),
    ("every monday", "FREQ=WEEKLY;BYDAY=MO"),
    ("every mon,thu", "FREQ=WEEKLY;BYDAY=MO,TH"),
    ("every thu, mon", "FREQ=WEEKLY;BYDAY=MO,TH"),
    ("every tuesday and friday", "FREQ=WEEKLY;BYDAY=TU,FR"),
    ("every 2 weeks", "FREQ=WEEKLY;INTERVAL=2"),
    ("every 3 days", "FREQ=DAILY;INTERVAL=3"),
    ("every other day", "FREQ=DAILY;INTERVAL=2"),
    ("every day", "FREQ=DAILY"),
    ("fortnightly", "FREQ=WEEKLY;INTERVAL=2"),
    ("last friday of month", "FREQ=MONTHLY;BYDAY=-1FR"),
    ("first monday of month", "FREQ=MONTHLY;BYDAY=1MO"),
    ("the 2nd tuesday of every month", "FREQ=MONTHLY;BYDAY=2TU"),
    ("1st of month", "FREQ=MONTHLY;BYMONTHDAY=1"),
    ("15th of month", "FREQ=MONTHLY;BYMONTHDAY=15"),
    ("31st of the month", "FREQ=MONTHLY;BYMONTHDAY=28,29,30,31;BYSETPOS=-1"),
    ("last day of month", "FREQ=MONTHLY;BYMONTHDAY=-1"),
    ("每天", "FREQ=DAILY"),
    ("每周", "FREQ=WEEKLY"),
    ("每月", "FREQ=MONTHLY"),
    ("每年", "FREQ=YEARLY"),
    ("每周一", "FREQ=WEEKLY;BYDAY=MO"),
    ("每星期五", "FREQ=WEEKLY;BYDAY=FR"),
    ("每周一、四", "FREQ=WEEKLY;BYDAY=MO,TH"),
    ("每两周", "FREQ=WEEKLY;INTERVAL=2"),
    ("每3个月", "FREQ=MONTHLY;INTERVAL=3"),
    ("每月15号", "FREQ=MONTHLY;BYMONTHDAY=15"),
    ("每月最后一个周五", "FREQ=MONTHLY;BYDAY=-1FR"),
    ("工作日", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"),
    ("FREQ=WEEKLY;BYDAY=MO", "FREQ=WEEKLY;BYDAY=MO"),
    ("RRULE:FREQ=WEEKLY;BYDAY=MO,WE", "FREQ=WEEKLY;BYDAY=MO,WE"),
    ("rrule:freq=monthly;bymonthday=-1", "FREQ=MONTHLY;BYMONTHDAY=-1"),
    ("FREQ=HOURLY;INTERVAL=6", "FREQ=HOURLY;INTERVAL=6"),
]


@pytest.mark.parametrize(("text", "rrule"), RECURRENCE_CASES)
def test_parse_recurrence(text: str, rrule: str) -> None:
    rec = parse_recurrence(text)
    assert rec == Recurrence(rrule=rrule, from_done=False, text=rec.text)
    assert rec.text == " ".join(text.lower().split())


@pytest.mark.parametrize(("text", "rrule"), RECURRENCE_CASES)
def test_generated_rrules_are_valid(text: str, rrule: str) -> None:
    from dateutil.rrule import rrulestr

    rule = rrulestr(parse_recurrence(text).rrule, dtstart=datetime(2026, 1, 1))
    assert rule.after(datetime(2026, 1, 1)) is not None


def test_from_done_suffix() -> None:
    rec = parse_recurrence("Every 3 days  from done")
    assert rec == Recurrence("FREQ=DAILY;INTERVAL=3", from_done=True, text="every 3 days from done")
    assert parse_recurrence("weekly from completion").from_done
    assert Recurrence("FREQ=DAILY").from_done is False


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "can't read repeat ''"),
        ("evry week", "can't read repeat 'evry week': try daily"),
        ("0d", "can't read repeat"),
        ("every 0 days", "can't read repeat"),
        ("32nd of month", "can't read repeat"),
        ("5th monday of month", "can't read repeat"),
        ("FREQ=WEEKLY;BYDAY=XX", "bad RRULE 'FREQ=WEEKLY;BYDAY=XX'"),
        ("FREQ=FOO", "bad RRULE"),
        ("BYDAY=MO", "bad RRULE 'BYDAY=MO'"),
        ("FREQ=DAILY;FOO=1", "bad RRULE"),
        ("FREQ=DAILY;;", "bad RRULE"),
        ("FREQ=DAILY;COUNT=3", "COUNT/UNTIL"),
        ("FREQ=DAILY;UNTIL=20270101", "COUNT/UNTIL"),
        ("FREQ=DAILY;INTERVAL=0", "INTERVAL"),
        ("FREQ=DAILY;INTERVAL=x", "INTERVAL"),
        ("FREQ=MINUTELY", "hourly"),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "never occurs"),
        ("FREQ=MONTHLY;BYDAY=9MO", "bad RRULE"),
        ("DTSTART:20200101T000000 RRULE:FREQ=DAILY", "bad RRULE"),
    ],
)
def test_parse_recurrence_errors(text: str, fragment: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_recurrence(text)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


# ---------------------------------------------------------------------------- next_occurrence


def chain(rec: Recurrence, anchor: datetime, tz: tzinfo, count: int) -> list[datetime]:
    found, after = [], anchor
    for _ in range(count):
        after = next_occurrence(rec, after=after, anchor=anchor, tz=tz)
        found.append(after)
    return found


def test_daily_keeps_wall_time_across_spring_forward_in_berlin() -> None:
    anchor = datetime(2026, 3, 27, 9, tzinfo=BERLIN)
    assert chain(parse_recurrence("daily"), anchor, BERLIN, 3) == [
        utc(2026, 3, 28, 8),
        utc(2026, 3, 29, 7),
        utc(2026, 3, 30, 7),
    ]


def test_daily_keeps_wall_time_across_fall_back_in_berlin() -> None:
    anchor = datetime(2026, 10, 24, 9, tzinfo=BERLIN)
    assert chain(parse_recurrence("daily"), anchor, BERLIN, 2) == [
        utc(2026, 10, 25, 8),
        utc(2026, 10, 26, 8),
    ]


def test_daily_in_new_york_across_both_transitions() -> None:
    rec = parse_recurrence("daily")
    spring = datetime(2026, 3, 7, 9, tzinfo=NEW_YORK)
    assert chain(rec, spring, NEW_YORK, 2) == [utc(2026, 3, 8, 13), utc(2026, 3, 9, 13)]
    fall = datetime(2026, 10, 31, 9, tzinfo=NEW_YORK)
    assert chain(rec, fall, NEW_YORK, 2) == [utc(2026, 11, 1, 14), utc(2026, 11, 2, 14)]


def test_wall_time_in_the_gap_lands_after_it() -> None:
    anchor = datetime(2026, 3, 28, 2, 30, tzinfo=BERLIN)
    assert chain(parse_recurrence("daily"), anchor, BERLIN, 2) == [
        utc(2026, 3, 29, 1, 30),  # 03:30 CEST: 02:30 does not exist that day
        utc(2026, 3, 30, 0, 30),  # 02:30 CEST
    ]


def test_hourly_across_spring_forward_stays_strictly_increasing() -> None:
    rec = parse_recurrence("hourly")
    anchor = datetime(2026, 3, 29, 0, tzinfo=BERLIN)
    assert chain(rec, anchor, BERLIN, 3) == [
        utc(2026, 3, 29, 0),
        utc(2026, 3, 29, 1),
        utc(2026, 3, 29, 2),
    ]


def test_monthly_on_the_31st_clamps_to_month_end() -> None:
    anchor = datetime(2026, 1, 31, 9, tzinfo=BERLIN)
    expected = [utc(2026, 2, 28, 8), utc(2026, 3, 31, 7), utc(2026, 4, 30, 7), utc(2026, 5, 31, 7)]
    assert chain(parse_recurrence("monthly"), anchor, BERLIN, 4) == expected
    assert chain(parse_recurrence("31st of month"), anchor, BERLIN, 4) == expected


def test_monthly_on_the_30th_and_every_3_months() -> None:
    anchor = datetime(2026, 1, 30, 9, tzinfo=UTC)
    assert chain(parse_recurrence("monthly"), anchor, UTC, 2) == [
        utc(2026, 2, 28, 9),
        utc(2026, 3, 30, 9),
    ]
    anchor = datetime(2026, 11, 30, 9, tzinfo=UTC)
    assert chain(parse_recurrence("3m"), anchor, UTC, 2) == [
        utc(2027, 2, 28, 9),
        utc(2027, 5, 30, 9),
    ]


def test_yearly_on_leap_day_clamps() -> None:
    anchor = datetime(2028, 2, 29, 9, tzinfo=UTC)
    assert chain(parse_recurrence("yearly"), anchor, UTC, 2) == [
        utc(2029, 2, 28, 9),
        utc(2030, 2, 28, 9),
    ]


def test_weekly_rules() -> None:
    anchor = datetime(2026, 11, 23, 9, tzinfo=BERLIN)  # Monday
    assert chain(parse_recurrence("every mon,thu"), anchor, BERLIN, 3) == [
        utc(2026, 11, 26, 8),
        utc(2026, 11, 30, 8),
        utc(2026, 12, 3, 8),
    ]
    assert chain(parse_recurrence("last friday of month"), anchor, BERLIN, 2) == [
        utc(2026, 11, 27, 8),
        utc(2026, 12, 25, 8),
    ]


def test_after_before_anchor_returns_the_anchor() -> None:
    anchor = datetime(2026, 12, 1, 9, tzinfo=BERLIN)
    result = next_occurrence(parse_recurrence("daily"), after=NOW, anchor=anchor, tz=BERLIN)
    assert result == utc(2026, 12, 1, 8)


def test_after_far_past_the_anchor() -> None:
    anchor = datetime(2026, 11, 2, 9, tzinfo=BERLIN)
    after = datetime(2026, 11, 25, 15, tzinfo=BERLIN)
    rec = parse_recurrence("3d")
    assert next_occurrence(rec, after=after, anchor=anchor, tz=BERLIN) == utc(2026, 11, 26, 8)


def test_from_done_restarts_on_the_day_of_completion() -> None:
    anchor = datetime(2026, 11, 2, 9, tzinfo=BERLIN)
    rec = parse_recurrence("3d from done")
    done_late = datetime(2026, 11, 25, 15, tzinfo=BERLIN)
    done_early = datetime(2026, 11, 25, 7, tzinfo=BERLIN)
    assert next_occurrence(rec, after=done_late, anchor=anchor, tz=BERLIN) == utc(2026, 11, 28, 8)
    assert next_occurrence(rec, after=done_early, anchor=anchor, tz=BERLIN) == utc(2026, 11, 28, 8)
    hourly = Recurrence("FREQ=HOURLY;INTERVAL=2", from_done=True)
    result = next_occurrence(hourly, after=done_late, anchor=anchor, tz=BERLIN)
    assert result == utc(2026, 11, 25, 16)


def test_result_is_utc() -> None:
    anchor = datetime(2026, 11, 23, 9, tzinfo=SHANGHAI)
    result = next_occurrence(parse_recurrence("每天"), after=anchor, anchor=anchor, tz=SHANGHAI)
    assert result == utc(2026, 11, 24, 1)
    assert result.tzinfo is UTC


ZONES = [BERLIN, NEW_YORK, SHANGHAI, ZoneInfo("Australia/Sydney"), UTC]
RULES = ["daily", "2d", "weekly", "every mon,thu", "monthly", "3m", "yearly", "weekdays",
         "last friday of month", "15th of month", "hourly", "FREQ=DAILY;BYHOUR=9,17"]  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(
    anchor=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
    zone=st.sampled_from(ZONES),
    offset=st.timedeltas(min_value=timedelta(days=-30), max_value=timedelta(days=3 * 365)),
    rule=st.sampled_from(RULES),
    from_done=st.booleans(),
)
def test_next_occurrence_is_strictly_after(
    anchor: datetime, zone: tzinfo, offset: timedelta, rule: str, from_done: bool
) -> None:
    start = anchor.replace(tzinfo=zone)
    after = start + offset
    rec = Recurrence(parse_recurrence(rule).rrule, from_done=from_done)
    result = next_occurrence(rec, after=after, anchor=start, tz=zone)
    assert result > after
    assert result.utcoffset() == timedelta(0)


@settings(max_examples=150, deadline=None)
@given(
    day=st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)),
    clock=st.times(min_value=time(4), max_value=time(22)),  # DST never shifts these hours
    zone=st.sampled_from(ZONES),
    offset=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3 * 365)),
    interval=st.integers(min_value=1, max_value=5),
)
def test_daily_keeps_the_anchor_wall_clock(
    day: date, clock: time, zone: tzinfo, offset: timedelta, interval: int
) -> None:
    anchor = datetime.combine(day, clock, tzinfo=zone)
    rec = parse_recurrence(f"{interval}d")
    result = next_occurrence(rec, after=anchor + offset, anchor=anchor, tz=zone)
    assert result > anchor + offset
    local = result.astimezone(zone)
    assert local.time() == clock.replace(microsecond=0)
    assert (local.date() - day).days % interval == 0


# ---------------------------------------------------------------------------- local_zone


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.delenv("TINYCRM_TZ", raising=False)
    monkeypatch.delenv("TZ", raising=False)
    return monkeypatch


def test_local_zone_prefers_tinycrm_tz(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("TINYCRM_TZ", "Asia/Shanghai")
    clean_env.setenv("TZ", "Europe/Berlin")
    assert local_zone() == ZoneInfo("Asia/Shanghai")


def test_local_zone_rejects_a_bad_tinycrm_tz(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("TINYCRM_TZ", "Mars/Olympus_Mons")
    with pytest.raises(InvalidInput, match="TINYCRM_TZ='Mars/Olympus_Mons'"):
        local_zone()


@pytest.mark.parametrize("value", ["America/New_York", ":America/New_York"])
def test_local_zone_uses_an_iana_tz(clean_env: pytest.MonkeyPatch, value: str) -> None:
    clean_env.setenv("TZ", value)
    assert local_zone() == NEW_YORK


def test_local_zone_reads_the_localtime_symlink(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    link = tmp_path / "localtime"
    link.symlink_to("../usr/share/zoneinfo/Asia/Tokyo")
    clean_env.setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3")  # POSIX rule, not an IANA name
    clean_env.setattr(dates, "_LOCALTIME", str(link))
    assert local_zone() == ZoneInfo("Asia/Tokyo")


def test_local_zone_reads_a_copied_localtime_file(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    copy = tmp_path / "localtime"
    source = Path("/usr/share/zoneinfo/Asia/Tokyo")
    if not source.exists():
        pytest.skip("no system tzdata")
    copy.write_bytes(source.read_bytes())
    clean_env.setattr(dates, "_LOCALTIME", str(copy))
    zone = local_zone()
    assert datetime(2026, 7, 1, tzinfo=zone).utcoffset() == timedelta(hours=9)


def test_local_zone_without_any_source(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setattr(dates, "_LOCALTIME", str(tmp_path / "missing"))
    zone = local_zone()
    assert isinstance(zone, tzinfo)
    assert datetime(2026, 1, 1, tzinfo=zone).utcoffset() is not None


def test_local_zone_default_is_usable(clean_env: pytest.MonkeyPatch) -> None:
    zone = local_zone()
    assert parse_when("tomorrow", now=datetime.now(zone), tz=zone).tzinfo is UTC


def test_fixed_offset_zone_works_everywhere() -> None:
    plus5 = timezone(timedelta(hours=5))
    now = datetime(2026, 11, 23, 10, tzinfo=plus5)
    assert parse_when("tomorrow 9am", now=now, tz=plus5) == utc(2026, 11, 24, 4)
    rec = parse_recurrence("daily")
    assert next_occurrence(rec, after=now, anchor=now, tz=plus5) == utc(2026, 11, 24, 5)
