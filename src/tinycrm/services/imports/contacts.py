"""Importing contacts in bulk: checked, matched against the store and against each other,
and written in one transaction.

The readers (`tinycrm.io.contact_files`: CSV, vCard, JSON) turn a file into `ContactRow`s
and the `RowError`s of what they could not read; `bulk` runs the import (all or nothing,
rejects, the audit entry); this module owns the rules for contacts, in every format:

- A row needs a name; without one it is named after its email (`derived_name`), else its
  company. Emails, phones and tags are checked as `contact add` checks them; a bad one is
  an error naming the row's line and the field. Owners must be existing users.
- Duplicates: a row is the same person as a stored contact (or an earlier row of the file)
  by `duplicates.same_person`, the rule `contact add` follows too: the same email match
  key (case, plus-addressing at the big providers), the same phone match key (E.164, the
  `phone_region` setting for numbers without a country code), or the same
  `identity.name_match_key` (case, accents, width, word order) when one side has no email
  or phone (two John Smiths with different addresses are two people). The keys of the file
  are looked up once, in batches, never per row. `on_duplicate` says
  what happens: `skip` (the default; reported, never silent), `merge` (the new emails,
  phones (by match key: a plus-address of a known mailbox is not new), addresses, web
  addresses and tags, and the fields the contact has blank) or
  `create` (a new contact anyway).
- New contacts are inserted one by one (their ids are needed), everything else in
  batches; each is indexed for search, and the stay-in-touch clock of every contact with
  a tag or a cadence is refreshed, in the same transaction.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from tinycrm.dates import has_year
from tinycrm.errors import InvalidInput
from tinycrm.identity import email_match_key, name_match_key, phone_match_key
from tinycrm.services import clocks, fields, search
from tinycrm.services.as_written import AsWritten, combined, dump, load
from tinycrm.services.contacts import MAX_NAME, check_text, normalize_tags, reindex
from tinycrm.services.context import Ctx
from tinycrm.services.duplicates import same_person
from tinycrm.services.imports.bulk import (
    BATCH,
    SHOWN,
    Progress,
    RowError,
    Run,
    SaveRejects,
    companies,
    derived_name,
    id_lists,
    lookup,
    quoted,
)
from tinycrm.store.db import Db, LockKey
from tinycrm.text import clean, fold, normalize_email, phone_key

ON_DUPLICATE = ("skip", "merge", "create")
METHOD_KINDS = ("email", "phone", "url", "address")
MAX_METHOD = 1_000


@dataclass(slots=True)
class Method:
    """An email, phone, web address or postal address, with its label (work, home...)."""

    kind: str  # email | phone | url | address
    value: str
    label: str | None = None


@dataclass(slots=True)
class ContactRow:
    """One contact as a file gives it; `line` is where it starts in the file."""

    line: int
    name: str | None = None
    company: str | None = None
    title: str | None = None
    notes: str | None = None
    birthday: date | None = None  # without a year: in dates.NO_YEAR
    anniversary: date | None = None
    methods: list[Method] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    source: str | None = None
    owner: str | None = None
    cadence_days: int | None = None
    consent: str | None = None
    consent_at: datetime | None = None
    opted_out_at: datetime | None = None
    created_at: datetime | None = None
    dropped: list[str] = field(default_factory=list)  # "photo"
    # values the reader could not read: kept as written, or the row's error with --strict
    odd: list[AsWritten] = field(default_factory=list)
    as_written: list[AsWritten] = field(default_factory=list)  # tinycrm's own export
    # columns the reader didn't know, by name: those named like a custom field go to it
    extra: dict[str, str] = field(default_factory=dict)


@dataclass
class KeptValue:
    """A value kept as written, where it was: `file` line `line`."""

    file: str
    line: int
    field: str
    value: str
    why: str


@dataclass
class ContactImportSource:
    """How the file was read, as the reader worked it out (or was told)."""

    file: str
    format: str  # csv | vcard | json
    encoding: str
    encoding_guessed: bool
    delimiter: str | None  # CSV only ("tab" for a tab)
    columns: dict[str, str]  # column (CSV header, vCard property, JSON key) -> field
    ignored_columns: list[str]


@dataclass
class DuplicateMatch:
    line: int
    name: str  # as the file names the person
    contact_id: int | None  # None: a contact of this import that a dry run does not create
    contact: str  # the name of the contact it matched
    reason: str  # "same email ann@acme.com", "same phone +442079460958", "same name"
    action: str  # skipped | merged | created


@dataclass
class ContactImportSummary:
    source: ContactImportSource
    dry_run: bool
    on_duplicate: str
    rows: int
    created: int
    merged: int
    skipped: int
    rejected: int
    rejects_file: str | None
    dropped: dict[str, int]  # what was left out on purpose: "photo" -> 3
    # values that did not validate, kept on their contact as written: field -> count
    as_written: dict[str, int] = field(default_factory=dict)
    as_written_shown: list[KeptValue] = field(default_factory=list)  # the first SHOWN
    strict: bool = False
    duplicates: list[DuplicateMatch] = field(default_factory=list)  # the first SHOWN
    errors: list[RowError] = field(default_factory=list)  # the first SHOWN, by line


def import_contacts(
    ctx: Ctx,
    rows: Sequence[ContactRow],
    *,
    source: ContactImportSource,
    unreadable: Sequence[RowError] = (),
    on_duplicate: str = "skip",
    owner: str | None = None,
    tag: str | None = None,
    skip_bad: bool = False,
    dry_run: bool = False,
    save_rejects: SaveRejects | None = None,
    progress: Progress | None = None,
    strict: bool = False,
) -> ContactImportSummary:
    """Import contacts in bulk, all or nothing (`bulk.Run`), each duplicate skipped, merged
    or created as `on_duplicate` says. A dry run only reads. A phone, email, web address,
    address, birthday or anniversary that does not validate is kept on the contact as
    written (`as_written`); `strict` makes it the row's error instead."""
    if on_duplicate not in ON_DUPLICATE:
        raise InvalidInput(f"--on-duplicate must be one of {', '.join(ON_DUPLICATE)}")
    extra_tags = normalize_tags([tag]) if tag else []
    if tag is not None and not extra_tags:
        raise InvalidInput("--tag can't be empty")
    db = ctx.db
    run = Run("contacts", source.file, skip_bad, dry_run, save_rejects, progress)
    # what the duplicate checks read stays as it is until this lands (and the fields)
    keys: tuple[LockKey, ...] = ("contact identities", "company names", "custom fields")
    with run.transaction(db, *keys, shared={"custom fields"}):
        custom = custom_columns(db, "contact", (r.extra for r in rows), source)
        users = {str(n): int(i) for i, n in db.tuples("SELECT id, name FROM users")}
        if owner is not None and owner.strip() not in users:
            raise InvalidInput(f"--owner: no user called {owner.strip()!r}; see tinycrm user list")
        run.step("check", 0, len(rows))
        plans, errors = _check_rows(ctx, rows, users, extra_tags, unreadable, strict, custom)
        run.checked(errors)
        default_owner = users[owner.strip()] if owner is not None else users.get(ctx.user_name)
        if default_owner is None and not dry_run:
            default_owner = ctx.user_id
        outcome = _match(db, plans, on_duplicate)
        run.step("check", len(rows), len(rows))
        if not dry_run:
            has_source = "source" in source.columns.values()
            _create(ctx, outcome.new, default_owner, source.file, progress, has_source=has_source)
            _merge(ctx, outcome.merges)
            for d, plan in outcome.dup_targets:
                if d.contact_id is None and plan.id is not None:
                    d.contact_id = plan.id
        merged_ids = sorted(
            {d.contact_id for d in outcome.duplicates if d.action == "merged" and d.contact_id}
        )
        rejects_file = run.finish(
            ctx,
            errors,
            {
                "rows": len(rows) + len(unreadable),
                "created": len(outcome.new),
                "merged into": [f"#{i}" for i in merged_ids[:50]],
                "duplicates": len(outcome.duplicates),
                "rejected": len(errors),
            },
        )
    dropped: dict[str, int] = {}
    for r in rows:
        for what in r.dropped:
            dropped[what] = dropped.get(what, 0) + 1
    merged = sum(1 for d in outcome.duplicates if d.action == "merged")
    kept: dict[str, int] = {}
    kept_shown: list[KeptValue] = []
    for plan in plans:
        for a in plan.odd:
            kept[a.field] = kept.get(a.field, 0) + 1
            if len(kept_shown) < SHOWN:
                kept_shown.append(KeptValue(source.file, plan.line, a.field, a.value, a.why))
    return ContactImportSummary(
        source=source,
        dry_run=dry_run,
        on_duplicate=on_duplicate,
        rows=len(rows) + len(unreadable),
        created=len(outcome.new),
        merged=merged,
        skipped=sum(1 for d in outcome.duplicates if d.action == "skipped"),
        rejected=len(errors),
        rejects_file=rejects_file,
        dropped=dict(sorted(dropped.items())),
        duplicates=outcome.duplicates[:SHOWN],
        errors=errors[:SHOWN],
        as_written=dict(sorted(kept.items())),
        as_written_shown=kept_shown,
        strict=strict,
    )


# -- checking -------------------------------------------------------------------------------


@dataclass
class _Method:
    kind: str
    value: str
    key: str  # value_key: what makes two methods of one contact the same
    match: str | None  # match_key, for emails and phones
    label: str | None

    @property
    def same(self) -> tuple[str, str]:
        """Two methods of one contact with this are one: the same mailbox or number."""
        return self.kind, self.match or self.key


@dataclass
class _Plan:
    """A checked row: what will be written, and its duplicate keys."""

    line: int
    name: str
    company: str | None
    title: str | None
    notes: str | None
    birthday: date | None
    anniversary: date | None
    methods: list[_Method]
    tags: list[str]
    source: str | None
    owner_id: int | None
    cadence_days: int | None
    consent: str | None
    consent_at: datetime | None
    opted_out_at: datetime | None
    created_at: datetime | None
    name_key: str = ""  # identity.name_match_key(name)
    id: int | None = None
    odd: list[AsWritten] = field(default_factory=list)  # this file's, for the summary
    as_written: list[AsWritten] = field(default_factory=list)  # all to keep
    custom: dict[int, fields.Stored] = field(default_factory=dict)  # by field id

    def reachable(self) -> bool:
        return any(m.kind in ("email", "phone") for m in self.methods)

    def keys(self) -> Iterator[tuple[str, str]]:
        """(kind, key) to find duplicates by: emails, phones, then the name."""
        for m in self.methods:
            if m.match and m.kind in ("email", "phone"):
                yield m.kind, m.match
        yield "name", self.name_key


_BLANKS = (
    "company",
    "title",
    "notes",
    "birthday",
    "anniversary",
    "cadence_days",
    "consent",
    "consent_at",
    "opted_out_at",
)


def custom_columns(
    db: Db, entity: str, extra: Iterable[dict[str, str]], source: ContactImportSource
) -> dict[str, fields.FieldDef]:
    """The file's columns (the rows' `extra`) named like a custom field of `entity`
    (`fields.importable`), by column; the source then says they were read (`field NAME`),
    not ignored. Shared by the contacts and deals imports."""
    names = list(dict.fromkeys(k for e in extra for k in e))
    if not names:
        return {}
    defs = fields.definitions(db, entity)
    mapped = {col: defs[fold(name)] for col, name in fields.importable(db, entity, names).items()}
    for col, f in mapped.items():
        source.columns[col] = f"field {f.name}"
        if col in source.ignored_columns:
            source.ignored_columns.remove(col)
    return mapped


def _check_rows(
    ctx: Ctx,
    rows: Sequence[ContactRow],
    users: dict[str, int],
    extra_tags: list[str],
    unreadable: Sequence[RowError],
    strict: bool = False,
    custom: dict[str, fields.FieldDef] | None = None,
) -> tuple[list[_Plan], list[RowError]]:
    plans: list[_Plan] = []
    errors = list(unreadable)
    region = ctx.phone_region
    for r in rows:
        try:
            plan = _check_row(r, users, extra_tags, region, strict)
            for col, text in r.extra.items():
                f = (custom or {}).get(col)
                if f is None or not text.strip():
                    continue
                try:
                    plan.custom[f.id] = fields.read_value(ctx, f, text)
                except InvalidInput as e:  # kept as written, as a bad phone is
                    if strict:
                        raise _RowProblem(f.name, str(e)) from None
                    plan.odd.append(AsWritten(f.name, text, str(e)))
                    plan.as_written = combined(plan.as_written, [plan.odd[-1]])
            plans.append(plan)
        except _RowProblem as e:
            errors.append(RowError(r.line, e.field, e.message))
    return plans, errors


class _RowProblem(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


def _text(value: str | None, what: str) -> str | None:
    try:
        return check_text(value, what)
    except InvalidInput as e:
        raise _RowProblem(what, str(e)) from None


def _check_row(
    r: ContactRow,
    users: dict[str, int],
    extra_tags: list[str],
    region: str | None,
    strict: bool = False,
) -> _Plan:
    odd = list(r.odd)

    def keep(field: str, value: str, why: str) -> None:
        """A value that doesn't validate: the row's error with --strict, else kept."""
        if strict:
            raise _RowProblem(field, why)
        odd.append(AsWritten(field, value, why))

    if strict and odd:
        raise _RowProblem(odd[0].field, odd[0].why)
    methods: list[_Method] = []
    seen: set[tuple[str, str]] = set()
    for m in r.methods:
        try:
            checked = _check_method(m, region)
        except _RowProblem as e:
            keep(e.field, m.value, e.message)
            continue
        if checked is not None and checked.same not in seen:
            seen.add(checked.same)
            methods.append(checked)
    company = _text(r.company, "company")
    if company is not None:
        company = " ".join(company.split())
        if len(company) > MAX_NAME:
            raise _RowProblem("company", f"company name is longer than {MAX_NAME} characters")
    name = " ".join(clean(r.name or "").split())
    if not name:
        email = next((m.value for m in methods if m.kind == "email"), None)
        name = derived_name(email) if email else (company or "")
    if not name:
        raise _RowProblem("name", "no name, and no email or company to name the contact after")
    if len(name) > MAX_NAME:
        raise _RowProblem("name", f"a name is at most {MAX_NAME} characters")
    try:
        tags = normalize_tags([*r.tags, *extra_tags])
    except InvalidInput as e:
        raise _RowProblem("tags", str(e)) from None
    owner_id = None
    if r.owner is not None and r.owner.strip():
        owner_id = users.get(r.owner.strip())
        if owner_id is None:
            raise _RowProblem("owner", f"no user called {quoted(r.owner.strip())}")
    if r.cadence_days is not None and not 1 <= r.cadence_days <= 3650:
        raise _RowProblem("cadence_days", "stay-in-touch cadence must be between 1 and 3650 days")
    birthday, anniversary = r.birthday, r.anniversary
    if birthday is not None and birthday.year < 1900 and has_year(birthday):
        keep("birthday", birthday.isoformat(), f"before 1900: {birthday}")
        birthday = None
    if anniversary is not None and anniversary.year < 1900 and has_year(anniversary):
        keep("anniversary", anniversary.isoformat(), f"before 1900: {anniversary}")
        anniversary = None
    return _Plan(
        line=r.line,
        name=name,
        company=company,
        title=_text(r.title, "title"),
        notes=_text(r.notes, "notes"),
        birthday=birthday,
        anniversary=anniversary,
        methods=methods,
        tags=tags,
        source=_text(r.source, "source"),
        owner_id=owner_id,
        cadence_days=r.cadence_days,
        consent=_text(r.consent, "consent"),
        consent_at=r.consent_at,
        opted_out_at=r.opted_out_at,
        created_at=r.created_at,
        name_key=name_match_key(name),
        odd=odd,
        as_written=combined(r.as_written, odd),
    )


def _check_method(m: Method, region: str | None) -> _Method | None:
    value = " ".join(clean(m.value).split()) if m.kind != "address" else clean(m.value)
    if not value:
        return None
    label = " ".join(clean(m.label).split()).lower()[:50] if m.label else None
    if len(value) > MAX_METHOD:
        raise _RowProblem(m.kind, f"longer than {MAX_METHOD} characters")
    if m.kind == "email":
        try:
            email = normalize_email(value)
        except ValueError:
            raise _RowProblem("email", f"not an email address: {quoted(value)}") from None
        return _Method("email", email, email, email_match_key(email), label or None)
    if m.kind == "phone":
        key = phone_key(value)
        if len(key.lstrip("+")) < 3:
            raise _RowProblem("phone", f"not a phone number: {quoted(value)}")
        return _Method("phone", value, key, _phone_match(value, region), label or None)
    if m.kind == "url" and not _WEB.match(value):
        raise _RowProblem("url", f"not a web address: {quoted(value)}")
    key = " ".join(value.lower().split()).rstrip("/")
    return _Method(m.kind, value, key, None, label or None)


#: A web address: a scheme, or a host name with a dot (`acme.com/team`), no spaces.
_WEB = re.compile(r"(?:[a-z][a-z0-9+.-]*://\S+|[^\s/@]+\.[^\s/@]+(?:/\S*)?)$", re.IGNORECASE)


@functools.lru_cache(maxsize=65_536)
def _phone_match(value: str, region: str | None) -> str:
    """phone_match_key, once per distinct spelling (libphonenumber is the slow part)."""
    return phone_match_key(value, region)


# -- matching -------------------------------------------------------------------------------


@dataclass
class _Outcome:
    new: list[_Plan] = field(default_factory=list)
    merges: dict[int, list[_Plan]] = field(default_factory=dict)  # stored contact -> rows
    duplicates: list[DuplicateMatch] = field(default_factory=list)
    dup_targets: list[tuple[DuplicateMatch, _Plan]] = field(default_factory=list)


def _match(db: Db, plans: list[_Plan], on_duplicate: str) -> _Outcome:
    """Decide, row by row in file order, whether each is new or a duplicate (of a stored
    contact or of an earlier row), and what to do with it."""
    wanted: dict[str, set[str]] = {"email": set(), "phone": set(), "name": set()}
    for p in plans:
        for kind, key in p.keys():
            wanted[kind].add(key)
    stored = {
        kind: lookup(
            db,
            "SELECT match_key, contact_id FROM contact_methods"
            f" WHERE kind = '{kind}' AND match_key IN ({{keys}})",
            wanted[kind],
        )
        for kind in ("email", "phone")
    }
    stored["name"] = _names(db, wanted["name"]) if wanted["name"] else {}
    hit_ids = {i for by_key in stored.values() for ids in by_key.values() for i in ids}
    names = _contact_names(db, hit_ids)
    reachable = _reachable(db, {i for ids in stored["name"].values() for i in ids})
    out = _Outcome()
    in_file: dict[tuple[str, str], _Plan] = {}
    for p in plans:
        found = _find(p, stored, in_file, reachable)
        if found is None or on_duplicate == "create":
            out.new.append(p)
            for k in p.keys():
                in_file.setdefault(k, p)
            if found is None:
                continue
        assert found is not None
        target, reason = found
        action = {"skip": "skipped", "merge": "merged", "create": "created"}[on_duplicate]
        if isinstance(target, int):
            d = DuplicateMatch(p.line, p.name, target, names.get(target, ""), reason, action)
            if on_duplicate == "merge":
                out.merges.setdefault(target, []).append(p)
        else:
            d = DuplicateMatch(p.line, p.name, target.id, target.name, reason, action)
            out.dup_targets.append((d, target))
            if on_duplicate == "merge":
                _fold_into(target, p)
                for k in p.keys():
                    in_file.setdefault(k, target)
        out.duplicates.append(d)
    return out


def _find(
    p: _Plan,
    stored: dict[str, dict[str, list[int]]],
    in_file: dict[tuple[str, str], _Plan],
    reachable: set[int],
) -> tuple[int | _Plan, str] | None:
    """What `p` duplicates: by email, then phone, then name, each candidate judged by
    `duplicates.same_person` (`reachable`: the name matches that have an email or phone)."""
    mine = p.reachable()
    for kind, key in p.keys():
        reason = f"same {kind}" + (f" {key}" if kind != "name" else "")
        ids = [
            i
            for i in stored[kind].get(key, ())
            if same_person([kind], new_reachable=mine, old_reachable=i in reachable)
        ]
        if ids:
            return ids[0], reason
        earlier = in_file.get((kind, key))
        if earlier is not None and same_person(
            [kind], new_reachable=mine, old_reachable=earlier.reachable()
        ):
            return earlier, reason
    return None


def _reachable(db: Db, ids: set[int]) -> set[int]:
    """Those of `ids` that have an email or a phone."""
    out: set[int] = set()
    for _, listed in id_lists(ids):
        out.update(
            int(r[0])
            for r in db.tuples(
                "SELECT DISTINCT contact_id FROM contact_methods WHERE kind IN ('email', 'phone')"
                f" AND contact_id IN ({listed})"
            )
        )
    return out


def _names(db: Db, keys: set[str]) -> dict[str, list[int]]:
    """name_match_key -> stored contact ids, for `keys`. The key (words sorted) is not a
    column, so every name is read once: ~0.3 s for 100k contacts."""
    out: dict[str, list[int]] = {}
    cache: dict[str, str] = {}
    for ident, name_key in db.tuples("SELECT id, name_key FROM contacts ORDER BY id"):
        key = cache.get(name_key)
        if key is None:
            key = cache[name_key] = name_match_key(name_key)
        if key in keys:
            out.setdefault(key, []).append(int(ident))
    return out


def _contact_names(db: Db, ids: set[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    for _, listed in id_lists(ids):
        for ident, name in db.tuples(f"SELECT id, name FROM contacts WHERE id IN ({listed})"):
            out[int(ident)] = str(name)
    return out


def _fold_into(target: _Plan, p: _Plan) -> None:
    """Merge a later row of the file into an earlier new contact, in memory."""
    have = {m.same for m in target.methods}
    target.methods += [m for m in p.methods if m.same not in have]
    target.tags += [t for t in p.tags if t not in target.tags]
    target.as_written = combined(target.as_written, p.as_written)
    target.custom = p.custom | target.custom
    for name in _BLANKS:
        if getattr(target, name) is None and getattr(p, name) is not None:
            setattr(target, name, getattr(p, name))


# -- writing --------------------------------------------------------------------------------


def _create(
    ctx: Ctx,
    new: list[_Plan],
    owner_id: int | None,
    file: str,
    progress: Progress | None,
    *,
    has_source: bool = False,
) -> None:
    """Insert the new contacts. Their source is the file's; a file without a source
    column (not one with blank cells: tinycrm's own export) gives "import FILE"."""
    if not new:
        return
    db = ctx.db
    now = db.ts(ctx.now)
    default_source = None if has_source else f"import {Path(file).name}"
    company_ids = companies(ctx, [p.company for p in new if p.company])
    methods: list[dict[str, Any]] = []
    tags: list[dict[str, Any]] = []
    docs: list[list[str | None]] = []
    clocked: list[int] = []
    for n, p in enumerate(new):
        company_id = company_ids[fold(p.company)] if p.company else None
        source = p.source or default_source
        p.id = db.insert(
            "INSERT INTO contacts (name, name_key, company_id, title, source, owner_id, notes,"
            " cadence_days, birthday, anniversary, as_written, consent, consent_at,"
            " opted_out_at, created_at, updated_at, version) VALUES (:name, :key, :company,"
            " :title, :source, :owner, :notes, :cadence, :birthday, :anniversary, :as_written,"
            " :consent, :consent_at, :opted_out, :created, :now, 1) RETURNING id",
            {
                "name": p.name,
                "key": fold(p.name),
                "company": company_id,
                "title": p.title,
                "source": source,
                "owner": p.owner_id or owner_id,
                "notes": p.notes,
                "cadence": p.cadence_days,
                "birthday": db.day(p.birthday),
                "anniversary": db.day(p.anniversary),
                "as_written": dump(p.as_written),
                "consent": p.consent,
                "consent_at": db.ts(p.consent_at),
                "opted_out": db.ts(p.opted_out_at),
                "created": db.ts(p.created_at) if p.created_at else now,
                "now": now,
            },
        )
        methods += _method_rows(p.id, p.methods, 0)
        tags += [{"c": p.id, "t": t} for t in p.tags]
        if p.tags or p.cadence_days is not None:
            clocked.append(p.id)
        docs.append(
            [
                str(p.id),
                p.name,
                p.company,
                p.title,
                source,
                p.notes,
                *(m.value for m in p.methods),
                *sorted(p.tags),  # as search.documents orders them
            ]
        )
        if progress and n % 1000 == 0:
            progress("save", n, len(new))
    for start in range(0, len(methods), BATCH):
        db.insert_many(
            "INSERT INTO contact_methods (contact_id, kind, value, value_key, match_key, label,"
            " position) VALUES (:c, :k, :v, :key, :match, :label, :pos)",
            methods[start : start + BATCH],
        )
    for start in range(0, len(tags), BATCH):
        db.insert_many(
            "INSERT INTO contact_tags (contact_id, tag) VALUES (:c, :t)",
            tags[start : start + BATCH],
        )
    search.index_new(db, "contact", docs)
    fields.insert_values(
        db, "contact", [(p.id, fid, v) for p in new if p.id for fid, v in p.custom.items()]
    )
    clocks.refresh_touch(db, clocked)
    if progress:
        progress("save", len(new), len(new))


def _method_rows(contact_id: int, methods: list[_Method], start: int) -> list[dict[str, Any]]:
    return [
        {
            "c": contact_id,
            "k": m.kind,
            "v": m.value,
            "key": m.key,
            "match": m.match,
            "label": m.label,
            "pos": start + i,
        }
        for i, m in enumerate(methods)
    ]


def _merge(ctx: Ctx, merges: dict[int, list[_Plan]]) -> None:
    """Add what the rows bring to the stored contacts they matched: new methods and tags,
    and the fields the contact has blank."""
    if not merges:
        return
    db = ctx.db
    now = db.ts(ctx.now)
    company_ids = companies(ctx, [p.company for ps in merges.values() for p in ps if p.company])
    columns = "id, company_id, title, notes, birthday, anniversary, cadence_days, consent,"
    columns += " consent_at, opted_out_at, as_written"
    for batch, listed in id_lists(merges):
        db.lock("contacts", batch)  # their blank fields stay blank until these land
        current = {
            int(r["id"]): r
            for r in db.all(f"SELECT {columns} FROM contacts WHERE id IN ({listed})")
        }
        have: dict[int, set[tuple[str, str]]] = {}
        positions: dict[int, int] = {}
        for cid, kind, key, match, pos in db.tuples(
            "SELECT contact_id, kind, value_key, match_key, position FROM contact_methods"
            f" WHERE contact_id IN ({listed})"
        ):
            have.setdefault(int(cid), set()).add((kind, match or key))
            positions[int(cid)] = max(positions.get(int(cid), -1), int(pos))
        tags: dict[int, set[str]] = {}
        for cid, t in db.tuples(
            f"SELECT contact_id, tag FROM contact_tags WHERE contact_id IN ({listed})"
        ):
            tags.setdefault(int(cid), set()).add(t)
        has_values = fields.held(db, "contact", batch)
        new_values: list[tuple[int, int, fields.Stored]] = []
        for cid in batch:
            row = current[cid]
            sets: dict[str, Any] = {}
            new_methods: list[_Method] = []
            new_tags: list[str] = []
            known = have.get(cid, set())
            own_tags = tags.get(cid, set())
            kept = load(row["as_written"])
            filled = has_values.get(cid, set())
            values_before = len(new_values)
            for p in merges[cid]:
                kept = combined(kept, p.as_written)
                for fid, v in p.custom.items():  # custom fields it has blank
                    if fid not in filled:
                        filled.add(fid)
                        new_values.append((cid, fid, v))
                if row["company_id"] is None and "company_id" not in sets and p.company:
                    sets["company_id"] = company_ids[fold(p.company)]
                for name, value in (
                    ("title", p.title),
                    ("notes", p.notes),
                    ("birthday", db.day(p.birthday)),
                    ("anniversary", db.day(p.anniversary)),
                    ("cadence_days", p.cadence_days),
                    ("consent", p.consent),
                    ("consent_at", db.ts(p.consent_at)),
                    ("opted_out_at", db.ts(p.opted_out_at)),
                ):
                    if row[name] is None and name not in sets and value is not None:
                        sets[name] = value
                for m in p.methods:
                    if m.same not in known:
                        known.add(m.same)
                        new_methods.append(m)
                for t in p.tags:
                    if t not in own_tags:
                        own_tags.add(t)
                        new_tags.append(t)
            if dump(kept) != row["as_written"]:
                sets["as_written"] = dump(kept)
            if not (sets or new_methods or new_tags or len(new_values) > values_before):
                continue
            assigns = "".join(f"{k} = :{k}, " for k in sets)
            db.execute(
                f"UPDATE contacts SET {assigns}updated_at = :now, version = version + 1"
                " WHERE id = :id",
                {**sets, "now": now, "id": cid},
            )
            if new_methods:
                db.insert_many(
                    "INSERT INTO contact_methods (contact_id, kind, value, value_key, match_key,"
                    " label, position) VALUES (:c, :k, :v, :key, :match, :label, :pos)",
                    _method_rows(cid, new_methods, positions.get(cid, -1) + 1),
                )
            if new_tags:
                db.insert_many(
                    "INSERT INTO contact_tags (contact_id, tag) VALUES (:c, :t)",
                    [{"c": cid, "t": t} for t in new_tags],
                )
            reindex(db, cid)
            if new_tags or "cadence_days" in sets:
                clocks.refresh_touch(db, [cid])
        fields.insert_values(db, "contact", new_values)
