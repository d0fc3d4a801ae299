"""Contact files read into `ContactRow`s, for `services.imports.contacts`.

Three formats, told by `--format` or worked out from the name and the first bytes:

- **CSV** through the generic reader (`csv_import`: encoding, delimiter, quoted multi-line
  fields, line numbers). The header is matched column by column (`slot_for`), because a
  contact's fields span several columns in real exports: Google (`E-mail 1 - Value`,
  `E-mail 1 - Label`, `Address 1 - City`, `Labels`), Outlook (`E-mail 2 Address`,
  `Mobile Phone`, `Business Street`, `Categories`, `Title` as the name prefix when there
  is a `Job Title`), HubSpot, Salesforce, Pipedrive (`Person - Email - Work`), Zoho,
  Apple-style (`Email (work)`), plain `name,email,phone,company`, and tinycrm's own
  export (`emails`/`phones`/`tags` holding several values separated by "; ", each email
  or phone maybe prefixed with its label, `work: ann@acme.com`).
- **vCard** 2.1, 3.0 and 4.0, parsed by vobject card by card (so an error names the card's
  line): quoted-printable values with soft line breaks and CHARSET, folded lines, types
  as labels (`TEL;CELL`, `TYPE=work,voice`, Apple's `itemN.X-ABLabel`), ORG, TITLE, NOTE,
  BDAY and ANNIVERSARY (with or without a year), CATEGORIES as tags, URL, ADR. PHOTO is
  left out and counted.
- **JSON**: the array `tinycrm export contacts --format json` writes (the CSV's keys, with
  `emails`/`phones` as lists of `{"value", "label"}` and `tags` as a list).

File-level problems raise InvalidInput; a row that can't be read becomes a `RowError` with
its line and field, and the service decides whether that stops the import. A birthday or
anniversary that is no date goes to the row's `odd` values, which the service keeps as
written (or refuses with `--strict`), as it does a phone, email or address that does not
validate.

Columns the reader doesn't know (a CSV header, a JSON key with a plain value, a vCard
`X-TINYCRM-<NAME>` property or `X-TINYCRM-FIELD;NAME=...`) come along in the row's `extra`:
the import maps those named like one of the store's custom fields to it.
"""

from __future__ import annotations

import json
import quopri
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import Any

from tinycrm.dates import parse_important_day
from tinycrm.errors import InvalidInput
from tinycrm.io import csv_import
from tinycrm.io.csv_values import DateReader
from tinycrm.io.outputs import Output, write_text
from tinycrm.services.as_written import AsWritten
from tinycrm.services.imports.bulk import RowError, quoted
from tinycrm.services.imports.contacts import ContactImportSource, ContactRow, Method
from tinycrm.text import uninert

FORMATS = ("csv", "vcard", "json")
PROGRESS_EVERY = 5_000

#: What `--map COLUMN=FIELD` may name (a method field may carry a label: `email:work`).
FIELDS = (
    "name",
    "first_name",
    "middle_name",
    "last_name",
    "company",
    "title",
    "email",
    "phone",
    "url",
    "address",
    "tags",
    "notes",
    "birthday",
    "anniversary",
    "as_written",
    "source",
    "owner",
    "cadence_days",
    "consent",
    "consent_at",
    "opted_out_at",
    "created_at",
    "ignore",
)
_METHODS = ("email", "phone", "url", "address")


ContactFile = csv_import.ImportFile[ContactRow]


def read_contacts(
    path: Path,
    label: str,
    *,
    fmt: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    mapping: dict[str, Slot] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    custom: Iterable[str] = (),
) -> ContactFile:
    """Read `path` (see the module docstring). A CSV column named like one of `custom`
    (the store's custom fields of contacts) is that field's, even where the reader knows
    the name (`Region`, `Source`): it goes to the row's `extra`."""
    if fmt is not None:
        fmt = fmt.strip().lower()
        fmt = {"vcf": "vcard", "vcards": "vcard"}.get(fmt, fmt)
        if fmt not in FORMATS:
            raise InvalidInput(f"--format must be one of {', '.join(FORMATS)}: {fmt!r}")
    if fmt in ("vcard", "json") and (delimiter or mapping):
        raise InvalidInput(f"--delimiter and --map are for CSV files, not {fmt}")
    if fmt is None:
        fmt = _detect_format(path, label)
    if fmt == "csv":
        return _read_csv(path, label, encoding, delimiter, mapping or {}, progress, custom)
    data = csv_import._read_bytes(path, label)
    text, used, guessed, write_as = csv_import.decode(data, label, encoding)
    if fmt == "vcard":
        return _read_vcard(text, label, used, guessed, write_as)
    return _read_json(text, label, used, guessed)


def _detect_format(path: Path, label: str) -> str:
    suffix = path.suffix.lower()
    if suffix in (".vcf", ".vcard"):
        return "vcard"
    if suffix == ".json":
        return "json"
    if suffix in (".csv", ".tsv", ".txt"):
        return "csv"
    try:
        with path.open("rb") as f:
            head = f.read(4096)
    except OSError:
        return "csv"  # the CSV reader says what is wrong with the file
    start = head.lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n").replace(b"\x00", b"")
    if start[:11].upper() == b"BEGIN:VCARD":
        return "vcard"
    if start[:1] == b"[":
        return "json"
    return "csv"


# -- CSV: which column holds what -----------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    """What one column holds: a field, maybe with a label (`phone`, "mobile") and a group
    (Google's `Address 1 - City` and `Address 1 - Street` make one address)."""

    field: str  # a FIELDS name, "label" (of the methods of `kind` in `group`), or "addr:PART"
    label: str | None = None
    group: str = ""
    kind: str | None = None  # for "label" slots: whose label

    def shown(self) -> str:
        name = "address" if self.field.startswith("addr:") else self.field
        if self.field == "label":
            return f"{self.kind} label"
        part = f" {self.field[5:]}" if self.field.startswith("addr:") else ""
        return name + part + (f" ({self.label})" if self.label else "")


_LABELS = {
    "business": "work",
    "work": "work",
    "office": "work",
    "company": "work",
    "home": "home",
    "personal": "home",
    "private": "home",
    "mobile": "mobile",
    "cell": "mobile",
    "cellular": "mobile",
    "handy": "mobile",
    "other": "other",
    "main": "main",
    "primary": "main",
    "secondary": "other",
    "fax": "fax",
    "pager": "pager",
    "assistant": "assistant",
    "car": "car",
    "radio": "radio",
    "mailing": "mailing",
    "billing": "billing",
    "shipping": "shipping",
}
_KIND_WORDS = {
    "email": "email",
    "e mail": "email",
    "e mail address": "email",
    "email address": "email",
    "mail": "email",
    "phone": "phone",
    "phone number": "phone",
    "telephone": "phone",
    "tel": "phone",
    "fax": "phone",
    "mobile": "phone",
    "mobile phone": "phone",
    "mobile phone number": "phone",
    "website": "url",
    "web page": "url",
    "web site": "url",
    "website url": "url",
    "url": "url",
    "homepage": "url",
    "address": "address",
}
_PARTS = {
    "street": "street",
    "street address": "street",
    "street 1": "street",
    "address line 1": "street",
    "street 2": "street2",
    "address line 2": "street2",
    "street 3": "street3",
    "extended address": "street2",
    "po box": "pobox",
    "city": "city",
    "town": "city",
    "state": "region",
    "region": "region",
    "state region": "region",
    "state province": "region",
    "province": "region",
    "postal code": "code",
    "postcode": "code",
    "zip": "code",
    "zip code": "code",
    "zip postal code": "code",
    "country": "country",
    "country region": "country",
}
_PART_ORDER = ("street", "street2", "street3", "pobox", "city", "region", "code", "country")
_EXACT = {
    "name": "name",
    "full name": "name",
    "display name": "name",
    "contact name": "name",
    "contact": "name",
    "person": "name",
    "file as": None,
    "first name": "first_name",
    "given name": "first_name",
    "firstname": "first_name",
    "vorname": "first_name",
    "middle name": "middle_name",
    "additional name": "middle_name",
    "last name": "last_name",
    "family name": "last_name",
    "surname": "last_name",
    "lastname": "last_name",
    "nachname": "last_name",
    "company": "company",
    "company name": "company",
    "organization": "company",
    "organisation": "company",
    "organization name": "company",
    "org": "company",
    "account name": "company",
    "account": "company",
    "firma": "company",
    "unternehmen": "company",
    "job title": "title",
    "organization title": "title",
    "position": "title",
    "role": "title",
    "title": "title",
    "emails": "email",
    "phones": "phone",
    "urls": "url",
    "addresses": "address",
    "email": "email",
    "secondary email": "email",
    "phone": "phone",
    "tags": "tags",
    "tag": "tags",
    "labels": "tags",
    "label": "tags",
    "categories": "tags",
    "category": "tags",
    "group membership": "tags",
    "groups": "tags",
    "notes": "notes",
    "note": "notes",
    "description": "notes",
    "comments": "notes",
    "comment": "notes",
    "notizen": "notes",
    "birthday": "birthday",
    "birthdate": "birthday",
    "date of birth": "birthday",
    "geburtstag": "birthday",
    "anniversary": "anniversary",
    "wedding anniversary": "anniversary",
    "jahrestag": "anniversary",
    "hochzeitstag": "anniversary",
    "as written": "as_written",
    "source": "source",
    "lead source": "source",
    "owner": "owner",
    "cadence days": "cadence_days",
    "consent": "consent",
    "consent at": "consent_at",
    "opted out at": "opted_out_at",
    "created at": "created_at",
    "website": "url",
    "address": "address",
}
# Google's numbered groups: "E-mail 1 - Value", "Phone 2 - Label", "Address 1 - City"...
_NUMBERED = re.compile(r"(e mail|email|phone|website|address|organization) (\d+) (.+)")
_NUMBERED_KIND = {
    "e mail": "email",
    "email": "email",
    "phone": "phone",
    "website": "url",
    "address": "address",
}


def slot_for(key: str, has_job_title: bool) -> Slot | None:
    """The slot of a normalized header (csv_import.normalize_header), or None to ignore it."""
    if key == "person owner":
        return None  # a Pipedrive user, not a tinycrm one (--map it to owner if it is)
    key = re.sub(r"^person ", "", key)  # Pipedrive: "Person - Email - Work"
    if key == "title" and has_job_title:
        return None  # Outlook: "Title" is Mr./Ms. when there is a "Job Title"
    if key in _EXACT:
        target = _EXACT[key]
        return Slot(target) if target else None
    m = _NUMBERED.fullmatch(key)
    if m:
        word, n, part = m.groups()
        if word == "organization":
            if n != "1":
                return None
            return {"name": Slot("company"), "title": Slot("title")}.get(part)
        kind = _NUMBERED_KIND[word]
        if part in ("label", "type"):
            return Slot("label", group=n, kind=kind)
        if part in ("value", "formatted", "address"):
            return Slot(kind, group=n)
        if kind == "address" and part in _PARTS:
            return Slot(f"addr:{_PARTS[part]}", group=n)
        return None
    m = re.fullmatch(r"(.+) \((.+)\)", key)  # "Email (work)", "Phone (mobile)"
    if m and m[1] in _KIND_WORDS:
        return Slot(_KIND_WORDS[m[1]], _label(m[2]), group=key)
    # "Business Street 2", "Business Phone 2", "Mobile Phone", "Home Email", "Email Work"
    found = _labelled_slot(key, key.split())
    if found is None and key.split()[-1:] and key.split()[-1].isdigit():
        found = _labelled_slot(key, key.split()[:-1])
    if found is not None:
        return found
    if key in _PARTS:
        return Slot(f"addr:{_PARTS[key]}", group="")
    if key in _KIND_WORDS:
        kind = _KIND_WORDS[key]
        label = "mobile" if key.startswith("mobile") else ("fax" if key == "fax" else None)
        return Slot(kind, label)
    return None


def _labelled_slot(key: str, words: list[str]) -> Slot | None:
    for i in range(1, len(words)):
        head, tail = " ".join(words[:i]), " ".join(words[i:])
        if tail in _KIND_WORDS and head in _LABELS:
            kind = _KIND_WORDS[tail]
            label = "fax" if tail == "fax" else _label(head)
            if tail == "fax" and head != "fax":
                label = f"{_label(head)} fax"
            return Slot(kind, label, group=key)
        if head in _KIND_WORDS and tail in _LABELS:
            return Slot(_KIND_WORDS[head], _label(tail), group=key)
        if tail in _PARTS and head in _LABELS:
            return Slot(f"addr:{_PARTS[tail]}", _label(head), group=head)
    return None


def _label(word: str) -> str:
    return _LABELS.get(word, word)


def parse_mapping(specs: Iterable[str]) -> dict[str, Slot]:
    """`--map Handy=phone:mobile,Firma=company` (repeatable) -> {normalized header: slot}."""
    out: dict[str, Slot] = {}
    for key, target in csv_import.map_pairs(specs, "Handy=phone"):
        name, _, label = target.partition(":")
        name = name.strip().replace("-", "_")
        if name not in FIELDS:
            raise InvalidInput(
                f"--map: {name!r} is not a field; the fields are {', '.join(FIELDS)}"
            )
        if label and name not in _METHODS:
            raise InvalidInput(f"--map: only {', '.join(_METHODS)} take a label: {target!r}")
        out[key] = Slot(name, label.strip() or None, group=f"map:{key}")
    return out


def _fit(mapping: dict[str, Slot], label: str, custom: Iterable[str] = ()) -> csv_import.Fit:
    own = {csv_import.normalize_header(n) for n in custom}

    def fit(header: list[str]) -> tuple[dict[str, int], list[str]]:
        keys = [csv_import.normalize_header(h) for h in header]
        shown = ", ".join(h.strip() for h in header if h.strip()) or "none"
        for key in mapping:
            if key not in keys:
                raise InvalidInput(f"{label} has no column {key!r} to --map (columns: {shown})")
        job_title = any(re.sub(r"^person ", "", k) == "job title" for k in keys)
        found: dict[str, int] = {}
        ignored: list[str] = []
        for i, key in enumerate(keys):
            if key in own and key not in mapping:  # the store's own field wins
                found[_encode(Slot("extra", header[i].strip()), i)] = i
                continue
            slot = mapping[key] if key in mapping else slot_for(key, job_title)
            if slot is None or slot.field == "ignore":
                if header[i].strip():
                    ignored.append(header[i].strip())
                    if slot is None:  # maybe a custom field's (the import says)
                        found[_encode(Slot("extra", header[i].strip()), i)] = i
                continue
            found[_encode(slot, i)] = i
        fields = {_decode(k).field for k in found}
        if not fields & {"name", "first_name", "last_name", "email", "company"}:
            raise InvalidInput(
                f"{label} has no name or email column (columns: {shown});"
                " name one with --map COLUMN=name"
            )
        return found, ignored

    return fit


def _encode(slot: Slot, index: int) -> str:
    """CsvFile.columns wants one string per column; this one carries the slot."""
    return json.dumps([slot.field, slot.label, slot.group, slot.kind, index])


def _decode(key: str) -> Slot:
    f, label, group, kind, _ = json.loads(key)
    return Slot(f, label, group, kind)


def _read_csv(
    path: Path,
    label: str,
    encoding: str | None,
    delimiter: str | None,
    mapping: dict[str, Slot],
    progress: Callable[[str, int, int], None] | None,
    custom: Iterable[str] = (),
) -> ContactFile:
    f = csv_import.open_csv(
        path, label, (), encoding=encoding, delimiter=delimiter, fit=_fit(mapping, label, custom)
    )
    slots = sorted(((i, _decode(k)) for k, i in f.columns.items()), key=lambda s: s[0])
    width = len(f.header)
    birthday_cols = [i for i, s in slots if s.field in ("birthday", "anniversary")]
    seen: dict[str, int] = {}
    for line, fields in f.rows():
        for i in birthday_cols:
            value = fields[i].strip() if i < len(fields) else ""
            if value and not _yearless(value) and not _outlook_blank(value):
                seen.setdefault(value, line)
    dates = DateReader.detect(seen, label)
    rows: list[ContactRow] = []
    errors: list[RowError] = []
    total = f.line_count()
    for n, (line, fields) in enumerate(f.rows()):
        if progress and n % PROGRESS_EVERY == 0:
            progress("read", line, total)
        if len(fields) > width and any(x.strip() for x in fields[width:]):
            errors.append(RowError(line, None, f"{len(fields)} fields, but the header has {width}"))
            continue
        try:
            rows.append(_csv_row(line, fields, slots, dates))
        except csv_import.Unreadable as e:
            errors.append(RowError(line, e.field, e.message))
    if progress:
        progress("read", total, total)
    columns = {f.header[i].strip(): s.shown() for i, s in slots if s.field != "extra"}

    source = ContactImportSource(
        file=label,
        format="csv",
        encoding=f.encoding,
        encoding_guessed=f.encoding_guessed,
        delimiter=csv_import.DELIMITER_NAMES.get(f.delimiter, f.delimiter),
        columns=columns,
        ignored_columns=f.ignored,
    )
    return ContactFile(source, rows, errors, partial(csv_import.write_rejects, f), ".csv")


_SPLIT = {
    "email": re.compile(r"\s*(?::::|;|,)\s*"),
    "phone": re.compile(r"\s*(?::::|;)\s*"),
    "url": re.compile(r"\s*(?::::|;)\s*|\s+"),
    "address": re.compile(r"\s*:::\s*"),
    "tags": re.compile(r"\s*(?::::|;|,)\s*"),
}
_LABELLED = re.compile(r"([A-Za-z][\w \-]{0,29}):\s+(\S.*)", re.DOTALL)


def _values(kind: str, text: str) -> list[str]:
    return [v for v in _SPLIT[kind].split(text.strip()) if v.strip()]


def _yearless(text: str) -> bool:
    return bool(re.fullmatch(r"--\d{2}-?\d{2}", text.strip()))


def _outlook_blank(text: str) -> bool:
    return text.strip() in ("0/0/00", "0/0/0000", "00.00.0000", "0000-00-00")


def _csv_row(
    line: int, fields: list[str], slots: list[tuple[int, Slot]], dates: DateReader
) -> ContactRow:
    row = ContactRow(line)
    names: dict[str, str] = {}
    labels: dict[tuple[str, str], str] = {}
    methods: list[tuple[Slot, str]] = []
    parts: dict[tuple[str, str | None], dict[str, str]] = {}
    for i, slot in slots:
        # a cell that an export guarded against formula injection ("'=...") reads back
        value = uninert(fields[i].strip()) if i < len(fields) else ""
        if not value:
            continue
        f = slot.field
        if f == "extra" and slot.label:
            row.extra[slot.label] = value
        elif f == "label" and slot.kind:
            labels[(slot.kind, slot.group)] = value
        elif f in _METHODS:
            methods.append((slot, value))
        elif f.startswith("addr:"):
            parts.setdefault((slot.group, slot.label), {})[f[5:]] = value
        elif f in ("name", "first_name", "middle_name", "last_name"):
            names.setdefault(f, value)
        elif f == "tags":
            row.tags += [t.removeprefix("* ") for t in _values("tags", value)]
        elif f == "notes":
            row.notes = value if row.notes is None else f"{row.notes}\n{value}"
        elif f in ("birthday", "anniversary"):
            setattr(row, f, getattr(row, f) or _csv_birthday(row, value, dates, f))
        elif f == "as_written":
            row.as_written += _as_written_cell(value)
        elif f == "cadence_days":
            row.cadence_days = _int(value, "cadence_days")
        elif f in ("consent_at", "opted_out_at", "created_at"):
            setattr(row, f, parse_instant(value, f))
        elif getattr(row, f) is None:
            setattr(row, f, value)
    for slot, value in methods:
        label = labels.get((slot.field, slot.group), slot.label)
        if label:
            label = _label(label.removeprefix("* ").strip().lower())
        for v in _values(slot.field, value) if slot.field != "address" else [value]:
            row.methods.append(_method(slot.field, v, label))
    formatted = {s.group for s, _ in methods if s.field == "address"}
    for (group, label), bits in parts.items():
        if group and group in formatted:
            continue  # Google gives "Address 1 - Formatted" too
        text = ", ".join(bits[p] for p in _PART_ORDER if p in bits)
        row.methods.append(Method("address", text, labels.get(("address", group), label)))
    row.tags = [t for t in row.tags if t.strip().lower() not in ("mycontacts", "")]
    row.name = names.get("name") or " ".join(
        names[k] for k in ("first_name", "middle_name", "last_name") if k in names
    )
    return row


def _method(kind: str, value: str, label: str | None) -> Method:
    """A value maybe written with its label in front, as tinycrm's export does."""
    m = _LABELLED.fullmatch(value)
    if m and "@" not in m[1]:
        return Method(kind, m[2].strip(), m[1].strip().lower())
    return Method(kind, value, label)


def _csv_birthday(
    row: ContactRow, value: str, dates: DateReader, what: str = "birthday"
) -> date | None:
    """A day as the file's dates are written, or without a year (`--03-14`, `--0314`); one
    that can't be read is kept as written (the row's error with --strict)."""
    if _outlook_blank(value):
        return None
    if _yearless(value):
        return _no_year(row, value, what)
    day = dates.parse(value)
    if isinstance(day, str):
        row.odd.append(AsWritten(what, value.strip(), day))
        return None
    return day


def _no_year(row: ContactRow, value: str, what: str) -> date | None:
    try:
        return parse_important_day(value, field=what)
    except InvalidInput as e:
        row.odd.append(AsWritten(what, value.strip(), str(e).removeprefix(f"{what}: ")))
        return None


def _as_written_cell(value: str) -> list[AsWritten]:
    """tinycrm's CSV export's `as_written`: `field: value` joined by " ::: "."""
    out = []
    for item in _SPLIT["address"].split(value.strip()):
        field_, sep, text = item.partition(": ")
        if item.strip():
            out.append(
                AsWritten(field_.strip(), text, "as written")
                if sep
                else AsWritten("unknown", item, "as written")
            )
    return out


def _int(value: str, what: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        raise csv_import.Unreadable(what, f"not a whole number: {quoted(value)}") from None


def parse_instant(value: str, what: str) -> datetime:
    """An ISO 8601 time (`2026-11-23T09:00:00Z`) or day; without a zone, UTC."""
    text = value.strip()
    try:
        when = datetime.fromisoformat(text.replace(" ", "T", 1) if " " in text else text)
    except ValueError:
        raise csv_import.Unreadable(
            what, f"not a time like 2026-11-23T09:00:00Z: {quoted(value)}"
        ) from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


# -- vCard ----------------------------------------------------------------------------------

_IGNORED_TYPES = {"internet", "pref", "voice", "x400", "x-internet", "msg", "text", "uri"}
_AB_LABEL = re.compile(r"_\$!<(.+)>!\$_")
_QP_PARAM = re.compile(r"^[^:]*;(?:ENCODING=)?QUOTED-PRINTABLE[;:]", re.IGNORECASE)


@dataclass
class _Card:
    line: int
    lines: list[str] = field(default_factory=list)


def _cards(text: str, label: str) -> list[_Card]:
    """The cards of a file, each with the line its BEGIN:VCARD is on."""
    cards: list[_Card] = []
    current: _Card | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        upper = raw.strip().upper()
        if upper == "BEGIN:VCARD":
            if current is not None:
                raise InvalidInput(
                    f"{label} line {number}: a card begins before the one at line"
                    f" {current.line} ends (END:VCARD missing)"
                )
            current = _Card(number)
        if current is not None:
            current.lines.append(raw)
            if upper == "END:VCARD":
                cards.append(current)
                current = None
        elif raw.strip():
            raise InvalidInput(f"{label} line {number}: {quoted(raw)} is outside any card")
    if current is not None:
        raise InvalidInput(f"{label} line {current.line}: the card never ends (no END:VCARD)")
    if not cards:
        raise InvalidInput(f"{label} has no cards (no BEGIN:VCARD)")
    return cards


def _unfold_qp(lines: list[str]) -> str:
    """The card with vCard 2.1's quoted-printable values decoded, which vobject does only
    partly (no soft line breaks, "=" at the end of a line; UTF-8 when CHARSET is missing):
    each becomes a plain 3.0-style value, its charset the CHARSET parameter, else UTF-8,
    else cp1252 (Outlook). Normal folding (a leading space) vobject undoes itself."""
    out: list[str] = []
    joining = False
    for raw in lines:
        if joining:
            out[-1] = out[-1][:-1] + raw
        else:
            out.append(raw)
        joining = bool(_QP_PARAM.match(out[-1])) and out[-1].endswith("=")
    return "\r\n".join(_decode_qp(line) for line in out) + "\r\n"


def _decode_qp(line: str) -> str:
    if not _QP_PARAM.match(line):
        return line
    head, _, value = line.partition(":")
    params = head.split(";")
    charset = next(
        (p.split("=", 1)[1] for p in params[1:] if p.upper().startswith("CHARSET=")), None
    )
    kept = [
        p
        for p in params
        if p.upper() not in ("ENCODING=QUOTED-PRINTABLE", "QUOTED-PRINTABLE")
        and not p.upper().startswith("CHARSET=")
    ]
    data = quopri.decodestring(value.encode("latin-1", "replace"))
    text = None
    for enc in (charset, "utf-8", "cp1252"):
        if not enc:
            continue
        try:
            text = data.decode(enc)
            break
        except (LookupError, UnicodeDecodeError):
            continue
    if text is None:
        text = data.decode("cp1252", errors="replace")
    text = text.replace("\\", "\\\\").replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\n", "\\n")
    if params[0].split(".")[-1].upper() not in ("N", "ADR", "ORG", "CATEGORIES"):
        text = text.replace(",", "\\,").replace(";", "\\;")
    return ";".join(kept) + ":" + text


def _types(prop: Any) -> list[str]:
    found: list[str] = []
    for t in [*prop.params.get("TYPE", []), *prop.singletonparams]:
        for piece in str(t).split(","):
            piece = piece.strip().strip('"').lower()
            if piece and piece not in _IGNORED_TYPES and piece not in found:
                found.append(piece)
    return found


def _vcard_label(prop: Any, ab_labels: dict[str, str]) -> str | None:
    if prop.group and prop.group.lower() in ab_labels:
        return ab_labels[prop.group.lower()]
    types = _types(prop)
    if not types:
        return None
    if "fax" in types:
        other = [t for t in types if t != "fax"]
        return f"{_label(other[0])} fax" if other else "fax"
    for t in types:
        if t in ("cell", "mobile", "iphone"):
            return "mobile"
    return _label(types[0])


def _read_vcard(text: str, label: str, encoding: str, guessed: bool, write_as: str) -> ContactFile:
    import vobject

    cards = _cards(text, label)
    rows: list[ContactRow] = []
    errors: list[RowError] = []
    used: dict[str, str] = {}
    ignored: dict[str, None] = {}
    for card in cards:
        try:
            parsed = vobject.readOne(_unfold_qp(card.lines), ignoreUnreadable=False)
        except Exception as e:  # vobject raises ParseError, and others on odd input
            why = str(e).split(": ", 1)[-1] if "line" in str(e) else str(e)
            errors.append(RowError(card.line, None, f"can't read this card: {quoted(why)}"))
            continue
        try:
            rows.append(_card_row(card.line, parsed, used, ignored))
        except csv_import.Unreadable as e:
            errors.append(RowError(card.line, e.field, e.message))
    by_line = {c.line: c for c in cards}

    def write(target: Output, errs: list[RowError]) -> None:
        chunks: list[str] = []
        for e in errs:
            card = by_line[e.line]
            note = e.reason().replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;")
            chunks.append(
                "\r\n".join([card.lines[0], f"X-TINYCRM-ERROR:{note}", *card.lines[1:]]) + "\r\n"
            )
        _write_atomically(target, "".join(chunks), write_as)

    source = ContactImportSource(
        file=label,
        format="vcard",
        encoding=encoding,
        encoding_guessed=guessed,
        delimiter=None,
        columns=used,
        ignored_columns=list(ignored),
    )
    return ContactFile(source, rows, errors, write, ".vcf")


_VCARD_FIELDS = {
    "FN": "name",
    "N": "name",
    "ORG": "company",
    "TITLE": "title",
    "NOTE": "notes",
    "BDAY": "birthday",
    "ANNIVERSARY": "anniversary",
    "X-ANNIVERSARY": "anniversary",
    "X-MS-ANNIVERSARY": "anniversary",
    "X-TINYCRM-AS-WRITTEN": "as_written",
    "EMAIL": "email",
    "TEL": "phone",
    "URL": "url",
    "ADR": "address",
    "CATEGORIES": "tags",
    "PHOTO": "photo (left out)",
}


def _card_row(line: int, card: Any, used: dict[str, str], ignored: dict[str, None]) -> ContactRow:
    row = ContactRow(line)
    ab_labels: dict[str, str] = {}
    for prop in card.getChildren():
        if prop.name == "X-ABLABEL" and prop.group:
            value = str(prop.value)
            m = _AB_LABEL.fullmatch(value)
            ab_labels[prop.group.lower()] = _label((m[1] if m else value).strip().lower())
    full = given = None
    notes: list[str] = []
    for prop in card.getChildren():
        name = prop.name
        if name in ("VERSION", "X-ABLABEL", "BEGIN", "END"):
            continue
        if name in _VCARD_FIELDS:
            used.setdefault(name, _VCARD_FIELDS[name])
        else:
            if name == "X-TINYCRM-FIELD" and prop.params.get("NAME"):
                name = f"{name};NAME={prop.params['NAME'][0]}"
            ignored.setdefault(name, None)
            if name.startswith("X-TINYCRM-"):  # maybe a custom field's (the import says)
                row.extra[name] = str(prop.value).strip()
            continue
        value = prop.value
        if name == "FN":
            full = full or str(value).strip()
        elif name == "N":
            given = given or _n_name(value)
        elif name == "ORG":
            parts = value if isinstance(value, list) else [str(value)]
            row.company = row.company or (parts[0].strip() if parts else None) or None
        elif name == "TITLE":
            row.title = row.title or str(value).strip() or None
        elif name == "NOTE":
            if str(value).strip():
                notes.append(str(value).strip())
        elif name == "BDAY":
            row.birthday = row.birthday or _vcard_birthday(row, str(value))
        elif _VCARD_FIELDS[name] == "anniversary":
            row.anniversary = row.anniversary or _vcard_birthday(row, str(value), "anniversary")
        elif name == "X-TINYCRM-AS-WRITTEN":
            kind = (_types(prop) or ["unknown"])[0]
            row.as_written.append(AsWritten(kind, str(value), "as written"))
        elif name == "CATEGORIES":
            tags = value if isinstance(value, list) else [value]
            row.tags += [str(t) for t in tags if str(t).strip().lower() != "mycontacts"]
        elif name == "PHOTO":
            if "photo" not in row.dropped:
                row.dropped.append("photo")
        elif name == "ADR":
            row.methods.append(Method("address", _adr_text(value), _vcard_label(prop, ab_labels)))
        else:
            kind = _VCARD_FIELDS[name]
            text = str(value).strip()
            if kind == "phone":
                text = re.sub(r"^tel:", "", text, flags=re.IGNORECASE)
            elif kind == "email":
                text = re.sub(r"^mailto:", "", text, flags=re.IGNORECASE)
            row.methods.append(Method(kind, text, _vcard_label(prop, ab_labels)))
    row.name = full or given
    row.notes = "\n".join(notes) or None
    return row


_CJK = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


def _n_name(value: Any) -> str | None:
    """The name an N property spells (given, middle, family; family first for CJK)."""

    def part(x: Any) -> str:
        return " ".join(x) if isinstance(x, list) else str(x or "")

    given, extra, family = part(value.given), part(value.additional), part(value.family)
    suffix = part(value.suffix)
    if _CJK.search(family + given):
        return (family + given).strip() or None
    return " ".join(p for p in (given, extra, family, suffix) if p.strip()).strip() or None


def _adr_text(value: Any) -> str:
    def part(x: Any) -> str:
        return ", ".join(x) if isinstance(x, list) else str(x or "")

    bits = [part(value.street), part(value.extended), part(value.box), part(value.city)]
    bits += [part(value.region), part(value.code), part(value.country)]
    return ", ".join(" ".join(b.split()) for b in bits if b.strip())


def _vcard_birthday(row: ContactRow, text: str, what: str = "birthday") -> date | None:
    """BDAY or ANNIVERSARY: `1985-03-14`, `19850314`, with a time after it, or without a
    year (`--03-14`, `--0314`, Apple's `1604-03-14`); anything else (`circa 1800`, vCard
    4.0's text value) is kept as written (the card's error with --strict)."""
    raw = text.strip()
    m = re.fullmatch(r"(\d{4})-?(\d{2})-?(\d{2})(?:T.*)?", raw)
    if m:
        try:
            return date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            row.odd.append(AsWritten(what, raw, f"no such day: {quoted(raw)}"))
            return None
    if re.fullmatch(r"--\d{2}-?\d{2}", raw):
        return _no_year(row, raw, what)
    row.odd.append(AsWritten(what, raw, f"not a date: {quoted(raw)} (vCard wants 1985-03-14)"))
    return None


# -- JSON -----------------------------------------------------------------------------------

_JSON_KEYS = {
    "name": "name",
    "company": "company",
    "title": "title",
    "emails": "email",
    "phones": "phone",
    "urls": "url",
    "addresses": "address",
    "tags": "tags",
    "birthday": "birthday",
    "anniversary": "anniversary",
    "as_written": "as_written",
    "notes": "notes",
    "source": "source",
    "owner": "owner",
    "cadence_days": "cadence_days",
    "consent": "consent",
    "consent_at": "consent_at",
    "opted_out_at": "opted_out_at",
    "created_at": "created_at",
}
_JSON_SKIP = ("id", "line", "error", "updated_at")  # an export's id; a rejects file's notes


def _read_json(text: str, label: str, encoding: str, guessed: bool) -> ContactFile:
    items = _json_items(text, label)
    rows: list[ContactRow] = []
    errors: list[RowError] = []
    used: dict[str, str] = {}
    ignored: dict[str, None] = {}
    for line, item in items:
        if not isinstance(item, dict):
            errors.append(RowError(line, None, "not an object with a contact's keys"))
            continue
        try:
            rows.append(_json_row(line, item, used, ignored))
        except csv_import.Unreadable as e:
            errors.append(RowError(line, e.field, e.message))
    source = ContactImportSource(
        file=label,
        format="json",
        encoding=encoding,
        encoding_guessed=guessed,
        delimiter=None,
        columns=used,
        ignored_columns=list(ignored),
    )
    write = partial(csv_import.write_json_rejects, dict(items))
    return ContactFile(source, rows, errors, write, ".json")


def _json_items(text: str, label: str) -> list[tuple[int, Any]]:
    """The array's items with the line each starts on."""
    decoder = json.JSONDecoder()
    pos = len(text) - len(text.lstrip())
    if text[pos : pos + 1] != "[":
        raise InvalidInput(f"{label} is not a JSON array of contacts (it must start with '[')")
    pos += 1
    items: list[tuple[int, Any]] = []
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text):
            raise InvalidInput(f"{label}: the JSON array never ends (no ']')")
        if text[pos] == "]":
            break
        line = text.count("\n", 0, pos) + 1
        try:
            item, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as e:
            raise InvalidInput(f"{label} line {e.lineno}: not valid JSON: {e.msg}") from None
        except RecursionError:  # arrays or objects inside each other, thousands deep
            raise InvalidInput(f"{label} line {line}: nested too deeply to read") from None
        items.append((line, item))
    return items


def _json_row(
    line: int, item: dict[str, Any], used: dict[str, str], ignored: dict[str, None]
) -> ContactRow:
    row = ContactRow(line)
    for key, value in item.items():
        if key in _JSON_SKIP:
            continue
        target = _JSON_KEYS.get(key)
        if target is None:
            ignored.setdefault(key, None)
            if isinstance(value, bool):  # maybe a custom field's (the import says)
                row.extra[key] = "yes" if value else "no"
            elif isinstance(value, str | int | float) and str(value).strip():
                row.extra[key] = str(value).strip()
            continue
        used.setdefault(key, target)
        if value is None or value == "" or value == []:
            continue
        if target in _METHODS:
            for entry in value if isinstance(value, list) else [value]:
                if isinstance(entry, dict):
                    v, lab = entry.get("value"), entry.get("label")
                else:
                    v, lab = entry, None
                if not isinstance(v, str) or not (lab is None or isinstance(lab, str)):
                    raise csv_import.Unreadable(
                        target, f"not a {target}: {quoted(json.dumps(entry))}"
                    )
                row.methods.append(Method(target, v, lab))
        elif target == "tags":
            tags = value if isinstance(value, list) else _values("tags", str(value))
            row.tags += [str(t) for t in tags]
        elif target in ("birthday", "anniversary"):
            text = str(value)
            if _yearless(text):
                setattr(row, target, _no_year(row, text, target))
            else:
                try:
                    setattr(row, target, date.fromisoformat(text))
                except ValueError:
                    row.odd.append(AsWritten(target, text, f"not a date: {quoted(text)}"))
        elif target == "as_written":
            for entry in value if isinstance(value, list) else [value]:
                if isinstance(entry, dict):
                    row.as_written.append(
                        AsWritten(
                            str(entry.get("field", "unknown")),
                            str(entry.get("value", "")),
                            str(entry.get("why", "as written")),
                        )
                    )
                else:
                    row.as_written.append(AsWritten("unknown", str(entry), "as written"))
        elif target == "cadence_days":
            if not isinstance(value, int) or isinstance(value, bool):
                raise csv_import.Unreadable(
                    "cadence_days", f"not a whole number: {quoted(str(value))}"
                )
            row.cadence_days = value
        elif target in ("consent_at", "opted_out_at", "created_at"):
            setattr(row, target, parse_instant(str(value), target))
        else:
            if not isinstance(value, str):
                raise csv_import.Unreadable(target, f"not text: {quoted(json.dumps(value))}")
            setattr(row, target, value)
    return row


def _write_atomically(target: Output, text: str, encoding: str) -> None:
    write_text(target, text, encoding=encoding, errors="replace")


__all__ = ["FORMATS", "ContactFile", "Slot", "parse_mapping", "read_contacts", "slot_for"]
