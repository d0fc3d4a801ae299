"""`tinycrm field ...`: custom fields of contacts, companies and deals; and how the other
commands take (`--set`, `--unset`) and show their values."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from tinycrm.cli import output
from tinycrm.cli.common import JsonOpt, YesOpt, confirm, get_ctx
from tinycrm.text import plural

if TYPE_CHECKING:
    from tinycrm.services.fields import FieldDef, FieldValue

field_app = typer.Typer(
    help="Your own fields on contacts, companies and deals.", no_args_is_help=True
)

EntityArg = Annotated[str, typer.Argument(help="contact, company or deal.")]
NameArg = Annotated[str, typer.Argument(help="The field's name, e.g. industry.")]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="Set a custom field: NAME=VALUE (repeatable)."),
]
UnsetOpt = Annotated[
    list[str] | None, typer.Option("--unset", help="Clear a custom field (repeatable).")
]


def assignments(items: list[str] | None) -> dict[str, str] | None:
    """The `--set NAME=VALUE` options as {name: value} (None when there are none)."""
    if not items:
        return None
    from tinycrm.services.fields import assignments as parse

    return parse(items)


def shown(v: FieldValue) -> str:
    """A custom field's value for people: money with its currency, numbers grouped."""
    from datetime import date
    from decimal import Decimal

    from tinycrm.money import Money, display_money

    value = v.value
    if isinstance(value, Money):
        return display_money(value.cents, value.currency)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return f"{value:,f}"
    if isinstance(value, date):
        return value.isoformat()
    return value


def pairs(values: list[FieldValue] | None) -> list[tuple[str, str]]:
    """(name, shown value) of each custom field, for a `show` block."""
    return [(v.name, shown(v)) for v in values or []]


def _describe(f: FieldDef) -> str:
    kind = f"choice of {', '.join(f.choices)}" if f.type == "choice" else f.type
    return kind + (", required" if f.required else "")


@field_app.command("add")
def field_add(
    entity: EntityArg,
    name: NameArg,
    type_: Annotated[
        str,
        typer.Option("--type", "-t", help="text, number, money, date, choice or bool."),
    ] = "text",
    choices: Annotated[
        str | None, typer.Option("--choices", help="A choice field's values: a,b,c (in order).")
    ] = None,
    required: Annotated[
        bool, typer.Option("--required", help="Every new record must have it.")
    ] = False,
    json_: JsonOpt = False,
) -> None:
    """Add a field to contacts, companies or deals."""
    from tinycrm.services import fields

    made = fields.add_field(get_ctx(), entity, name, type_, choices=choices, required=required)
    if json_:
        output.emit_json(made)
        return
    output.say(f"Added {made.entity} field {made.name} ({_describe(made)})")


@field_app.command("list")
def field_list(
    entity: Annotated[
        str | None, typer.Argument(help="Only contact, company or deal fields.")
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """The custom fields, with how many records have a value."""
    from tinycrm.services import fields

    found = fields.list_fields(get_ctx().db, entity)
    if json_:
        output.emit_json(found)
        return
    output.table(
        ["of", "field", "type", "choices", "required", "values"],
        [
            [
                f.entity,
                f.name,
                f.type,
                ", ".join(f.choices),
                "yes" if f.required else "",
                f"{f.values:,}",
            ]
            for f in found
        ],
        empty="no custom fields yet: tinycrm field add contact|company|deal NAME --type ...",
    )


@field_app.command("edit")
def field_edit(
    entity: EntityArg,
    name: NameArg,
    new_name: Annotated[str | None, typer.Option("--name", help="A new name.")] = None,
    choices: Annotated[
        str | None,
        typer.Option("--choices", help="A choice field's new values: a,b,c (those in use stay)."),
    ] = None,
    required: Annotated[
        bool | None,
        typer.Option("--required/--optional", help="Whether every new record must have it."),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Rename a field, change its choices or whether it is required."""
    from tinycrm.services import fields

    done = fields.edit_field(
        get_ctx(), entity, name, new_name=new_name, choices=choices, required=required
    )
    if json_:
        output.emit_json(done)
        return
    output.say(f"Changed {done.entity} field {done.name} ({_describe(done)})")


@field_app.command("rm")
def field_rm(entity: EntityArg, name: NameArg, yes: YesOpt = False, json_: JsonOpt = False) -> None:
    """Remove a field with its values (undo brings them back)."""
    from tinycrm.services import fields

    ctx = get_ctx()
    f = fields.field_usage(ctx.db, entity, name)
    held = f" and its values on {plural(f.values, f.entity)}" if f.values else ""
    confirm(f"Remove the {f.entity} field {f.name}{held}?", yes)
    gone = fields.remove_field(ctx, entity, name)
    if json_:
        output.emit_json(gone)
        return
    values = f" and {plural(gone.values, 'value')}" if gone.values else ""
    output.say(f"Removed {gone.entity} field {gone.name}{values} (tinycrm undo brings it back)")
