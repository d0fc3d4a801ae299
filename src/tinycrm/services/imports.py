"""Importing purchases in bulk: every contact resolved once, missing ones created on request,
what the store already holds skipped, and everything written in one transaction.

The reader (`tinycrm.io.purchase_csv`) turns a file into `PurchaseRow`s and the `RowError`s
of rows it could not read; this module owns the rules that need the store:

- A contact REF is an id (`12`, `#12`, `contact:12`), an email or a whole name, tried in the
  order `refs.resolve` uses, but exactly: no prefixes and no fuzzy matching, because a wrong
  match that nobody sees is worse than an error in an import. Two contacts with the same
  email or name make the row ambiguous; the error names their ids.
- `create_missing` creates one contact per distinct unknown email or name. An email-only
  contact is named by `derived_name`, or by its address when that name is taken, so an
  import never makes a name ambiguous (`_plan_new`). An unknown id stays an error.
- A row identical to a stored purchase (contact, day, amount, currency, note) is a duplicate
  and is skipped unless `allow_duplicates`. Each stored purchase accounts for one row, so a
  file with two identical orders imports both the first time and skips both the second.
- Days after today (in the user's zone) and before 1900 are refused.

Lookups take one query per 500 distinct values, never one per row, so a 500k-row file costs a
few hundred queries, and rows are inserted with executemany in batches. Purchases feed no
derived clock and no search index, so after the inserts nothing else is owed per row. On
SQLite the whole use case holds the write lock: ~6 s for 500k rows into the benchmark store,
inside the 10 s that other writers wait.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from tinycrm.db import Db
from tinycrm.errors import InvalidInput
from tinycrm.identity import email_match_key
from tinycrm.money import format_cents
from tinycrm.services import audit, search
from tinycrm.services.contacts import MAX_NAME
from tinycrm.services.context import Ctx
from tinycrm.text import clean, fold, normalize_email

CHUNK = 500  # values per IN (...) lookup
BATCH = 5_000  # rows per executemany
SHOWN_ERRORS = 20  # errors carried in the summary (all of them go to the rejects file)

#: progress(stage, done, total): "check" while resolving, "save" while inserting.
Progress = Callable[[str, int, int], None]


@dataclass(slots=True)
class PurchaseRow:
    """One readable row of a purchases file; `line` is where it starts in the file."""

    line: int
    contact: str
    day: date
    amount_cents: int
    currency: str
    note: str | None


@dataclass
class RowError:
    line: int
    field: str | None  # the column's field name, or None for the row as a whole
    error: str

    def where(self) -> str:
        return f"line {self.line}" + (f", field {self.field}" if self.field else "")


@dataclass
class ImportSource:
    """How the file was read, as the reader worked it out (or was told)."""

    file: str
    encoding: str
    encoding_guessed: bool  # not UTF-8, so read as the fallback (cp1252)
    delimiter: str
    decimal_mark: str | None  # None: no amount in the file showed one
    date_formats: list[str]
    columns: dict[str, str]  # field -> the header it was read from
    ignored_columns: list[str]


@dataclass
class CreatedContact:
    id: int | None  # None in a dry run
    name: str
    email: str | None


@dataclass
class ImportSummary:
    source: ImportSource
    dry_run: bool
    rows: int
    imported: int
    duplicates: int
    rejected: int
    rejects_file: str | None
    contacts_created: list[CreatedContact]
    totals: dict[str, str]  # currency -> decimal string, of the imported rows
    errors: list[RowError] = field(default_factory=list)  # the first SHOWN_ERRORS, by line


def import_purchases(
    ctx: Ctx,
    rows: Sequence[PurchaseRow],
    *,
    source: ImportSource,
    unreadable: Sequence[RowError] = (),
    create_missing: bool = False,
    skip_bad: bool = False,
    allow_duplicates: bool = False,
    dry_run: bool = False,
    save_rejects: Callable[[list[RowError]], str] | None = None,
    progress: Progress | None = None,
) -> ImportSummary:
    """Import `rows`, all or nothing. Any bad row (one of `unreadable`, or one that fails
    here) raises InvalidInput naming the first, unless `skip_bad`: then the good rows land
    and `save_rejects` is called with the bad ones inside the transaction (so a failure to
    write them lands nothing) and returns where it put them. A dry run only reads."""
    db = ctx.db
    with db.read() if dry_run else db.write():
        if not dry_run:  # what the checks read stays as it is until this lands
            if create_missing:
                db.lock_key("contact identities")
            db.lock_key("purchase imports")
        if progress:
            progress("check", 0, len(rows))
        # in file order: a contact to create takes the first spelling the file uses
        refs = _resolve_refs(db, list(dict.fromkeys(r.contact for r in rows)), create_missing)
        good, errors = _check_rows(ctx, rows, refs, unreadable)
        if errors and not skip_bad:
            raise _first_error(source.file, errors)
        new = refs.needed_by(good)
        if dry_run:
            for i, c in enumerate(new):
                c.id = -1 - i  # stands in for the id it would get; never a stored one
        else:
            _create_contacts(ctx, new, source.file)
        id_of = refs.contact_ids()
        pairs = [(r, id_of[r.contact]) for r in good]
        duplicates = 0
        if not allow_duplicates:
            pairs, duplicates = _drop_stored(db, pairs)
        if progress:
            progress("check", len(rows), len(rows))
        if not dry_run:
            _insert(ctx, pairs, progress)
        rejects_file = None
        if errors and not dry_run and save_rejects is not None:
            rejects_file = save_rejects(errors)
        totals: Counter[str] = Counter()
        for r, _ in pairs:
            totals[r.currency] += r.amount_cents
        if not dry_run:  # one entry for the whole run, not one per row
            audit.record(
                ctx,
                "import",
                0,
                "import",
                audit.added(
                    {
                        "what": "purchases",
                        "file": source.file,
                        "rows": len(rows) + len(unreadable),
                        "imported": len(pairs),
                        "duplicates": duplicates,
                        "rejected": len(errors),
                        "contacts_created": len(new),
                        "totals": [f"{format_cents(totals[c])} {c}" for c in sorted(totals)],
                    }
                ),
            )
    return ImportSummary(
        source=source,
        dry_run=dry_run,
        rows=len(rows) + len(unreadable),
        imported=len(pairs),
        duplicates=duplicates,
        rejected=len(errors),
        rejects_file=rejects_file,
        contacts_created=[CreatedContact(None if dry_run else c.id, c.name, c.email) for c in new],
        totals={cur: format_cents(totals[cur]) for cur in sorted(totals)},
        errors=errors[:SHOWN_ERRORS],
    )


def quoted(text: str, width: int = 60) -> str:
    """A value for an error message: on one line, cut at `width` (an unclosed quote can make
    one field of the rest of the file), with control characters escaped, not dropped."""
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= width else flat[: width - 1] + "…")


def _first_error(file: str, errors: list[RowError]) -> InvalidInput:
    first, more = errors[0], len(errors) - 1
    hint = f"; and {more:,} more bad row{'' if more == 1 else 's'} (--skip-bad imports the rest)"
    return InvalidInput(f"{file} {first.where()}: {first.error}" + (hint if more else ""))


# -- resolving contacts -------------------------------------------------------------------


@dataclass
class _NewContact:
    name: str
    email: str | None
    id: int | None = None


@dataclass
class _Refs:
    """What each distinct REF of the file means: a contact id, a contact to create (by key
    in `new`), or an error."""

    ids: dict[str, int] = field(default_factory=dict)
    new_keys: dict[str, str] = field(default_factory=dict)
    new: dict[str, _NewContact] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def needed_by(self, rows: Iterable[PurchaseRow]) -> list[_NewContact]:
        """The contacts to create for these rows, in the order the file first names them."""
        keys = dict.fromkeys(self.new_keys[r.contact] for r in rows if r.contact in self.new_keys)
        return [self.new[k] for k in keys]

    def contact_ids(self) -> dict[str, int]:
        """REF -> contact id, for every REF that resolved or whose contact has an id now."""
        out = dict(self.ids)
        for ref, key in self.new_keys.items():
            created = self.new[key].id
            if created is not None:
                out[ref] = created
        return out


_ID = re.compile(r"#?(\d{1,18})")
_KIND_PREFIX = re.compile(r"([a-z]+):(.+)", re.IGNORECASE)
_OTHER_KINDS = {"co": "company", "company": "company", "d": "deal", "deal": "deal"}


def derived_name(email: str) -> str:
    """The name of a contact created from an email alone: the words of the part before the
    `@` when it has several (`anna.berger+shop@x.com` -> `Anna Berger`), else the address
    itself (`info@acme.com`): a lone word is more often a mailbox than a name."""
    local = email.split("@", 1)[0].split("+", 1)[0]
    words = [w for w in re.split(r"[._\-]+", local) if w]
    if len(words) >= 2 and all(w.isalpha() for w in words):
        return " ".join(w.capitalize() for w in words)
    return email


def _classify(ref: str) -> tuple[str, Any]:
    """('id', 12) | ('email', key) | ('name', key) | ('error', message)."""
    raw = clean(ref)
    m = _KIND_PREFIX.fullmatch(raw)
    if m and m.group(1).lower() in ("c", "contact"):
        raw = m.group(2).strip()
    elif m and m.group(1).lower() in _OTHER_KINDS:
        return "error", f"purchases belong to contacts, not a {_OTHER_KINDS[m.group(1).lower()]}"
    id_match = _ID.fullmatch(raw)
    if id_match:
        return "id", int(id_match.group(1))
    if "@" in raw:
        try:
            return "email", normalize_email(raw)
        except ValueError:
            return "email", raw.strip().lower()
    return "name", fold(raw)


def _resolve_refs(db: Db, refs: list[str], create_missing: bool) -> _Refs:
    kinds = {ref: _classify(ref) for ref in refs}
    ids = {v for k, v in kinds.values() if k == "id"}
    emails = {v for k, v in kinds.values() if k == "email"}
    known_ids = _existing_ids(db, ids)
    by_email = _lookup(
        db,
        "SELECT DISTINCT value_key, contact_id FROM contact_methods"
        " WHERE kind = 'email' AND value_key IN ({keys})",
        emails,
    )
    # name keys: of names, and of emails no address matched (tried as names, as
    # refs.resolve does); with create_missing, also the names email-only contacts would get
    unmatched = {ref: v for ref, (k, v) in kinds.items() if k == "email" and v not in by_email}
    name_key = {ref: v for ref, (k, v) in kinds.items() if k == "name"}
    name_key.update({ref: fold(clean(ref)) for ref in unmatched})
    derived = {fold(derived_name(v)) for v in unmatched.values()} if create_missing else set()
    by_name = _lookup(
        db,
        "SELECT name_key, id FROM contacts WHERE name_key IN ({keys})",
        set(name_key.values()) | derived,
    )
    out = _Refs()
    missing: list[tuple[str, str, Any]] = []
    for ref, (kind, value) in kinds.items():
        if kind == "error":
            out.errors[ref] = value
        elif kind == "id":
            if value in known_ids:
                out.ids[ref] = value
            else:
                out.errors[ref] = f"no contact with id {value}"
        else:
            hits = by_email.get(value, []) if kind == "email" else []
            hits = hits or by_name.get(name_key[ref], [])
            if len(hits) == 1:
                out.ids[ref] = hits[0]
            elif hits:
                listing = ", ".join(f"#{i}" for i in hits[:8]) + (", ..." if len(hits) > 8 else "")
                out.errors[ref] = (
                    f"{quoted(ref)} matches {len(hits)} contacts ({listing}); use the id"
                )
            elif create_missing:
                missing.append((ref, kind, value))
            else:
                out.errors[ref] = f"no contact matches {quoted(ref)} (--create-missing adds it)"
    # names first, so that an email-only contact never takes a name another one has
    taken = set(by_name)
    for ref, kind, value in sorted(missing, key=lambda m: m[1] != "name"):
        _plan_new(out, ref, kind, value, taken)
    return out


def _plan_new(out: _Refs, ref: str, kind: str, value: str, taken: set[str]) -> None:
    """Plan the contact `ref` creates. An email-only contact is named by `derived_name`
    unless a contact has that name or is being created with it: then by the address, so
    the import never makes a name ambiguous (which would break re-importing the file)."""
    if kind == "email":
        try:
            email = normalize_email(clean(ref))
        except ValueError:
            out.errors[ref] = f"not an email address, so no contact can be made: {quoted(ref)}"
            return
        name = derived_name(email)
        key, new = f"email:{email}", _NewContact(email if fold(name) in taken else name, email)
    else:
        name = " ".join(clean(ref).split())
        if len(name) > MAX_NAME:
            out.errors[ref] = f"a name is at most {MAX_NAME} characters"
            return
        key, new = f"name:{value}", _NewContact(name, None)
    if key not in out.new:  # one contact per distinct email or name
        out.new[key] = new
        taken.add(fold(new.name))
    out.new_keys[ref] = key


def _chunks(values: Iterable[Any]) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for v in values:
        batch.append(v)
        if len(batch) == CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def _existing_ids(db: Db, ids: set[int]) -> set[int]:
    found: set[int] = set()
    for batch in _chunks(sorted(ids)):
        listed = ",".join(str(int(i)) for i in batch)
        found.update(
            int(r[0]) for r in db.tuples(f"SELECT id FROM contacts WHERE id IN ({listed})")
        )
    return found


def _lookup(db: Db, sql: str, keys: set[str]) -> dict[str, list[int]]:
    """key -> matching contact ids (ascending), for `sql` selecting (key, id) with `{keys}`
    as its IN list."""
    out: dict[str, list[int]] = {}
    for batch in _chunks(sorted(keys)):
        params = {f"k{i}": k for i, k in enumerate(batch)}
        listed = ",".join(f":{p}" for p in params)
        for key, ident in db.tuples(sql.format(keys=listed), params):
            out.setdefault(key, []).append(int(ident))
    for ids in out.values():
        ids.sort()
    return out


# -- checking and writing -----------------------------------------------------------------


def _check_rows(
    ctx: Ctx, rows: Sequence[PurchaseRow], refs: _Refs, unreadable: Sequence[RowError]
) -> tuple[list[PurchaseRow], list[RowError]]:
    """The rows that can be imported, and every error (the reader's too) in line order."""
    today = ctx.now.astimezone(ctx.tz).date()
    good: list[PurchaseRow] = []
    errors = list(unreadable)
    for r in rows:
        problem = refs.errors.get(r.contact)
        if problem is not None:
            errors.append(RowError(r.line, "contact", problem))
        elif r.day > today:
            errors.append(RowError(r.line, "date", f"in the future: {r.day} (today is {today})"))
        elif r.day.year < 1900:
            errors.append(RowError(r.line, "date", f"before 1900: {r.day}"))
        elif r.amount_cents <= 0:
            errors.append(RowError(r.line, "amount", "must be more than zero"))
        else:
            good.append(r)
    errors.sort(key=lambda e: e.line)
    return good, errors


def _create_contacts(ctx: Ctx, new: list[_NewContact], file: str) -> None:
    """One INSERT per created contact (its id is needed), the emails in one batch. Their
    `source` says which file made them."""
    if not new:
        return
    db = ctx.db
    now, owner, source = db.ts(ctx.now), ctx.user_id, f"import {Path(file).name}"
    methods: list[dict[str, Any]] = []
    for c in new:
        c.id = db.insert(
            "INSERT INTO contacts (name, name_key, owner_id, source, created_at, updated_at,"
            " version) VALUES (:name, :key, :owner, :source, :now, :now, 1) RETURNING id",
            {"name": c.name, "key": fold(c.name), "owner": owner, "source": source, "now": now},
        )
        if c.email:
            methods.append({"c": c.id, "v": c.email, "m": email_match_key(c.email)})
        search.index(db, "contact", c.id, c.name, None, None, source, None, c.email)
    if methods:
        db.insert_many(
            "INSERT INTO contact_methods (contact_id, kind, value, value_key, match_key,"
            " position) VALUES (:c, 'email', :v, :v, :m, 0)",
            methods,
        )


_Pairs = list[tuple[PurchaseRow, int]]  # a row and its contact's id
_DupKey = tuple[int, str, int, str, str | None]


def _key(contact_id: int, day: str, cents: int, currency: str, note: str | None) -> _DupKey:
    return (contact_id, day, cents, currency, note or None)


def _drop_stored(db: Db, pairs: _Pairs) -> tuple[_Pairs, int]:
    """The pairs without those identical to a stored purchase, and how many were dropped.
    Each stored purchase cancels one row. Only contacts that existed before can have any,
    and only between the file's first and last day, so that is all that is read."""
    keys = {
        _key(cid, r.day.isoformat(), r.amount_cents, r.currency, r.note)
        for r, cid in pairs
        if cid > 0
    }
    if not keys:
        return pairs, 0
    days = [k[1] for k in keys]
    bounds = {
        "lo": db.day(date.fromisoformat(min(days))),
        "hi": db.day(date.fromisoformat(max(days))),
    }
    stored: Counter[_DupKey] = Counter()
    for batch in _chunks(sorted({k[0] for k in keys})):
        listed = ",".join(str(int(i)) for i in batch)
        for cid, day, cents, cur, note in db.tuples(
            "SELECT contact_id, purchased_on, amount_cents, currency, note FROM purchases"
            f" WHERE contact_id IN ({listed}) AND purchased_on >= :lo AND purchased_on <= :hi",
            bounds,
        ):
            key = _key(int(cid), str(day)[:10], int(cents), cur, note)
            if key in keys:
                stored[key] += 1
    if not stored:
        return pairs, 0
    kept: _Pairs = []
    for r, cid in pairs:
        key = _key(cid, r.day.isoformat(), r.amount_cents, r.currency, r.note)
        if stored[key] > 0:
            stored[key] -= 1
        else:
            kept.append((r, cid))
    return kept, len(pairs) - len(kept)


def _insert(ctx: Ctx, pairs: _Pairs, progress: Progress | None) -> None:
    db = ctx.db
    now = db.ts(ctx.now)
    # by contact and day, as the purchases index is: each batch then touches a few of its
    # pages instead of one per row (half the time at 500k rows into 500k)
    pairs = sorted(pairs, key=lambda p: (p[1], p[0].day))
    for start in range(0, len(pairs), BATCH):
        db.insert_many(
            "INSERT INTO purchases (contact_id, purchased_on, amount_cents, currency, note,"
            " created_at) VALUES (:c, :on, :amount, :cur, :note, :now)",
            [
                {
                    "c": cid,
                    "on": db.day(r.day),
                    "amount": r.amount_cents,
                    "cur": r.currency,
                    "note": r.note,
                    "now": now,
                }
                for r, cid in pairs[start : start + BATCH]
            ],
        )
        if progress:
            progress("save", min(start + BATCH, len(pairs)), len(pairs))
