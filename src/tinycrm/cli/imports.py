"""`tinycrm import purchases FILE.csv`: bring in what a shop or an ERP exported."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated

import typer

from tinycrm.cli import output
from tinycrm.cli.common import JsonOpt, get_ctx
from tinycrm.errors import InvalidInput

if TYPE_CHECKING:
    from tinycrm.services.imports import ImportSummary, Progress, RowError

import_app = typer.Typer(help="Import records from CSV files.", no_args_is_help=True)

_DELIMITER_NAMES = {"tab": "\t", "\\t": "\t", "semicolon": ";", "comma": ",", "pipe": "|"}
_STAGES = {"read": "Reading", "check": "Checking", "save": "Saving"}
_SHOWN_PROBLEMS = 3


@import_app.command("purchases")
def import_purchases(
    file: Annotated[
        str,
        typer.Argument(help="Columns contact, date, amount[, currency, note]."),
    ],
    create_missing: Annotated[
        bool, typer.Option("--create-missing", help="Create contacts that match nobody.")
    ] = False,
    skip_bad: Annotated[
        bool,
        typer.Option("--skip-bad", help="Import the good rows; write the bad ones to --rejects."),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check everything and report; write nothing.")
    ] = False,
    allow_duplicates: Annotated[
        bool,
        typer.Option("--allow-duplicates", help="Also import rows identical to a stored purchase."),
    ] = False,
    map_: Annotated[
        list[str] | None,
        typer.Option(
            "--map", help="Name the columns: Kunde=contact,Datum=date,Betrag=amount (repeatable)."
        ),
    ] = None,
    delimiter: Annotated[
        str | None, typer.Option("--delimiter", help="';', ',', '|' or 'tab' (default: detected).")
    ] = None,
    decimal: Annotated[
        str | None, typer.Option("--decimal", help="Decimal mark, '.' or ',' (default: detected).")
    ] = None,
    date_format: Annotated[
        str | None,
        typer.Option(
            "--date-format", help="dd.mm.yyyy, dd/mm/yyyy, mm/dd/yyyy, ... (default: detected)."
        ),
    ] = None,
    encoding: Annotated[
        str | None,
        typer.Option(
            "--encoding", help="e.g. utf-8, cp1252, latin-1 (default: UTF-8, else cp1252)."
        ),
    ] = None,
    rejects: Annotated[
        str | None,
        typer.Option(
            "--rejects", help="Where --skip-bad puts bad rows (default FILE.rejects.csv)."
        ),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Import purchases from a CSV file, all rows or none.

    Contacts are matched by id, email or whole name (never a guess). Rows identical to a
    stored purchase are skipped. Delimiter, encoding, decimal mark and date format are
    detected; the summary says what was found.
    """
    from pathlib import Path

    from tinycrm.io import csv_import, purchase_csv
    from tinycrm.services import imports

    path = Path(file)
    if rejects and not skip_bad:
        raise InvalidInput("--rejects goes with --skip-bad")
    rejects_path = Path(rejects) if rejects else path.with_name(f"{path.stem}.rejects.csv")
    if rejects_path.resolve() == path.resolve():
        raise InvalidInput(f"--rejects would overwrite {file} itself")
    mapping = csv_import.parse_mapping(map_ or [], purchase_csv.COLUMNS)
    ctx = get_ctx()
    with _progress_bar() as progress:
        parsed = purchase_csv.read_purchases(
            path,
            file,
            default_currency=ctx.currency,
            encoding=encoding,
            delimiter=_delimiter(delimiter),
            mapping=mapping,
            date_format=date_format,
            decimal=decimal,
            progress=progress,
        )

        def save_rejects(errors: list[RowError]) -> str:
            reasons = [(e.line, _reason(e)) for e in errors]
            csv_import.write_rejects(parsed.csv, rejects_path, reasons)
            return str(rejects_path)

        summary = imports.import_purchases(
            ctx,
            parsed.rows,
            source=parsed.source,
            unreadable=parsed.errors,
            create_missing=create_missing,
            skip_bad=skip_bad,
            allow_duplicates=allow_duplicates,
            dry_run=dry_run,
            save_rejects=save_rejects,
            progress=progress,
        )
    if json_:
        output.emit_json(summary)
    else:
        _render(summary)


def _delimiter(text: str | None) -> str | None:
    if text is None:
        return None
    d = _DELIMITER_NAMES.get(text.lower(), text)
    if len(d) != 1 or d.isalnum() or d in "\"'\r\n ":
        raise InvalidInput(f"--delimiter must be one character like ';', ',', '|' or tab: {text!r}")
    return d


def _reason(e: RowError) -> str:
    """The rejects file's `error` column (its `line` column says where)."""
    return f"field {e.field}: {e.error}" if e.field else e.error


@contextlib.contextmanager
def _progress_bar() -> Iterator[Progress | None]:
    """A progress bar on stderr when it is a terminal (Rich, loaded only then)."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("{task.description:<9}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(_STAGES.get(stage, stage), total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield update


def _render(s: ImportSummary) -> None:
    from tinycrm.money import display_money, parse_amount

    n = s.imported
    worth = ", ".join(display_money(parse_amount(v), cur) for cur, v in s.totals.items())
    verb = "Dry run: would import" if s.dry_run else "Imported"
    title = f"{verb} {n:,} purchase{'' if n == 1 else 's'} from {s.source.file}"
    if worth:
        title += f" worth {worth}"
    src = s.source
    read_as = [
        src.encoding
        + (
            " (not UTF-8, so guessed; pass --encoding if names look wrong)"
            if src.encoding_guessed
            else ""
        ),
        f"delimiter {src.delimiter!r}" if src.delimiter != "tab" else "delimiter tab",
        f"decimal mark {src.decimal_mark!r}" if src.decimal_mark else "no decimal mark seen",
        f"dates {', '.join(src.date_formats)}" if src.date_formats else "",
    ]
    pairs: list[tuple[str, object]] = [
        ("rows read", f"{s.rows:,}"),
        ("would import" if s.dry_run else "imported", f"{n:,}"),
        (
            "duplicates",
            f"{s.duplicates:,} already in the store, skipped (--allow-duplicates imports them)"
            if s.duplicates
            else "0",
        ),
        ("rejected", _rejected(s)),
        ("contacts created", _created(s)),
        ("read as", ", ".join(x for x in read_as if x)),
        ("columns", ", ".join(f"{k}={v}" for k, v in src.columns.items())),
        ("ignored columns", ", ".join(src.ignored_columns)),
    ]
    pairs += [("problem", f"{e.where()}: {e.error}") for e in s.errors[:_SHOWN_PROBLEMS]]
    if s.rejected > _SHOWN_PROBLEMS:
        pairs.append(("", f"… {s.rejected - _SHOWN_PROBLEMS:,} more"))
    output.fields(pairs, title=title)


def _rejected(s: ImportSummary) -> str:
    if not s.rejected:
        return "0"
    if s.rejects_file:
        return f"{s.rejected:,}, written to {s.rejects_file}"
    return f"{s.rejected:,}" + (" (a dry run writes no rejects file)" if s.dry_run else "")


def _created(s: ImportSummary) -> str:
    made = s.contacts_created
    if not made:
        return "0"
    shown = ", ".join(
        c.name
        + (f" #{c.id}" if c.id is not None else "")
        + (f" <{c.email}>" if c.email and c.email != c.name else "")
        for c in made[:5]
    )
    more = f", … {len(made) - 5:,} more" if len(made) > 5 else ""
    return f"{len(made):,}: {shown}{more}"
