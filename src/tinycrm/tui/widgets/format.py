"""Short renderings shared by the screens: times, money, bars."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from rich.text import Text


def due(when: datetime, now: datetime, tz: tzinfo) -> Text:
    from tinycrm.dates import format_relative

    label = format_relative(when, now=now, tz=tz)
    return Text(label, style="bold red" if when < now else "")


def ago(when: datetime | None, now: datetime, tz: tzinfo) -> str:
    if when is None:
        return "never"
    days = (now.astimezone(tz).date() - when.astimezone(tz).date()).days
    if days <= 0:
        return "today"
    if days == 1:
        return "yesterday"
    if days < 60:
        return f"{days}d ago"
    return when.astimezone(tz).date().isoformat()


def local(when: datetime | None, tz: tzinfo) -> str:
    return "" if when is None else when.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def done(text: str, next_due: datetime | None, tz: tzinfo) -> str:
    """What marking a reminder done says: 'Done: call Bob · next 2026-12-04 09:00'."""
    return f"Done: {text}" + (f" · next {local(next_due, tz)}" if next_due else "")


def money(cents: int, currency: str) -> str:
    from tinycrm.money import display_money

    return display_money(cents, currency)


def short_money(cents: int) -> str:
    """1234567 cents -> '12.3k'; for tight columns (the exact figure is elsewhere)."""
    units = cents / 100
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(units) >= size:
            value = units / size
            return f"{value:.1f}{suffix}" if abs(value) < 100 else f"{value:.0f}{suffix}"
    return f"{units:.0f}"


def bar(value: int, biggest: int, width: int) -> str:
    """A horizontal bar of up to `width` cells, with eighths for the last cell."""
    if biggest <= 0 or value <= 0 or width <= 0:
        return ""
    eighths = max(1, round(value * width * 8 / biggest))
    full, part = divmod(eighths, 8)
    return "█" * full + ("" if not part else " ▏▎▍▌▋▊▉"[part])


def cell(value: object, style: str = "") -> Text:
    """A table cell that ends in … when its column is too narrow (and is never markup)."""
    if isinstance(value, Text):
        value = value.copy()
        value.no_wrap, value.overflow = True, "ellipsis"
        return value
    return Text(str(value), style=style, no_wrap=True, overflow="ellipsis", end="")


def matched(match: Any, query: str, width: int = 60) -> str:
    """Why a search found a contact (a services.search.ContactMatch): '' for their own
    record, else where, from the first word searched on: 'note: …escrow papers are
    signed', 'deal: Renewal 2027', 'company: ACME'."""
    from tinycrm.text import fold, query_terms

    if match.via == "contact":
        return ""
    label = {"interaction": match.kind or "note", "deal": "deal", "company": "company"}
    text: str = match.text
    start = -1
    if text.isascii():  # folding an ASCII text keeps its length: the places line up
        folded = fold(text)
        places = [folded.find(t) for t in query_terms(query)]
        start = min((p for p in places if p >= 0), default=-1)
    if start > 0:  # from the word found: the column is often narrow
        text = "…" + text[start:]
    if len(text) > width:
        text = text[: width - 1] + "…"
    return f"{label.get(match.via, match.via)}: {text}"


def count(n: int, one: str, many: str | None = None) -> str:
    """'1 contact', '2 contacts', '100,000 contacts' ('many' when not one + 's')."""
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def custom_text(value: Any) -> str:
    """A custom field's value (services.fields.FieldValue.value) as it is typed back: money
    with its currency (`12000.50 USD`), a number exact, a day ISO, a bool yes/no."""
    from datetime import date
    from decimal import Decimal

    from tinycrm.money import Money, format_cents

    if isinstance(value, Money):
        return f"{format_cents(value.cents)} {value.currency}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def custom_shown(value: Any) -> str:
    """A custom field's value for the screen: money as amounts are shown, numbers grouped."""
    from decimal import Decimal

    from tinycrm.money import Money

    if isinstance(value, Money):
        return money(value.cents, value.currency)
    if isinstance(value, Decimal) and not isinstance(value, bool):
        return f"{value:,f}"
    return custom_text(value)
