"""The core every bulk import shares, so that a rule holds for all of them at once.

- A bad row is a `RowError` naming its line and field. A run is all or nothing: the first
  bad row stops it (`Run.checked`), naming how many more there are, unless `skip_bad`: then
  the good rows land and the bad ones go to the rejects file, written inside the
  transaction so that a failure to write them lands nothing (`Run.finish`).
- A dry run only reads (`Run.transaction`); a real one logs one audit entry for the whole
  run, never one per row.
- The store is asked in batches of `CHUNK` values per `IN (...)` list, never once per row,
  and rows are written `BATCH` at a time.
- A contact REF (an id, email or whole name) is resolved exactly, never by a prefix or a
  guess (`resolve_refs`); a company is found by its folded name or created (`companies`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tinycrm.errors import InvalidInput
from tinycrm.services import audit, search
from tinycrm.services.contacts import MAX_NAME
from tinycrm.services.context import Ctx
from tinycrm.store.db import Db, LockKey
from tinycrm.text import clean, fold, normalize_email

CHUNK = 500  # values per IN (...) lookup
BATCH = 5_000  # rows per executemany
SHOWN = 20  # errors (and contact duplicates) carried in a summary; the rejects file has all

#: progress(stage, done, total): "read" while reading, "check" while resolving, "save"
#: while writing.
Progress = Callable[[str, int, int], None]


@dataclass
class RowError:
    """A row that can't be imported: where it starts in the file, the field, and why."""

    line: int
    field: str | None  # the column's field name, or None for the row as a whole
    error: str

    def where(self) -> str:
        """`line 12, field date`: where an error message says the problem is."""
        return f"line {self.line}" + (f", field {self.field}" if self.field else "")

    def reason(self) -> str:
        """The rejects file's `error` column (its `line` column says where)."""
        return f"field {self.field}: {self.error}" if self.field else self.error


#: save_rejects(errors) -> where it wrote them, as the summary shows it.
SaveRejects = Callable[[list[RowError]], str]


@dataclass
class Run:
    """One import run: what it imports from which file, and how (all or nothing, or
    `skip_bad`; `dry_run`), with the steps every kind takes the same way."""

    what: str  # "purchases", "contacts", "interactions", "deals": the audit entry's `what`
    file: str
    skip_bad: bool = False
    dry_run: bool = False
    save_rejects: SaveRejects | None = None
    progress: Progress | None = None

    @contextmanager
    def transaction(
        self, db: Db, *locks: LockKey, shared: Collection[LockKey] = ()
    ) -> Iterator[Db]:
        """The run's one transaction: a read for a dry run; else a write that first takes
        `locks` in order (those in `shared` shared), so that what the checks read stays as
        it is until the run lands."""
        if self.dry_run:
            with db.read() as reading:
                yield reading
            return
        with db.write() as writing:
            for key in locks:
                db.lock_key(key, shared=key in shared)
            yield writing

    def step(self, stage: str, done: int, total: int) -> None:
        """Report progress, when someone is watching."""
        if self.progress:
            self.progress(stage, done, total)

    def checked(self, errors: list[RowError]) -> list[RowError]:
        """The errors in line order; any at all stops the run unless `skip_bad`."""
        errors.sort(key=lambda e: e.line)
        if errors and not self.skip_bad:
            raise first_error(self.file, errors)
        return errors

    def finish(self, ctx: Ctx, errors: list[RowError], counts: dict[str, Any]) -> str | None:
        """After the writes, inside the transaction: save the rejects (returning where they
        went) and log the run's one audit entry with `counts`. A dry run does neither."""
        if self.dry_run:
            return None
        rejects_file = None
        if errors and self.save_rejects is not None:
            rejects_file = self.save_rejects(errors)
        audit.record(
            ctx,
            "import",
            0,
            "import",
            audit.added({"what": self.what, "file": self.file, **counts}),
        )
        return rejects_file


def first_error(file: str, errors: list[RowError]) -> InvalidInput:
    """The error that stops an all-or-nothing run: the first bad row, and how many more."""
    first, more = errors[0], len(errors) - 1
    hint = f"; and {more:,} more bad row{'' if more == 1 else 's'} (--skip-bad imports the rest)"
    return InvalidInput(f"{file} {first.where()}: {first.error}" + (hint if more else ""))


def quoted(text: str, width: int = 60) -> str:
    """A value for an error message: on one line, cut at `width` (an unclosed quote can make
    one field of the rest of the file), with control characters escaped, not dropped."""
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= width else flat[: width - 1] + "…")


def derived_name(email: str) -> str:
    """The name of a contact created from an email alone: the words of the part before the
    `@` when it has several (`anna.berger+shop@x.com` -> `Anna Berger`), else the address
    itself (`info@acme.com`): a lone word is more often a mailbox than a name."""
    local = email.split("@", 1)[0].split("+", 1)[0]
    words = [w for w in re.split(r"[._\-]+", local) if w]
    if len(words) >= 2 and all(w.isalpha() for w in words):
        return " ".join(w.capitalize() for w in words)
    return email


# -- asking the store in batches --------------------------------------------------------


def chunks(values: Iterable[Any]) -> Iterator[list[Any]]:
    """`values` in lists of at most CHUNK, one per IN (...) query."""
    batch: list[Any] = []
    for v in values:
        batch.append(v)
        if len(batch) == CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def id_lists(ids: Iterable[int]) -> Iterator[tuple[list[int], str]]:
    """The ids in ascending batches, each with its SQL list (`1,2,3`): ints only, so safe
    to splice into the query."""
    for batch in chunks(sorted(ids)):
        yield batch, ",".join(str(int(i)) for i in batch)


def lookup(db: Db, sql: str, keys: set[str]) -> dict[str, list[int]]:
    """key -> matching ids (ascending, each once), for `sql` selecting (key, id) with
    `{keys}` as its IN list of named parameters."""
    out: dict[str, list[int]] = {}
    for batch in chunks(sorted(keys)):
        params = {f"k{i}": k for i, k in enumerate(batch)}
        listed = ",".join(f":{p}" for p in params)
        for key, ident in db.tuples(sql.format(keys=listed), params):
            ids = out.setdefault(key, [])
            if int(ident) not in ids:
                ids.append(int(ident))
    for ids in out.values():
        ids.sort()
    return out


def companies(ctx: Ctx, names: Iterable[str]) -> dict[str, int]:
    """fold(name) -> company id, creating the companies the store lacks (first spelling),
    each indexed for search."""
    db = ctx.db
    wanted: dict[str, str] = {}
    for n in names:
        wanted.setdefault(fold(n), n)
    found = {
        k: ids[0]
        for k, ids in lookup(
            db, "SELECT name_key, id FROM companies WHERE name_key IN ({keys})", set(wanted)
        ).items()
    }
    now = db.ts(ctx.now)
    docs: list[list[str | None]] = []
    for key, name in wanted.items():
        if key in found:
            continue
        found[key] = db.insert(
            "INSERT INTO companies (name, name_key, owner_id, created_at, updated_at, version)"
            " VALUES (:name, :key, :owner, :now, :now, 1) RETURNING id",
            {"name": name, "key": key, "owner": ctx.user_id, "now": now},
        )
        docs.append([str(found[key]), name])
    search.index_new(db, "company", docs)
    return found


# -- contacts by REF ----------------------------------------------------------------------


@dataclass
class NewContact:
    """A contact an import will create for a REF that matches nobody."""

    name: str
    email: str | None
    id: int | None = None


@dataclass
class Refs:
    """What each distinct REF of the file means: a contact id, a contact to create (by key
    in `new`), or an error."""

    ids: dict[str, int] = field(default_factory=dict)
    new_keys: dict[str, str] = field(default_factory=dict)
    new: dict[str, NewContact] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def needed_by(self, refs: Iterable[str]) -> list[NewContact]:
        """The contacts to create for rows naming these REFs, in the order first named."""
        keys = dict.fromkeys(self.new_keys[r] for r in refs if r in self.new_keys)
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


def resolve_refs(db: Db, refs: list[str], create_missing: bool) -> Refs:
    """Resolve each distinct contact REF of a file (an id, `#12`, `contact:12`, an email or
    a whole name, in the order `refs.resolve` tries them), exactly: no prefixes, no fuzzy
    matching, since a wrong match that nobody sees is worse than an error in an import.
    With `create_missing`, plan a contact for each distinct unknown email or name."""
    kinds = {ref: _classify(ref) for ref in refs}
    ids = {v for k, v in kinds.values() if k == "id"}
    emails = {v for k, v in kinds.values() if k == "email"}
    known_ids: set[int] = set()
    for _, listed in id_lists(ids):
        known_ids.update(
            int(r[0]) for r in db.tuples(f"SELECT id FROM contacts WHERE id IN ({listed})")
        )
    by_email = lookup(
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
    by_name = lookup(
        db,
        "SELECT name_key, id FROM contacts WHERE name_key IN ({keys})",
        set(name_key.values()) | derived,
    )
    out = Refs()
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


def _plan_new(out: Refs, ref: str, kind: str, value: str, taken: set[str]) -> None:
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
        key, new = f"email:{email}", NewContact(email if fold(name) in taken else name, email)
    else:
        name = " ".join(clean(ref).split())
        if len(name) > MAX_NAME:
            out.errors[ref] = f"a name is at most {MAX_NAME} characters"
            return
        key, new = f"name:{value}", NewContact(name, None)
    if key not in out.new:  # one contact per distinct email or name
        out.new[key] = new
        taken.add(fold(new.name))
    out.new_keys[ref] = key
