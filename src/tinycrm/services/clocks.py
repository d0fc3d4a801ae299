"""The follow-up clocks, kept in indexed columns so that `next` and `digest` read an index
instead of scanning a million interactions.

- `contacts.touch_due_at`: when stay-in-touch falls due — the last interaction (or the
  contact's creation) plus the contact's own cadence, else the shortest cadence of its
  tags; NULL while the contact has opted out (`opted_out_at`). Any interaction moves
  `last_touch_at` and with it this clock.
- `deals.activity_at`: the deal's last sign of life — a stage move, an edit, or an
  interaction on the deal or its contact. `deals.rots_at` is that plus the stage's rot
  days, only while the deal is open in a stage that rots.

The services that change an input call the `refresh_*` functions in the same transaction.
They lock the rows they recompute before reading them, so a clock computed here is never
from a version of the row another writer has just replaced. Date arithmetic happens here
in Python, so the SQL stays portable.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from tinycrm.store.db import Db, read_ts

_CHUNK = 500


def touch_due(
    last_touch: datetime | None,
    created: datetime,
    own_days: int | None,
    tag_days: int | None,
    opted_out: bool = False,
) -> datetime | None:
    """When a contact's stay-in-touch falls due: its own cadence (else its tags') after the
    last touch (else its creation); None without a cadence, or when opted out."""
    if opted_out:  # they asked not to be contacted: no clock runs for them
        return None
    days = own_days if own_days is not None else tag_days
    if days is None:
        return None
    return (last_touch or created) + timedelta(days=days)


def rot_due(activity: datetime | None, rot_days: int | None, status: str) -> datetime | None:
    """When an open deal starts rotting: `rot_days` after its last activity; None otherwise."""
    if status != "open" or not rot_days or activity is None:
        return None
    return activity + timedelta(days=rot_days)


def _chunks(ids: Iterable[int]) -> Iterable[list[int]]:
    batch: list[int] = []
    for i in ids:
        batch.append(int(i))
        if len(batch) == _CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def _ids(ids: Sequence[int]) -> str:
    return ",".join(str(int(i)) for i in ids)


def touch_rows(
    db: Db, where: str, params: dict[str, Any] | None = None
) -> list[tuple[int, datetime | None, datetime | None]]:
    """(contact id, stored `touch_due_at`, what it should be) for the contacts `c` matching
    `where`: the one computation both refresh_touch() and `tinycrm doctor` use."""
    rows = db.all(
        "SELECT c.id, c.cadence_days, c.last_touch_at, c.created_at, c.touch_due_at,"
        " c.opted_out_at,"
        " (SELECT min(tc.days) FROM contact_tags t JOIN tag_cadences tc ON tc.tag = t.tag"
        "  WHERE t.contact_id = c.id) AS tag_days"
        f" FROM contacts c WHERE {where}",
        params or {},
    )
    out = []
    for r in rows:
        created = read_ts(r["created_at"])
        assert created is not None
        due = touch_due(
            read_ts(r["last_touch_at"]),
            created,
            r["cadence_days"],
            r["tag_days"],
            opted_out=r["opted_out_at"] is not None,
        )
        out.append((int(r["id"]), read_ts(r["touch_due_at"]), due))
    return out


def refresh_touch(db: Db, contact_ids: Iterable[int]) -> None:
    """Recompute `touch_due_at` for these contacts (after a note, a cadence or tag change)."""
    for batch in _chunks(contact_ids):
        db.lock("contacts", batch)
        for contact_id, stored, due in touch_rows(db, f"c.id IN ({_ids(batch)})"):
            if due != stored:
                db.execute(
                    "UPDATE contacts SET touch_due_at = :due WHERE id = :id",
                    {"due": db.ts(due), "id": contact_id},
                )


def recount_touch(db: Db, contact_ids: Iterable[int]) -> None:
    """After an interaction was edited, moved or deleted: `last_touch_at` is again the
    latest interaction of each contact (what logging them in that form would have left),
    and the stay-in-touch clock follows it."""
    ids = sorted({int(i) for i in contact_ids})
    for batch in _chunks(ids):
        # FOR UPDATE: a note being logged under the contact holds it (KEY SHARE), so the
        # latest is read only once that note has landed, or the note waits for this
        db.lock("contacts", batch, "delete")
        for contact_id in batch:
            latest = db.value(
                "SELECT max(happened_at) AS at FROM interactions WHERE contact_id = :c",
                {"c": contact_id},
            )
            db.execute(
                "UPDATE contacts SET last_touch_at = :w WHERE id = :id",
                {"w": db.ts(read_ts(latest)), "id": contact_id},
            )
    refresh_touch(db, ids)


#: What restarts a deal's rot clock besides an interaction (the deal's own audit entries).
_DEAL_ACTIVITY = "('add', 'edit', 'move', 'reopen', 'won', 'lost')"


def recount_activity(db: Db, deal_ids: Iterable[int]) -> None:
    """After an interaction was edited, moved or deleted: each open deal's `activity_at`
    is again its last sign of life as `deal_activity` would have left it had the notes
    been logged that way: the latest of its stage entry, its own adds, edits and moves,
    and each interaction on it or its contact (at its time, but never later than when
    it was logged); then the rot clock follows it. Callers lock these deals (and their
    contacts) FOR UPDATE before anything else of theirs, so no lock is upgraded here."""
    ids = sorted({int(i) for i in deal_ids})
    for batch in _chunks(ids):
        db.lock("deals", batch, "delete")  # as recount_touch: notes being logged on it wait
        for r in db.all(
            f"SELECT id, contact_id, stage_entered_at FROM deals WHERE id IN ({_ids(batch)})"
            " AND status = 'open'"
        ):
            params = {"d": r["id"], "c": r["contact_id"]}
            on = "(deal_id = :d OR contact_id = :c)" if r["contact_id"] else "deal_id = :d"
            times = [
                read_ts(r["stage_entered_at"]),
                read_ts(
                    db.value(
                        "SELECT max(at) AS at FROM audit_log WHERE entity = 'deal'"
                        f" AND entity_id = :d AND action IN {_DEAL_ACTIVITY}",
                        params,
                    )
                ),
                read_ts(
                    db.value(
                        f"SELECT max(happened_at) AS at FROM interactions WHERE {on}"
                        " AND happened_at <= created_at",
                        params,
                    )
                ),
                read_ts(
                    db.value(
                        f"SELECT max(created_at) AS at FROM interactions WHERE {on}"
                        " AND happened_at > created_at",
                        params,
                    )
                ),
            ]
            known = [t for t in times if t is not None]
            db.execute(
                "UPDATE deals SET activity_at = :at WHERE id = :id",
                {"at": db.ts(max(known) if known else None), "id": r["id"]},
            )
    refresh_rot(db, ids)


def refresh_touch_for_tag(db: Db, tag: str) -> None:
    """Recompute the stay-in-touch clock of every contact with this tag."""
    ids = [
        r["contact_id"]
        for r in db.all("SELECT contact_id FROM contact_tags WHERE tag = :t", {"t": tag})
    ]
    refresh_touch(db, ids)


def deal_activity(
    db: Db,
    at: datetime,
    now: datetime,
    *,
    deal_id: int | None = None,
    contact_id: int | None = None,
) -> None:
    """A sign of life at `at` (never later than now) on a deal, or on every open deal of a
    contact: the rot clock restarts."""
    at = min(at, now)
    where = []
    params: dict[str, Any] = {"at": db.ts(at)}
    if deal_id is not None:
        where.append("id = :deal")
        params["deal"] = deal_id
    if contact_id is not None:
        where.append("contact_id = :contact")
        params["contact"] = contact_id
    if not where:
        return
    # status is filtered here, not in SQL: with `AND status = 'open'` SQLite's planner
    # took the (status, stage) index and read every open deal (9 ms a note on the 100k
    # store) instead of the contact's few deals
    rows = db.all(f"SELECT id, status FROM deals WHERE {' OR '.join(where)}", params)
    ids = sorted(int(r["id"]) for r in rows if r["status"] == "open")
    if not ids:
        return
    db.execute(
        f"UPDATE deals SET activity_at = :at WHERE id IN ({_ids(ids)})"
        " AND (activity_at IS NULL OR activity_at < :at)",
        {"at": params["at"]},
    )
    refresh_rot(db, ids)


def refresh_rot(db: Db, deal_ids: Iterable[int]) -> None:
    """Recompute `rots_at` for these deals (after a move, an edit or new activity)."""
    for batch in _chunks(deal_ids):
        db.lock("deals", batch)
        _refresh_rot_where(db, f"d.id IN ({_ids(batch)})", {})


def refresh_rot_for_stage(db: Db, stage_id: int) -> None:
    """After a stage's rot days change."""
    refresh_rot(
        db,
        [
            r["id"]
            for r in db.all(
                "SELECT id FROM deals WHERE stage_id = :s AND status = 'open' ORDER BY id",
                {"s": stage_id},
            )
        ],
    )


def rot_rows(
    db: Db, where: str, params: dict[str, Any] | None = None
) -> list[tuple[int, datetime | None, datetime | None]]:
    """(deal id, stored `rots_at`, what it should be) for the deals `d` matching `where`."""
    rows = db.all(
        "SELECT d.id, d.status, d.activity_at, d.stage_entered_at, d.rots_at, s.rot_days"
        f" FROM deals d JOIN stages s ON s.id = d.stage_id WHERE {where}",
        params or {},
    )
    out = []
    for r in rows:
        activity = read_ts(r["activity_at"]) or read_ts(r["stage_entered_at"])
        due = rot_due(activity, r["rot_days"], r["status"])
        out.append((int(r["id"]), read_ts(r["rots_at"]), due))
    return out


def _refresh_rot_where(db: Db, where: str, params: dict[str, Any]) -> None:
    for deal_id, stored, due in rot_rows(db, where, params):
        if due != stored:
            db.execute(
                "UPDATE deals SET rots_at = :due WHERE id = :id",
                {"due": db.ts(due), "id": deal_id},
            )
