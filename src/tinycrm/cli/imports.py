"""`tinycrm import purchases FILE.csv`: bring in what a shop or an ERP exported;
`tinycrm import contacts FILE`: people from CSV exports, vCards or tinycrm's JSON;
`tinycrm import interactions|deals FILE`: what `tinycrm export` wrote, read back."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Protocol, TypeVar

import typer

from tinycrm.cli import output
from tinycrm.cli.common import JsonOpt, get_ctx
from tinycrm.errors import InvalidInput

if TYPE_CHECKING:
    from tinycrm.io.outputs import Output
    from tinycrm.services.context import Ctx
    from tinycrm.services.imports.bulk import Progress, RowError
    from tinycrm.services.imports.contacts import ContactImportSource, ContactImportSummary
    from tinycrm.services.imports.purchases import ImportSummary
    from tinycrm.services.imports.records import RecordImportSummary

import_app = typer.Typer(
    help="Import records from CSV, vCard and JSON files.", no_args_is_help=True
)

_DELIMITER_NAMES = {"tab": "\t", "\\t": "\t", "semicolon": ";", "comma": ",", "pipe": "|"}
_STAGES = {"read": "Reading", "check": "Checking", "save": "Saving"}
_SHOWN_PROBLEMS = 3

RejectsForceOpt = Annotated[
    bool, typer.Option("--force", help="Overwrite an existing --rejects file.")
]


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
    force: RejectsForceOpt = False,
    json_: JsonOpt = False,
) -> None:
    """Import purchases from a CSV file, all rows or none.

    Contacts are matched by id, email or whole name (never a guess). Rows identical to a
    stored purchase are skipped. Delimiter, encoding, decimal mark and date format are
    detected; the summary says what was found.
    """
    from tinycrm.io import csv_import, purchase_csv
    from tinycrm.services.imports import purchases

    opts = _options(file, skip_bad, dry_run, rejects, force, json_)
    mapping = csv_import.parse_mapping(map_ or [], purchase_csv.COLUMNS)
    ctx = get_ctx()
    _run_import(
        ctx,
        opts,
        lambda progress: purchase_csv.read_purchases(
            opts.path,
            file,
            default_currency=ctx.currency,
            encoding=encoding,
            delimiter=_delimiter(delimiter),
            mapping=mapping,
            date_format=date_format,
            decimal=decimal,
            progress=progress,
        ),
        lambda parsed, common: purchases.import_purchases(
            ctx,
            parsed.rows,
            create_missing=create_missing,
            allow_duplicates=allow_duplicates,
            **common,
        ),
        _render,
        rejects_suffix=".csv",  # known before reading: the rejects path is checked first
    )


# -- what every import command shares -------------------------------------------------------


@dataclass(frozen=True)
class _Options:
    """The options every import command takes."""

    file: str
    skip_bad: bool
    dry_run: bool
    rejects: str | None
    force: bool
    json_: bool

    @property
    def path(self) -> Path:
        """The file to import."""
        return Path(self.file)


def _options(
    file: str, skip_bad: bool, dry_run: bool, rejects: str | None, force: bool, json_: bool
) -> _Options:
    """The shared options, checked before anything else is."""
    if rejects and not skip_bad:
        raise InvalidInput("--rejects goes with --skip-bad")
    return _Options(file, skip_bad, dry_run, rejects, force, json_)


class _ReadFile(Protocol):
    """What every reader in io/ returns: the rows, the unreadable ones, how the file was
    read, and how to write its bad rows back in its own format."""

    @property
    def source(self) -> Any: ...
    @property
    def errors(self) -> list[RowError]: ...
    @property
    def rejects_suffix(self) -> str: ...
    @property
    def write_rejects(self) -> Callable[[Output, list[RowError]], None]: ...


_F = TypeVar("_F", bound=_ReadFile)
_S = TypeVar("_S")


def _run_import(
    ctx: Ctx,
    opts: _Options,
    read: Callable[[Progress | None], _F],
    run: Callable[[_F, dict[str, Any]], _S],
    render: Callable[[_S], None],
    *,
    rejects_suffix: str | None = None,
) -> None:
    """Run one import command as they all run: read the file and import it under one
    progress bar (on a terminal), the bad rows saved where `--rejects` says, then print the
    summary or its JSON. `run` gets the service's shared keyword arguments in `common`."""
    writes = opts.skip_bad and not opts.dry_run
    rejects_to = None
    if rejects_suffix is not None:
        rejects_to = _rejects_target(ctx, opts, rejects_suffix, writes)
    with _progress_bar() as progress:
        parsed = read(progress)
        if rejects_suffix is None:
            rejects_to = _rejects_target(ctx, opts, parsed.rejects_suffix, writes)

        def save_rejects(errors: list[RowError]) -> str:
            assert rejects_to is not None  # only a run that writes has bad rows to save
            parsed.write_rejects(rejects_to, errors)
            return rejects_to.shown

        common: dict[str, Any] = {
            "source": parsed.source,
            "unreadable": parsed.errors,
            "skip_bad": opts.skip_bad,
            "dry_run": opts.dry_run,
            "save_rejects": save_rejects,
            "progress": progress,
        }
        summary = run(parsed, common)
    if opts.json_:
        output.emit_json(summary)
    else:
        render(summary)


def _delimiter(text: str | None) -> str | None:
    if text is None:
        return None
    d = _DELIMITER_NAMES.get(text.lower(), text)
    if len(d) != 1 or d.isalnum() or d in "\"'\r\n ":
        raise InvalidInput(f"--delimiter must be one character like ';', ',', '|' or tab: {text!r}")
    return d


def _rejects_target(ctx: Ctx, opts: _Options, suffix: str, writes: bool) -> Output | None:
    """Where the bad rows go (`--rejects`, default FILE.rejects.SUFFIX beside the file),
    checked like every output (io.outputs): never the store or the file being imported,
    an existing file only with --force. None when nothing will be written."""
    if not writes:
        return None
    from tinycrm.io import outputs

    source = opts.path
    given = (
        Path(opts.rejects) if opts.rejects else source.with_name(f"{source.stem}.rejects{suffix}")
    )
    return outputs.target(given, store=ctx.db.location.path, force=opts.force, inputs=(source,))


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
    output.fields(pairs + _problems(s), title=title)


class _Summed(Protocol):
    """What every import's summary says about its bad rows."""

    @property
    def dry_run(self) -> bool: ...
    @property
    def rejected(self) -> int: ...
    @property
    def rejects_file(self) -> str | None: ...
    @property
    def errors(self) -> list[RowError]: ...


def _rejected(s: _Summed) -> str:
    """How many rows were rejected, and where they went."""
    if not s.rejected:
        return "0"
    if s.rejects_file:
        return f"{s.rejected:,}, written to {s.rejects_file}"
    return f"{s.rejected:,}" + (" (a dry run writes no rejects file)" if s.dry_run else "")


def _problems(s: _Summed) -> list[tuple[str, object]]:
    """The first bad rows, as the summary lists them (--json has more, the rejects file
    all)."""
    pairs: list[tuple[str, object]] = [
        ("problem", f"{e.where()}: {e.error}") for e in s.errors[:_SHOWN_PROBLEMS]
    ]
    if s.rejected > _SHOWN_PROBLEMS:
        pairs.append(("", f"… {s.rejected - _SHOWN_PROBLEMS:,} more"))
    return pairs


def _read_as(src: ContactImportSource) -> str:
    """How a contacts, interactions or deals file was read: format, encoding, delimiter."""
    read_as = [src.format]
    if src.format != "json" or src.encoding != "utf-8":
        read_as.append(
            src.encoding
            + (" (guessed; pass --encoding if names look wrong)" if src.encoding_guessed else "")
        )
    if src.delimiter:
        read_as.append(
            f"delimiter {src.delimiter!r}" if src.delimiter != "tab" else "delimiter tab"
        )
    return ", ".join(read_as)


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


@import_app.command("contacts")
def import_contacts(
    file: Annotated[str, typer.Argument(help="A CSV, vCard (.vcf) or JSON file of contacts.")],
    format_: Annotated[
        str | None,
        typer.Option("--format", "-f", help="csv, vcard or json (default: from the file)."),
    ] = None,
    on_duplicate: Annotated[
        str,
        typer.Option(
            "--on-duplicate",
            help="A contact already in the store (or earlier in the file): skip, merge or create.",
        ),
    ] = "skip",
    owner: Annotated[
        str | None, typer.Option("--owner", help="Owner of the new contacts (default: you).")
    ] = None,
    tag: Annotated[
        str | None, typer.Option("--tag", help="Tag every imported contact with TAG.")
    ] = None,
    skip_bad: Annotated[
        bool,
        typer.Option("--skip-bad", help="Import the good rows; write the bad ones to --rejects."),
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Show the column mapping and what would happen; write nothing."
        ),
    ] = False,
    map_: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            help="Name CSV columns: Handy=phone:mobile,Firma=company,Kunde-Nr=ignore (repeatable).",
        ),
    ] = None,
    delimiter: Annotated[
        str | None, typer.Option("--delimiter", help="';', ',', '|' or 'tab' (default: detected).")
    ] = None,
    encoding: Annotated[
        str | None,
        typer.Option("--encoding", help="e.g. utf-8, cp1252, gb18030, big5 (default: detected)."),
    ] = None,
    rejects: Annotated[
        str | None,
        typer.Option("--rejects", help="Where --skip-bad puts bad rows (default FILE.rejects.*)."),
    ] = None,
    force: RejectsForceOpt = False,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="A phone, email, web address, address or date that doesn't validate refuses"
            " the row (default: the contact is imported and the value kept as written).",
        ),
    ] = False,
    json_: JsonOpt = False,
) -> None:
    """Import contacts from CSV, vCard or JSON.

    CSV exports of Google, Outlook, HubSpot and others are recognised.

    All rows or none (--skip-bad sets the bad ones aside). People already in the store, by
    email, phone or name, are reported and skipped unless --on-duplicate says otherwise. A
    value that doesn't validate is kept on its contact as written (--strict refuses it).
    """
    from tinycrm.io import contact_files
    from tinycrm.services.fields import field_names
    from tinycrm.services.imports import contacts

    opts = _options(file, skip_bad, dry_run, rejects, force, json_)
    if on_duplicate not in contacts.ON_DUPLICATE:
        raise InvalidInput(f"--on-duplicate must be skip, merge or create: {on_duplicate!r}")
    mapping = contact_files.parse_mapping(map_ or [])
    ctx = get_ctx()
    _run_import(
        ctx,
        opts,
        lambda progress: contact_files.read_contacts(
            opts.path,
            file,
            fmt=format_,
            encoding=encoding,
            delimiter=_delimiter(delimiter),
            mapping=mapping,
            progress=progress,
            custom=field_names(ctx, "contact"),
        ),
        lambda parsed, common: contacts.import_contacts(
            ctx,
            parsed.rows,
            on_duplicate=on_duplicate,
            owner=owner,
            tag=tag,
            strict=strict,
            **common,
        ),
        _render_contacts,
    )


_ACTIONS = {"skipped": "skipped", "merged": "merged into", "created": "created anyway, like"}


def _render_contacts(s: ContactImportSummary) -> None:
    src = s.source
    n = s.created
    verb = "Dry run: would create" if s.dry_run else "Created"
    title = f"{verb} {n:,} contact{'' if n == 1 else 's'} from {src.file}"
    if s.merged:
        title += f", merged {s.merged:,} into existing ones"
    dups = s.skipped + s.merged + sum(1 for d in s.duplicates if d.action == "created")
    pairs: list[tuple[str, object]] = [
        ("rows read", f"{s.rows:,}"),
        ("would create" if s.dry_run else "created", f"{n:,}"),
        ("merged", f"{s.merged:,}"),
        (
            "duplicates skipped",
            f"{s.skipped:,} (--on-duplicate merge or create to bring them in)"
            if s.skipped
            else "0",
        ),
        ("rejected", _rejected(s)),
        ("read as", _read_as(src)),
        ("columns", ", ".join(f"{k} → {v}" for k, v in src.columns.items())),
        ("ignored columns", ", ".join(src.ignored_columns)),
    ]
    if s.dropped:
        pairs.append(("left out", ", ".join(f"{k} ×{v:,}" for k, v in s.dropped.items())))
    if s.as_written:
        counts = ", ".join(f"{k} ×{v:,}" for k, v in s.as_written.items())
        pairs.append(("kept as written", f"{counts} (they didn't validate; --strict refuses)"))
        for k in s.as_written_shown[:_SHOWN_PROBLEMS]:
            pairs.append(("", f"{k.file} line {k.line}, {k.field}: {k.value!r} — {k.why}"))
    for d in s.duplicates[:_SHOWN_PROBLEMS]:
        who = (
            f"{d.contact} #{d.contact_id}" if d.contact_id else f"{d.contact} (earlier in the file)"
        )
        pairs.append(
            ("duplicate", f"line {d.line}: {d.name} — {d.reason}; {_ACTIONS[d.action]} {who}")
        )
    if dups > _SHOWN_PROBLEMS:
        pairs.append(
            ("", f"… {dups - _SHOWN_PROBLEMS:,} more duplicates (--json lists {len(s.duplicates)})")
        )
    output.fields(pairs + _problems(s), title=title)


# -- interactions and deals: what `tinycrm export` wrote ------------------------------------

_FormatOpt = Annotated[
    str | None, typer.Option("--format", "-f", help="csv or json (default: from the file).")
]
_SkipBadOpt = Annotated[
    bool,
    typer.Option("--skip-bad", help="Import the good rows; write the bad ones to --rejects."),
]
_DryRunOpt = Annotated[
    bool,
    typer.Option("--dry-run", help="Show the column mapping and what would happen; write nothing."),
]
_RejectsOpt = Annotated[
    str | None,
    typer.Option("--rejects", help="Where --skip-bad puts bad rows (default FILE.rejects.*)."),
]
_DelimiterOpt = Annotated[
    str | None, typer.Option("--delimiter", help="';', ',', '|' or 'tab' (default: detected).")
]
_EncodingOpt = Annotated[
    str | None, typer.Option("--encoding", help="e.g. utf-8, cp1252 (default: detected).")
]
_RecordMapOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--map", help="Name CSV columns: 'Betreff=subject,Typ=kind' (repeatable; or ignore)."
    ),
]


@import_app.command("interactions")
def import_interactions(
    file: Annotated[
        str,
        typer.Argument(
            help="A CSV or JSON file as `tinycrm export interactions` writes, or activities"
            " exported from Pipedrive, HubSpot, Salesforce or Zoho."
        ),
    ],
    format_: _FormatOpt = None,
    skip_bad: _SkipBadOpt = False,
    dry_run: _DryRunOpt = False,
    map_: _RecordMapOpt = None,
    delimiter: _DelimiterOpt = None,
    encoding: _EncodingOpt = None,
    rejects: _RejectsOpt = None,
    force: RejectsForceOpt = False,
    json_: JsonOpt = False,
) -> None:
    """Import notes, calls, emails and tasks; all rows or none.

    Contacts are found by email, else name (and company); deals by title; companies by
    name (created when missing). An activity still to do becomes a reminder. What the
    store already has is skipped.
    """
    from tinycrm.io import record_files
    from tinycrm.services.imports import records

    opts = _options(file, skip_bad, dry_run, rejects, force, json_)
    ctx = get_ctx()
    _run_import(
        ctx,
        opts,
        lambda progress: record_files.read_interactions(
            opts.path,
            file,
            fmt=format_,
            encoding=encoding,
            delimiter=_delimiter(delimiter),
            progress=progress,
            mapping=map_,
        ),
        lambda parsed, common: records.import_interactions(ctx, parsed.rows, **common),
        _render_records,
    )


@import_app.command("deals")
def import_deals(
    file: Annotated[
        str,
        typer.Argument(
            help="A CSV or JSON file as `tinycrm export deals` writes, or deals exported from"
            " Pipedrive, HubSpot, Salesforce or Zoho."
        ),
    ],
    format_: _FormatOpt = None,
    skip_bad: _SkipBadOpt = False,
    dry_run: _DryRunOpt = False,
    map_: _RecordMapOpt = None,
    stage_map: Annotated[
        list[str] | None,
        typer.Option(
            "--stage-map",
            help="Their stage=your stage: 'Appointment scheduled=Qualified,...' (repeatable).",
        ),
    ] = None,
    create_stages: Annotated[
        bool,
        typer.Option("--create-stages", help="Add the stages the store lacks, before Won/Lost."),
    ] = False,
    delimiter: _DelimiterOpt = None,
    encoding: _EncodingOpt = None,
    rejects: _RejectsOpt = None,
    force: RejectsForceOpt = False,
    json_: JsonOpt = False,
) -> None:
    """Import deals, all rows or none.

    With their stage, status, value and dates.

    Contacts are found by email, else name (and company); stages by name (--stage-map,
    --create-stages); owners by name or email; companies by name (created when missing).
    Deals already in the store are skipped.
    """
    from tinycrm.io import record_files
    from tinycrm.services.imports import records

    opts = _options(file, skip_bad, dry_run, rejects, force, json_)
    ctx = get_ctx()
    _run_import(
        ctx,
        opts,
        lambda progress: record_files.read_deals(
            opts.path,
            file,
            default_currency=ctx.currency,
            fmt=format_,
            encoding=encoding,
            delimiter=_delimiter(delimiter),
            progress=progress,
            mapping=map_,
        ),
        lambda parsed, common: records.import_deals(
            ctx,
            parsed.rows,
            stage_map=_stage_map(stage_map or []),
            create_stages=create_stages,
            **common,
        ),
        _render_records,
    )


def _stage_map(specs: list[str]) -> dict[str, str]:
    """`--stage-map "Appointment scheduled=Qualified,Closed won=Won"` -> {theirs: ours}."""
    out: dict[str, str] = {}
    for spec in specs:
        for pair in spec.split(","):
            if not pair.strip():
                continue
            theirs, sep, ours = pair.rpartition("=")
            if not sep or not theirs.strip() or not ours.strip():
                raise InvalidInput(
                    f"--stage-map wants THEIRS=OURS pairs, e.g. 'Appointment scheduled=Qualified':"
                    f" {pair!r}"
                )
            out[theirs.strip()] = ours.strip()
    return out


def _render_records(s: RecordImportSummary) -> None:
    src = s.source
    n = s.imported
    noun = s.what if n != 1 else s.what[:-1]
    verb = "Dry run: would import" if s.dry_run else "Imported"
    title = f"{verb} {n:,} {noun} from {src.file}"
    made = s.companies_created
    pairs: list[tuple[str, object]] = [
        ("rows read", f"{s.rows:,}"),
        ("would import" if s.dry_run else "imported", f"{n:,}"),
        (
            "duplicates",
            f"{s.duplicates:,} already in the store, skipped" if s.duplicates else "0",
        ),
        ("rejected", _rejected(s)),
        (
            "companies created" if not s.dry_run else "companies to create",
            f"{len(made):,}: "
            + ", ".join(made[:5])
            + (f", … {len(made) - 5:,} more" if len(made) > 5 else "")
            if made
            else "0",
        ),
        ("read as", _read_as(src)),
        ("columns", ", ".join(f"{k} → {v}" for k, v in src.columns.items())),
        ("ignored columns", ", ".join(src.ignored_columns)),
    ]
    if s.reminders:
        pairs.insert(2, ("of them reminders", f"{s.reminders:,} (activities still to do)"))
    if s.stages_created:
        pairs.append(("stages created", ", ".join(s.stages_created)))
    output.fields(pairs + _problems(s), title=title)
