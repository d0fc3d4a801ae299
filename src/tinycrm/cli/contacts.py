"""`tinycrm contact ...` and `tinycrm company ...`."""

from __future__ import annotations

from datetime import tzinfo
from typing import Annotated

import typer

from tinycrm.cli import output
from tinycrm.cli.common import JsonOpt, RefArg, YesOpt, confirm, get_ctx, resolve
from tinycrm.dates import parse_duration
from tinycrm.services.contacts import TimelineEntry

contact_app = typer.Typer(help="Add, find, show and change contacts.", no_args_is_help=True)
company_app = typer.Typer(help="Add, find, show and change companies.", no_args_is_help=True)


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
    allow_duplicate: Annotated[
        bool, typer.Option("--allow-duplicate", help="Add even if the name or email exists.")
    ] = False,
    json_: JsonOpt = False,
) -> None:
    """Add a contact."""
    from tinycrm.services import contacts

    ctx = get_ctx()
    new_id = contacts.add_contact(
        ctx,
        name=name,
        emails=email,
        phones=phone,
        company=company,
        title=title,
        tags=tag,
        source=source,
        notes=notes,
        cadence_days=_cadence(every),
        allow_duplicate=allow_duplicate,
    )
    detail = contacts.get_contact(ctx.db, new_id, timeline=0)
    if json_:
        output.emit_json(detail)
    else:
        at = f" ({detail.company})" if detail.company else ""
        output.say(f"Added contact #{new_id} {detail.name}{at}")


@contact_app.command("list")
def contact_list(
    tag: Annotated[str | None, typer.Option("--tag", help="Only contacts with this tag.")] = None,
    owner: Annotated[
        str | None, typer.Option("--owner", help="Only contacts of this user.")
    ] = None,
    company: Annotated[
        str | None, typer.Option("--company", "-c", help="Only people at this company.")
    ] = None,
    starts: Annotated[
        str | None, typer.Option("--starts", help="Names starting with this.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="At most this many.")] = 100,
    json_: JsonOpt = False,
) -> None:
    """List contacts by name."""
    from tinycrm.services import contacts

    ctx = get_ctx()
    company_id = resolve(ctx, company, ("company",)).id if company else None
    rows = contacts.list_contacts(
        ctx.db, tag=tag, owner=owner, company_id=company_id, starts=starts, limit=limit
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
        total = contacts.count_contacts(ctx.db)
        if total > limit:
            output.say(f"… {limit} of {total:,} shown: narrow with --starts/--tag or raise --limit")


@contact_app.command("show")
def contact_show(
    ref: RefArg,
    timeline: Annotated[
        int, typer.Option("--timeline", min=0, help="Timeline entries to show.")
    ] = 15,
    json_: JsonOpt = False,
) -> None:
    """Everything about a contact: details, deals, purchases, next step, timeline."""
    from tinycrm.dates import format_relative
    from tinycrm.services import contacts

    ctx = get_ctx()
    d = contacts.get_contact(ctx.db, resolve(ctx, ref).id, timeline=timeline)
    if json_:
        output.emit_json(d)
        return
    nxt = (
        f"{format_relative(d.next_reminder_at, now=ctx.now, tz=ctx.tz)} — {d.next_reminder}"
        if d.next_reminder_at
        else "nothing planned"
    )
    totals = ", ".join(output.money(v, k) for k, v in d.purchases_total.items())
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
            ("stay in touch", f"every {d.cadence_days} days" if d.cadence_days else None),
            ("last touch", output.local(d.last_touch_at, ctx.tz) or "never"),
            ("next", nxt),
            (
                "purchases",
                f"{d.purchases_count} · {totals} · last {d.last_purchase_on}"
                if d.purchases_count
                else "none",
            ),
            ("notes", d.notes),
        ],
        title=d.name,
    )
    if d.open_deals:
        output.table(
            ["deal", "title", "stage", "value"],
            [
                [f"#{x.id}", x.title, x.stage, output.money(x.value, x.currency)]
                for x in d.open_deals
            ],
            title="Open deals",
        )
    if d.timeline:
        output.table(
            ["when", "", "what", "by"],
            [[_when(e, ctx.tz), e.kind, e.text, e.user or ""] for e in d.timeline],
            title="Timeline",
        )


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
    json_: JsonOpt = False,
) -> None:
    """Change a contact's fields."""
    from tinycrm.services import contacts

    ctx = get_ctx()
    target = resolve(ctx, ref)
    cadence = _cadence(every) if every is not None else None
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
    )
    detail = contacts.get_contact(ctx.db, target.id, timeline=0)
    if json_:
        output.emit_json(detail)
    else:
        output.say(f"Updated contact #{detail.id} {detail.name}")


@contact_app.command("rm")
def contact_rm(ref: RefArg, yes: YesOpt = False, json_: JsonOpt = False) -> None:
    """Delete a contact with its notes, reminders and purchases (deals stay, unlinked)."""
    from tinycrm.services import contacts

    ctx = get_ctx()
    target = resolve(ctx, ref)
    impact = contacts.delete_impact(ctx.db, target.id)
    confirm(
        f"Delete contact #{target.id} {target.label} with {impact.interactions} interaction(s),"
        f" {impact.reminders} reminder(s) and {impact.purchases} purchase(s)?",
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
    json_: JsonOpt = False,
) -> None:
    """Add a company."""
    from tinycrm.services import companies

    ctx = get_ctx()
    new_id = companies.add_company(
        ctx, name=name, domain=domain, phone=phone, website=website, notes=notes
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
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="At most this many.")] = 100,
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
        )
    if d.open_deals:
        output.table(
            ["deal", "title", "stage", "value"],
            [
                [f"#{x['id']}", x["title"], x["stage"], output.money(x["value"], x["currency"])]
                for x in d.open_deals
            ],
            title="Open deals",
        )


@company_app.command("edit")
def company_edit(
    ref: RefArg,
    name: Annotated[str | None, typer.Option("--name", help="New name.")] = None,
    domain: Annotated[str | None, typer.Option("--domain", help="Domain ('' to clear).")] = None,
    phone: Annotated[str | None, typer.Option("--phone", "-p", help="Phone ('' to clear).")] = None,
    website: Annotated[str | None, typer.Option("--website", help="Website ('' to clear).")] = None,
    notes: Annotated[str | None, typer.Option("--notes", help="Notes ('' to clear).")] = None,
    json_: JsonOpt = False,
) -> None:
    """Change a company's fields."""
    from tinycrm.services import companies

    ctx = get_ctx()
    target = resolve(ctx, ref, ("company",))
    companies.edit_company(
        ctx, target.id, name=name, domain=domain, phone=phone, website=website, notes=notes
    )
    detail = companies.get_company(ctx.db, target.id)
    if json_:
        output.emit_json(detail)
    else:
        output.say(f"Updated company:{detail.id} {detail.name}")


@company_app.command("rm")
def company_rm(ref: RefArg, yes: YesOpt = False, json_: JsonOpt = False) -> None:
    """Delete a company and the notes and reminders logged on it (people and deals stay)."""
    from tinycrm.services import companies

    ctx = get_ctx()
    target = resolve(ctx, ref, ("company",))
    confirm(f"Delete company:{target.id} {target.label}? Its people and deals are kept.", yes)
    companies.delete_company(ctx, target.id)
    if json_:
        output.emit_json({"deleted": {"kind": "company", "id": target.id, "name": target.label}})
    else:
        output.say(f"Deleted company:{target.id} {target.label}")
