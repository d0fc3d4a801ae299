"""Rendering: rich tables on a terminal, tab-separated lines when piped, JSON on request.

JSON is a stable contract (docs/cli.md): times are ISO 8601 in UTC with a `Z`, days are
`YYYY-MM-DD`, money is a decimal string. Table cells are stripped of control characters
and escape sequences, so stored text can never drive the terminal.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from typing import Any

from tinycrm.money import Money, format_cents
from tinycrm.text import inert, one_line


def to_jsonable(value: Any) -> Any:
    """A typed service result as plain JSON values: the one place the JSON contract lives.

    Money is its decimal string ('1234.50', the currency is a field of its own), times UTC
    ISO 8601 with a `Z`, days `YYYY-MM-DD` (a birthday without a year `--MM-DD`);
    dataclasses become objects, tuples lists."""
    if isinstance(value, Money):
        return format_cents(value.cents)
    if isinstance(value, Decimal):  # a custom number field: exact, a number when whole
        return int(value) if value == value.to_integral_value() else str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        from tinycrm.dates import important_day_text

        return important_day_text(value)  # a day without a year (dates.NO_YEAR): --MM-DD
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    return value


def emit_json(value: Any) -> None:
    """Write a typed result to stdout as indented JSON (see `to_jsonable`)."""
    sys.stdout.write(json.dumps(to_jsonable(value), ensure_ascii=False, indent=2) + "\n")


def is_tty() -> bool:
    return sys.stdout.isatty()


def screen_limit(limit: int | None) -> int | None:
    """How many rows a list shows: `--limit` when given; on a terminal, one screenful (a
    table longer than the screen scrolls its head away, and Rich takes ~1 ms a row);
    piped or as JSON, everything."""
    if limit is not None or not is_tty():
        return limit
    import shutil

    return max(10, shutil.get_terminal_size().lines - 5)


def more_rows(shown: int, total: int, hint: str) -> None:
    """The footer under a list cut to `shown` of `total` rows (terminal only)."""
    if is_tty() and total > shown:
        say(f"… {shown:,} of {total:,} shown: {hint}")


def local(when: datetime | None, tz: tzinfo) -> str:
    """A time for people: local, minutes precision."""
    return "" if when is None else when.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def due(when: datetime, now: datetime, tz: tzinfo) -> str:
    """A due time for a confirmation line: 'Thu 26 Nov 09:00 (in 3 days)' (the app's
    forms say it the same way: dates.format_when)."""
    from tinycrm.dates import format_when

    return format_when(when, now=now, tz=tz)


def money(amount: Money | str, currency: str) -> str:
    """An amount for people: Money(1200000, 'EUR') -> '12,000.00 EUR' (JSON keeps the plain
    decimal). A decimal string with its `currency` is still taken from the results that
    are not typed yet (a contact's open deals)."""
    from tinycrm.money import display_money, parse_amount

    if isinstance(amount, Money):
        return display_money(amount.cents, amount.currency)
    decimal_text = amount
    negative = decimal_text.startswith("-")
    cents = parse_amount(decimal_text.lstrip("-"))
    return display_money(-cents if negative else cents, currency)


def say(text: str) -> None:
    """A one-line confirmation on stdout."""
    sys.stdout.write(one_line(text) + "\n")


def note(text: str) -> None:
    """A one-line note on stderr, beside what goes to stdout."""
    sys.stderr.write(f"Note: {one_line(text)}\n")


def warn(text: str) -> None:
    """A one-line warning on stderr (the command goes on)."""
    sys.stderr.write(f"Warning: {one_line(text)}\n")


def table(
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    title: str | None = None,
    styles: Sequence[str | None] | None = None,
    empty: str = "nothing to show",
    section: bool = False,
) -> None:
    """Print rows: a rich table on a terminal, else one tab-separated line per row. A
    `section` is one part of a longer view (`contact show`): piped, an empty line and its
    title (a line without a tab) come first, so a reader can tell where it starts."""
    cells = [[one_line("" if c is None else str(c)) for c in row] for row in rows]
    if not is_tty():
        if section and title:
            sys.stdout.write(f"\n{one_line(title)}\n")
        for row in cells:
            sys.stdout.write("\t".join(c.replace("\t", " ") for c in row) + "\n")
        return
    if not cells:
        sys.stdout.write(f"{empty}\n")
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    t = Table(title=title, title_justify="left", box=None, header_style="bold", pad_edge=False)
    for col in columns:
        t.add_column(col, overflow="fold")
    for i, row in enumerate(cells):
        style = styles[i] if styles and i < len(styles) else None
        t.add_row(*(Text(c) for c in row), style=style)
    Console(no_color="NO_COLOR" in os.environ, highlight=False).print(t)


def fields(pairs: Sequence[tuple[str, Any]], *, title: str | None = None) -> None:
    """A 'label: value' block (values that are empty are skipped)."""
    shown = [(k, one_line(str(v))) for k, v in pairs if v not in (None, "", [], {})]
    if not is_tty():
        if title:
            sys.stdout.write(one_line(title) + "\n")
        for k, v in shown:
            sys.stdout.write(f"{k}\t{v}\n")
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    t = Table(box=None, show_header=False, pad_edge=False)
    t.add_column(style="bold")
    t.add_column(overflow="fold")
    for k, v in shown:
        t.add_row(k, Text(v))
    console = Console(no_color="NO_COLOR" in os.environ, highlight=False)
    if title:
        console.print(Text(one_line(title), style="bold underline"))
    console.print(t)


def csv_rows(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """One CSV table on stdout for spreadsheets: a header row, then a record per row (RFC
    4180 via the csv module: CRLF line ends, quotes only where needed). Empty for None;
    days as YYYY-MM-DD, times as UTC ISO 8601 and Money as a decimal string (as in JSON,
    `to_jsonable`). Control characters are removed from text."""
    import csv

    writer = csv.writer(sys.stdout, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        cells = [to_jsonable(c) for c in row]
        writer.writerow(
            ["" if c is None else inert(one_line(c)) if isinstance(c, str) else c for c in cells]
        )


_EIGHTHS = "▏▎▍▌▋▊▉"


def bar(value: float, largest: float, width: int = 20) -> str:
    """A horizontal bar of Unicode blocks: `width` cells stand for `largest`, drawn in
    eighths of a cell; anything above zero shows at least a sliver."""
    if value <= 0 or largest <= 0:
        return ""
    eighths = max(1, round(min(value / largest, 1.0) * width * 8))
    full, part = divmod(eighths, 8)
    return "█" * full + (_EIGHTHS[part - 1] if part else "")


def percent(rate: float | None) -> str:
    """A rate (a fraction, as reports give it) for people: '45.7%', rounded half-up to one
    decimal; '–' when there is no rate (nothing to divide by)."""
    if rate is None:
        return "–"
    from decimal import ROUND_HALF_UP, Decimal

    return f"{(Decimal(str(rate)) * 100).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%"
