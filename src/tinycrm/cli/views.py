"""`tinycrm view ...`: saved views (a filter with its sort and columns, under a name)."""

from __future__ import annotations

from typing import Annotated

import typer

from tinycrm.cli import output
from tinycrm.cli.common import JsonOpt, get_ctx

view_app = typer.Typer(
    help="Save filters as named views, shared through the store.", no_args_is_help=True
)

NameArg = Annotated[str, typer.Argument(help="The view's name (case is ignored).")]
OfOpt = Annotated[
    str, typer.Option("--of", help="What the view lists: contacts, deals or companies.")
]


@view_app.command("save")
def view_save(
    name: NameArg,
    where: Annotated[
        str,
        typer.Option(
            "--where", "-w", help="The filter, e.g. 'tag:vip and owner:me' (docs/cli.md#filters)."
        ),
    ],
    of: OfOpt = "contacts",
    sort: Annotated[
        str | None, typer.Option("--sort", help="How the list is sorted (as its --sort).")
    ] = None,
    columns: Annotated[
        str | None, typer.Option("--columns", help="Table columns, comma-separated.")
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Save a filter with its sort and columns as a named view."""
    from tinycrm.services import views

    ctx = get_ctx()
    saved = views.save_view(ctx, name, entity=of, where=where, sort=sort, columns=columns)
    if json_:
        output.emit_json(saved.view)
        return
    v = saved.view
    command = {"contacts": "contact", "deals": "deal", "companies": "company"}[v.entity]
    output.say(
        f"{'Replaced' if saved.replaced else 'Saved'} view {v.name!r} of {v.entity}:"
        f" tinycrm {command} list --view {_quoted(v.name)}"
    )


def _quoted(name: str) -> str:
    import shlex

    return shlex.quote(name)


@view_app.command("list")
def view_list(
    of: Annotated[
        str | None, typer.Option("--of", help="Only views of contacts, deals or companies.")
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """The saved views, by name."""
    from tinycrm.services import views

    ctx = get_ctx()
    rows = views.list_views(ctx.db, of)
    if json_:
        output.emit_json(rows)
        return
    output.table(
        ["name", "of", "filter", "sort", "columns", "saved by"],
        [
            [v.name, v.entity, v.filter, v.sort or "", ",".join(v.columns or ()), v.saved_by]
            for v in rows
        ],
        empty="no views yet: tinycrm view save vip --where 'tag:vip'",
    )


@view_app.command("rm")
def view_rm(name: NameArg, json_: JsonOpt = False) -> None:
    """Delete a saved view (tinycrm undo brings it back)."""
    from tinycrm.services import views

    ctx = get_ctx()
    gone = views.remove_view(ctx, name)
    if json_:
        output.emit_json(gone)
    else:
        output.say(f"Deleted view {gone.name!r}")
