"""`tinycrm mail import SOURCE`: email from an mbox file, a Maildir, stdin or IMAP."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from tinycrm.cli import output
from tinycrm.cli.common import JsonOpt, get_ctx, when

if TYPE_CHECKING:
    from tinycrm.services.mail import MailSummary

mail_app = typer.Typer(help="Log email as interactions.", no_args_is_help=True)


@mail_app.command("import")
def mail_import(
    source: Annotated[
        str,
        typer.Argument(
            help="An mbox file, a Maildir folder, '-' (one message on stdin), or"
            " imaps://user@host/FOLDER (imap:// uses STARTTLS)."
        ),
    ],
    folder: Annotated[
        list[str] | None,
        typer.Option("--folder", help="A Maildir or IMAP folder to read (repeatable)."),
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Only mail sent since then, e.g. 30d, 2026-11-01.")
    ] = None,
    create_missing: Annotated[
        bool,
        typer.Option("--create-missing", help="Create contacts for unknown correspondents."),
    ] = False,
    match_domains: Annotated[
        bool,
        typer.Option(
            "--match-domains", help="Log mail from unknown people at a company's domain to it."
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show who would get what; change nothing.")
    ] = False,
    cron_line: Annotated[
        bool, typer.Option("--cron-line", help="Print a crontab line that runs this import.")
    ] = False,
    json_: JsonOpt = False,
) -> None:
    """Log emails with your contacts as email interactions.

    Each email whose From, To or Cc is a contact. Messages already imported are skipped
    (by Message-ID); one transaction per folder.
    """
    from tinycrm.services.mail import MailSummary, Options, import_folder

    folders = [f.strip() for f in folder or [] if f.strip()]
    if cron_line:
        _print_cron_line(source, folders, create_missing, match_domains)
        return
    ctx = get_ctx()
    options = Options(
        aliases=_aliases(),
        create_missing=create_missing,
        match_domains=match_domains,
        since=when(ctx, since, past=True) if since else None,
        dry_run=dry_run,
        keep_entries=dry_run,
    )
    total = MailSummary(dry_run=dry_run)
    if source.lower().startswith(("imap://", "imaps://")):
        from tinycrm.io.imap import import_imap

        total = import_imap(ctx, source, folders, options)
    else:
        from tinycrm.io.mail_read import open_source

        stdin = _stdin_bytes() if source == "-" else None
        for box in open_source(source, folders, stdin):
            label = source if len(folders) < 2 else f"{source} {box.name}"
            total.add(import_folder(ctx, label, box.messages(), options))
    _render(total, json_)


def _stdin_bytes() -> bytes:
    from tinycrm.errors import InvalidInput

    if sys.stdin.isatty():
        raise InvalidInput("pipe one email message into 'tinycrm mail import -'")
    buffer = getattr(sys.stdin, "buffer", None)
    if buffer is not None:
        data: bytes = buffer.read()
        return data
    return sys.stdin.read().encode("utf-8", "surrogateescape")


def _aliases() -> tuple[str, ...]:
    """The `aliases` setting: the user's other addresses (a list, or one comma-separated
    string)."""
    from tinycrm import config
    from tinycrm.errors import InvalidInput

    value = config.load_settings().raw.get("aliases")
    if value is None:
        return ()
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidInput(
            f'aliases in {config.settings_path()} must be a list of addresses like ["me@work.com"]'
        )
    return tuple(v.strip() for v in value if v.strip())


def _render(summary: MailSummary, json_: bool) -> None:
    if json_:
        output.emit_json(summary)
        return
    ctx = get_ctx()
    if summary.dry_run:
        output.table(
            ["date", "dir", "subject", "would log for", "would create"],
            [
                [
                    output.local(e.sent_at, ctx.tz)[:16],
                    e.direction,
                    e.subject,
                    "; ".join(e.logged_for),
                    "; ".join(e.created),
                ]
                for e in summary.entries
            ],
            empty="no message would be logged",
        )
    verb = "would log" if summary.dry_run else "logged"
    parts = [
        f"{summary.read:,} message{'' if summary.read == 1 else 's'} read",
        f"{summary.matched:,} matched",
        f"{verb} {summary.logged:,} email interaction{'' if summary.logged == 1 else 's'}",
        f"{summary.duplicates:,} already imported",
        f"{summary.unknown:,} from unknown people",
    ]
    if summary.older:
        parts.append(f"{summary.older:,} older than --since")
    if summary.created:
        made = "would create" if summary.dry_run else "created"
        parts.append(f"{made} {summary.created:,} contact{'' if summary.created == 1 else 's'}")
    output.say("Mail: " + ", ".join(parts))


def _print_cron_line(
    source: str, folders: list[str], create_missing: bool, match_domains: bool
) -> None:
    from tinycrm.cli.followups import cron_line_for

    args = ["mail", "import", source]
    for name in folders:
        args += ["--folder", name]
    if create_missing:
        args.append("--create-missing")
    if match_domains:
        args.append("--match-domains")
    line, note = cron_line_for(args, "*/15 7-19 * * 1-5", secret_env="TINYCRM_IMAP_PASSWORD")
    if note:
        output.warn(note)
    typer.echo(line)
