"""What needs attention: due reminders, escalations, stay-in-touch, rotting deals, deals
with no next step and big deals. `next` ranks these; `digest` groups them by section.

Every query reads an index (`ix_reminders_open_due`, `ix_contacts_touch_due_at`,
`ix_deals_rots_at`, `ix_deals_status_stage`), never the interaction history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from tinycrm.errors import InvalidInput
from tinycrm.money import Money
from tinycrm.services import audit
from tinycrm.services.context import Ctx
from tinycrm.store.db import Db, read_ts
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
    next_step: bool  # an open reminder on the deal or its contact

    @property
    def value(self) -> Money:
        """The deal's value with its currency."""
        return Money(self.value_cents, self.currency)

    @property
    def weighted_cents(self) -> int:
        """The value × probability in cents, rounded half-up."""
        return (self.value_cents * self.probability + 50) // 100


@dataclass(frozen=True)
class Scope:
    """Whose work: one user (by id and name), or the whole team (`user_id` None)."""

    user_id: int | None
    user_name: str | None

    def where(self, column: str) -> tuple[str, dict[str, Any]]:
        """SQL (and its parameter) that keeps rows owned by this user: `column` names the owner."""
        if self.user_id is None:
            return "", {}
        return f" AND {column} = :scope_user", {"scope_user": self.user_id}


def scope_for(ctx: Ctx, user: str | None = None, team: bool = False) -> Scope:
    """Whose work: the current user's, `user`'s (checked: an unknown name lists the users) or the
    team's."""
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


def _limited(sql: str, limit: int | None) -> str:
    return sql if limit is None else f"{sql} LIMIT {int(limit)}"


def _due_where(
    ctx: Ctx, scope: Scope, before: datetime, since: datetime | None
) -> tuple[str, dict[str, Any]]:
    clause, params = scope.where("r.owner_id")
    clause = " AND r.due_at < :before" + clause
    params["before"] = ctx.db.ts(before)
    if since is not None:
        clause += " AND r.due_at >= :since"
        params["since"] = ctx.db.ts(since)
    return clause, params


def reminders_due(
    ctx: Ctx,
    scope: Scope,
    before: datetime,
    escalate_before: datetime,
    *,
    since: datetime | None = None,
    limit: int | None = None,
) -> list[ReminderItem]:
    """Open reminders due before `before` (and from `since`), in due order."""
    clause, params = _due_where(ctx, scope, before, since)
    sql = _limited(_REMINDERS + clause + " ORDER BY r.due_at, r.id", limit)
    return [_reminder(r, escalate_before) for r in ctx.db.all(sql, params)]


def count_reminders_due(
    ctx: Ctx, scope: Scope, before: datetime, *, since: datetime | None = None
) -> int:
    """How many open reminders are due before `before` (and from `since`)."""
    clause, params = _due_where(ctx, scope, before, since)
    sql = "SELECT count(*) FROM reminders r WHERE r.done_at IS NULL" + clause
    return int(ctx.db.value(sql, params))


def _escalated_where(
    ctx: Ctx, scope: Scope, escalate_before: datetime
) -> tuple[str, dict[str, Any]]:
    params: dict[str, Any] = {"before": ctx.db.ts(escalate_before)}
    clause = " AND r.due_at < :before AND u.lead_id IS NOT NULL"
    if scope.user_id is not None:
        clause = " AND r.due_at < :before AND u.lead_id = :lead"
        params["lead"] = scope.user_id
    return clause, params


def escalated_to(
    ctx: Ctx, scope: Scope, escalate_before: datetime, *, limit: int | None = None
) -> list[ReminderItem]:
    """Reminders escalated to this user (owned by someone they lead); the team: all."""
    clause, params = _escalated_where(ctx, scope, escalate_before)
    sql = _limited(_REMINDERS + clause + " ORDER BY r.due_at, r.id", limit)
    return [_reminder(r, escalate_before) for r in ctx.db.all(sql, params)]


def count_escalated_to(ctx: Ctx, scope: Scope, escalate_before: datetime) -> int:
    """How many reminders are escalated to this user (for the team: all of them)."""
    clause, params = _escalated_where(ctx, scope, escalate_before)
    sql = (
        "SELECT count(*) FROM reminders r JOIN users u ON u.id = r.owner_id"
        " WHERE r.done_at IS NULL" + clause
    )
    return int(ctx.db.value(sql, params))


# -- stay in touch --------------------------------------------------------------------------


def _touch_where(db: Db, scope: Scope, before: datetime) -> tuple[str, dict[str, Any]]:
    clause, params = scope.where("c.owner_id")
    params["before"] = db.ts(before)
    return " WHERE c.touch_due_at < :before" + clause, params


def touch_due(
    db: Db, scope: Scope, before: datetime, *, limit: int | None = None
) -> list[TouchItem]:
    """Contacts whose stay-in-touch falls due before `before`, longest overdue first."""
    where, params = _touch_where(db, scope, before)
    cadences = {r["tag"]: int(r["days"]) for r in db.all("SELECT tag, days FROM tag_cadences")}
    sql = (
        "SELECT c.id, c.name, c.last_touch_at, c.touch_due_at, c.cadence_days, u.name AS owner,"
        # the tag only matters without a cadence of its own (CASE skips the lookup)
        " CASE WHEN c.cadence_days IS NULL THEN (SELECT t.tag FROM contact_tags t"
        "  JOIN tag_cadences tc ON tc.tag = t.tag WHERE t.contact_id = c.id"
        "  ORDER BY tc.days, tc.tag LIMIT 1) END AS tag"
        " FROM contacts c LEFT JOIN users u ON u.id = c.owner_id"
        + where
        + " ORDER BY c.touch_due_at, c.id"
    )
    out = []
    for r in db.all(_limited(sql, limit), params):
        due = read_ts(r["touch_due_at"])
        assert due is not None
        own, tag = r["cadence_days"], r["tag"]
        if own is None and tag not in cadences:
            continue  # never: clocks.refresh_touch clears the clock when cadences change
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


def count_touch_due(db: Db, scope: Scope, before: datetime) -> int:
    """How many contacts' stay-in-touch falls due before `before`."""
    where, params = _touch_where(db, scope, before)
    return int(db.value("SELECT count(*) FROM contacts c" + where, params))


# -- deals ----------------------------------------------------------------------------------

# A deal's next step is an open reminder on the deal or on its contact; each deal probes the
# small ix_reminders_open_deal / ix_reminders_open_contact indexes (open reminders only): a
# few index lookups per deal, however long the reminder history.
_HAS_NEXT_STEP = (
    "(EXISTS (SELECT 1 FROM reminders r WHERE r.deal_id = d.id AND r.done_at IS NULL)"
    " OR EXISTS (SELECT 1 FROM reminders r"
    " WHERE r.contact_id = d.contact_id AND r.done_at IS NULL))"
)

_DEALS = (
    "SELECT d.id, d.title, d.contact_id, d.value_cents, d.currency, d.activity_at,"
    " d.rots_at, d.stage_entered_at, coalesce(d.probability, s.probability) AS probability,"
    " s.name AS stage, coalesce(c.name, co.name) AS with_name, u.name AS owner,"
    f" CASE WHEN {_HAS_NEXT_STEP} THEN 1 ELSE 0 END AS next_step"
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
        next_step=bool(r["next_step"]),
    )


def _deals(
    ctx: Ctx, where: str, order: str, params: dict[str, Any], limit: int | None
) -> list[DealItem]:
    rows = ctx.db.all(_limited(_DEALS + where + order, limit), params)
    return [_deal(r, ctx.big_deal_cents) for r in rows]


def _count_deals(ctx: Ctx, where: str, params: dict[str, Any]) -> int:
    return int(ctx.db.value("SELECT count(*) FROM deals d" + where, params))


def _rotting_where(ctx: Ctx, scope: Scope, at: datetime) -> tuple[str, dict[str, Any]]:
    clause, params = scope.where("d.owner_id")
    params["at"] = ctx.db.ts(at)
    return " WHERE d.rots_at <= :at" + clause, params


def rotting_deals(
    ctx: Ctx, scope: Scope, at: datetime, *, limit: int | None = None
) -> list[DealItem]:
    """Open deals idle in their stage past its rot days, longest rotting first."""
    where, params = _rotting_where(ctx, scope, at)
    return _deals(ctx, where, " ORDER BY d.rots_at, d.id", params, limit)


def count_rotting_deals(ctx: Ctx, scope: Scope, at: datetime) -> int:
    """How many open deals are rotting at `at`."""
    return _count_deals(ctx, *_rotting_where(ctx, scope, at))


def _idle_where(
    ctx: Ctx, scope: Scope, at: datetime, not_rotting_at: datetime | None
) -> tuple[str, dict[str, Any]]:
    clause, params = scope.where("d.owner_id")
    # a new deal gets `next_step_grace` days to be given a next step before it is flagged
    clause += " AND d.created_at <= :grace_cutoff"
    params["grace_cutoff"] = ctx.db.ts(at - timedelta(days=ctx.next_step_grace))
    if not_rotting_at is not None:
        clause += " AND (d.rots_at IS NULL OR d.rots_at > :not_rotting_at)"
        params["not_rotting_at"] = ctx.db.ts(not_rotting_at)
    return f" WHERE d.status = 'open'{clause} AND NOT {_HAS_NEXT_STEP}", params


def deals_without_next_step(
    ctx: Ctx,
    scope: Scope,
    at: datetime,
    *,
    not_rotting_at: datetime | None = None,
    limit: int | None = None,
) -> list[DealItem]:
    """Open deals with no open reminder on the deal or on its contact, biggest first, as
    seen at `at`: only those older than `ctx.next_step_grace` days by then (a deal made a
    minute ago has had no time for a next step); with `not_rotting_at`, only those not
    rotting by then."""
    where, params = _idle_where(ctx, scope, at, not_rotting_at)
    return _deals(ctx, where, " ORDER BY d.value_cents DESC, d.id", params, limit)


def count_deals_without_next_step(ctx: Ctx, scope: Scope, at: datetime) -> int:
    """How many open deals have no open reminder on the deal or on its contact at `at`
    (past their `next_step_grace`), as `deals_without_next_step` lists them."""
    return _count_deals(ctx, *_idle_where(ctx, scope, at, None))


def _big_where(ctx: Ctx, scope: Scope) -> tuple[str, dict[str, Any]]:
    clause, params = scope.where("d.owner_id")
    params["big"] = ctx.big_deal_cents
    return " WHERE d.status = 'open' AND d.value_cents >= :big" + clause, params


def big_deals(ctx: Ctx, scope: Scope, *, limit: int | None = None) -> list[DealItem]:
    """Open deals worth at least `big_deal_threshold` (none when it is not set)."""
    if ctx.big_deal_cents is None:
        return []
    where, params = _big_where(ctx, scope)
    return _deals(ctx, where, " ORDER BY d.value_cents DESC, d.id", params, limit)


def count_big_deals(ctx: Ctx, scope: Scope) -> int:
    """How many open deals are worth at least `big_deal_threshold` (0 when it is not set)."""
    if ctx.big_deal_cents is None:
        return 0
    return _count_deals(ctx, *_big_where(ctx, scope))


def big_deal_ids(ctx: Ctx, ids: list[int]) -> set[int]:
    """Which of these deals are open and worth at least `big_deal_threshold`."""
    if ctx.big_deal_cents is None or not ids:
        return set()
    rows = ctx.db.all(
        f"SELECT id FROM deals WHERE id IN ({','.join(str(int(i)) for i in ids)})"
        " AND status = 'open' AND value_cents >= :big",
        {"big": ctx.big_deal_cents},
    )
    return {int(r["id"]) for r in rows}


def revenue_by_contact(db: Db, contact_ids: set[int], since: date, currency: str) -> dict[int, int]:
    """Purchases per contact since `since` in `currency`, in cents (read from the covering
    index ix_purchases_customer_value; other currencies can't be added up)."""
    if not contact_ids:
        return {}
    ids = ",".join(str(int(i)) for i in sorted(contact_ids))
    rows = db.all(
        "SELECT contact_id, sum(amount_cents) AS total FROM purchases"
        f" WHERE contact_id IN ({ids}) AND purchased_on >= :since AND currency = :cur"
        " GROUP BY contact_id",
        {"since": db.day(since), "cur": currency},
    )
    return {int(r["contact_id"]): int(r["total"]) for r in rows}


# -- tags and their cadences ----------------------------------------------------------------


@dataclass
class TagInfo:
    tag: str
    contacts: int
    cadence_days: int | None


def list_tags(db: Db) -> list[TagInfo]:
    """Every tag, with how many contacts carry it and its cadence, by name."""
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
        db.lock_key("tag cadences")
        old = db.value("SELECT days FROM tag_cadences WHERE tag = :t", {"t": key})
        db.execute("DELETE FROM tag_cadences WHERE tag = :t", {"t": key})
        if days is not None:
            db.execute(
                "INSERT INTO tag_cadences (tag, days) VALUES (:t, :d)", {"t": key, "d": days}
            )
        refresh_touch_for_tag(db, key)
        if old != days:
            audit.record(
                ctx, "tag", 0, "cadence", {"tag": [None, key], "cadence_days": [old, days]}
            )
        n = db.value("SELECT count(*) FROM contact_tags WHERE tag = :t", {"t": key})
    return TagInfo(key, int(n), days)
