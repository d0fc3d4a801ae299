"""`tinycrm history` (the audit log) and `tinycrm assign` (handing records over)."""

from __future__ import annotations

import re
from typing import Annotated

import typer

from tinycrm.cli import output
from tinycrm.cli.common import LIMIT_MAX, JsonOpt, get_ctx, parse_id, resolve, when
from tinycrm.errors import InvalidInput, NotFound
from tinycrm.services.context import Ctx
from tinycrm.text import plural

_EXPLICIT = re.compile(r"(contact|c|company|co|deal|d):#?(\d{1,18})", re.IGNORECASE)
_KIND = {"c": "contact", "co": "company", "d": "deal"}


def history(
    ref: Annotated[
        str | None,
        typer.Argument(help="Contact, company (company:acme) or deal (deal:12); omit with --all."),
    ] = None,
    all_: Annotated[
        bool, typer.Option("--all", "-a", help="Every change in the store, newest first.")
    ] = False,
    user: Annotated[
        str | None, typer.Option("--user", "-u", help="With --all: only this user's changes.")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="With --all: only changes since WHEN.")
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, max=LIMIT_MAX, help="At most this many.")
    ] = 50,
    json_: JsonOpt = False,
) -> None:
    """Who changed what and when, old → new, newest first.

    A contact's history includes its notes', reminders' and purchases' changes.
    """
    from tinycrm.services import audit

    ctx = get_ctx()
    if all_:
        if ref is not None:
            raise InvalidInput("give a REF or --all, not both")
        user_id = None
        if user is not None:
            from tinycrm.services.users import user_id as find_user

            user_id = find_user(ctx.db, user)
        start = when(ctx, since, past=True) if since else None
        entries = audit.recent(ctx.db, user_id=user_id, since=start, limit=limit)
        title = "Changes"
    else:
        if ref is None:
            raise InvalidInput("give a contact, company or deal, or --all for every change")
        if user is not None or since is not None:
            raise InvalidInput("--user and --since go with --all")
        kind, record_id, label = _record(ctx, ref)
        entries = audit.history(ctx.db, kind, record_id, limit=limit)
        title = f"History of {kind} #{record_id} {label}"
    if json_:
        output.emit_json(entries)
        return
    if output.is_tty() and entries:
        output.say(title)
    output.table(
        ["when", "by", "record", "what", "changes"],
        [
            [
                output.local(e.at, ctx.tz),
                e.user or "",
                _record_label(e),
                e.action,
                audit.describe(e, ctx.tz),
            ]
            for e in entries
        ],
        empty="no changes recorded" + ("" if all_ else " for it yet"),
    )
    if output.is_tty() and len(entries) == limit:
        output.say(f"… the newest {limit:,} shown: raise --limit for more")


def _record(ctx: Ctx, ref: str) -> tuple[str, int, str]:
    """The contact, company or deal `ref` names; a deleted one by its explicit id
    (`contact:12`) when the log knows it."""
    try:
        t = resolve(ctx, ref, ("contact", "company", "deal"))
        return t.kind, t.id, t.label
    except NotFound:
        m = _EXPLICIT.fullmatch(ref.strip())
        if m is None:
            raise
        from tinycrm.services import audit

        kind = _KIND.get(m.group(1).lower(), m.group(1).lower())
        last = audit.last_change(ctx.db, kind, int(m.group(2)))
        if last is None:
            raise
        gone = audit.history(ctx.db, kind, int(m.group(2)), limit=1)
        return kind, int(m.group(2)), f"{gone[0].label or ''} (deleted)".strip()


def _record_label(e: object) -> str:
    from tinycrm.services.audit import HistoryEntry

    assert isinstance(e, HistoryEntry)
    if e.entity == "import":
        return f"import of {e.label}" if e.label else "import"
    noun = e.label if e.entity == "interaction" and e.label else e.entity
    label = "" if e.entity == "interaction" or not e.label else f" {_cut(e.label)}"
    return f"{noun} #{e.entity_id}{label}"


def _cut(text: str, width: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def assign(
    ref: Annotated[
        str,
        typer.Argument(help="Contact (id, email, name), deal (deal:12) or reminder (reminder:7)."),
    ],
    user: Annotated[str, typer.Argument(help="The user who takes it over.")],
    with_open: Annotated[
        bool,
        typer.Option(
            "--with-open",
            help="A contact's open deals and open reminders go along (a deal's open reminders).",
        ),
    ] = False,
    json_: JsonOpt = False,
) -> None:
    """Make USER the owner of a contact, deal or reminder."""
    from tinycrm.services.owners import assign as assign_owner

    ctx = get_ctx()
    kind, record_id = _assignable(ctx, ref)
    result = assign_owner(ctx, kind, record_id, user, with_open=with_open)
    if json_:
        output.emit_json(result)
        return
    what = f"{kind} #{result.id} {result.label}"
    along = [
        plural(n, f"open {noun}")
        for n, noun in ((len(result.deals), "deal"), (len(result.reminders), "reminder"))
        if n
    ]
    if result.previous == result.owner and not along:
        output.say(f"{what} already belongs to {result.owner}; nothing changed")
        return
    verb = "now belongs to" if result.previous != result.owner else "already belonged to"
    before = f" (was {result.previous})" if result.previous not in (None, result.owner) else ""
    extra = f"; with {' and '.join(along)}" if along else ""
    output.say(f"{what} {verb} {result.owner}{before}{extra}")


def _assignable(ctx: Ctx, ref: str) -> tuple[str, int]:
    raw = ref.strip()
    m = re.fullmatch(r"(reminder|r):(.+)", raw, flags=re.IGNORECASE)
    if m:
        return "reminder", parse_id(m.group(2), "reminder id")
    target = resolve(ctx, raw, ("contact", "deal"))
    return target.kind, target.id
