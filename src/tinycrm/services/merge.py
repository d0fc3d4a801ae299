"""Merging two contacts that are one person, and undoing it.

`merge_contacts(ctx, a, b)` folds B into A in one transaction, after an automatic backup:
every interaction, reminder, deal and purchase of B moves to A, and so do its emails and
phones (those A already has are dropped), its tags and the merges it had kept. Fields:
a field only one of them has is kept; when both have one, `prefer` picks (`newer`: the one
updated last, `a`, `b`); notes are joined; the earliest creation and opt-out and the latest
touch win. The derived clocks and the search index are refreshed and B is deleted.

A `merges` row keeps B as it was, A's fields before, and the id of every row that moved, so
`undo_merge` can put back exactly that: B with its id, fields, methods and tags, the moved
rows, and A's fields, methods and tags. It refuses if A was edited or tagged since (its
`version` moved), if B's id was taken again, or if the merge was already undone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from tinycrm.errors import Conflict, InvalidInput, NotFound
from tinycrm.services import as_written, audit, clocks
from tinycrm.services.contact_writes import reindex
from tinycrm.services.context import Ctx
from tinycrm.store.backups import auto_backup
from tinycrm.store.db import Db, read_day, read_ts

PREFER = ("newer", "a", "b")
SNAPSHOT_FORMAT = 1
# rows that belong to a contact and move with it, by table
MOVED_TABLES = ("interactions", "reminders", "deals", "purchases")
# fields chosen by `prefer` when both contacts have one
Value = str | int | date | datetime | None

CHOSEN = (
    "name",
    "company_id",
    "title",
    "source",
    "owner_id",
    "cadence_days",
    "birthday",
    "anniversary",
)


@dataclass
class FieldChoice:
    """A field the two contacts disagree on, and what the merged contact gets. Values are
    typed: text, a number of days, a `date` (birthday), an aware UTC `datetime` (`*_at`);
    the company and the owner by name."""

    field: str
    kept: Value  # A's value
    removed: Value  # B's value
    result: Value
    source: str  # kept | removed | both (joined, or the earliest/latest of the two)


@dataclass
class MergePlan:
    kept_id: int
    kept: str
    removed_id: int
    removed: str
    prefer: str
    winner: str  # whose fields win a disagreement: kept | removed
    interactions: int
    reminders: int
    deals: int
    purchases: int
    emails: int  # moved to the kept contact (ones it already had are dropped)
    phones: int
    tags: int  # tags the kept contact gains
    fields: list[FieldChoice] = field(default_factory=list)
    merge_id: int | None = None  # None on a dry run
    backup: str | None = None  # the automatic backup taken first


@dataclass
class MergeView:
    id: int
    kept_id: int
    kept: str | None
    removed_id: int
    removed: str
    merged_at: datetime
    user: str | None
    undone_at: datetime | None


@dataclass
class UndoView:
    merge_id: int
    kept_id: int
    kept: str
    restored_id: int
    restored: str
    interactions: int  # rows moved back to the restored contact
    reminders: int
    deals: int
    purchases: int
    backup: str | None


def check_prefer(prefer: str) -> str:
    """Which contact's fields win a merge (`--prefer`), checked."""
    prefer = prefer.strip().lower()
    if prefer not in PREFER:
        raise InvalidInput(f"--prefer must be one of {', '.join(PREFER)}: {prefer!r}")
    return prefer


# -- values in the snapshot ------------------------------------------------------------------
def _enc(value: Any) -> Any:
    """A column value as JSON: times and days tagged, so they go back as what they were
    (SQLite hands back its stored text, which is kept as it is)."""
    if isinstance(value, datetime):
        return {"ts": value.isoformat()}
    if isinstance(value, date):
        return {"day": value.isoformat()}
    return value


def _dec(db: Db, value: Any) -> Any:
    if isinstance(value, dict):
        if "ts" in value:
            return db.ts(datetime.fromisoformat(value["ts"]))
        if "day" in value:
            return db.day(date.fromisoformat(value["day"]))
    return value


def _row(db: Db, table: str, row_id: int) -> dict[str, Any] | None:
    return db.one(f"SELECT * FROM {table} WHERE id = :id", {"id": row_id})


def _contact(db: Db, contact_id: int) -> dict[str, Any]:
    row = _row(db, "contacts", contact_id)
    if row is None:
        raise NotFound(f"no contact with id {contact_id}")
    return row


def _ids(db: Db, table: str, contact_id: int) -> list[int]:
    return [
        int(r["id"])
        for r in db.all(
            f"SELECT id FROM {table} WHERE contact_id = :c ORDER BY id", {"c": contact_id}
        )
    ]


def _in(ids: list[int]) -> str:
    return ",".join(str(int(i)) for i in ids) or "NULL"


# -- the plan ----------------------------------------------------------------------------------
def _later(a: Any, b: Any) -> bool:
    """Whether timestamp b is later than a."""
    ta, tb = read_ts(a), read_ts(b)
    return ta is not None and tb is not None and tb > ta


def _merged_fields(
    db: Db, a: dict[str, Any], b: dict[str, Any], prefer: str
) -> tuple[dict[str, Any], list[FieldChoice], str]:
    """The kept contact's new column values (only those that change), what is shown for
    each disagreement, and whose fields won."""
    b_wins = prefer == "b" or (prefer == "newer" and _later(a["updated_at"], b["updated_at"]))
    winner = "removed" if b_wins else "kept"
    sets: dict[str, Any] = {}
    shown: list[FieldChoice] = []

    def show(name: str, result: Any, source: str) -> None:
        shown.append(
            FieldChoice(
                name, _value(db, name, a[name]), _value(db, name, b[name]),
                _value(db, name, result), source,
            )
        )  # fmt: skip

    for col in CHOSEN:
        va, vb = a[col], b[col]
        if vb is None or va == vb:
            continue
        if va is None or b_wins:
            sets[col] = vb
            if col == "name":
                sets["name_key"] = b["name_key"]
            show(col, vb, "removed")
        else:
            show(col, va, "kept")
    # consent goes with its time
    if b["consent"] is not None and (a["consent"], a["consent_at"]) != (
        b["consent"],
        b["consent_at"],
    ):
        if a["consent"] is None or b_wins:
            sets.update(consent=b["consent"], consent_at=b["consent_at"])
            show("consent", b["consent"], "removed")
        else:
            show("consent", a["consent"], "kept")
    if b["as_written"] and b["as_written"] != a["as_written"]:  # what an import kept: both
        kept = as_written.dump(
            as_written.combined(as_written.load(a["as_written"]), as_written.load(b["as_written"]))
        )
        if kept != a["as_written"]:
            sets["as_written"] = kept
            show("as_written", kept, "both" if a["as_written"] else "removed")
    if b["notes"] and b["notes"] != a["notes"]:
        joined = b["notes"] if not a["notes"] else f"{a['notes']}\n\n{b['notes']}"
        sets["notes"] = joined
        show("notes", joined, "both" if a["notes"] else "removed")
    # never lose an opt-out; the relationship began with the earlier; touched at the latest
    for col, earliest in (("opted_out_at", True), ("created_at", True), ("last_touch_at", False)):
        va, vb = a[col], b[col]
        if vb is not None and (va is None or (_later(vb, va) if earliest else _later(va, vb))):
            sets[col] = vb
            if col != "last_touch_at":
                show(col, vb, "removed" if va is None else "both")
    return sets, shown, winner


def _value(db: Db, col: str, value: Any) -> Value:
    """A column's stored value as a FieldChoice gives it (typed, never formatted)."""
    if value is None:
        return None
    if col == "company_id":
        return str(db.value("SELECT name FROM companies WHERE id = :id", {"id": value}))
    if col == "owner_id":
        return str(db.value("SELECT name FROM users WHERE id = :id", {"id": value}))
    if col.endswith("_at"):
        return read_ts(value)
    if col == "birthday":
        return read_day(value)
    return value if isinstance(value, int) else str(value)


def _methods(db: Db, contact_id: int) -> list[dict[str, Any]]:
    return db.all(
        "SELECT * FROM contact_methods WHERE contact_id = :c ORDER BY position, id",
        {"c": contact_id},
    )


def _tags(db: Db, contact_id: int) -> list[str]:
    return [
        r["tag"]
        for r in db.all(
            "SELECT tag FROM contact_tags WHERE contact_id = :c ORDER BY tag", {"c": contact_id}
        )
    ]


@dataclass
class _Work:
    a: dict[str, Any]
    b: dict[str, Any]
    sets: dict[str, Any]
    moved: dict[str, list[int]]
    moving_methods: list[dict[str, Any]]
    dropped_methods: list[dict[str, Any]]
    added_tags: list[str]
    b_tags: list[str]
    plan: MergePlan


def _prepare(ctx: Ctx, keep_id: int, drop_id: int, prefer: str) -> _Work:
    prefer = check_prefer(prefer)
    if keep_id == drop_id:
        raise InvalidInput(f"can't merge contact #{keep_id} into itself")
    db = ctx.db
    a, b = _contact(db, keep_id), _contact(db, drop_id)
    sets, shown, winner = _merged_fields(db, a, b, prefer)
    moved = {t: _ids(db, t, drop_id) for t in MOVED_TABLES}
    have = {(m["kind"], m["value_key"]) for m in _methods(db, keep_id)}
    moving: list[dict[str, Any]] = []
    dropped: list[dict[str, Any]] = []
    for m in _methods(db, drop_id):
        (dropped if (m["kind"], m["value_key"]) in have else moving).append(m)
    a_tags, b_tags = _tags(db, keep_id), _tags(db, drop_id)
    added_tags = [t for t in b_tags if t not in a_tags]
    plan = MergePlan(
        kept_id=keep_id,
        kept=a["name"],
        removed_id=drop_id,
        removed=b["name"],
        prefer=prefer,
        winner=winner,
        interactions=len(moved["interactions"]),
        reminders=len(moved["reminders"]),
        deals=len(moved["deals"]),
        purchases=len(moved["purchases"]),
        emails=sum(m["kind"] == "email" for m in moving),
        phones=sum(m["kind"] == "phone" for m in moving),
        tags=len(added_tags),
        fields=shown,
    )
    return _Work(a, b, sets, moved, moving, dropped, added_tags, b_tags, plan)


def plan_merge(ctx: Ctx, keep_id: int, drop_id: int, *, prefer: str = "newer") -> MergePlan:
    """What merging `drop_id` into `keep_id` would do, without doing it."""
    with ctx.db.read():
        return _prepare(ctx, keep_id, drop_id, prefer).plan


# -- merging -----------------------------------------------------------------------------------
def merge_contacts(
    ctx: Ctx, keep_id: int, drop_id: int, *, prefer: str = "newer", backup: bool = True
) -> MergePlan:
    """Fold contact `drop_id` into `keep_id` (see the module doc); returns what was done,
    with the merge's id for `undo_merge`. Backs the store up first unless `backup` is off."""
    db = ctx.db
    check_prefer(prefer)
    plan_merge(ctx, keep_id, drop_id, prefer=prefer)  # refuse before taking a backup
    backup_path = auto_backup(db, "merge") if backup else None
    with db.write():
        # both: one goes, and rows move from it to the other (held back meanwhile)
        db.lock("contacts", [keep_id, drop_id], "delete")
        w = _prepare(ctx, keep_id, drop_id, prefer)
        for table, ids in w.moved.items():
            if ids:
                db.execute(
                    f"UPDATE {table} SET contact_id = :a WHERE id IN ({_in(ids)})",
                    {"a": keep_id},
                )
        kept_merges = [
            int(r["id"]) for r in db.all("SELECT id FROM merges WHERE kept_id = :b", {"b": drop_id})
        ]
        if kept_merges:
            db.execute(
                f"UPDATE merges SET kept_id = :a WHERE id IN ({_in(kept_merges)})", {"a": keep_id}
            )
        start = int(
            db.value(
                "SELECT coalesce(max(position), -1) + 1 AS n FROM contact_methods"
                " WHERE contact_id = :a",
                {"a": keep_id},
            )
        )
        for offset, m in enumerate(w.moving_methods):
            db.execute(
                "UPDATE contact_methods SET contact_id = :a, position = :p WHERE id = :id",
                {"a": keep_id, "p": start + offset, "id": m["id"]},
            )
        for t in w.added_tags:
            db.execute(
                "INSERT INTO contact_tags (contact_id, tag) VALUES (:a, :t)", {"a": keep_id, "t": t}
            )
        values = _merge_values(db, keep_id, drop_id, w.plan.winner)
        db.execute("DELETE FROM contacts WHERE id = :b", {"b": drop_id})
        sets = {**w.sets, "updated_at": db.ts(ctx.now)}
        assigns = ", ".join(f"{k} = :{k}" for k in sets)
        db.execute(
            f"UPDATE contacts SET {assigns}, version = version + 1 WHERE id = :a",
            {**sets, "a": keep_id},
        )
        clocks.refresh_touch(db, [keep_id])
        deals = _deal_clocks(db, keep_id)
        last_touch = read_ts(
            db.value("SELECT last_touch_at FROM contacts WHERE id = :a", {"a": keep_id})
        )
        if last_touch is not None:
            clocks.deal_activity(db, last_touch, ctx.now, contact_id=keep_id)
        changed = _changed_clocks(db, deals)
        reindex(db, keep_id)
        snapshot = {
            "format": SNAPSHOT_FORMAT,
            "removed": {k: _enc(v) for k, v in w.b.items()},
            "kept_before": {k: _enc(v) for k, v in w.a.items()},
            "kept_version_after": int(w.a["version"]) + 1,
            "moved": {**w.moved, "merges": kept_merges},
            "moved_methods": [[m["id"], m["position"]] for m in w.moving_methods],
            "dropped_methods": [{k: _enc(v) for k, v in m.items()} for m in w.dropped_methods],
            "removed_tags": w.b_tags,
            "added_tags": w.added_tags,
            "deal_clocks": changed,
            # custom fields: B's values moved to A, and the rows that went (B's, or A's
            # where B's won), whole, to put back
            "moved_values": values["moved"],
            "gone_values": values["gone"],
        }
        merge_id = db.insert(
            "INSERT INTO merges (kept_id, removed_id, snapshot, merged_at, user_id)"
            " VALUES (:a, :b, :snap, :now, :user) RETURNING id",
            {
                "a": keep_id,
                "b": drop_id,
                "snap": json.dumps(snapshot, ensure_ascii=False, sort_keys=True),
                "now": db.ts(ctx.now),
                "user": ctx.user_id,
            },
        )
        fields = {k: v for k, v in w.sets.items() if not k.endswith("_at")}
        changes = audit.diff({k: w.a.get(k) for k in fields}, fields)
        changes["merged in"] = [None, f"{w.b['name']} (#{drop_id}), merge #{merge_id}"]
        if w.added_tags:
            changes["tags added"] = [None, w.added_tags]
        if values["names"]:
            changes["fields added"] = [None, values["names"]]
        audit.record(ctx, "contact", keep_id, "merge", changes)
        audit.record(
            ctx,
            "contact",
            drop_id,
            "merge",
            {"merged into": [None, f"{w.a['name']} (#{keep_id}), merge #{merge_id}"]},
        )
    w.plan.merge_id = merge_id
    w.plan.backup = str(backup_path) if backup_path else None
    return w.plan


def _deal_clocks(db: Db, contact_id: int) -> dict[int, list[Any]]:
    return {
        int(r["id"]): [_enc(r["activity_at"]), _enc(r["rots_at"])]
        for r in db.all(
            "SELECT id, activity_at, rots_at FROM deals WHERE contact_id = :c", {"c": contact_id}
        )
    }


def _changed_clocks(db: Db, before: dict[int, list[Any]]) -> list[list[Any]]:
    """[deal id, activity before, rots before, activity after, rots after] for every deal
    whose clocks the merge moved."""
    if not before:
        return []
    out = []
    for r in db.all(
        f"SELECT id, activity_at, rots_at FROM deals WHERE id IN ({_in(list(before))}) ORDER BY id"
    ):
        after = [_enc(r["activity_at"]), _enc(r["rots_at"])]
        if after != before[int(r["id"])]:
            out.append([int(r["id"]), *before[int(r["id"])], *after])
    return out


# -- undoing -----------------------------------------------------------------------------------
def _merge_values(db: Db, keep_id: int, drop_id: int, winner: str) -> dict[str, Any]:
    """Custom field values: B's move to A where A has none of that field; where both
    have one, the winner's stays (`--prefer`) and the other row goes (kept whole in the
    snapshot). Returns the moved ids, the rows that went, and the names A gained."""
    cols = "id, field_id, contact_id, company_id, deal_id, value, value_key, value_num,"
    cols += " value_cents, currency, value_date"
    a_rows = {
        r["field_id"]: r
        for r in db.all(f"SELECT {cols} FROM custom_values WHERE contact_id = :a", {"a": keep_id})
    }
    moved: list[int] = []
    gone: list[dict[str, Any]] = []
    for r in db.all(f"SELECT {cols} FROM custom_values WHERE contact_id = :b", {"b": drop_id}):
        mine = a_rows.get(r["field_id"])
        if mine is not None and winner != "removed":
            gone.append(r)  # deleted with B
            continue
        if mine is not None:
            gone.append(mine)
            db.execute("DELETE FROM custom_values WHERE id = :id", {"id": mine["id"]})
        moved.append(int(r["id"]))
    if moved:
        db.execute(
            f"UPDATE custom_values SET contact_id = :a WHERE id IN ({_in(moved)})", {"a": keep_id}
        )
    names = (
        [
            str(r["name"])
            for r in db.all(
                "SELECT f.name FROM custom_values v JOIN custom_fields f ON f.id = v.field_id"
                f" WHERE v.id IN ({_in(moved)}) ORDER BY f.position, f.id"
            )
        ]
        if moved
        else []
    )
    return {
        "moved": moved,
        "gone": [{k: _enc(v) for k, v in r.items()} for r in gone],
        "names": names,
    }


def _unmerge_values(db: Db, kept_id: int, removed_id: int, snap: dict[str, Any]) -> None:
    """Put custom field values back as they were before the merge (`_merge_values`)."""
    moved = snap.get("moved_values") or []
    if moved:
        db.execute(
            "UPDATE custom_values SET contact_id = :b"
            f" WHERE contact_id = :a AND id IN ({_in(moved)})",
            {"a": kept_id, "b": removed_id},
        )
    for row in snap.get("gone_values") or []:
        values = {k: _dec(db, v) for k, v in row.items()}
        if _row(db, "custom_values", values["id"]) is not None:
            del values["id"]  # the id was taken again: the value comes back under a new one
        if (
            db.value("SELECT count(*) FROM custom_fields WHERE id = :f", {"f": values["field_id"]})
            == 0
        ):
            continue  # the field was removed since: its values went with it
        names = list(values)
        db.execute(
            f"INSERT INTO custom_values ({', '.join(names)})"
            f" VALUES ({', '.join(':' + n for n in names)})",
            values,
        )


def undo_merge(ctx: Ctx, merge_id: int, *, backup: bool = True) -> UndoView:
    """Put back what merge `merge_id` changed (see the module doc)."""
    db = ctx.db
    _undo_checks(db, merge_id)  # refuse before taking a backup
    backup_path = auto_backup(db, "merge-undo") if backup else None
    with db.write():
        kept = db.value("SELECT kept_id FROM merges WHERE id = :id", {"id": merge_id})
        if kept is not None:
            db.lock("contacts", int(kept))  # parents first
        db.lock("merges", merge_id)
        m, snap = _undo_checks(db, merge_id)
        kept_id, removed_id = int(m["kept_id"]), int(m["removed_id"])
        removed = {k: _dec(db, v) for k, v in snap["removed"].items()}
        cols = list(removed)
        db.execute(
            f"INSERT INTO contacts ({', '.join(cols)}) VALUES ({', '.join(':' + c for c in cols)})",
            removed,
        )
        moved: dict[str, list[int]] = snap["moved"]
        counts: dict[str, int] = {}
        for table in MOVED_TABLES:
            ids = moved.get(table, [])
            counts[table] = (
                db.execute(
                    f"UPDATE {table} SET contact_id = :b"
                    f" WHERE contact_id = :a AND id IN ({_in(ids)})",
                    {"a": kept_id, "b": removed_id},
                ).rowcount
                if ids
                else 0
            )
        if moved.get("merges"):
            db.execute(
                "UPDATE merges SET kept_id = :b"
                f" WHERE kept_id = :a AND id IN ({_in(moved['merges'])})",
                {"a": kept_id, "b": removed_id},
            )
        for method_id, position in snap["moved_methods"]:
            db.execute(
                "UPDATE contact_methods SET contact_id = :b, position = :p"
                " WHERE id = :id AND contact_id = :a",
                {"a": kept_id, "b": removed_id, "p": position, "id": method_id},
            )
        for row in snap["dropped_methods"]:
            values = {k: _dec(db, v) for k, v in row.items()}
            if _row(db, "contact_methods", values["id"]) is not None:
                del values["id"]  # the id was taken again: the method comes back under a new one
            names = list(values)
            db.execute(
                f"INSERT INTO contact_methods ({', '.join(names)})"
                f" VALUES ({', '.join(':' + n for n in names)})",
                values,
            )
        for t in snap["added_tags"]:
            db.execute(
                "DELETE FROM contact_tags WHERE contact_id = :a AND tag = :t",
                {"a": kept_id, "t": t},
            )
        _unmerge_values(db, kept_id, removed_id, snap)
        for t in snap["removed_tags"]:
            db.execute(
                "INSERT INTO contact_tags (contact_id, tag) VALUES (:b, :t)",
                {"b": removed_id, "t": t},
            )
        before = {k: _dec(db, v) for k, v in snap["kept_before"].items() if k != "id"}
        db.execute(
            f"UPDATE contacts SET {', '.join(f'{k} = :{k}' for k in before)} WHERE id = :id",
            {**before, "id": kept_id},
        )
        _touch_forward(db, kept_id)
        for deal_id, act_before, rot_before, act_after, rot_after in snap["deal_clocks"]:
            now = db.one("SELECT activity_at, rots_at FROM deals WHERE id = :id", {"id": deal_id})
            if now is not None and [_enc(now["activity_at"]), _enc(now["rots_at"])] == [
                act_after,
                rot_after,
            ]:
                db.execute(
                    "UPDATE deals SET activity_at = :act, rots_at = :rot WHERE id = :id",
                    {"act": _dec(db, act_before), "rot": _dec(db, rot_before), "id": deal_id},
                )
        clocks.refresh_rot(db, [d[0] for d in snap["deal_clocks"]])
        clocks.refresh_touch(db, [kept_id, removed_id])
        reindex(db, kept_id)
        reindex(db, removed_id)
        db.execute(
            "UPDATE merges SET undone_at = :now WHERE id = :id",
            {"now": db.ts(ctx.now), "id": merge_id},
        )
        restored = str(snap["removed"].get("name"))
        audit.record(
            ctx, "contact", kept_id, "unmerge", {"merged in": [f"{restored} (#{removed_id})", None]}
        )
        audit.record(
            ctx,
            "contact",
            removed_id,
            "unmerge",
            {"restored": [None, f"undo of merge #{merge_id}"]},
        )
    return UndoView(
        merge_id=merge_id,
        kept_id=kept_id,
        kept=str(before["name"]),
        restored_id=removed_id,
        restored=str(removed["name"]),
        interactions=counts["interactions"],
        reminders=counts["reminders"],
        deals=counts["deals"],
        purchases=counts["purchases"],
        backup=str(backup_path) if backup_path else None,
    )


def _undo_checks(db: Db, merge_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    m = db.one("SELECT * FROM merges WHERE id = :id", {"id": merge_id})
    if m is None:
        raise NotFound(f"no merge with id {merge_id} (see tinycrm merge --list)")
    snap = json.loads(m["snapshot"])
    removed = snap["removed"]
    if m["undone_at"] is not None:
        when = read_ts(m["undone_at"])
        raise Conflict(
            f"merge {merge_id} was already undone"
            + (f" at {when:%Y-%m-%d %H:%M} UTC" if when else "")
            + f"; contact #{m['removed_id']} {removed['name']} is back"
        )
    if snap.get("format") != SNAPSHOT_FORMAT:
        raise Conflict(f"merge {merge_id} was recorded by another tinycrm version; can't undo it")
    kept = db.one("SELECT name, version FROM contacts WHERE id = :id", {"id": m["kept_id"]})
    assert kept is not None  # the merge row goes with its kept contact (ON DELETE CASCADE)
    if int(kept["version"]) != int(snap["kept_version_after"]):
        raise Conflict(
            f"contact #{m['kept_id']} {kept['name']} was edited or tagged after merge {merge_id};"
            " undoing would throw those changes away, so it is refused (the automatic backup"
            " taken before the merge still holds the store as it was)"
        )
    if _row(db, "contacts", int(m["removed_id"])) is not None:
        raise Conflict(
            f"contact id #{m['removed_id']} has been given to another contact since merge"
            f" {merge_id}, so {removed['name']} can't get it back; undo refused"
        )
    return m, snap


def _touch_forward(db: Db, contact_id: int) -> None:
    """After A's fields are restored: notes logged on A since the merge still count."""
    latest = db.value(
        "SELECT max(happened_at) AS at FROM interactions WHERE contact_id = :c", {"c": contact_id}
    )
    at = read_ts(latest)
    if at is not None:
        db.execute(
            "UPDATE contacts SET last_touch_at = :w WHERE id = :id"
            " AND (last_touch_at IS NULL OR last_touch_at < :w)",
            {"w": db.ts(at), "id": contact_id},
        )


def list_merges(db: Db, *, limit: int = 50) -> list[MergeView]:
    """Merges, newest first."""
    return _views(db, "1 = 1", {"n": limit})


def get_merge(db: Db, merge_id: int) -> MergeView:
    """One merge, with what it kept and removed; NotFound if there is none with that id."""
    found = _views(db, "m.id = :id", {"id": merge_id, "n": 1})
    if not found:
        raise NotFound(f"no merge with id {merge_id} (see tinycrm merge --list)")
    return found[0]


def _views(db: Db, where: str, params: dict[str, Any]) -> list[MergeView]:
    rows = db.all(
        "SELECT m.id, m.kept_id, c.name AS kept, m.removed_id, m.snapshot, m.merged_at,"
        " u.name AS user, m.undone_at FROM merges m"
        " LEFT JOIN contacts c ON c.id = m.kept_id LEFT JOIN users u ON u.id = m.user_id"
        f" WHERE {where} ORDER BY m.id DESC LIMIT :n",
        params,
    )
    out = []
    for r in rows:
        merged_at = read_ts(r["merged_at"])
        assert merged_at is not None
        out.append(
            MergeView(
                id=r["id"],
                kept_id=r["kept_id"],
                kept=r["kept"],
                removed_id=r["removed_id"],
                removed=json.loads(r["snapshot"])["removed"]["name"],
                merged_at=merged_at,
                user=r["user"],
                undone_at=read_ts(r["undone_at"]),
            )
        )
    return out
