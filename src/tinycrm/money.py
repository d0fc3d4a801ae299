"""Money: parsed into integer minor units (cents) with `Decimal`, never float."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from tinycrm.errors import InvalidInput

MAX_CENTS = 10**15  # a quadrillion cents: far beyond any deal, well inside BIGINT

_CURRENCY = re.compile(r"^[A-Z]{3}$")
_SYMBOLS = {"€": "EUR", "$": "USD", "£": "GBP", "¥": "JPY", "￥": "CNY"}


@dataclass(frozen=True, slots=True)
class Money:
    """An amount as services return it: integer cents and an ISO currency code.

    Services never format money; the CLI's JSON encoder writes `cents` as a decimal string
    (`format_cents`) and the shells show it with `display_money`."""

    cents: int
    currency: str


def parse_amount(text: str, *, field: str = "amount", allow_zero: bool = True) -> int:
    """'1234.5', '1,234.50', '1.234,50', '1234,50', '€99' -> cents. Negative is refused."""
    raw = text.strip().replace("\u00a0", "").replace(" ", "").replace("_", "")
    for sym in _SYMBOLS:
        raw = raw.replace(sym, "")
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


def parse_currency(text: str) -> str:
    """'eur', 'EUR' or '€' -> 'EUR'; anything that isn't a 3-letter code is refused."""
    code = _SYMBOLS.get(text.strip(), text.strip().upper())
    if not _CURRENCY.match(code):
        raise InvalidInput(f"currency must be a 3-letter ISO code like EUR or USD: {text!r}")
    return code
