"""Working time: which instants are inside working hours, and arithmetic on them.

Pure and stdlib only (the SLA clocks of service cases run on it). Working hours are a set
of weekdays with one daily window of wall-clock time (`Mon-Fri 09:00-17:00`) and a list of
holidays, read in one time zone: an instant is working time when its local wall-clock time,
in that zone, falls on a working day that is not a holiday, at or after the window's start
and before its end. So a DST change inside the window makes that day an hour longer or
shorter, exactly as the clock on the wall says.

The arithmetic walks time in quarter-hour blocks aligned on UTC: every time zone in use
today changes its offset only on such a boundary, so inside one block local time is UTC
plus one fixed offset and the working part of the block is at most two plain intervals.
`tests/test_worktime.py` checks both functions against a minute-by-minute oracle.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from tinycrm.errors import InvalidInput

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_HOURS = "Mon-Fri 09:00-17:00"
_BLOCK = timedelta(minutes=15)
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_HOURS = re.compile(
    r"^\s*(?P<days>[A-Za-z,\s-]+?)\s+(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})\s*$"
)
#: how far to look for the next working minute before giving up (a year of holidays)
_HORIZON = timedelta(days=400)


@dataclass(frozen=True)
class Hours:
    """Working days (0 = Monday), the daily window [start, end) and the holidays."""

    days: frozenset[int]
    start: time
    end: time
    holidays: frozenset[date] = frozenset()

    def describe(self) -> str:
        """The canonical text `parse_hours` reads back: `Mon-Fri 09:00-17:00`."""
        return f"{_describe_days(self.days)} {self.start:%H:%M}-{self.end:%H:%M}"

    @property
    def day_length(self) -> timedelta:
        """One working day's window (what `1d` of an SLA target means)."""
        return _naive(date(2000, 1, 3), self.end) - _naive(date(2000, 1, 3), self.start)

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.days and day not in self.holidays


def _describe_days(days: frozenset[int]) -> str:
    runs: list[str] = []
    ordered = sorted(days)
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        first, last = DAYS[ordered[i]].title(), DAYS[ordered[j]].title()
        runs.append(first if i == j else f"{first}-{last}")
        i = j + 1
    return ",".join(runs)


def _clock(text: str, what: str) -> time:
    hh, mm = (int(x) for x in text.split(":"))
    if not (0 <= hh < 24 and 0 <= mm < 60):
        raise InvalidInput(f"working hours: {what} time {text!r} is not a time of day")
    return time(hh, mm)


def _day(text: str) -> int:
    key = text.strip().lower()[:3]
    if key not in DAYS or not text.strip().lower().startswith(key):
        raise InvalidInput(f"working hours: {text.strip()!r} is not a day (Mon, Tue, ... Sun)")
    return DAYS.index(key)


def parse_hours(text: str, holidays: frozenset[date] = frozenset()) -> Hours:
    """`Mon-Fri 09:00-17:00`, `Mon-Thu,Sat 08:30-16:00`: days (single or ranges, comma
    separated) then one window that starts before it ends."""
    m = _HOURS.match(text)
    if m is None:
        raise InvalidInput(
            f"working hours must look like {DEFAULT_HOURS!r} (days, then a window): {text!r}"
        )
    days: set[int] = set()
    for part in m["days"].split(","):
        if not part.strip():
            continue
        first, _, last = part.partition("-")
        a = _day(first)
        b = _day(last) if last.strip() else a
        if b < a:
            raise InvalidInput(f"working hours: {part.strip()!r} runs backwards")
        days.update(range(a, b + 1))
    if not days:
        raise InvalidInput(f"working hours name no day: {text!r}")
    start, end = _clock(m["start"], "start"), _clock(m["end"], "end")
    if end <= start:
        raise InvalidInput(f"working hours must start before they end: {text!r}")
    return Hours(frozenset(days), start, end, holidays)


def parse_holidays(text: str) -> frozenset[date]:
    """Holidays as ISO days separated by commas or spaces (`2026-12-24, 2026-12-25`)."""
    found: set[date] = set()
    for part in re.split(r"[,\s]+", text.strip()):
        if not part:
            continue
        try:
            found.add(date.fromisoformat(part))
        except ValueError:
            raise InvalidInput(f"holidays: {part!r} is not a day (YYYY-MM-DD)") from None
    return frozenset(found)


def describe_holidays(days: frozenset[date]) -> str:
    return ", ".join(d.isoformat() for d in sorted(days))


def _naive(day: date, at: time) -> datetime:
    return datetime.combine(day, at)


def _block_start(t: datetime) -> datetime:
    return t - ((t - _EPOCH) % _BLOCK)


def _working_parts(hours: Hours, tz: tzinfo, q: datetime) -> list[tuple[datetime, datetime]]:
    """The working parts of the UTC block [q, q + 15 min), as UTC intervals in order."""
    offset = q.astimezone(tz).utcoffset() or timedelta(0)
    lo = q.replace(tzinfo=None) + offset
    hi = lo + _BLOCK
    parts: list[tuple[datetime, datetime]] = []
    for day in sorted({lo.date(), (hi - timedelta(microseconds=1)).date()}):
        if not hours.is_working_day(day):
            continue
        s = max(lo, _naive(day, hours.start))
        e = min(hi, _naive(day, hours.end))
        if s < e:
            parts.append(((s - offset).replace(tzinfo=UTC), (e - offset).replace(tzinfo=UTC)))
    return parts


#: more than any offset change (DST moves clocks by at most two hours)
_MARGIN = timedelta(hours=3)


def _skip(hours: Hours, tz: tzinfo, q: datetime) -> datetime:
    """The next block worth looking at after the block `q`, which has no working time:
    a little before the next window starts (read with `q`'s offset, so the margin covers
    an offset change on the way), never `q` itself."""
    offset = q.astimezone(tz).utcoffset() or timedelta(0)
    lo = q.replace(tzinfo=None) + offset
    day = lo.date()
    for _ in range(400):
        start = _naive(day, hours.start)
        if hours.is_working_day(day) and start >= lo:
            jump = _block_start((start - offset).replace(tzinfo=UTC) - _MARGIN)
            return max(jump, q + _BLOCK)
        day += timedelta(days=1)
    return q + _BLOCK


def working_between(hours: Hours, tz: tzinfo, a: datetime, b: datetime) -> timedelta:
    """How much working time lies in [a, b) (aware instants); zero when b <= a."""
    total = timedelta(0)
    a, b = a.astimezone(UTC), b.astimezone(UTC)
    q = _block_start(a)
    while q < b:
        parts = _working_parts(hours, tz, q)
        for s, e in parts:
            s, e = max(s, a), min(e, b)
            if s < e:
                total += e - s
        q = q + _BLOCK if parts else _skip(hours, tz, q)
    return total


def add_working(hours: Hours, tz: tzinfo, start: datetime, amount: timedelta) -> datetime:
    """The earliest instant with `amount` of working time between `start` and it (UTC)."""
    t = start.astimezone(UTC)
    left = amount
    if left <= timedelta(0):
        return t
    q = _block_start(t)
    weeks = amount / hours.day_length + 1  # at least one working day a week
    limit = t + _HORIZON + timedelta(weeks=weeks)
    while q < limit:
        parts = _working_parts(hours, tz, q)
        for s, e in parts:
            s = max(s, t)
            if s >= e:
                continue
            if e - s >= left:
                return s + left
            left -= e - s
        q = q + _BLOCK if parts else _skip(hours, tz, q)
    raise InvalidInput("working hours leave no working time in the next year")


def parse_target(text: str) -> str:
    """An SLA target as typed (`30 min`, `30m`, `4h`, `4 hours`, `1d`, `2 days`: working
    minutes, hours or days), in the canonical form it is stored in (`30m`, `4h`, `1d`);
    InvalidInput otherwise."""
    m = _TARGET.fullmatch(text.lower())
    if m is None or int(m[1]) == 0:
        raise InvalidInput(
            f"an SLA target is a positive number of working minutes, hours or days"
            f" (30 min, 4h, 1d): {text!r}"
        )
    return f"{int(m[1])}{m[2][0]}"


_TARGET = re.compile(r"\s*(\d{1,4})\s*(m|mins?|minutes?|h|hrs?|hours?|d|days?)\s*")


def target_length(target: str, hours: Hours) -> timedelta:
    """A stored target as working time: `d` is one working day's window."""
    n, unit = int(target[:-1]), target[-1]
    if unit == "m":
        return timedelta(minutes=n)
    if unit == "h":
        return timedelta(hours=n)
    return hours.day_length * n
