"""What needs attention: due reminders, escalations, stay-in-touch, rotting deals, deals
with no next step and big deals. `next` ranks these; `digest` groups them by section.

Every query reads an index (`ix_reminders_open_due`, `ix_contacts_touch_due_at`,
`ix_deals_rots_at`, `ix_deals_status_stage`), never the interaction history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from tinycrm.db import Db, read_ts
from tinycrm.errors import InvalidInput
from tinycrm.money import format_cents
from tinycrm.services.context import Ctx
from tinycrm.text import fold


@dataclass
class ReminderItem:
    id: int
    text: str
    about: str | None  # contact, company or deal it is about
    contact_id: int | None
    deal_id: int | None
    owner: str | None
    due_at: datetime
    recurrence: str | None
    escalated: bool  # overdue past `escalate_after` days, and the owner has a lead
    lead: str | None  # the owner's lead


@dataclass
class TouchItem:
    contact_id: int
    name: str
    owner: str | None
    last_touch_at: datetime | None
    due_at: datetime
    cadence_days: int
    cadence_from: str  # "contact" or "tag vip"


@dataclass
class DealItem:
    id: int
    title: str
    with_name: str | None
    contact_id: int | None
    stage: str
    value_cents: int
    currency: str
    probability: int
    owner: str | None
    activity_at: datetime | None
    rots_at: datetime | None
    big: bool

    @property
    def value(self) -> str:
        return format_cents(self.value_cents)

    @property
    def weighted_cents(self) -> int:
        return (self.value_cents * self.probability + 50) // 100


@dataclass(frozen=True)
class Scope:
    """Whose work: one user (by id and name), or the whole team (`user_id` None)."""

    user_id: int | None
    user_name: str | None

    def where(self, column: str) -> tuple[str, dict[str, Any]]:
        if self.user_id is None:
            return "", {}
        return f" AND {column} = :scope_user", {"scope_user": self.user_id}


def scope_for(ctx: Ctx, user: str | None = None, team: bool = False) -> Scope:
    if team:
        return Scope(None, None)
    if user is None:
        return Scope(ctx.user_id, ctx.user_name)
    row = ctx.db.one("SELECT id, name FROM users WHERE name = :n", {"n": user.strip()})
    if row is None:
        names = ", ".join(r["name"] for r in ctx.db.all("SELECT name FROM users ORDER BY name"))
        raise InvalidInput(f"no user called {user!r} (users: {names or 'none yet'})")
    return Scope(int(row["id"]), str(row["name"]))


# -- reminders ------------------------------------------------------------------------------

_REMINDERS = (
    "SELECT r.id, r.text, r.contact_id, r.deal_id, r.due_at, r.recurrence,"
    " u.name AS owner, lead.name AS lead,"
    " coalesce(c.name, co.name, d.title) AS about"
    " FROM reminders r LEFT JOIN users u ON u.id = r.owner_id"
    " LEFT JOIN users lead ON lead.id = u.lead_id"
    " LEFT JOIN contacts c ON c.id = r.contact_id"
    " LEFT JOIN companies co ON co.id = r.company_id LEFT JOIN deals d ON d.id = r.deal_id"
    " WHERE r.done_at IS NULL"
)


def _reminder(r: dict[str, Any], escalate_before: datetime) -> ReminderItem:
    due = read_ts(r["due_at"])
    assert due is not None
    return ReminderItem(
        id=r["id"],
        text=r["text"],
        about=r["about"],
        contact_id=r["contact_id"],
        deal_id=r["deal_id"],
        owner=r["owner"],
        due_at=due,
        recurrence=r["recurrence"],
        escalated=r["lead"] is not None and due < escalate_before,
        lead=r["lead"],
    )


def escalation_cutoff(ctx: Ctx, day_start: datetime) -> datetime:
    """Reminders due before this are escalated: overdue more than `escalate_after` days."""
    return day_start - timedelta(days=ctx.escalate_after)


def reminders_due(
    ctx: Ctx, scope: Scope, until: datetime, escalate_before: datetime
) -> list[ReminderItem]:
    """Open reminders due by `until`, in due order."""
    clause, params = scope.where("r.owner_id")
    rows = ctx.db.all(
        _REMINDERS + " AND r.due_at <= :until" + clause + " ORDER BY r.due_at, r.id",
        {"until": ctx.db.ts(until), **params},
    )
    return [_reminder(r, escalate_before) for r in rows]


def escalated_to(ctx: Ctx, scope: Scope, escalate_before: datetime) -> list[ReminderItem]:
    """Reminders escalated to this user (owned by someone they lead); the team: all."""
    params: dict[str, Any] = {"before": ctx.db.ts(escalate_before)}
    clause = " AND u.lead_id IS NOT NULL"
    if scope.user_id is not None:
        clause = " AND u.lead_id = :lead"
        params["lead"] = scope.user_id
    rows = ctx.db.all(
        _REMINDERS + " AND r.due_at < :before" + clause + " ORDER BY r.due_at, r.id", params
    )
    return [_reminder(r, escalate_before) for r in rows]


# -- stay in touch --------------------------------------------------------------------------


def touch_due(db: Db, scope: Scope, until: datetime) -> list[TouchItem]:
    """Contacts whose stay-in-touch falls due by `until`, longest overdue first."""
    clause, params = scope.where("c.owner_id")
    cadences = {r["tag"]: int(r["days"]) for r in db.all("SELECT tag, days FROM tag_cadences")}
    rows = db.all(
        "SELECT c.id, c.name, c.last_touch_at, c.touch_due_at, c.cadence_days, u.name AS owner,"
        # the tag only matters without a cadence of its own (CASE skips the lookup)
        " CASE WHEN c.cadence_days IS NULL THEN (SELECT t.tag FROM contact_tags t"
        "  JOIN tag_cadences tc ON tc.tag = t.tag WHERE t.contact_id = c.id"
        "  ORDER BY tc.days, tc.tag LIMIT 1) END AS tag"
        " FROM contacts c LEFT JOIN users u ON u.id = c.owner_id"
        " WHERE c.touch_due_at <= :until" + clause + " ORDER BY c.touch_due_at, c.id",
        {"until": db.ts(until), **params},
    )
    out = []
    for r in rows:
        due = read_ts(r["touch_due_at"])
        assert due is not None
        own, tag = r["cadence_days"], r["tag"]
        if own is None and tag not in cadences:
            continue  # a cadence removed since the clock was set (refreshed on change)
        out.append(
            TouchItem(
                contact_id=r["id"],
                name=r["name"],
                owner=r["owner"],
                last_touch_at=read_ts(r["last_touch_at"]),
                due_at=due,
                cadence_days=int(own) if own is not None else cadences[tag],
                cadence_from="contact" if own is not None else f"tag {tag}",
            )
        )
    return out


# -- deals ----------------------------------------------------------------------------------

_DEALS = (
    "SELECT d.id, d.title, d.contact_id, d.value_cents, d.currency, d.activity_at,"
    " d.rots_at, d.stage_entered_at, coalesce(d.probability, s.probability) AS probability,"
    " s.name AS stage, coalesce(c.name, co.name) AS with_name, u.name AS owner"
    " FROM deals d JOIN stages s ON s.id = d.stage_id"
    " LEFT JOIN contacts c ON c.id = d.contact_id"
    " LEFT JOIN companies co ON co.id = d.company_id LEFT JOIN users u ON u.id = d.owner_id"
)


def _deal(r: dict[str, Any], big_cents: int | None) -> DealItem:
    cents = int(r["value_cents"])
    return DealItem(
        id=r["id"],
        title=r["title"],
        with_name=r["with_name"],
        contact_id=r["contact_id"],
        stage=r["stage"],
        value_cents=cents,
        currency=r["currency"],
        probability=int(r["probability"]),
        owner=r["owner"],
        activity_at=read_ts(r["activity_at"]) or read_ts(r["stage_entered_at"]),
        rots_at=read_ts(r["rots_at"]),
        big=big_cents is not None and cents >= big_cents,
    )


def rotting_deals(ctx: Ctx, scope: Scope, at: datetime) -> list[DealItem]:
    """Open deals idle in their stage past its rot days, longest rotting first."""
    clause, params = scope.where("d.owner_id")
    rows = ctx.db.all(
        _DEALS + " WHERE d.rots_at <= :at" + clause + " ORDER BY d.rots_at, d.id",
        {"at": ctx.db.ts(at), **params},
    )
    return [_deal(r, ctx.big_deal_cents) for r in rows]


def deals_without_next_step(ctx: Ctx, scope: Scope) -> list[DealItem]:
    """Open deals with no open reminder on the deal or on its contact, biggest first."""
    clause, params = scope.where("d.owner_id")
    # Uncorrelated: the open reminders are read once (ix_reminders_open_due), not once per
    # deal; a correlated NOT EXISTS made SQLite scan every open reminder for each deal.
    rows = ctx.db.all(
        _DEALS
        + " WHERE d.status = 'open'"
        + clause
        + " AND d.id NOT IN (SELECT r.deal_id FROM reminders r"
        " WHERE r.done_at IS NULL AND r.deal_id IS NOT NULL)"
        " AND (d.contact_id IS NULL OR d.contact_id NOT IN (SELECT r.contact_id FROM reminders r"
        " WHERE r.done_at IS NULL AND r.contact_id IS NOT NULL))"
        " ORDER BY d.value_cents DESC, d.id",
        params,
    )
    return [_deal(r, ctx.big_deal_cents) for r in rows]


def big_deals(ctx: Ctx, scope: Scope) -> list[DealItem]:
    """Open deals worth at least `big_deal_threshold` (none when it is not set)."""
    if ctx.big_deal_cents is None:
        return []
    clause, params = scope.where("d.owner_id")
    rows = ctx.db.all(
        _DEALS
        + " WHERE d.status = 'open' AND d.value_cents >= :big"
        + clause
        + " ORDER BY d.value_cents DESC, d.id",
        {"big": ctx.big_deal_cents, **params},
    )
    return [_deal(r, ctx.big_deal_cents) for r in rows]


def big_deal_ids(ctx: Ctx, ids: list[int]) -> set[int]:
    if ctx.big_deal_cents is None or not ids:
        return set()
    rows = ctx.db.all(
        f"SELECT id FROM deals WHERE id IN ({','.join(str(int(i)) for i in ids)})"
        " AND status = 'open' AND value_cents >= :big",
        {"big": ctx.big_deal_cents},
    )
    return {int(r["id"]) for r in rows}


def revenue_by_contact(db: Db, contact_ids: set[int], since: date) -> dict[int, int]:
    """Purchases per contact since `since`, in cents (read from the covering index)."""
    if not contact_ids:
        return {}
    ids = ",".join(str(int(i)) for i in sorted(contact_ids))
    rows = db.all(
        "SELECT contact_id, sum(amount_cents) AS total FROM purchases"
        f" WHERE contact_id IN ({ids}) AND purchased_on >= :since GROUP BY contact_id",
        {"since": db.day(since)},
    )
    return {int(r["contact_id"]): int(r["total"]) for r in rows}


# -- tags and their cadences ----------------------------------------------------------------


@dataclass
class TagInfo:
    tag: str
    contacts: int
    cadence_days: int | None


def list_tags(db: Db) -> list[TagInfo]:
    rows = db.all(
        "SELECT t.tag, count(t.contact_id) AS n, tc.days FROM contact_tags t"
        " LEFT JOIN tag_cadences tc ON tc.tag = t.tag GROUP BY t.tag, tc.days"
        " UNION ALL SELECT tc.tag, 0 AS n, tc.days FROM tag_cadences tc"
        " WHERE NOT EXISTS (SELECT 1 FROM contact_tags t WHERE t.tag = tc.tag)"
    )
    return sorted((TagInfo(r["tag"], int(r["n"]), r["days"]) for r in rows), key=lambda t: t.tag)


def set_tag_cadence(ctx: Ctx, tag: str, days: int | None) -> TagInfo:
    """Set (or, with None, clear) the default stay-in-touch cadence of a tag; every
    contact with that tag and no cadence of its own follows it."""
    key = fold(tag).lstrip("#").replace(" ", "-")
    if not key or len(key) > 50:
        raise InvalidInput(f"a tag is 1 to 50 characters: {tag!r}")
    if days is not None and not 1 <= days <= 3650:
        raise InvalidInput("stay-in-touch cadence must be between 1 and 3650 days")
    db = ctx.db
    from tinycrm.services.clocks import refresh_touch_for_tag

    with db.write():
        db.execute("DELETE FROM tag_cadences WHERE tag = :t", {"t": key})
        if days is not None:
            db.execute(
                "INSERT INTO tag_cadences (tag, days) VALUES (:t, :d)", {"t": key, "d": days}
            )
        refresh_touch_for_tag(db, key)
        n = db.value("SELECT count(*) FROM contact_tags WHERE tag = :t", {"t": key})
    return TagInfo(key, int(n), days)
