"""The audit log: every change, who made it, when, and what it was before and after.

Writing: a service calls `record()` inside its write transaction, after the change, with
the values it already has at hand (one INSERT, no extra read):

    with db.write():
        ...UPDATE contacts...
        audit.record(ctx, "contact", contact_id, "edit", audit.diff(old, new))

- `entity` is the kind of record: contact, company, deal, reminder, interaction,
  purchase, user, stage, or import (one entry per import run, `entity_id` 0, counts as
  new values; never one entry per imported row).
- `action` is a short verb: add, edit, tag, delete, move, won, lost, reopen, assign, done,
  snooze, import (merge, restore... for the features that come later).
- `changes` is `{field: [old, new]}`: `added()` for a new record (old values None),
  `removed()` for a deleted one, `diff()` for an edit (only the fields that changed).
  Values are plain JSON: text, numbers, lists, and times as UTC ISO 8601 with `Z`
  (pass `datetime`s; `date`s become `YYYY-MM-DD`). Money is a decimal string, people and
  stages by name, so the entry reads the same after the record is gone.

Reading: `history()` for one record (a contact with its notes', reminders' and
purchases' entries, which are found through the rows that exist now), `recent()` across
the store, `last_change()` for the "changed meanwhile" message of `stale()`.
`describe()` renders an entry's changes for people (times local).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from tinycrm.errors import Conflict
from tinycrm.money import Money, format_cents
from tinycrm.services.context import Ctx
from tinycrm.store.db import Db, read_ts

Changes = dict[str, list[Any]]

#: A contact's history also holds the entries of these records about it (by contact_id);
#: a company's and a deal's those logged on them directly.
CHILDREN = {
    "contact": (
        ("interaction", "interactions"),
        ("reminder", "reminders"),
        ("purchase", "purchases"),
        ("case", "cases"),
    ),
    "company": (("interaction", "interactions"), ("reminder", "reminders")),
    "deal": (("interaction", "interactions"), ("reminder", "reminders")),
}
_PARENT_COLUMN = {"contact": "contact_id", "company": "company_id", "deal": "deal_id"}


# -- writing ----------------------------------------------------------------------------------
def plain(value: Any) -> Any:
    """A value as the log stores it (see the module docstring): Money as its decimal string."""
    if isinstance(value, Money):
        return format_cents(value.cents)
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    return str(value)


def added(values: Mapping[str, Any]) -> Changes:
    """A new record's fields as changes from nothing (empty fields left out)."""
    return {k: [None, plain(v)] for k, v in values.items() if v not in (None, "", [])}


def removed(values: Mapping[str, Any]) -> Changes:
    """A deleted record's fields as changes to nothing (empty fields left out)."""
    return {k: [plain(v), None] for k, v in values.items() if v not in (None, "", [])}


def diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> Changes:
    """The fields of `new` whose value differs from `old`'s."""
    out: Changes = {}
    for key, value in new.items():
        before, after = plain(old.get(key)), plain(value)
        if before != after:
            out[key] = [before, after]
    return out


CURRENT = -1  # record()'s default actor: the context's user, created on first use


def record(
    ctx: Ctx,
    entity: str,
    entity_id: int,
    action: str,
    changes: Changes | None = None,
    *,
    user_id: int | None = CURRENT,
) -> None:
    """Log one change by the current user (or `user_id`; None for nobody known), now;
    call inside the write transaction."""
    import json

    at = ctx.db.ts(ctx.now)
    user = ctx.user_id if user_id == CURRENT else user_id
    entry = ctx.db.insert(
        "INSERT INTO audit_log (at, user_id, entity, entity_id, action, changes)"
        " VALUES (:at, :user, :entity, :id, :action, :changes) RETURNING id",
        {
            "at": at,
            "user": user,
            "entity": entity,
            "id": entity_id,
            "action": action,
            "changes": json.dumps(changes, ensure_ascii=False, separators=(",", ":"))
            if changes
            else None,
        },
    )
    ctx.db.note_audit(entry, user, at)  # names the change this transaction is filed as


# -- reading ----------------------------------------------------------------------------------
@dataclass
class HistoryEntry:
    id: int
    at: datetime
    user: str | None
    entity: str
    entity_id: int
    label: str | None  # the record's name or title (now, or as it was when deleted)
    action: str
    changes: Changes = field(default_factory=dict)


_SELECT = (
    "SELECT a.id, a.at, a.entity, a.entity_id, a.action, a.changes, u.name AS user"
    " FROM audit_log a LEFT JOIN users u ON u.id = a.user_id"
)


def _entry(r: dict[str, Any]) -> HistoryEntry:
    import json

    at = read_ts(r["at"])
    assert at is not None
    return HistoryEntry(
        id=int(r["id"]),
        at=at,
        user=r["user"],
        entity=r["entity"],
        entity_id=int(r["entity_id"]),
        label=None,
        action=r["action"],
        changes=json.loads(r["changes"]) if r["changes"] else {},
    )


def history(db: Db, entity: str, entity_id: int, *, limit: int = 50) -> list[HistoryEntry]:
    """A record's entries, newest first: a contact's, company's or deal's own and those of
    the notes, reminders (and, for a contact, purchases) that belong to it now."""
    params = {"id": entity_id, "n": limit}
    queries = [
        _SELECT + " WHERE a.entity = :entity AND a.entity_id = :id ORDER BY a.id DESC LIMIT :n"
    ]
    column = _PARENT_COLUMN.get(entity)
    for child, table in CHILDREN.get(entity, ()):
        queries.append(
            _SELECT + f" WHERE a.entity = '{child}' AND a.entity_id IN"
            f" (SELECT id FROM {table} WHERE {column} = :id) ORDER BY a.id DESC LIMIT :n"
        )
    rows: list[dict[str, Any]] = []
    with db.read():
        for sql in queries:
            rows += db.all(sql, {**params, "entity": entity})
    rows.sort(key=lambda r: int(r["id"]), reverse=True)
    return _labelled(db, [_entry(r) for r in rows[:limit]])


def recent(
    db: Db,
    *,
    user_id: int | None = None,
    since: datetime | None = None,
    limit: int = 50,
) -> list[HistoryEntry]:
    """Entries across the store, newest first, maybe by one user and since a time."""
    where: list[str] = []
    params: dict[str, Any] = {"n": limit}
    if user_id is not None:
        where.append("a.user_id = :user")
        params["user"] = user_id
    if since is not None:
        where.append("a.at >= :since")
        params["since"] = db.ts(since)
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    rows = db.all(_SELECT + clause + " ORDER BY a.id DESC LIMIT :n", params)
    return _labelled(db, [_entry(r) for r in rows])


_LABELS = {
    "contact": "SELECT id, name AS label FROM contacts",
    "company": "SELECT id, name AS label FROM companies",
    "deal": "SELECT id, title AS label FROM deals",
    "reminder": "SELECT id, text AS label FROM reminders",
    "interaction": "SELECT id, kind AS label FROM interactions",
    "user": "SELECT id, name AS label FROM users",
    "stage": "SELECT id, name AS label FROM stages",
    "case": "SELECT id, title AS label FROM cases",
}
_LABEL_FIELDS = ("name", "title", "text", "kind", "what")


def _labelled(db: Db, entries: list[HistoryEntry]) -> list[HistoryEntry]:
    """Fill in each entry's label: the record's current name (one query per kind), else
    the name its entries recorded (a deleted record's)."""
    wanted: dict[str, set[int]] = {}
    for e in entries:
        if e.entity in _LABELS:
            wanted.setdefault(e.entity, set()).add(e.entity_id)
    found: dict[tuple[str, int], str] = {}
    for kind, ids in wanted.items():
        listed = ",".join(str(i) for i in sorted(ids))
        for r in db.all(f"{_LABELS[kind]} WHERE id IN ({listed})"):
            found[(kind, int(r["id"]))] = str(r["label"])
    for e in entries:
        if (e.entity, e.entity_id) in found:
            continue
        for name in _LABEL_FIELDS:  # gone: the newest name its entries recorded
            old, new = e.changes.get(name, [None, None])
            if isinstance(new or old, str):
                found[(e.entity, e.entity_id)] = new or old
                break
    for e in entries:
        e.label = found.get((e.entity, e.entity_id))
    return entries


def entries(db: Db, ids: list[int]) -> dict[int, HistoryEntry]:
    """These entries by id, labelled (the ones still in the log: forget deletes some)."""
    out: dict[int, HistoryEntry] = {}
    for start in range(0, len(ids), 500):
        listed = ",".join(str(int(i)) for i in ids[start : start + 500])
        found = db.all(_SELECT + f" WHERE a.id IN ({listed})")
        for e in _labelled(db, [_entry(r) for r in found]):
            out[e.id] = e
    return out


def last_change(db: Db, entity: str, entity_id: int) -> HistoryEntry | None:
    """The newest audit entry of one record, or None."""
    rows = db.all(
        _SELECT + " WHERE a.entity = :entity AND a.entity_id = :id ORDER BY a.id DESC LIMIT 1",
        {"entity": entity, "id": entity_id},
    )
    return _entry(rows[0]) if rows else None


def stale(
    ctx: Ctx, entity: str, entity_id: int, label: str, expected: int, actual: int
) -> Conflict:
    """The refusal of a change made to an older version of a record than the stored one."""
    last = last_change(ctx.db, entity, entity_id)
    by = ""
    if last is not None:
        when = last.at.astimezone(ctx.tz).strftime("%Y-%m-%d %H:%M")
        what = ", ".join(last.changes) if last.changes else last.action
        by = f" by {last.user or 'someone'} at {when} ({last.action}: {what})"
    return Conflict(
        f"{entity} #{entity_id} {label} was changed{by} after you read it"
        f" (version {actual}, you had {expected}); nothing was saved:"
        f" show it again and redo your change"
    )


def forget_contact(db: Db, contact_id: int) -> int:
    """Delete the entries of a contact and of its notes, reminders and purchases (what
    `history` shows for it), for erasing a person; call it before deleting their rows, in
    the same transaction. Returns how many entries went."""
    gone = 0
    with db.write():
        for child, table in CHILDREN["contact"]:
            gone += db.execute(
                f"DELETE FROM audit_log WHERE entity = '{child}' AND entity_id IN"
                f" (SELECT id FROM {table} WHERE contact_id = :id)",
                {"id": contact_id},
            ).rowcount
        gone += db.execute(
            "DELETE FROM audit_log WHERE entity = 'contact' AND entity_id = :id",
            {"id": contact_id},
        ).rowcount
    return int(gone)


# -- for people ---------------------------------------------------------------------------
CREATING = ("add", "import")
_ISO_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


def show_value(value: Any, tz: tzinfo, width: int = 60) -> str:
    """One stored value for people: times local, lists joined, long text cut."""
    if value is None or value == [] or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(show_value(v, tz, width) for v in value)
    text = str(value)
    if isinstance(value, str) and _ISO_UTC.fullmatch(text):
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return when.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


#: How fields read in `describe` (JSON keeps the stored names).
FIELD_NAMES = {
    "due_at": "due",
    "done_at": "done",
    "happened_at": "when",
    "purchased_on": "date",
    "cadence_days": "stay in touch (days)",
    "expected_close": "expected close",
    "lost_reason": "lost because",
    "rot_days": "rots after (days)",
    "contacts_created": "contacts created",
    "after": "repeats",
}


def describe(entry: HistoryEntry, tz: tzinfo) -> str:
    """`field: old → new; ...` (a new record's fields as `field: new`, a deleted one's as
    `field: old`)."""
    parts = []
    for key, (old, new) in entry.changes.items():
        name = FIELD_NAMES.get(key, key)
        if key == "after":  # the next occurrence of a recurring reminder
            parts.append(f"next after reminder #{new}")
            continue
        if old is None and (entry.action in CREATING or entry.action in ("undo", "redo")):
            parts.append(f"{name}: {show_value(new, tz)}")
        elif new is None and entry.action == "delete":
            parts.append(f"{name}: {show_value(old, tz)}")
        else:
            parts.append(f"{name}: {show_value(old, tz)} → {show_value(new, tz)}")
    return "; ".join(parts)
