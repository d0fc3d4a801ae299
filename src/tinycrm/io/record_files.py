"""Interactions and deals files read into rows, for `services.imports.records`.

Two formats, told by `--format` or worked out from the name and the first bytes, both
exactly what `tinycrm export interactions|deals` writes:

- **CSV** through the generic reader (`csv_import`): the export's header names
  (`happened_at, kind, contact, contact_name, company, deal, body, user` and
  `title, contact, contact_name, company, stage, status, value, currency, probability,
  expected_close, lost_reason, closed_at, created_at, owner`), in any order; text cells
  that the export guarded against spreadsheets (`'=...`) read back as they were
  (`uninert`).
- **JSON**: the export's array of objects with the same keys.

Times are ISO 8601 (`2026-11-23T09:00:00Z`; without a zone, UTC), days `YYYY-MM-DD`,
money a decimal string (`money.parse_money`: a currency mark must agree with the
currency column), currencies ISO codes. File-level problems
raise InvalidInput; a row that can't be read becomes a `RowError` naming its line and field.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from tinycrm.errors import InvalidInput
from tinycrm.io import csv_import
from tinycrm.io.csv_import import DELIMITER_NAMES, Column
from tinycrm.money import parse_currency, parse_money
from tinycrm.services.contacts import MAX_NAME, check_text
from tinycrm.services.imports.bulk import RowError, quoted
from tinycrm.services.imports.contacts import ContactImportSource
from tinycrm.services.imports.records import DealRow, InteractionRow
from tinycrm.text import clean, uninert

FORMATS = ("csv", "json")
PROGRESS_EVERY = 10_000


def _col(name: str, required: bool) -> Column:
    # headers are compared with `_` as a space (csv_import.normalize_header)
    return Column(name, required, (name.replace("_", " "),))


INTERACTION_COLUMNS = (
    _col("happened_at", True),
    _col("kind", True),
    _col("contact", False),
    _col("contact_name", False),
    _col("company", False),
    _col("deal", False),
    _col("body", True),
    _col("user", False),
)
DEAL_COLUMNS = (
    _col("title", True),
    _col("contact", False),
    _col("contact_name", False),
    _col("company", False),
    _col("stage", True),
    _col("status", False),
    _col("value", False),
    _col("currency", False),
    _col("probability", False),
    _col("expected_close", False),
    _col("lost_reason", False),
    _col("closed_at", False),
    _col("created_at", False),
    _col("owner", False),
)


R = TypeVar("R")


RecordFile = csv_import.ImportFile


#: one record's values (None for an empty cell or a missing key) -> a row
_Parse = Callable[[int, dict[str, Any], set[str], str], Any]


def read_interactions(
    path: Path,
    label: str,
    *,
    fmt: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> RecordFile[InteractionRow]:
    return _read(
        path, label, INTERACTION_COLUMNS, _interaction, "", fmt, encoding, delimiter, progress
    )


def read_deals(
    path: Path,
    label: str,
    *,
    default_currency: str,
    fmt: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> RecordFile[DealRow]:
    return _read(
        path, label, DEAL_COLUMNS, _deal, default_currency, fmt, encoding, delimiter, progress
    )


def _read(
    path: Path,
    label: str,
    columns: tuple[Column, ...],
    parse: _Parse,
    default_currency: str,
    fmt: str | None,
    encoding: str | None,
    delimiter: str | None,
    progress: Callable[[str, int, int], None] | None,
) -> RecordFile[Any]:
    if fmt is not None:
        fmt = fmt.strip().lower()
        if fmt not in FORMATS:
            raise InvalidInput(f"--format must be one of {', '.join(FORMATS)}: {fmt!r}")
    if fmt is None:
        fmt = _detect_format(path)
    if fmt == "json" and delimiter:
        raise InvalidInput("--delimiter is for CSV files, not JSON")
    if fmt == "csv":
        return _read_csv(
            path, label, columns, parse, default_currency, encoding, delimiter, progress
        )
    return _read_json(path, label, columns, parse, default_currency, encoding)


def _detect_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".json":
        return "json"
    if suffix in (".csv", ".tsv", ".txt"):
        return "csv"
    try:
        with path.open("rb") as f:
            head = f.read(4096)
    except OSError:
        return "csv"  # the CSV reader says what is wrong with the file
    return "json" if head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"[" else "csv"


def _read_csv(
    path: Path,
    label: str,
    columns: tuple[Column, ...],
    parse: _Parse,
    default_currency: str,
    encoding: str | None,
    delimiter: str | None,
    progress: Callable[[str, int, int], None] | None,
) -> RecordFile[Any]:

    def fit(header: list[str]) -> tuple[dict[str, int], list[str]]:
        try:
            return csv_import.map_columns(header, columns, {}, label)
        except InvalidInput as e:  # its hint names --map, which these imports don't take
            raise InvalidInput(f"{str(e).split('; name ')[0]}; {_not_an_export(columns)}") from None

    f = csv_import.open_csv(path, label, columns, encoding=encoding, delimiter=delimiter, fit=fit)
    width = len(f.header)
    present = set(f.columns)
    total = f.line_count()
    rows: list[Any] = []
    errors: list[RowError] = []
    for n, (line, fields) in enumerate(f.rows()):
        if progress and n % PROGRESS_EVERY == 0:
            progress("read", line, total)
        if len(fields) > width and any(x.strip() for x in fields[width:]):
            errors.append(RowError(line, None, f"{len(fields)} fields, but the header has {width}"))
            continue
        fields += [""] * (width - len(fields))
        values = {name: uninert(fields[i]) or None for name, i in f.columns.items()}
        try:
            rows.append(parse(line, values, present, default_currency))
        except csv_import.Unreadable as e:
            errors.append(RowError(line, e.field, e.message))
    if progress:
        progress("read", total, total)

    source = ContactImportSource(
        file=label,
        format="csv",
        encoding=f.encoding,
        encoding_guessed=f.encoding_guessed,
        delimiter=DELIMITER_NAMES.get(f.delimiter, f.delimiter),
        columns={f.header[i].strip(): name for name, i in f.columns.items()},
        ignored_columns=f.ignored,
    )
    return RecordFile(source, rows, errors, partial(csv_import.write_rejects, f), ".csv")


def _read_json(
    path: Path,
    label: str,
    columns: tuple[Column, ...],
    parse: _Parse,
    default_currency: str,
    encoding: str | None,
) -> RecordFile[Any]:
    from tinycrm.io.contact_files import _json_items

    data = csv_import._read_bytes(path, label)
    text, used_encoding, guessed, _ = csv_import.decode(data, label, encoding)
    items = _json_items(text, label)
    known = {c.name for c in columns}
    missing_everywhere = {c.name for c in columns if c.required}
    used: dict[str, str] = {}
    ignored: dict[str, None] = {}
    rows: list[Any] = []
    errors: list[RowError] = []
    for line, item in items:
        if not isinstance(item, dict):
            errors.append(RowError(line, None, "not an object with a record's keys"))
            continue
        for key in item:
            if key in known:
                used.setdefault(key, key)
                missing_everywhere.discard(key)
            elif key not in ("line", "error"):  # a rejects file's notes
                ignored.setdefault(key, None)
        try:
            values = {k: _json_value(k, item.get(k)) for k in known}
            rows.append(parse(line, values, set(item), default_currency))
        except csv_import.Unreadable as e:
            errors.append(RowError(line, e.field, e.message))
    if items and missing_everywhere:
        keys = sorted(missing_everywhere, key=[c.name for c in columns].index)
        raise InvalidInput(
            f"{label}: no object has the key{'s' if len(keys) > 1 else ''} {', '.join(keys)}"
            f" ({_not_an_export(columns)})"
        )
    source = ContactImportSource(
        file=label,
        format="json",
        encoding=used_encoding,
        encoding_guessed=guessed,
        delimiter=None,
        columns=used,
        ignored_columns=list(ignored),
    )
    write = partial(csv_import.write_json_rejects, dict(items))
    return RecordFile(source, rows, errors, write, ".json")


def _not_an_export(columns: tuple[Column, ...]) -> str:
    what = "deals" if columns is DEAL_COLUMNS else "interactions"
    return f"is it what `tinycrm export {what}` writes?"


def _json_value(key: str, value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise csv_import.Unreadable(
            key, f"not text: {quoted(json.dumps(value, ensure_ascii=False))}"
        )
    return str(value)


# -- values ---------------------------------------------------------------------------------


def _required(values: dict[str, Any], key: str) -> str:
    v = values.get(key)
    if v is None or not v.strip():
        raise csv_import.Unreadable(key, "empty")
    return str(v)


def _name(values: dict[str, Any], key: str) -> str | None:
    v = values.get(key)
    if v is None:
        return None
    name = " ".join(clean(v).split())
    if len(name) > MAX_NAME:
        raise csv_import.Unreadable(key, f"longer than {MAX_NAME} characters")
    return name or None


def _instant(values: dict[str, Any], key: str) -> datetime | None:
    v = values.get(key)
    if v is None or not v.strip():
        return None
    text = v.strip()
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise csv_import.Unreadable(
            key, f"not a time like 2026-11-23T09:00:00Z: {quoted(v)}"
        ) from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _day(values: dict[str, Any], key: str) -> date | None:
    v = values.get(key)
    if v is None or not v.strip():
        return None
    try:
        return date.fromisoformat(v.strip())
    except ValueError:
        raise csv_import.Unreadable(key, f"not a day like 2026-11-23: {quoted(v)}") from None


def _text(values: dict[str, Any], key: str) -> str | None:
    try:
        return check_text(values.get(key), key)
    except InvalidInput as e:
        raise csv_import.Unreadable(key, str(e)) from None


def _interaction(
    line: int, values: dict[str, Any], present: set[str], _currency: str
) -> InteractionRow:
    happened = _instant(values, "happened_at")
    if happened is None:
        raise csv_import.Unreadable("happened_at", "empty")
    kind = _required(values, "kind").strip().lower()
    body = _text(values, "body")
    if not body:
        raise csv_import.Unreadable("body", "empty")
    return InteractionRow(
        line=line,
        happened_at=happened,
        kind=kind,
        contact=_name(values, "contact"),
        contact_name=_name(values, "contact_name"),
        company=_name(values, "company"),
        deal=_name(values, "deal"),
        body=body,
        user=_name(values, "user"),
        user_given="user" in present,
    )


def _deal(line: int, values: dict[str, Any], present: set[str], currency: str) -> DealRow:
    title = _name(values, "title")
    if not title:
        raise csv_import.Unreadable("title", "empty")
    stage = _name(values, "stage")
    if not stage:
        raise csv_import.Unreadable("stage", "empty")
    status = values.get("status")
    raw_value = values.get("value")
    raw_cur = values.get("currency")
    try:
        given = parse_currency(raw_cur, usual=[currency]) if raw_cur and raw_cur.strip() else None
    except InvalidInput as e:
        raise csv_import.Unreadable("currency", str(e)) from None
    try:
        money = parse_money(
            raw_value or "0",
            field="value",
            currency=given,
            given_as="the currency column",
            usual=[currency],
        )
    except InvalidInput as e:
        raise csv_import.Unreadable("value", str(e)) from None
    cents, cur = money.cents, money.currency or currency
    raw_prob = values.get("probability")
    probability = None
    if raw_prob is not None and raw_prob.strip():
        try:
            probability = int(raw_prob.strip().rstrip("%"))
        except ValueError:
            raise csv_import.Unreadable(
                "probability", f"not a whole number: {quoted(raw_prob)}"
            ) from None
    return DealRow(
        line=line,
        title=title,
        contact=_name(values, "contact"),
        contact_name=_name(values, "contact_name"),
        company=_name(values, "company"),
        stage=stage,
        status=status.strip().lower() if status and status.strip() else None,
        value_cents=cents,
        currency=cur,
        probability=probability,
        expected_close=_day(values, "expected_close"),
        lost_reason=_text(values, "lost_reason"),
        closed_at=_instant(values, "closed_at"),
        created_at=_instant(values, "created_at"),
        owner=_name(values, "owner"),
        owner_given="owner" in present,
    )
