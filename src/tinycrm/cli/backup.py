"""`tinycrm backup` and `tinycrm restore` (the work is in tinycrm.io.backup)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tinycrm.cli import output
from tinycrm.cli.common import JsonOpt
from tinycrm.cli.state import state
from tinycrm.errors import InvalidInput

if TYPE_CHECKING:
    from tinycrm.startup import Location

ForceOpt = Annotated[bool, typer.Option("--force", help="Overwrite an existing FILE.")]


def _location() -> Location:
    from tinycrm.startup import locate_store

    return locate_store(state.db_option)


def _counts(view: Any) -> str:
    """`1 contact, 0 interactions, 2 deals, 1 purchase`: what a backup holds."""
    from tinycrm.text import plural

    return (
        f"{plural(view.contacts, 'contact')}, {plural(view.interactions, 'interaction')},"
        f" {plural(view.deals, 'deal')}, {plural(view.purchases, 'purchase')}"
    )


def _size(n: int) -> str:
    value = float(n)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{n} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} bytes"


def backup(
    file: Annotated[
        Path | None,
        typer.Argument(
            help="Where to write it (default: backups/tinycrm-YYYYMMDD-HHMMSS.db beside the"
            " store).",
            metavar="[FILE]",
            show_default=False,
        ),
    ] = None,
    force: ForceOpt = False,
    json_: JsonOpt = False,
) -> None:
    """Copy the whole store to a checked file.

    Safe while others keep working.
    """
    from tinycrm.io.backup import backup as make_backup

    location = _location()
    view = make_backup(location, file, force=force)
    if json_:
        output.emit_json(view)
        return
    output.say(
        f"Backed up {view.store} to {view.file} ({_size(view.bytes)}; {_counts(view)};"
        f" schema {view.revision})"
    )


def restore(
    file: Annotated[
        Path, typer.Argument(help="A backup made by `tinycrm backup`.", metavar="FILE")
    ],
    force: Annotated[
        bool, typer.Option("--force", help="Replace a store that has data without asking.")
    ] = False,
    json_: JsonOpt = False,
) -> None:
    """Replace the store with a checked backup.

    The store as it was is backed up first.
    """
    from tinycrm.io.backup import prepare_restore
    from tinycrm.io.backup import restore as do_restore

    location = _location()
    prepared = prepare_restore(location, file)
    try:
        if prepared.has_data() and not force:
            question = f"{prepared.describe_current()}; replace it with {file}?"
            if not (sys.stdin.isatty() and sys.stdout.isatty()):
                raise InvalidInput(f"{prepared.describe_current()}; pass --force to replace it")
            if not typer.confirm(question, default=False):
                raise typer.Exit(1)
        view = do_restore(prepared)
    finally:
        prepared.discard()
    if json_:
        output.emit_json(view)
        return
    if view.safety_backup:
        output.say(f"The store as it was is in {view.safety_backup}")
    output.say(f"Restored {view.store} from {view.file} ({_counts(view)})")
    if view.upgrade_pending:
        from tinycrm.startup import schema_head

        output.say(
            f"It has schema {view.revision}; it is upgraded to {schema_head()} (after another"
            " backup) on next use"
        )
