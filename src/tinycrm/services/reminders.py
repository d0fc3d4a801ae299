"""Reminders: promises with a due time, optionally recurring (RFC 5545 rules)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tinycrm.errors import InvalidInput, NotFound, UnknownId
from tinycrm.refs import KINDS as TARGET_KINDS
from tinycrm.refs import Target, hold, resolve
from tinycrm.services import audit
from tinycrm.services.contact_writes import check_version
from tinycrm.services.context import Ctx
from tinycrm.services.validation import check_text
from tinycrm.store.db import Db, LockMode, read_ts


@dataclass
class ReminderView:
    id: int
    text: str
    due_at: datetime
    done_at: datetime | None
    target: str | None  # "Alice Wong", "Acme GmbH", "deal: Big order"
    contact_id: int | None
    company_id: int | None
    deal_id: int | None
    owner: str | None
    recurrence: str | None
    snoozed: int
    overdue: bool
    from_done: bool = False
    version: int = 1  # changes on every edit, done and snooze; pass it as expected_version


_SELECT = (
    "SELECT r.id, r.text, r.due_at, r.done_at, r.contact_id, r.company_id, r.deal_id,"
    " r.recurrence, r.snoozed, r.from_done, r.version, u.name AS owner,"
    " coalesce(c.name, co.name, d.title) AS target, d.title AS deal_title"
    " FROM reminders r LEFT JOIN contacts c ON c.id = r.contact_id"
    " LEFT JOIN companies co ON co.id = r.company_id LEFT JOIN deals d ON d.id = r.deal_id"
    " LEFT JOIN users u ON u.id = r.owner_id"
)


def _view(r: dict[str, Any], now: datetime) -> ReminderView:
    due = read_ts(r["due_at"])
    assert due is not None
    done = read_ts(r["done_at"])
    return ReminderView(
        id=r["id"],
        text=r["text"],
        due_at=due,
        done_at=done,
        target=r["target"],
        contact_id=r["contact_id"],
        company_id=r["company_id"],
        deal_id=r["deal_id"],
        owner=r["owner"],
        recurrence=r["recurrence"],
        snoozed=int(r["snoozed"]),
        overdue=done is None and due < now,
        from_done=bool(r["from_done"]),
        version=int(r["version"]),
    )


def get_reminder(db: Db, reminder_id: int, now: datetime) -> ReminderView:
    """One reminder as lists show it; NotFound if there is none with that id."""
    row = db.one(_SELECT + " WHERE r.id = :id", {"id": reminder_id})
    if row is None:
        raise NotFound(f"no reminder with id {reminder_id}")
    return _view(row, now)


def add_reminder(
    ctx: Ctx,
    target: Target | str | None,
    due: datetime,
    text: str,
    *,
    every: str | None = None,
    from_done: bool = False,
) -> ReminderView:
    """Create a reminder due at `due` (aware), about a contact, company or deal (`target`,
    or what the user typed for one, resolved in the same transaction) or nothing."""
    if isinstance(target, str):
        with ctx.db.write():
            found = resolve(ctx.db, target, TARGET_KINDS)
            return add_reminder(ctx, found, due, text, every=every, from_done=from_done)
    body = check_text(text, "reminder text")
    if not body:
        raise InvalidInput("reminder text can't be empty")
    rrule = recurrence = None
    if every:
        from tinycrm.dates import parse_recurrence

        rec = parse_recurrence(every)
        rrule, recurrence, from_done = rec.rrule, rec.text, from_done or rec.from_done
    db = ctx.db
    ids = {"contact": None, "company": None, "deal": None} | (
        {target.kind: target.id} if target else {}
    )
    with db.write():
        if target is not None:
            hold(db, target.kind, target.id)
        new_id = db.insert(
            "INSERT INTO reminders (contact_id, company_id, deal_id, owner_id, text, due_at,"
            " scheduled_at, snoozed, rrule, recurrence, from_done, created_at, updated_at)"
            " VALUES (:contact, :company, :deal, :owner, :text, :due, :due, 0, :rrule, :rec,"
            " :from_done, :now, :now) RETURNING id",
            {
                **ids,
                "owner": ctx.user_id,
                "text": body,
                "due": db.ts(due),
                "rrule": rrule,
                "rec": recurrence,
                "from_done": from_done,
                "now": db.ts(ctx.now),
            },
        )
        audit.record(
            ctx,
            "reminder",
            new_id,
            "add",
            audit.added(
                {
                    "text": body,
                    "due_at": due,
                    "about": target.describe() if target else None,
                    "recurrence": recurrence,
                    "owner": ctx.user_name,
                }
            ),
        )
        return get_reminder(db, new_id, ctx.now)


def list_reminders(
    ctx: Ctx,
    *,
    include_done: bool = False,
    overdue_only: bool = False,
    until: datetime | None = None,
    mine: bool = False,
    contact_id: int | None = None,
    limit: int | None = None,
    owner_id: int | None = None,
) -> list[ReminderView]:
    """Open reminders by due time (`until` caps the due time; None means all); `mine`
    (the current user's) or `owner_id` keeps one user's."""
    clause, params = _filters(ctx, include_done, overdue_only, until, mine, contact_id, owner_id)
    sql = _SELECT + clause + " ORDER BY r.due_at, r.id"
    if limit is not None:
        sql += " LIMIT :n"
        params["n"] = limit
    return [_view(r, ctx.now) for r in ctx.db.all(sql, params)]


def count_reminders(
    ctx: Ctx,
    *,
    include_done: bool = False,
    overdue_only: bool = False,
    until: datetime | None = None,
    mine: bool = False,
    contact_id: int | None = None,
    owner_id: int | None = None,
) -> int:
    """How many reminders `list_reminders` would give without a limit."""
    clause, params = _filters(ctx, include_done, overdue_only, until, mine, contact_id, owner_id)
    return int(ctx.db.value("SELECT count(*) FROM reminders r" + clause, params))


@dataclass
class ReminderList:
    """The first rows of a list of reminders, and the store's counts for the whole list
    (not the rows loaded): `total` reminders match, `overdue` of them are overdue."""

    rows: list[ReminderView]
    total: int
    overdue: int


def reminder_list(
    ctx: Ctx, *, overdue_only: bool = False, mine: bool = False, limit: int | None = None
) -> ReminderList:
    """`list_reminders` of open reminders cut to `limit`, with the true total and overdue
    count, read in one snapshot, for a screen that says "500 of 5,442 · 5,442 overdue"."""
    db = ctx.db
    with db.read():
        rows = list_reminders(ctx, overdue_only=overdue_only, mine=mine, limit=limit)
        if limit is None or len(rows) < limit:
            total = len(rows)
            overdue = sum(1 for r in rows if r.overdue)
        else:
            total = count_reminders(ctx, overdue_only=overdue_only, mine=mine)
            overdue = count_reminders(ctx, overdue_only=True, mine=mine)
    return ReminderList(rows, total, overdue)


def _filters(
    ctx: Ctx,
    include_done: bool,
    overdue_only: bool,
    until: datetime | None,
    mine: bool,
    contact_id: int | None,
    owner_id: int | None = None,
) -> tuple[str, dict[str, Any]]:
    where: list[str] = []
    params: dict[str, Any] = {}
    if not include_done:
        where.append("r.done_at IS NULL")
    if overdue_only:
        where.append("r.due_at < :now")
        params["now"] = ctx.db.ts(ctx.now)
    if until is not None:
        where.append("r.due_at <= :until")
        params["until"] = ctx.db.ts(until)
    if mine or owner_id is not None:
        where.append("r.owner_id = :me")
        params["me"] = ctx.user_id if mine else owner_id
    if contact_id is not None:
        where.append("r.contact_id = :cid")
        params["cid"] = contact_id
    return (" WHERE " + " AND ".join(where)) if where else "", params


@dataclass
class Completed:
    done: ReminderView
    next: ReminderView | None


def complete(ctx: Ctx, reminder_id: int) -> Completed:
    """Mark done; a recurring reminder schedules its next occurrence (from the scheduled
    time, or from now with `from_done`)."""
    return complete_all(ctx, [reminder_id])[0]


def complete_all(ctx: Ctx, reminder_ids: Sequence[int]) -> list[Completed]:
    """`complete` each, in this order, in one transaction. The locks for all of them are
    taken first, in one order whatever the order given, so `done 1 2` and `done 2 1` at
    once never wait for each other in a circle."""
    db = ctx.db
    with db.write():
        _lock(db, reminder_ids, parents=True)
        return [_complete(ctx, i) for i in reminder_ids]


def _complete(ctx: Ctx, reminder_id: int) -> Completed:
    db = ctx.db
    row = db.one("SELECT * FROM reminders WHERE id = :id", {"id": reminder_id})
    if row is None:
        raise NotFound(f"no reminder with id {reminder_id}")
    if row["done_at"] is not None:
        raise InvalidInput(f"reminder {reminder_id} is already done")
    db.execute(
        "UPDATE reminders SET done_at = :now, updated_at = :now, version = version + 1"
        " WHERE id = :id",
        {"now": db.ts(ctx.now), "id": reminder_id},
    )
    audit.record(ctx, "reminder", reminder_id, "done", {"done_at": [None, audit.plain(ctx.now)]})
    nxt = None
    if row["rrule"]:
        nxt = _schedule_next(ctx, row)
    return Completed(get_reminder(db, reminder_id, ctx.now), nxt)


_PARENTS = (("company_id", "companies"), ("contact_id", "contacts"), ("deal_id", "deals"))


def _lock(db: Db, reminder_ids: Sequence[int], *, parents: bool = False) -> None:
    """Lock reminders before checking they are open; with `parents`, first keep what
    they are about (a next occurrence goes under it), so locks go parents first."""
    if parents:
        listed = ",".join(str(int(i)) for i in reminder_ids) or "0"
        found = db.all(
            f"SELECT contact_id, company_id, deal_id FROM reminders WHERE id IN ({listed})"
        )
        for column, table in _PARENTS:
            db.lock(table, [r[column] for r in found if r[column] is not None], "keep")
    db.lock("reminders", reminder_ids)


def _schedule_next(ctx: Ctx, row: dict[str, Any]) -> ReminderView:
    from tinycrm.dates import Recurrence, next_occurrence

    db = ctx.db
    scheduled = read_ts(row["scheduled_at"])
    assert scheduled is not None
    rec = Recurrence(
        rrule=row["rrule"], from_done=bool(row["from_done"]), text=row["recurrence"] or row["rrule"]
    )
    if rec.from_done:
        # keep the series' time of day, restart the count from today
        base = ctx.now
        nxt = next_occurrence(
            rec, after=base, anchor=_same_time_on(scheduled, base, ctx), tz=ctx.tz
        )
    else:
        nxt = next_occurrence(rec, after=scheduled, anchor=scheduled, tz=ctx.tz)
    new_id = db.insert(
        "INSERT INTO reminders (contact_id, company_id, deal_id, owner_id, text, due_at,"
        " scheduled_at, snoozed, rrule, recurrence, from_done, created_at, updated_at)"
        " VALUES (:contact, :company, :deal, :owner, :text, :due, :due, 0, :rrule, :rec,"
        " :from_done, :now, :now) RETURNING id",
        {
            "contact": row["contact_id"],
            "company": row["company_id"],
            "deal": row["deal_id"],
            "owner": row["owner_id"],
            "text": row["text"],
            "due": db.ts(nxt),
            "rrule": row["rrule"],
            "rec": row["recurrence"],
            "from_done": bool(row["from_done"]),
            "now": db.ts(ctx.now),
        },
    )
    audit.record(
        ctx,
        "reminder",
        new_id,
        "add",
        {
            "text": [None, row["text"]],
            "due_at": [None, audit.plain(nxt)],
            "after": [None, row["id"]],
        },
    )
    return get_reminder(db, new_id, ctx.now)


def _same_time_on(scheduled: datetime, day: datetime, ctx: Ctx) -> datetime:
    """`day`'s local date at `scheduled`'s local time of day."""
    local_s, local_d = scheduled.astimezone(ctx.tz), day.astimezone(ctx.tz)
    return local_d.replace(hour=local_s.hour, minute=local_s.minute, second=0, microsecond=0)


#: What a snooze without a WHEN means: a day on, at the start of the day (see `snooze`).
SNOOZE_DEFAULT = "1d"


def snooze(ctx: Ctx, reminder_id: int, until: datetime | str | None = None) -> ReminderView:
    """Move an open reminder later (its recurrence schedule stays put).

    `until` is a moment, or WHEN text as typed: an offset (`2d`, `in 3 hours`) counts from
    the later of its due time and now, so it always moves the reminder on; any other phrase
    is read as usual. None means `SNOOZE_DEFAULT`: the morning after it was due, or
    tomorrow morning if it is overdue. A moment not after both the due time and now is
    refused, naming both, and nothing changes.
    """
    from tinycrm.dates import is_forward_offset, parse_when

    typed = SNOOZE_DEFAULT if until is None else until
    db = ctx.db
    with db.write():
        _lock(db, [reminder_id])
        row = db.one("SELECT due_at, done_at FROM reminders WHERE id = :id", {"id": reminder_id})
        if row is None:
            raise NotFound(f"no reminder with id {reminder_id}")
        if row["done_at"] is not None:
            raise InvalidInput(f"reminder {reminder_id} is already done")
        due = read_ts(row["due_at"])
        assert due is not None
        base = max(due, ctx.now)
        if isinstance(typed, datetime):
            moment = typed
        else:
            start = base if is_forward_offset(typed) else ctx.now
            moment = parse_when(typed, now=start, tz=ctx.tz, default_time=ctx.day_start)
        if moment <= base:
            raise InvalidInput(_not_later(ctx, reminder_id, due, typed, moment))
        db.execute(
            "UPDATE reminders SET due_at = :due, snoozed = snoozed + 1, updated_at = :now,"
            " version = version + 1 WHERE id = :id",
            {"due": db.ts(moment), "now": db.ts(ctx.now), "id": reminder_id},
        )
        changes = audit.diff({"due_at": due}, {"due_at": moment})
        audit.record(ctx, "reminder", reminder_id, "snooze", changes)
        return get_reminder(db, reminder_id, ctx.now)


def _not_later(
    ctx: Ctx, reminder_id: int, due: datetime, typed: datetime | str, moment: datetime
) -> str:
    def local(at: datetime) -> str:  # as the CLI shows due times: the year if not this one
        there = at.astimezone(ctx.tz)
        same_year = there.year == ctx.now.astimezone(ctx.tz).year
        return there.strftime("%a %d %b %H:%M" if same_year else "%a %d %b %Y %H:%M")

    said = f"{typed!r} is {local(moment)}" if isinstance(typed, str) else local(moment)
    if due <= ctx.now:
        return (
            f"snoozing moves a reminder later: #{reminder_id} is overdue, and {said},"
            " which is not after now; give a later time, e.g. 2h or tomorrow"
        )
    return (
        f"snoozing moves a reminder later: #{reminder_id} is due {local(due)}, and {said};"
        " give a later time, or an offset such as 2d (counted from when it is due)"
    )


_NOTHING = object()  # `about` not given (None means: about nobody)


def _lock_one(ctx: Ctx, reminder_id: int, mode: LockMode) -> ReminderView:
    """Keep what the reminder is about, lock it (`mode` as for Db.lock), and read it
    (UnknownId, exit 2, if there is none)."""
    db = ctx.db
    found = db.one(
        "SELECT contact_id, company_id, deal_id FROM reminders WHERE id = :id", {"id": reminder_id}
    )
    if found is None:
        raise UnknownId(f"no reminder with id {reminder_id}")
    for column, table in _PARENTS:
        if found[column] is not None:
            db.lock(table, found[column], "keep")
    db.lock("reminders", reminder_id, mode)
    try:
        return get_reminder(db, reminder_id, ctx.now)
    except NotFound:  # deleted while we waited for the lock
        raise UnknownId(f"no reminder with id {reminder_id}") from None


def get_reminder_or_unknown(ctx: Ctx, reminder_id: int) -> ReminderView:
    """get_reminder for a command that changes it: none is UnknownId (exit 2)."""
    try:
        return get_reminder(ctx.db, reminder_id, ctx.now)
    except NotFound:
        raise UnknownId(f"no reminder with id {reminder_id}") from None


def _fields(r: ReminderView) -> dict[str, Any]:
    """What an edit changes, as the audit log records it."""
    return {
        "text": r.text,
        "due_at": r.due_at,
        "about": r.target,
        "recurrence": r.recurrence,
        "from_done": r.from_done,
    }


def edit_reminder(
    ctx: Ctx,
    reminder_id: int,
    *,
    due: datetime | None = None,
    text: str | None = None,
    every: str | None = None,
    no_repeat: bool = False,
    from_done: bool = False,
    about: Target | None | object = _NOTHING,
    expected_version: int | None = None,
) -> ReminderView:
    """Correct a reminder: its due time (which becomes the series' schedule too, as if it
    had been set so), text, recurrence (`every`, or `no_repeat` to stop it), whether the
    next one counts from when it is done, and what it is about (a Target, or None for
    nothing). With `expected_version`, a reminder changed since is refused."""
    sets: dict[str, Any] = {}
    if text is not None:
        body = check_text(text, "reminder text")
        if not body:
            raise InvalidInput("reminder text can't be empty")
        sets["text"] = body
    if due is not None:
        sets["due_at"] = sets["scheduled_at"] = ctx.db.ts(due)
    if every and no_repeat:
        raise InvalidInput("give --every or --no-repeat, not both")
    if every:
        from tinycrm.dates import parse_recurrence

        rec = parse_recurrence(every)
        sets["rrule"], sets["recurrence"] = rec.rrule, rec.text
        if rec.from_done:
            sets["from_done"] = True
    if no_repeat:
        sets["rrule"] = sets["recurrence"] = None
        sets["from_done"] = False
    if from_done:
        if no_repeat:
            raise InvalidInput("--from-done goes with a repeating reminder, not --no-repeat")
        sets["from_done"] = True
    if about is not _NOTHING:
        target = about if isinstance(about, Target) else None
        sets["contact_id"] = sets["company_id"] = sets["deal_id"] = None
        if target is not None:
            sets[f"{target.kind}_id"] = target.id
    if not sets:
        raise InvalidInput("nothing to change: give at least one option (see --help)")
    db = ctx.db
    with db.write():
        old = _lock_one(ctx, reminder_id, "change")
        check_version(ctx, "reminder", reminder_id, repr(old.text), old.version, expected_version)
        if isinstance(about, Target):
            hold(db, about.kind, about.id)
        rule = sets["rrule"] if "rrule" in sets else _has_rule(db, reminder_id)
        if sets.get("from_done") and not rule:
            raise InvalidInput(
                f"reminder {reminder_id} doesn't repeat: --from-done goes with --every"
            )
        sets["updated_at"] = db.ts(ctx.now)
        assigns = ", ".join(f"{k} = :{k}" for k in sets)
        db.execute(
            f"UPDATE reminders SET {assigns}, version = version + 1 WHERE id = :id",
            {**sets, "id": reminder_id},
        )
        new = get_reminder(db, reminder_id, ctx.now)
        changes = audit.diff(_fields(old), _fields(new))
        audit.record(ctx, "reminder", reminder_id, "edit", changes)
        return new


def _has_rule(db: Db, reminder_id: int) -> bool:
    return bool(db.value("SELECT rrule FROM reminders WHERE id = :id", {"id": reminder_id}))


@dataclass
class Removed:
    removed: ReminderView
    next: ReminderView | None  # a recurring reminder's next occurrence, when only this one went


def delete_reminder(
    ctx: Ctx, reminder_id: int, *, series: bool = False, expected_version: int | None = None
) -> Removed:
    """Delete a reminder. An open recurring one: only this occurrence (the next one is
    scheduled, as marking it done would, but nothing is marked done), or with `series`
    the whole series (no next occurrence). Returns it as it was."""
    db = ctx.db
    with db.write():
        old = _lock_one(ctx, reminder_id, "delete")
        check_version(ctx, "reminder", reminder_id, repr(old.text), old.version, expected_version)
        row = db.one("SELECT * FROM reminders WHERE id = :id", {"id": reminder_id})
        assert row is not None  # locked
        if series and not row["rrule"]:
            raise InvalidInput(f"reminder {reminder_id} doesn't repeat: --series is for a series")
        if series and row["done_at"] is not None:
            raise InvalidInput(
                f"reminder {reminder_id} is done; --series removes a series by its open occurrence"
            )
        db.execute("DELETE FROM reminders WHERE id = :id", {"id": reminder_id})
        fields = {**_fields(old), "owner": old.owner, "done_at": old.done_at}
        if series:
            fields["series"] = True
        audit.record(ctx, "reminder", reminder_id, "delete", audit.removed(fields))
        nxt = None
        if row["rrule"] and row["done_at"] is None and not series:
            nxt = _schedule_next(ctx, row)
        return Removed(old, nxt)


def next_due(ctx: Ctx, reminder: ReminderView) -> datetime | None:
    """When a recurring reminder's next occurrence would fall if this one went now
    (for the question `reminder rm` asks); None for one that doesn't repeat."""
    from tinycrm.dates import Recurrence, next_occurrence

    row = ctx.db.one("SELECT * FROM reminders WHERE id = :id", {"id": reminder.id})
    if row is None or not row["rrule"] or row["done_at"] is not None:
        return None
    scheduled = read_ts(row["scheduled_at"])
    assert scheduled is not None
    rec = Recurrence(
        rrule=row["rrule"], from_done=bool(row["from_done"]), text=row["recurrence"] or row["rrule"]
    )
    if rec.from_done:
        anchor = _same_time_on(scheduled, ctx.now, ctx)
        return next_occurrence(rec, after=ctx.now, anchor=anchor, tz=ctx.tz)
    return next_occurrence(rec, after=scheduled, anchor=scheduled, tz=ctx.tz)
