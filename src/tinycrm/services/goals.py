"""Goals: a user's target per month, quarter or year, and how far they are from it.

A goal (`goals` row) is a user's target for one metric per period length, from a first
period on, until a later goal of the same user, metric and period length starts. The
metrics (docs/reports.md states them exactly):

- `revenue`: the value of the deals won in the period, in the goal's currency, credited to
  the user who owned each deal when it was won (`deals.won_by`), whoever owns it now;
- `won-deals`: how many deals they won in the period (every currency);
- `activities`: the interactions they logged (`interactions.user_id`) that happened in it.

Progress is read at an instant `at` (now, or the start of the digest's day): what was
achieved from the period's first local midnight up to and including `at`, the working days left from
`at`'s local day (itself included) to the period's last day, by the team's working days
and holidays (`team_settings`), and the pace: what is left to do over those days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import Any

from tinycrm import periods
from tinycrm.errors import InvalidInput, NotFound
from tinycrm.money import Money, parse_currency, parse_money
from tinycrm.services import audit, team_settings
from tinycrm.services.context import Ctx
from tinycrm.services.users import user_id
from tinycrm.store.db import Db, read_day, read_ts

METRICS = ("revenue", "won-deals", "activities")
COUNT_MAX = 1_000_000_000  # a count goal past this is a typing mistake


@dataclass
class GoalView:
    id: int
    user: str
    metric: str  # revenue | won-deals | activities
    per: str  # month | quarter | year
    starts: date  # the first day of the first period it applies to
    until: date | None  # the last day it applies to (a later goal takes over); None: open
    target: int  # cents for revenue, else a count
    amount: Money | None  # the target as money (revenue goals)
    created_at: datetime | None
    updated_at: datetime | None


@dataclass
class GoalProgress:
    goal_id: int
    user: str
    metric: str
    per: str
    period: str  # 2026-12, 2026-Q4, 2026
    first: date
    last: date
    target: int  # cents for revenue, else a count
    achieved: int  # the same unit, up to `as_of`
    amount: Money | None  # target as money (revenue goals)
    achieved_money: Money | None
    share: float | None  # achieved / target, 4 places (0.62 = 62 %); can pass 1
    working_days: int  # in the whole period
    working_days_left: int  # from as_of's day (itself included) to the period's last day
    remaining: int  # target - achieved, never below 0
    # the pace: what is left per working day left, 0 when met, None when something is
    # left and no working day is: counts (won-deals, activities) rounded up to a tenth in
    # `pace`, revenue rounded up to the cent in `pace_money`
    pace: float | None
    pace_money: Money | None
    as_of: datetime  # the instant progress is read at (UTC)


def _check_metric(metric: str) -> str:
    m = metric.strip().lower()
    if m not in METRICS:
        raise InvalidInput(f"--metric must be one of {', '.join(METRICS)}: {metric!r}")
    return m


def local_day(ctx: Ctx, at: datetime) -> date:
    """The day `at` falls on in the user's zone."""
    return at.astimezone(ctx.tz).date()


def _midnight(ctx: Ctx, day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ctx.tz).astimezone(ctx.now.tzinfo)


def _target(ctx: Ctx, metric: str, amount: str, currency: str | None) -> tuple[int, str | None]:
    """The target as stored: cents and currency for revenue, a whole count otherwise."""
    if metric == "revenue":
        given = (
            parse_currency(currency, field="--currency", usual=[ctx.currency]) if currency else None
        )
        money = parse_money(
            amount, field="AMOUNT", currency=given, usual=[ctx.currency], allow_zero=False
        )
        return money.cents, money.currency or given or ctx.currency
    if currency is not None:
        raise InvalidInput(f"--currency goes with a revenue goal, not {metric}")
    raw = amount.strip().replace(",", "").replace("_", "")
    if not raw.isdigit() or not 1 <= int(raw) <= COUNT_MAX:
        raise InvalidInput(
            f"AMOUNT of a goal in {metric} is a whole number from 1 to {COUNT_MAX:,}: {amount!r}"
        )
    return int(raw), None


_SELECT = (
    "SELECT g.id, g.user_id, u.name AS user_name, g.metric, g.per, g.starts_on, g.target,"
    " g.currency, g.created_at, g.updated_at,"
    " (SELECT min(n.starts_on) FROM goals n WHERE n.user_id = g.user_id"
    " AND n.metric = g.metric AND n.per = g.per AND n.starts_on > g.starts_on) AS next_on"
    " FROM goals g JOIN users u ON u.id = g.user_id"
)


def _view(r: dict[str, Any]) -> GoalView:
    nxt = read_day(r["next_on"])
    cur = r["currency"]
    target = int(r["target"])
    starts = read_day(r["starts_on"])
    assert starts is not None
    return GoalView(
        id=int(r["id"]),
        user=str(r["user_name"]),
        metric=str(r["metric"]),
        per=str(r["per"]),
        starts=starts,
        until=None if nxt is None else nxt - timedelta(days=1),
        target=target,
        amount=Money(target, cur) if cur else None,
        created_at=read_ts(r["created_at"]),
        updated_at=read_ts(r["updated_at"]),
    )


def _fields(g: GoalView) -> dict[str, Any]:
    return {
        "user": g.user,
        "metric": g.metric,
        "per": g.per,
        "from": g.starts,
        "target": g.amount if g.amount is not None else g.target,
    }


def set_goal(
    ctx: Ctx,
    user: str,
    amount: str,
    *,
    per: str,
    metric: str = "revenue",
    start: str | None = None,
    currency: str | None = None,
) -> GoalView:
    """Set `user`'s goal for `metric` per month, quarter or year from the period `start`
    names (default: the current one) on; a goal already starting then is replaced."""
    kind = periods.check_kind(per)
    m = _check_metric(metric)
    target, cur = _target(ctx, m, amount, currency)
    today = local_day(ctx, ctx.now)
    first = (periods.parse(start, kind) if start else periods.containing(today, kind)).first
    db = ctx.db
    with db.write():
        db.lock_key("goals")
        uid = user_id(db, user)
        key = {"u": uid, "m": m, "p": kind, "s": db.day(first)}
        old_row = db.one(
            _SELECT + " WHERE g.user_id = :u AND g.metric = :m AND g.per = :p AND g.starts_on = :s",
            key,
        )
        now = db.ts(ctx.now)
        if old_row is None:
            goal_id = db.insert(
                "INSERT INTO goals (user_id, metric, per, starts_on, target, currency,"
                " created_at, updated_at) VALUES (:u, :m, :p, :s, :t, :c, :now, :now)"
                " RETURNING id",
                {**key, "t": target, "c": cur, "now": now},
            )
        else:
            goal_id = int(old_row["id"])
            db.execute(
                "UPDATE goals SET target = :t, currency = :c, updated_at = :now WHERE id = :id",
                {"t": target, "c": cur, "now": now, "id": goal_id},
            )
        new = get_goal(db, goal_id)
        if old_row is None:
            audit.record(ctx, "goal", goal_id, "add", audit.added(_fields(new)))
        else:
            changes = audit.diff(_fields(_view(old_row)), _fields(new))
            audit.record(ctx, "goal", goal_id, "edit", changes)
    return new


def get_goal(db: Db, goal_id: int) -> GoalView:
    """One goal by id."""
    row = db.one(_SELECT + " WHERE g.id = :id", {"id": goal_id})
    if row is None:
        raise NotFound(f"no goal with id {goal_id}")
    return _view(row)


def list_goals(ctx: Ctx, *, user: str | None = None) -> list[GoalView]:
    """Every goal (or `user`'s), by user, metric, period length and first day."""
    db = ctx.db
    where, params = "", {}
    if user is not None:
        where, params = " WHERE g.user_id = :u", {"u": user_id(db, user)}
    rows = db.all(_SELECT + where + " ORDER BY u.name, g.metric, g.per, g.starts_on", params)
    return [_view(r) for r in rows]


def remove_goal(ctx: Ctx, goal_id: int) -> GoalView:
    """Delete a goal; the one before it (same user, metric and period length), if any,
    applies again from then on."""
    db = ctx.db
    with db.write():
        db.lock_key("goals")
        old = get_goal(db, goal_id)
        db.execute("DELETE FROM goals WHERE id = :id", {"id": goal_id})
        audit.record(ctx, "goal", goal_id, "delete", audit.removed(_fields(old)))
    return old


# -- progress ---------------------------------------------------------------------------------
def _pace(remaining: int, days: int, metric: str) -> Decimal | None:
    if remaining <= 0:
        return Decimal(0)
    if days == 0:
        return None
    step = Decimal(1) if metric == "revenue" else Decimal("0.1")
    return (Decimal(remaining) / Decimal(days)).quantize(step, rounding=ROUND_CEILING)


def _ratio(part: int, whole: int) -> float | None:
    """part / whole rounded half-up to 4 places, as the reports write rates."""
    if whole == 0:
        return None
    exact = Decimal(part) / Decimal(whole)
    return float(exact.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))


def progress(
    ctx: Ctx, *, at: datetime | None = None, user: str | None = None, uid: int | None = None
) -> list[GoalProgress]:
    """Every goal in force at `at` (default now), or only the goals of `user` (a name) or
    `uid` (an id), with what was achieved in its current period up to `at`, the working
    days left and the pace needed; by user, metric and period length."""
    db = ctx.db
    when = at or ctx.now
    today = local_day(ctx, when)
    params: dict[str, Any] = {}
    only = ""
    if user is not None:
        uid = user_id(db, user)
    if uid is not None:
        only = " AND g.user_id = :u"
        params["u"] = uid
    out: list[GoalProgress] = []
    with db.read():
        goals: list[dict[str, Any]] = []
        for kind in periods.KINDS:
            first = periods.containing(today, kind).first
            goals += db.all(
                "SELECT g.id, g.user_id, u.name AS user_name, g.metric, g.per, g.target,"
                " g.currency FROM goals g JOIN users u ON u.id = g.user_id"
                " WHERE g.per = :per AND g.starts_on = (SELECT max(n.starts_on) FROM goals n"
                " WHERE n.user_id = g.user_id AND n.metric = g.metric AND n.per = g.per"
                f" AND n.starts_on <= :first){only}",
                {**params, "per": kind, "first": db.day(first)},
            )
        if not goals:
            return []
        hours = team_settings.working_hours(db)
        achieved: dict[tuple[str, str, str | None], dict[int, int]] = {}
        for kind in {str(g["per"]) for g in goals}:
            period = periods.containing(today, kind)
            span = {"a": db.ts(_midnight(ctx, period.first)), "b": db.ts(when)}  # a <= t <= b
            achieved.update(_achieved(db, kind, span))
        for g in sorted(goals, key=lambda r: (r["user_name"], r["metric"], r["per"])):
            kind, metric, cur = str(g["per"]), str(g["metric"]), g["currency"]
            period = periods.containing(today, kind)
            target = int(g["target"])
            key = (kind, metric, cur if metric == "revenue" else None)
            done = achieved.get(key, {}).get(int(g["user_id"]), 0)
            left_days = sum(1 for d in period.days() if d >= today and hours.is_working_day(d))
            remaining = max(0, target - done)
            pace = _pace(remaining, left_days, metric)
            out.append(
                GoalProgress(
                    goal_id=int(g["id"]),
                    user=str(g["user_name"]),
                    metric=metric,
                    per=kind,
                    period=period.name,
                    first=period.first,
                    last=period.last,
                    target=target,
                    achieved=done,
                    amount=Money(target, cur) if cur else None,
                    achieved_money=Money(done, cur) if cur else None,
                    share=_ratio(done, target),
                    working_days=sum(1 for d in period.days() if hours.is_working_day(d)),
                    working_days_left=left_days,
                    remaining=remaining,
                    pace=None if cur or pace is None else float(pace),
                    pace_money=Money(int(pace), cur) if cur and pace is not None else None,
                    as_of=when,
                )
            )
    return out


def _achieved(
    db: Db, kind: str, span: dict[str, Any]
) -> dict[tuple[str, str, str | None], dict[int, int]]:
    """Per metric (and currency, for revenue), per user: what they did from a to b, both
    included."""
    out: dict[tuple[str, str, str | None], dict[int, int]] = {}
    for r in db.all(
        "SELECT won_by, currency, count(*) AS n, sum(value_cents) AS v FROM deals"
        " WHERE won_by IS NOT NULL AND status = 'won' AND closed_at >= :a AND closed_at <= :b"
        " GROUP BY won_by, currency",
        span,
    ):
        uid = int(r["won_by"])
        money = out.setdefault((kind, "revenue", str(r["currency"])), {})
        money[uid] = money.get(uid, 0) + int(r["v"] or 0)
        count = out.setdefault((kind, "won-deals", None), {})
        count[uid] = count.get(uid, 0) + int(r["n"])
    for r in db.all(
        "SELECT user_id, count(*) AS n FROM interactions WHERE user_id IS NOT NULL"
        " AND happened_at >= :a AND happened_at <= :b GROUP BY user_id",
        span,
    ):
        out.setdefault((kind, "activities", None), {})[int(r["user_id"])] = int(r["n"])
    return out
