"""`tinycrm reminder edit|rm`: correcting a reminder. Light at import: services are
imported inside the commands."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tinycrm.cli import output
from tinycrm.cli.common import (
    IfVersionOpt,
    JsonOpt,
    YesOpt,
    confirm,
    get_ctx,
    parse_id,
    resolve,
    when,
)

reminder_app = typer.Typer(help="Correct or delete a reminder.", no_args_is_help=True)

IdArg = Annotated[str, typer.Argument(help="Reminder id (12 or #12), as todo lists it.")]


@reminder_app.command("edit")
def reminder_edit(
    ident: IdArg,
    due: Annotated[
        str | None, typer.Option("--due", "-d", help="When it is due, e.g. 'friday 3pm'.")
    ] = None,
    text: Annotated[str | None, typer.Option("--text", "-t", help="What to do.")] = None,
    every: Annotated[
        str | None, typer.Option("--every", "-e", help="Repeat: daily, weekly, 2w, RRULE...")
    ] = None,
    no_repeat: Annotated[bool, typer.Option("--no-repeat", help="Stop repeating.")] = False,
    from_done: Annotated[
        bool, typer.Option("--from-done", help="Count the next one from when this is done.")
    ] = False,
    about: Annotated[
        str | None,
        typer.Option("--about", help="Contact, company:X or deal:N it is about; '-' for nobody."),
    ] = None,
    if_version: IfVersionOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Change a reminder's due time, text, repeat or what it is about."""
    from tinycrm.refs import KINDS
    from tinycrm.services.reminders import edit_reminder

    ctx = get_ctx()
    number = parse_id(ident, "reminder id")
    extra: dict[str, Any] = {}
    if about is not None:
        extra["about"] = None if about.strip() in ("-", "") else resolve(ctx, about, KINDS)
    r = edit_reminder(
        ctx,
        number,
        due=when(ctx, due) if due else None,
        text=text,
        every=every,
        no_repeat=no_repeat,
        from_done=from_done,
        expected_version=if_version,
        **extra,
    )
    if json_:
        output.emit_json(r)
        return
    about_text = f" about {r.target}" if r.target else ""
    repeat = f", repeats {r.recurrence}" if r.recurrence else ""
    output.say(
        f"Updated reminder #{r.id}{about_text}: {output.due(r.due_at, ctx.now, ctx.tz)}{repeat}"
    )


@reminder_app.command("rm")
def reminder_rm(
    ident: IdArg,
    series: Annotated[
        bool, typer.Option("--series", help="A repeating one: end the whole series.")
    ] = False,
    yes: YesOpt = False,
    if_version: IfVersionOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Delete a reminder (--series: a whole repeating one).

    Of a repeating reminder, this occurrence goes and the next is scheduled; with --series,
    the whole series.
    """
    from tinycrm.services.reminders import delete_reminder, get_reminder_or_unknown, next_due

    ctx = get_ctx()
    number = parse_id(ident, "reminder id")
    r = get_reminder_or_unknown(ctx, number)
    what = f"reminder #{r.id} {r.text!r}" + (f" about {r.target}" if r.target else "")
    if r.recurrence and r.done_at is None:
        if series:
            what += f", the whole series ({r.recurrence}): no more occurrences"
        else:
            nxt = next_due(ctx, r)
            later = ""
            if nxt is not None:
                later = f"; the next one is scheduled, {output.due(nxt, ctx.now, ctx.tz)}"
            what += f", this occurrence only ({r.recurrence}{later}; --series ends them all)"
    confirm(f"Delete {what}?", yes)
    res = delete_reminder(ctx, number, series=series, expected_version=if_version)
    if json_:
        output.emit_json(
            {"deleted": {"kind": "reminder", "id": r.id}, "was": res.removed, "next": res.next}
        )
        return
    msg = f"Deleted reminder #{r.id} {r.text}"
    if res.next is not None:
        msg += f"; next #{res.next.id} {output.due(res.next.due_at, ctx.now, ctx.tz)}"
    elif series:
        msg += " and its series"
    output.say(msg)
