"""Options and helpers shared by the command modules."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import typer

from tinycrm.cli.state import get_ctx
from tinycrm.refs import Target
from tinycrm.services.context import Ctx, unknown_user

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON (keys in docs/cli.md).")]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Don't ask for confirmation.")]
FormatOpt = Annotated[str, typer.Option("--format", "-f", help="table, csv or json.")]
RefArg = Annotated[str, typer.Argument(help="Id, email or name (a unique prefix is enough).")]
MineOpt = Annotated[bool, typer.Option("--mine", help="Only what you own.")]
OwnerOpt = Annotated[str | None, typer.Option("--owner", help="Only what this user owns.")]
WhereOpt = Annotated[
    str | None,
    typer.Option(
        "--where",
        "-w",
        help="Only those matching a filter, e.g. 'tag:vip and created>\"last month\"'"
        " (docs/cli.md#filters).",
    ),
]
ViewOpt = Annotated[
    str | None,
    typer.Option("--view", help="A saved view: its filter, sort and columns (view list)."),
]
ColumnsOpt = Annotated[
    str | None,
    typer.Option("--columns", help="Table columns, comma-separated (docs/cli.md#views)."),
]
# Bounds for counts and ids typed on the command line: a number past what the store's
# integers hold is a usage error, not an overflow deep in the driver.
LIMIT_MAX = 1_000_000_000
#: A list's --limit where a terminal gets a screenful and a pipe everything (None).
ScreenfulOpt = Annotated[
    int | None,
    typer.Option(
        "--limit",
        "-n",
        min=1,
        max=LIMIT_MAX,
        help="At most this many (default: a screenful on a terminal).",
    ),
]
ID_MAX = 2_147_483_647  # PostgreSQL's integer

IfVersionOpt = Annotated[
    int | None,
    typer.Option(
        "--if-version",
        min=1,
        help="Only if the record is still at this version (from show --json); else exit 1.",
    ),
]


def owner_name(ctx: Ctx, owner: str | None, mine: bool) -> str | None:
    """The user `--owner NAME` or `--mine` names (checked: an unknown name is an error that
    lists the users), or None for everyone's."""
    if owner is not None and mine:
        from tinycrm.errors import InvalidInput

        raise InvalidInput("give --mine or --owner, not both")
    if mine:
        if not ctx.signed_in:  # in team mode an unknown user is refused, not listed empty
            raise unknown_user(ctx.db, ctx.user_name)
        return ctx.user_name
    if owner is None:
        return None
    from tinycrm.services.users import user_id

    user_id(ctx.db, owner)
    return owner.strip()


def listing(
    ctx: Ctx,
    entity: str,
    where: str | None,
    view: str | None,
    sort: str | None = None,
    columns: str | None = None,
) -> Any:
    """`--where`, `--view`, `--sort` and `--columns` as one `views.Listing`."""
    from tinycrm.services import views

    return views.listing(ctx, entity, where=where, view=view, sort=sort, columns=columns)


def table_format(fmt: str, json_: bool) -> str:
    """`--format table|csv|json` (with `--json` as a shorthand for json)."""
    from tinycrm.errors import InvalidInput

    fmt = fmt.strip().lower()
    if fmt not in ("table", "csv", "json"):
        raise InvalidInput(f"--format must be one of table, csv, json: {fmt!r}")
    if json_ and fmt == "csv":
        raise InvalidInput("give --json or --format csv, not both")
    return "json" if json_ else fmt


def json_or_format(fmt: str, json_: bool, default: str) -> str:
    """`--json` as the shorthand for `--format json` of a command whose `--format` has other
    choices (the digest's text, an export's csv); both at once must agree."""
    from tinycrm.errors import InvalidInput

    if json_ and fmt.strip().lower() not in (default, "json"):
        raise InvalidInput(f"give --json or --format {fmt}, not both")
    return "json" if json_ else fmt


def when(ctx: Ctx, text: str, *, past: bool = False) -> datetime:
    """Parse a WHEN in the user's zone (see docs/cli.md#when)."""
    from tinycrm.dates import parse_when

    return parse_when(text, now=ctx.now, tz=ctx.tz, default_time=ctx.day_start, past=past)


def day(ctx: Ctx, text: str, *, past: bool = False) -> date:
    from tinycrm.dates import parse_date

    return parse_date(text, today=ctx.now.astimezone(ctx.tz).date(), past=past)


def resolve(ctx: Ctx, ref: str, kinds: tuple[str, ...] = ("contact",)) -> Target:
    from tinycrm.refs import resolve as _resolve

    return _resolve(ctx.db, ref, kinds)


def parse_id(text: str, what: str = "id") -> int:
    raw = text.strip().lstrip("#")
    if not raw.isdigit() or len(raw) > 18:
        from tinycrm.errors import InvalidInput

        raise InvalidInput(f"{what} must be a number like 12 or #12: {text!r}")
    return int(raw)


def confirm(question: str, yes: bool) -> None:
    """Ask before something destructive; refuse without a terminal unless --yes."""
    import sys

    from tinycrm.errors import InvalidInput

    if yes:
        return
    if not sys.stdin.isatty():
        raise InvalidInput(f"{question} — pass --yes to confirm when not on a terminal")
    if not typer.confirm(question, default=False):
        raise typer.Exit(1)


__all__ = [
    "ColumnsOpt",
    "IfVersionOpt",
    "JsonOpt",
    "json_or_format",
    "MineOpt",
    "OwnerOpt",
    "RefArg",
    "ViewOpt",
    "WhereOpt",
    "YesOpt",
    "confirm",
    "day",
    "get_ctx",
    "listing",
    "owner_name",
    "parse_id",
    "resolve",
    "when",
]
