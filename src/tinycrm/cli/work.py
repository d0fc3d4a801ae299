"""Quick entry: `note`, `remind`, `todo`, `done`, `snooze`. These must feel instant, so
they import nothing heavy (see tests/cli/test_startup.py)."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from typing import Annotated, Any

import typer

from tinycrm.cli import output
from tinycrm.cli.common import JsonOpt, ScreenfulOpt, get_ctx, parse_id, when
from tinycrm.errors import InvalidInput
from tinycrm.services.context import Ctx

TargetArg = Annotated[
    str,
    typer.Argument(help="Contact (id, email, name), company (company:acme) or deal (deal:12)."),
]


def note(
    ref: TargetArg,
    text: Annotated[
        str | None, typer.Argument(help="What happened ('-' or omitted: read stdin).")
    ] = None,
    kind: Annotated[
        str, typer.Option("--kind", "-k", help="note, call, email or meeting.")
    ] = "note",
    when_: Annotated[
        str | None,
        typer.Option("--when", "-w", help="When it happened (default now), e.g. 'yesterday 3pm'."),
    ] = None,
    follow_up: Annotated[
        str | None,
        typer.Option("--follow-up", "-f", help="Also remind me then, e.g. 'next friday'."),
    ] = None,
    create: Annotated[
        bool, typer.Option("--create", help="Create the contact if nobody matches.")
    ] = False,
    future: Annotated[
        bool, typer.Option("--future", help="Allow a --when after now (normally refused).")
    ] = False,
    json_: JsonOpt = False,
) -> None:
    """Log a note, call, email or meeting.

    With --follow-up, also set a reminder, in the same step.
    """
    from tinycrm.services.interactions import log_interaction

    body = _body(text)
    ctx = get_ctx()
    happened = when(ctx, when_, past=True) if when_ else None
    due = when(ctx, follow_up) if follow_up else None
    logged = log_interaction(
        ctx,
        ref,
        body,
        kind=kind,
        when=happened,
        follow_up=due,
        create_contact=create,
        future=future,
    )
    if json_:
        output.emit_json(logged)
        return
    msg = f"Logged {logged.kind} #{logged.id} for {logged.label}"
    if logged.follow_up_at is not None:
        msg += f"; follow-up #{logged.follow_up_id} " + output.due(
            logged.follow_up_at, ctx.now, ctx.tz
        )
    output.say(msg)


def _body(text: str | None) -> str:
    if text is None or text == "-":
        if sys.stdin.isatty():
            raise InvalidInput("give the note text as an argument, or pipe it in")
        text = sys.stdin.read()
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as e:  # undecodable bytes come in as surrogates
            line = text.count("\n", 0, e.start) + 1
            raise InvalidInput(f"the note text on stdin is not valid UTF-8 (line {line})") from None
    return text


def remind(
    ref: Annotated[
        str, typer.Argument(help="Who or what it's about (as for note); '-' for nobody.")
    ],
    due: Annotated[str, typer.Argument(help="When: tomorrow 9am, 3d, next friday, 2026-12-01...")],
    text: Annotated[str, typer.Argument(help="What to do.")],
    every: Annotated[
        str | None,
        typer.Option(
            "--every", "-e", help="Repeat: daily, weekly, 2w, monthly, 'every monday', RRULE..."
        ),
    ] = None,
    from_done: Annotated[
        bool, typer.Option("--from-done", help="Schedule the next one from when this one is done.")
    ] = False,
    json_: JsonOpt = False,
) -> None:
    """Set a reminder (optionally recurring)."""
    from tinycrm.services.reminders import add_reminder

    ctx = get_ctx()
    at = when(ctx, due)
    about_ref = None if ref.strip() in ("-", "") else ref
    r = add_reminder(ctx, about_ref, at, text, every=every, from_done=from_done)
    if json_:
        output.emit_json(r)
        return
    about = f" about {r.target}" if r.target else ""
    repeat = f", repeats {r.recurrence}" if r.recurrence else ""
    output.say(f"Reminder #{r.id}{about}: {output.due(r.due_at, ctx.now, ctx.tz)}{repeat}")


def todo(
    all_: Annotated[
        bool, typer.Option("--all", "-a", help="Every open reminder, not just due ones.")
    ] = False,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only what is overdue.")] = False,
    days: Annotated[
        int,
        typer.Option(
            "--days", "-d", min=0, max=36_500, help="Also what is due in the next N days."
        ),
    ] = 0,
    mine: Annotated[bool, typer.Option("--mine", help="Only my reminders.")] = False,
    owner: Annotated[
        str | None, typer.Option("--owner", help="Only this user's reminders.")
    ] = None,
    limit: ScreenfulOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Show what is due: overdue and today's reminders.

    --days N looks further ahead; --all lists every open reminder.
    """
    from tinycrm.services.reminders import count_reminders, list_reminders

    ctx = get_ctx()
    until = None if all_ else _end_of_day(ctx, days)
    filters: dict[str, Any] = {"overdue_only": overdue, "until": until, "mine": mine}
    if owner is not None:
        from tinycrm.cli.common import owner_name
        from tinycrm.services.users import user_id

        filters["owner_id"] = user_id(ctx.db, owner_name(ctx, owner, mine) or owner)
    shown = limit if json_ else output.screen_limit(limit)
    rows = list_reminders(ctx, **filters, limit=shown)
    if json_:
        output.emit_json(rows)
        return
    render_reminders(
        ctx, rows, empty="nothing due — add one: tinycrm remind REF tomorrow 'call back'"
    )
    if shown is not None and len(rows) == shown:
        total = count_reminders(ctx, **filters)
        output.more_rows(shown, total, "raise --limit, or pipe it: tinycrm todo | less")


def render_reminders(ctx: Ctx, rows: list, *, empty: str) -> None:  # type: ignore[type-arg]
    from tinycrm.dates import format_relative

    output.table(
        ["id", "due", "about", "what", "repeats"],
        [
            [
                r.id,
                format_relative(r.due_at, now=ctx.now, tz=ctx.tz),
                r.target or "",
                r.text,
                r.recurrence or "",
            ]
            for r in rows
        ],
        styles=["red" if r.overdue else None for r in rows],
        empty=empty,
    )


def _end_of_day(ctx: Ctx, days: int) -> datetime:
    local = ctx.now.astimezone(ctx.tz)
    end = (local + timedelta(days=days)).replace(hour=23, minute=59, second=59, microsecond=0)
    return end


def done(
    ids: Annotated[list[str], typer.Argument(help="Reminder id(s), as shown by todo.")],
    json_: JsonOpt = False,
) -> None:
    """Mark reminders done.

    A recurring reminder schedules its next occurrence.
    """
    from tinycrm.services.reminders import complete_all

    ctx = get_ctx()
    numbers = [parse_id(i, "reminder id") for i in ids]
    results = complete_all(ctx, numbers)  # all or nothing
    if json_:
        output.emit_json(results if len(results) > 1 else results[0])
        return
    for res in results:
        msg = f"Done #{res.done.id} {res.done.text}"
        if res.next is not None:
            msg += f"; next #{res.next.id} {output.due(res.next.due_at, ctx.now, ctx.tz)}"
        output.say(msg)


def snooze(
    reminder_id: Annotated[str, typer.Argument(help="Reminder id.")],
    until: Annotated[
        str | None,
        typer.Argument(
            help="Until when: 2h or 2d (from when it is due), tomorrow, monday 9am..."
            " Default: the morning after it is due (tomorrow's if overdue)."
        ),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Push a reminder later.

    By an offset (2h, 2d: from when it is due), to a time (monday 9am), or by default to
    the next morning.
    """
    from tinycrm.services.reminders import snooze as snooze_reminder

    ctx = get_ctx()
    r = snooze_reminder(ctx, parse_id(reminder_id, "reminder id"), until)
    if json_:
        output.emit_json(r)
        return
    output.say(f"Snoozed #{r.id} to {output.due(r.due_at, ctx.now, ctx.tz)}")
