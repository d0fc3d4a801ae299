"""Follow-ups: `next`, `digest`, `tag` and `user` (`export ics` is in cli/exports.py)."""

from __future__ import annotations

import os
import shlex
import sys
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tinycrm.cli import output
from tinycrm.cli.common import (
    LIMIT_MAX,
    JsonOpt,
    ViewOpt,
    YesOpt,
    confirm,
    day,
    get_ctx,
    json_or_format,
    listing,
)
from tinycrm.errors import InvalidInput
from tinycrm.services.context import Ctx
from tinycrm.text import plural

if TYPE_CHECKING:
    from tinycrm.services.agenda import Scope
    from tinycrm.services.next_actions import Action, Reason

UserOpt = Annotated[
    str | None, typer.Option("--user", "-u", help="Whose work (default: you).", show_default=False)
]
TeamOpt = Annotated[bool, typer.Option("--team", help="Everyone's work.")]


def _scope(ctx: Ctx, user: str | None, team: bool) -> tuple[Ctx, Scope]:
    """Whose work, and the context to show it in (in that user's time zone)."""
    from tinycrm.services.agenda import scope_for

    if user and team:
        raise InvalidInput("give --user or --team, not both")
    scope = scope_for(ctx, user, team)
    return _in_users_zone(ctx, scope.user_id), scope


def _in_users_zone(ctx: Ctx, user_id: int | None) -> Ctx:
    """Days and times in the user's own timezone, when the store knows it (a copy: the
    context itself never changes)."""
    if user_id is None or os.environ.get("TINYCRM_TZ"):
        return ctx
    from tinycrm.services.users import timezone_of

    zone = timezone_of(ctx.db, user_id)
    if zone:
        from dataclasses import replace
        from zoneinfo import ZoneInfo

        return replace(ctx, tz=ZoneInfo(zone))
    return ctx


# -- next -----------------------------------------------------------------------------------


def next_(
    user: UserOpt = None,
    team: TeamOpt = False,
    explain: Annotated[
        bool, typer.Option("--explain", "-x", help="Show how each score adds up.")
    ] = False,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, max=LIMIT_MAX, help="At most this many.")
    ] = 20,
    where: Annotated[
        str | None,
        typer.Option("--where", "-w", help="Only what is about contacts a filter matches."),
    ] = None,
    view: ViewOpt = None,
    json_: JsonOpt = False,
) -> None:
    """What to do now, most urgent first.

    Reminders, stay-in-touch, rotting deals and deals with no next step, ranked by one
    score (docs/followups.md).
    """
    from tinycrm.dates import format_relative
    from tinycrm.services.next_actions import next_actions

    ctx = get_ctx()
    ctx, scope = _scope(ctx, user, team)
    chosen = listing(ctx, "contacts", where, view).filter if (where or view) else None
    actions = next_actions(ctx, scope, limit=limit, where=chosen)
    if json_:
        output.emit_json([_action_json(a) for a in actions])
        return
    labels = {
        "reminder": "remind",
        "escalated": "escalated",
        "stay_in_touch": "touch",
        "rotting_deal": "rotting",
        "no_next_step": "no step",
        "birthday": "birthday",
        "case": "case",
        "escalated_case": "escalated",
    }
    columns = ["#", "score", "what", "ref", "about", "to do", "since"]
    if explain:
        columns.append("why")
    rows = []
    for a in actions:
        ref = f"deal:{a.id}" if a.deal_id == a.id and a.kind != "reminder" else f"#{a.id}"
        if a.kind in ("stay_in_touch", "birthday"):
            ref = f"contact #{a.id}"
        elif a.kind in ("case", "escalated_case"):
            ref = f"case #{a.id}"
        row = [
            a.rank,
            a.score,
            labels[a.kind],
            ref,
            a.about or "",
            a.title,
            format_relative(a.since, now=ctx.now, tz=ctx.tz),
        ]
        if explain:
            row.append(" ".join(f"{reason_text(r)} +{r.points}" for r in a.reasons))
        rows.append(row)
    output.table(
        columns,
        rows,
        styles=[
            "red"
            if a.kind in ("escalated", "escalated_case")
            or any(r.code == "overdue" for r in a.reasons)
            else None
            for a in actions
        ],
        empty="nothing to do right now — nothing due, nothing slipping",
    )


@dataclass
class ReasonText:
    """A part of a `next` score as its JSON gives it: the reason in words, and the points."""

    reason: str
    points: int


def reason_text(r: Reason) -> str:
    """A reason in words: 'overdue', '10d overdue', 'worth 15000.00 EUR weighted'..."""
    from tinycrm.money import format_cents

    amount = f"{format_cents(r.amount.cents)} {r.amount.currency}" if r.amount else ""
    return {
        "days_overdue": f"{r.days}d overdue",
        "due_today": "due today",
        "escalated": f"escalated to {r.lead}",
        "stay_in_touch": "stay in touch",
        "days_past_cadence": f"{r.days}d past cadence",
        "days_past_rot": f"{r.days}d past rot days",
        "no_next_step": "no next step",
        "weighted_value": f"worth {amount} weighted",
        "big_deal": "big deal",
        "bought_in_year": f"bought {amount} in a year",
        "urgent_case": "urgent case",
        "high_priority_case": "high priority",
        "normal_priority_case": "normal priority",
    }.get(r.code, r.code)


def _action_json(a: Action) -> dict[str, object]:
    """An action as JSON, its reasons worded (**ReasonText**)."""
    shown: dict[str, object] = output.to_jsonable(a)
    shown["reasons"] = [output.to_jsonable(ReasonText(reason_text(r), r.points)) for r in a.reasons]
    return shown


# -- digest ---------------------------------------------------------------------------------

FORMATS = ("text", "markdown", "html", "json")


def digest(
    user: UserOpt = None,
    team: TeamOpt = False,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", help="The day the digest is for (default today).", show_default=False
        ),
    ] = None,
    days_ahead: Annotated[
        int, typer.Option("--days-ahead", min=0, max=366, help="How far 'coming up' looks.")
    ] = 7,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="text, markdown, html or json.")
    ] = "text",
    quiet_if_empty: Annotated[
        bool, typer.Option("--quiet-if-empty", help="Print (or mail) nothing when nothing is due.")
    ] = False,
    mail_to: Annotated[
        str | None,
        typer.Option(
            "--mail-to", help="Mail it (text + HTML) instead of printing it.", show_default=False
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Mail again even if today's digest was sent.")
    ] = False,
    cron_line: Annotated[
        bool, typer.Option("--cron-line", help="Print a crontab line that runs this digest.")
    ] = False,
    where: Annotated[
        str | None,
        typer.Option("--where", "-w", help="Only items about contacts a filter matches."),
    ] = None,
    view: ViewOpt = None,
    json_: Annotated[bool, typer.Option("--json", help="The same as --format json.")] = False,
) -> None:
    """What is overdue, due and slipping, for cron or mail.

    Same store and --as-of, same output, byte for byte. With --mail-to, a digest goes out at
    most once a day (--force to resend); a run after a missed day catches up.
    """
    fmt = json_or_format(fmt, json_, "text")
    if fmt not in FORMATS:
        raise InvalidInput(f"--format must be one of {', '.join(FORMATS)}: {fmt!r}")
    if (where or view) and (mail_to or cron_line):
        # the send log keeps one digest a day per person: a narrowed one must not stand in
        raise InvalidInput("--where and --view narrow a printed digest, not a mailed one")
    if cron_line:
        line, note = _cron_line(user, team, fmt, mail_to, days_ahead)
        sys.stdout.write(line + "\n")
        if note:
            output.note(note)
        return
    from tinycrm.io import digest_format
    from tinycrm.services import digest as digests

    ctx = get_ctx()
    ctx, scope = _scope(ctx, user, team)
    the_day = day(ctx, as_of) if as_of else ctx.now.astimezone(ctx.tz).date()
    if mail_to:
        _mail(ctx, scope, the_day, days_ahead, mail_to, force=force, quiet_if_empty=quiet_if_empty)
        return
    per_section = digest_format.items_per_section(fmt)
    chosen = listing(ctx, "contacts", where, view).filter if (where or view) else None
    d = digests.build_digest(
        ctx, scope, the_day, days_ahead=days_ahead, per_section=per_section, where=chosen
    )
    if quiet_if_empty and d.empty:
        return
    sys.stdout.write(digest_format.render(d, fmt))


def _mail(
    ctx: Ctx,
    scope: Scope,
    the_day: date,
    days_ahead: int,
    to: str,
    *,
    force: bool,
    quiet_if_empty: bool,
) -> None:
    from tinycrm import config
    from tinycrm.io import digest_format, mail
    from tinycrm.services import digest as digests

    _check_mail_to(to)
    smtp = mail.smtp_settings(config.load_settings().raw, config.settings_path())
    warning = mail.login_warning(smtp)  # refuses a login that would go in clear text
    sent = digests.sent_on(ctx, scope, the_day)
    if sent is not None and not force:
        _already_mailed(ctx, the_day, sent)
        return
    per_section = digest_format.ITEMS_PER_SECTION
    d = digests.build_digest(ctx, scope, the_day, days_ahead=days_ahead, per_section=per_section)
    if quiet_if_empty and d.empty:
        return
    last = digests.last_sent_before(ctx, scope, the_day)
    if digests.missed_weekdays(last, the_day):
        d.last_sent = last
    sender = smtp.sender or f"tinycrm <{smtp.user or 'tinycrm'}@{smtp.host}>"
    msg = mail.build_message(
        sender=sender,
        to=to,
        subject=digest_format.subject(d),
        text=digest_format.to_text(d),
        html=digest_format.to_html(d),
    )
    claim = digests.claim_send(ctx, scope, the_day, to, force=force)
    if not claim.taken:  # another run mailed it since the check above
        assert claim.sent_at is not None
        _already_mailed(ctx, the_day, claim.sent_at)
        return
    if warning:
        output.warn(warning)
    try:
        mail.send(smtp, msg)
    except BaseException:
        digests.release_send(ctx, scope, the_day, claim)  # the next run sends it
        raise
    if sys.stdout.isatty():
        output.say(f"Mailed the digest for {the_day} to {to}")


def _already_mailed(ctx: Ctx, the_day: date, sent: datetime) -> None:
    if sys.stderr.isatty():
        sys.stderr.write(
            f"The digest for {the_day} was already mailed at"
            f" {output.local(sent, ctx.tz)}; --force sends it again.\n"
        )


def _check_mail_to(to: str) -> None:
    from tinycrm.text import normalize_email

    try:
        normalize_email(to)
    except ValueError:
        raise InvalidInput(f"--mail-to must be an email address: {to!r}") from None


def _cron_line(
    user: str | None, team: bool, fmt: str, mail_to: str | None, days: int
) -> tuple[str, str | None]:
    """(A crontab line, a note for stderr or None) for this digest. Mailed digests run
    every hour of the working day: the send log keeps it to one mail a day, and a machine
    that was off at 7 catches up."""
    from tinycrm import config

    if mail_to:
        _check_mail_to(mail_to)
    args = ["digest"]
    if team:
        args.append("--team")
    else:
        args += ["--user", user or config.current_user_name(config.load_settings())]
    if fmt != "text":
        args += ["--format", fmt]
    if days != 7:
        args += ["--days-ahead", str(days)]
    args.append("--quiet-if-empty")
    if mail_to:
        args += ["--mail-to", mail_to]
    schedule = "0 7-18 * * 1-5" if mail_to else "0 7 * * 1-5"
    return cron_line_for(args, schedule, checked=[("--user", user or "")])


def cron_line_for(
    args: list[str],
    schedule: str,
    *,
    checked: list[tuple[str, str]] | None = None,
    secret_env: str | None = None,
) -> tuple[str, str | None]:
    """(A crontab line running `tinycrm ARGS` on `schedule`, a note for stderr or None).
    The line has absolute paths and names the store this command would use (--db
    included), never its password (nor `secret_env`'s value: the note says where cron's
    job gets it). Every piece is shell-quoted, and every '%' is written '\\%', or cron
    would end the command there."""
    from tinycrm import config
    from tinycrm.cli.state import state
    from tinycrm.startup import locate_store

    script = Path(sys.argv[0])
    if script.name == "tinycrm" and script.exists():
        command = [str(script.absolute())]
    else:  # run as `python -m tinycrm` (or from tests): the same interpreter, absolutely
        command = [os.path.abspath(sys.executable), "-m", "tinycrm"]
    settings = config.load_settings()
    chosen = state.db_option or os.environ.get("TINYCRM_DB")  # not from the settings file
    location = locate_store(state.db_option, settings)
    env: list[tuple[str, str]] = []
    notes = []
    if location.path is not None:
        env.append(("TINYCRM_DB", str(location.path.resolve())))
    else:
        assert location.pg is not None
        if chosen or location.pg.password is None:  # else the settings file names it
            env.append(("TINYCRM_DB", location.pg.url))
            if location.pg.password is not None or os.environ.get("PGPASSWORD"):
                notes.append(
                    "the crontab line leaves the store's password out: cron's job reads it"
                    " from ~/.pgpass (or the file PGPASSFILE names) as"
                    " HOST:PORT:DATABASE:USER:PASSWORD"
                )
        if os.environ.get("PGPASSFILE"):
            env.append(("PGPASSFILE", str(Path(os.environ["PGPASSFILE"]).resolve())))
    if os.environ.get("TINYCRM_HOME"):
        env.append(("TINYCRM_HOME", str(Path(os.environ["TINYCRM_HOME"]).resolve())))
    else:
        env.append(("TINYCRM_SETTINGS", str(config.settings_path().resolve())))
    if secret_env and os.environ.get(secret_env):
        notes.append(
            f"the crontab line leaves {secret_env} out: store the password in the keyring"
            " (service tinycrm-imap) or set it in cron's environment"
        )
    arguments = [("an argument", a) for a in args]
    for name, value in [*env, *(checked or []), ("the tinycrm command", command[0]), *arguments]:
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            raise InvalidInput(
                f"{name} can't go into a crontab line: it holds a line break or a control"
                f" character: {value!r}"
            )
    words = [f"{name}={shlex.quote(value)}" for name, value in env]
    words += [shlex.quote(a) for a in [*command, *args]]
    return f"{schedule} {' '.join(words)}".replace("%", "\\%"), "; ".join(notes) or None


# -- tags -----------------------------------------------------------------------------------

tag_app = typer.Typer(help="Tags and their stay-in-touch cadences.", no_args_is_help=True)


@tag_app.command("list")
def tag_list(json_: JsonOpt = False) -> None:
    """Every tag with how many contacts carry it and its cadence."""
    from tinycrm.services.agenda import list_tags

    tags = list_tags(get_ctx().db)
    if json_:
        output.emit_json(tags)
        return
    output.table(
        ["tag", "contacts", "stay in touch"],
        [
            [t.tag, t.contacts, f"every {plural(t.cadence_days, 'day')}" if t.cadence_days else ""]
            for t in tags
        ],
        empty="no tags yet: tinycrm contact tag alice vip",
    )


@tag_app.command("cadence")
def tag_cadence(
    tag: Annotated[str, typer.Argument(help="The tag, e.g. vip.")],
    every: Annotated[
        str, typer.Argument(help="How often to be in touch: 14d, 2w, 1m — or 'none'.")
    ],
    json_: JsonOpt = False,
) -> None:
    """Set the default stay-in-touch cadence of everyone with a tag.

    A contact's own cadence (contact edit --every) wins over its tags'; with several tagged
    cadences the shortest applies.
    """
    from tinycrm.cli.contacts import _cadence
    from tinycrm.services.agenda import set_tag_cadence

    days = _cadence(every.strip())
    info = set_tag_cadence(get_ctx(), tag, days)
    if json_:
        output.emit_json(info)
        return
    who = plural(info.contacts, "contact")
    if days is None:
        output.say(f"Tag {info.tag}: no default cadence ({who})")
    else:
        output.say(f"Tag {info.tag}: stay in touch every {plural(days, 'day')} ({who})")


@tag_app.command("rename")
def tag_rename(
    old: Annotated[str, typer.Argument(help="The tag now, e.g. vpi.")],
    new: Annotated[str, typer.Argument(help="Its new name (merged into it if it exists).")],
    json_: JsonOpt = False,
) -> None:
    """Rename a tag on every contact (merging into NEW).

    Into a tag that exists, the two merge, with the cadence: NEW keeps its own, or takes
    OLD's.
    """
    from tinycrm.services.tags import rename_tag

    info = rename_tag(get_ctx(), old, new)
    if json_:
        output.emit_json(info)
        return
    verb = "Merged" if info.merged else "Renamed"
    who = f"{info.contacts} contact{'s' if info.contacts != 1 else ''}"
    output.say(f"{verb} tag {info.tag} into {info.into} ({who})")


@tag_app.command("rm")
def tag_rm(
    tag: Annotated[str, typer.Argument(help="The tag to remove from everyone.")],
    yes: YesOpt = False,
    json_: JsonOpt = False,
) -> None:
    """Remove a tag from every contact, with its cadence."""
    from tinycrm.services.tags import remove_tag, tag_impact

    ctx = get_ctx()
    impact = tag_impact(ctx.db, tag)
    cadence = f" and its cadence (every {impact.cadence_days} days)" if impact.cadence_days else ""
    confirm(f"Remove tag {impact.tag} from {impact.contacts} contact(s){cadence}?", yes)
    info = remove_tag(ctx, tag)
    if json_:
        output.emit_json(info)
        return
    output.say(f"Removed tag {info.tag} from {info.contacts} contact(s)")


# -- users ----------------------------------------------------------------------------------

user_app = typer.Typer(help="The salespeople: email, timezone and lead.", no_args_is_help=True)


@user_app.command("list")
def user_list(json_: JsonOpt = False) -> None:
    """Every user."""
    from tinycrm.services.users import list_users

    ctx = get_ctx()
    users = list_users(ctx.db)
    if json_:
        output.emit_json(users)
        return
    output.table(
        ["id", "name", "email", "timezone", "lead"],
        [
            [
                u.id,
                u.name + (" (you)" if u.name == ctx.user_name else ""),
                u.email or "",
                u.timezone or "",
                u.lead or "",
            ]
            for u in users
        ],
    )


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="Login-style name, e.g. anna.")],
    email: Annotated[str | None, typer.Option("--email", help="Where digests go.")] = None,
    timezone: Annotated[str | None, typer.Option("--timezone", help="e.g. Europe/Berlin.")] = None,
    lead: Annotated[
        str | None, typer.Option("--lead", help="Who gets this user's escalations.")
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Add a salesperson."""
    from tinycrm.services.users import add_user

    ctx = get_ctx()
    u = add_user(ctx.db, name, ctx.now, email=email, timezone=timezone, lead=lead, by=ctx)
    if json_:
        output.emit_json(u)
        return
    output.say(f"Added user {u.name} (#{u.id})")


@user_app.command("rm")
def user_rm(
    name: Annotated[str, typer.Argument(help="The user leaving the team.")],
    to: Annotated[str, typer.Option("--to", help="Who takes over their open work.")],
    yes: YesOpt = False,
    json_: JsonOpt = False,
) -> None:
    """Take a user off the team; their open work moves to --to.

    The history keeps their name.
    """
    from tinycrm.services.owners import remove_user

    ctx = get_ctx()
    confirm(
        f"Remove user {name.strip()}? Their companies, contacts, open deals and open"
        f" reminders go to {to.strip()}; what they did stays in the history under their name.",
        yes,
    )
    moved = remove_user(ctx, name, to)
    if json_:
        output.emit_json(moved)
        return
    output.say(
        f"Removed user {moved.user}; {moved.to} now has their {len(moved.companies)}"
        f" company(ies), {len(moved.contacts)} contact(s), {len(moved.deals)} open deal(s)"
        f" and {len(moved.reminders)} open reminder(s)"
    )


@user_app.command("edit")
def user_edit(
    name: Annotated[str, typer.Argument(help="The user.")],
    email: Annotated[str | None, typer.Option("--email", help="'' clears it.")] = None,
    timezone: Annotated[str | None, typer.Option("--timezone", help="'' clears it.")] = None,
    lead: Annotated[str | None, typer.Option("--lead", help="'' clears it.")] = None,
    json_: JsonOpt = False,
) -> None:
    """Change a user's email, timezone or lead."""
    from tinycrm.services.users import edit_user

    ctx = get_ctx()
    u = edit_user(ctx.db, name, email=email, timezone=timezone, lead=lead, by=ctx)
    if json_:
        output.emit_json(u)
        return
    output.say(f"Updated user {u.name}")
