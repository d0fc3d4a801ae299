"""The date language of tinycrm: `tomorrow 9am`, `3d`, `next friday`, `下周一`, repeats, labels.

Importing this module loads only the standard library. `dateparser` is imported lazily in
`_dateparser_fallback` (the last resort when the hand-written grammar cannot decide) and
`dateutil` only inside the recurrence functions.

Every parsed moment is returned as an aware datetime in UTC. Date-only phrases (`tomorrow`,
`friday`, `3d`) land on `default_time` in the user's zone. Wall times that do not exist (the
spring-forward gap) or exist twice (fall-back) follow zoneinfo's `fold=0` and are normalised
through UTC, so they never raise.
"""

from __future__ import annotations

import calendar
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tinycrm.errors import InvalidInput

_MIN_YEAR, _MAX_YEAR = 1900, 2200
_EXAMPLES = "try 'tomorrow 9am', '3d', 'next friday' or 2026-12-01"
_REPEAT_EXAMPLES = (
    "try daily, weekly, 2w, 'every mon,thu', 'last friday of month', '15th of month', 每周一 "
    "or an RRULE like FREQ=WEEKLY;BYDAY=MO"
)
_LOCALTIME = "/etc/localtime"
_F = re.ASCII  # \s and \b stay ASCII; Chinese characters are matched literally

# ---------------------------------------------------------------------------- vocabulary

_WEEKDAYS = {
    "mon": 0, "monday": 0, "tue": 1, "tues": 1, "tuesday": 1, "wed": 2, "wednesday": 2,
    "thu": 3, "thur": 3, "thurs": 3, "thursday": 3, "fri": 4, "friday": 4,
    "sat": 5, "saturday": 5, "sun": 6, "sunday": 6,
}  # fmt: skip
_CN_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}  # fmt: skip
_UNITS = {
    "s": "seconds", "sec": "seconds", "secs": "seconds", "second": "seconds", "seconds": "seconds",
    "m": "minutes", "min": "minutes", "mins": "minutes", "minute": "minutes", "minutes": "minutes",
    "h": "hours", "hr": "hours", "hrs": "hours", "hour": "hours", "hours": "hours",
    "d": "days", "day": "days", "days": "days",
    "w": "weeks", "wk": "weeks", "wks": "weeks", "week": "weeks", "weeks": "weeks",
    "mo": "months", "mos": "months", "month": "months", "months": "months",
    "y": "years", "yr": "years", "yrs": "years", "year": "years", "years": "years",
}  # fmt: skip
_CN_UNITS = {"小时": "hours", "钟头": "hours", "分钟": "minutes", "天": "days", "日": "days",
             "周": "weeks", "星期": "weeks", "礼拜": "weeks", "个月": "months",
             "年": "years"}  # fmt: skip
_REL_DAYS = {
    "today": 0, "tonight": 0, "tomorrow": 1, "tmrw": 1, "tmr": 1, "yesterday": -1,
    "day after tomorrow": 2, "the day after tomorrow": 2,
    "day before yesterday": -2, "the day before yesterday": -2,
    "今天": 0, "今日": 0, "明天": 1, "明日": 1, "后天": 2, "大后天": 3,
    "昨天": -1, "昨日": -1, "前天": -2, "大前天": -3,
}  # fmt: skip
_NAMED_TIMES = {
    "noon": time(12), "midday": time(12), "midnight": time(0), "morning": time(9),
    "afternoon": time(14), "evening": time(18), "早上": time(8), "早晨": time(8),
    "上午": time(9), "中午": time(12), "下午": time(14), "傍晚": time(18), "晚上": time(18),
}  # fmt: skip
_CN_PM = {"下午": 12, "傍晚": 12, "晚上": 12, "夜里": 12, "中午": 6}  # add 12h to hours below
_END_SHORT = {"eow": "week", "eom": "month", "eoy": "year", "月底": "month", "月末": "month",
              "年底": "year"}  # fmt: skip
_ABBR = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_RRULE_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def _alt(words: Iterable[str]) -> str:
    """A regex alternation of `words`, longest first so `friday` wins over `fri`."""
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


class _Lazy:
    """A regex compiled on first use: the grammar has dozens of large patterns, and
    compiling them all at import would cost every command ~35 ms, even those that only
    format dates."""

    __slots__ = ("_source", "_flags", "_compiled")

    def __init__(self, source: str, flags: int = 0) -> None:
        self._source, self._flags = source, flags
        self._compiled: re.Pattern[str] | None = None

    @property
    def compiled(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = re.compile(self._source, self._flags)
        return self._compiled

    def match(self, text: str) -> re.Match[str] | None:
        return self.compiled.match(text)

    def fullmatch(self, text: str) -> re.Match[str] | None:
        return self.compiled.fullmatch(text)

    def search(self, text: str) -> re.Match[str] | None:
        return self.compiled.search(text)

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        return self.compiled.finditer(text)


_WD = rf"(?:{_alt(_WEEKDAYS)})(?![a-z])"
_NUM = r"(?:[0-9]+|[零〇一二两三四五六七八九十]+)"
_CN_WEEK, _CN_WD = r"(?:周|星期|礼拜)", r"[一二三四五六日天]"
_AMOUNT = rf"(?:[0-9]+\s*|(?<![a-z])an?\s+)(?:{_alt(_UNITS)})(?![a-z])"
_AMOUNTS = rf"{_AMOUNT}(?:\s*(?:,\s*|and\s+)?{_AMOUNT})*"
_PAIR = _Lazy(rf"(?:(?P<n>[0-9]+)\s*|(?<![a-z])(?P<a>an?)\s+)(?P<u>{_alt(_UNITS)})", _F)


def _normalise(text: str) -> str:
    s = " ".join(unicodedata.normalize("NFKC", text).lower().split())
    return s.replace("今晚", "今天晚上").replace("明晚", "明天晚上")


def _to_int(s: str) -> int:
    """ASCII digits, `a`/`an`, or a small Chinese numeral (三, 十五, 二十, 两, 二〇)."""
    if len(s) > 9:
        raise OverflowError(f"number {s[:12]}... is too large")
    if s.isascii():
        return 1 if s in ("a", "an") else int(s)
    if any(c not in _CN_DIGITS and c != "十" for c in s) or s.count("十") > 1:
        raise ValueError(f"not a number: {s!r}")
    head, ten, tail = s.partition("十")
    if not ten:
        return int("".join(str(_CN_DIGITS[c]) for c in s))
    return (_to_int(head) if head else 1) * 10 + (_to_int(tail) if tail else 0)


def _q(text: str) -> str:
    """Quote user text for a one-line message, shortened when huge."""
    return repr(text if len(text) <= 40 else text[:37] + "...")


# ---------------------------------------------------------------------------- time zones


def local_zone() -> tzinfo:
    """The user's zone: TINYCRM_TZ (must be an IANA name), else TZ if it is an IANA name, else
    the system zone (named by the /etc/localtime symlink, else read from that file), else the
    current fixed UTC offset (Windows has no /etc/localtime), else UTC."""
    name = os.environ.get("TINYCRM_TZ", "").strip()
    if name:
        if (zone := _zone(name)) is None:
            raise InvalidInput(f"unknown time zone TINYCRM_TZ={name!r}: try Europe/Berlin")
        return zone
    tz_env = os.environ.get("TZ", "").strip().removeprefix(":")
    if tz_env and (zone := _zone(_zone_key(tz_env))):
        return zone
    try:
        if zone := _zone(_zone_key(os.readlink(_LOCALTIME))):
            return zone
    except OSError:
        pass  # not a symlink, or missing
    try:
        with open(_LOCALTIME, "rb") as fh:
            return ZoneInfo.from_file(fh, key="localtime")
    except (OSError, ValueError):
        return datetime.now().astimezone().tzinfo or UTC


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def _zone_key(path: str) -> str:
    """`../usr/share/zoneinfo/posix/Europe/Berlin` -> `Europe/Berlin`; other text unchanged."""
    key = path.rpartition("zoneinfo/")[2]
    return key.removeprefix("posix/").removeprefix("right/")


def _aware(wall: datetime, tz: tzinfo) -> datetime:
    """Local wall time -> UTC; gaps and folds resolve with fold=0 instead of raising."""
    return wall.replace(tzinfo=tz).astimezone(UTC)


def _wall(moment: datetime, tz: tzinfo) -> datetime:
    return moment.astimezone(tz).replace(tzinfo=None)


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value!r}")


# ---------------------------------------------------------------------------- day phrases


@dataclass(frozen=True)
class _Ctx:
    now: datetime  # aware, expressed in tz
    tz: tzinfo
    past: bool
    date_only: bool = False  # parse_date: clock times don't move the day

    @property
    def today(self) -> date:
        return self.now.date()


@dataclass(frozen=True)
class _Day:
    """A calendar day; its time comes from a clock phrase, `default`, or `default_time`."""

    day: date
    default: time | None = None
    evening: bool = False  # "tonight 8" means 20:00


@dataclass(frozen=True)
class _Clock:
    at: time
    meridiem: bool  # am/pm (or a Chinese period) was given


_Hit = _Day | datetime  # a datetime is an exact, aware moment
_Handler = Callable[[re.Match[str], _Ctx], _Hit]


def _next_wd(today: date, wd: int) -> date:
    return today + timedelta(days=(wd - today.weekday() - 1) % 7 + 1)


def _prev_wd(today: date, wd: int) -> date:
    return today - timedelta(days=(today.weekday() - wd - 1) % 7 + 1)


def _this_wd(today: date, wd: int) -> date:
    return today + timedelta(days=wd - today.weekday())


def _add_months(d: date, n: int) -> date:
    year, month0 = divmod(d.month - 1 + n, 12)
    year += d.year
    last = calendar.monthrange(year, month0 + 1)[1] if 1 <= year <= 9999 else 28
    return date(year, month0 + 1, min(d.day, last))


def _h_rel(m: re.Match[str], ctx: _Ctx) -> _Hit:
    day = ctx.today + timedelta(days=_REL_DAYS[m["w"]])
    return _Day(day, time(18), evening=True) if m["w"] == "tonight" else _Day(day)


def _h_weekday(m: re.Match[str], ctx: _Ctx) -> _Hit:
    """`friday` and `next friday` both mean the next one strictly after today (GNU date style:
    on a Friday, a week ahead); `this friday` is this Monday-based week's, may be today or past;
    `last friday`, and a bare weekday when past=True, the latest one strictly before today."""
    wd, mod = _WEEKDAYS[m["wd"]], m["mod"]
    if mod == "this":
        return _Day(_this_wd(ctx.today, wd))
    if mod in ("last", "past") or (mod is None and ctx.past):
        return _Day(_prev_wd(ctx.today, wd))
    return _Day(_next_wd(ctx.today, wd))


def _h_cn_weekday(m: re.Match[str], ctx: _Ctx) -> _Hit:
    """下周五: Friday of next week; 这周五/本周五: this week's; bare 周五: this week's unless
    already past, then next week's (past=True: unless still ahead, then last week's)."""
    this = _this_wd(ctx.today, _CN_WEEKDAYS[m["wd"]])
    shift = {"下下": 14, "下": 7, "上": -7, "这": 0, "本": 0}.get(m["mod"] or "")
    if shift is None:
        shift = (-7 if this > ctx.today else 0) if ctx.past else (7 if this < ctx.today else 0)
    return _Day(this + timedelta(days=shift))


def _h_period(m: re.Match[str], ctx: _Ctx) -> _Hit:
    """next/last week -> its Monday, month -> its 1st, year -> January 1st; also 下周, 下个月."""
    step = 1 if m["dir"] in ("next", "下") else -1
    if m["unit"] in ("week", "周", "星期", "礼拜"):
        return _Day(_this_wd(ctx.today, 0) + timedelta(weeks=step))
    if m["unit"] in ("month", "月"):
        return _Day(_add_months(ctx.today.replace(day=1), step))
    return _Day(date(ctx.today.year + step, 1, 1))


def _h_end(m: re.Match[str], ctx: _Ctx) -> _Hit:
    """End of week is Friday (the coming one on a weekend); of month/year, the last day."""
    unit, today = m["unit"] or _END_SHORT[m["short"]], ctx.today
    if unit == "week":
        friday = _this_wd(today, 4)
        return _Day(friday if friday >= today or ctx.past else friday + timedelta(weeks=1))
    if unit == "month":
        return _Day(today.replace(day=calendar.monthrange(today.year, today.month)[1]))
    return _Day(date(today.year, 12, 31))


def _h_cn_md(m: re.Match[str], ctx: _Ctx) -> _Hit:
    """12月5日: with a year as written, else this year's, or the next/previous one per `past`."""
    month, day = _to_int(m["m"]), _to_int(m["d"])
    if m["y"]:
        return _Day(date(int(m["y"]), month, day))
    found = date(ctx.today.year, month, day)
    if not ctx.past and found < ctx.today:
        found = date(found.year + 1, month, day)
    elif ctx.past and found > ctx.today:
        found = date(found.year - 1, month, day)
    return _Day(found)


def _h_offset(m: re.Match[str], ctx: _Ctx) -> _Hit:
    pre, post = (m["pre"] or "").strip(), (m["post"] or "").strip()
    if pre and post:
        raise ValueError(f"{pre!r} and {post!r} contradict each other")
    amounts: dict[str, int] = {}
    for pair in _PAIR.finditer(m["body"]):
        unit = _UNITS[pair["u"]]
        amounts[unit] = amounts.get(unit, 0) + _to_int(pair["n"] or pair["a"])
    return _offset(amounts, -1 if pre == "-" or post == "ago" else 1, ctx)


def _h_cn_offset(m: re.Match[str], ctx: _Ctx) -> _Hit:
    unit = _CN_UNITS[m["u"] if m["u"] == "个月" else m["u"].removeprefix("个")]
    if m["n"] == "半" and unit != "hours":
        raise ValueError(f"half of {m['u']!r} isn't supported")
    amounts = {"minutes": 30} if m["n"] == "半" else {unit: _to_int(m["n"])}
    return _offset(amounts, -1 if m["dir"] == "前" else 1, ctx)


def _offset(amounts: dict[str, int], sign: int, ctx: _Ctx) -> _Hit:
    """Day/week/month/year offsets are date-only; any hour/minute/second makes it exact."""
    months = sign * (amounts.get("months", 0) + 12 * amounts.get("years", 0))
    days = timedelta(days=sign * (amounts.get("days", 0) + 7 * amounts.get("weeks", 0)))
    if not {"hours", "minutes", "seconds"} & amounts.keys():
        return _Day(_add_months(ctx.today, months) + days)
    exact = timedelta(**{k: v for k, v in amounts.items() if k in ("hours", "minutes", "seconds")})
    wall = ctx.now.replace(tzinfo=None)
    base = _aware(datetime.combine(_add_months(wall.date(), months), wall.time()), ctx.tz)
    return (base + days + sign * exact).astimezone(ctx.tz)


_DAYS: list[tuple[_Lazy, _Handler]] = [(_Lazy(p, _F), h) for p, h in [
    (rf"(?P<w>{_alt(_REL_DAYS)})(?![a-z])", _h_rel),
    (rf"(?:on\s+)?(?:(?P<mod>next|this|last|past|coming)\s+)?(?P<wd>{_WD})", _h_weekday),
    (rf"(?P<mod>下下|下|上|这|本)?(?:个)?{_CN_WEEK}(?P<wd>{_CN_WD})", _h_cn_weekday),
    (r"(?P<dir>next|last)\s+(?P<unit>week|month|year)(?![a-z])", _h_period),
    (rf"(?P<dir>下|上)(?:个)?(?P<unit>月|周|星期|礼拜)(?!{_CN_WD})", _h_period),
    (r"(?:end\s+of\s+(?:the\s+)?(?P<unit>week|month|year)|(?P<short>eow|eom|eoy|月底|月末|年底))"
     r"(?![a-z])", _h_end),
    (r"(?P<y>[0-9]{4})(?P<sep>[-/.])(?P<m>[0-9]{1,2})(?P=sep)(?P<d>[0-9]{1,2})(?![0-9])",
     lambda m, ctx: _Day(date(int(m["y"]), int(m["m"]), int(m["d"])))),
    (rf"(?:(?P<y>[0-9]{{4}})\s*年\s*)?(?P<m>{_NUM})\s*月\s*(?P<d>{_NUM})\s*[日号]", _h_cn_md),
    (rf"(?P<pre>in\s+|\+\s*|-\s*)?(?P<body>{_AMOUNTS})"
     r"(?P<post>\s+ago|\s+from\s+now|\s+later)?(?![a-z])", _h_offset),
    (rf"(?P<n>{_NUM}|半)\s*(?P<u>个?小时|个?钟头|分钟|天|日|个?星期|个?礼拜|周|个月|年)"
     r"\s*(?:之|以)?(?P<dir>后|前)", _h_cn_offset),
]]  # fmt: skip

_ISO = _Lazy(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})[t ]"
    r"(?P<time>[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]+)?)?)"
    r"\s*(?P<zone>z|[+-][0-9]{2}(?::?[0-9]{2})?)?",
    _F,
)
_NOW = _Lazy(r"now|right now|现在|此刻", _F)
_AMBIGUOUS = _Lazy(r"[0-9]{1,2}[/.\-][0-9]{1,2}(?:[/.\-][0-9]{2,4})?(?![0-9])", _F)
_EN_CLOCK = _Lazy(
    r"(?P<h>[0-9]{1,2})(?::(?P<m>[0-9]{2})(?::(?P<s>[0-9]{2}))?)?\s*(?P<ampm>[ap]\.?m\.?)?", _F
)
_CN_CLOCK = _Lazy(
    r"(?P<p>早上|早晨|上午|中午|下午|傍晚|晚上|夜里|凌晨)?\s*"
    rf"(?:(?P<h>{_NUM})\s*[点點时時]\s*(?:钟\s*)?(?:(?P<half>半)|(?P<q>一刻|三刻)|(?P<m>{_NUM})\s*分?)?"
    r"|(?P<hh>[0-9]{1,2}):(?P<mm>[0-9]{2}))",
    _F,
)


def _parse_clock(text: str, *, bare_hour: bool) -> _Clock | None:
    """`9am`, `14:30`, `9:15 p.m.`, `noon`, `下午3点半`; a bare `9` only if `bare_hour`.
    Something shaped like a time that isn't one (25:00, 13pm) raises ValueError: no other
    reading of the text could be meant."""
    s = text.strip()
    if s.startswith(("at ", "@")):
        s, bare_hour = s.removeprefix("at ").removeprefix("@").strip(), True
    if s in _NAMED_TIMES:
        return _Clock(_NAMED_TIMES[s], True)
    if m := _EN_CLOCK.fullmatch(s):
        hour, minute, second = int(m["h"]), int(m["m"] or 0), int(m["s"] or 0)
        if m["ampm"] and not 1 <= hour <= 12:
            raise ValueError(f"no such time {s!r}")
        if m["ampm"]:
            hour = hour % 12 + (12 if m["ampm"].startswith("p") else 0)
        elif m["m"] is None and not bare_hour:
            return None
        return _Clock(time(hour, minute, second), m["ampm"] is not None)
    if m := _CN_CLOCK.fullmatch(s):
        if m["hh"]:
            hour, minute = int(m["hh"]), int(m["mm"])
        else:
            hour = _to_int(m["h"])
            minute = 30 if m["half"] else {"一刻": 15, "三刻": 45}.get(m["q"] or "", 0)
            minute = _to_int(m["m"]) if m["m"] else minute
        period = m["p"] or ""
        if hour < _CN_PM.get(period, 0):
            hour += 12
        elif period == "凌晨" and hour == 12:
            hour = 0
        return _Clock(time(hour, minute), bool(period))
    return None


# ---------------------------------------------------------------------------- the parser

_Parsed = tuple[_Hit, _Clock | None]


def _parse(s: str, ctx: _Ctx) -> _Parsed | None:
    """The hand-written grammar, tried in order; None when it cannot decide."""
    if _NOW.fullmatch(s):
        return ctx.now, None
    if m := _ISO.fullmatch(s):
        zone = (m["zone"] or "").upper()
        moment = datetime.fromisoformat(f"{m['date']}T{m['time'].replace(',', '.')}{zone}")
        return (moment if moment.tzinfo else moment.replace(tzinfo=ctx.tz)), None
    return _day_then_time(s, ctx) or _time_then_day(s, ctx) or _bare_time(s, ctx)


def _day_then_time(s: str, ctx: _Ctx) -> _Parsed | None:
    """A day phrase, then nothing or a clock phrase: `tomorrow`, `fri at 3pm`, `明天下午3点`."""
    for pattern, handler in _DAYS:
        if (m := pattern.match(s)) is None:
            continue
        hit, rest = handler(m, ctx), s[m.end() :].strip()
        if not rest:
            return hit, None
        if isinstance(hit, _Day) and (clock := _parse_clock(rest, bare_hour=True)):
            return hit, clock
    return None


def _time_then_day(s: str, ctx: _Ctx) -> _Parsed | None:
    """A clock phrase, then a day phrase: `9am tomorrow`, `at 5pm on friday`."""
    for space in re.finditer(" ", s):
        if (clock := _parse_clock(s[: space.start()], bare_hour=False)) is None:
            continue
        rest = s[space.end() :].removeprefix("on ")
        for pattern, handler in _DAYS:
            if (m := pattern.fullmatch(rest)) and isinstance(hit := handler(m, ctx), _Day):
                return hit, clock
    return None


def _bare_time(s: str, ctx: _Ctx) -> _Parsed | None:
    """`9am`: today, or tomorrow when already past (yesterday if still ahead and past=True)."""
    if (clock := _parse_clock(s, bare_hour=False)) is None:
        return None
    day = ctx.today
    if not ctx.date_only:
        moment = _aware(datetime.combine(day, clock.at), ctx.tz)
        if not ctx.past and moment < ctx.now:
            day += timedelta(days=1)
        elif ctx.past and moment > ctx.now:
            day -= timedelta(days=1)
    return _Day(day), clock


def _dateparser_fallback(s: str, ctx: _Ctx) -> _Hit | None:
    """Last resort (`december 5th`, `5 dec 2026 3pm`): dateparser, English and Chinese only."""
    try:
        from dateparser.date import DateDataParser
    except ImportError:
        return None
    settings = {
        "PREFER_DATES_FROM": "past" if ctx.past else "future",
        "RELATIVE_BASE": ctx.now.replace(tzinfo=None),
        "RETURN_AS_TIMEZONE_AWARE": True,
        "TIMEZONE": getattr(ctx.tz, "key", None) or ctx.now.strftime("%z") or "UTC",
        "RETURN_TIME_AS_PERIOD": True,  # tells a date-only answer ("day") from one with a time
    }
    try:
        data = DateDataParser(languages=["en", "zh"], settings=settings).get_date_data(s)
    except Exception:  # dateparser has many failure modes; each one means "can't read"
        return None
    found: datetime | None = data.date_obj
    if found is None or found.tzinfo is None:
        return None
    return found if data.period == "time" else _Day(found.astimezone(ctx.tz).date())


def _parse_or_raise(text: str, ctx: _Ctx) -> _Parsed:
    s = _normalise(text)
    if not s:
        raise InvalidInput(f"empty date {_q(text)}: {_EXAMPLES}")
    if _AMBIGUOUS.match(s):
        raise InvalidInput(f"ambiguous date {_q(text)}: write it as YYYY-MM-DD, e.g. 2026-12-01")
    found = _parse(s, ctx)
    if found is None and not s.isdigit() and (hit := _dateparser_fallback(s, ctx)) is not None:
        found = hit, None
    if found is None:
        raise InvalidInput(f"can't read date {_q(text)}: {_EXAMPLES}")
    return found


@contextmanager
def _as_invalid(text: str) -> Iterator[None]:
    """Calendar arithmetic errors (day 30 of February, year 10000...) become InvalidInput."""
    try:
        yield
    except OverflowError as exc:
        raise InvalidInput(f"date {_q(text)} is out of range ({_MIN_YEAR}-{_MAX_YEAR})") from exc
    except ValueError as exc:
        raise InvalidInput(f"can't read date {_q(text)}: {exc}") from exc


def _in_range(year: int) -> None:
    if not _MIN_YEAR <= year <= _MAX_YEAR:
        raise OverflowError(year)


def parse_when(
    text: str, *, now: datetime, tz: tzinfo, default_time: time = time(9, 0), past: bool = False
) -> datetime:
    """Read a moment typed by the user; returns an aware datetime in UTC.

    Understands ISO dates/times (an explicit `Z`/offset is respected), now/today/tonight/
    tomorrow/yesterday (+ a time), bare times, offsets (`3d`, `in 2 hours`, `3d ago`, `-3d`),
    weekdays (`friday` and `next friday` both mean the next Friday strictly after today, like GNU
    date; `this friday` is this week's; `last friday` the latest before today), next week/month,
    end of week/month, and Chinese (明天下午3点, 下周一, 周五, 三天后, 半小时后). Day, week and
    month offsets and other date-only phrases land on `default_time` in `tz`; hour and minute
    offsets are exact. With past=True bare weekdays and times resolve backwards. Anything else
    goes to dateparser; when that fails too, InvalidInput.
    """
    _require_aware(now, "now")
    ctx = _Ctx(now=now.astimezone(tz), tz=tz, past=past)
    with _as_invalid(text):
        hit, clock = _parse_or_raise(text, ctx)
        if isinstance(hit, datetime):
            result = hit.astimezone(UTC)
        else:
            at = clock.at if clock else hit.default or default_time
            if clock and hit.evening and not clock.meridiem and at.hour < 12:
                at = at.replace(hour=at.hour + 12)
            result = _aware(datetime.combine(hit.day, at), tz)
        _in_range(result.year)
    return result


_CN_LATER = (
    rf"(?:{_NUM}|半)\s*(?:个?小时|个?钟头|分钟|天|日|个?星期|个?礼拜|周|个月|年)\s*(?:之|以)?后"
)
_EN_LATER = rf"(?:in\s+|\+\s*)?{_AMOUNTS}(?:\s+from\s+now|\s+later)?"


def is_forward_offset(text: str) -> bool:
    """Whether `text` is a length of time ahead (`2d`, `in 3 hours`, `1w 2d`, `3天后`)
    rather than a moment: what a snooze counts from the reminder's due time."""
    s = _normalise(text)
    return bool(re.fullmatch(_EN_LATER, s, _F) or re.fullmatch(_CN_LATER, s, _F))


def parse_date(text: str, *, today: date, past: bool = False) -> date:
    """The date part of the `parse_when` language. Clock times don't move the day (`9am` is
    today), hour offsets count from noon, and an ISO datetime with an offset keeps its date."""
    ctx = _Ctx(now=datetime.combine(today, time(12), tzinfo=UTC), tz=UTC, past=past, date_only=True)
    with _as_invalid(text):
        hit, _clock = _parse_or_raise(text, ctx)
        day = hit.date() if isinstance(hit, datetime) else hit.day
        _in_range(day.year)
    return day


def parse_duration(text: str) -> timedelta:
    """`3d`, `2w`, `4h`, `30m`, `90s`, `1d12h`, `2 hours 30 minutes`; months aren't fixed."""
    s = _normalise(text)
    if not re.fullmatch(_AMOUNTS, s, _F):
        raise InvalidInput(f"can't read duration {_q(text)}: try 3d, 2w, 4h, 30m, 90s or 1d12h")
    total = timedelta()
    for pair in _PAIR.finditer(s):
        unit = _UNITS[pair["u"]]
        if unit in ("months", "years"):
            raise InvalidInput(f"duration {_q(text)} uses {unit}, which have no fixed length")
        try:
            total += timedelta(**{unit: _to_int(pair["n"] or pair["a"])})
        except (OverflowError, ValueError) as exc:
            raise InvalidInput(f"duration {_q(text)} is too long") from exc
    return total


def span(seconds: float) -> str:
    """A length of time for people, one way everywhere: `now` (under a minute), `45 min`,
    `5h`, `3d`. A minute is never `m`, which could be read as a month."""
    whole = int(seconds)
    if whole >= 86400:
        return f"{whole // 86400}d"
    if whole >= 3600:
        return f"{whole // 3600}h"
    if whole >= 60:
        return f"{whole // 60} min"
    return "now"


def format_relative(when: datetime, *, now: datetime, tz: tzinfo) -> str:
    """`today 14:00`, `tomorrow 09:00`, `Fri 09:00` (2-6 days ahead), `2026-12-01`, or for the
    past `2h overdue` / `5 min overdue` (`span`; `now` under a minute), and from a day on
    `3d overdue` in calendar days in `tz`, as the digest and `next --explain` count them."""
    if when < now:
        seconds = int((now - when).total_seconds())
        if seconds >= 86400:
            return f"{(now.astimezone(tz).date() - when.astimezone(tz).date()).days}d overdue"
        return "now" if seconds < 60 else f"{span(seconds)} overdue"
    local = when.astimezone(tz)
    days = (local.date() - now.astimezone(tz).date()).days
    if days > 6:
        return local.date().isoformat()
    label = {0: "today", 1: "tomorrow"}.get(days) or _ABBR[local.weekday()]
    return f"{label} {local:%H:%M}"


# ---------------------------------------------------------------------------- recurrence


@dataclass(frozen=True)
class Recurrence:
    """A repeat: an RFC 5545 RRULE body, whether it counts from completion, the typed text."""

    rrule: str
    from_done: bool = False
    text: str = ""


_SIMPLE_REPEATS = {
    "FREQ=DAILY": ("daily", "every day", "each day", "每天", "每日", "天天"),
    "FREQ=WEEKLY": ("weekly", "every week", "each week", "每周", "每星期", "每个星期", "每礼拜"),
    "FREQ=WEEKLY;INTERVAL=2": ("fortnightly", "biweekly", "every other week"),
    "FREQ=MONTHLY": ("monthly", "every month", "each month", "每月", "每个月"),
    "FREQ=YEARLY": ("yearly", "annually", "every year", "each year", "每年"),
    "FREQ=HOURLY": ("hourly", "every hour", "每小时"),
    "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR": ("weekdays", "every weekday", "工作日", "每个工作日"),
}
_SIMPLE = {word: rule for rule, words in _SIMPLE_REPEATS.items() for word in words}
_FREQS = {"d": "DAILY", "w": "WEEKLY", "m": "MONTHLY", "y": "YEARLY", "天": "DAILY", "日": "DAILY",
          "周": "WEEKLY", "星": "WEEKLY", "礼": "WEEKLY", "个": "MONTHLY",
          "年": "YEARLY"}  # fmt: skip
_ORDINALS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4,
             "4th": 4, "last": -1}  # fmt: skip
_OF_MONTH = r"\s+of\s+(?:the\s+|each\s+|every\s+)?month"
_FROM_DONE = _Lazy(r"\s*(?:\bfrom\s+(?:done|completion)|完成后)$", _F)


def _every(freq: str, n: int) -> str | None:
    return None if n < 1 else f"FREQ={freq}" + (f";INTERVAL={n}" if n > 1 else "")


def _month_end(day: int) -> str:
    """BYMONTHDAY for day 29-31 that clamps to a short month's last day instead of skipping it."""
    return f"BYMONTHDAY={','.join(map(str, range(28, day + 1)))};BYSETPOS=-1"


def _monthday(day: int) -> str | None:
    if not 1 <= day <= 31:
        return None
    return f"FREQ=MONTHLY;BYMONTHDAY={day}" if day <= 28 else f"FREQ=MONTHLY;{_month_end(day)}"


def _byday(days: Iterable[int]) -> str:
    return "FREQ=WEEKLY;BYDAY=" + ",".join(_RRULE_DAYS[d] for d in sorted(set(days)))


def _nth(n: int, wd: int) -> str | None:
    return f"FREQ=MONTHLY;BYDAY={n}{_RRULE_DAYS[wd]}" if n == -1 or 1 <= n <= 4 else None


_REPEATS: list[tuple[_Lazy, Callable[[re.Match[str]], str | None]]] = [
    (_Lazy(p, _F), h) for p, h in [
    (r"(?:every\s+)?(?P<n>[0-9]+)\s*(?P<u>d|w|mo?|y|days?|weeks?|months?|years?)",
     lambda m: _every(_FREQS[m["u"][0]], int(m["n"]))),
    (r"every\s+other\s+(?P<u>day|month|year)", lambda m: _every(_FREQS[m["u"][0]], 2)),
    (rf"every\s+(?P<days>{_WD}(?:(?:\s*[,&/]\s*|\s+and\s+|\s+){_WD})*)",
     lambda m: _byday(_WEEKDAYS[w] for w in re.findall(_WD, m["days"], _F))),
    (rf"(?:every\s+|the\s+)?(?P<nth>{_alt(_ORDINALS)})\s+(?P<wd>{_WD}){_OF_MONTH}",
     lambda m: _nth(_ORDINALS[m["nth"]], _WEEKDAYS[m["wd"]])),
    (rf"(?:every\s+|the\s+)?(?P<d>[0-9]{{1,2}})(?:st|nd|rd|th)?(?:\s+day)?{_OF_MONTH}",
     lambda m: _monthday(int(m["d"]))),
    (rf"(?:the\s+)?last\s+day{_OF_MONTH}|每个?月(?:最后一天|底|末)",
     lambda m: "FREQ=MONTHLY;BYMONTHDAY=-1"),
    (rf"每(?P<n>{_NUM})\s*(?P<u>个月|天|日|周|星期|礼拜|年)",
     lambda m: _every(_FREQS[m["u"][0]], _to_int(m["n"]))),
    (rf"每个?{_CN_WEEK}(?P<days>{_CN_WD}(?:[、,和及与\s]*{_CN_WD})*)",
     lambda m: _byday(_CN_WEEKDAYS[c] for c in m["days"] if c in _CN_WEEKDAYS)),
    (rf"每个?月的?(?:第(?P<n>{_NUM})个|(?P<last>最后一个)){_CN_WEEK}(?P<wd>{_CN_WD})",
     lambda m: _nth(-1 if m["last"] else _to_int(m["n"]), _CN_WEEKDAYS[m["wd"]])),
    (rf"每个?月(?P<d>{_NUM})\s*[号日]", lambda m: _monthday(_to_int(m["d"]))),
]]  # fmt: skip
_RRULE_REF = datetime(2000, 1, 1)


def parse_recurrence(text: str) -> Recurrence:
    """Read a repeat: daily/weekly/monthly/yearly/weekdays, `2d`/`2w`/`3m` (m = months here),
    `every mon,thu`, `every 2 weeks`, `last friday of month`, `15th of month`, 每天/每周一/每月,
    or a raw RRULE (`FREQ=...`, optionally `RRULE:`-prefixed). A trailing `from done` sets
    `from_done`. Raw rules may not use COUNT/UNTIL (reminders repeat until stopped) nor repeat
    more often than hourly."""
    s = _normalise(text)
    if done := _FROM_DONE.search(s):
        s = s[: done.start()]
    rule = _raw_rrule(s, text) if "=" in s else _SIMPLE.get(s)
    for pattern, handler in _REPEATS:
        if rule is None and (m := pattern.fullmatch(s)):
            rule = handler(m)
    if rule is None:
        raise InvalidInput(f"can't read repeat {_q(text)}: {_REPEAT_EXAMPLES}")
    return Recurrence(rrule=rule, from_done=bool(done), text=s + (" from done" if done else ""))


def _raw_rrule(s: str, text: str) -> str:
    from dateutil.rrule import rrule, rrulestr

    body = re.sub(r"\s+", "", s).upper().removeprefix("RRULE:")
    parts = {key: value for key, _, value in (part.partition("=") for part in body.split(";"))}
    interval = parts.get("INTERVAL", "1")
    problem = None
    if ":" in body or "FREQ" not in parts:
        problem = "write one rule like FREQ=WEEKLY;BYDAY=MO"
    elif {"COUNT", "UNTIL"} & parts.keys():
        problem = "COUNT/UNTIL aren't supported, repeats run until stopped"
    elif parts["FREQ"] in ("MINUTELY", "SECONDLY"):
        problem = "repeating more often than hourly isn't supported"
    elif not interval.isdigit() or int(interval) < 1:
        problem = "INTERVAL must be a whole number of 1 or more"
    else:
        try:
            parsed = rrulestr(body, dtstart=_RRULE_REF)
            if not isinstance(parsed, rrule):
                raise ValueError("write one rule like FREQ=WEEKLY;BYDAY=MO")
            horizon = parsed.replace(until=_RRULE_REF + timedelta(days=366 * 40))
            if horizon.after(_RRULE_REF, inc=True) is None:
                problem = "it never occurs"
        except (ValueError, TypeError, LookupError, OverflowError) as exc:
            problem = str(exc)
    if problem is not None:
        raise InvalidInput(f"bad RRULE {_q(text)}: {problem}")
    return body


def _clamped(body: str, start: datetime) -> str:
    """Plain monthly/yearly series anchored on a day some months lack keep to the month's end."""
    parts = body.split(";")
    if any(part.startswith("BY") for part in parts):
        return body
    if "FREQ=MONTHLY" in parts and start.day >= 29:
        return f"{body};{_month_end(start.day)}"
    if "FREQ=YEARLY" in parts and (start.month, start.day) == (2, 29):
        return f"{body};BYMONTH=2;BYMONTHDAY=28,29;BYSETPOS=-1"
    return body


def next_occurrence(rec: Recurrence, *, after: datetime, anchor: datetime, tz: tzinfo) -> datetime:
    """The first due time of `rec` strictly after `after`, as an aware UTC datetime.

    The series starts at `anchor` and runs in wall time of `tz`, so "daily at 09:00" stays at
    09:00 local across DST (a wall time inside a DST gap lands just after it). `monthly`
    anchored on the 29th-31st clamps to shorter months' last day; yearly on Feb 29 to Feb 28.
    With `rec.from_done` the series restarts on `after`'s local day at the anchor's time of day
    (hourly rules restart at `after`) and the first due time past that restart is returned.
    """
    from dateutil.rrule import rrulestr

    _require_aware(after, "after")
    _require_aware(anchor, "anchor")
    start, floor = _wall(anchor, tz).replace(microsecond=0), after.astimezone(UTC)
    if rec.from_done:
        done = _wall(after, tz).replace(microsecond=0)
        start = done if "FREQ=HOURLY" in rec.rrule else datetime.combine(done.date(), start.time())
        floor = max(floor, _aware(start, tz))
    rule = rrulestr(_clamped(rec.rrule, start), dtstart=start)
    for candidate in rule.xafter(_wall(floor, tz) - timedelta(hours=3)):  # 3h: DST slack
        if (moment := _aware(candidate, tz)) > floor:
            return moment
    raise InvalidInput(f"repeat {rec.text or rec.rrule!r} has no due time after {after:%Y-%m-%d}")
