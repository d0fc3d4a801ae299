"""The command tree. Each domain lives in its own module; this one only wires them.

Building every command's parser costs ~150 ms, so `build_app` registers only the command
the user typed (all of them for `tinycrm --help` or an unknown command). Command modules
import only typer and tinycrm's light modules at import time; services, Rich and anything
heavy are imported inside the command that needs them.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Annotated, Any

import typer

from tinycrm import __version__
from tinycrm.cli.state import state

# name -> (module, attribute, is a group of subcommands); the order is the help order.
COMMANDS: dict[str, tuple[str, str, bool]] = {
    "note": ("tinycrm.cli.work", "note", False),
    "remind": ("tinycrm.cli.work", "remind", False),
    "todo": ("tinycrm.cli.work", "todo", False),
    "done": ("tinycrm.cli.work", "done", False),
    "snooze": ("tinycrm.cli.work", "snooze", False),
    "interaction": ("tinycrm.cli.interactions", "interaction_app", True),
    "reminder": ("tinycrm.cli.reminders", "reminder_app", True),
    "contact": ("tinycrm.cli.contacts", "contact_app", True),
    "company": ("tinycrm.cli.contacts", "company_app", True),
    "deal": ("tinycrm.cli.deals", "deal_app", True),
    "stages": ("tinycrm.cli.deals", "stages_app", True),
    "product": ("tinycrm.cli.products", "product_app", True),
    "quote": ("tinycrm.cli.quotes", "quote_app", True),
    "recommend": ("tinycrm.cli.quotes", "recommend", False),
    "field": ("tinycrm.cli.fields", "field_app", True),
    "view": ("tinycrm.cli.views", "view_app", True),
    "purchase": ("tinycrm.cli.misc", "purchase_app", True),
    "case": ("tinycrm.cli.cases", "case_app", True),
    "sla": ("tinycrm.cli.cases", "sla_app", True),
    "settings": ("tinycrm.cli.cases", "settings_app", True),
    "import": ("tinycrm.cli.imports", "import_app", True),
    "mail": ("tinycrm.cli.mail", "mail_app", True),
    "dedupe": ("tinycrm.cli.merge", "dedupe", False),
    "merge": ("tinycrm.cli.merge", "merge", False),
    "search": ("tinycrm.cli.misc", "search", False),
    "log": ("tinycrm.cli.misc", "log", False),
    "rank": ("tinycrm.cli.value", "rank", False),
    "next": ("tinycrm.cli.followups", "next_", False),
    "digest": ("tinycrm.cli.followups", "digest", False),
    "tag": ("tinycrm.cli.followups", "tag_app", True),
    "export": ("tinycrm.cli.exports", "export_app", True),
    "user": ("tinycrm.cli.followups", "user_app", True),
    "goal": ("tinycrm.cli.goals", "goal_app", True),
    "assign": ("tinycrm.cli.audit", "assign", False),
    "history": ("tinycrm.cli.audit", "history", False),
    "undo": ("tinycrm.cli.undo", "undo", False),
    "redo": ("tinycrm.cli.undo", "redo", False),
    "forget": ("tinycrm.cli.privacy", "forget", False),
    "campaign": ("tinycrm.cli.campaigns", "campaign_app", True),
    "report": ("tinycrm.cli.reports", "report_app", True),
    "init": ("tinycrm.cli.store", "init", False),
    "doctor": ("tinycrm.cli.store", "doctor", False),
    "backup": ("tinycrm.cli.backup", "backup", False),
    "restore": ("tinycrm.cli.backup", "restore", False),
    "tui": ("tinycrm.cli.tui", "tui", False),
    "completion": ("tinycrm.cli.completion", "completion_app", True),
}

GLOBAL_OPTIONS_WITH_VALUE = ("--db",)


def main(
    typer_ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="Store: a file path or postgresql://... URL (default: $TINYCRM_DB, then the"
            " settings file, then tinycrm.db in your user data folder, the one store created"
            " on first use; tinycrm init --db makes others).",
            show_default=False,
        ),
    ] = None,
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    """A terminal CRM for small sales teams."""
    state.db_option = db
    if version:
        typer.echo(f"tinycrm {__version__}")
        raise typer.Exit(0)
    if typer_ctx.invoked_subcommand is None:
        from tinycrm.cli.misc import home

        home()


def command_name(argv: Sequence[str]) -> str | None:
    """The subcommand in `argv` (the first word that is not a global option)."""
    args = iter(argv)
    for arg in args:
        if arg in GLOBAL_OPTIONS_WITH_VALUE:
            next(args, None)
        elif not arg.startswith("-"):
            return arg
    return None


def build_app(argv: Sequence[str] = ()) -> typer.Typer:
    app = typer.Typer(
        name="tinycrm",
        help="A terminal CRM: contacts, notes, reminders, deals and purchases.\n\n"
        "Run with no command to open the full-screen app on a terminal (what is due today"
        " when piped, or with TINYCRM_NO_TUI=1).",
        add_completion=False,
        pretty_exceptions_enable=False,
        # Click's plain help: Rich-formatted help costs ~170 ms more to start.
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    app.callback(invoke_without_command=True)(main)
    wanted = command_name(argv)
    names = [wanted] if wanted in COMMANDS else list(COMMANDS)
    for name in names:
        module, attr, group = COMMANDS[name]
        target: Any = getattr(importlib.import_module(module), attr)
        if group:
            app.add_typer(target, name=name)
        else:
            app.command(name)(target)
    return app
