"""SLA targets of service cases: per priority, a first-response and a resolution target
in working time, shared by the team (`tinycrm sla`), with built-in defaults."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from tinycrm.errors import InvalidInput
from tinycrm.services import audit
from tinycrm.services.context import Ctx
from tinycrm.store.db import Db
from tinycrm.worktime import Hours, add_working, parse_target, target_length

PRIORITIES = ("urgent", "high", "normal", "low")
#: priority -> (first response, resolution), in working time (`d`: a working day)
DEFAULTS = {
    "urgent": ("1h", "4h"),
    "high": ("4h", "1d"),
    "normal": ("1d", "3d"),
    "low": ("2d", "10d"),
}


@dataclass
class SlaTarget:
    priority: str
    respond: str  # "4h": working minutes (m), hours (h) or days (d)
    resolve: str
    default: bool  # True: the built-in target, not set in the store


def check_priority(text: str) -> str:
    """A case priority as typed, checked (InvalidInput names the priorities)."""
    p = text.strip().lower()
    if p not in PRIORITIES:
        raise InvalidInput(f"priority must be one of {', '.join(PRIORITIES)}: {text!r}")
    return p


def list_targets(db: Db) -> list[SlaTarget]:
    """Every priority's targets, most urgent first."""
    rows = {r["priority"]: r for r in db.all("SELECT priority, respond, resolve FROM sla_targets")}
    out = []
    for p in PRIORITIES:
        row = rows.get(p)
        if row is None:
            out.append(SlaTarget(p, *DEFAULTS[p], default=True))
        else:
            out.append(SlaTarget(p, row["respond"], row["resolve"], default=False))
    return out


def get_target(db: Db, priority: str) -> SlaTarget:
    """One priority's targets (stored, or the default)."""
    return next(t for t in list_targets(db) if t.priority == priority)


def edit_target(
    ctx: Ctx, priority: str, *, respond: str | None = None, resolve: str | None = None
) -> SlaTarget:
    """Change a priority's targets (`4h`, `1d`); open cases of that priority get their
    SLA clocks recomputed by the caller (`cases.edit_sla`)."""
    p = check_priority(priority)
    if respond is None and resolve is None:
        raise InvalidInput("nothing to change: give --respond or --resolve")
    new_respond = parse_target(respond) if respond is not None else None
    new_resolve = parse_target(resolve) if resolve is not None else None
    db = ctx.db
    with db.write():
        db.lock_key("sla targets")
        old = get_target(db, p)
        new = SlaTarget(p, new_respond or old.respond, new_resolve or old.resolve, default=False)
        params = {"p": p, "respond": new.respond, "resolve": new.resolve}
        if old.default:
            db.execute(
                "INSERT INTO sla_targets (priority, respond, resolve)"
                " VALUES (:p, :respond, :resolve)",
                params,
            )
        else:
            db.execute(
                "UPDATE sla_targets SET respond = :respond, resolve = :resolve WHERE priority = :p",
                params,
            )
        changes = audit.diff(
            {"respond": old.respond, "resolve": old.resolve},
            {"respond": new.respond, "resolve": new.resolve},
        )
        audit.record(ctx, "sla", 0, "edit", {f"{p}.{k}": v for k, v in changes.items()})
    return new


def clock_due(
    hours: Hours,
    tz: tzinfo,
    target: SlaTarget,
    *,
    created_at: datetime,
    first_response_at: datetime | None,
    paused: timedelta,
    due_at: datetime | None,
) -> datetime:
    """When a running case is next overdue: the first unmet target (response while nobody
    answered, resolution always), counted in working time from its creation plus the time
    it waited on the customer, or its own due time if that comes first."""
    respond = add_working(hours, tz, created_at, target_length(target.respond, hours) + paused)
    resolve = add_working(hours, tz, created_at, target_length(target.resolve, hours) + paused)
    due = resolve if first_response_at is not None else min(respond, resolve)
    return min(due, due_at) if due_at is not None else due
