"""`tinycrm report service`: how the team handles service cases (docs/reports.md defines
every figure; tests/cli/test_report_service.py checks them against a hand-computed store).

Three kinds of figure, each over its own cases:

- **Open now** (at `as_of`): cases open or waiting on the customer, by priority and by age
  (calendar time since they were opened), and the ones late at `as_of`: no first response
  past the response target, or past the resolution target.
- **Responded in the period** (first response inside it): first-response time in working
  hours, median and p90, and how many took longer than their target.
- **Resolved in the period** (resolved inside it, closed or not): resolution time in working
  hours less the time waiting on the customer, median and p90, breaches of the target;
  **closed in the period** with a score: satisfaction average and distribution.

Working time is the team's working hours and holidays in the owner's time zone, as the
SLA clocks count it (tinycrm.worktime, summed per day by a `Meter`); targets are today's
per priority. Percentiles are nearest-rank. Statuses are the cases' current ones: a case
reopened since it was resolved has no resolution to report.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from tinycrm.services import sla, team_settings
from tinycrm.services.context import Ctx
from tinycrm.services.reports import Period, period
from tinycrm.services.users import user_id
from tinycrm.store.db import read_ts
from tinycrm.worktime import Hours, Meter, target_length

#: age bands of open cases: (name, from, to) in calendar days, `to` excluded (None: no end)
AGE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("under 1d", 0, 1),
    ("1-3d", 1, 3),
    ("3-7d", 3, 7),
    ("7-30d", 7, 30),
    ("30d+", 30, None),
)
SCORES = (1, 2, 3, 4, 5)


def percentile(values: list[int], p: int) -> int | None:
    """Nearest rank: the smallest value with at least p % of the values at or below it
    (the sorted list's ceil(p/100 x n)-th); None for no values. The median is p = 50 (for
    an even count, the lower of the two middle values)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p * len(ordered) / 100)) - 1]


def _average(total: int, count: int) -> float | None:
    if count == 0:
        return None
    exact = Decimal(total) / Decimal(count)
    return float(exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


@dataclass
class Times:
    """Working minutes of `count` cases: median and p90; breached: over the case's target."""

    count: int = 0
    breached: int = 0
    median_minutes: int | None = None
    p90_minutes: int | None = None


class _Sample:
    def __init__(self, times: Times) -> None:
        self.times, self.minutes = times, list[int]()

    def add(self, value: int, target: int) -> None:
        self.times.count += 1
        self.minutes.append(value)
        if value > target:
            self.times.breached += 1

    def finish(self) -> None:
        self.times.median_minutes = percentile(self.minutes, 50)
        self.times.p90_minutes = percentile(self.minutes, 90)


@dataclass
class ServiceLine:
    """One user's (or the team's) figures."""

    user: str | None  # None: cases nobody owns (or the team, in `ServiceReport.team`)
    opened: int = 0  # cases opened in the period
    open_now: int = 0  # open or waiting at as_of
    open_by_priority: dict[str, int] = field(default_factory=dict)  # urgent, high, ...
    open_by_age: dict[str, int] = field(default_factory=dict)  # AGE_BANDS names
    late_response_now: int = 0  # open, never answered, past the response target at as_of
    late_resolution_now: int = 0  # open or waiting, past the resolution target at as_of
    response: Times = field(default_factory=Times)  # first responses in the period
    resolution: Times = field(default_factory=Times)  # resolutions in the period
    csat_count: int = 0  # cases closed in the period with a score
    csat_average: float | None = None  # rounded half-up to 2 places
    csat_scores: dict[int, int] = field(default_factory=dict)  # score -> cases

    def __post_init__(self) -> None:
        self.open_by_priority = {p: 0 for p in sla.PRIORITIES}
        self.open_by_age = {b[0]: 0 for b in AGE_BANDS}
        self.csat_scores = {s: 0 for s in SCORES}


@dataclass
class ServiceReport:
    as_of: datetime
    since: date
    until: date
    owner: str | None  # --owner: only this user's cases
    users: list[ServiceLine]
    team: ServiceLine


def _band(age: timedelta) -> str:
    days = age / timedelta(days=1)
    for name, lo, hi in AGE_BANDS:
        if days >= lo and (hi is None or days < hi):
            return name
    return AGE_BANDS[0][0]  # a case opened after as_of: the youngest band


def _minutes(t: timedelta) -> int:
    return t // timedelta(minutes=1)


class _Clocks:
    """One Meter per time zone, the targets per priority in working minutes."""

    def __init__(self, ctx: Ctx, hours: Hours, zones: dict[int, str | None]) -> None:
        self.ctx, self.hours, self.zones = ctx, hours, zones
        self.meters: dict[str, Meter] = {}
        targets = sla.list_targets(ctx.db)
        self.respond = {t.priority: _minutes(target_length(t.respond, hours)) for t in targets}
        self.resolve = {t.priority: _minutes(target_length(t.resolve, hours)) for t in targets}

    def meter(self, owner_id: int | None) -> Meter:
        name = self.zones.get(owner_id) if owner_id is not None else None
        tz: tzinfo = ZoneInfo(name) if name else self.ctx.tz
        key = str(name or "")
        if key not in self.meters:
            self.meters[key] = Meter(self.hours, tz)
        return self.meters[key]


def _inside(at: datetime | None, p: Period) -> bool:
    return at is not None and p.start <= at < p.end


class _Acc:
    """A line being counted, with its samples of working minutes."""

    def __init__(self, user: str | None) -> None:
        self.line = ServiceLine(user)
        self.response = _Sample(self.line.response)
        self.resolution = _Sample(self.line.resolution)

    def finish(self) -> ServiceLine:
        self.response.finish()
        self.resolution.finish()
        line = self.line
        total = sum(s * n for s, n in line.csat_scores.items())
        line.csat_average = _average(total, line.csat_count)
        return line


@dataclass(slots=True)
class _Facts:
    """What one case adds to its owner's line and the team's: worked out once."""

    priority: str
    opened: bool = False
    open_now: bool = False
    band: str = ""
    late_response: bool = False
    late_resolution: bool = False
    response: int | None = None  # working minutes to the first response in the period
    resolution: int | None = None  # working minutes to a resolution in the period
    score: int | None = None  # satisfaction of a case closed in the period


def _facts(r: dict[str, Any], clocks: _Clocks, p: Period, at: datetime) -> _Facts:
    created = read_ts(r["created_at"])
    assert created is not None
    first, resolved, closed = (
        read_ts(r["first_response_at"]),
        read_ts(r["resolved_at"]),
        read_ts(r["closed_at"]),
    )
    meter, priority = clocks.meter(r["owner_id"]), r["priority"]
    paused = int(r["paused_minutes"])
    f = _Facts(priority, opened=_inside(created, p))
    if r["status"] in ("open", "waiting") and created <= at:
        f.open_now, f.band = True, _band(at - created)
        worked = _minutes(meter.between(created, at))
        f.late_response = (
            r["status"] == "open" and first is None and worked > clocks.respond[priority]
        )
        waiting_since = read_ts(r["waiting_since"])
        if r["status"] == "waiting" and waiting_since is not None:
            paused += -(-meter.between(waiting_since, at) // timedelta(minutes=1))
        f.late_resolution = worked - paused > clocks.resolve[priority]
    # a case resolved without a note or a question to the customer: resolving answered it
    responded = first or resolved
    if responded is not None and _inside(responded, p):
        f.response = _minutes(meter.between(created, responded))
    if resolved is not None and _inside(resolved, p):
        f.resolution = max(0, _minutes(meter.between(created, resolved)) - paused)
    if _inside(closed, p) and r["satisfaction"] is not None:
        f.score = int(r["satisfaction"])
    return f


def _count(acc: _Acc, f: _Facts, clocks: _Clocks) -> None:
    line = acc.line
    line.opened += f.opened
    if f.open_now:
        line.open_now += 1
        line.open_by_priority[f.priority] = line.open_by_priority.get(f.priority, 0) + 1
        line.open_by_age[f.band] += 1
        line.late_response_now += f.late_response
        line.late_resolution_now += f.late_resolution
    if f.response is not None:
        acc.response.add(f.response, clocks.respond[f.priority])
    if f.resolution is not None:
        acc.resolution.add(f.resolution, clocks.resolve[f.priority])
    if f.score is not None:
        line.csat_count += 1
        line.csat_scores[f.score] = line.csat_scores.get(f.score, 0) + 1


def service_report(
    ctx: Ctx,
    *,
    since: date | None = None,
    until: date | None = None,
    owner: str | None = None,
    as_of: datetime | None = None,
) -> ServiceReport:
    """Open cases by priority and age, SLA breaches, first-response and resolution times
    in working hours, satisfaction: per user (the case's owner) and for the team."""
    p = period(ctx, since, until)
    at = as_of or ctx.now
    db = ctx.db
    with db.read():
        owner_id = user_id(db, owner) if owner is not None else None
        users = {r["id"]: r for r in db.all("SELECT id, name, timezone FROM users")}
        clocks = _Clocks(
            ctx,
            team_settings.working_hours(db),
            {i: r["timezone"] for i, r in users.items()},
        )
        where = (
            "(status IN ('open', 'waiting') OR (created_at >= :p_start AND created_at < :p_end)"
            " OR (first_response_at >= :p_start AND first_response_at < :p_end)"
            " OR (resolved_at >= :p_start AND resolved_at < :p_end)"
            " OR (closed_at >= :p_start AND closed_at < :p_end))"
        )
        params: dict[str, Any] = {"p_start": db.ts(p.start), "p_end": db.ts(p.end)}
        if owner_id is not None:
            where += " AND owner_id = :owner"
            params["owner"] = owner_id
        rows = db.all(
            "SELECT owner_id, priority, status, created_at, first_response_at, resolved_at,"
            " closed_at, waiting_since, paused_minutes, satisfaction FROM cases"
            f" WHERE {where} ORDER BY id",
            params,
        )
    lines: dict[int | None, _Acc] = {}
    team = _Acc(None)
    for r in rows:
        key = r["owner_id"]
        if key not in lines:
            lines[key] = _Acc(users[key]["name"] if key is not None else None)
        facts = _facts(r, clocks, p, at)
        _count(lines[key], facts, clocks)
        _count(team, facts, clocks)
    if owner_id is not None and owner_id not in lines:
        lines[owner_id] = _Acc(users[owner_id]["name"])
    ordered = sorted(
        (a.finish() for a in lines.values()), key=lambda v: (v.user is None, (v.user or "").lower())
    )
    return ServiceReport(
        as_of=at,
        since=p.since,
        until=p.until,
        owner=users[owner_id]["name"] if owner_id is not None else None,
        users=ordered,
        team=team.finish(),
    )
