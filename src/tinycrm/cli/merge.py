"""`tinycrm dedupe` (likely duplicates) and `tinycrm merge` (fold one contact into another,
list merges, undo one)."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Annotated

import typer

from tinycrm.cli import output
from tinycrm.cli.common import ID_MAX, LIMIT_MAX, JsonOpt, YesOpt, confirm, get_ctx, resolve

if TYPE_CHECKING:
    from tinycrm.services.merge import MergePlan, Value

TTY_GROUPS = 20  # groups shown on a terminal without --limit


def dedupe(
    threshold: Annotated[
        int,
        typer.Option(
            "--threshold",
            min=50,
            max=100,
            help="How alike two names must be to count, 0-100 (100: only the same name).",
        ),
    ] = 90,
    limit: Annotated[
        int | None,
        typer.Option("--limit", "-n", min=1, max=LIMIT_MAX, help="At most this many groups."),
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """List contacts that look like one person, with why.

    Groups by shared email, phone or a near-identical name, strongest evidence first.
    """
    from tinycrm.services import duplicates

    ctx = get_ctx()
    if limit is None and output.is_tty() and not json_:
        limit = TTY_GROUPS
    report = duplicates.find_groups(ctx.db, threshold=threshold, limit=limit)
    if json_:
        output.emit_json(report)
        return
    rows = []
    for n, g in enumerate(report.groups, start=1):
        for i, c in enumerate(g.contacts):
            why = "; ".join(g.reasons) if i == 0 else ""
            rows.append([n if i == 0 else "", c.id, c.name, c.company, c.email, c.phone, why])
            if not output.is_tty():
                rows[-1][0], rows[-1][6] = n, "; ".join(g.reasons)
    output.table(
        ["group", "id", "name", "company", "email", "phone", "why"],
        rows,
        empty=f"no likely duplicates among {report.contacts:,} contacts",
    )
    if report.groups and output.is_tty():
        first = report.groups[0].contacts
        output.more_rows(
            len(report.groups), report.groups_total, "raise --limit, or --json for all"
        )
        output.say(
            f"Merge a group with: tinycrm merge {first[0].id} {first[1].id}"
            " (the second is folded into the first)"
        )


def merge(
    a: Annotated[str | None, typer.Argument(help="The contact to keep: id, email or name.")] = None,
    b: Annotated[
        str | None, typer.Argument(help="The contact folded into it (then removed).")
    ] = None,
    prefer: Annotated[
        str,
        typer.Option(
            "--prefer", help="Whose fields win when both have one: newer (updated last), a or b."
        ),
    ] = "newer",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would happen; change nothing.")
    ] = False,
    undo: Annotated[
        int | None,
        typer.Option("--undo", metavar="ID", min=1, max=ID_MAX, help="Undo merge ID (see --list)."),
    ] = None,
    list_: Annotated[bool, typer.Option("--list", help="List the merges, newest first.")] = False,
    yes: YesOpt = False,
    json_: JsonOpt = False,
) -> None:
    """Merge contact B into A (--undo ID puts it back).

    Every note, reminder, deal and purchase of B moves to A.
    """
    from tinycrm.errors import InvalidInput
    from tinycrm.services import merge as merging

    if undo is not None or list_:
        if a is not None or b is not None or (undo is not None and list_):
            raise InvalidInput("give two contacts to merge, or --undo ID, or --list")
        if list_:
            _list(json_)
        else:
            _undo(undo or 0, yes, json_)
        return
    if a is None or b is None:
        raise InvalidInput(
            "give the contact to keep and the one to fold into it: tinycrm merge A B"
        )
    ctx = get_ctx()
    keep, drop = resolve(ctx, a), resolve(ctx, b)
    plan = merging.plan_merge(ctx, keep.id, drop.id, prefer=prefer)
    if dry_run:
        if json_:
            output.emit_json(plan)
        else:
            _show(plan, ctx.tz)
            output.say("Dry run: nothing was changed.")
        return
    import sys

    if not yes and not json_ and sys.stdin.isatty():
        _show(plan, ctx.tz)  # what the question is about (off a terminal, confirm() refuses)
    confirm(f"Merge #{plan.removed_id} {plan.removed} into #{plan.kept_id} {plan.kept}?", yes)
    done = merging.merge_contacts(ctx, keep.id, drop.id, prefer=prefer)
    if json_:
        output.emit_json(done)
    else:
        output.say(
            f"Merged #{done.removed_id} {done.removed} into #{done.kept_id} {done.kept}"
            f" (merge {done.merge_id}; undo with: tinycrm merge --undo {done.merge_id})"
        )


def _cell(value: Value, tz: tzinfo) -> str | None:
    """A merged field's value for people: times local, to the minute."""
    if isinstance(value, datetime):
        return output.local(value, tz)
    return None if value is None else str(value)


def _show(plan: MergePlan, tz: tzinfo) -> None:
    moves = [
        (plan.interactions, "interaction"),
        (plan.reminders, "reminder"),
        (plan.deals, "deal"),
        (plan.purchases, "purchase"),
        (plan.emails, "email"),
        (plan.phones, "phone"),
        (plan.tags, "tag"),
    ]
    moving = ", ".join(_count(n, what) for n, what in moves if n)
    output.say(
        f"Merge #{plan.removed_id} {plan.removed} into #{plan.kept_id} {plan.kept}:"
        f" #{plan.removed_id} is removed; {moving or 'nothing else'} moves over."
    )
    if plan.fields:
        whose = {"kept": f"#{plan.kept_id}", "removed": f"#{plan.removed_id}", "both": "both"}
        output.table(
            ["field", f"#{plan.kept_id} has", f"#{plan.removed_id} has", "merged", "from"],
            [
                [f.field, _cell(f.kept, tz), _cell(f.removed, tz), _cell(f.result, tz)]
                + [whose[f.source]]
                for f in plan.fields
            ],
        )
        winner = plan.kept_id if plan.winner == "kept" else plan.removed_id
        rule = {"newer": "updated last", "a": "--prefer a", "b": "--prefer b"}[plan.prefer]
        output.say(f"Where both have a value, #{winner} wins ({rule}); notes are joined.")


def _list(json_: bool) -> None:
    from tinycrm.services import merge as merging

    ctx = get_ctx()
    rows = merging.list_merges(ctx.db)
    if json_:
        output.emit_json(rows)
        return
    output.table(
        ["merge", "when", "kept", "removed", "by", "undone"],
        [
            [
                r.id,
                output.local(r.merged_at, ctx.tz),
                f"#{r.kept_id} {r.kept}",
                f"#{r.removed_id} {r.removed}",
                r.user,
                output.local(r.undone_at, ctx.tz),
            ]
            for r in rows
        ],
        empty="no merges yet: tinycrm dedupe lists likely duplicates",
    )


def _undo(merge_id: int, yes: bool, json_: bool) -> None:
    from tinycrm.services import merge as merging

    ctx = get_ctx()
    m = merging.get_merge(ctx.db, merge_id)
    confirm(
        f"Undo merge {m.id}: bring back #{m.removed_id} {m.removed} with what it had, and"
        f" #{m.kept_id} {m.kept} as it was before?",
        yes,
    )
    done = merging.undo_merge(ctx, merge_id)
    if json_:
        output.emit_json(done)
    else:
        output.say(
            f"Undid merge {done.merge_id}: #{done.restored_id} {done.restored} is back with"
            f" {_count(done.interactions, 'interaction')}, {_count(done.reminders, 'reminder')},"
            f" {_count(done.deals, 'deal')} and {_count(done.purchases, 'purchase')};"
            f" #{done.kept_id} {done.kept} is as it was"
        )


def _count(n: int, what: str) -> str:
    from tinycrm.text import plural

    return plural(n, what)
