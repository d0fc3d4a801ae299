"""Tags as a whole: renaming one on every contact (merging into a tag that exists) and
removing one everywhere. Adding and removing a tag on one contact is
`contact_writes.tag_contact`; a tag's stay-in-touch cadence is `agenda.set_tag_cadence`."""

from __future__ import annotations

from dataclasses import dataclass

from tinycrm.errors import InvalidInput, UnknownId
from tinycrm.services import audit, clocks, search
from tinycrm.services.context import Ctx
from tinycrm.services.validation import normalize_tags
from tinycrm.store.db import Db


@dataclass
class TagChange:
    tag: str  # the tag renamed or removed
    into: str | None  # what it became (None: removed)
    contacts: int  # contacts that carried it
    merged: bool  # renamed into a tag that existed already
    cadence_days: int | None  # the cadence the tag (or, renamed, `into`) has afterwards


def _one(tag: str, what: str) -> str:
    found = normalize_tags([tag])
    if len(found) != 1:
        raise InvalidInput(f"{what} must be one tag, like vip: {tag!r}")
    return found[0]


def _cadence(db: Db, tag: str) -> int | None:
    days = db.value("SELECT days FROM tag_cadences WHERE tag = :t", {"t": tag})
    return None if days is None else int(days)


def tag_impact(db: Db, tag: str) -> TagChange:
    """How many contacts carry `tag` and its cadence (for the question `tag rm` asks)."""
    key = _one(tag, "the tag")
    n = int(db.value("SELECT count(*) FROM contact_tags WHERE tag = :t", {"t": key}))
    days = _cadence(db, key)
    if not n and days is None:
        raise UnknownId(f"no tag {key!r} (tinycrm tag list shows them)")
    return TagChange(key, None, n, False, days)


def _retag(ctx: Ctx, old: str, new: str | None) -> int:
    """Every contact with `old` gets `new` instead (or nothing): versions, search
    documents, stay-in-touch clocks and one audit entry per contact, as tagging each one
    by hand would leave them. Returns how many contacts changed."""
    db = ctx.db
    ids = [
        int(r["contact_id"])
        for r in db.all(
            "SELECT contact_id FROM contact_tags WHERE tag = :t ORDER BY contact_id", {"t": old}
        )
    ]
    db.lock("contacts", ids)
    for contact_id in ids:
        before = [
            r["tag"]
            for r in db.all(
                "SELECT tag FROM contact_tags WHERE contact_id = :c ORDER BY tag", {"c": contact_id}
            )
        ]
        db.execute(
            "DELETE FROM contact_tags WHERE contact_id = :c AND tag = :t",
            {"c": contact_id, "t": old},
        )
        if new is not None and new not in before:
            db.execute(
                "INSERT INTO contact_tags (contact_id, tag) VALUES (:c, :t)",
                {"c": contact_id, "t": new},
            )
        after = sorted({t for t in before if t != old} | ({new} if new else set()))
        db.execute(
            "UPDATE contacts SET updated_at = :now, version = version + 1 WHERE id = :id",
            {"now": db.ts(ctx.now), "id": contact_id},
        )
        search.reindex(db, "contact", contact_id)
        audit.record(
            ctx, "contact", contact_id, "tag", audit.diff({"tags": before}, {"tags": after})
        )
    clocks.refresh_touch(db, ids)
    return len(ids)


def rename_tag(ctx: Ctx, old: str, new: str) -> TagChange:
    """Rename a tag on every contact. When `new` exists already the two merge: a contact
    with both keeps one, and `new` keeps its cadence, or takes `old`'s if it had none."""
    old_key, new_key = _one(old, "the tag"), _one(new, "the new name")
    if old_key == new_key:
        raise InvalidInput(f"the tag is called {old_key!r} already")
    db = ctx.db
    with db.write():
        db.lock_key("tag cadences")
        impact = tag_impact(db, old_key)
        merged = (
            bool(db.value("SELECT count(*) FROM contact_tags WHERE tag = :t", {"t": new_key}))
            or _cadence(db, new_key) is not None
        )
        days = _cadence(db, new_key)
        if days is None and impact.cadence_days is not None:
            days = impact.cadence_days
            db.execute(
                "INSERT INTO tag_cadences (tag, days) VALUES (:t, :d)", {"t": new_key, "d": days}
            )
        db.execute("DELETE FROM tag_cadences WHERE tag = :t", {"t": old_key})
        n = _retag(ctx, old_key, new_key)
        clocks.refresh_touch_for_tag(db, new_key)  # those who had it already: its cadence
        return TagChange(old_key, new_key, n, merged, days)


def remove_tag(ctx: Ctx, tag: str) -> TagChange:
    """Take a tag off every contact, with its cadence."""
    key = _one(tag, "the tag")
    db = ctx.db
    with db.write():
        db.lock_key("tag cadences")
        impact = tag_impact(db, key)
        db.execute("DELETE FROM tag_cadences WHERE tag = :t", {"t": key})
        n = _retag(ctx, key, None)
        return TagChange(key, None, n, False, impact.cadence_days)
