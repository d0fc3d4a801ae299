"""`tinycrm export ...`: contacts, interactions, deals, purchases, one person, a calendar."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from tinycrm.cli import output
from tinycrm.cli.common import RefArg, get_ctx, resolve
from tinycrm.cli.followups import TeamOpt, UserOpt, _scope
from tinycrm.errors import InvalidInput

export_app = typer.Typer(help="Write data out to files and other tools.", no_args_is_help=True)

OutputOpt = Annotated[
    str | None,
    typer.Option("--output", "-o", help="File to write (default: standard output)."),
]
ForceOpt = Annotated[bool, typer.Option("--force", help="Overwrite an existing --output file.")]
_FORMAT_HELP = "csv or json"


def _format(text: str, allowed: tuple[str, ...]) -> str:
    fmt = text.strip().lower()
    if fmt in ("vcf", "vcard"):
        fmt = "vcard"
    if fmt not in allowed:
        raise InvalidInput(f"--format must be one of {', '.join(allowed)}: {text!r}")
    return fmt


def _export(kind: str, fmt: str, out: str | None, force: bool) -> None:
    from tinycrm.io.exports import output_file, write_records
    from tinycrm.services import exports

    ctx = get_ctx()
    records: Iterator[Any]
    if kind == "contacts":
        records, headers = exports.iter_contacts(ctx.db), exports.CONTACT_FIELDS
    elif kind == "interactions":
        records, headers = exports.iter_interactions(ctx.db), exports.INTERACTION_FIELDS
    elif kind == "deals":
        records, headers = exports.iter_deals(ctx.db), exports.DEAL_FIELDS
    else:
        records, headers = exports.iter_purchases(ctx.db), exports.PURCHASE_FIELDS
    with output_file(out, force=force) as f:
        n = write_records(f, fmt, headers, records)
    if out not in (None, "-"):
        noun = kind if n != 1 else kind[:-1]
        output.say(f"Wrote {n:,} {noun} to {out}")


@export_app.command("contacts")
def export_contacts(
    fmt: Annotated[str, typer.Option("--format", "-f", help="csv, vcard or json.")] = "csv",
    out: OutputOpt = None,
    force: ForceOpt = False,
) -> None:
    """Every contact: CSV, vCard 3.0 or JSON."""
    _export("contacts", _format(fmt, ("csv", "vcard", "json")), out, force)


@export_app.command("interactions")
def export_interactions(
    fmt: Annotated[str, typer.Option("--format", "-f", help=_FORMAT_HELP)] = "csv",
    out: OutputOpt = None,
    force: ForceOpt = False,
) -> None:
    """Every note, call, email and meeting: when, with whom, what."""
    _export("interactions", _format(fmt, ("csv", "json")), out, force)


@export_app.command("deals")
def export_deals(
    fmt: Annotated[str, typer.Option("--format", "-f", help=_FORMAT_HELP)] = "csv",
    out: OutputOpt = None,
    force: ForceOpt = False,
) -> None:
    """Every deal: contact, stage, status and value."""
    _export("deals", _format(fmt, ("csv", "json")), out, force)


@export_app.command("purchases")
def export_purchases(
    fmt: Annotated[str, typer.Option("--format", "-f", help=_FORMAT_HELP)] = "csv",
    out: OutputOpt = None,
    force: ForceOpt = False,
) -> None:
    """Every purchase, as `tinycrm import purchases` reads it."""
    _export("purchases", _format(fmt, ("csv", "json")), out, force)


@export_app.command("person")
def export_person(ref: RefArg, out: OutputOpt = None, force: ForceOpt = False) -> None:
    """Everything stored about one person, as JSON (GDPR access)."""
    import json

    from tinycrm.io.exports import jsonable, output_file
    from tinycrm.services import exports

    ctx = get_ctx()
    target = resolve(ctx, ref)
    data = exports.person(ctx.db, target.id, ctx.now)
    with output_file(out, force=force) as f:
        f.write(json.dumps(jsonable(data), ensure_ascii=False, indent=2) + "\n")
    if out not in (None, "-"):
        output.say(f"Wrote everything about #{target.id} {target.label} to {out}")


@export_app.command("ics")
def export_ics(
    user: UserOpt = None,
    team: TeamOpt = False,
    out: Annotated[
        str, typer.Option("--output", "-o", help="File to write ('-' for standard output).")
    ] = "-",
    todo: Annotated[
        bool, typer.Option("--todo", help="Tasks (VTODO) instead of events with alarms.")
    ] = False,
) -> None:
    """Open reminders as an iCalendar file (replaces the file)."""
    from tinycrm.io.ics import reminders_ics

    ctx = get_ctx()
    scope = _scope(ctx, user, team)
    data, n = reminders_ics(ctx, scope, as_todo=todo)
    if out == "-":
        sys.stdout.flush()
        binary = getattr(sys.stdout, "buffer", None)
        if binary is not None:  # the CRLF line ends of RFC 5545, untouched
            binary.write(data)
            binary.flush()
        else:
            sys.stdout.write(data.decode())
        return
    path = Path(out).expanduser()
    tmp = path.with_name(path.name + ".part")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)  # never a half-written calendar
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise InvalidInput(f"can't write {path}: {e.strerror}") from None
    output.say(f"Wrote {n} reminder{'s' if n != 1 else ''} to {path}")
