"""`tinycrm export`: records from `services.exports` written as CSV, JSON or vCard.

Everything streams: a writer takes an iterator of records and writes each as it comes, so
an export holds one page of the store in memory however big the store is.

CSV (RFC 4180, UTF-8, CRLF): a header row, then a record per row. Lists (`emails`,
`phones`, `urls`, `tags`) hold their values separated by "; ", `addresses` by " ::: "
(Google's separator: an address may hold "; " itself), a labelled value written
`label: value`. Times are UTC ISO 8601 with a `Z`, days `YYYY-MM-DD`,
money a decimal string. Text keeps its line breaks (quoted, as CSV allows). A text cell
that starts with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`, so a
spreadsheet shows it instead of running it as a formula, and so does one that starts with
`'` (the spreadsheet's escape); tinycrm's imports drop that `'` again, so what was stored
reads back exactly (`text.inert` / `text.uninert`).

JSON: one array, an object per record, the same keys as the CSV header; lists are lists,
methods `{"value", "label"}` objects.

Custom fields (`tinycrm field`) of contacts and deals are a column (a key) each, named
like the field, after the others, written as text: `12000.50 USD` for money, a number's
exact decimal, a day `YYYY-MM-DD`, `yes`/`no`; in vCard an `X-TINYCRM-<NAME>` property.
The imports read them back into the field of that name.

vCard: version 3.0, one card per contact (see `contact_vcard`).

Where it goes (standard output or a file, written whole, private, never over the store)
is `io.outputs`.
"""

from __future__ import annotations

import csv
import dataclasses
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any, TextIO

from tinycrm.dates import important_day_text
from tinycrm.errors import InvalidInput
from tinycrm.money import Money, format_cents
from tinycrm.services.as_written import AsWritten
from tinycrm.services.exports import ContactRecord, Method
from tinycrm.text import inert

# -- values -----------------------------------------------------------------------------------


def jsonable(value: Any) -> Any:
    """A record as plain JSON values: money a decimal string ('1234.50'), times UTC ISO
    8601 with a `Z`, days `YYYY-MM-DD` (the same forms as the CLI's `--json`)."""
    if isinstance(value, Money):
        return format_cents(value.cents)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return important_day_text(value)  # a day without a year (dates.NO_YEAR): --MM-DD
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def method_text(m: Method) -> str:
    """A contact method as one cell: 'work: ann@example.com', or the bare value."""
    return f"{m.label}: {m.value}" if m.label else m.value


#: How a column's list values are joined (default "; ").
SEPARATORS = {"addresses": " ::: ", "as_written": " ::: "}


def csv_cell(value: Any, column: str = "") -> str:
    """One CSV cell: lists joined (`SEPARATORS`), money as a decimal string, times as in
    JSON, text guarded against formula injection (`inert`)."""
    if value is None:
        return ""
    if isinstance(value, list):
        joined = SEPARATORS.get(column, "; ").join(
            method_text(v)
            if isinstance(v, Method)
            else f"{v.field}: {v.value}"
            if isinstance(v, AsWritten)
            else str(v)
            for v in value
        )
        return inert(joined)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime | date | Money):
        return str(jsonable(value))
    return inert(str(value))


# -- writers ----------------------------------------------------------------------------------


def write_csv(out: TextIO, headers: Sequence[str], records: Iterable[Any]) -> int:
    """A header row and one row per dataclass record; returns how many records."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers)
    n = 0
    for rec in records:
        writer.writerow([csv_cell(_value(rec, h), h) for h in headers])
        n += 1
    return n


def _value(rec: Any, column: str) -> Any:
    """A record's column: one of its own, else one of its custom fields (blank if unset)."""
    if hasattr(rec, column):
        return getattr(rec, column)
    return getattr(rec, "fields", {}).get(column)


def _flat(rec: Any) -> Any:
    """A record as JSON, its custom fields as keys of their own (as the CSV has columns)."""
    shown = jsonable(rec)
    if isinstance(shown, dict) and isinstance(shown.get("fields"), dict):
        custom = shown.pop("fields")
        shown.update({k: v for k, v in custom.items() if k not in shown})
    return shown


def write_json(out: TextIO, records: Iterable[Any]) -> int:
    """A JSON array written one element at a time."""
    n = 0
    out.write("[")
    for rec in records:
        out.write(",\n  " if n else "\n  ")
        out.write(json.dumps(_flat(rec), ensure_ascii=False))
        n += 1
    out.write("\n]\n" if n else "]\n")
    return n


def contact_vcard(rec: ContactRecord) -> Any:
    """A vobject vCard 3.0 for a contact: FN (the name as stored) and N (the last word as
    family name when there are several, else the whole name as given name), EMAIL and TEL
    with the method's label as TYPE, ORG, TITLE, NOTE, BDAY, CATEGORIES (tags), URL and ADR
    (the stored address as the street part). 3.0 rather than 4.0: it is what Apple
    Contacts, Google Contacts and Outlook all read and write, and what vobject writes."""
    import vobject

    card = vobject.vCard()
    card.add("fn").value = rec.name
    words = rec.name.split()
    family, given = (words[-1], " ".join(words[:-1])) if len(words) > 1 else ("", rec.name)
    card.add("n").value = vobject.vcard.Name(family=family, given=given)
    for kind, methods in (("email", rec.emails), ("tel", rec.phones), ("url", rec.urls)):
        for m in methods:
            prop = card.add(kind)
            prop.value = m.value
            if m.label:
                prop.params["TYPE"] = [m.label]
    for m in rec.addresses:
        prop = card.add("adr")
        prop.value = vobject.vcard.Address(street=m.value)
        if m.label:
            prop.params["TYPE"] = [m.label]
    if rec.company:
        card.add("org").value = [rec.company]
    if rec.title:
        card.add("title").value = rec.title
    if rec.notes:
        card.add("note").value = rec.notes
    if rec.birthday:
        card.add("bday").value = important_day_text(rec.birthday)  # --03-14 without a year
    if rec.anniversary:
        card.add("anniversary").value = important_day_text(rec.anniversary)
    for a in rec.as_written:  # what an import couldn't read, kept (read back by the import)
        prop = card.add("x-tinycrm-as-written")
        prop.value = a.value
        prop.params["TYPE"] = [a.field]
    if rec.tags:
        card.add("categories").value = list(rec.tags)
    for name, value in rec.fields.items():  # custom fields, read back by the import
        key = name.upper().replace("_", "-")
        if key.isascii() and key.replace("-", "").isalnum():
            card.add("x-tinycrm-" + key.lower()).value = value
        else:  # a property name is ASCII letters, digits and '-'
            prop = card.add("x-tinycrm-field")
            prop.value = value
            prop.params["NAME"] = [name]
    return card


def write_vcards(out: TextIO, records: Iterable[ContactRecord]) -> int:
    n = 0
    for rec in records:
        out.write(contact_vcard(rec).serialize())
        n += 1
    return n


def write_records(out: TextIO, fmt: str, headers: Sequence[str], records: Iterable[Any]) -> int:
    if fmt == "csv":
        return write_csv(out, headers, records)
    if fmt == "json":
        return write_json(out, records)
    if fmt == "vcard":
        return write_vcards(out, records)
    raise InvalidInput(f"unknown format {fmt!r}")
