"""Interactions: notes, calls, emails and meetings logged against a contact or company."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tinycrm.errors import InvalidInput, NotFound
from tinycrm.refs import KINDS as TARGET_KINDS
from tinycrm.refs import Target, hold, resolve
from tinycrm.services import audit, clocks, search
from tinycrm.services.contact_writes import add_contact, touch
from tinycrm.services.context import Ctx
from tinycrm.services.validation import check_text

KINDS = ("note", "call", "email", "meeting")


@dataclass
class Logged:
    id: int
    kind: str
    target: str  # what it was logged against, e.g. "contact #3 Alice Wong"
    label: str  # ... by its name or title alone: "Alice Wong"
    contact_id: int | None
    company_id: int | None
    deal_id: int | None
    happened_at: datetime
    follow_up_id: int | None = None
    follow_up_at: datetime | None = None


def log_interaction(
    ctx: Ctx,
    target: Target | str,
    body: str,
    *,
    kind: str = "note",
    when: datetime | None = None,
    follow_up: datetime | None = None,
    follow_up_text: str | None = None,
    create_contact: bool = False,
) -> Logged:
    """Log what happened with a contact, company or deal, in one transaction with its
    optional follow-up reminder. Logging resets the contact's stay-in-touch clock.

    `target` may be what the user typed (refs.resolve's rules); with `create_contact` a
    name that matches nobody becomes a new contact, in the same transaction."""
    if isinstance(target, str):
        with ctx.db.write():  # the contact (if created), the note and the follow-up
            return log_interaction(
                ctx,
                _resolve_or_create(ctx, target, create_contact),
                body,
                kind=kind,
                when=when,
                follow_up=follow_up,
                follow_up_text=follow_up_text,
            )
    if kind not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}: {kind!r}")
    text = check_text(body, "note text")
    if not text:
        raise InvalidInput("note text can't be empty")
    happened = when or ctx.now
    if happened > ctx.now.replace(year=ctx.now.year + 1):
        raise InvalidInput("an interaction can't be more than a year in the future")
    db = ctx.db
    contact_id = company_id = deal_id = None
    with db.write():
        hold(db, target.kind, target.id)  # and what a deal is about, below
        if target.kind == "contact":
            contact_id = target.id
        elif target.kind == "company":
            company_id = target.id
        else:
            deal_id = target.id
            row = db.one("SELECT contact_id, company_id FROM deals WHERE id = :id", {"id": deal_id})
            assert row is not None  # held
            contact_id, company_id = row["contact_id"], row["company_id"]
            if contact_id is None and company_id is None:
                raise InvalidInput(f"deal #{deal_id} has no contact or company to log against")
            for parent, ident in (("company", company_id), ("contact", contact_id)):
                if ident is not None:
                    hold(db, parent, ident)
        new_id = db.insert(
            "INSERT INTO interactions (contact_id, company_id, deal_id, kind, body, happened_at,"
            " user_id, created_at) VALUES (:contact, :company, :deal, :kind, :body, :when,"
            " :user, :now) RETURNING id",
            {
                "contact": contact_id,
                "company": company_id,
                "deal": deal_id,
                "kind": kind,
                "body": text,
                "when": db.ts(happened),
                "user": ctx.user_id,
                "now": db.ts(ctx.now),
            },
        )
        search.index(db, "interaction", new_id, text)
        audit.record(
            ctx,
            "interaction",
            new_id,
            "add",
            {
                "kind": [None, kind],
                "body": [None, text],
                "happened_at": [None, audit.plain(happened)],
                "about": [None, target.describe()],
            },
        )
        if contact_id is not None:
            touch(db, contact_id, happened)
        # activity on a deal, or on its contact, restarts the deal's rot clock
        clocks.deal_activity(db, happened, ctx.now, deal_id=deal_id, contact_id=contact_id)
        logged = Logged(
            new_id, kind, target.describe(), target.label, contact_id, company_id, deal_id, happened
        )
        if follow_up is not None:
            from tinycrm.services.reminders import add_reminder

            reminder = add_reminder(
                ctx, target, follow_up, follow_up_text or f"Follow up: {_first_line(text)}"
            )
            logged.follow_up_id, logged.follow_up_at = reminder.id, reminder.due_at
    return logged


def _resolve_or_create(ctx: Ctx, ref: str, create: bool) -> Target:
    try:
        return resolve(ctx.db, ref, TARGET_KINDS)
    except NotFound as e:
        if not create:
            raise NotFound(f"{e}; add --create to create a contact named {ref.strip()!r}") from None
        new_id = add_contact(ctx, name=ref)
        return Target("contact", new_id, " ".join(ref.split()))


def _first_line(text: str, width: int = 60) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= width else line[: width - 1] + "…"
