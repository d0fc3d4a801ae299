"""Owners: who is responsible for a contact, a deal or a reminder, and handing them over."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tinycrm.errors import InvalidInput, NotFound
from tinycrm.services import audit
from tinycrm.services.context import Ctx
from tinycrm.services.users import user_id

KINDS = ("contact", "deal", "reminder")
_TABLES = {"contact": "contacts", "deal": "deals", "reminder": "reminders", "company": "companies"}
_LABELS = {"contact": "name", "deal": "title", "reminder": "text", "company": "name"}
_VERSIONED = ("contact", "deal", "reminder", "company")


@dataclass
class Assigned:
    kind: str  # contact | deal | reminder
    id: int
    label: str
    owner: str
    previous: str | None  # the owner before; equal to `owner` when it was theirs already
    deals: list[int] = field(default_factory=list)  # open deals handed over with it
    reminders: list[int] = field(default_factory=list)  # open reminders handed over with it


def assign(ctx: Ctx, kind: str, record_id: int, user: str, *, with_open: bool = False) -> Assigned:
    """Make `user` the owner of a contact, deal or reminder, in one transaction. With
    `with_open`, a contact's open deals and the open reminders about it or those deals (a
    deal's open reminders) go along. Each record that changes hands gets an audit entry."""
    if kind not in KINDS:
        raise InvalidInput(f"only a {', '.join(KINDS)} can be assigned: {kind!r}")
    if with_open and kind == "reminder":
        raise InvalidInput("--with-open goes with a contact or a deal, not a reminder")
    db = ctx.db
    with db.write():
        db.lock(_TABLES[kind], record_id)
        new_id = user_id(db, user)
        owner = str(db.value("SELECT name FROM users WHERE id = :id", {"id": new_id}))
        table, label = _TABLES[kind], _LABELS[kind]
        row = db.one(
            f"SELECT t.{label} AS label, u.name AS owner FROM {table} t"
            " LEFT JOIN users u ON u.id = t.owner_id WHERE t.id = :id",
            {"id": record_id},
        )
        if row is None:
            raise NotFound(f"no {kind} with id {record_id}")
        result = Assigned(kind, record_id, row["label"], owner, row["owner"])
        if row["owner"] != owner:
            _hand_over(ctx, kind, [{"id": record_id, "owner": row["owner"]}], new_id, owner)
        if with_open and kind == "contact":
            deals = _locked(
                ctx,
                "deals",
                "SELECT d.id, u.name AS owner FROM deals d LEFT JOIN users u ON u.id = d.owner_id"
                " WHERE d.contact_id = :id AND d.status = 'open' ORDER BY d.id",
                record_id,
            )
            result.deals = _hand_over(ctx, "deal", deals, new_id, owner)
            deal_ids = ",".join(str(int(d["id"])) for d in deals) or "0"
            result.reminders = _hand_over(
                ctx,
                "reminder",
                _open_reminders(ctx, f"r.contact_id = :id OR r.deal_id IN ({deal_ids})", record_id),
                new_id,
                owner,
            )
        elif with_open:
            result.reminders = _hand_over(
                ctx, "reminder", _open_reminders(ctx, "r.deal_id = :id", record_id), new_id, owner
            )
    return result


def _locked(ctx: Ctx, table: str, sql: str, record_id: int) -> list[dict[str, Any]]:
    """The rows of `table` that `sql` selects (id, owner), locked: read again once they
    are, so the owners are the current ones (a row that stopped matching drops out)."""
    ctx.db.lock(table, [r["id"] for r in ctx.db.all(sql, {"id": record_id})])
    return ctx.db.all(sql, {"id": record_id})


def _open_reminders(ctx: Ctx, where: str, record_id: int) -> list[dict[str, Any]]:
    return _locked(
        ctx,
        "reminders",
        "SELECT r.id, u.name AS owner FROM reminders r LEFT JOIN users u ON u.id = r.owner_id"
        f" WHERE r.done_at IS NULL AND ({where}) ORDER BY r.id",
        record_id,
    )


def _hand_over(
    ctx: Ctx, kind: str, rows: list[dict[str, Any]], new_id: int, owner: str
) -> list[int]:
    """Give the records in `rows` (id, owner name) that `owner` doesn't own yet to them;
    returns their ids."""
    moving = [r for r in rows if r["owner"] != owner]
    if not moving:
        return []
    db = ctx.db
    ids = ",".join(str(int(r["id"])) for r in moving)
    bump = ", version = version + 1" if kind in _VERSIONED else ""
    db.execute(
        f"UPDATE {_TABLES[kind]} SET owner_id = :owner, updated_at = :now{bump}"
        f" WHERE id IN ({ids})",
        {"owner": new_id, "now": db.ts(ctx.now)},
    )
    for r in moving:
        audit.record(ctx, kind, int(r["id"]), "assign", {"owner": [r["owner"], owner]})
    return [int(r["id"]) for r in moving]


@dataclass
class HandedOver:
    """`user rm`: who left the team, to whom their open work went, and which records."""

    user: str
    to: str
    companies: list[int]
    contacts: list[int]
    deals: list[int]  # open ones; won and lost deals stay theirs, as history
    reminders: list[int]  # open ones; done reminders stay theirs


def _owned(ctx: Ctx, table: str, where: str, owner_id: int) -> list[dict[str, Any]]:
    return _locked(
        ctx,
        table,
        f"SELECT t.id, u.name AS owner FROM {table} t LEFT JOIN users u ON u.id = t.owner_id"
        f" WHERE t.owner_id = :id{where} ORDER BY t.id",
        owner_id,
    )


def remove_user(ctx: Ctx, name: str, to: str) -> HandedOver:
    """Take a user off the team: their open work (companies and contacts they own, open
    deals, open reminders) goes to `to`, each record with an `assign` entry, in one
    transaction. Their row stays, so every change they made still names them; a `delete`
    entry marks them removed (`users.removed_ids`)."""
    from tinycrm.services.users import removed_ids

    db = ctx.db
    with db.write():
        db.lock_key("users")
        gone = db.value("SELECT id FROM users WHERE name = :n", {"n": name.strip()})
        if gone is None or int(gone) in removed_ids(db):
            user_id(db, name)  # raises, listing the team
        gone_id = int(gone)
        new_id = user_id(db, to)
        if new_id == gone_id:
            raise InvalidInput(f"give their work to someone else than {name.strip()!r}")
        if gone_id == ctx.user_id:
            raise InvalidInput("you can't remove yourself: ask a colleague to")
        owner = str(db.value("SELECT name FROM users WHERE id = :id", {"id": new_id}))
        moved = HandedOver(name.strip(), owner, [], [], [], [])
        for kind, field_name, where in (
            ("company", "companies", ""),
            ("contact", "contacts", ""),
            ("deal", "deals", " AND t.status = 'open'"),
            ("reminder", "reminders", " AND t.done_at IS NULL"),
        ):
            rows = _owned(ctx, _TABLES[kind], where, gone_id)
            setattr(moved, field_name, _hand_over(ctx, kind, rows, new_id, owner))
        db.execute("UPDATE users SET lead_id = NULL WHERE lead_id = :id", {"id": gone_id})
        audit.record(
            ctx,
            "user",
            gone_id,
            "delete",
            {
                "name": [moved.user, None],
                "to": [None, owner],
                "companies": [None, len(moved.companies)],
                "contacts": [None, len(moved.contacts)],
                "deals": [None, len(moved.deals)],
                "reminders": [None, len(moved.reminders)],
            },
        )
        return moved
