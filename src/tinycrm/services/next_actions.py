"""`tinycrm next`: one ranked list of what to do now.

The score is a sum of points, each with a reason (`--explain` prints them); docs/next.md
is the reference. Ties keep a stable order: the earlier due time, then the kind
(reminder, stay in touch, rotting deal, no next step), then the id.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo

from tinycrm.money import format_cents
from tinycrm.services import agenda
from tinycrm.services.agenda import DealItem, ReminderItem, Scope, TouchItem
from tinycrm.services.context import Ctx

KIND_ORDER = {
    "reminder": 0,
    "escalated": 0,
    "stay_in_touch": 1,
    "rotting_deal": 2,
    "no_next_step": 3,
}

#: Points, documented in docs/next.md.
REMINDER_DUE_TODAY = 60
REMINDER_OVERDUE = 80
PER_DAY_OVERDUE = 4
MAX_DAYS_COUNTED = 30
ESCALATED = 40
TOUCH_DUE = 40
TOUCH_PER_DAY = 2
ROTTING = 50
ROT_PER_DAY = 2
NO_NEXT_STEP = 30
BIG_DEAL = 25
DEAL_VALUE_PER_TENFOLD = 10  # per power of ten of the weighted value, in major units
DEAL_VALUE_MAX = 50
CUSTOMER_PER_TENFOLD = 5  # per power of ten of the last 365 days' purchases
CUSTOMER_MAX = 25


@dataclass
class Reason:
    reason: str
    points: int


@dataclass
class Action:
    kind: str  # reminder | escalated | stay_in_touch | rotting_deal | no_next_step
    id: int  # the reminder, contact or deal id
    title: str  # what to do
    about: str | None
    contact_id: int | None
    deal_id: int | None
    owner: str | None
    since: datetime  # due time, stay-in-touch due time, or when the deal went quiet
    score: int = 0
    reasons: list[Reason] = field(default_factory=list)
    rank: int = 0

    def add(self, reason: str, points: int) -> None:
        if points:
            self.reasons.append(Reason(reason, points))
            self.score += points


def _days(later: datetime, earlier: datetime, tz: tzinfo) -> int:
    """Calendar days in the user's zone, as the digest counts them."""
    return max(0, (later.astimezone(tz).date() - earlier.astimezone(tz).date()).days)


def _log_points(cents: int, per_tenfold: int, cap: int) -> int:
    major = cents / 100
    if major < 10:
        return 0
    return min(cap, round(per_tenfold * math.log10(major)))


def next_actions(ctx: Ctx, scope: Scope, *, limit: int | None = 20) -> list[Action]:
    """Everything that needs doing by the end of today, best first."""
    now = ctx.now
    local = now.astimezone(ctx.tz)
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(now.tzinfo)
    day_end = (
        local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    ).astimezone(now.tzinfo) - timedelta(seconds=1)
    cutoff = agenda.escalation_cutoff(ctx, day_start)

    actions: list[Action] = []
    reminder_contacts: set[int] = set()
    seen_reminders: set[int] = set()
    own = agenda.reminders_due(ctx, scope, day_end, cutoff)
    theirs = agenda.escalated_to(ctx, scope, cutoff) if scope.user_id is not None else []
    for r in own + theirs:
        if r.id in seen_reminders:
            continue
        seen_reminders.add(r.id)
        mine = r in own
        actions.append(_reminder_action(r, now, ctx.tz, escalated_to_me=not mine))
        if r.contact_id is not None:
            reminder_contacts.add(r.contact_id)
    for t in agenda.touch_due(ctx.db, scope, day_end):
        if t.contact_id in reminder_contacts:
            continue  # a reminder about them is already on the list
        actions.append(_touch_action(t, now, ctx.tz))
    deals: dict[int, Action] = {}
    for d in agenda.rotting_deals(ctx, scope, now):
        deals[d.id] = _deal_action(d, "rotting_deal", now, ctx.tz)
    for d in agenda.deals_without_next_step(ctx, scope):
        if d.id in deals:
            deals[d.id].add("no next step", NO_NEXT_STEP)
        else:
            deals[d.id] = _deal_action(d, "no_next_step", now, ctx.tz)
    actions.extend(deals.values())

    big = agenda.big_deal_ids(
        ctx, [a.deal_id for a in actions if a.kind in ("reminder", "escalated") and a.deal_id]
    )
    for a in actions:
        if a.kind in ("reminder", "escalated") and a.deal_id in big:
            a.add("big deal", BIG_DEAL)
    since = local.date() - timedelta(days=365)
    revenue = agenda.revenue_by_contact(
        ctx.db, {a.contact_id for a in actions if a.contact_id is not None}, since
    )
    for a in actions:
        if a.contact_id is not None and revenue.get(a.contact_id):
            points = _log_points(revenue[a.contact_id], CUSTOMER_PER_TENFOLD, CUSTOMER_MAX)
            a.add(f"bought {format_cents(revenue[a.contact_id])} in a year", points)
    actions.sort(key=lambda a: (-a.score, a.since, KIND_ORDER[a.kind], a.id))
    for rank, a in enumerate(actions, start=1):
        a.rank = rank
    return actions if limit is None else actions[:limit]


def _reminder_action(
    r: ReminderItem, now: datetime, tz: tzinfo, *, escalated_to_me: bool
) -> Action:
    a = Action(
        kind="escalated" if escalated_to_me else "reminder",
        id=r.id,
        title=r.text,
        about=r.about,
        contact_id=r.contact_id,
        deal_id=r.deal_id,
        owner=r.owner,
        since=r.due_at,
    )
    if r.due_at < now:
        days = _days(now, r.due_at, tz)
        a.add("overdue", REMINDER_OVERDUE)
        a.add(f"{days}d overdue", PER_DAY_OVERDUE * min(days, MAX_DAYS_COUNTED))
    else:
        a.add("due today", REMINDER_DUE_TODAY)
    if r.escalated:
        a.add(f"escalated to {r.lead}", ESCALATED)
    return a


def _touch_action(t: TouchItem, now: datetime, tz: tzinfo) -> Action:
    a = Action(
        kind="stay_in_touch",
        id=t.contact_id,
        title=f"get in touch (every {t.cadence_days}d, {t.cadence_from})",
        about=t.name,
        contact_id=t.contact_id,
        deal_id=None,
        owner=t.owner,
        since=t.due_at,
    )
    days = _days(now, t.due_at, tz)
    a.add("stay in touch", TOUCH_DUE)
    a.add(f"{days}d past cadence", TOUCH_PER_DAY * min(days, MAX_DAYS_COUNTED))
    return a


def _deal_action(d: DealItem, kind: str, now: datetime, tz: tzinfo) -> Action:
    a = Action(
        kind=kind,
        id=d.id,
        title=f"{d.title} ({d.stage})",
        about=d.with_name,
        contact_id=d.contact_id,
        deal_id=d.id,
        owner=d.owner,
        since=d.rots_at if kind == "rotting_deal" and d.rots_at else (d.activity_at or now),
    )
    if kind == "rotting_deal":
        assert d.rots_at is not None
        days = _days(now, d.rots_at, tz)
        a.add("rotting", ROTTING)
        a.add(f"{days}d past rot days", ROT_PER_DAY * min(days, MAX_DAYS_COUNTED))
    else:
        a.add("no next step", NO_NEXT_STEP)
    a.add(
        f"worth {format_cents(d.weighted_cents)} {d.currency} weighted",
        _log_points(d.weighted_cents, DEAL_VALUE_PER_TENFOLD, DEAL_VALUE_MAX),
    )
    if d.big:
        a.add("big deal", BIG_DEAL)
    return a
