"""`tinycrm undo` and `redo`: take back any change, whatever made it, from the change journal.

The journal (tinycrm.store.journal, migration 0009) holds every row each write transaction
wrote, before and after, filed as one *change* with the audit entries that describe it.
Undoing change C applies the inverse of C's net effect on each row, as one new change
(recorded, so `redo` is the undo of that undo):

- a row C added is deleted, one C deleted is put back, one C edited gets its old values;
  rows are put back parents first and deleted children first, so foreign keys hold;
- the refusal: every row C touched must still be as C left it (a row C deleted must still
  be gone), leaving aside the derived and bookkeeping columns below; and the undo must not
  reach any row outside C (deleting a contact C added would take a later note with it).
  Otherwise nothing is written and the message names the change in the way;
- derived columns never refuse an undo: `version` moves forward (current + 1, so a form
  or `--if-version` read before stays refused), `updated_at`, `last_touch_at` and
  `activity_at` go back only while they still hold what C wrote, and the clocks
  (`touch_due_at`, `rots_at`) and the search index are recomputed from the records.

Each undo writes audit entries (action "undo", or "redo") for the records C's entries
named. `forget` leaves no trace in the journal and cannot be undone (services/privacy).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tinycrm.errors import InvalidInput, StoreError
from tinycrm.services import audit, cases, clocks, search
from tinycrm.services.context import Ctx
from tinycrm.store.db import Db, Row, Table, read_ts

#: Parents before children (foreign keys): rows are put back in this order and deleted in
#: the reverse one. tests/test_undo.py holds it to the models' foreign keys.
PARENTS_FIRST = (
    "users",
    "stages",
    "products",
    "tag_cadences",
    "companies",
    "contacts",
    "contact_methods",
    "contact_tags",
    "deals",
    "deal_items",
    "quotes",
    "stage_changes",
    "interactions",
    "reminders",
    "purchases",
    "merges",
    "mail_messages",
    "mail_links",
    "mail_folders",
    "cases",
    "case_notes",
    "sla_targets",
    "team_settings",
    "goals",
    "campaigns",
    "custom_fields",
    "custom_values",
    "saved_views",
)
#: Computed from other rows after an undo; never a reason to refuse one.
COMPUTED = frozenset({("contacts", "touch_due_at"), ("deals", "rots_at"), ("cases", "sla_due_at")})
#: Bookkeeping: put back only while it still holds what the undone change wrote.
SOFT = frozenset({"updated_at", "last_touch_at", "activity_at"})
_KIND = {
    "contacts": "contact",
    "companies": "company",
    "deals": "deal",
    "interactions": "interaction",
    "reminders": "reminder",
    "purchases": "purchase",
    "users": "user",
    "stages": "stage",
    "contact_methods": "contact detail",
    "contact_tags": "tag",
    "tag_cadences": "tag cadence",
    "stage_changes": "stage change",
    "merges": "merge",
    "goals": "goal",
    "campaigns": "campaign",
    "custom_fields": "field",
    "custom_values": "field value",
}


@dataclass
class Change:
    """A change in the journal, as `undo --list` shows it."""

    id: int
    at: datetime
    user: str | None
    summary: str  # what it did, in a few words (its first audit entry, and how many more)
    what: list[str] = field(default_factory=list)  # one line per audit entry
    undoes: int | None = None  # an undo (or redo): the change it took back
    undone_by: int | None = None  # the change that took this one back


def _summary(what: list[str]) -> str:
    """The change's first entry, and how many more: a company made on the way (`contact
    add --company`) is not what the change is about."""
    if not what:
        return "(no description left)"
    main = next((w for w in what if not w.startswith("add company ")), what[0])
    more = len(what) - 1
    return main + (f" and {more} more" if more else "")


@dataclass(frozen=True)
class Undone:
    """What an undo or redo did: the change it took back and the change it was filed as."""

    action: str  # undo | redo
    change: Change
    new_change: int | None
    rows: int  # rows written back


# -- reading ---------------------------------------------------------------------------------
_CHANGE_SELECT = (
    "SELECT c.id, c.at, c.audit_ids, c.undoes, c.undone_by, u.name AS user"
    " FROM changes c LEFT JOIN users u ON u.id = c.user_id"
)


def _changes(db: Db, rows: list[dict[str, Any]]) -> list[Change]:
    ids = sorted({int(i) for r in rows for i in (r["audit_ids"] or "").split(",") if i})
    entries = audit.entries(db, ids)
    out = []
    for r in rows:
        at = read_ts(r["at"])
        assert at is not None
        what = [
            _describe(entries[int(i)])
            for i in (r["audit_ids"] or "").split(",")
            if i and int(i) in entries
        ]
        out.append(
            Change(
                id=int(r["id"]),
                at=at,
                user=r["user"],
                summary=_summary(what),
                what=what,
                undoes=r["undoes"],
                undone_by=r["undone_by"],
            )
        )
    return out


def _describe(e: audit.HistoryEntry) -> str:
    """One audit entry in a few words: 'move deal #3 50 licences (stage Lead → Won)'."""
    if e.action in ("undo", "redo"):
        change = (e.changes.get("change") or [None, None])[1]
        return f"{e.action} change {change}" if change else e.action
    if e.entity == "tag" and e.action == "cadence":
        days = (e.changes.get("cadence_days") or [None, None])[1]
        tag = (e.changes.get("tag") or [None, ""])[1]
        return f"tag cadence {tag}: " + (f"every {days} days" if days else "none")
    if not e.entity_id:  # an import run: what, from which file, and counts
        new = {k: v[1] for k, v in e.changes.items() if isinstance(v, list) and len(v) == 2}
        what = new.get("what")
        text = e.action if e.action == e.entity else f"{e.action} {e.entity}"
        text += f" {what}" if isinstance(what, str) else ""
        file = new.get("file")
        if isinstance(file, str) and file:
            text += f" from {file.replace(chr(92), '/').rsplit('/', 1)[-1]}"
        counts = ", ".join(
            f"{v:,} {k.replace('_', ' ')}"
            for k, v in new.items()
            if isinstance(v, int) and not isinstance(v, bool)
        )
        return text + (f" ({counts})" if counts else "")
    if e.entity == "interaction":  # its label is its kind: "add note #4"
        return f"{e.action} {e.label or e.entity} #{e.entity_id}"
    text = f"{e.action} {e.entity} #{e.entity_id}" + (f" {e.label}" if e.label else "")
    if e.entity == "purchase":
        amount = [v for k in ("amount", "currency") for v in e.changes.get(k, [])[-1:] if v]
        text += f" ({' '.join(str(a) for a in amount)})" if amount else ""
    if e.action in ("move", "won", "lost", "reopen") and "stage" in e.changes:
        old, new = e.changes["stage"]
        text += f" ({old} → {new})"
    return text


def get_change(db: Db, change_id: int) -> Change:
    """One change of the journal; InvalidInput when it has none by that number."""
    rows = db.all(_CHANGE_SELECT + " WHERE c.id = :id", {"id": change_id})
    if not rows:
        raise InvalidInput(
            f"no change {change_id} in the journal (it keeps the last changes only:"
            " see tinycrm undo --list)"
        )
    return _changes(db, rows)[0]


def undoable(ctx: Ctx, *, everyone: bool = False, limit: int = 20) -> list[Change]:
    """The last changes that stand (not undone, not themselves undos), newest first: the
    current user's, or everyone's."""
    where = "c.undoes IS NULL AND c.undone_by IS NULL"
    params: dict[str, Any] = {"n": limit}
    if not everyone:
        where += " AND c.user_id = :user"
        params["user"] = ctx.user_id
    rows = ctx.db.all(_CHANGE_SELECT + f" WHERE {where} ORDER BY c.id DESC LIMIT :n", params)
    return _changes(ctx.db, rows)


# -- undoing ---------------------------------------------------------------------------------
def undo(ctx: Ctx, change_id: int | None = None) -> Undone:
    """Take back change `change_id`, or the current user's last change that stands.

    `change_id` may be an undo: taking it back makes its change again, as `redo` would, and
    also after a later change of the user's that `redo` stops at."""
    db = ctx.db
    with db.write():
        if change_id is None:
            last = db.value(
                "SELECT id FROM changes WHERE user_id = :u AND undoes IS NULL"
                " AND undone_by IS NULL ORDER BY id DESC LIMIT 1",
                {"u": ctx.user_id},
            )
            if last is None:
                raise InvalidInput(f"nothing to undo: {ctx.user_name} has no change that stands")
            change_id = int(last)
        db.lock("changes", change_id)  # two undos of one change: the second finds it undone
        change = get_change(db, change_id)
        if change.undone_by is not None:
            raise InvalidInput(f"change {change_id} ({change.summary}) was undone already")
        if change.undoes is not None:  # taking back an undo makes its change again
            original, action = get_change(db, change.undoes), "redo"
            while original.undoes is not None:  # a redo, an undo of a redo…: to the change
                original = get_change(db, original.undoes)
                action = "undo" if action == "redo" else "redo"
            rows = _take_back(ctx, change, action, describe_as=original)
            return Undone(action, original, db.last_change, rows)
        rows = _take_back(ctx, change, "undo")
    return Undone("undo", change, db.last_change, rows)


def redo(ctx: Ctx) -> Undone:
    """Take back the current user's last undo that stands (redo what it undid).

    As in an editor, a new change of the user's own after the undo ends what can be redone:
    `redo` then says so rather than making again a change the user moved on from."""
    db = ctx.db
    with db.write():
        last = db.value(
            "SELECT u.id FROM changes u JOIN changes t ON t.id = u.undoes"
            " WHERE u.user_id = :u AND u.undone_by IS NULL AND t.undoes IS NULL"
            " AND t.undone_by = u.id ORDER BY u.id DESC LIMIT 1",
            {"u": ctx.user_id},
        )
        if last is None:
            raise InvalidInput(f"nothing to redo: {ctx.user_name} has no undo that stands")
        since = db.value(
            "SELECT MIN(id) FROM changes WHERE user_id = :u AND id > :last AND undoes IS NULL",
            {"u": ctx.user_id, "last": int(last)},
        )
        if since is not None:
            raise InvalidInput(
                f"nothing to redo: {ctx.user_name} made change {since} after the last undo"
                f" (change {last}); undo that first, or make it again with tinycrm undo {last}"
            )
        db.lock("changes", int(last))
        undo_change = get_change(db, int(last))
        if undo_change.undone_by is not None:  # redone meanwhile, by another command
            raise InvalidInput(
                f"change {undo_change.id} ({undo_change.summary}) was redone already"
            )
        assert undo_change.undoes is not None
        original = get_change(db, undo_change.undoes)
        rows = _take_back(ctx, undo_change, "redo", describe_as=original)
    return Undone("redo", original, db.last_change, rows)


Key = tuple[Any, ...]


@dataclass
class _Net:
    """A row's net change within one change: before (first seen) and after (last seen)."""

    table: str
    key: Key
    old: dict[str, Any] | None
    new: dict[str, Any] | None


def _take_back(ctx: Ctx, change: Change, action: str, describe_as: Change | None = None) -> int:
    db = ctx.db
    tables = {t.name: t for t in db.tables()}
    nets = _net_rows(db, change.id, tables)
    if not nets and not change.what:
        raise InvalidInput(f"change {change.id} left nothing in the journal to take back")
    # lock what is checked, parents first (a no-op on SQLite, which holds the whole store)
    for name in _ordered({n.table for n in nets}):
        ids = [n.key[0] for n in nets if n.table == name and tables[name].key == ("id",)]
        if ids:
            db.lock(name, ids, "delete")
    now = _currents(db, tables, nets)
    for net in nets:
        _check(ctx, change, net, now.get((net.table, net.key)))
    db.mark_undo(change.id)
    before = int(db.value("SELECT coalesce(max(id), 0) AS n FROM row_changes") or 0)
    # tried under a savepoint: a refusal then names the change in the way as it stands
    db.execute("SAVEPOINT undo_apply")
    try:
        written = _apply(db, tables, nets, now)
    except (sqlite3.IntegrityError, StoreError) as e:
        if isinstance(e, StoreError) and "violates" not in str(e):
            raise
        db.execute("ROLLBACK TO SAVEPOINT undo_apply")
        raise InvalidInput(
            f"can't undo change {change.id} ({change.summary}): a record it needs is gone"
            f" or taken ({_first_line(e)}); nothing was changed"
        ) from None
    outside = _outside(db, tables, {(n.table, n.key) for n in nets}, before)
    if outside is not None:
        db.execute("ROLLBACK TO SAVEPOINT undo_apply")
        _refuse(ctx, change, *outside, "would go with it;")
    db.execute("RELEASE SAVEPOINT undo_apply")
    _recompute(ctx, nets)
    what = describe_as or change
    logged = False
    for entity, entity_id in _records(db, what):
        audit.record(ctx, entity, entity_id, action, {"change": [None, what.id]})
        logged = True
    if not logged:
        audit.record(ctx, "change", what.id, action, {"change": [None, what.id]})
    return written


def _first_line(e: Exception) -> str:
    text = str(e).strip().splitlines()
    return text[0].split(": ", 1)[-1] if text else type(e).__name__


def _apply(
    db: Db, tables: dict[str, Table], nets: list[_Net], now: dict[tuple[str, Key], Row]
) -> int:
    """The inverse of each row's net change: back in parents first, updates, then out
    children first."""
    order = {t: i for i, t in enumerate(_ordered(set(tables)))}
    written = 0
    inserts = sorted((n for n in nets if n.old and not n.new), key=lambda n: order[n.table])
    updates = [n for n in nets if n.old and n.new]
    deletes = sorted((n for n in nets if n.new and not n.old), key=lambda n: -order[n.table])
    for net in inserts:
        _insert(db, tables[net.table], net.old or {})
        written += 1
    for net in updates:
        written += _update(db, tables[net.table], net, now.get((net.table, net.key)) or {})
    for name in sorted({n.table for n in deletes}, key=lambda t: -order[t]):
        written += _delete(db, tables[name], [n.key for n in deletes if n.table == name])
    return written


def _net_rows(db: Db, change_id: int, tables: dict[str, Table]) -> list[_Net]:
    nets: dict[tuple[str, Key], _Net] = {}
    for r in db.all(
        "SELECT table_name, old_row, new_row FROM row_changes WHERE change_id = :c ORDER BY id",
        {"c": change_id},
    ):
        name = str(r["table_name"])
        table = tables.get(name)
        if table is None or not table.key:
            continue  # a table dropped since: nothing to put back
        old = json.loads(r["old_row"]) if r["old_row"] else None
        new = json.loads(r["new_row"]) if r["new_row"] else None
        old_key = _key(table, old) if old else None
        new_key = _key(table, new) if new else None
        if old and new and old_key != new_key:  # the key itself changed: out, then in
            steps = [(old_key, old, None), (new_key, None, new)]
        else:
            steps = [(old_key or new_key, old, new)]
        for key, before, after in steps:
            assert key is not None
            net = nets.get((name, key))
            if net is None:
                nets[(name, key)] = _Net(name, key, before, after)
            else:
                net.new = after
    return [n for n in nets.values() if n.old != n.new and (n.old or n.new)]


def _key(table: Table, row: dict[str, Any]) -> Key:
    return tuple(row.get(k) for k in table.key)


def _ordered(names: Iterable[str]) -> list[str]:
    known = [t for t in PARENTS_FIRST if t in names]
    return known + sorted(set(names) - set(PARENTS_FIRST))


def _where(table: Table, key: Key) -> tuple[str, dict[str, Any]]:
    return (
        " AND ".join(f"{k} = :k{i}" for i, k in enumerate(table.key)),
        {f"k{i}": v for i, v in enumerate(key)},
    )


def _image_sql(db: Db, table: Table) -> str:
    """SQL for a row of `table` as the journal's triggers write it."""
    if db.is_sqlite:
        return "json_object(" + ", ".join(f"'{c}', {c}" for c in table.columns) + ")"
    return f"CAST(to_jsonb({table.name}) AS text)"


def _currents(db: Db, tables: dict[str, Table], nets: list[_Net]) -> dict[tuple[str, Key], Row]:
    """The rows the nets name as they are now (absent: no such row), read 500 at a time
    by the first column of each table's key."""
    out: dict[tuple[str, Key], Row] = {}
    wanted: dict[str, set[Any]] = {}
    for net in nets:
        wanted.setdefault(net.table, set()).add(net.key[0])
    for name, firsts in wanted.items():
        table = tables[name]
        column = table.key[0]
        values = sorted(firsts, key=repr)
        for start in range(0, len(values), 500):
            chunk = values[start : start + 500]
            params = {f"v{i}": v for i, v in enumerate(chunk)}
            listed = ", ".join(f":v{i}" for i in range(len(chunk)))
            for r in db.all(
                f"SELECT {_image_sql(db, table)} AS image FROM {name} WHERE {column} IN ({listed})",
                params,
            ):
                row = dict(json.loads(r["image"]))
                out[(name, _key(table, row))] = row
    return out


def _hard(table: str, row: dict[str, Any]) -> dict[str, Any]:
    """What decides whether a row is as a change left it: not the derived columns."""
    return {
        c: v
        for c, v in row.items()
        if c != "version" and c not in SOFT and (table, c) not in COMPUTED
    }


def _check(ctx: Ctx, change: Change, net: _Net, now: Row | None) -> None:
    if net.new is None:
        if now is not None:
            _refuse(ctx, change, net.table, net.key, "is back")
        return
    if now is None:
        _refuse(ctx, change, net.table, net.key, "is gone")
    assert now is not None
    if _hard(net.table, now) != _hard(net.table, net.new):
        _refuse(ctx, change, net.table, net.key, "was changed")


def _refuse(ctx: Ctx, change: Change, table: str, key: Key, how: str) -> None:
    what = _row_name(table, key)
    later = _later_change(ctx.db, change.id, table, key)
    if later is None:
        raise InvalidInput(
            f"can't undo change {change.id} ({change.summary}): {what} {how} since,"
            " by a change the journal no longer holds; nothing was changed"
        )
    raise InvalidInput(
        f"can't undo change {change.id} ({change.summary}): change {later.id} by"
        f" {later.user or 'someone'}, {later.summary!r}, touched {what} later;"
        " nothing was changed"
    )


def _row_name(table: str, key: Key) -> str:
    kind = _KIND.get(table, table)
    if len(key) == 1 and isinstance(key[0], int):
        return f"{kind} #{key[0]}"
    return f"{kind} " + " ".join(str(k) for k in key)


def _later_change(db: Db, after: int, table: str, key: Key) -> Change | None:
    """The newest change after `after` that wrote this row (a row the journal still has)."""
    for r in db.all(
        "SELECT change_id, row_key FROM row_changes WHERE change_id > :c"
        " AND table_name = :t ORDER BY change_id DESC",
        {"c": after, "t": table},
    ):
        if tuple(json.loads(r["row_key"])) == key:
            return get_change(db, int(r["change_id"]))
    return None


def _outside(
    db: Db, tables: dict[str, Table], keys: set[tuple[str, Key]], after: int
) -> tuple[str, Key] | None:
    """A row the undo reached outside the change, if any: a cascade from a delete (a
    note a later change added under a contact the undone change added), or a SET NULL."""
    for r in db.all(
        "SELECT table_name, row_key, old_row, new_row FROM row_changes"
        " WHERE change_id IS NULL AND id > :after ORDER BY id",
        {"after": after},
    ):
        table = tables.get(str(r["table_name"]))
        if table is None:
            continue
        found = [tuple(json.loads(r["row_key"]))]
        if r["old_row"] and r["new_row"]:  # an update may move the key
            found.append(_key(table, json.loads(r["new_row"])))
        for key in found:
            if (table.name, key) not in keys:
                return table.name, key
    return None


def _insert(db: Db, table: Table, row: dict[str, Any]) -> None:
    columns = [c for c in table.columns if c in row]
    if db.is_sqlite:
        db.execute(
            f"INSERT INTO {table.name} ({', '.join(columns)})"
            f" VALUES ({', '.join(':v' + str(i) for i in range(len(columns)))})",
            {f"v{i}": row[c] for i, c in enumerate(columns)},
        )
    else:
        db.execute(
            f"INSERT INTO {table.name} ({', '.join(columns)}) {_pg_record(table.name, columns)}",
            {"image": json.dumps(row)},
        )


def _pg_record(table: str, columns: list[str]) -> str:
    """PostgreSQL: a SELECT of `columns` from the JSON row image in :image, each value
    cast to its column's type (jsonb_populate_record)."""
    picked = ", ".join(f"(x.r).{c}" for c in columns)
    return (
        f"SELECT {picked} FROM (SELECT jsonb_populate_record(NULL::{table},"
        " CAST(:image AS jsonb)) AS r) AS x"
    )


def _update(db: Db, table: Table, net: _Net, now: Row) -> int:
    """Put back the columns the change changed (it left the row as `net.new`, and the
    check saw it still so): hard ones always, soft ones if they still hold what it wrote."""
    old, new = net.old or {}, net.new or {}
    values: dict[str, Any] = {}
    for column in table.columns:
        if column == "version" or (table.name, column) in COMPUTED or column in table.key:
            continue
        if column not in old or old.get(column) == new.get(column):
            continue
        if column in SOFT and now.get(column) != new.get(column):
            continue
        values[column] = old[column]
    if not values:
        return 0
    hard = any(c not in SOFT for c in values)
    columns = list(values)
    where, params = _where(table, net.key)
    bump = ", version = version + 1" if hard and "version" in table.columns else ""
    if db.is_sqlite:
        sets = ", ".join(f"{c} = :v{i}" for i, c in enumerate(columns))
        db.execute(
            f"UPDATE {table.name} SET {sets}{bump} WHERE {where}",
            {**params, **{f"v{i}": values[c] for i, c in enumerate(columns)}},
        )
    else:
        db.execute(
            f"UPDATE {table.name} SET ({', '.join(columns)})"
            f" = ({_pg_record(table.name, columns)}){bump} WHERE {where}",
            {**params, "image": json.dumps(values)},
        )
    return 1


def _delete(db: Db, table: Table, keys: list[Key]) -> int:
    gone = 0
    if len(table.key) == 1:
        for start in range(0, len(keys), 500):
            chunk = [k[0] for k in keys[start : start + 500]]
            params = {f"v{i}": v for i, v in enumerate(chunk)}
            listed = ", ".join(f":v{i}" for i in range(len(chunk)))
            sql = f"DELETE FROM {table.name} WHERE {table.key[0]} IN ({listed})"
            gone += int(db.execute(sql, params).rowcount or 0)
        return gone
    for key in keys:
        where, params = _where(table, key)
        gone += int(db.execute(f"DELETE FROM {table.name} WHERE {where}", params).rowcount or 0)
    return gone


def _recompute(ctx: Ctx, nets: list[_Net]) -> None:
    """The clocks and the search index of every record the undo touched."""
    db = ctx.db
    contacts: set[int] = set()
    deals: set[int] = set()
    tags: set[str] = set()
    stages: set[int] = set()
    case_ids: set[int] = set()
    every_case = False  # an SLA target or the working time moved every open case's clock
    for net in nets:
        every_case = every_case or net.table in ("sla_targets", "team_settings")
        for image in (net.old, net.new):
            if not image:
                continue
            if net.table == "cases":
                case_ids.add(int(image["id"]))
            elif net.table == "case_notes":
                case_ids.add(int(image["case_id"]))
            if net.table == "contacts":
                contacts.add(int(image["id"]))
            elif image.get("contact_id") is not None:
                contacts.add(int(image["contact_id"]))
            if net.table == "deals":
                deals.add(int(image["id"]))
            elif image.get("deal_id") is not None:
                deals.add(int(image["deal_id"]))
            if net.table == "tag_cadences":
                tags.add(str(image["tag"]))
            if net.table == "stages":
                stages.add(int(image["id"]))
    _reindex(db, nets)
    for tag in sorted(tags):
        clocks.refresh_touch_for_tag(db, tag)
    clocks.refresh_touch(db, sorted(contacts))
    for stage in sorted(stages):
        clocks.refresh_rot_for_stage(db, stage)
    clocks.refresh_rot(db, sorted(deals))
    # the SLA clocks (cases.sla_due_at) of the cases still there, as their writers keep them
    if every_case:
        case_ids |= {int(r["id"]) for r in db.all("SELECT id FROM cases WHERE status = 'open'")}
    if case_ids:
        cases.refresh_clocks(db, ctx.tz, sorted(case_ids))


_INDEXED = {
    "contacts": "contact",
    "companies": "company",
    "interactions": "interaction",
    "deals": "deal",
    "cases": "case",
}


def _reindex(db: Db, nets: list[_Net]) -> None:
    """Rewrite the search documents that read the rows the undo wrote (as
    `search.reindex_rows` would, in batches): a deleted record's went with it (the delete
    triggers of migration 0002)."""
    wanted: dict[str, set[int]] = {}
    companies: set[int] = set()
    for net in nets:
        for image in (net.old, net.new):
            if not image:
                continue
            if net.table in ("contact_methods", "contact_tags"):
                wanted.setdefault("contacts", set()).add(int(image["contact_id"]))
            elif net.table in _INDEXED:
                wanted.setdefault(net.table, set()).add(int(image["id"]))
            if net.table == "companies":
                companies.add(int(image["id"]))
    for start in range(0, len(sorted(companies)), 500):
        listed = ",".join(str(i) for i in sorted(companies)[start : start + 500])
        for r in db.all(f"SELECT id FROM contacts WHERE company_id IN ({listed})"):
            wanted.setdefault("contacts", set()).add(int(r["id"]))
    for table, ids in sorted(wanted.items()):
        ordered = sorted(ids)
        for start in range(0, len(ordered), 500):
            listed = ",".join(str(i) for i in ordered[start : start + 500])
            for r in db.all(f"SELECT id FROM {table} WHERE id IN ({listed}) ORDER BY id"):
                search.reindex(db, _INDEXED[table], int(r["id"]))


def _records(db: Db, change: Change) -> list[tuple[str, int]]:
    """The records the change's audit entries named (for the undo's own entries)."""
    rows = db.all("SELECT audit_ids FROM changes WHERE id = :c", {"c": change.id})
    ids = [int(i) for i in (rows[0]["audit_ids"] or "").split(",") if i] if rows else []
    if not ids:
        return []
    listed = ",".join(str(i) for i in ids)
    out: list[tuple[str, int]] = []
    for r in db.all(f"SELECT entity, entity_id FROM audit_log WHERE id IN ({listed}) ORDER BY id"):
        pair = (str(r["entity"]), int(r["entity_id"]))
        if pair not in out:
            out.append(pair)
    return out
