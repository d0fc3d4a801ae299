"""`tinycrm forget`: erase one person completely, keeping only that an erasure happened.

What goes, in one transaction: the contact with its emails, phones, web and postal
addresses and tags; its interactions and reminders; the merges it took part in (their
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

One `erasures` row records when, by whom, and how many rows of each kind went: counts
only. On SQLite, `secure_delete` is on for the transaction, so the freed pages are
zeroed, and the search index of contacts and notes is optimised afterwards, so the erased
words are not left in old index segments. Out of reach: backups taken earlier, copies
exported earlier, and the dead row versions PostgreSQL keeps until (auto)vacuum.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from tinycrm.db import Db
from tinycrm.errors import InvalidInput, NotFound
from tinycrm.services.context import Ctx
from tinycrm.services.exports import AUDIT_OF_CONTACT

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


@dataclass
class Erased:
    """What `forget` did (the `erasures` row): no name, no email, no phone."""

    erasure_id: int
    erased_at: datetime
    purchases: str  # anonymised | deleted
    counts: dict[str, int]  # contacts, methods, tags, interactions, reminders,
    # purchases_anonymised or purchases_deleted, deals_unlinked, merges, audit_entries


def _count(db: Db, sql: str, contact_id: int) -> int:
    return int(db.value(sql, {"id": contact_id}) or 0)


def plan(db: Db, contact_id: int) -> ForgetPlan:
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
    )


ERASED = "(erased)"


def _identifiers(db: Db, contact_id: int) -> list[str]:
    """What names the person in text: their name, emails and phone numbers."""
    name = db.value("SELECT name FROM contacts WHERE id = :id", {"id": contact_id})
    values = [
        str(r["value"])
        for r in db.all(
            "SELECT value FROM contact_methods WHERE contact_id = :id AND kind IN"
            " ('email', 'phone')",
            {"id": contact_id},
        )
    ]
    found = [str(name), *values] if name else values
    return sorted({v for v in found if len(v) >= 3}, key=len, reverse=True)


def _scrub_audit(db: Db, needles: list[str]) -> int:
    """Blank the person out of the audit entries of records that stay (a deal that was
    theirs, a merge into someone else): each mention becomes "(erased)". Returns how many
    entries changed."""
    import re

    if not needles:
        return 0
    encoded = [json.dumps(n, ensure_ascii=False)[1:-1] for n in needles]
    like = " OR ".join(f"lower(changes) LIKE :p{i} ESCAPE '!'" for i in range(len(encoded)))
    params = {
        f"p{i}": "%" + e.lower().replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%"
        for i, e in enumerate(encoded)
    }
    pattern = re.compile("|".join(re.escape(e) for e in encoded), re.IGNORECASE)
    changed = 0
    for row in db.all(f"SELECT id, changes FROM audit_log WHERE {like}", params):
        text = pattern.sub(ERASED, row["changes"])
        if text != row["changes"]:
            db.execute(
                "UPDATE audit_log SET changes = :c WHERE id = :id", {"c": text, "id": row["id"]}
            )
            changed += 1
    return changed


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
        # audit entries first: they are found through the rows deleted below
        db.execute(
            "DELETE FROM audit_log WHERE id IN"
            f" (SELECT a.id FROM audit_log a WHERE {AUDIT_OF_CONTACT})",
            p,
        )
        scrubbed = _scrub_audit(db, _identifiers(db, contact_id))
        db.execute("DELETE FROM merges WHERE kept_id = :id OR removed_id = :id", p)
        db.execute("DELETE FROM interactions WHERE contact_id = :id", p)
        db.execute("DELETE FROM reminders WHERE contact_id = :id", p)
        if purchases == "delete":
            db.execute("DELETE FROM purchases WHERE contact_id = :id", p)
        elif what.purchases:
            db.execute(
                "UPDATE purchases SET contact_id = :to WHERE contact_id = :id",
                {"id": contact_id, "to": placeholder_id(ctx)},
            )
        db.execute(
            "UPDATE deals SET contact_id = NULL, updated_at = :now, version = version + 1"
            " WHERE contact_id = :id",
            {"id": contact_id, "now": db.ts(ctx.now)},
        )
        db.execute("DELETE FROM contacts WHERE id = :id", p)  # methods and tags cascade
        counts = {
            "contacts": 1,
            "methods": what.methods,
            "tags": what.tags,
            "interactions": what.interactions,
            "reminders": what.reminders,
            f"purchases_{'deleted' if purchases == 'delete' else 'anonymised'}": what.purchases,
            "deals_unlinked": what.deals,
            "merges": what.merges,
            "audit_entries": what.audit_entries,
            "audit_entries_scrubbed": scrubbed,
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
            _purge_search_index(db, what.interactions > 0)
    if db.is_sqlite:
        db.execute("PRAGMA secure_delete = OFF")
    return Erased(erasure_id, ctx.now, done, counts)


def _purge_search_index(db: Db, notes: bool) -> None:
    """FTS5 deletes by adding 'delete' markers; the erased words stay in older index
    segments until they are merged. 'optimize' merges them all into one."""
    tables = ["contact_fts", "interaction_fts"] if notes else ["contact_fts"]
    for table in tables:
        db.execute(f"INSERT INTO {table} ({table}) VALUES ('optimize')")
