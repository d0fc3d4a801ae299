"""Interactions: notes, calls, emails and meetings logged against a contact or company."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tinycrm.errors import InvalidInput, NotFound, UnknownId
from tinycrm.refs import KINDS as TARGET_KINDS
from tinycrm.refs import Target, hold, resolve
from tinycrm.services import audit, clocks, search
from tinycrm.services.contact_writes import add_contact, check_version, touch
from tinycrm.services.context import Ctx
from tinycrm.services.validation import check_text
from tinycrm.store.db import Db, LockMode, read_ts

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
    future: bool = False,
) -> Logged:
    """Log what happened with a contact, company or deal, in one transaction with its
    optional follow-up reminder. Logging resets the contact's stay-in-touch clock. A time
    after now is refused (it would become the "last touch") unless `future` says so.

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
                future=future,
            )
    if kind not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}: {kind!r}")
    text = check_text(body, "note text")
    if not text:
        raise InvalidInput("note text can't be empty")
    happened = when or ctx.now
    _check_happened(ctx, happened, kind, future=future)
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


@dataclass
class InteractionView:
    id: int
    kind: str
    body: str
    happened_at: datetime
    contact_id: int | None
    contact: str | None
    company_id: int | None
    company: str | None
    deal_id: int | None
    deal: str | None
    user: str | None
    created_at: datetime
    version: int  # changes on every edit; pass it back as expected_version


_SELECT = (
    "SELECT i.*, c.name AS contact, co.name AS company, d.title AS deal, u.name AS user"
    " FROM interactions i LEFT JOIN contacts c ON c.id = i.contact_id"
    " LEFT JOIN companies co ON co.id = i.company_id LEFT JOIN deals d ON d.id = i.deal_id"
    " LEFT JOIN users u ON u.id = i.user_id"
)


def get_interaction(db: Db, interaction_id: int) -> InteractionView:
    """One note, call, email or meeting; UnknownId (exit 2) when there is none."""
    r = db.one(_SELECT + " WHERE i.id = :id", {"id": interaction_id})
    if r is None:
        raise UnknownId(f"no interaction with id {interaction_id}")
    happened, created = read_ts(r["happened_at"]), read_ts(r["created_at"])
    assert happened is not None and created is not None
    return InteractionView(
        id=int(r["id"]),
        kind=r["kind"],
        body=r["body"],
        happened_at=happened,
        contact_id=r["contact_id"],
        contact=r["contact"],
        company_id=r["company_id"],
        company=r["company"],
        deal_id=r["deal_id"],
        deal=r["deal"],
        user=r["user"],
        created_at=created,
        version=int(r["version"]),
    )


def _fields(v: InteractionView) -> dict[str, Any]:
    """What an edit can change, as the audit log records it."""
    return {
        "kind": v.kind,
        "body": v.body,
        "happened_at": v.happened_at,
        "deal": v.deal,
        "contact": v.contact,
        "company": v.company,
    }


def _label(v: InteractionView) -> str:
    return f"{v.kind} {_first_line(v.body, 30)!r}"


def _lock(ctx: Ctx, interaction_id: int, mode: LockMode) -> InteractionView:
    """Lock the interaction and read it. Its company is kept; its contact and deal are
    locked FOR UPDATE, parents before children, because their clocks are recomputed from
    the notes there are: a note being logged under them meanwhile lands first or waits."""
    db = ctx.db
    row = db.one(
        "SELECT contact_id, company_id, deal_id FROM interactions WHERE id = :id",
        {"id": interaction_id},
    )
    if row is None:
        raise UnknownId(f"no interaction with id {interaction_id}")
    if row["company_id"] is not None:
        db.lock("companies", row["company_id"], "keep")
    if row["contact_id"] is not None:
        db.lock("contacts", row["contact_id"], "delete")
    if row["deal_id"] is not None:
        db.lock("deals", row["deal_id"], "delete")
    db.lock("interactions", interaction_id, mode)
    return get_interaction(db, interaction_id)


def _rederive(ctx: Ctx, contact_ids: set[int | None], deal_ids: set[int | None]) -> None:
    """The clocks an interaction moves, recomputed from the interactions there are now:
    each contact's last touch and stay-in-touch clock, and the rot clock of the deals
    the interaction was or is on, and of its contacts' open deals."""
    db = ctx.db
    contacts = sorted(i for i in contact_ids if i is not None)
    deals = {i for i in deal_ids if i is not None}
    if contacts:
        listed = ",".join(str(i) for i in contacts)
        deals |= {
            int(r["id"])
            for r in db.all(
                f"SELECT id FROM deals WHERE contact_id IN ({listed}) AND status = 'open'"
            )
        }
        clocks.recount_touch(db, contacts)
    clocks.recount_activity(db, deals)


def _check_happened(ctx: Ctx, happened: datetime, kind: str, *, future: bool) -> None:
    """A note's time: at most a year ahead, and not after now unless `future` says it is
    meant (it would become the contact's last touch)."""
    if happened > ctx.now.replace(year=ctx.now.year + 1):
        raise InvalidInput("an interaction can't be more than a year in the future")
    if happened > ctx.now and not future:
        at = happened.astimezone(ctx.tz).strftime("%a %d %b %Y %H:%M")
        raise InvalidInput(
            f"a {kind} records what happened, and {at} is in the future;"
            " give a past time, or add --future if it is meant"
        )


def edit_interaction(
    ctx: Ctx,
    interaction_id: int,
    *,
    text: str | None = None,
    kind: str | None = None,
    when: datetime | None = None,
    deal_id: int | None = None,
    no_deal: bool = False,
    expected_version: int | None = None,
    future: bool = False,
) -> InteractionView:
    """Correct a note, call, email or meeting: its text, kind, time or the deal it is
    about (`deal_id`, or `no_deal` to take it off its deal). Moving it onto a deal puts it
    with the deal's contact and company, as logging it on the deal does. The search index,
    the contact's last touch and stay-in-touch clock and the deals' rot clocks end as if it
    had been logged this way. With `expected_version`, a note changed since is refused."""
    sets: dict[str, Any] = {}
    if text is not None:
        body = check_text(text, "note text")
        if not body:
            raise InvalidInput("note text can't be empty")
        sets["body"] = body
    if kind is not None:
        if kind not in KINDS:
            raise InvalidInput(f"kind must be one of {', '.join(KINDS)}: {kind!r}")
        sets["kind"] = kind
    if when is not None:
        _check_happened(ctx, when, kind or "note", future=future)
        sets["happened_at"] = ctx.db.ts(when)
    if deal_id is not None and no_deal:
        raise InvalidInput("give --deal or --no-deal, not both")
    if not sets and deal_id is None and not no_deal:
        raise InvalidInput("nothing to change: give at least one option (see --help)")
    db = ctx.db
    with db.write():
        old = _lock(ctx, interaction_id, "change")
        check_version(
            ctx, "interaction", interaction_id, _label(old), old.version, expected_version
        )
        if deal_id is not None:
            row = db.one("SELECT contact_id, company_id FROM deals WHERE id = :id", {"id": deal_id})
            if row is not None and row["company_id"] is not None:
                hold(db, "company", row["company_id"])
            if row is not None and row["contact_id"] is not None:
                db.lock("contacts", row["contact_id"], "delete")  # its clocks: see _lock
            db.lock("deals", deal_id, "delete")
            row = db.one("SELECT contact_id, company_id FROM deals WHERE id = :id", {"id": deal_id})
            if row is None:
                raise NotFound(f"no deal with id {deal_id}")
            sets["deal_id"] = deal_id
            if row["contact_id"] is not None or row["company_id"] is not None:
                sets["contact_id"], sets["company_id"] = row["contact_id"], row["company_id"]
        elif no_deal:
            sets["deal_id"] = None
        assigns = ", ".join(f"{k} = :{k}" for k in sets)
        db.execute(
            f"UPDATE interactions SET {assigns}, version = version + 1 WHERE id = :id",
            {**sets, "id": interaction_id},
        )
        new = get_interaction(db, interaction_id)
        if new.body != old.body:
            search.index(db, "interaction", interaction_id, new.body)
        _rederive(ctx, {old.contact_id, new.contact_id}, {old.deal_id, new.deal_id})
        audit.record(
            ctx, "interaction", interaction_id, "edit", audit.diff(_fields(old), _fields(new))
        )
        return new


def delete_interaction(
    ctx: Ctx, interaction_id: int, *, expected_version: int | None = None
) -> InteractionView:
    """Delete a note, call, email or meeting (its index row goes with it, by trigger); the
    clocks it moved are recomputed from the interactions that remain. Returns it as it was."""
    db = ctx.db
    with db.write():
        old = _lock(ctx, interaction_id, "delete")
        check_version(
            ctx, "interaction", interaction_id, _label(old), old.version, expected_version
        )
        db.execute("DELETE FROM interactions WHERE id = :id", {"id": interaction_id})
        _rederive(ctx, {old.contact_id}, {old.deal_id})
        audit.record(ctx, "interaction", interaction_id, "delete", audit.removed(_fields(old)))
        return old
