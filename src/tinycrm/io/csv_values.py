"""Dates and amounts as shops and spreadsheets write them, read the same way over a file.

Each is worked out from every distinct value in the file before any row is read, because
one value can't tell: `03/04/2026` is April in Berlin and March in Boston, and `1.500` is
fifteen hundred in Berlin and one and a half in Boston.

Dates: `2026-01-31` (also `2026/01/31`, and with a time after it), `31.01.2026` (always day
first), and `31/01/2026` or `01/31/2026` (also with `-`): day first if some date in the file
has a first number above 12, month first if some has a second number above 12. A file with
both kinds, or with neither where it matters, is refused: pass a format.

Amounts: the decimal mark is `,` when some amount shows it (`12,5`, `1.234,50`) and `.` when
some amount shows that (`12.50`, `1,234.50`); a file showing both is refused. `1.500` (one
separator, three digits after it) shows neither: when no amount shows a mark, separators are
thousands separators. A currency mark or code around an amount (`€12`, `12,50 EUR`, `5 kr`)
is the row's currency, read as `money.parse_money` reads one: a shared mark (`¥`, `kr`) must
be told apart by the currency column or the store's currency. Amounts become integer cents
through `Decimal`, never float; more than two (non-zero) decimals are refused. Zero is an
order (a free sample, a full discount); a negative amount (`-12`, `(12.00)`, `12.00-`) is a
refund, kept as negative cents (docs/value.md).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal

from tinycrm.errors import InvalidInput
from tinycrm.money import MAX_CENTS, is_mark, mark_patterns
from tinycrm.services.imports.bulk import quoted

DATE_FORMATS = (
    "yyyy-mm-dd",
    "yyyy/mm/dd",
    "dd.mm.yyyy",
    "dd/mm/yyyy",
    "mm/dd/yyyy",
    "dd-mm-yyyy",
    "mm-dd-yyyy",
)
_DATE = re.compile(r"(\d{1,4})([-./])(\d{1,2})\2(\d{1,4})(?:[T\s].*)?", re.DOTALL)
_ORDERED_SEPS = ("/", "-")  # the separators whose day/month order must be worked out


class DateReader:
    """Parses the dates of one file; build it with `detect` over all the file's dates."""

    def __init__(self, orders: dict[str, str], only: str | None = None) -> None:
        self.orders = orders  # separator -> "dmy" | "mdy"
        self.only = only  # a format the user gave: other forms (but ISO) are refused
        self.seen: dict[str, None] = {}  # formats met, in order
        self._cache: dict[str, date | str] = {}

    @classmethod
    def detect(cls, values: Mapping[str, int], label: str, given: str | None = None) -> DateReader:
        """`values`: each distinct date text -> the first line it is on."""
        orders: dict[str, str] = {}
        if given:
            fmt = normalize_date_format(given)
            if fmt[2] in _ORDERED_SEPS:
                orders[fmt[2]] = "dmy" if fmt.startswith("dd") else "mdy"
            return cls(orders, only=fmt)
        evidence: dict[tuple[str, str], tuple[int, str]] = {}
        for text, line in sorted(values.items(), key=lambda kv: kv[1]):
            m = _DATE.fullmatch(text.strip())
            if not m or m[2] not in _ORDERED_SEPS or len(m[4]) != 4 or len(m[1]) > 2:
                continue
            first, second = int(m[1]), int(m[3])
            if 12 < first <= 31 and 1 <= second <= 12:
                kind = "dmy"
            elif 12 < second <= 31 and 1 <= first <= 12:
                kind = "mdy"
            elif first != second and first <= 12 and second <= 12:
                kind = "either"
            else:
                continue
            evidence.setdefault((m[2], kind), (line, text.strip()))
        for sep in _ORDERED_SEPS:
            day_first, month_first = evidence.get((sep, "dmy")), evidence.get((sep, "mdy"))
            unsure = evidence.get((sep, "either"))
            hint = f"pass --date-format dd{sep}mm{sep}yyyy or mm{sep}dd{sep}yyyy"
            if day_first and month_first:
                raise InvalidInput(
                    f"{label}: the dates disagree: line {day_first[0]} has {day_first[1]!r}"
                    f" (day first), line {month_first[0]} has {month_first[1]!r} (month"
                    f" first); {hint}"
                )
            if day_first or month_first:
                orders[sep] = "dmy" if day_first else "mdy"
            elif unsure:
                raise InvalidInput(
                    f"{label} line {unsure[0]}: can't tell if {unsure[1]!r} is day or month"
                    f" first, and no date in the file has a day above 12; {hint}"
                )
        return cls(orders)

    def parse(self, text: str) -> date | str:
        """The date, or what is wrong with `text` (cached: a file has few distinct days)."""
        hit = self._cache.get(text)
        if hit is None:
            hit = self._cache[text] = self._parse(text)
        return hit

    def _parse(self, text: str) -> date | str:
        raw = text.strip()
        if not raw:
            return "empty"
        m = _DATE.fullmatch(raw)
        if not m:
            return f"not a date: {quoted(raw)} (try 2026-01-31 or 31.01.2026)"
        a, sep, b, c = m[1], m[2], m[3], m[4]
        if len(a) == 4 and len(c) <= 2 and sep != ".":
            fmt, y, mo, d = f"yyyy{sep}mm{sep}dd", a, b, c
        elif len(c) == 4 and len(a) <= 2:
            order = "dmy" if sep == "." else self.orders.get(sep, "dmy")
            fmt = f"dd{sep}mm{sep}yyyy" if order == "dmy" else f"mm{sep}dd{sep}yyyy"
            y, mo, d = (c, b, a) if order == "dmy" else (c, a, b)
        elif len(c) == 2 and len(a) <= 2:
            return f"the year needs 4 digits: {quoted(raw)}"
        else:
            return f"not a date: {quoted(raw)} (try 2026-01-31 or 31.01.2026)"
        if self.only and fmt not in (self.only, "yyyy-mm-dd"):
            return f"not a date in the form {self.only}: {quoted(raw)}"
        try:
            day = date(int(y), int(mo), int(d))
        except ValueError:
            return f"no such day: {quoted(raw)} (read as {fmt})"
        self.seen.setdefault(fmt, None)
        return day


def normalize_date_format(text: str) -> str:
    """`dd.mm.yyyy`, `D.M.YYYY`, `%d.%m.%Y`, `iso` -> one of DATE_FORMATS."""
    t = text.strip().lower().replace("%", "")
    if t in ("iso", "yyyy-mm-dd", "y-m-d"):
        return "yyyy-mm-dd"
    t = re.sub(r"d+", "dd", re.sub(r"m+", "mm", re.sub(r"y+", "yyyy", t)))
    if t not in DATE_FORMATS:
        raise InvalidInput(f"--date-format must be one of {', '.join(DATE_FORMATS)}: {text!r}")
    return t


_NO_GROUPING = str.maketrans("", "", " \u00a0\u202f'’_")
_NUMBER = re.compile(r"\d*(?:[.,]\d+)*")
_WELL_FORMED = re.compile(r"\d{1,3}(?:[.,]\d{3})+(?:[.,]\d+)?|\d*(?:[.,]\d+)?")
_SEPARATOR = re.compile(r"[.,]")


def _split_amount(text: str) -> tuple[str, str | None, bool]:
    """(digits and separators, the currency mark written with it, whether it is negative)."""
    front, back = mark_patterns()
    s = text.strip()
    negative = False
    if s.startswith("(") and s.endswith(")"):  # accountants' negative
        negative, s = True, s[1:-1].strip()
    currency = None
    for _ in range(2):  # "-€12" and "€-12"
        if s[:1] in ("-", "\u2212"):
            negative, s = True, s[1:].lstrip()
        elif s[:1] == "+":
            s = s[1:].lstrip()
        m = front.match(s)
        if m and currency is None and not s[:1].isdigit() and is_mark(m[1]):
            currency, s = m[1], s[m.end() :]
    m = back.search(s)
    if m and currency is None and is_mark(m[1]):
        currency, s = m[1], s[: m.start()]
    if s.endswith("-"):  # "12.50-", as some ERPs write credits
        negative, s = True, s[:-1].rstrip()
    return s.translate(_NO_GROUPING), currency, negative


def _mark_shown(body: str) -> str | None:
    """The decimal mark a well-formed amount shows, if it shows one."""
    dot, comma = body.rfind("."), body.rfind(",")
    if dot < 0 and comma < 0:
        return None
    if dot >= 0 and comma >= 0:
        return "." if dot > comma else ","
    sep = "." if dot >= 0 else ","
    if body.count(sep) > 1:  # 1.234.567: that separator groups thousands
        return "," if sep == "." else "."
    return None if len(body) - body.rfind(sep) - 1 == 3 else sep


class AmountReader:
    """Parses the amounts of one file; build it with `detect` over all the file's amounts."""

    def __init__(self, mark: str | None) -> None:
        self.mark = mark  # "." | "," | None: no amount showed one
        self._cache: dict[str, tuple[int, str | None] | str] = {}

    @classmethod
    def detect(
        cls, values: Mapping[str, int], label: str, given: str | None = None
    ) -> AmountReader:
        """`values`: each distinct amount text -> the first line it is on."""
        if given is not None:
            if given not in (".", ","):
                raise InvalidInput(f"--decimal must be '.' or ',': {given!r}")
            return cls(given)
        shown: dict[str, tuple[int, str]] = {}
        for text, line in sorted(values.items(), key=lambda kv: kv[1]):
            body = _split_amount(text)[0]
            if any(c.isdigit() for c in body) and _WELL_FORMED.fullmatch(body):
                mark = _mark_shown(body)
                if mark:
                    shown.setdefault(mark, (line, text.strip()))
        if len(shown) == 2:
            (l1, t1), (l2, t2) = sorted(shown.values())
            raise InvalidInput(
                f"{label}: the amounts use both decimal marks: line {l1} has {t1!r}, line {l2}"
                f" has {t2!r}; pass --decimal . or --decimal , to say which is right"
            )
        return cls(next(iter(shown), None))

    def parse(self, text: str) -> tuple[int, str | None] | str:
        """(cents, the currency mark written with the amount), or what is wrong with `text`
        (the mark is read by `money.currency_of`, which needs the row's currency column)."""
        hit = self._cache.get(text)
        if hit is None:
            hit = self._cache[text] = self._parse(text)
        return hit

    def _parse(self, text: str) -> tuple[int, str | None] | str:
        raw = text.strip()
        if not raw:
            return "empty"
        body, currency, negative = _split_amount(raw)
        cents = self._cents(body)
        if cents is None:
            if self.mark and _NUMBER.fullmatch(body) and any(c.isdigit() for c in body):
                return f"not an amount with {self.mark!r} as the decimal mark: {quoted(raw)}"
            return f"not a number: {quoted(raw)}"
        if isinstance(cents, str):
            return f"{cents}: {quoted(raw)}"
        if cents >= MAX_CENTS:
            return f"too large: {quoted(raw)}"
        if negative and cents == 0:
            return f"minus zero: {quoted(raw)}"
        # 0 is an order (a free sample); a negative amount a refund (docs/value.md)
        return -cents if negative else cents, currency

    def _cents(self, body: str) -> int | str | None:
        """Cents, a complaint, or None when `body` is not a number in this file's style."""
        if not body or not _NUMBER.fullmatch(body) or not any(c.isdigit() for c in body):
            return None
        if self.mark is None:
            whole, frac = body, ""
        elif body.count(self.mark) > 1:
            return None
        else:
            whole, _, frac = body.partition(self.mark)
        groups = _SEPARATOR.split(whole)
        if len(groups) > 1 and (
            len(set(_SEPARATOR.findall(whole))) > 1
            or not 1 <= len(groups[0]) <= 3
            or any(len(g) != 3 for g in groups[1:])
        ):
            return None
        if len(frac) > 2:
            if frac[2:].strip("0"):
                return "more than 2 decimal places"
            frac = frac[:2]
        value = Decimal(f"{''.join(groups) or '0'}.{frac or '0'}")
        return int(value.scaleb(2))
