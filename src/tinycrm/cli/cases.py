"""`tinycrm case ...`, `tinycrm sla ...` and `tinycrm settings ...`: service cases, their
SLA targets and the team's shared settings (working hours, holidays)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from tinycrm.cli import output
from tinycrm.cli.common import (
    ID_MAX,
    IfVersionOpt,
    JsonOpt,
    MineOpt,
    OwnerOpt,
    RefArg,
    ScreenfulOpt,
    YesOpt,
    confirm,
    get_ctx,
    owner_name,
    when,
)

if TYPE_CHECKING:
    from tinycrm.services.cases import CaseView
    from tinycrm.services.context import Ctx

case_app = typer.Typer(help="Service cases: customer requests with SLAs.", no_args_is_help=True)
sla_app = typer.Typer(help="SLA targets per case priority.", no_args_is_help=True)
settings_app = typer.Typer(
    help="Settings the whole team shares: hours, escalation, quotes.",
    no_args_is_help=True,
)

IdArg = Annotated[int, typer.Argument(min=1, max=ID_MAX, help="The case's id.")]
PriorityOpt = Annotated[
    str | None, typer.Option("--priority", help="low, normal, high or urgent.", show_default=False)
]
AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Judge overdue and escalation at this time (default now).",
        show_default=False,
    ),
]


def _show(ctx: Ctx, v: CaseView, json_: bool, said: str | None = None) -> None:
    if json_:
        output.emit_json(output.to_jsonable(v))
        return
    if said is not None:
        output.say(said)
        return
    tz = ctx.tz
    pairs: list[tuple[str, object]] = [
        ("Case", f"#{v.id} {v.title}"),
        ("Contact", f"{v.contact} (#{v.contact_id})"),
        ("Priority", v.priority),
        ("Status", v.status),
        ("Owner", v.owner),
        ("SLA due", _sla(ctx, v)),
        ("Due", output.local(v.due_at, tz) if v.due_at else None),
        ("First response", output.local(v.first_response_at, tz) if v.first_response_at else None),
        ("Resolved", output.local(v.resolved_at, tz) if v.resolved_at else None),
        ("Closed", output.local(v.closed_at, tz) if v.closed_at else None),
        ("Solution", v.solution),
        ("Satisfaction", f"{v.satisfaction}/5" if v.satisfaction else None),
        ("Version", v.version),
        ("Details", v.body),
    ]
    output.fields([(k, x) for k, x in pairs if x not in (None, "")])
    for n in v.notes:
        output.say(f"  {output.local(n.happened_at, tz)}  {n.user or '—'}: {n.body}")


def _sla(ctx: Ctx, v: CaseView) -> str:
    if v.sla_due_at is None:
        return "paused (waiting on the customer)" if v.status == "waiting" else "—"
    text = output.due(v.sla_due_at, ctx.now, ctx.tz)
    if v.escalated_to:
        text += f", escalated to {v.escalated_to} (level {v.escalation})"
    return text


@case_app.command("add")
def case_add(
    ref: RefArg,
    title: Annotated[str, typer.Argument(help="What the customer needs, in a line.")],
    priority: Annotated[
        str, typer.Option("--priority", help="low, normal, high or urgent.")
    ] = "normal",
    body: Annotated[str | None, typer.Option("--body", help="The details.")] = None,
    due: Annotated[
        str | None, typer.Option("--due", help="A deadline of its own (WHEN).", show_default=False)
    ] = None,
    owner: Annotated[
        str | None, typer.Option("--owner", help="Who handles it (default you).")
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Open a case for a contact; its SLA clock starts now."""
    from tinycrm.services import cases

    ctx = get_ctx()
    v = cases.add_case(
        ctx,
        ref,
        title,
        priority=priority,
        body=body,
        due=when(ctx, due) if due else None,
        owner=owner,
    )
    _show(
        ctx,
        v,
        json_,
        f"Opened case #{v.id} {v.title} for {v.contact} ({v.priority}, SLA {_sla(ctx, v)})",
    )


@case_app.command("list")
def case_list(
    open_: Annotated[bool, typer.Option("--open", help="Only open and waiting cases.")] = False,
    mine: MineOpt = False,
    owner: OwnerOpt = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only cases past their SLA.")] = False,
    escalated: Annotated[
        bool,
        typer.Option("--escalated", help="Only cases escalated to you now (or to --owner)."),
    ] = False,
    priority: PriorityOpt = None,
    as_of: AsOfOpt = None,
    limit: ScreenfulOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Cases, the most urgent first."""
    from tinycrm.services import cases
    from tinycrm.services.users import user_id

    ctx = get_ctx()
    who = owner_name(ctx, owner, mine)
    at = when(ctx, as_of) if as_of else None
    owner_id = user_id(ctx.db, who) if who and not escalated else None
    escalated_to = (user_id(ctx.db, who) if who else ctx.user_id) if escalated else None

    def count() -> int:
        return cases.count_cases(
            ctx,
            open_only=open_,
            owner_id=owner_id,
            overdue=overdue,
            priority=priority,
            escalated_to=escalated_to,
            as_of=at,
        )

    shown = limit if json_ else output.screen_limit(limit)
    rows = cases.list_cases(
        ctx,
        open_only=open_,
        owner_id=owner_id,
        overdue=overdue,
        priority=priority,
        escalated_to=escalated_to,
        as_of=at,
        limit=shown,
    )
    if json_:
        output.emit_json(output.to_jsonable(rows))
        return
    now = at or ctx.now
    output.table(
        ["#", "Priority", "Status", "Title", "Contact", "Owner", "SLA due", "Escalated to"],
        [
            [
                v.id,
                v.priority,
                v.status,
                v.title,
                v.contact,
                v.owner,
                output.due(v.sla_due_at, now, ctx.tz) if v.sla_due_at else "—",
                v.escalated_to,
            ]
            for v in rows
        ],
        empty="no cases",
    )
    if shown is not None and len(rows) == shown:
        output.more_rows(shown, count(), "narrow with --open/--owner/--priority or raise --limit")


@case_app.command("show")
def case_show(case_id: IdArg, as_of: AsOfOpt = None, json_: JsonOpt = False) -> None:
    """A case with its SLA clock, escalation and notes."""
    from tinycrm.services import cases

    ctx = get_ctx()
    _show(ctx, cases.get_case(ctx, case_id, as_of=when(ctx, as_of) if as_of else None), json_)


@case_app.command("edit")
def case_edit(
    case_id: IdArg,
    title: Annotated[str | None, typer.Option("--title", help="New title.")] = None,
    body: Annotated[str | None, typer.Option("--body", help="New details ('' clears).")] = None,
    priority: PriorityOpt = None,
    status: Annotated[
        str | None,
        typer.Option(
            "--status",
            help="open, waiting (on the customer: the SLA clock pauses) or resolved.",
            show_default=False,
        ),
    ] = None,
    due: Annotated[
        str | None, typer.Option("--due", help="A deadline of its own (WHEN; 'none' clears).")
    ] = None,
    if_version: IfVersionOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Change a case's title, details, priority, status or deadline."""
    from tinycrm.services import cases

    ctx = get_ctx()
    clear = due is not None and due.strip().lower() in ("none", "")
    v = cases.edit_case(
        ctx,
        case_id,
        title=title,
        body=body,
        priority=priority,
        status=status,
        due=when(ctx, due) if due is not None and not clear else None,
        clear_due=clear,
        expected_version=if_version,
    )
    _show(ctx, v, json_, f"Updated case #{v.id} {v.title} ({v.status})")


@case_app.command("assign")
def case_assign(
    case_id: IdArg,
    user: Annotated[str, typer.Argument(help="The user who handles it now.")],
    if_version: IfVersionOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Give a case to another user."""
    from tinycrm.services import cases

    ctx = get_ctx()
    v = cases.assign_case(ctx, case_id, user, expected_version=if_version)
    _show(ctx, v, json_, f"Case #{v.id} {v.title} is {v.owner}'s now")


@case_app.command("note")
def case_note(
    case_id: IdArg,
    text: Annotated[str, typer.Argument(help="The note ('-' reads it from stdin).")],
    json_: JsonOpt = False,
) -> None:
    """Log a note on a case and the contact's timeline.

    The first note is the case's first response."""
    import sys

    from tinycrm.services import cases

    ctx = get_ctx()
    v = cases.note_case(ctx, case_id, sys.stdin.read() if text == "-" else text)
    _show(ctx, v, json_, f"Logged a note on case #{v.id} {v.title} for {v.contact}")


@case_app.command("close")
def case_close(
    case_id: IdArg,
    solution: Annotated[
        str | None, typer.Option("--solution", help="How it was solved (required).")
    ] = None,
    satisfaction: Annotated[
        int | None,
        typer.Option("--satisfaction", help="The customer's score, 1 to 5.", show_default=False),
    ] = None,
    if_version: IfVersionOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Close a case with its solution."""
    from tinycrm.services import cases

    ctx = get_ctx()
    v = cases.close_case(
        ctx, case_id, solution or "", satisfaction=satisfaction, expected_version=if_version
    )
    _show(ctx, v, json_, f"Closed case #{v.id} {v.title}")


@case_app.command("reopen")
def case_reopen(case_id: IdArg, if_version: IfVersionOpt = None, json_: JsonOpt = False) -> None:
    """Open a resolved or closed case again.

    Its SLA clock goes on where it stopped."""
    from tinycrm.services import cases

    ctx = get_ctx()
    v = cases.reopen_case(ctx, case_id, expected_version=if_version)
    _show(ctx, v, json_, f"Reopened case #{v.id} {v.title}")


@case_app.command("similar")
def case_similar(
    case_id: IdArg,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, max=100, help="At most this many cases.")
    ] = 5,
    json_: JsonOpt = False,
) -> None:
    """Past cases most like this one, with their solutions.

    Resolved and closed cases whose titles, details and solutions share the most words with
    this case's title and details, the most similar first (full-text ranking: bm25 on
    SQLite, ts_rank on PostgreSQL)."""
    from tinycrm.services import cases

    ctx = get_ctx()
    found = cases.similar_cases(ctx, case_id, limit=limit)
    if json_:
        output.emit_json(output.to_jsonable(found))
        return
    output.table(
        ["id", "case", "contact", "status", "solution", "CSAT"],
        [
            [
                s.id,
                s.title,
                s.contact,
                s.status,
                s.solution or "",
                f"{s.satisfaction}/5" if s.satisfaction else "",
            ]
            for s in found
        ],
        empty=f"no past case is like case #{case_id}",
    )


@case_app.command("rm")
def case_rm(
    case_id: IdArg, yes: YesOpt = False, if_version: IfVersionOpt = None, json_: JsonOpt = False
) -> None:
    """Delete a case (its notes stay on the contact's timeline)."""
    from tinycrm.services import cases

    ctx = get_ctx()
    v = cases.get_case(ctx, case_id)
    confirm(f"Delete case #{v.id} {v.title} ({v.contact})?", yes)
    cases.delete_case(ctx, case_id, expected_version=if_version)
    if json_:
        output.emit_json({"deleted": {"kind": "case", "id": v.id, "title": v.title}})
    else:
        output.say(f"Deleted case #{v.id} {v.title}")


# -- SLA targets ----------------------------------------------------------------------------
@sla_app.command("list")
def sla_list(json_: JsonOpt = False) -> None:
    """Each priority's response and resolution targets, in working time."""
    from tinycrm.services import sla

    ctx = get_ctx()
    rows = sla.list_targets(ctx.db)
    if json_:
        output.emit_json(output.to_jsonable(rows))
        return
    output.table(
        ["Priority", "Respond", "Resolve", ""],
        [
            [t.priority, target_text(t.respond), target_text(t.resolve), "default" * t.default]
            for t in rows
        ],
    )


def target_text(target: str) -> str:
    """A stored SLA target (`30m`, `4h`, `1d`) as people read lengths of time (`dates.span`:
    `30 min`, `4h`, `1d`, where a day is a working day); a length that doesn't fit the next
    unit up stays in its own (`90 min`, `36h`)."""
    from tinycrm.dates import span

    n, unit = int(target[:-1]), target[-1]
    if unit == "m" and n % 60:
        return f"{n} min" if n >= 60 else span(n * 60)
    if unit == "h" and n >= 24:
        return f"{n}h"
    return span(n * {"m": 60, "h": 3600, "d": 86400}[unit])


@sla_app.command("edit")
def sla_edit(
    priority: Annotated[str, typer.Argument(help="low, normal, high or urgent.")],
    respond: Annotated[
        str | None,
        typer.Option("--respond", help="First-response target: 30 min, 4h, 1d (working time)."),
    ] = None,
    resolve: Annotated[
        str | None,
        typer.Option("--resolve", help="Resolution target: 30 min, 4h, 1d (working time)."),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Change a priority's targets; its open cases' clocks move with them."""
    from tinycrm.services import cases

    ctx = get_ctx()
    t = cases.edit_sla(ctx, priority, respond=respond, resolve=resolve)
    if json_:
        output.emit_json(output.to_jsonable(t))
    else:
        output.say(
            f"SLA for {t.priority}: respond within {target_text(t.respond)},"
            f" resolve within {target_text(t.resolve)}"
        )


# -- shared settings --------------------------------------------------------------------------
@settings_app.command("list")
def settings_list(json_: JsonOpt = False) -> None:
    """The store's shared settings and their values."""
    from tinycrm.services import team_settings

    ctx = get_ctx()
    rows = team_settings.list_settings(ctx.db)
    if json_:
        output.emit_json(output.to_jsonable(rows))
        return
    output.table(
        ["Setting", "Value", "", "What"],
        [[s.key, s.value, "default" if s.default else "", s.about] for s in rows],
    )
    from tinycrm import config
    from tinycrm.startup import file_shared

    for e in team_settings.effective(ctx.db, file_shared(config.load_settings())):
        if e.source == "settings file":  # on stderr when piped: the data lines stay clean
            note = f"{e.key}: your settings file's {e.value or 'none'} applies to you"
            output.say(note) if output.is_tty() else output.note(note)


@settings_app.command("set")
def settings_set(
    key: Annotated[
        str,
        typer.Argument(help="working-hours, holidays, escalate-after... (see settings list)."),
    ],
    value: Annotated[
        str,
        typer.Argument(
            help="'Mon-Fri 09:00-17:00'; holidays: '2026-12-24, 2026-12-25'; 3 (days); 10000."
        ),
    ],
    json_: JsonOpt = False,
) -> None:
    """Set a setting for the whole store.

    Open cases' SLA clocks follow the working hours and holidays; quotes issued from now
    on carry the company's header and terms."""
    from tinycrm.services import cases

    ctx = get_ctx()
    s = cases.set_team_setting(ctx, key, value)
    if json_:
        output.emit_json(output.to_jsonable(s))
    else:
        output.say(f"{s.key} = {s.value or '(none)'}")


__all__ = ["case_app", "settings_app", "sla_app"]
