"""`tinycrm export ...`: contacts, interactions, deals, purchases, one person, a calendar."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tinycrm.cli import output
from tinycrm.cli.common import RefArg, get_ctx, json_or_format, resolve
from tinycrm.cli.followups import TeamOpt, UserOpt, _scope
from tinycrm.errors import InvalidInput

if TYPE_CHECKING:
    from tinycrm.io.outputs import Output

export_app = typer.Typer(help="Write data out to files and other tools.", no_args_is_help=True)

OutputOpt = Annotated[
    str | None,
    typer.Option("--output", "-o", help="File to write (default: standard output)."),
]
ForceOpt = Annotated[bool, typer.Option("--force", help="Overwrite an existing --output file.")]
_FORMAT_HELP = "csv or json"
JsonFormatOpt = Annotated[bool, typer.Option("--json", help="The same as --format json.")]


def _format(text: str, allowed: tuple[str, ...]) -> str:
    fmt = text.strip().lower()
    if fmt in ("vcf", "vcard"):
        fmt = "vcard"
    if fmt not in allowed:
        raise InvalidInput(f"--format must be one of {', '.join(allowed)}: {text!r}")
    return fmt


def _output(out: str | None, force: bool) -> Output:
    """Where `--output` goes, checked against the store (io.outputs)."""
    from tinycrm.io import outputs

    return outputs.target(out, store=get_ctx().db.location.path, force=force)


def _export(kind: str, fmt: str, out: str | None, force: bool) -> None:
    from tinycrm.io.exports import write_records
    from tinycrm.io.outputs import opened
    from tinycrm.services import exports

    ctx = get_ctx()
    target = _output(out, force)
    records: Iterator[Any]
    headers = exports.headers(ctx.db, kind)
    if kind == "contacts":
        records = exports.iter_contacts(ctx.db)
    elif kind == "interactions":
        records = exports.iter_interactions(ctx.db)
    elif kind == "deals":
        records = exports.iter_deals(ctx.db)
    else:
        records = exports.iter_purchases(ctx.db)
    with opened(target) as f:
        n = write_records(f, fmt, headers, records)
    if target.path is not None:
        noun = kind if n != 1 else kind[:-1]
        output.say(f"Wrote {n:,} {noun} to {out}")


@export_app.command("contacts")
def export_contacts(
    fmt: Annotated[str, typer.Option("--format", "-f", help="csv, vcard or json.")] = "csv",
    out: OutputOpt = None,
    force: ForceOpt = False,
    json_: JsonFormatOpt = False,
) -> None:
    """Every contact: CSV, vCard 3.0 or JSON."""
    _export(
        "contacts", _format(json_or_format(fmt, json_, "csv"), ("csv", "vcard", "json")), out, force
    )


@export_app.command("interactions")
def export_interactions(
    fmt: Annotated[str, typer.Option("--format", "-f", help=_FORMAT_HELP)] = "csv",
    out: OutputOpt = None,
    force: ForceOpt = False,
    json_: JsonFormatOpt = False,
) -> None:
    """Every note, call, email and meeting: when, with whom, what."""
    _export("interactions", _format(json_or_format(fmt, json_, "csv"), ("csv", "json")), out, force)


@export_app.command("deals")
def export_deals(
    fmt: Annotated[str, typer.Option("--format", "-f", help=_FORMAT_HELP)] = "csv",
    out: OutputOpt = None,
    force: ForceOpt = False,
    json_: JsonFormatOpt = False,
) -> None:
    """Every deal: contact, stage, status and value."""
    _export("deals", _format(json_or_format(fmt, json_, "csv"), ("csv", "json")), out, force)


@export_app.command("purchases")
def export_purchases(
    fmt: Annotated[str, typer.Option("--format", "-f", help=_FORMAT_HELP)] = "csv",
    out: OutputOpt = None,
    force: ForceOpt = False,
    json_: JsonFormatOpt = False,
) -> None:
    """Every purchase, as `tinycrm import purchases` reads it."""
    _export("purchases", _format(json_or_format(fmt, json_, "csv"), ("csv", "json")), out, force)


@export_app.command("person")
def export_person(ref: RefArg, out: OutputOpt = None, force: ForceOpt = False) -> None:
    """Everything stored about one person, as JSON (GDPR access)."""
    import json

    from tinycrm.io.exports import jsonable
    from tinycrm.io.outputs import write_text
    from tinycrm.services import exports

    ctx = get_ctx()
    target = resolve(ctx, ref)
    where = _output(out, force)
    data = exports.person(ctx.db, target.id, ctx.now)
    write_text(where, json.dumps(jsonable(data), ensure_ascii=False, indent=2) + "\n")
    if where.path is not None:
        output.say(f"Wrote everything about #{target.id} {target.label} to {out}")


@export_app.command("ics")
def export_ics(
    user: UserOpt = None,
    team: TeamOpt = False,
    out: Annotated[
        str, typer.Option("--output", "-o", help="File to write ('-' for standard output).")
    ] = "-",
    force: ForceOpt = False,
    todo: Annotated[
        bool, typer.Option("--todo", help="Tasks (VTODO) instead of events with alarms.")
    ] = False,
) -> None:
    """Open reminders as an iCalendar file."""
    from tinycrm.io.ics import reminders_ics
    from tinycrm.io.outputs import write_bytes

    ctx = get_ctx()
    ctx, scope = _scope(ctx, user, team)
    where = _output(out, force)
    data, n = reminders_ics(ctx, scope, as_todo=todo)
    write_bytes(where, data)  # the CRLF line ends of RFC 5545, untouched
    if where.path is not None:
        output.say(f"Wrote {n} reminder{'s' if n != 1 else ''} to {out}")
