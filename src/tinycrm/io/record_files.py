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
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from tinycrm.errors import InvalidInput
from tinycrm.io import csv_import
from tinycrm.io.csv_import import DELIMITER_NAMES, Column
from tinycrm.io.csv_values import DateReader
from tinycrm.money import parse_currency, parse_money
from tinycrm.services.contacts import MAX_NAME, check_text
from tinycrm.services.imports.bulk import RowError, quoted
from tinycrm.services.imports.contacts import ContactImportSource
from tinycrm.services.imports.records import DealRow, InteractionRow
from tinycrm.text import clean, uninert

FORMATS = ("csv", "json")
PROGRESS_EVERY = 10_000


def _col(name: str, required: bool, *synonyms: str) -> Column:
    # headers are compared with `_` as a space (csv_import.normalize_header); the synonyms
    # are other CRMs' export headers, normalized the same way, English then German
    return Column(name, required, (name.replace("_", " "), *synonyms))


# Pipedrive writes "Deal - Title", "Activity - Subject", "Person - Email" (German: "Deal -
# Titel"); HubSpot "Deal Name", "Deal Stage", "Associated Company"; Salesforce
# "Opportunity Name", "Account Name", "Opportunity Owner", "Assigned"; Zoho "Deal Name",
# "Closing Date", "Deal Owner", "Reason For Loss", "Task Owner".
INTERACTION_COLUMNS = (
    _col(
        "happened_at",
        True,
        "activity due date",
        "due date",
        "activity date",
        "date",
        "start date",
        "call start time",
        "date of activity",
        "falligkeitsdatum",
        "aktivitat falligkeitsdatum",
        "datum",
    ),
    _col("time", False, "activity due time", "due time", "aktivitat falligkeitszeit"),
    _col("kind", True, "activity type", "type", "call type", "aktivitat typ", "typ", "art"),
    _col(
        "contact",
        False,
        "person email",
        "contact email",
        "email",
        "associated contact",
        "person e mail",
    ),
    _col(
        "contact_name",
        False,
        "activity contact person",
        "contact person",
        "person name",
        "contact name",
        "name",
        "aktivitat kontaktperson",
        "kontaktperson",
    ),
    _col(
        "company",
        False,
        "activity organization",
        "organization",
        "organization name",
        "account name",
        "company account",
        "associated company",
        "aktivitat organisation",
        "organisation",
        "firma",
    ),
    _col(
        "deal",
        False,
        "activity deal",
        "deal title",
        "deal name",
        "related to",
        "opportunity",
        "associated deal",
        "aktivitat deal",
    ),
    _col(
        "subject",
        False,
        "activity subject",
        "call title",
        "title",
        "aktivitat betreff",
        "betreff",
    ),
    _col(
        "body",
        False,
        "activity note",
        "note",
        "notes",
        "description",
        "comments",
        "aktivitat notiz",
        "notiz",
        "beschreibung",
    ),
    _col(
        "done",
        False,
        "activity done",
        "task status",
        "status",
        "completed",
        "aktivitat erledigt",
        "erledigt",
    ),
    _col(
        "user",
        False,
        "activity assigned to user",
        "assigned to user",
        "assigned to",
        "assigned",
        "activity owner",
        "task owner",
        "owner",
        "aktivitat zugewiesen an benutzer",
        "zugewiesen an",
    ),
)
DEAL_COLUMNS = (
    _col(
        "title",
        True,
        "deal title",
        "deal name",
        "opportunity name",
        "deal titel",
        "titel",
        "name des deals",
        "dealname",
    ),
    _col(
        "contact",
        False,
        "person email",
        "contact email",
        "associated contact",
        "email",
        "person e mail",
    ),
    _col(
        "contact_name",
        False,
        "deal contact person",
        "contact person",
        "contact name",
        "person name",
        "primary contact",
        "deal kontaktperson",
        "kontaktperson",
    ),
    _col(
        "company",
        False,
        "deal organization",
        "organization",
        "organization name",
        "account name",
        "associated company",
        "deal organisation",
        "organisation",
        "firma",
    ),
    _col("stage", True, "deal stage", "dealstage", "stage name", "deal phase", "phase"),
    _col("status", False, "deal status", "status des deals"),
    # Salesforce's report and Data Loader flags; HubSpot's "Is Closed Won" property
    _col("won", False, "iswon", "is won", "is closed won"),
    _col("closed", False, "isclosed", "is closed"),
    _col("value", False, "deal value", "amount", "deal wert", "wert", "betrag"),
    _col("currency", False, "deal currency", "opportunity currency", "deal wahrung", "wahrung"),
    _col(
        "probability",
        False,
        "deal probability",
        "probability (%)",
        "probability %",
        "deal wahrscheinlichkeit",
        "wahrscheinlichkeit",
    ),
    _col(
        "expected_close",
        False,
        "deal expected close date",
        "expected close date",
        "close date",
        "closing date",
        "deal erwartetes abschlussdatum",
        "erwartetes abschlussdatum",
    ),
    _col(
        "lost_reason",
        False,
        "deal lost reason",
        "closed lost reason",
        "reason for loss",
        "loss reason",
        "deal grund fur verlust",
        "verlustgrund",
    ),
    _col("closed_at", False, "deal close time", "deal won time", "deal lost time", "closed date"),
    _col(
        "created_at",
        False,
        "deal deal created",
        "create date",
        "created date",
        "created time",
        "deal created",
        "deal deal erstellt",
        "erstellt am",
    ),
    _col(
        "owner",
        False,
        "deal owner",
        "opportunity owner",
        "owner name",
        "deal inhaber",
        "deal besitzer",
        "inhaber",
        "besitzer",
    ),
)


R = TypeVar("R")


RecordFile = csv_import.ImportFile


#: one record's values (None for an empty cell or a missing key), the columns the file has,
#: the store's currency and the file's date reader -> a row
_Parse = Callable[[int, dict[str, Any], set[str], str, DateReader], Any]
#: the fields that hold days or times (read as the file writes them, see `_when`)
_DATE_FIELDS = ("happened_at", "expected_close", "closed_at", "created_at")


def read_interactions(
    path: Path,
    label: str,
    *,
    fmt: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    mapping: list[str] | None = None,
) -> RecordFile[InteractionRow]:
    return _read(
        path,
        label,
        INTERACTION_COLUMNS,
        _interaction,
        "",
        fmt,
        encoding,
        delimiter,
        progress,
        csv_import.parse_mapping(mapping or [], INTERACTION_COLUMNS),
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
    mapping: list[str] | None = None,
) -> RecordFile[DealRow]:
    return _read(
        path,
        label,
        DEAL_COLUMNS,
        _deal,
        default_currency,
        fmt,
        encoding,
        delimiter,
        progress,
        csv_import.parse_mapping(mapping or [], DEAL_COLUMNS),
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
    mapping: dict[str, str],
) -> RecordFile[Any]:
    if fmt is not None:
        fmt = fmt.strip().lower()
        if fmt not in FORMATS:
            raise InvalidInput(f"--format must be one of {', '.join(FORMATS)}: {fmt!r}")
    if fmt is None:
        fmt = _detect_format(path)
    if fmt == "json" and (delimiter or mapping):
        raise InvalidInput(f"--{'delimiter' if delimiter else 'map'} is for CSV files, not JSON")
    if fmt == "csv":
        return _read_csv(
            path, label, columns, parse, default_currency, encoding, delimiter, progress, mapping
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
    mapping: dict[str, str],
) -> RecordFile[Any]:

    def fit(header: list[str]) -> tuple[dict[str, int], list[str]]:
        try:
            return csv_import.map_columns(header, columns, mapping, label)
        except InvalidInput as e:
            if "--map" in str(e) and "to --map" not in str(e):
                raise InvalidInput(f"{e} ({_not_an_export(columns)})") from None
            raise

    f = csv_import.open_csv(path, label, columns, encoding=encoding, delimiter=delimiter, fit=fit)
    # the columns it doesn't know, for a deal's custom fields (the import says which)
    unknown = {h.strip(): i for i, h in enumerate(f.header) if h.strip() in f.ignored}
    width = len(f.header)
    present = set(f.columns)
    total = f.line_count()
    dates = _date_reader(f, label)
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
            row = parse(line, values, present, default_currency, dates)
            if isinstance(row, DealRow):
                row.extra = {h: uninert(fields[i]).strip() for h, i in unknown.items()}
            rows.append(row)
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
            row = parse(line, values, set(item), default_currency, DateReader({}))
            if isinstance(row, DealRow):  # keys it doesn't know: maybe custom fields
                row.extra = {
                    k: ("yes" if v else "no") if isinstance(v, bool) else str(v).strip()
                    for k, v in item.items()
                    if k not in known and isinstance(v, str | int | float)
                }
            rows.append(row)
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
    return f"tinycrm's `export {what}`, or a Pipedrive, HubSpot, Salesforce or Zoho export"


def _date_reader(f: csv_import.CsvFile, label: str) -> DateReader:
    """Day or month first, worked out over every date of the file that is not ISO, as
    `import purchases` does (`31.01.2026`, `01/31/2026 2:30 PM`)."""
    cols = [i for name, i in f.columns.items() if name in _DATE_FIELDS]
    seen: dict[str, int] = {}
    if cols:
        for line, fields in f.rows():
            for i in cols:
                text = fields[i].strip() if i < len(fields) else ""
                if text and not _ISO.match(text):
                    seen.setdefault(_TIME_TAIL.sub("", text), line)
    return DateReader.detect(seen, label)


_ISO = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME_TAIL = re.compile(
    r"[ T,]+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?(?:\s*(?:Z|UTC|[+-]\d{2}:?\d{2}))?$"
)


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


def _instant(values: dict[str, Any], key: str, dates: DateReader | None = None) -> datetime | None:
    """ISO 8601 (without a zone, UTC), or as the file writes dates, with a time after it
    (`05.11.2026 14:30`, `11/5/2026 2:30 PM`), read as UTC."""
    v = values.get(key)
    if v is None or not v.strip():
        return None
    text = v.strip()
    when: datetime | None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        when = _other_instant(text, dates)
    if when is None:
        raise csv_import.Unreadable(key, f"not a time like 2026-11-23T09:00:00Z: {quoted(v)}")
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _other_instant(text: str, dates: DateReader | None) -> datetime | None:
    if dates is None:
        return None
    m = _TIME_TAIL.search(text)
    day = dates.parse(_TIME_TAIL.sub("", text) if m else text)
    if isinstance(day, str):
        return None
    hour = minute = second = 0
    if m:
        hour, minute, second = int(m[1]), int(m[2]), int(m[3] or 0)
        if m[4]:
            if not 1 <= hour <= 12:
                return None
            hour = hour % 12 + (12 if m[4].lower() == "pm" else 0)
        if hour > 23 or minute > 59 or second > 59:
            return None
    return datetime(day.year, day.month, day.day, hour, minute, second)


def _day(values: dict[str, Any], key: str, dates: DateReader | None = None) -> date | None:
    v = values.get(key)
    if v is None or not v.strip():
        return None
    try:
        return date.fromisoformat(v.strip()[:10] if _ISO.match(v.strip()) else v.strip())
    except ValueError:
        when = _other_instant(v.strip(), dates)
        if when is None:
            raise csv_import.Unreadable(key, f"not a day like 2026-11-23: {quoted(v)}") from None
        return when.date()


def _text(values: dict[str, Any], key: str) -> str | None:
    try:
        return check_text(values.get(key), key)
    except InvalidInput as e:
        raise csv_import.Unreadable(key, str(e)) from None


#: Other CRMs' activity types -> tinycrm's kinds; "task" is a to-do (an open one becomes a
#: reminder, a done one a note). German as Pipedrive writes it.
KIND_WORDS = {
    "note": "note",
    "notes": "note",
    "notiz": "note",
    "call": "call",
    "calls": "call",
    "phone call": "call",
    "anruf": "call",
    "telefonat": "call",
    "email": "email",
    "e mail": "email",
    "mail": "email",
    "meeting": "meeting",
    "meetings": "meeting",
    "event": "meeting",
    "appointment": "meeting",
    "lunch": "meeting",
    "besprechung": "meeting",
    "termin": "meeting",
    "mittagessen": "meeting",
    "task": "task",
    "tasks": "task",
    "to do": "task",
    "todo": "task",
    "deadline": "task",
    "other": "task",
    "aufgabe": "task",
    "frist": "task",
}
_DONE = {"done", "true", "yes", "1", "x", "completed", "complete", "erledigt", "ja", "closed"}
_NOT_DONE = {
    "to do",
    "todo",
    "false",
    "no",
    "0",
    "not started",
    "in progress",
    "open",
    "waiting on someone else",
    "deferred",
    "offen",
    "nein",
    "nicht erledigt",
}
_NAME_AND_EMAIL = re.compile(r"(.*?)\s*[(<]\s*([^\s()<>]+@[^\s()<>]+)\s*[)>]\s*")


def _kind(values: dict[str, Any]) -> str:
    raw = _required(values, "kind")
    kind = KIND_WORDS.get(csv_import.normalize_header(raw))
    if kind is None:
        words = sorted({"note", "call", "email", "meeting", "task"})
        raise csv_import.Unreadable("kind", f"{quoted(raw)} is none of {', '.join(words)}")
    return kind


def _done(values: dict[str, Any], kind: str) -> bool:
    """Whether an activity happened; without a done column, a task is open, the rest done."""
    raw = values.get("done")
    if raw is None or not raw.strip():
        return kind != "task"
    word = csv_import.normalize_header(raw)
    if word in _DONE:
        return True
    if word in _NOT_DONE:
        return False
    raise csv_import.Unreadable("done", f"not done or to do: {quoted(raw)}")


def _who(values: dict[str, Any]) -> tuple[str | None, str | None]:
    """(contact, contact_name): HubSpot's "Ann Lee (ann@acme.com)" gives both."""
    contact, name = _name(values, "contact"), _name(values, "contact_name")
    for cell in (contact, name):
        m = _NAME_AND_EMAIL.fullmatch(cell or "")
        if m:
            return m[2], (name if cell is contact and name else m[1] or None)
    return contact, name


def _interaction(
    line: int, values: dict[str, Any], present: set[str], _currency: str, dates: DateReader
) -> InteractionRow:
    at = values.get("time")
    if at and at.strip() and values.get("happened_at"):  # Pipedrive: the day, then the time
        values = {**values, "happened_at": f"{values['happened_at'].strip()} {at.strip()}"}
    happened = _instant(values, "happened_at", dates)
    if happened is None:
        raise csv_import.Unreadable("happened_at", "empty")
    kind = _kind(values)
    subject, body = _text(values, "subject"), _text(values, "body")
    text = "\n\n".join(t for t in (subject, body) if t)
    if not text:
        raise csv_import.Unreadable(
            "body", "empty, and so is subject" if "subject" in present else "empty"
        )
    contact, contact_name = _who(values)
    return InteractionRow(
        line=line,
        happened_at=happened,
        kind=kind,
        contact=contact,
        contact_name=contact_name,
        company=_name(values, "company"),
        deal=_name(values, "deal"),
        body=text,
        user=_name(values, "user"),
        user_given="user" in present,
        done=_done(values, kind),
    )


def _probability(raw: str) -> int:
    """`50`, `50%`, `50.0`, or HubSpot's fraction `0.5`, as whole percent."""
    text = raw.strip().rstrip("%").strip().replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise csv_import.Unreadable("probability", f"not a number: {quoted(raw)}") from None
    if "." in text and 0 <= value <= 1 and not raw.strip().endswith("%"):
        value *= 100  # a fraction (HubSpot's "Deal probability")
    if value != value.to_integral_value():
        raise csv_import.Unreadable("probability", f"not a whole percent: {quoted(raw)}")
    return int(value)


#: Deal statuses as other CRMs write them (Pipedrive: open, won, lost; German too).
STATUS_WORDS = {
    "open": "open",
    "offen": "open",
    "won": "won",
    "gewonnen": "won",
    "lost": "lost",
    "verloren": "lost",
}


#: True and false as the flag columns write them (Salesforce: 1/0 or true/false)
FLAG_WORDS = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}


def _flag(values: dict[str, Any], field: str) -> bool | None:
    raw = values.get(field)
    if raw is None or not raw.strip():
        return None
    flag = FLAG_WORDS.get(raw.strip().lower())
    if flag is None:
        raise csv_import.Unreadable(field, f"not true or false (1 or 0): {quoted(raw)}")
    return flag


def _status_from_flags(values: dict[str, Any]) -> str | None:
    """A deal's status from Won/Closed flags (where no status column says it): won, a
    closed deal not won is lost, an open one open; None when the file has neither flag."""
    won, closed = _flag(values, "won"), _flag(values, "closed")
    if won:
        if closed is False:
            raise csv_import.Unreadable("closed", "false, but the deal is won")
        return "won"
    if closed is None:
        return None  # not won says nothing more on its own: the stage decides
    if not closed:
        return "open"
    return "lost" if won is False else None  # closed, won or lost unsaid: the stage decides


def _deal(
    line: int, values: dict[str, Any], present: set[str], currency: str, dates: DateReader
) -> DealRow:
    title = _name(values, "title")
    if not title:
        raise csv_import.Unreadable("title", "empty")
    stage = _name(values, "stage")
    if not stage:
        raise csv_import.Unreadable("stage", "empty")
    raw_status = values.get("status")
    status = None
    if raw_status is not None and raw_status.strip():
        status = STATUS_WORDS.get(csv_import.normalize_header(raw_status))
        if status is None:
            raise csv_import.Unreadable("status", f"not open, won or lost: {quoted(raw_status)}")
    if status is None:
        status = _status_from_flags(values)
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
        probability = _probability(raw_prob)
    contact, contact_name = _who(values)
    return DealRow(
        line=line,
        title=title,
        contact=contact,
        contact_name=contact_name,
        company=_name(values, "company"),
        stage=stage,
        status=status,
        value_cents=cents,
        currency=cur,
        probability=probability,
        expected_close=_day(values, "expected_close", dates),
        lost_reason=_text(values, "lost_reason"),
        closed_at=_instant(values, "closed_at", dates),
        created_at=_instant(values, "created_at", dates),
        owner=_name(values, "owner"),
        owner_given="owner" in present,
    )
