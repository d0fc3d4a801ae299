"""The daily digest: what is overdue, due and slipping, as of one day, for one user or the
team, and the log of digests mailed (never twice for the same day; missed days noticed).

The digest depends only on the store and the `as_of` day (never on the clock), so the
same store and day give the same digest, byte for byte, in every format.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from tinycrm.services import agenda, cases, goals
from tinycrm.services.agenda import DateItem, DealItem, ReminderItem, Scope, TouchItem
from tinycrm.services.cases import CaseView
from tinycrm.services.context import Ctx
from tinycrm.services.goals import GoalProgress
from tinycrm.store.db import Db, read_ts

SECTIONS = (
    "overdue",
    "today",
    "upcoming",
    "stay_in_touch",
    "rotting_deals",
    "no_next_step",
    "big_deals",
    "escalated",
    "birthdays",
    "cases",
)


@dataclass
class Digest:
    as_of: date
    user: str | None  # None: the whole team
    days_ahead: int
    tz_name: str
    day_start: datetime  # as_of 00:00 local, in UTC
    overdue: list[ReminderItem] = field(default_factory=list)
    today: list[ReminderItem] = field(default_factory=list)
    upcoming: list[ReminderItem] = field(default_factory=list)
    stay_in_touch: list[TouchItem] = field(default_factory=list)
    rotting_deals: list[DealItem] = field(default_factory=list)
    no_next_step: list[DealItem] = field(default_factory=list)
    big_deals: list[DealItem] = field(default_factory=list)
    escalated: list[ReminderItem] = field(default_factory=list)
    # birthdays and anniversaries from as_of to as_of + days_ahead
    birthdays: list[DateItem] = field(default_factory=list)
    # service cases escalated to the user at the start of the day (`--team`: all of them)
    cases: list[CaseView] = field(default_factory=list)
    # the goals in force at the start of the day, with their progress (not a section:
    # a digest with only goals is still empty, for --quiet-if-empty)
    goals: list[GoalProgress] = field(default_factory=list)
    last_sent: date | None = None  # the previous mailed digest, when days were missed
    totals: dict[str, int] = field(default_factory=dict)  # items per section, all of them

    @property
    def empty(self) -> bool:
        """True when no section has anything."""
        return not any(self.counts().values())

    def counts(self) -> dict[str, int]:
        """How many items each section has, including those beyond `per_section`."""
        return {s: self.totals.get(s, len(getattr(self, s))) for s in SECTIONS}


def _local_midnight(ctx: Ctx, day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ctx.tz).astimezone(ctx.now.tzinfo)


def build_digest(
    ctx: Ctx, scope: Scope, as_of: date, *, days_ahead: int = 7, per_section: int | None = None
) -> Digest:
    """The digest for `as_of`. With `per_section`, each section holds at most that many
    items (the first ones) and `counts()` still tells how many there are in all."""
    if not 0 <= days_ahead <= 366:
        from tinycrm.errors import InvalidInput

        raise InvalidInput(f"--days-ahead must be between 0 and 366: {days_ahead}")
    start = _local_midnight(ctx, as_of)
    tomorrow = _local_midnight(ctx, as_of + timedelta(days=1))
    horizon = _local_midnight(ctx, as_of + timedelta(days=days_ahead + 1))
    cutoff = agenda.escalation_cutoff(ctx, start)
    n = per_section
    d = Digest(
        as_of=as_of,
        user=scope.user_name,
        days_ahead=days_ahead,
        tz_name=str(getattr(ctx.tz, "key", ctx.tz)),
        day_start=start,
    )
    db = ctx.db
    end = tomorrow - timedelta(seconds=1)  # the last second of the day, for rotting
    d.overdue = agenda.reminders_due(ctx, scope, start, cutoff, limit=n)
    d.today = agenda.reminders_due(ctx, scope, tomorrow, cutoff, since=start, limit=n)
    d.upcoming = agenda.reminders_due(ctx, scope, horizon, cutoff, since=tomorrow, limit=n)
    d.stay_in_touch = agenda.touch_due(db, scope, tomorrow, limit=n)
    d.rotting_deals = agenda.rotting_deals(ctx, scope, end, limit=n)
    d.no_next_step = agenda.deals_without_next_step(ctx, scope, end, limit=n)
    d.big_deals = agenda.big_deals(ctx, scope, limit=n)
    d.escalated = agenda.escalated_to(ctx, scope, cutoff, limit=n)
    last_day = as_of + timedelta(days=days_ahead)
    every_date = agenda.important_days(db, scope, as_of, last_day)
    d.birthdays = every_date if n is None else every_date[:n]
    if scope.user_id is None:
        escalated_cases = cases.list_cases(ctx, escalated=True, as_of=start)
    else:
        escalated_cases = cases.list_cases(ctx, escalated_to=scope.user_id, as_of=start)
    d.cases = escalated_cases[:n] if n is not None else escalated_cases
    d.goals = goals.progress(ctx, at=start, uid=scope.user_id)
    if n is None:
        return d
    d.totals["birthdays"] = len(every_date)
    counters: dict[str, Callable[[], int]] = {
        "overdue": lambda: agenda.count_reminders_due(ctx, scope, start),
        "today": lambda: agenda.count_reminders_due(ctx, scope, tomorrow, since=start),
        "upcoming": lambda: agenda.count_reminders_due(ctx, scope, horizon, since=tomorrow),
        "stay_in_touch": lambda: agenda.count_touch_due(db, scope, tomorrow),
        "rotting_deals": lambda: agenda.count_rotting_deals(ctx, scope, end),
        "no_next_step": lambda: agenda.count_deals_without_next_step(ctx, scope, end),
        "big_deals": lambda: agenda.count_big_deals(ctx, scope),
        "escalated": lambda: agenda.count_escalated_to(ctx, scope, cutoff),
        "cases": lambda: len(escalated_cases),
    }
    for s, count in counters.items():
        shown = len(getattr(d, s))
        d.totals[s] = shown if shown < n else count()  # a short section is whole
    return d


# -- the send log ---------------------------------------------------------------------------


def recipient_key(scope: Scope) -> str:
    """Whom a digest is for, as its send log names them (the user; '' for the team)."""
    return scope.user_name or ""


def sent_on(ctx: Ctx, scope: Scope, as_of: date) -> datetime | None:
    """When the digest for this day was mailed, if it was."""
    value = ctx.db.value(
        "SELECT sent_at FROM digests_sent WHERE recipient_key = :k AND as_of = :d",
        {"k": recipient_key(scope), "d": ctx.db.day(as_of)},
    )
    return read_ts(value)


def last_sent_before(ctx: Ctx, scope: Scope, as_of: date) -> date | None:
    """The day of the last digest mailed before `as_of`, if any."""
    from tinycrm.store.db import read_day

    value = ctx.db.value(
        "SELECT max(as_of) FROM digests_sent WHERE recipient_key = :k AND as_of < :d",
        {"k": recipient_key(scope), "d": ctx.db.day(as_of)},
    )
    return read_day(value)


@dataclass(frozen=True)
class Claim:
    """The send log's entry for one day's digest, taken before mailing it."""

    taken: bool  # False: the day was mailed already and nothing was changed
    sent_at: datetime | None  # when it was mailed before, if it was
    sent_to: str | None  # and to whom


def claim_send(ctx: Ctx, scope: Scope, as_of: date, sent_to: str, *, force: bool) -> Claim:
    """Log the digest for this day as mailed, now, unless it was (then nothing changes;
    `force` replaces the entry). The check and the entry are one transaction, holding
    the log, so of several runs at once (cron on two machines) one mails it. Mail after
    this; if the mail fails, `release_send` takes the entry back for the next run."""
    db = ctx.db
    key, day = recipient_key(scope), db.day(as_of)
    with db.write():
        db.lock_key("digests sent")
        before = db.one(
            "SELECT sent_to, sent_at FROM digests_sent WHERE recipient_key = :k AND as_of = :d",
            {"k": key, "d": day},
        )
        claim = Claim(
            force or before is None,
            None if before is None else read_ts(before["sent_at"]),
            None if before is None else str(before["sent_to"]),
        )
        if claim.taken:
            _log(db, key, day, sent_to, db.ts(ctx.now))
    return claim


def release_send(ctx: Ctx, scope: Scope, as_of: date, claim: Claim) -> None:
    """Undo `claim_send` after the mail failed: the entry it replaced, or none."""
    db = ctx.db
    with db.write():
        db.lock_key("digests sent")
        key, day = recipient_key(scope), db.day(as_of)
        if claim.sent_at is not None and claim.sent_to is not None:
            _log(db, key, day, claim.sent_to, db.ts(claim.sent_at))
        else:
            db.execute(
                "DELETE FROM digests_sent WHERE recipient_key = :k AND as_of = :d",
                {"k": key, "d": day},
            )


def _log(db: Db, key: str, day: Any, sent_to: str, at: Any) -> None:
    """The day's entry, replacing any."""
    params = {"k": key, "d": day, "to": sent_to, "at": at}
    db.execute("DELETE FROM digests_sent WHERE recipient_key = :k AND as_of = :d", params)
    db.execute(
        "INSERT INTO digests_sent (recipient_key, as_of, sent_to, sent_at)"
        " VALUES (:k, :d, :to, :at)",
        params,
    )


def missed_weekdays(last_sent: date | None, as_of: date) -> list[date]:
    """Working days between the last mailed digest and this one that got none."""
    if last_sent is None:
        return []
    days = []
    day = last_sent + timedelta(days=1)
    while day < as_of:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days
