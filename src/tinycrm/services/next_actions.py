"""`tinycrm next`: one ranked list of what to do now.

The score is a sum of points, each with a reason (`--explain` prints them, worded by the
CLI); docs/next.md is the reference. Ties keep a stable order: the earlier due time, then the kind
(reminder, stay in touch, rotting deal, no next step), then the id.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo

from tinycrm.errors import InvalidInput
from tinycrm.money import Money
from tinycrm.services import agenda
from tinycrm.services.agenda import DateItem, DealItem, ReminderItem, Scope, TouchItem
from tinycrm.services.context import Ctx
from tinycrm.services.filters import Filter, matching_ids

KIND_ORDER = {
    "reminder": 0,
    "escalated": 0,
    "stay_in_touch": 1,
    "rotting_deal": 2,
    "no_next_step": 3,
    "birthday": 4,
    "case": 0,
    "escalated_case": 0,
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
CASE_ESCALATED = 50  # a service case past its SLA by more than escalate_after
#: a service case's priority, on top of its overdue or due-today points
CASE_PRIORITY = {"urgent": 30, "high": 20, "normal": 10, "low": 0}
DEAL_VALUE_PER_TENFOLD = 10  # per power of ten of the weighted value, in major units
DEAL_VALUE_MAX = 50
CUSTOMER_PER_TENFOLD = 5  # per power of ten of the last 365 days' purchases
CUSTOMER_MAX = 25
BIRTHDAY = 35  # a birthday or anniversary today: a reason to call


#: Why points were given, as `Reason.code`: the shells word each one (cli/followups.py).
REASONS = (
    "overdue",
    "days_overdue",  # with days
    "due_today",
    "escalated",  # with lead
    "stay_in_touch",
    "days_past_cadence",  # with days
    "rotting",
    "days_past_rot",  # with days
    "no_next_step",
    "weighted_value",  # with amount: the deal's value times its probability
    "big_deal",
    "bought_in_year",  # with amount: the contact's purchases in the last 365 days
    "urgent_case",  # a service case's priority
    "high_priority_case",
    "normal_priority_case",
)
_PRIORITY_REASON = {
    "urgent": "urgent_case",
    "high": "high_priority_case",
    "normal": "normal_priority_case",
}


@dataclass
class Reason:
    """One part of a score: why (`code`, one of REASONS), with the days, amount or lead it
    counts, and the points it adds."""

    code: str
    points: int
    days: int | None = None
    amount: Money | None = None
    lead: str | None = None


@dataclass
class Action:
    kind: str  # reminder | escalated | stay_in_touch | rotting_deal | no_next_step | birthday
    # | case | escalated_case
    id: int  # the reminder, contact, deal or case id
    title: str  # what to do
    about: str | None
    contact_id: int | None
    deal_id: int | None
    owner: str | None
    since: datetime  # due time, stay-in-touch due time, or when the deal went quiet
    score: int = 0
    reasons: list[Reason] = field(default_factory=list)
    rank: int = 0

    def add(
        self,
        code: str,
        points: int,
        *,
        days: int | None = None,
        amount: Money | None = None,
        lead: str | None = None,
    ) -> None:
        """Count a reason towards the score (a reason worth no points is left out)."""
        if points:
            self.reasons.append(Reason(code, points, days, amount, lead))
            self.score += points


def _days(later: datetime, earlier: datetime, tz: tzinfo) -> int:
    """Calendar days in the user's zone, as the digest counts them."""
    return max(0, (later.astimezone(tz).date() - earlier.astimezone(tz).date()).days)


def _log_points(cents: int, per_tenfold: int, cap: int) -> int:
    major = cents / 100
    if major < 10:
        return 0
    return min(cap, round(per_tenfold * math.log10(major)))


#: The most a candidate of each kind can score: once the list is full and its last entry
#: scores more than this, that kind is not read at all (the result is the same).
ROTTING_MAX = (
    ROTTING
    + ROT_PER_DAY * MAX_DAYS_COUNTED
    + NO_NEXT_STEP
    + DEAL_VALUE_MAX
    + BIG_DEAL
    + CUSTOMER_MAX
)
NO_NEXT_STEP_MAX = NO_NEXT_STEP + DEAL_VALUE_MAX + BIG_DEAL + CUSTOMER_MAX
TOUCH_MAX = TOUCH_DUE + TOUCH_PER_DAY * MAX_DAYS_COUNTED + CUSTOMER_MAX
BIRTHDAY_MAX = BIRTHDAY + CUSTOMER_MAX


def _order(a: Action) -> tuple[int, datetime, int, int]:
    return (-a.score, a.since, KIND_ORDER[a.kind], a.id)


class _Best:
    """The best `limit` actions so far (all of them when `limit` is None)."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.actions: list[Action] = []

    def add(self, actions: list[Action]) -> None:
        self.actions.extend(actions)
        self.actions.sort(key=_order)
        if self.limit is not None:
            del self.actions[self.limit :]

    def cannot_take(self, max_score: int) -> bool:
        """True when nothing scoring at most `max_score` could make the list."""
        full = self.limit is not None and len(self.actions) >= self.limit
        return full and self.actions[-1].score > max_score


def next_actions(
    ctx: Ctx, scope: Scope, *, limit: int | None = 20, where: Filter | None = None
) -> list[Action]:
    """Everything that needs doing by the end of today, best first; with `where` (a
    compiled filter of contacts), only what is about the contacts it matches, ranked
    among themselves.

    Kinds are read in order of the most they can score (reminders, rotting deals, deals
    with no next step, stay in touch); a kind that could not reach the list is skipped.
    """
    if where is not None:
        if where.entity != "contacts":
            raise InvalidInput(f"next takes a filter of contacts, not {where.entity}")
        keep = matching_ids(ctx, where)
        kept = [a for a in next_actions(ctx, scope, limit=None) if a.contact_id in keep]
        kept = kept if limit is None else kept[:limit]
        for rank, a in enumerate(kept, start=1):
            a.rank = rank
        return kept
    now = ctx.now
    local = now.astimezone(ctx.tz)
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(now.tzinfo)
    tomorrow = (
        local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    ).astimezone(now.tzinfo)
    cutoff = agenda.escalation_cutoff(ctx, day_start)
    since = local.date() - timedelta(days=365)
    best = _Best(limit)

    def add(actions: list[Action]) -> None:
        revenue = agenda.revenue_by_contact(
            ctx.db, {a.contact_id for a in actions if a.contact_id is not None}, since, ctx.currency
        )
        for a in actions:
            cents = revenue.get(a.contact_id) if a.contact_id is not None else None
            if cents:
                points = _log_points(cents, CUSTOMER_PER_TENFOLD, CUSTOMER_MAX)
                a.add("bought_in_year", points, amount=Money(cents, ctx.currency))
        best.add(actions)

    # Reminders are always read whole: their contacts need no stay-in-touch item.
    reminders: list[Action] = []
    reminder_contacts: set[int] = set()
    own = agenda.reminders_due(ctx, scope, tomorrow, cutoff)
    theirs = agenda.escalated_to(ctx, scope, cutoff) if scope.user_id is not None else []
    mine = {r.id for r in own}
    seen: set[int] = set()
    for r in own + theirs:
        if r.id in seen:
            continue
        seen.add(r.id)
        reminders.append(_reminder_action(r, now, ctx.tz, escalated_to_me=r.id not in mine))
        if r.contact_id is not None:
            reminder_contacts.add(r.contact_id)
    big = agenda.big_deal_ids(ctx, [a.deal_id for a in reminders if a.deal_id])
    for a in reminders:
        if a.deal_id in big:
            a.add("big_deal", BIG_DEAL)
    add(reminders)
    add(_case_actions(ctx, scope, tomorrow))

    if not best.cannot_take(ROTTING_MAX):
        add([_deal_action(d, now, ctx.tz) for d in agenda.rotting_deals(ctx, scope, now)])
    if not best.cannot_take(NO_NEXT_STEP_MAX):
        idle = agenda.deals_without_next_step(ctx, scope, now, not_rotting_at=now)
        add([_deal_action(d, now, ctx.tz) for d in idle])
    if not best.cannot_take(TOUCH_MAX):
        touch = agenda.touch_due(ctx.db, scope, tomorrow)
        add([_touch_action(t, now, ctx.tz) for t in touch if t.contact_id not in reminder_contacts])
    if not best.cannot_take(BIRTHDAY_MAX):
        days = agenda.important_days(ctx.db, scope, local.date(), local.date())
        add([_date_action(d, day_start) for d in days])
    for rank, a in enumerate(best.actions, start=1):
        a.rank = rank
    return best.actions


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
        a.add("days_overdue", PER_DAY_OVERDUE * min(days, MAX_DAYS_COUNTED), days=days)
    else:
        a.add("due_today", REMINDER_DUE_TODAY)
    if r.escalated:
        a.add("escalated", ESCALATED, lead=r.lead)
    return a


def _case_actions(ctx: Ctx, scope: Scope, tomorrow: datetime) -> list[Action]:
    """Open cases due by the end of today (the scope's own, or the team's), and the cases
    escalated to this user now."""
    from tinycrm.services import cases

    own = cases.list_cases(ctx, owner_id=scope.user_id, due_before=tomorrow)
    theirs = cases.list_cases(ctx, escalated_to=scope.user_id) if scope.user_id is not None else []
    out: list[Action] = []
    seen: set[int] = set()
    for v in own + theirs:
        if v.id in seen or v.sla_due_at is None:
            continue
        seen.add(v.id)
        mine = scope.user_id is None or v.owner == scope.user_name
        a = Action(
            kind="case" if mine else "escalated_case",
            id=v.id,
            title=v.title,
            about=v.contact,
            contact_id=v.contact_id,
            deal_id=None,
            owner=v.owner,
            since=v.sla_due_at,
        )
        if v.sla_due_at < ctx.now:
            days = _days(ctx.now, v.sla_due_at, ctx.tz)
            a.add("overdue", REMINDER_OVERDUE)
            a.add("days_overdue", PER_DAY_OVERDUE * min(days, MAX_DAYS_COUNTED), days=days)
        else:
            a.add("due_today", REMINDER_DUE_TODAY)
        if v.escalation:
            a.add("escalated", CASE_ESCALATED, lead=v.escalated_to)
        if v.priority in _PRIORITY_REASON:
            a.add(_PRIORITY_REASON[v.priority], CASE_PRIORITY[v.priority])
        out.append(a)
    return out


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
    a.add("stay_in_touch", TOUCH_DUE)
    a.add("days_past_cadence", TOUCH_PER_DAY * min(days, MAX_DAYS_COUNTED), days=days)
    return a


def _date_action(d: DateItem, day_start: datetime) -> Action:
    years = f" ({d.years})" if d.years else ""
    a = Action(
        kind="birthday",
        id=d.contact_id,
        title=f"{'birthday' if d.kind == 'birthday' else 'anniversary'} today{years}",
        about=d.name,
        contact_id=d.contact_id,
        deal_id=None,
        owner=d.owner,
        since=day_start,
    )
    a.add(f"{d.kind} today", BIRTHDAY)
    return a


def _deal_action(d: DealItem, now: datetime, tz: tzinfo) -> Action:
    rotting = d.rots_at is not None and d.rots_at <= now
    a = Action(
        kind="rotting_deal" if rotting else "no_next_step",
        id=d.id,
        title=f"{d.title} ({d.stage})",
        about=d.with_name,
        contact_id=d.contact_id,
        deal_id=d.id,
        owner=d.owner,
        since=d.rots_at if rotting and d.rots_at else (d.activity_at or now),
    )
    if rotting:
        assert d.rots_at is not None
        days = _days(now, d.rots_at, tz)
        a.add("rotting", ROTTING)
        a.add("days_past_rot", ROT_PER_DAY * min(days, MAX_DAYS_COUNTED), days=days)
    if not d.next_step:
        a.add("no_next_step", NO_NEXT_STEP)
    a.add(
        "weighted_value",
        _log_points(d.weighted_cents, DEAL_VALUE_PER_TENFOLD, DEAL_VALUE_MAX),
        amount=Money(d.weighted_cents, d.currency),
    )
    if d.big:
        a.add("big_deal", BIG_DEAL)
    return a
