"""`tinycrm init` (set up a store and point the settings at it) and `tinycrm doctor`
(check the store, and repair what is derived)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from tinycrm.cli import output
from tinycrm.cli.common import JsonOpt
from tinycrm.cli.state import state

if TYPE_CHECKING:
    from tinycrm.services.doctor import DoctorReport, Problem
    from tinycrm.services.team_settings import Effective

#: Beyond this many problems of one check, a terminal or pipe gets a count (JSON gets all).
SHOWN_PER_CHECK = 50


def init(
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="Store: a file path or postgresql://user@host/dbname (default: the store"
            " tinycrm uses now).",
            show_default=False,
        ),
    ] = None,
    user: Annotated[
        str | None, typer.Option("--user", help="Your name in tinycrm (default: your login).")
    ] = None,
    email: Annotated[str | None, typer.Option("--email", help="Your email address.")] = None,
    timezone: Annotated[
        str | None, typer.Option("--timezone", help="Your time zone, e.g. Europe/Berlin.")
    ] = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Replace a different db or user in the settings file."),
    ] = False,
    json_: JsonOpt = False,
) -> None:
    """Set up a store and your user, and remember them.

    Upgrades an older store; the settings file keeps the store and the user.
    """
    from tinycrm import config
    from tinycrm.services.init import init as do_init

    store = db or config.store_url(state.db_option, config.load_settings())
    view = do_init(store, user=user, email=email, timezone=timezone, now=config.now(), force=force)
    if json_:
        output.emit_json(view)
        return
    kind = "SQLite" if view.backend == "sqlite" else "PostgreSQL"
    status = {
        "created": "created",
        "upgraded": f"upgraded from schema {view.upgraded_from}",
        "ready": "already set up",
    }[view.status]
    output.say(f"Store: {view.store} ({kind}, schema {view.revision}, {status})")
    if view.backup:
        output.say(f"The store as it was is in {view.backup}")
    who = view.user + (f" <{view.email}>" if view.email else "")
    output.say(f"You: {who}" + (f", {view.timezone}" if view.timezone else ""))
    written = ", ".join(view.settings_changed)
    output.say(
        f"Settings: {view.settings}" + (f" ({written} written)" if written else " (unchanged)")
    )
    if view.status == "created":
        output.say('Next: tinycrm contact add "Alice Wong" --email alice@example.com')


def doctor(
    repair: Annotated[
        bool,
        typer.Option(
            "--repair",
            help="Back the store up, then rebuild the search index, clocks and match keys"
            " and clear orphan rows, in one transaction.",
        ),
    ] = False,
    json_: JsonOpt = False,
) -> None:
    """Check the store's health; --repair fixes what it can.

    Integrity, orphan rows, search index, clocks and match keys.

    Exit 0 when healthy, 1 when problems are found (one line each)."""
    from tinycrm import config
    from tinycrm.services import doctor as service
    from tinycrm.startup import file_shared, open_ctx

    state.ctx = ctx = open_ctx(state.db_option, create=False)
    settings = config.load_settings()
    region = config.phone_region(settings)
    mine = file_shared(settings)
    if repair:
        report = service.repair(ctx.db, phone_region=region, tz=ctx.tz, file_settings=mine)
    else:
        report = service.check(ctx.db, phone_region=region, tz=ctx.tz, file_settings=mine)
    if json_:
        shown = output.to_jsonable(report)
        for p, problem in zip(report.problems, shown["problems"], strict=True):
            problem["detail"] = _detail(p)
        output.emit_json(shown)
    else:
        _render(report)
    if not report.healthy:
        raise typer.Exit(1)


def _detail(p: Problem) -> str:
    """What is wrong, in words; a clock's times in UTC to the minute."""
    if p.check != "clocks":
        return p.detail

    def utc(t: datetime | None) -> str:
        return "none" if t is None else t.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")

    return f"{p.detail} is {utc(p.stored)}, should be {utc(p.expected)}"


def _setting_line(e: Effective) -> str:
    """`setting: escalate-after = 3 (from the store; your settings file's 5 is ignored)`."""
    value = e.value or "none"
    where = {"store": "from the store", "settings file": "from your settings file"}
    line = f"setting: {e.key} = {value} ({where.get(e.source, 'the default')})"
    if e.ignored is not None:
        other = "the store's" if e.source == "settings file" else "your settings file's"
        line = line[:-1] + f"; {other} {e.ignored or 'none'} is not used here)"
    return line


def _render(report: DoctorReport) -> None:
    if report.backup is not None:
        output.say(f"Backed up the store to {report.backup}")
        output.say(f"Repaired {report.repaired} problem{'s' * (report.repaired != 1)}")
    elif report.repaired == 0 and not report.healthy:
        output.say("Nothing here that --repair can fix (no backup taken)")
    shown: dict[str, int] = {}
    for p in report.problems:
        shown[p.check] = shown.get(p.check, 0) + 1
        if shown[p.check] > SHOWN_PER_CHECK:
            continue
        where = " ".join(x for x in (p.table, None if p.id is None else f"#{p.id}") if x)
        output.say(f"{p.check}: {where + ': ' if where else ''}{_detail(p)}")
    for check, n in shown.items():
        if n > SHOWN_PER_CHECK:
            output.say(f"{check}: … {n - SHOWN_PER_CHECK:,} more (--json lists them all)")
    for e in report.settings:
        output.say(_setting_line(e))
    checked = ", ".join(report.checks)
    if report.healthy:
        output.say(f"{report.store} is healthy (schema {report.revision}; checked {checked})")
        return
    n = len(report.problems)
    fixable = sum(p.repairable for p in report.problems)
    summary = f"{n:,} problem{'s' * (n != 1)} in {report.store}"
    if report.backup is not None:
        summary += " remains after the repair" if n == 1 else " remain after the repair"
    if fixable and report.backup is None:
        summary += f"; tinycrm doctor --repair fixes {fixable:,} (after a backup)"
    if fixable < n:
        summary += "; the rest need a person (see above), or a restore from a backup"
    output.say(summary)
