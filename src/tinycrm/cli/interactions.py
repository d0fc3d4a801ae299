"""`tinycrm interaction edit|rm`: correcting a logged note, call, email or meeting.
Light at import: services are imported inside the commands."""

from __future__ import annotations

from typing import Annotated

import typer

from tinycrm.cli import output
from tinycrm.cli.common import IfVersionOpt, JsonOpt, YesOpt, confirm, get_ctx, parse_id, when

interaction_app = typer.Typer(
    help="Correct or delete a logged note, call, email or meeting.", no_args_is_help=True
)

IdArg = Annotated[str, typer.Argument(help="Interaction id (12 or #12), as contact show lists it.")]


@interaction_app.command("edit")
def interaction_edit(
    ident: IdArg,
    text: Annotated[str | None, typer.Option("--text", "-t", help="The corrected text.")] = None,
    kind: Annotated[
        str | None, typer.Option("--kind", "-k", help="note, call, email or meeting.")
    ] = None,
    when_: Annotated[
        str | None, typer.Option("--when", "-w", help="When it happened, e.g. 'yesterday 3pm'.")
    ] = None,
    deal: Annotated[
        str | None, typer.Option("--deal", help="Put it on this deal (id), with its contact.")
    ] = None,
    no_deal: Annotated[bool, typer.Option("--no-deal", help="Take it off its deal.")] = False,
    if_version: IfVersionOpt = None,
    future: Annotated[
        bool, typer.Option("--future", help="Allow a --when after now (normally refused).")
    ] = False,
    json_: JsonOpt = False,
) -> None:
    """Correct a note, call, email or meeting: text, kind, time or deal.

    Last touch, stay-in-touch and rot clocks and the search index follow, as if it had
    been logged this way.
    """
    from tinycrm.services.interactions import edit_interaction

    ctx = get_ctx()
    number = parse_id(ident, "interaction id")
    deal_id = parse_id(deal.removeprefix("deal:"), "--deal") if deal is not None else None
    v = edit_interaction(
        ctx,
        number,
        text=text,
        kind=kind,
        when=when(ctx, when_, past=True) if when_ else None,
        deal_id=deal_id,
        no_deal=no_deal,
        expected_version=if_version,
        future=future,
    )
    if json_:
        output.emit_json(v)
        return
    who = v.contact or v.company or ""
    output.say(f"Updated {v.kind} #{v.id} for {who} ({output.local(v.happened_at, ctx.tz)})")


@interaction_app.command("rm")
def interaction_rm(
    ident: IdArg, yes: YesOpt = False, if_version: IfVersionOpt = None, json_: JsonOpt = False
) -> None:
    """Delete a note, call, email or meeting.

    The clocks it moved are recomputed.
    """
    from tinycrm.services.interactions import delete_interaction, get_interaction

    ctx = get_ctx()
    number = parse_id(ident, "interaction id")
    v = get_interaction(ctx.db, number)
    who = v.contact or v.company or "nobody"
    on_deal = f" (on deal #{v.deal_id} {v.deal})" if v.deal_id else ""
    confirm(
        f"Delete {v.kind} #{v.id} with {who} of {output.local(v.happened_at, ctx.tz)}{on_deal}:"
        f" {v.body.splitlines()[0][:60]!r}?",
        yes,
    )
    gone = delete_interaction(ctx, number, expected_version=if_version)
    if json_:
        output.emit_json({"deleted": {"kind": "interaction", "id": gone.id}, "was": gone})
    else:
        output.say(f"Deleted {gone.kind} #{gone.id} with {who}")
