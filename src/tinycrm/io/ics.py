"""Open reminders as an iCalendar file (RFC 5545) for calendar apps.

Each open reminder is one event (VEVENT, 15 minutes at its due time, with a display alarm
at the start) or, with `as_todo`, one task (VTODO with DUE and the same alarm). UIDs are
stable (`reminder-<id>@tinycrm`), so re-importing an updated file updates the entries;
DTSTAMP is the reminder's last change, so the file depends only on the store. tinycrm
owns recurrence (marking one done schedules the next), so each occurrence is exported on
its own and the rule is named in the description.

Birthdays and anniversaries (`contact add|edit --birthday`, `--anniversary`) are yearly
all-day events (`RRULE:FREQ=YEARLY`; UID `birthday-<contact id>@tinycrm` or
`anniversary-...`), from the day itself, or for a day without a year from its first
occurrence after 1970; 29 February falls on the last day of February in other years.
They are events in `--todo` files too (a task that repeats every year is no task).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tinycrm.services.agenda import Scope
from tinycrm.services.context import Ctx
from tinycrm.store.db import read_day, read_ts


@dataclass
class _Row:
    id: int
    text: str
    about: str | None
    due_at: datetime
    updated_at: datetime
    recurrence: str | None
    owner: str | None


def _open_reminders(ctx: Ctx, scope: Scope) -> list[_Row]:
    clause, params = scope.where("r.owner_id")
    rows = ctx.db.all(
        "SELECT r.id, r.text, r.due_at, r.updated_at, r.recurrence, u.name AS owner,"
        " coalesce(c.name, co.name, d.title) AS about FROM reminders r"
        " LEFT JOIN users u ON u.id = r.owner_id LEFT JOIN contacts c ON c.id = r.contact_id"
        " LEFT JOIN companies co ON co.id = r.company_id LEFT JOIN deals d ON d.id = r.deal_id"
        " WHERE r.done_at IS NULL" + clause + " ORDER BY r.due_at, r.id",
        params,
    )
    out = []
    for r in rows:
        due, updated = read_ts(r["due_at"]), read_ts(r["updated_at"])
        assert due is not None and updated is not None
        out.append(_Row(r["id"], r["text"], r["about"], due, updated, r["recurrence"], r["owner"]))
    return out


def _important_days(ctx: Ctx, scope: Scope) -> list[tuple[int, str, str, date, datetime]]:
    """(contact id, name, kind, day, updated_at) of every birthday and anniversary."""
    clause, params = scope.where("c.owner_id")
    out = []
    for r in ctx.db.all(
        "SELECT c.id, c.name, c.birthday, c.anniversary, c.updated_at FROM contacts c"
        " WHERE (c.birthday IS NOT NULL OR c.anniversary IS NOT NULL)"
        " AND c.opted_out_at IS NULL" + clause + " ORDER BY c.id",
        params,
    ):
        updated = read_ts(r["updated_at"])
        assert updated is not None
        for kind in ("birthday", "anniversary"):
            day = read_day(r[kind])
            if day is not None:
                out.append((int(r["id"]), str(r["name"]), kind, day, updated))
    return out


def _yearly(cal: Any, contact_id: int, name: str, kind: str, day: date, updated: datetime) -> None:
    from icalendar import Event

    from tinycrm.dates import has_year, next_yearly

    event = Event()
    event.add("uid", f"{kind}-{contact_id}@tinycrm")
    event.add("dtstamp", updated.astimezone(UTC))
    event.add("summary", f"{name}: {kind}")
    first = day if has_year(day) else next_yearly(day, date(1970, 1, 1))
    if (day.month, day.day) == (2, 29) and not has_year(day):
        first = date(1972, 2, 29)
    event.add("dtstart", first)
    event.add("dtend", first + timedelta(days=1))
    rule: dict[str, Any] = {"freq": "yearly"}
    if (day.month, day.day) == (2, 29):
        rule.update(bymonth=2, bymonthday=-1)  # the last day of February, every year
    event.add("rrule", rule)
    event.add("transp", "TRANSPARENT")
    event.add("description", f"tinycrm contact #{contact_id}")
    cal.add_component(event)


def reminders_ics(ctx: Ctx, scope: Scope, *, as_todo: bool = False) -> tuple[bytes, int]:
    """The calendar file and how many reminders it holds (birthdays and anniversaries
    come along as yearly events)."""
    from icalendar import Alarm, Calendar, Event, Todo

    cal = Calendar()
    cal.add("prodid", "-//tinycrm//reminders//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"tinycrm: {scope.user_name or 'team'}")
    rows = _open_reminders(ctx, scope)
    for r in rows:
        entry = Todo() if as_todo else Event()
        entry.add("uid", f"reminder-{r.id}@tinycrm")
        entry.add("dtstamp", r.updated_at.astimezone(UTC))
        summary = f"{r.about}: {r.text}" if r.about else r.text
        entry.add("summary", summary)
        details = [f"tinycrm reminder #{r.id}"]
        if r.recurrence:
            details.append(f"repeats {r.recurrence}")
        if r.owner:
            details.append(f"owner {r.owner}")
        details.append(f"mark it done: tinycrm done {r.id}")
        entry.add("description", "\n".join(details))
        due = r.due_at.astimezone(UTC)
        if as_todo:
            entry.add("due", due)
            entry.add("status", "NEEDS-ACTION")
        else:
            entry.add("dtstart", due)
            entry.add("dtend", due + timedelta(minutes=15))
            entry.add("transp", "TRANSPARENT")
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", summary)
        alarm.add("trigger", timedelta(0), parameters={"RELATED": "END" if as_todo else "START"})
        entry.add_component(alarm)
        cal.add_component(entry)
    for contact_id, name, kind, day, updated in _important_days(ctx, scope):
        _yearly(cal, contact_id, name, kind, day, updated)
    return cal.to_ical(), len(rows)
