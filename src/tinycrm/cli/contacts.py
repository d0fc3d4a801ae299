"""`tinycrm contact ...` and `tinycrm company ...`."""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from typing import TYPE_CHECKING, Annotated

import typer

from tinycrm.cli import output
from tinycrm.cli.common import (
    LIMIT_MAX,
    IfVersionOpt,
    JsonOpt,
    MineOpt,
    OwnerOpt,
    RefArg,
    YesOpt,
    confirm,
    get_ctx,
    owner_name,
    resolve,
    when,
)
from tinycrm.cli.fields import SetOpt, UnsetOpt, assignments, pairs
from tinycrm.dates import parse_duration
from tinycrm.services.contacts import TimelineEntry
from tinycrm.text import plural

if TYPE_CHECKING:
    from tinycrm.services import duplicates
    from tinycrm.services.contacts import ContactDetail
    from tinycrm.services.context import Ctx

contact_app = typer.Typer(help="Add, find, show and change contacts.", no_args_is_help=True)
company_app = typer.Typer(help="Add, find, show and change companies.", no_args_is_help=True)

BirthdayOpt = Annotated[
    str | None,
    typer.Option("--birthday", help="1985-03-14, or 03-14 without the year ('none' clears it)."),
]
AnniversaryOpt = Annotated[
    str | None,
    typer.Option("--anniversary", help="2010-06-12, or 06-12 without the year ('none' clears it)."),
]


def _emit_contact(d: ContactDetail) -> None:
    """A contact as JSON, its purchase totals as decimal strings per currency ("1200.50")."""
    output.emit_json(output.to_jsonable(d))


def _day_opt(text: str | None, option: str) -> tuple[date | None, bool]:
    """A --birthday/--anniversary: (the day, whether 'none' asks to clear it)."""
    if text is None:
        return None, False
    if text.strip().lower() in ("none", ""):
        return None, True
    from tinycrm.dates import parse_important_day

    return parse_important_day(text, field=option), False


def _important_day(day: date | None, ctx: Ctx) -> str | None:
    """`1985-03-14 (41 on 14 Mar)`, or `--03-14` for a day without a year."""
    if day is None:
        return None
    from tinycrm.dates import important_day_text, next_yearly, years_on

    today = ctx.now.astimezone(ctx.tz).date()
    coming = next_yearly(day, today)
    years = years_on(day, coming)
    on = f"{coming.day} {coming:%b}"
    if coming == today:
        suffix = f"{years} today" if years else "today"
    else:
        suffix = f"{years} on {on}" if years else f"next {on}"
    return f"{important_day_text(day)} ({suffix})"


def _cadence(text: str | None) -> int | None:
    if text is None or text.lower() in ("none", "off", "0"):
        return None
    days = parse_duration(text).days
    from tinycrm.errors import InvalidInput

    if days < 1:
        raise InvalidInput(f"stay-in-touch cadence must be at least a day: {text!r}")
    return days


@contact_app.command("add")
def contact_add(
    name: Annotated[str, typer.Argument(help="Full name, e.g. 'Alice Wong'.")],
    email: Annotated[
        list[str] | None, typer.Option("--email", "-e", help="Email (repeatable).")
    ] = None,
    phone: Annotated[
        list[str] | None, typer.Option("--phone", "-p", help="Phone (repeatable).")
    ] = None,
    company: Annotated[
        str | None, typer.Option("--company", "-c", help="Company name (created if new).")
    ] = None,
    title: Annotated[str | None, typer.Option("--title", "-t", help="Job title.")] = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", help="Tag (repeatable, or comma-separated).")
    ] = None,
    source: Annotated[
        str | None, typer.Option("--source", help="Where the lead came from.")
    ] = None,
    notes: Annotated[str | None, typer.Option("--notes", help="Free-text notes.")] = None,
    every: Annotated[
        str | None, typer.Option("--every", help="Stay-in-touch cadence, e.g. 30d, 2w.")
    ] = None,
    on_duplicate: Annotated[
        str,
        typer.Option(
            "--on-duplicate",
            help="If it looks like a contact already there (same email, phone or a"
            " near-identical name): ask (on a terminal; refuse otherwise), merge (add the new"
            " details to it), skip, or create anyway. merge and skip act only on the same"
            " person (a shared email or phone, or the same name where one has neither);"
            " a mere look-alike is added.",
        ),
    ] = "ask",
    allow_duplicate: Annotated[
        bool, typer.Option("--allow-duplicate", help="Same as --on-duplicate create.")
    ] = False,
    birthday: BirthdayOpt = None,
    anniversary: AnniversaryOpt = None,
    set_: SetOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Add a contact (checking first whether it is already there)."""
    import sys

    from tinycrm.errors import Conflict, InvalidInput
    from tinycrm.services import contacts, duplicates

    choice = on_duplicate.strip().lower()
    if choice not in contacts.ON_DUPLICATE:
        raise InvalidInput(
            f"--on-duplicate must be one of {', '.join(contacts.ON_DUPLICATE)}: {choice!r}"
        )
    if allow_duplicate:
        if choice not in ("ask", "create"):
            raise InvalidInput("give --allow-duplicate or --on-duplicate, not both")
        choice = "create"
    born, wed = _day_opt(birthday, "--birthday"), _day_opt(anniversary, "--anniversary")
    ctx = get_ctx()
    try:
        done = contacts.add_or_match(
            ctx,
            name=name,
            emails=email or [],
            phones=phone or [],
            company=company,
            title=title,
            tags=tag,
            source=source,
            notes=notes,
            cadence_days=_cadence(every),
            on_duplicate=choice,
            ask=_ask_duplicate if sys.stdin.isatty() else None,
            birthday=born[0],
            anniversary=wed[0],
            custom=assignments(set_),
        )
    except Conflict as e:  # a look-alike, off a terminal: say how to choose
        raise Conflict(f"{e}; choose with --on-duplicate merge, skip or create") from None
    detail = done.contact
    if done.action == "added":
        at = f" ({detail.company})" if detail.company else ""
        message = f"Added contact #{detail.id} {detail.name}{at}"
        if done.alike:
            message += (
                f"; it only looks like {duplicates.describe(done.alike)}, with no email or"
                f" phone in common, so it was not {'merged' if choice == 'merge' else 'skipped'}"
            )
    elif done.action == "skipped":
        message = (
            f"Skipped: {done.name} looks like {duplicates.describe(done.matches)};"
            " nothing was added"
        )
    else:
        message = (
            f"Merged into contact #{detail.id} {detail.name}: added {', '.join(done.added)}"
            if done.added
            else f"Contact #{detail.id} {detail.name} already has all of that; nothing changed"
        )
    if json_:
        _emit_contact(detail)
    else:
        output.say(message)


def _ask_duplicate(
    name: str, matches: list[duplicates.Match]
) -> tuple[str, duplicates.Match | None]:
    """On a terminal: show the look-alikes and ask whether to merge, skip or create."""
    shown = matches[:9]
    typer.echo(f"{name} may already be in tinycrm:")
    for i, m in enumerate(shown, start=1):
        about = " · ".join(x for x in (m.company, m.email, m.phone) if x)
        typer.echo(f"  {i}  #{m.id} {m.name}{' · ' + about if about else ''}")
        typer.echo(f"       {', '.join(m.reasons)}")
    pick = "1-" + str(len(shown)) if len(shown) > 1 else "1"
    question = (
        f"[m]erge the new details into #{shown[0].id}, [s]kip, or [c]reate anyway?"
        if len(shown) == 1
        else f"[m]erge the new details into #{shown[0].id} (or pick {pick}), [s]kip,"
        " or [c]reate anyway?"
    )
    while True:
        answer = typer.prompt(question, default="s").strip().lower()
        if answer in ("s", "skip"):
            return "skip", None
        if answer in ("c", "create"):
            return "create", None
        if answer in ("m", "merge"):
            return "merge", shown[0]
        if answer.isdigit() and 1 <= int(answer) <= len(shown):
            return "merge", shown[int(answer) - 1]
        typer.echo(f"Answer m{'' if len(shown) == 1 else ', ' + pick}, s or c.")


@contact_app.command("list")
def contact_list(
    tag: Annotated[str | None, typer.Option("--tag", help="Only contacts with this tag.")] = None,
    owner: OwnerOpt = None,
    mine: MineOpt = False,
    company: Annotated[
        str | None, typer.Option("--company", "-c", help="Only people at this company.")
    ] = None,
    starts: Annotated[
        str | None, typer.Option("--starts", help="Names starting with this.")
    ] = None,
    opted_out: Annotated[
        bool, typer.Option("--opted-out", help="Only people who asked not to be contacted.")
    ] = False,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, max=LIMIT_MAX, help="At most this many.")
    ] = 100,
    json_: JsonOpt = False,
) -> None:
    """List contacts by name."""
    from tinycrm.services import contacts

    ctx = get_ctx()
    owner = owner_name(ctx, owner, mine)
    company_id = resolve(ctx, company, ("company",)).id if company else None
    rows = contacts.list_contacts(
        ctx.db,
        tag=tag,
        owner=owner,
        company_id=company_id,
        starts=starts,
        opted_out=opted_out,
        limit=limit,
    )
    if json_:
        output.emit_json(rows)
        return
    output.table(
        ["id", "name", "company", "email", "phone", "tags", "last touch"],
        [
            [
                r.id,
                r.name,
                r.company,
                r.email,
                r.phone,
                ",".join(r.tags),
                output.local(r.last_touch_at, ctx.tz)[:10],
            ]
            for r in rows
        ],
        empty="no contacts yet: tinycrm contact add 'Alice Wong' --email alice@example.com",
    )
    if output.is_tty() and len(rows) == limit:
        total = contacts.count_contacts(
            ctx.db,
            tag=tag,
            owner=owner,
            company_id=company_id,
            starts=starts,
            opted_out=opted_out,
        )
        if total > limit:
            output.say(
                f"… {limit:,} of {total:,} shown: narrow with --starts/--tag or raise --limit"
            )


@contact_app.command("query")
def contact_query(
    words: Annotated[
        list[str], typer.Argument(help="Words of a name, an email or a company (prefixes).")
    ],
) -> None:
    """Look up addresses for mutt or aerc.

    For mutt's query_command and aerc's address-book-cmd: prints a first line, then one
    email<TAB>name<TAB>company line per address; exit 1 when nothing matches.
    """
    from tinycrm.services.lookup import address_book
    from tinycrm.text import one_line

    found = address_book(get_ctx().db, " ".join(words))
    if not found:
        typer.echo("tinycrm: no matches")
        raise typer.Exit(1)
    lines = [f"tinycrm: {len(found)} address{'' if len(found) == 1 else 'es'}"]
    for a in found:
        lines.append("\t".join(one_line(v) for v in (a.email, a.name, a.company or "")))
    typer.echo("\n".join(lines))


@contact_app.command("show")
def contact_show(
    ref: RefArg,
    timeline: Annotated[
        int, typer.Option("--timeline", min=0, max=LIMIT_MAX, help="Timeline entries to show.")
    ] = 15,
    json_: JsonOpt = False,
) -> None:
    """Everything about a contact, with the timeline.

    Details, open deals, purchases, the next step and the timeline, newest first.
    """
    from tinycrm.dates import format_relative
    from tinycrm.services import contacts

    ctx = get_ctx()
    d = contacts.get_contact(ctx.db, resolve(ctx, ref).id, timeline=timeline)
    if json_:
        _emit_contact(d)
        return
    nxt = (
        f"{format_relative(d.next_reminder_at, now=ctx.now, tz=ctx.tz)} — {d.next_reminder}"
        if d.next_reminder_at
        else "nothing planned"
    )
    from tinycrm.money import display_money

    totals = ", ".join(display_money(v.cents, v.currency) for v in d.purchases_total.values())
    output.fields(
        [
            ("id", d.id),
            ("company", d.company),
            ("title", d.title),
            ("email", ", ".join(d.emails)),
            ("phone", ", ".join(d.phones)),
            ("web", ", ".join(d.urls)),
            *(("address", a) for a in d.addresses),
            ("tags", ", ".join(d.tags)),
            ("source", d.source),
            ("owner", d.owner),
            *pairs(d.fields),
            ("stay in touch", _stay_in_touch(d.cadence_days, d.opted_out_at, ctx.tz)),
            ("last touch", output.local(d.last_touch_at, ctx.tz) or "never"),
            ("next", nxt),
            (
                "purchases",
                f"{d.purchases_count} · {totals} · last {d.last_purchase_on}"
                if d.purchases_count
                else "none",
            ),
            ("birthday", _important_day(d.birthday, ctx)),
            ("anniversary", _important_day(d.anniversary, ctx)),
            ("notes", d.notes),
            ("consent", _consent(d.consent, d.consent_at, ctx.tz)),
            ("opted out", output.local(d.opted_out_at, ctx.tz)[:10] or None),
        ],
        title=d.name,
    )
    if d.as_written:
        from tinycrm.services.as_written import shown

        output.fields([("", shown(a)) for a in d.as_written], title="Kept as written")
    if d.open_deals:
        output.table(
            ["deal", "title", "stage", "value"],
            [
                [f"#{x.id}", x.title, x.stage, output.money(x.value, x.currency)]
                for x in d.open_deals
            ],
            title="Open deals",
            section=True,
        )
    if d.timeline:
        output.table(
            ["when", "", "what", "by"],
            # each with its id, for `interaction edit`, `purchase rm`, `deal show`...
            [
                [_when(e, ctx.tz), f"{e.kind} #{e.ref.rpartition(':')[2]}", e.text, e.user or ""]
                for e in d.timeline
            ],
            title="Timeline",
            section=True,
        )


def _stay_in_touch(cadence: int | None, opted_out_at: datetime | None, tz: tzinfo) -> str | None:
    if opted_out_at is not None:
        kept = f" (cadence {plural(cadence, 'day')} kept)" if cadence else ""
        return "never: opted out" + kept
    return f"every {plural(cadence, 'day')}" if cadence else None


def _consent(text: str | None, at: datetime | None, tz: tzinfo) -> str | None:
    if text is None and at is None:
        return None
    day = output.local(at, tz)[:10]
    return ", ".join(x for x in (text, f"given {day}" if day else None) if x)


def _when(entry: TimelineEntry, tz: tzinfo) -> str:
    """Purchases are dated, not timed: show their day only."""
    if entry.kind == "purchase":
        return entry.when.date().isoformat()
    return output.local(entry.when, tz)


@contact_app.command("edit")
def contact_edit(
    ref: RefArg,
    name: Annotated[str | None, typer.Option("--name", help="New name.")] = None,
    company: Annotated[
        str | None, typer.Option("--company", "-c", help="Company ('' to clear).")
    ] = None,
    title: Annotated[
        str | None, typer.Option("--title", "-t", help="Job title ('' to clear).")
    ] = None,
    source: Annotated[
        str | None, typer.Option("--source", help="Lead source ('' to clear).")
    ] = None,
    notes: Annotated[str | None, typer.Option("--notes", help="Notes ('' to clear).")] = None,
    email: Annotated[list[str] | None, typer.Option("--email", "-e", help="Add an email.")] = None,
    rm_email: Annotated[
        list[str] | None, typer.Option("--rm-email", help="Remove an email.")
    ] = None,
    phone: Annotated[list[str] | None, typer.Option("--phone", "-p", help="Add a phone.")] = None,
    rm_phone: Annotated[
        list[str] | None, typer.Option("--rm-phone", help="Remove a phone.")
    ] = None,
    every: Annotated[
        str | None, typer.Option("--every", help="Stay-in-touch cadence (30d) or 'none'.")
    ] = None,
    consent: Annotated[
        str | None,
        typer.Option("--consent", help="What they agreed to, e.g. 'newsletter, web form'."),
    ] = None,
    consent_at: Annotated[
        str | None, typer.Option("--consent-at", help="When they agreed (a WHEN; default now).")
    ] = None,
    opt_out: Annotated[
        bool, typer.Option("--opt-out", help="They asked not to be contacted.")
    ] = False,
    opt_in: Annotated[bool, typer.Option("--opt-in", help="Undo --opt-out.")] = False,
    birthday: BirthdayOpt = None,
    anniversary: AnniversaryOpt = None,
    set_: SetOpt = None,
    unset: UnsetOpt = None,
    if_version: IfVersionOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Change a contact's fields, consent and opt-out."""
    from tinycrm.services import contacts

    born, wed = _day_opt(birthday, "--birthday"), _day_opt(anniversary, "--anniversary")
    ctx = get_ctx()
    target = resolve(ctx, ref)
    cadence = _cadence(every) if every is not None else None
    given_at = when(ctx, consent_at, past=True) if consent_at is not None else None
    if consent and given_at is None:
        given_at = ctx.now  # consent recorded now, unless told when
    contacts.edit_contact(
        ctx,
        target.id,
        name=name,
        company=company,
        title=title,
        source=source,
        notes=notes,
        cadence_days=cadence,
        clear_cadence=every is not None and cadence is None,
        add_emails=email,
        remove_emails=rm_email,
        add_phones=phone,
        remove_phones=rm_phone,
        consent=consent,
        consent_at=given_at,
        opt_out=opt_out,
        opt_in=opt_in,
        expected_version=if_version,
        birthday=born[0],
        clear_birthday=born[1],
        anniversary=wed[0],
        clear_anniversary=wed[1],
        custom=assignments(set_),
        unset=unset or (),
    )
    detail = contacts.get_contact(ctx.db, target.id, timeline=0)
    if json_:
        _emit_contact(detail)
    else:
        output.say(f"Updated contact #{detail.id} {detail.name}")


@contact_app.command("rm")
def contact_rm(ref: RefArg, yes: YesOpt = False, json_: JsonOpt = False) -> None:
    """Delete a contact with its notes and purchases.

    Its reminders go too; deals stay, unlinked.
    """
    from tinycrm.services import contacts

    ctx = get_ctx()
    target = resolve(ctx, ref)
    impact = contacts.delete_impact(ctx.db, target.id)

    confirm(
        f"Delete contact #{target.id} {target.label} with"
        f" {plural(impact.interactions, 'interaction')}, {plural(impact.reminders, 'reminder')}"
        f" and {plural(impact.purchases, 'purchase')}?",
        yes,
    )
    contacts.delete_contact(ctx, target.id)
    if json_:
        output.emit_json(
            {
                "deleted": {"kind": "contact", "id": target.id, "name": target.label},
                "removed": impact,
            }
        )
    else:
        output.say(f"Deleted contact #{target.id} {target.label}")


@contact_app.command("tag")
def contact_tag(
    ref: RefArg,
    tags: Annotated[list[str] | None, typer.Argument(help="Tags to add.")] = None,
    remove: Annotated[
        list[str] | None, typer.Option("--remove", "-r", help="Tag to remove.")
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Add tags to a contact (or remove them with --remove)."""
    from tinycrm.services import contacts

    ctx = get_ctx()
    target = resolve(ctx, ref)
    result = contacts.tag_contact(ctx, target.id, add=tags or [], remove=remove or [])
    if json_:
        output.emit_json({"id": target.id, "tags": result})
    else:
        output.say(f"#{target.id} {target.label}: {', '.join(result) or 'no tags'}")


# -- companies -------------------------------------------------------------------------------
@company_app.command("add")
def company_add(
    name: Annotated[str, typer.Argument(help="Company name.")],
    domain: Annotated[
        str | None, typer.Option("--domain", help="Web domain, e.g. acme.com.")
    ] = None,
    phone: Annotated[str | None, typer.Option("--phone", "-p", help="Main phone.")] = None,
    website: Annotated[str | None, typer.Option("--website", help="Website URL.")] = None,
    notes: Annotated[str | None, typer.Option("--notes", help="Free-text notes.")] = None,
    set_: SetOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Add a company."""
    from tinycrm.services import companies

    ctx = get_ctx()
    new_id = companies.add_company(
        ctx,
        name=name,
        domain=domain,
        phone=phone,
        website=website,
        notes=notes,
        custom=assignments(set_),
    )
    detail = companies.get_company(ctx.db, new_id)
    if json_:
        output.emit_json(detail)
    else:
        output.say(f"Added company:{new_id} {detail.name}")


@company_app.command("list")
def company_list(
    starts: Annotated[
        str | None, typer.Option("--starts", help="Names starting with this.")
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, max=LIMIT_MAX, help="At most this many.")
    ] = 100,
    json_: JsonOpt = False,
) -> None:
    """List companies by name."""
    from tinycrm.services import companies

    ctx = get_ctx()
    rows = companies.list_companies(ctx.db, starts=starts, limit=limit)
    if json_:
        output.emit_json(rows)
        return
    output.table(
        ["id", "name", "domain", "contacts", "open deals"],
        [[r.id, r.name, r.domain, r.contacts, r.open_deals] for r in rows],
        empty="no companies yet: tinycrm company add 'Acme GmbH'",
    )


@company_app.command("show")
def company_show(ref: RefArg, json_: JsonOpt = False) -> None:
    """A company with its people, open deals and purchases."""
    from tinycrm.services import companies

    ctx = get_ctx()
    d = companies.get_company(ctx.db, resolve(ctx, ref, ("company",)).id)
    if json_:
        output.emit_json(d)
        return
    output.fields(
        [
            ("id", f"company:{d.id}"),
            ("domain", d.domain),
            ("phone", d.phone),
            ("website", d.website),
            ("owner", d.owner),
            *pairs(d.fields),
            ("notes", d.notes),
            (
                "purchases",
                ", ".join(output.money(v, k) for k, v in d.purchases_total.items()) or "none",
            ),
        ],
        title=d.name,
    )
    if d.contacts:
        output.table(
            ["id", "name", "title"],
            [[c["id"], c["name"], c["title"]] for c in d.contacts],
            title="People",
            section=True,
        )
    if d.open_deals:
        output.table(
            ["deal", "title", "stage", "value"],
            [
                [f"#{x['id']}", x["title"], x["stage"], output.money(x["value"], x["currency"])]
                for x in d.open_deals
            ],
            title="Open deals",
            section=True,
        )


@company_app.command("edit")
def company_edit(
    ref: RefArg,
    name: Annotated[str | None, typer.Option("--name", help="New name.")] = None,
    domain: Annotated[str | None, typer.Option("--domain", help="Domain ('' to clear).")] = None,
    phone: Annotated[str | None, typer.Option("--phone", "-p", help="Phone ('' to clear).")] = None,
    website: Annotated[str | None, typer.Option("--website", help="Website ('' to clear).")] = None,
    notes: Annotated[str | None, typer.Option("--notes", help="Notes ('' to clear).")] = None,
    set_: SetOpt = None,
    unset: UnsetOpt = None,
    if_version: IfVersionOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Change a company's fields."""
    from tinycrm.services import companies

    ctx = get_ctx()
    target = resolve(ctx, ref, ("company",))
    companies.edit_company(
        ctx,
        target.id,
        name=name,
        domain=domain,
        phone=phone,
        website=website,
        notes=notes,
        expected_version=if_version,
        custom=assignments(set_),
        unset=unset or (),
    )
    detail = companies.get_company(ctx.db, target.id)
    if json_:
        output.emit_json(detail)
    else:
        output.say(f"Updated company:{detail.id} {detail.name}")


@company_app.command("rm")
def company_rm(ref: RefArg, yes: YesOpt = False, json_: JsonOpt = False) -> None:
    """Delete a company; its people and deals stay.

    The notes and reminders logged on it go.
    """
    from tinycrm.services import companies

    ctx = get_ctx()
    target = resolve(ctx, ref, ("company",))
    confirm(f"Delete company:{target.id} {target.label}? Its people and deals are kept.", yes)
    companies.delete_company(ctx, target.id)
    if json_:
        output.emit_json({"deleted": {"kind": "company", "id": target.id, "name": target.label}})
    else:
        output.say(f"Deleted company:{target.id} {target.label}")
