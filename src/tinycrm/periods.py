"""Calendar periods (months, quarters, years) for forecasts and goals: pure, stdlib only.

A period is a run of whole calendar days, `first`..`last` both included; which instants it
holds depends on the reader's time zone (from local midnight of `first` to local midnight
after `last`), which the services apply. Periods are named `2026-12` (a month), `2026-Q4`
(a quarter) and `2026` (a year), and read back from those names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from tinycrm.errors import InvalidInput

KINDS = ("month", "quarter", "year")
_MONTHS = 12
_NAME = re.compile(
    r"^\s*(?P<year>\d{4})(?:-(?:(?P<month>\d{1,2})(?:-(?P<day>\d{1,2}))?|[qQ](?P<quarter>[1-4])))?\s*$"
)


@dataclass(frozen=True, order=True)
class Period:
    """One month, quarter or year: `first`..`last`, both included."""

    first: date
    last: date
    kind: str  # month | quarter | year

    @property
    def name(self) -> str:
        """`2026-12`, `2026-Q4` or `2026`: what `--from` reads back."""
        if self.kind == "month":
            return f"{self.first:%Y-%m}"
        if self.kind == "quarter":
            return f"{self.first.year}-Q{(self.first.month - 1) // 3 + 1}"
        return str(self.first.year)

    @property
    def label(self) -> str:
        """For people: `December 2026`, `Q4 2026`, `2026`."""
        if self.kind == "month":
            return f"{self.first:%B %Y}"
        if self.kind == "quarter":
            return f"Q{(self.first.month - 1) // 3 + 1} {self.first.year}"
        return str(self.first.year)

    @property
    def short(self) -> str:
        """For a sentence about now: `December`, `Q4`, `2026`."""
        if self.kind == "month":
            return f"{self.first:%B}"
        if self.kind == "quarter":
            return f"Q{(self.first.month - 1) // 3 + 1}"
        return str(self.first.year)

    def next(self) -> Period:
        """The period right after this one."""
        return containing(self.last + timedelta(days=1), self.kind)

    def days(self) -> list[date]:
        """Every day of the period, in order."""
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]


def check_kind(kind: str, option: str = "--per") -> str:
    """`month`, `quarter` or `year` (any case); InvalidInput naming `option` otherwise."""
    k = kind.strip().lower()
    if k not in KINDS:
        raise InvalidInput(f"{option} must be one of {', '.join(KINDS)}: {kind!r}")
    return k


def _add_months(day: date, months: int) -> date:
    """The first of the month `months` after `day`'s month."""
    n = day.year * _MONTHS + day.month - 1 + months
    return date(n // _MONTHS, n % _MONTHS + 1, 1)


def containing(day: date, kind: str) -> Period:
    """The month, quarter or year that holds `day`."""
    if kind == "month":
        first = day.replace(day=1)
        length = 1
    elif kind == "quarter":
        first = date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
        length = 3
    elif kind == "year":
        first = date(day.year, 1, 1)
        length = 12
    else:
        raise InvalidInput(f"a period is a month, quarter or year: {kind!r}")
    return Period(first, _add_months(first, length) - timedelta(days=1), kind)


def parse(text: str, kind: str, option: str = "--from") -> Period:
    """A period as typed: `2026-12`, `2026-Q4`, `2026` or a day `2026-12-15`, read as the
    `kind` of period that holds its first day (`--per quarter --from 2026-11` is Q4 2026)."""
    m = _NAME.match(text)
    first: date | None = None
    if m is not None:
        try:
            year = int(m["year"])
            if m["quarter"]:
                first = date(year, (int(m["quarter"]) - 1) * 3 + 1, 1)
            else:
                first = date(year, int(m["month"] or 1), int(m["day"] or 1))
        except ValueError:
            first = None
    if first is None:
        raise InvalidInput(
            f"{option} must be a month (2026-12), a quarter (2026-Q4), a year (2026)"
            f" or a day: {text!r}"
        )
    return containing(first, kind)


def ahead(today: date, kind: str, months: int) -> list[Period]:
    """The period of `kind` that holds `today` and those after it that start within
    `months` months of its first day: by month with 3, this month and the next two; by
    quarter with 12, this quarter and the next three."""
    out = [containing(today, kind)]
    horizon = _add_months(out[0].first, months)
    while True:
        nxt = out[-1].next()
        if nxt.first >= horizon:
            return out
        out.append(nxt)
