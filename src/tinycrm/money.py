"""Money: parsed into integer minor units (cents) with `Decimal`, never float."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from tinycrm.errors import InvalidInput

MAX_CENTS = 10**15  # a quadrillion cents: far beyond any deal, well inside BIGINT

_CURRENCY = re.compile(r"^[A-Z]{3}$")

# ISO 4217: the currencies in use. A code not listed is refused rather than stored, so a
# typo ("5 ERU", "--currency EUO") never becomes a currency of its own.
ISO_CODES = frozenset(
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD"
    " BTN BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN"
    " ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR"
    " ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL"
    " MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN"
    " PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD"
    " SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VED VES"
    " VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG ZWL".split()
)

# A mark written with an amount -> the currencies it can mean. It means the one given
# separately (--currency, a currency column) or the usual one here (the store's, the
# deal's) when that is among them; else its first, when it has a clear default (`$` is USD,
# `£` GBP); else it is refused as ambiguous (`¥` is JPY or CNY, `kr` four crowns).
_DOLLARS = ("USD", "AUD", "CAD", "NZD", "SGD", "HKD", "TWD", "MXN", "ARS", "CLP", "COP")
_MARKS: dict[str, tuple[str, ...]] = {
    "€": ("EUR",),
    "$": _DOLLARS,
    "US$": ("USD",),
    "A$": ("AUD",),
    "AU$": ("AUD",),
    "C$": ("CAD",),
    "CA$": ("CAD",),
    "NZ$": ("NZD",),
    "S$": ("SGD",),
    "HK$": ("HKD",),
    "NT$": ("TWD",),
    "MX$": ("MXN",),
    "R$": ("BRL",),
    "£": ("GBP", "EGP", "FKP", "GIP", "SHP"),
    "¥": ("JPY", "CNY"),
    "￥": ("JPY", "CNY"),
    "JP¥": ("JPY",),
    "CN¥": ("CNY",),
    "円": ("JPY",),
    "元": ("CNY",),
    "RMB": ("CNY",),
    "KR": ("DKK", "ISK", "NOK", "SEK"),
    "KR.": ("DKK", "ISK", "NOK", "SEK"),
    "₹": ("INR",),
    "₩": ("KRW",),
    "₽": ("RUB",),
    "₺": ("TRY",),
    "₪": ("ILS",),
    "₴": ("UAH",),
    "₫": ("VND",),
    "฿": ("THB",),
    "₱": ("PHP",),
    "₦": ("NGN",),
    "ZŁ": ("PLN",),
    "KČ": ("CZK",),
    "FT": ("HUF",),
    "LEI": ("RON",),
}
_DEFAULTS = frozenset({"$", "£"})  # marks whose first currency is what they mean elsewhere
_NUMBER = re.compile(r"[\d.,\s_\u00a0\u202f+\-\u2212]*")


@functools.cache
def mark_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """A mark before and after the number: a known one, a run of letters, or a run of
    symbols (compiled on first use: quick commands never type an amount)."""
    known = "|".join(re.escape(m) for m in sorted(_MARKS, key=len, reverse=True))
    mark = rf"(?:{known}|[^\W\d_]+|[^\w\s.,+\-\u2212]+)"
    return re.compile(rf"({mark})\s*", re.IGNORECASE), re.compile(rf"\s*({mark})$", re.I)


@dataclass(frozen=True, slots=True)
class Money:
    """An amount as services return it: integer cents and an ISO currency code.

    Services never format money; the CLI's JSON encoder writes `cents` as a decimal string
    (`format_cents`) and the shells show it with `display_money` (or `show`)."""

    cents: int
    currency: str


@dataclass(frozen=True)
class TypedAmount:
    """An amount as typed: cents, and the currency it was written in or given with (None
    when neither said; the caller's default applies)."""

    cents: int
    currency: str | None


def parse_money(
    text: str,
    *,
    field: str = "amount",
    currency: str | None = None,
    given_as: str = "--currency",
    usual: Iterable[str] = (),
    allow_zero: bool = True,
    allow_negative: bool = False,
) -> TypedAmount:
    """An amount typed by a person: '1,234.50', '€99', '99 €', '$5', 'USD 5', '5 usd'.

    A minus sign ('-5', '-€5', '€-5') is refused unless `allow_negative` (a purchase's
    refund), which gives negative cents.

    A currency mark before or after the number says the currency; one inside it ('1€2') is
    an error. `currency` is the currency given separately (`given_as` names where, for the
    message): a mark that can't mean it is an error. `usual` are the currencies a shared
    mark most likely means here (the store's, the deal's): `¥` in a CNY store is CNY."""
    raw = text.strip()
    body, mark = raw, None
    negative = body[:1] in ("-", "\u2212")
    if negative:
        body = body[1:].lstrip()
    front_mark, back_mark = mark_patterns()
    front = front_mark.match(body)
    if front and not body[:1].isdigit() and is_mark(front[1]):
        mark, body = front[1], body[front.end() :]
    back = back_mark.search(body)
    if back and is_mark(back[1]):
        if mark is not None:
            raise InvalidInput(f"{field} has two currency marks: {_shown(text)}")
        mark, body = back[1], body[: back.start()]
    if body[:1] in ("-", "\u2212"):
        negative = True
    if not _NUMBER.fullmatch(body):
        if is_mark(body.strip("0123456789.,_ +-\u2212\u00a0\u202f"), strict=True):
            raise InvalidInput(
                f"{field} has a currency mark inside the number: {_shown(text)}"
                " (write it before or after: €12, 12 EUR)"
            )
        raise InvalidInput(f"{field} is not a number: {_shown(text)} (try 1234.50)")
    if negative and not allow_negative:
        raise InvalidInput(f"{field} can't be negative: {text!r}")
    digits = body.lstrip()
    if digits[:1] in ("-", "\u2212"):
        digits = digits[1:]
    cents = _cents(digits, text, field, allow_zero)
    if negative:
        if cents == 0:
            raise InvalidInput(f"{field} can't be minus zero: {text!r}")
        cents = -cents
    if mark is None:
        return TypedAmount(cents, currency)
    return TypedAmount(
        cents,
        currency_of(mark, text, field=field, currency=currency, given_as=given_as, usual=usual),
    )


def is_mark(text: str, *, strict: bool = False) -> bool:
    """Whether `text` is written like a currency: a known mark, a currency sign (Unicode
    category Sc), an ISO code, or (unless `strict`) any word: `5 abc` is then "not a
    currency" rather than "not a number"."""
    return bool(text) and (
        text.upper() in _MARKS
        or any(unicodedata.category(c) == "Sc" for c in text)
        or text.upper() in ISO_CODES
        or (not strict and text.isalpha())
    )


def currency_of(
    mark: str,
    text: str,
    *,
    field: str = "amount",
    currency: str | None = None,
    given_as: str = "--currency",
    usual: Iterable[str] = (),
) -> str:
    """The currency `mark` (written with the amount `text`) means, by `parse_money`'s rules."""
    options = _options(mark, f"{field} {_shown(text)}")
    if currency is not None:
        if currency in options:
            return currency
        says = options[0] if mark.strip().upper() in _DEFAULTS else _either(options)
        raise InvalidInput(f"{field} {_shown(text)} says {says}, but {given_as} is {currency}")
    return _choose(mark, options, tuple(usual), f"{field} {_shown(text)}")


def _options(mark: str, where: str) -> tuple[str, ...]:
    """The currencies `mark` can mean; InvalidInput for a mark that is no currency."""
    key = mark.strip().upper()
    options = _MARKS.get(key)
    if options is not None:
        return options
    if key in ISO_CODES:
        return (key,)
    raise InvalidInput(
        f"{where}: not a currency: {mark!r} (use an ISO code like EUR or USD, or € $ £)"
    )


def _choose(mark: str, options: tuple[str, ...], usual: tuple[str, ...], where: str) -> str:
    for code in usual:
        if code in options:
            return code
    if len(options) == 1 or mark.strip().upper() in _DEFAULTS:
        return options[0]
    return _ambiguous(mark, options, where)


def _ambiguous(mark: str, options: tuple[str, ...], where: str) -> str:
    raise InvalidInput(
        f"{where}: {mark.strip()!r} may be {_either(options)}; write the ISO code"
        f" (like {options[0]})"
    )


def _either(options: tuple[str, ...]) -> str:
    return options[0] if len(options) == 1 else f"{', '.join(options[:-1])} or {options[-1]}"


def parse_amount(text: str, *, field: str = "amount", allow_zero: bool = True) -> int:
    """A plain number -> cents: '1234.5', '1,234.50', '1.234,50', '1234,50', '12 000'.
    Negative is refused, and so is a currency mark: what people type goes through
    `parse_money`, which reads the mark."""
    return _cents(text, text, field, allow_zero)


def _cents(body: str, text: str, field: str, allow_zero: bool) -> int:
    """`body` (the number part of `text`) -> cents; messages quote `text`."""
    raw = body.strip()
    for c in ("\u00a0", "\u202f", " ", "_"):
        raw = raw.replace(c, "")
    if raw.startswith("-"):
        raise InvalidInput(f"{field} can't be negative: {text!r}")
    raw = raw.lstrip("+")
    if "," in raw and "." in raw:
        # the later separator is the decimal one: 1,234.50 or 1.234,50
        if raw.rfind(",") > raw.rfind("."):
            raw = raw.replace(".", "").replace(",", ".")
        else:
            raw = raw.replace(",", "")
    elif "," in raw:
        head, _, tail = raw.rpartition(",")
        raw = f"{head.replace(',', '')}.{tail}" if len(tail) != 3 else raw.replace(",", "")
    if not re.fullmatch(r"\d+(\.\d*)?|\.\d+", raw):
        raise InvalidInput(f"{field} is not a number: {_shown(text)} (try 1234.50)")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise InvalidInput(f"{field} is not a number: {_shown(text)} (try 1234.50)") from None
    if value * 100 >= MAX_CENTS:  # before quantize, which can't hold 28+ digits
        raise InvalidInput(f"{field} is too large: {_shown(text)}")
    cents = int((value * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if value * 100 != cents:
        raise InvalidInput(f"{field} has more than 2 decimal places: {text!r}")
    if cents >= MAX_CENTS:
        raise InvalidInput(f"{field} is too large: {text!r}")
    if cents == 0 and not allow_zero:
        raise InvalidInput(f"{field} must be more than zero: {text!r}")
    return cents


def _shown(text: str, width: int = 40) -> str:
    """`text` quoted for an error message, cut short if it is long."""
    return (
        repr(text) if len(text) <= width else repr(text[:width]) + f"… ({len(text):,} characters)"
    )


def format_cents(cents: int) -> str:
    """Cents as a plain decimal string, '1234.50' (the JSON form)."""
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def display_amount(cents: int) -> str:
    """Cents for people, without the currency: '1,234.50'."""
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100:,}.{cents % 100:02d}"


def display_money(cents: int, currency: str) -> str:
    """Cents for people: '1,234.50 EUR'."""
    return f"{display_amount(cents)} {currency}"


def show(amount: Money) -> str:
    """A typed amount for people: Money(123450, 'EUR') -> '1,234.50 EUR'."""
    return display_money(amount.cents, amount.currency)


def parse_currency(text: str, *, field: str = "currency", usual: Iterable[str] = ()) -> str:
    """A currency typed on its own (--currency, a currency column): an ISO code in any
    case, or a mark as `parse_money` reads it (`¥` or `kr` only where `usual` says which)."""
    typed = text.strip()
    key = typed.upper()
    if key in _MARKS:
        return _choose(typed, _MARKS[key], tuple(usual), f"{field} {typed!r}")
    if not _CURRENCY.match(key):
        raise InvalidInput(f"{field} must be a 3-letter ISO code like EUR or USD: {text!r}")
    if key not in ISO_CODES:
        raise InvalidInput(f"{field} is not a currency: {text!r} (use an ISO code like EUR)")
    return key
