"""`tinycrm forget`: erase one person completely, keeping only that an erasure happened.

What goes, in one transaction: the contact with its emails, phones, web and postal
addresses and tags; its interactions, reminders and service cases; the merges it took part in (their
snapshots hold its old data); the audit entries about it and about its interactions,
reminders and purchases; and the search-index rows of all of these (the delete triggers of
migration 0002). Its deals stay, unlinked (their value is the team's pipeline). Its
purchases are deleted, or kept anonymised: moved to the one *erased customers*
placeholder, so revenue totals stay right while nothing says whose they were.

The placeholder is an ordinary contact row told apart by its empty `name_key` (which no
real contact can have: `contacts.check_name` refuses names that fold to nothing). It has no
methods, tags, owner, search-index row or clock. Contact lists and counts, search,
rankings, the customers report and exports leave it out (`contacts.REAL`); revenue by
owner (team report: nobody's) and by source (sources report: none) keeps its purchases.

What stays is scrubbed: every text column of every table (read from the store's own
catalog, so a column added later is covered too) that mentions the person by name (as
typed, or folded), email, phone or tag form has each mention replaced by "(erased)": other
contacts' notes, a deal titled after them, a purchase note, company notes, reminders, the
audit log, merge snapshots. `KEPT` lists the few text columns left alone and why (codes,
derived keys, the team's accounts, another contact's own name). A value that *is* its row
(a tag, another contact's email or phone) takes the row with it. Scrubbed records move
their `version` (an edit form filled before can't write the name back), and their search
documents, derived keys and clocks are rewritten.

One `erasures` row records when, by whom, and how many rows of each kind went: counts
only. On SQLite, `secure_delete` is on for the transaction, so freed space is zeroed; the
search index is optimised, so the erased words are not left in old index segments; and
after the commit the write-ahead log is checkpointed into the file and emptied, waiting
(up to the busy timeout) for readers of an older snapshot, so when `forget` returns the
file holds nothing of the person, or `Erased.file_purged` is False and the CLI says a
reader holds the old pages. Out of reach: backups taken earlier, copies exported
earlier, and the dead row versions PostgreSQL keeps until (auto)vacuum.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tinycrm.errors import InvalidInput, NotFound
from tinycrm.services import clocks, quotes, search
from tinycrm.services.context import Ctx
from tinycrm.services.exports import AUDIT_OF_CONTACT
from tinycrm.store.db import Db, Table
from tinycrm.text import fold

PLACEHOLDER_NAME = "Erased customers"
PURCHASE_CHOICES = ("anonymise", "delete")


@dataclass
class ForgetPlan:
    """What `forget` would remove (shown before asking)."""

    id: int
    name: str
    methods: int
    tags: int
    interactions: int
    reminders: int
    purchases: int
    deals: int
    merges: int
    audit_entries: int
    cases: int = 0


@dataclass
class Erased:
    """What `forget` did (the `erasures` row): no name, no email, no phone."""

    erasure_id: int
    erased_at: datetime
    purchases: str  # anonymised | deleted
    counts: dict[str, int]  # contacts, methods, tags, interactions, reminders,
    # purchases_anonymised or purchases_deleted, deals_unlinked, merges, audit_entries,
    # audit_entries_scrubbed, texts_scrubbed (other rows), details_removed (others' tags,
    # emails, phones that named the person)
    file_purged: bool | None = field(default=None)  # SQLite: nothing left in the file;
    # False while another program reads an older snapshot; None on PostgreSQL


def _count(db: Db, sql: str, contact_id: int) -> int:
    return int(db.value(sql, {"id": contact_id}) or 0)


def plan(db: Db, contact_id: int) -> ForgetPlan:
    """What forgetting this contact would delete or scrub, counted, without changing anything."""
    row = db.one(
        "SELECT id, name FROM contacts WHERE id = :id AND name_key <> ''", {"id": contact_id}
    )
    if row is None:
        raise NotFound(f"no contact with id {contact_id}")
    c = contact_id
    return ForgetPlan(
        id=c,
        name=row["name"],
        methods=_count(db, "SELECT count(*) FROM contact_methods WHERE contact_id = :id", c),
        tags=_count(db, "SELECT count(*) FROM contact_tags WHERE contact_id = :id", c),
        interactions=_count(db, "SELECT count(*) FROM interactions WHERE contact_id = :id", c),
        reminders=_count(db, "SELECT count(*) FROM reminders WHERE contact_id = :id", c),
        purchases=_count(db, "SELECT count(*) FROM purchases WHERE contact_id = :id", c),
        deals=_count(db, "SELECT count(*) FROM deals WHERE contact_id = :id", c),
        merges=_count(db, "SELECT count(*) FROM merges WHERE kept_id = :id OR removed_id = :id", c),
        audit_entries=_count(db, f"SELECT count(*) FROM audit_log a WHERE {AUDIT_OF_CONTACT}", c),
        cases=_count(db, "SELECT count(*) FROM cases WHERE contact_id = :id", c),
    )


ERASED = "(erased)"

#: The text columns `forget` leaves as they are, and why. Every other text column of
#: every table is scrubbed, including any added after this list was written.
KEPT: dict[tuple[str, str], str] = {
    ("users", "name"): "a team member's login name, not the erased person's",
    ("users", "email"): "a team member's address, not the erased person's",
    ("users", "timezone"): "a time zone name",
    ("digests_sent", "recipient_key"): "a team member's login name (whose digest it was)",
    ("contacts", "name"): "another contact's own name: a namesake is someone else",
    ("contacts", "name_key"): "derived from that name, which stays",
    ("companies", "name_key"): "derived from the name: rewritten when the name is scrubbed",
    ("deals", "title_key"): "derived from the title: rewritten when the title is scrubbed",
    ("contact_methods", "value_key"): "derived from the value: the method goes if it names them",
    ("contact_methods", "match_key"): "derived from the value: the method goes if it names them",
    ("contact_methods", "kind"): "email, phone, url or address",
    ("interactions", "kind"): "note, call, email or meeting",
    ("reminders", "rrule"): "a recurrence rule (RFC 5545), checked when entered",
    ("stages", "outcome"): "open, won or lost",
    ("deals", "currency"): "an ISO currency code",
    ("deals", "status"): "open, won or lost",
    ("purchases", "currency"): "an ISO currency code",
    ("products", "name_key"): "derived from the name: rewritten when the name is scrubbed",
    ("products", "currency"): "an ISO currency code",
    ("quotes", "number"): "a quote's number (Q-2026-0001), handed out once",
    ("quotes", "currency"): "an ISO currency code",
    ("audit_log", "entity"): "the kind of record an entry is about",
    ("audit_log", "action"): "a verb such as add, edit or delete",
    ("cases", "priority"): "low, normal, high or urgent",
    ("cases", "status"): "open, waiting, resolved or closed",
    ("sla_targets", "priority"): "low, normal, high or urgent",
    ("sla_targets", "respond"): "a working-time target such as 4h, checked when entered",
    ("sla_targets", "resolve"): "a working-time target such as 1d, checked when entered",
    ("team_settings", "key"): "a setting's name (working-hours, holidays)",
    ("team_settings", "value"): "working hours, holidays, the company's quote header and terms",
    ("campaigns", "currency"): "an ISO currency code",
    ("changes", "audit_ids"): "ids of audit entries (the undo journal)",
    ("row_changes", "table_name"): "a table's name (the undo journal)",
    ("row_changes", "row_key"): "a row's primary key (the undo journal)",
    ("row_changes", "old_row"): "a row as it was: one that names the person goes whole",
    ("row_changes", "new_row"): "a row as it became: one that names the person goes whole",
    ("mail_messages", "direction"): "sent or received",
    ("mail_folders", "account"): "a team member's own mailbox login and server",
    ("goals", "metric"): "revenue, won-deals or activities",
    ("goals", "per"): "month, quarter or year",
    ("goals", "currency"): "an ISO currency code",
    ("custom_fields", "entity"): "contact, company or deal",
    ("custom_fields", "name"): "the name of a field the team added, not a person's data",
    ("custom_fields", "name_key"): "derived from the field's name",
    ("custom_fields", "type"): "text, number, money, date, choice or bool",
    ("custom_fields", "choices"): "a choice field's allowed values, set by the team",
    ("custom_values", "value_key"): "derived from the value: rewritten when the value is scrubbed",
    ("custom_values", "currency"): "an ISO currency code",
    ("saved_views", "entity"): "contacts, deals or companies",
    ("saved_views", "sort"): "a sort order's name, checked when the view is saved",
    ("saved_views", "columns"): "column names, checked when the view is saved",
}
#: Text columns with a key derived from them (folded), rewritten along with them.
_DERIVED = {
    ("companies", "name"): "name_key",
    ("deals", "title"): "title_key",
    ("products", "name"): "name_key",
    ("custom_values", "value"): "value_key",  # a text field's: the others never name anyone
}
#: Values that are what their row is, like the text columns of a primary key (a tag):
#: when one names the person, the row goes rather than holding "(erased)".
_WHOLE_ROW = {("contact_methods", "value")}


def _identifiers(db: Db, contact_id: int) -> list[str]:
    """What names the person in text (as whole words): their full name (also folded, and
    as a tag), emails and phone numbers (also as their match keys), longest first."""
    name = db.value("SELECT name FROM contacts WHERE id = :id", {"id": contact_id})
    found = [str(name), fold(str(name)), fold(str(name)).replace(" ", "-")] if name else []
    for r in db.all(
        "SELECT value, match_key FROM contact_methods WHERE contact_id = :id AND kind IN"
        " ('email', 'phone')",
        {"id": contact_id},
    ):
        found += [str(v) for v in (r["value"], r["match_key"]) if v]
    return sorted({v for v in found if len(v) >= 3}, key=len, reverse=True)


def _like(needle: str) -> str:
    """A pattern for `Db.like_any_case` that finds `needle` in any case on both backends:
    ASCII letters lowercased, and any other letter that has case as `_` (one character:
    the backend may not fold it), so it finds at least what the case-insensitive regular
    expression then replaces."""
    out = []
    for ch in needle:
        if ch.isascii():
            ch = ch.lower()
            out.append("!" + ch if ch in "!%_" else ch)
        elif ch.lower() != ch or ch.upper() != ch:
            out.append("_")
        else:
            out.append(ch)
    return "%" + "".join(out) + "%"


@dataclass
class _Scrubbed:
    audit_entries: int = 0
    texts: int = 0
    removed: int = 0

    def any(self) -> bool:
        return bool(self.audit_entries or self.texts or self.removed)


def _mentions(needles: list[str]) -> tuple[re.Pattern[str], dict[str, str]]:
    """What finds `needles` in stored text: a regular expression of them as whole words
    (as typed, and as JSON holds them: the audit log, merge snapshots, the journal), and
    LIKE patterns (`Db.like_any_case`) that narrow the rows to read first."""
    variants = {
        v
        for n in needles
        for v in (n, json.dumps(n, ensure_ascii=False)[1:-1], json.dumps(n)[1:-1])
    }
    ordered = sorted(variants, key=len, reverse=True)
    # whole words only: forgetting "Ann" must not turn "annual" into "(erased)ual"
    alternatives = "|".join(re.escape(v) for v in ordered)
    pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)
    return pattern, {f"p{i}": _like(v) for i, v in enumerate(ordered)}


def _scrub_everywhere(ctx: Ctx, needles: list[str]) -> _Scrubbed:
    """Replace every mention of `needles` in what stays with "(erased)" (see the module
    docstring); in the write transaction, after the person's own rows are gone."""
    db = ctx.db
    done = _Scrubbed()
    if not needles:
        return done
    pattern, likes = _mentions(needles)
    for table in db.tables():
        columns = [c for c in table.text if (table.name, c) not in KEPT]
        if not columns or not table.key:
            continue
        where = " OR ".join(db.like_any_case(c, p) for c in columns for p in likes)
        rows = db.all(f"SELECT * FROM {table.name} WHERE {where}", likes)
        touched: list[Mapping[str, Any]] = []
        for row in rows:
            changed = {
                c: pattern.sub(ERASED, row[c])
                for c in columns
                if isinstance(row[c], str) and pattern.search(row[c])
            }
            if not changed:
                continue
            if any(c in table.key or (table.name, c) in _WHOLE_ROW for c in changed):
                _delete_row(db, table, row)
                done.removed += 1
            else:
                _rewrite_row(ctx, table, row, changed)
                if table.name == "audit_log":
                    done.audit_entries += 1
                else:
                    done.texts += 1
            touched.append(row)
        if touched:
            search.reindex_rows(db, table.name, touched)
    return done


def _purge_journal(db: Db, needles: list[str]) -> None:
    """Leave no trace of the person in the undo journal (tinycrm.store.journal): every
    image of every row this erasure deleted or rewrote (what its own pending journal rows
    name), and every other image that mentions them, goes; then the erasure's own rows, so
    `forget` is not a change and cannot be undone. Changes left with no rows go too."""
    if not db.journal:
        return
    touched = {
        (str(r["table_name"]), str(r["row_key"]))
        for r in db.all("SELECT table_name, row_key FROM row_changes WHERE change_id IS NULL")
    }
    db.discard_journal()
    tables = sorted({t for t, _ in touched})
    doomed: list[int] = []
    if tables:
        listed = ", ".join(f"'{t}'" for t in tables)
        for row_id, table, key in db.tuples(
            f"SELECT id, table_name, row_key FROM row_changes WHERE table_name IN ({listed})"
        ):
            if (table, key) in touched:
                doomed.append(int(row_id))
    if needles:
        pattern, likes = _mentions(needles)
        where = " OR ".join(db.like_any_case(c, p) for c in ("old_row", "new_row") for p in likes)
        for r in db.all(f"SELECT id, old_row, new_row FROM row_changes WHERE {where}", likes):
            if any(pattern.search(r[c] or "") for c in ("old_row", "new_row")):
                doomed.append(int(r["id"]))
    for start in range(0, len(doomed), 500):
        ids = ",".join(str(i) for i in sorted(set(doomed))[start : start + 500])
        db.execute(f"DELETE FROM row_changes WHERE id IN ({ids})")
    if doomed:
        db.execute(
            "DELETE FROM changes WHERE NOT EXISTS"
            " (SELECT 1 FROM row_changes r WHERE r.change_id = changes.id)"
        )


def _match(table: Table, row: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    where = " AND ".join(f"{k} = :k_{k}" for k in table.key)
    return where, {f"k_{k}": row[k] for k in table.key}


def _delete_row(db: Db, table: Table, row: Mapping[str, Any]) -> None:
    where, params = _match(table, row)
    db.execute(f"DELETE FROM {table.name} WHERE {where}", params)
    # a tag or a tag's cadence gone: the stay-in-touch clocks that read them
    if table.name == "contact_tags":
        clocks.refresh_touch(db, [int(row["contact_id"])])
    elif table.name == "tag_cadences":
        clocks.refresh_touch_for_tag(db, str(row["tag"]))


def _rewrite_row(ctx: Ctx, table: Table, row: Mapping[str, Any], changed: dict[str, str]) -> None:
    db = ctx.db
    values = dict(changed)
    for column, text in changed.items():
        if column in table.unique:
            values[column] = text = _unused(db, table, column, text)
        if (table.name, column) in _DERIVED:
            values[_DERIVED[(table.name, column)]] = fold(text)
    sets = [f"{c} = :v_{c}" for c in values]
    if "version" in table.columns:  # a form filled before can't write the name back
        sets.append("version = version + 1")
    if "updated_at" in table.columns:
        sets.append("updated_at = :now")
    where, params = _match(table, row)
    db.execute(
        f"UPDATE {table.name} SET {', '.join(sets)} WHERE {where}",
        {**params, **{f"v_{c}": v for c, v in values.items()}, "now": db.ts(ctx.now)},
    )


def _unused(db: Db, table: Table, column: str, text: str) -> str:
    """`text`, or `text (2)`, `text (3)`...: the first that no row of a unique column has."""
    candidate, n = text, 1
    while db.value(f"SELECT 1 FROM {table.name} WHERE {column} = :v", {"v": candidate}):
        n += 1
        candidate = f"{text} ({n})"
    return candidate


def placeholder_id(ctx: Ctx) -> int:
    """The erased-customers placeholder, created on first use (the caller holds the
    "contact identities" key, so only once)."""
    db = ctx.db
    found = db.value("SELECT id FROM contacts WHERE name_key = '' ORDER BY id LIMIT 1")
    if found is not None:
        return int(found)
    return db.insert(
        "INSERT INTO contacts (name, name_key, created_at, updated_at, version)"
        " VALUES (:name, '', :now, :now, 1) RETURNING id",
        {"name": PLACEHOLDER_NAME, "now": db.ts(ctx.now)},
    )


def forget(ctx: Ctx, contact_id: int, *, purchases: str = "anonymise") -> Erased:
    """Erase a person (see the module docstring), in one transaction."""
    if purchases not in PURCHASE_CHOICES:
        raise InvalidInput(
            f"--purchases must be one of {', '.join(PURCHASE_CHOICES)}: {purchases!r}"
        )
    db = ctx.db
    p = {"id": contact_id}
    with db.write():
        db.lock_key("contact identities")  # for the placeholder, created once
        db.lock("contacts", contact_id, "delete")
        if db.is_sqlite:
            db.execute("PRAGMA secure_delete = ON")
        what = plan(db, contact_id)
        needles = _identifiers(db, contact_id)
        # audit entries first: they are found through the rows deleted below
        db.execute(
            "DELETE FROM audit_log WHERE id IN"
            f" (SELECT a.id FROM audit_log a WHERE {AUDIT_OF_CONTACT})",
            p,
        )
        db.execute("DELETE FROM merges WHERE kept_id = :id OR removed_id = :id", p)
        db.execute("DELETE FROM interactions WHERE contact_id = :id", p)
        db.execute("DELETE FROM reminders WHERE contact_id = :id", p)
        db.execute("DELETE FROM cases WHERE contact_id = :id", p)  # their note links cascade
        if purchases == "delete":
            db.execute("DELETE FROM purchases WHERE contact_id = :id", p)
        elif what.purchases:
            db.execute(
                "UPDATE purchases SET contact_id = :to WHERE contact_id = :id",
                {"id": contact_id, "to": placeholder_id(ctx)},
            )
        quotes.erase_customer(db, contact_id, ERASED)  # their deals' quotes name them
        db.execute(
            "UPDATE deals SET contact_id = NULL, updated_at = :now, version = version + 1"
            " WHERE contact_id = :id",
            {"id": contact_id, "now": db.ts(ctx.now)},
        )
        db.execute("DELETE FROM contacts WHERE id = :id", p)  # methods and tags cascade
        scrubbed = _scrub_everywhere(ctx, needles)
        _purge_journal(db, needles)
        counts = {
            "contacts": 1,
            "methods": what.methods,
            "tags": what.tags,
            "interactions": what.interactions,
            "reminders": what.reminders,
            "cases": what.cases,
            f"purchases_{'deleted' if purchases == 'delete' else 'anonymised'}": what.purchases,
            "deals_unlinked": what.deals,
            "merges": what.merges,
            "audit_entries": what.audit_entries,
            "audit_entries_scrubbed": scrubbed.audit_entries,
            "texts_scrubbed": scrubbed.texts,
            "details_removed": scrubbed.removed,
        }
        done = "deleted" if purchases == "delete" else "anonymised"
        erasure_id = db.insert(
            "INSERT INTO erasures (erased_at, user_id, summary) VALUES (:now, :user, :summary)"
            " RETURNING id",
            {
                "now": db.ts(ctx.now),
                "user": ctx.user_id,
                "summary": json.dumps(counts),
            },
        )
        if db.is_sqlite:
            _purge_search_index(
                db, notes=what.interactions > 0, cases=what.cases > 0, all_kinds=scrubbed.any()
            )
    if not db.is_sqlite:
        return Erased(erasure_id, ctx.now, done, counts)
    db.execute("PRAGMA secure_delete = OFF")
    return Erased(
        erasure_id,
        ctx.now,
        done,
        counts,
        file_purged=db.checkpoint(db.location.settings.busy_timeout),
    )


def _purge_search_index(db: Db, *, notes: bool, cases: bool, all_kinds: bool) -> None:
    """FTS5 deletes by adding 'delete' markers; the erased words stay in older index
    segments until they are merged. 'optimize' merges them all into one."""
    kinds = (
        search.KINDS
        if all_kinds
        else ("contact", *(["interaction"] if notes else []), *(["case"] if cases else []))
    )
    for kind in kinds:
        table = f"{kind}_fts"
        db.execute(f"INSERT INTO {table} ({table}) VALUES ('optimize')")
