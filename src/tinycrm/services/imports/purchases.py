"""Importing purchases in bulk: every contact resolved once, missing ones created on request,
what the store already holds skipped, and everything written in one transaction.

The reader (`tinycrm.io.purchase_csv`) turns a file into `PurchaseRow`s and the `RowError`s
of rows it could not read; `bulk` runs the import (all or nothing, rejects, the audit entry);
this module owns the rules for purchases:

- A contact REF is an id (`12`, `#12`, `contact:12`), an email or a whole name, resolved
  exactly by `bulk.resolve_refs`. Two contacts with the same email or name make the row
  ambiguous; the error names their ids.
- `create_missing` creates one contact per distinct unknown email or name. An email-only
  contact is named by `bulk.derived_name`, or by its address when that name is taken, so an
  import never makes a name ambiguous. An unknown id stays an error.
- A row identical to a stored purchase (contact, day, amount, currency, note) is a duplicate
  and is skipped unless `allow_duplicates`. Each stored purchase accounts for one row, so a
  file with two identical orders imports both the first time and skips both the second.
- Days after today (in the user's zone) and before 1900 are refused.
- A row's product (`sku` column) is found in the catalogue as `product show` finds one
  (SKU, name, unique prefix, #id), once per distinct value; one that names no product, or
  several, is the row's error. The catalogue holds still meanwhile (`products` lock key).

Lookups take one query per 500 distinct values, never one per row, so a 500k-row file costs a
few hundred queries, and rows are inserted with executemany in batches. Purchases feed no
derived clock and no search index, so after the inserts nothing else is owed per row. On
SQLite the whole use case holds the write lock: ~6 s for 500k rows into the benchmark store,
inside the 10 s that other writers wait.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from tinycrm.errors import Ambiguous, InvalidInput, NotFound
from tinycrm.identity import email_match_key
from tinycrm.money import format_cents
from tinycrm.services import search
from tinycrm.services.context import Ctx
from tinycrm.services.imports.bulk import (
    BATCH,
    SHOWN,
    NewContact,
    Progress,
    RowError,
    Run,
    SaveRejects,
    id_lists,
    resolve_refs,
)
from tinycrm.services.products import find_product
from tinycrm.store.db import Db, LockKey
from tinycrm.text import fold


@dataclass(slots=True)
class PurchaseRow:
    """One readable row of a purchases file; `line` is where it starts in the file."""

    line: int
    contact: str
    day: date
    amount_cents: int
    currency: str
    note: str | None
    product: str | None = None  # a SKU, name or #id of the catalogue, as the file wrote it
    quantity: int | None = None  # with a product: how many


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
    errors: list[RowError] = field(default_factory=list)  # the first bulk.SHOWN, by line


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
    save_rejects: SaveRejects | None = None,
    progress: Progress | None = None,
) -> ImportSummary:
    """Import purchases in bulk, all or nothing (`bulk.Run`), skipping those already stored;
    `create_missing` creates the contacts no REF matches. A dry run only reads."""
    db = ctx.db
    run = Run("purchases", source.file, skip_bad, dry_run, save_rejects, progress)
    # what the checks read stays as it is until this lands
    locks: list[LockKey] = ["contact identities"] if create_missing else []
    shared: tuple[LockKey, ...] = ("products",)  # the catalogue holds still meanwhile
    with run.transaction(db, *locks, "purchase imports", "products", shared=shared):
        run.step("check", 0, len(rows))
        # in file order: a contact to create takes the first spelling the file uses
        refs = resolve_refs(db, list(dict.fromkeys(r.contact for r in rows)), create_missing)
        products, product_errors = _products(db, rows)
        good, errors = _check_rows(ctx, rows, refs.errors, unreadable, product_errors)
        run.checked(errors)
        new = refs.needed_by(r.contact for r in good)
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
        run.step("check", len(rows), len(rows))
        if not dry_run:
            _insert(ctx, pairs, products, progress)
        totals: Counter[str] = Counter()
        for r, _ in pairs:
            totals[r.currency] += r.amount_cents
        rejects_file = run.finish(
            ctx,
            errors,
            {
                "rows": len(rows) + len(unreadable),
                "imported": len(pairs),
                "duplicates": duplicates,
                "rejected": len(errors),
                "contacts_created": len(new),
                "totals": [f"{format_cents(totals[c])} {c}" for c in sorted(totals)],
            },
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
        errors=errors[:SHOWN],
    )


# -- checking and writing -----------------------------------------------------------------


def _products(db: Db, rows: Sequence[PurchaseRow]) -> tuple[dict[str, int], dict[str, str]]:
    """Each distinct product the rows name: its id, or why it names none."""
    found: dict[str, int] = {}
    problems: dict[str, str] = {}
    for ref in dict.fromkeys(r.product for r in rows if r.product is not None):
        try:
            found[ref] = find_product(db, ref).id
        except (NotFound, Ambiguous, InvalidInput) as e:
            problems[ref] = str(e)
    return found, problems


def _check_rows(
    ctx: Ctx,
    rows: Sequence[PurchaseRow],
    ref_errors: dict[str, str],
    unreadable: Sequence[RowError],
    product_errors: dict[str, str],
) -> tuple[list[PurchaseRow], list[RowError]]:
    """The rows that can be imported, and every error (the reader's too)."""
    today = ctx.now.astimezone(ctx.tz).date()
    good: list[PurchaseRow] = []
    errors = list(unreadable)
    for r in rows:
        problem = ref_errors.get(r.contact)
        if problem is not None:
            errors.append(RowError(r.line, "contact", problem))
        elif r.product is not None and r.product in product_errors:
            errors.append(RowError(r.line, "sku", product_errors[r.product]))
        elif r.day > today:
            errors.append(RowError(r.line, "date", f"in the future: {r.day} (today is {today})"))
        elif r.day.year < 1900:
            errors.append(RowError(r.line, "date", f"before 1900: {r.day}"))
        else:
            good.append(r)
    return good, errors


def _create_contacts(ctx: Ctx, new: list[NewContact], file: str) -> None:
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
    for _, listed in id_lists({k[0] for k in keys}):
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


def _insert(ctx: Ctx, pairs: _Pairs, products: dict[str, int], progress: Progress | None) -> None:
    db = ctx.db
    now = db.ts(ctx.now)
    # by contact and day, as the purchases index is: each batch then touches a few of its
    # pages instead of one per row (half the time at 500k rows into 500k)
    pairs = sorted(pairs, key=lambda p: (p[1], p[0].day))
    for start in range(0, len(pairs), BATCH):
        db.insert_many(
            "INSERT INTO purchases (contact_id, purchased_on, amount_cents, currency, note,"
            " created_at, product_id, quantity) VALUES (:c, :on, :amount, :cur, :note, :now,"
            " :product, :qty)",
            [
                {
                    "c": cid,
                    "on": db.day(r.day),
                    "amount": r.amount_cents,
                    "cur": r.currency,
                    "note": r.note,
                    "now": now,
                    "product": None if r.product is None else products[r.product],
                    "qty": r.quantity if r.product is not None else None,
                }
                for r, cid in pairs[start : start + BATCH]
            ],
        )
        if progress:
            progress("save", min(start + BATCH, len(pairs)), len(pairs))
