"""`tinycrm undo` and `tinycrm redo`: take back any change (services/undo)."""

from __future__ import annotations

from typing import Annotated

import typer

from tinycrm.cli import output
from tinycrm.cli.common import LIMIT_MAX, JsonOpt, get_ctx, parse_id


def undo(
    change: Annotated[
        str | None,
        typer.Argument(
            help="The change to take back (its number in undo --list); default: your last."
        ),
    ] = None,
    list_: Annotated[
        bool, typer.Option("--list", "-l", help="Show the last changes that can be undone.")
    ] = False,
    all_: Annotated[
        bool, typer.Option("--all", "-a", help="With --list: everyone's changes, not just yours.")
    ] = False,
    limit: Annotated[
        int,
        typer.Option("--limit", "-n", min=1, max=LIMIT_MAX, help="With --list: at most this many."),
    ] = 20,
    json_: JsonOpt = False,
) -> None:
    """Take back your last change (or change N); redo puts it back.

    Whatever made it. Refused, with nothing changed, when a later change touched the same
    records.
    """
    from tinycrm.errors import InvalidInput
    from tinycrm.services import undo as service

    ctx = get_ctx()
    if list_:
        if change is not None:
            raise InvalidInput("give a change number or --list, not both")
        changes = service.undoable(ctx, everyone=all_, limit=limit)
        if json_:
            output.emit_json(changes)
            return
        output.table(
            ["change", "when", "by", "what"],
            [[str(c.id), output.local(c.at, ctx.tz), c.user or "", c.summary] for c in changes],
            empty="nothing to undo",
        )
        return
    if all_:
        raise InvalidInput("--all goes with --list")
    done = service.undo(ctx, None if change is None else parse_id(change, "change"))
    _report(done, json_)


def redo(json_: JsonOpt = False) -> None:
    """Take back your last undo: the change it undid is made again."""
    from tinycrm.services import undo as service

    _report(service.redo(get_ctx()), json_)


def _report(done: object, json_: bool) -> None:
    from tinycrm.services.undo import Undone

    assert isinstance(done, Undone)
    if json_:
        output.emit_json(done)
        return
    verb = "Undid" if done.action == "undo" else "Redid"
    output.say(
        f"{verb} change {done.change.id}: {'; '.join(done.change.what) or done.change.summary}"
    )
