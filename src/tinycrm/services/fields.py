"""Custom fields: fields the team adds to contacts, companies and deals, their typed values,
and the SQL that filters on them.

A field has a name (checked against `RESERVED`, the built-in attributes of the filter
language, so `industry=retail` can never mean two things), a type (`TYPES`), the choices
of a choice field (in order: `size>medium` compares by that order) and whether every new
record must have it. Values live in `custom_values`, one row per record and field: the value
as shown in `value`, and one typed, indexed column to filter on (docs/architecture.md,
"Custom fields": a typed value table measured against JSON columns with expression
indexes). Writers of records call `apply` inside their own transaction, so a record and
its fields land together, in one audit entry and one change of the journal.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from tinycrm.errors import InvalidInput, NotFound
from tinycrm.money import Money, format_cents, parse_money
from tinycrm.services import audit
from tinycrm.services.context import Ctx
from tinycrm.store.db import Db
from tinycrm.text import clean, fold, plural

ENTITIES = ("contact", "company", "deal")
TYPES = ("text", "number", "money", "date", "choice", "bool")
OPS = ("=", "!=", "<", "<=", ">", ">=")
#: Names a field can't take: the built-in attributes of records and of the filter
#: language (`--where`), its words, and the names the exports already use for columns.
RESERVED = frozenset(
    {
        "abc", "address", "addresses", "and", "anniversary", "as_written", "birthday",
        "cadence", "cadence_days", "city", "close", "closed", "closed_at", "company",
        "company_id", "consent", "consent_at", "contact", "contact_id", "contact_name",
        "country", "created", "created_at", "currency", "deal", "domain", "email", "emails",
        "expected_close", "field", "fields", "id", "last", "last_contact", "last_touch",
        "last_touch_at", "lost", "lost_reason", "name", "next", "not", "notes",
        "opted_out", "opted_out_at", "or", "owner", "phone", "phones", "probability", "source",
        "stage", "status", "tag", "tags", "title", "touch", "updated", "updated_at", "url",
        "urls", "value", "version", "website", "won",
    }
)  # fmt: skip
_NAME = re.compile(r"[^\W\d][\w-]{0,39}")
_TRUE, _FALSE = ("yes", "true", "y", "on", "1"), ("no", "false", "n", "off", "0")
_NUMBER = re.compile(r"[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?|[+-]?\.\d+")
_ID_COLUMN = {"contact": "contact_id", "company": "company_id", "deal": "deal_id"}
_TABLE = {"contact": "contacts", "company": "companies", "deal": "deals"}


@dataclass(frozen=True)
class FieldDef:
    """A custom field as defined (`field list`)."""

    id: int
    entity: str  # contact | company | deal
    name: str
    type: str  # text | number | money | date | choice | bool
    choices: list[str]
    required: bool
    values: int = 0  # how many records have a value (in `field list`)


@dataclass(frozen=True)
class FieldValue:
    """One record's value of a custom field, typed: text and choices as `str`, numbers as
    `Decimal`, money as `Money`, dates as `date`, bools as `bool`."""

    name: str
    type: str
    value: str | Decimal | Money | date | bool
    currency: str | None = None  # a money value's, also in `value`


@dataclass(frozen=True)
class Stored:
    """A value as the row stores it (see models.CustomValue), read by `read_value`."""

    value: str
    key: str | None = None
    num: float | None = None
    cents: int | None = None
    currency: str | None = None
    day: date | None = None


# -- definitions ------------------------------------------------------------------------------
def check_entity(entity: str) -> str:
    """contact, company or deal (also their plurals), or InvalidInput."""
    e = entity.strip().lower()
    e = {"contacts": "contact", "companies": "company", "deals": "deal"}.get(e, e)
    if e not in ENTITIES:
        raise InvalidInput(f"fields belong to a contact, company or deal, not {entity!r}")
    return e


def check_name(name: str) -> str:
    """A field name as written, or InvalidInput: a letter first, then letters, digits, `_`
    or `-` (40 at most), and none of the built-in names (`RESERVED`)."""
    n = name.strip()
    if not _NAME.fullmatch(n):
        raise InvalidInput(
            f"a field name starts with a letter and holds letters, digits, _ or - (40 at"
            f" most): {name!r}"
        )
    if fold(n) in RESERVED or fold(n).replace("-", "_") in RESERVED:
        raise InvalidInput(
            f"{n!r} is a built-in attribute; pick another name (reserved: see docs/cli.md)"
        )
    return n


def _choices(text: str | Sequence[str] | None, type_: str) -> list[str]:
    if type_ != "choice":
        if text:
            raise InvalidInput("--choices is for a choice field (--type choice)")
        return []
    parts = text.split(",") if isinstance(text, str) else list(text or [])
    out: list[str] = []
    for p in parts:
        c = clean(p).strip()
        if not c:
            continue
        if fold(c) in (fold(o) for o in out):
            raise InvalidInput(f"choice {c!r} is given twice")
        if len(c) > 80:
            raise InvalidInput(f"a choice is at most 80 characters: {c[:40]!r}…")
        out.append(c)
    if not out:
        raise InvalidInput("a choice field needs its choices: --choices a,b,c")
    return out


def _def(r: Mapping[str, Any], values: int = 0) -> FieldDef:
    return FieldDef(
        id=int(r["id"]),
        entity=r["entity"],
        name=r["name"],
        type=r["type"],
        choices=json.loads(r["choices"]) if r["choices"] else [],
        required=bool(r["required"]),
        values=values,
    )


def list_fields(db: Db, entity: str | None = None) -> list[FieldDef]:
    """The custom fields of one kind of record (or of all), in the order they were added,
    each with how many records have a value."""
    where, params = "", {}
    if entity is not None:
        where, params = " WHERE f.entity = :e", {"e": check_entity(entity)}
    rows = db.all(
        "SELECT f.id, f.entity, f.name, f.type, f.choices, f.required,"
        " (SELECT count(*) FROM custom_values v WHERE v.field_id = f.id) AS n"
        f" FROM custom_fields f{where} ORDER BY f.entity, f.position, f.id",
        params,
    )
    return [_def(r, int(r["n"])) for r in rows]


def field_names(ctx: Ctx, entity: str) -> list[str]:
    """The names of `entity`'s custom fields, in order (for messages and completion)."""
    return [f.name for f in _fields(ctx.db, check_entity(entity))]


def field_names_of(db: Db, entity: str) -> list[str]:
    """`field_names` for a caller with a store but no context (the exports' headers)."""
    return [f.name for f in _fields(db, check_entity(entity))]


def _fields(db: Db, entity: str) -> list[FieldDef]:
    return [
        _def(r)
        for r in db.all(
            "SELECT id, entity, name, type, choices, required FROM custom_fields"
            " WHERE entity = :e ORDER BY position, id",
            {"e": entity},
        )
    ]


def _find(db: Db, entity: str, name: str) -> FieldDef | None:
    r = db.one(
        "SELECT id, entity, name, type, choices, required FROM custom_fields"
        " WHERE entity = :e AND name_key = :k",
        {"e": entity, "k": fold(name.strip())},
    )
    return _def(r) if r else None


def _get(db: Db, entity: str, name: str) -> FieldDef:
    found = _find(db, entity, name)
    if found is None:
        raise NotFound(_unknown(db, entity, name))
    return found


def _unknown(db: Db, entity: str, name: str) -> str:
    names = [f.name for f in _fields(db, entity)]
    known = f" (its fields: {', '.join(names)})" if names else " (it has none yet)"
    return f"no {entity} field {name!r}{known}; add one with tinycrm field add {entity} NAME"


def _described(f: FieldDef) -> dict[str, Any]:
    return {
        "entity": f.entity,
        "name": f.name,
        "type": f.type,
        "choices": f.choices or None,
        "required": f.required or None,
    }


def add_field(
    ctx: Ctx,
    entity: str,
    name: str,
    type_: str,
    *,
    choices: str | Sequence[str] | None = None,
    required: bool = False,
) -> FieldDef:
    """Add a custom field to contacts, companies or deals. A required field applies to
    records added from now on (existing ones are not checked)."""
    entity, name = check_entity(entity), check_name(name)
    t = type_.strip().lower()
    if t not in TYPES:
        raise InvalidInput(f"--type must be one of {', '.join(TYPES)}: {type_!r}")
    options = _choices(choices, t)
    db = ctx.db
    with db.write():
        db.lock_key("custom fields")
        if _find(db, entity, name) is not None:
            raise InvalidInput(f"{_TABLE[entity]} already have a field called {name!r}")
        position = db.value(
            "SELECT coalesce(max(position), 0) + 1 AS n FROM custom_fields WHERE entity = :e",
            {"e": entity},
        )
        new_id = db.insert(
            "INSERT INTO custom_fields (entity, name, name_key, type, choices, required,"
            " position, created_at, version) VALUES (:e, :name, :key, :type, :choices,"
            " :required, :pos, :now, 1) RETURNING id",
            {
                "e": entity,
                "name": name,
                "key": fold(name),
                "type": t,
                "choices": json.dumps(options, ensure_ascii=False) if options else None,
                "required": required,
                "pos": int(position),
                "now": db.ts(ctx.now),
            },
        )
        made = FieldDef(new_id, entity, name, t, options, required)
        audit.record(ctx, "field", new_id, "add", audit.added(_described(made)))
    return made


def field_usage(db: Db, entity: str, name: str) -> FieldDef:
    """A field with how many records have a value (what `field rm` asks about)."""
    with db.read():
        f = _get(db, check_entity(entity), name)
        n = db.value("SELECT count(*) AS n FROM custom_values WHERE field_id = :f", {"f": f.id})
    return FieldDef(f.id, f.entity, f.name, f.type, f.choices, f.required, int(n))


def edit_field(
    ctx: Ctx,
    entity: str,
    name: str,
    *,
    new_name: str | None = None,
    choices: str | Sequence[str] | None = None,
    required: bool | None = None,
) -> FieldDef:
    """Rename a field, change a choice field's choices (every choice in use must stay; the
    new order is the one `<` and `>` compare by) or whether it is required."""
    entity = check_entity(entity)
    renamed = check_name(new_name) if new_name is not None else None
    db = ctx.db
    with db.write():
        db.lock_key("custom fields")
        f = _get(db, entity, name)
        db.lock("custom_fields", f.id)
        sets: dict[str, Any] = {}
        if renamed is not None and renamed != f.name:
            other = _find(db, entity, renamed)
            if other is not None and other.id != f.id:
                raise InvalidInput(f"{_TABLE[entity]} already have a field called {renamed!r}")
            sets["name"], sets["name_key"] = renamed, fold(renamed)
        options = f.choices
        if choices is not None:
            if f.type != "choice":
                raise InvalidInput(f"{f.name} is a {f.type} field; only a choice field has choices")
            options = _choices(choices, "choice")
            _keep_used(db, f, options)
            sets["choices"] = json.dumps(options, ensure_ascii=False)
        if required is not None and required != f.required:
            sets["required"] = required
        if not sets:
            raise InvalidInput(
                "nothing to change: give --name, --choices, --required or --optional"
            )
        assigns = ", ".join(f"{k} = :{k}" for k in sets)
        db.execute(
            f"UPDATE custom_fields SET {assigns}, version = version + 1 WHERE id = :id",
            {**sets, "id": f.id},
        )
        if "choices" in sets:  # the spelling and the order of the new list
            for i, c in enumerate(options):
                db.execute(
                    "UPDATE custom_values SET value = :v, value_num = :n"
                    " WHERE field_id = :f AND value_key = :k AND (value <> :v OR value_num <> :n)",
                    {"v": c, "n": float(i), "f": f.id, "k": fold(c)},
                )
        done = FieldDef(
            f.id,
            entity,
            sets.get("name", f.name),
            f.type,
            options,
            bool(sets.get("required", f.required)),
        )
        audit.record(ctx, "field", f.id, "edit", audit.diff(_described(f), _described(done)))
    return done


def _keep_used(db: Db, f: FieldDef, options: list[str]) -> None:
    keys = {fold(o) for o in options}
    for r in db.all(
        "SELECT value, count(*) AS n FROM custom_values WHERE field_id = :f GROUP BY value"
        " ORDER BY value",
        {"f": f.id},
    ):
        if fold(r["value"]) not in keys:
            raise InvalidInput(
                f"{r['value']!r} is the {f.name} of {plural(int(r['n']), f.entity)}; keep it in"
                " --choices or change those first"
            )


def remove_field(ctx: Ctx, entity: str, name: str) -> FieldDef:
    """Remove a custom field and every record's value of it (one change: `undo` brings both
    back). Returns the field with how many values went."""
    entity = check_entity(entity)
    db = ctx.db
    with db.write():
        db.lock_key("custom fields")
        f = _get(db, entity, name)
        db.lock("custom_fields", f.id, "delete")
        n = int(
            db.value("SELECT count(*) AS n FROM custom_values WHERE field_id = :f", {"f": f.id})
        )
        db.execute("DELETE FROM custom_values WHERE field_id = :f", {"f": f.id})
        db.execute("DELETE FROM custom_fields WHERE id = :f", {"f": f.id})
        gone = FieldDef(f.id, f.entity, f.name, f.type, f.choices, f.required, n)
        audit.record(
            ctx, "field", f.id, "delete", {**audit.removed(_described(f)), "values": [n, 0]}
        )
    return gone


# -- values -----------------------------------------------------------------------------------
def assignments(items: Iterable[str]) -> dict[str, str]:
    """`--set NAME=VALUE` items as {name: value} (the last one of a name wins)."""
    out: dict[str, str] = {}
    for item in items:
        name, eq, value = item.partition("=")
        if not eq or not name.strip():
            raise InvalidInput(f"--set takes NAME=VALUE: {item!r}")
        out[name.strip()] = value.strip()
    return out


def read_value(ctx: Ctx, f: FieldDef, text: str) -> Stored:
    """`text` read as `f`'s type, or InvalidInput naming what it takes."""
    raw = clean(text).strip()
    if not raw:
        raise InvalidInput(f"{f.name} is empty; to clear it use --unset {f.name}")
    if f.type == "text":
        if len(raw) > 1000:
            raise InvalidInput(f"{f.name} is at most 1000 characters")
        return Stored(raw, key=fold(raw))
    if f.type == "number":
        number = parse_number(raw, f.name)
        return Stored(_plain_number(number), num=float(number))
    if f.type == "money":
        typed = parse_money(raw, field=f.name, usual=(ctx.currency,))
        currency = typed.currency or ctx.currency
        return Stored(format_cents(typed.cents), cents=typed.cents, currency=currency)
    if f.type == "date":
        from tinycrm.dates import parse_date

        try:
            day = parse_date(raw, today=ctx.now.astimezone(ctx.tz).date())
        except InvalidInput:
            raise InvalidInput(
                f"{f.name} must be a date, e.g. 2027-03-01, 'next friday', 'in 3 months': {raw!r}"
            ) from None
        return Stored(day.isoformat(), day=day)
    if f.type == "choice":
        for i, c in enumerate(f.choices):
            if fold(c) == fold(raw):
                return Stored(c, key=fold(c), num=float(i))
        raise InvalidInput(f"{f.name} must be one of {', '.join(f.choices)}: {raw!r}")
    low = raw.lower()
    if low in _TRUE or low in _FALSE:
        yes = "yes" if low in _TRUE else "no"
        return Stored(yes, key=yes)
    raise InvalidInput(f"{f.name} must be yes or no (true/false): {raw!r}")


def parse_number(text: str, name: str) -> Decimal:
    """A number as typed (`120`, `1,200`, `-3.5`), exactly, or InvalidInput."""
    body = text.strip().replace("_", "")
    if not _NUMBER.fullmatch(body):
        raise InvalidInput(f"{name} must be a number, e.g. 120 or 12.5: {text!r}")
    try:
        number = Decimal(body.replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        raise InvalidInput(f"{name} must be a number, e.g. 120 or 12.5: {text!r}") from None
    if abs(number) >= Decimal(10) ** 15:
        raise InvalidInput(f"{name} is too large (at most 15 digits before the point): {text!r}")
    return number


def _plain_number(number: Decimal) -> str:
    s = format(number.normalize(), "f")
    return "0" if s in ("-0", "+0") else s


def _typed(type_: str, value: str, currency: str | None) -> str | Decimal | Money | date | bool:
    if type_ == "number":
        return Decimal(value)
    if type_ == "money":
        return Money(int((Decimal(value) * 100).to_integral_value()), currency or "")
    if type_ == "date":
        return date.fromisoformat(value)
    if type_ == "bool":
        return value == "yes"
    return value


def as_text(s: Stored) -> str:
    """A value as the exports write it and the imports read it back: money with its
    currency (`12000.50 USD`), the rest as `value`."""
    return f"{s.value} {s.currency}" if s.currency else s.value


def apply(
    ctx: Ctx,
    entity: str,
    record_id: int,
    sets: Mapping[str, str] | None = None,
    unsets: Iterable[str] = (),
    *,
    adding: bool = False,
) -> audit.Changes:
    """Set and clear custom field values of one record, inside the caller's write
    transaction (checked first, so a bad value writes nothing). With `adding`, a required
    field left out is refused. Returns the audit log's changes ({name: [old, new]})."""
    sets, drop = dict(sets or {}), list(unsets)
    db = ctx.db
    if not sets and not drop and not adding:
        return {}
    # the fields stay as read until this lands (a `field rm` waits, or went first)
    db.lock_key("custom fields", shared=True)
    defs = {fold(f.name): f for f in _fields(db, entity)}
    column = _ID_COLUMN[entity]
    typed: list[tuple[FieldDef, Stored]] = []
    for name, text in sets.items():
        f = defs.get(fold(name))
        if f is None:
            raise InvalidInput(_unknown(db, entity, name))
        typed.append((f, read_value(ctx, f, text)))
    cleared: list[FieldDef] = []
    for name in drop:
        f = defs.get(fold(name.strip()))
        if f is None:
            raise InvalidInput(_unknown(db, entity, name))
        if fold(f.name) in (fold(n) for n in sets):
            raise InvalidInput(f"--set and --unset both name {f.name}")
        if f.required:
            raise InvalidInput(f"{f.name} is required on every {entity}; it can't be unset")
        cleared.append(f)
    if adding:
        given = {f.id for f, _ in typed}
        missing = [f.name for f in defs.values() if f.required and f.id not in given]
        if missing:
            raise InvalidInput(
                f"every {entity} needs {', '.join(missing)}: give --set {missing[0]}=VALUE"
            )
    old = {
        r["field_id"]: r
        for r in db.all(
            f"SELECT id, field_id, value, currency FROM custom_values WHERE {column} = :id",
            {"id": record_id},
        )
    }
    changes: audit.Changes = {}
    for f, s in typed:
        params = {
            "value": s.value,
            "key": s.key,
            "num": s.num,
            "cents": s.cents,
            "cur": s.currency,
            "day": db.day(s.day),
        }
        was = old.get(f.id)
        if was is None:
            db.execute(
                f"INSERT INTO custom_values (field_id, {column}, value, value_key, value_num,"
                " value_cents, currency, value_date) VALUES (:f, :id, :value, :key, :num,"
                " :cents, :cur, :day)",
                {**params, "f": f.id, "id": record_id},
            )
            before = None
        else:
            db.execute(
                "UPDATE custom_values SET value = :value, value_key = :key, value_num = :num,"
                " value_cents = :cents, currency = :cur, value_date = :day WHERE id = :vid",
                {**params, "vid": was["id"]},
            )
            before = as_text(Stored(was["value"], currency=was["currency"]))
        if before != as_text(s):
            changes[f.name] = [before, as_text(s)]
    for f in cleared:
        was = old.get(f.id)
        if was is not None:
            db.execute("DELETE FROM custom_values WHERE id = :vid", {"vid": was["id"]})
            changes[f.name] = [as_text(Stored(was["value"], currency=was["currency"])), None]
    return changes


def values_of(db: Db, entity: str, record_id: int) -> list[FieldValue]:
    """One record's custom field values, in the fields' order (fields without one left
    out)."""
    return values_by_id(db, entity, [record_id]).get(record_id, [])


def values_by_id(db: Db, entity: str, ids: Sequence[int]) -> dict[int, list[FieldValue]]:
    """The custom field values of many records (an export's page), by record id."""
    column = _ID_COLUMN[check_entity(entity)]
    out: dict[int, list[FieldValue]] = {}
    for start in range(0, len(ids), 500):
        chunk = list(ids[start : start + 500])
        marks = ", ".join(f":i{n}" for n in range(len(chunk)))
        for r in db.all(
            f"SELECT v.{column} AS rid, f.name, f.type, v.value, v.currency"
            " FROM custom_values v JOIN custom_fields f ON f.id = v.field_id"
            f" WHERE v.{column} IN ({marks}) ORDER BY v.{column}, f.position, f.id",
            {f"i{n}": i for n, i in enumerate(chunk)},
        ):
            out.setdefault(int(r["rid"]), []).append(
                FieldValue(
                    r["name"],
                    r["type"],
                    _typed(r["type"], r["value"], r["currency"]),
                    r["currency"],
                )
            )
    return out


def importable(db: Db, entity: str, columns: Iterable[str]) -> dict[str, str]:
    """The columns of an import file named like one of `entity`'s fields: the name in any
    case, with spaces, `-` or `_` alike (`Deal Size` is `deal_size`), or as the vCard
    export writes it (`X-TINYCRM-DEAL-SIZE`, `X-TINYCRM-FIELD;NAME=行业`): {column: name}."""

    def key(text: str) -> str:
        k = fold(text.strip())
        k = k.removeprefix("x-tinycrm-field;name=").removeprefix("x-tinycrm-")
        return re.sub(r"[\s_-]+", "_", k)

    names = {key(f.name): f.name for f in _fields(db, check_entity(entity))}
    return {col: names[key(col)] for col in columns if key(col) in names}


def definitions(db: Db, entity: str) -> dict[str, FieldDef]:
    """`entity`'s fields by folded name (what an import checks its columns' values by)."""
    return {fold(f.name): f for f in _fields(db, check_entity(entity))}


def export_values(db: Db, entity: str, ids: Sequence[int]) -> dict[int, dict[str, str]]:
    """Each record's custom field values as the exports write them (`as_text`), by id."""
    column = _ID_COLUMN[check_entity(entity)]
    out: dict[int, dict[str, str]] = {}
    for start in range(0, len(ids), 500):
        chunk = list(ids[start : start + 500])
        marks = ", ".join(f":i{n}" for n in range(len(chunk)))
        for r in db.all(
            f"SELECT v.{column} AS rid, f.name, v.value, v.currency FROM custom_values v"
            f" JOIN custom_fields f ON f.id = v.field_id WHERE v.{column} IN ({marks})"
            f" ORDER BY v.{column}, f.position, f.id",
            {f"i{n}": i for n, i in enumerate(chunk)},
        ):
            out.setdefault(int(r["rid"]), {})[r["name"]] = as_text(
                Stored(r["value"], currency=r["currency"])
            )
    return out


def held(db: Db, entity: str, ids: Sequence[int]) -> dict[int, set[int]]:
    """Which fields (ids) each of these records has a value of."""
    column = _ID_COLUMN[check_entity(entity)]
    out: dict[int, set[int]] = {}
    for start in range(0, len(ids), 500):
        chunk = list(ids[start : start + 500])
        marks = ", ".join(f":i{n}" for n in range(len(chunk)))
        for r in db.all(
            f"SELECT {column} AS rid, field_id FROM custom_values WHERE {column} IN ({marks})",
            {f"i{n}": i for n, i in enumerate(chunk)},
        ):
            out.setdefault(int(r["rid"]), set()).add(int(r["field_id"]))
    return out


def insert_values(db: Db, entity: str, values: Sequence[tuple[int, int, Stored]]) -> None:
    """New values (record id, field id, value) in bulk, for records that have none of
    those fields yet (the imports: they checked each with `read_value`)."""
    column = _ID_COLUMN[check_entity(entity)]
    rows = [
        {
            "f": field_id,
            "id": record_id,
            "value": s.value,
            "key": s.key,
            "num": s.num,
            "cents": s.cents,
            "cur": s.currency,
            "day": db.day(s.day),
        }
        for record_id, field_id, s in values
    ]
    for start in range(0, len(rows), 500):
        db.insert_many(
            f"INSERT INTO custom_values (field_id, {column}, value, value_key, value_num,"
            " value_cents, currency, value_date) VALUES (:f, :id, :value, :key, :num, :cents,"
            " :cur, :day)",
            rows[start : start + 500],
        )


# -- filtering --------------------------------------------------------------------------------
def condition_sql(
    ctx: Ctx, entity: str, id_column: str, name: str, op: str, value: str, prefix: str
) -> tuple[str, dict[str, object]] | None:
    """A portable SQL condition, true for the `entity` records whose id (the SQL
    expression `id_column`) has custom field `name` `op` `value` (the text the user wrote,
    read by the field's type); parameters are named with `prefix`. None when `entity` has
    no such field; InvalidInput when the value doesn't fit the type or the operator.

    Text compares folded (case and accents aside); a choice compares by its place in the
    list; money in the currency written (the store's when none); bool takes `=`/`!=` only.
    `!=` is also true for records with no value; the others need one."""
    if op not in OPS:
        raise InvalidInput(f"unknown comparison {op!r} (one of {' '.join(OPS)})")
    entity = check_entity(entity)
    f = _find(ctx.db, entity, name)
    if f is None:
        return None
    if f.type == "bool" and op not in ("=", "!="):
        raise InvalidInput(f"{f.name} is yes or no: compare it with = or !=")
    s = read_value(ctx, f, value)
    column = _ID_COLUMN[entity]
    params: dict[str, object] = {f"{prefix}f": f.id}
    if f.type in ("text", "bool"):
        test, params[f"{prefix}v"] = "v.value_key", s.key
    elif f.type == "choice" and op in ("=", "!="):
        test, params[f"{prefix}v"] = "v.value_key", s.key
    elif f.type in ("number", "choice"):
        test, params[f"{prefix}v"] = "v.value_num", s.num
    elif f.type == "money":
        test, params[f"{prefix}v"] = "v.value_cents", s.cents
        params[f"{prefix}c"] = s.currency
    else:
        test, params[f"{prefix}v"] = "v.value_date", ctx.db.day(s.day)
    money = f" AND v.currency = :{prefix}c" if f.type == "money" else ""
    positive = "=" if op == "!=" else op
    inner = (
        f"SELECT v.{column} FROM custom_values v WHERE v.field_id = :{prefix}f{money}"
        f" AND {test} {positive} :{prefix}v AND v.{column} IS NOT NULL"
    )
    negate = "NOT " if op == "!=" else ""
    # The unary + keeps SQLite from driving the query by the matching ids (a rowid lookup
    # and a sort per match: 36k of them for employees>100); it scans the records in the
    # caller's order instead, testing each against the ids read from the covering index,
    # so a page by name stops after 50 (docs/benchmarks.md). PostgreSQL hashes it alike.
    return f"+{id_column} {negate}IN ({inner})", params


def record_ids(ctx: Ctx, entity: str, name: str, op: str, value: str) -> list[int]:
    """The ids of the `entity` records matching one custom field condition, ascending (what
    `condition_sql` selects, for tests and tools)."""
    entity = check_entity(entity)
    found = condition_sql(ctx, entity, "r.id", name, op, value, "p_")
    if found is None:
        raise NotFound(_unknown(ctx.db, entity, name))
    sql, params = found
    rows = ctx.db.all(f"SELECT r.id FROM {_TABLE[entity]} r WHERE {sql} ORDER BY r.id", params)
    return [int(r["id"]) for r in rows]
