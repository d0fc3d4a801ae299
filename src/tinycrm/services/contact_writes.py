"""Changing contacts: add (refusing look-alikes), fold in details, edit, tag, delete and
touch; and the use cases built on them that the shells call: `add_or_match` (add unless
already there) and `save_contact` (a contact form, saved whole). Each is one transaction
with its audit log entry, search index row and clocks."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from tinycrm.dates import important_day_text
from tinycrm.errors import Ambiguous, Conflict, InvalidInput, NotFound
from tinycrm.identity import email_match_key, phone_match_key
from tinycrm.services import audit, clocks, companies, fields, search
from tinycrm.services.contact_queries import ContactDetail, delete_impact, get_contact, methods
from tinycrm.services.context import Ctx
from tinycrm.services.duplicates import Match, describe, find_matches
from tinycrm.services.validation import (
    check_emails,
    check_methods,
    check_name,
    check_phones,
    check_text,
    normalize_tags,
)
from tinycrm.store.db import Db, read_day, read_ts
from tinycrm.text import fold, phone_key


def reindex(db: Db, contact_id: int) -> None:
    """Rewrite the contact's search index row (name, company, title, source, notes, emails,
    phones, tags: see search.documents)."""
    search.reindex(db, "contact", contact_id)


def add_contact(
    ctx: Ctx,
    *,
    name: str,
    emails: list[str] | None = None,
    phones: list[str] | None = None,
    company: str | None = None,
    title: str | None = None,
    tags: list[str] | None = None,
    source: str | None = None,
    notes: str | None = None,
    cadence_days: int | None = None,
    allow_duplicate: bool = False,
    birthday: date | None = None,
    anniversary: date | None = None,
    custom: Mapping[str, str] | None = None,
) -> int:
    """Create a contact and return its id. If it looks like a contact already in the store
    (tinycrm.services.duplicates: the same email or phone, the same or a near-identical
    name) it is refused (Conflict) unless `allow_duplicate`. `custom` sets custom fields
    ({name: value as typed}); every required one must be there."""
    name = check_name(name)
    mails = check_emails(emails or [])
    tels = check_phones(phones or [])
    tag_list = normalize_tags(tags or [])
    title, source, notes = (
        check_text(title, "title"),
        check_text(source, "source"),
        check_text(notes, "notes"),
    )
    if cadence_days is not None and not 1 <= cadence_days <= 3650:
        raise InvalidInput("stay-in-touch cadence must be between 1 and 3650 days")
    _check_birthday(ctx, birthday)
    db, now = ctx.db, ctx.now
    with db.write():
        db.lock_key("contact identities")  # whoever adds a look-alike next sees this one
        if company:
            db.lock_key("company names")
        if not allow_duplicate:
            _refuse_duplicate(ctx, name, mails, tels)
        company_id = companies.find_or_create(ctx, company) if company else None
        contact_id = db.insert(
            "INSERT INTO contacts (name, name_key, company_id, title, source, owner_id, notes,"
            " cadence_days, birthday, anniversary, created_at, updated_at, version) VALUES"
            " (:name, :key, :company, :title, :source, :owner, :notes, :cadence, :birthday,"
            " :anniversary, :now, :now, 1) RETURNING id",
            {
                "name": name,
                "key": fold(name),
                "company": company_id,
                "title": title,
                "source": source,
                "owner": ctx.user_id,
                "notes": notes,
                "cadence": cadence_days,
                "birthday": db.day(birthday),
                "anniversary": db.day(anniversary),
                "now": db.ts(now),
            },
        )
        _add_methods(db, contact_id, mails, tels, start=0, region=ctx.phone_region)
        for t in tag_list:
            db.execute(
                "INSERT INTO contact_tags (contact_id, tag) VALUES (:id, :tag)",
                {"id": contact_id, "tag": t},
            )
        reindex(db, contact_id)
        if cadence_days is not None or tag_list:
            clocks.refresh_touch(db, [contact_id])
        extra = fields.apply(ctx, "contact", contact_id, custom, adding=True)
        audit.record(
            ctx,
            "contact",
            contact_id,
            "add",
            extra
            | audit.added(
                {
                    "name": name,
                    "emails": mails,
                    "phones": tels,
                    "company": _company_name(db, company_id),
                    "title": title,
                    "tags": tag_list,
                    "source": source,
                    "notes": notes,
                    "cadence_days": cadence_days,
                    "owner": ctx.user_name,
                    **{
                        k: important_day_text(v)
                        for k, v in (("birthday", birthday), ("anniversary", anniversary))
                        if v is not None
                    },
                }
            ),
        )
    return contact_id


def _check_birthday(ctx: Ctx, birthday: date | None) -> None:
    if birthday is not None and birthday > ctx.now.astimezone(ctx.tz).date():
        raise InvalidInput(f"--birthday is in the future: {birthday.isoformat()}")


def _company_name(db: Db, company_id: int | None) -> str | None:
    if company_id is None:
        return None
    return db.value("SELECT name FROM companies WHERE id = :id", {"id": company_id})  # type: ignore[no-any-return]


def _refuse_duplicate(ctx: Ctx, name: str, emails: list[str], phones: list[str]) -> None:
    matches = find_matches(ctx, name=name, emails=emails, phones=phones)
    if matches:
        raise Conflict(f"a contact like {name!r} already exists: {describe(matches)}")


ON_DUPLICATE = ("ask", "merge", "skip", "create")

# On a terminal: shown the look-alikes of `name`, the person answers "merge" (with the
# contact to merge into), "skip" or "create".
Choose = Callable[[str, list[Match]], tuple[str, Match | None]]


@dataclass
class AddOutcome:
    """What `add_or_match` did: "added" a contact, "merged" the details into one already
    there (`added` says what it gained), or "skipped" them as already there."""

    action: str  # added | merged | skipped
    contact: ContactDetail  # the one added, merged into or skipped as (no timeline)
    name: str  # the name as given, checked
    matches: list[Match] = field(default_factory=list)  # the look-alikes found
    alike: list[Match] = field(default_factory=list)  # added anyway: only a look-alike
    added: list[str] = field(default_factory=list)  # merged: what was new


def add_or_match(
    ctx: Ctx,
    *,
    name: str,
    emails: list[str] | None = None,
    phones: list[str] | None = None,
    company: str | None = None,
    title: str | None = None,
    tags: list[str] | None = None,
    source: str | None = None,
    notes: str | None = None,
    cadence_days: int | None = None,
    on_duplicate: str = "ask",
    ask: Choose | None = None,
    birthday: date | None = None,
    anniversary: date | None = None,
    custom: Mapping[str, str] | None = None,
) -> AddOutcome:
    """Add a contact unless it is already there, as `on_duplicate` says: "merge" folds the
    new details into the same person (a shared email or phone, or the same name where one
    has neither), "skip" adds nothing for them, "create" adds anyway, and a mere look-alike
    is added for both (named in `alike`). "ask" lets `ask` choose when there are
    look-alikes (on a terminal); without `ask` a look-alike is refused (Conflict)."""
    if on_duplicate not in ON_DUPLICATE:
        raise InvalidInput(f"on_duplicate must be one of {', '.join(ON_DUPLICATE)}")
    choice = on_duplicate
    emails, phones = emails or [], phones or []
    matches: list[Match] = []
    if choice in ("merge", "skip") or (choice == "ask" and ask is not None):
        name = check_name(name)
        check_methods(emails, phones)
        matches = find_matches(ctx, name=name, emails=emails, phones=phones)
    target: Match | None = None
    # merge and skip act on the same person only; a look-alike is added (and named)
    same = [m for m in matches if m.same_person]
    alike = matches if matches and not same and choice in ("merge", "skip") else []
    if matches and choice == "ask":
        assert ask is not None
        choice, target = ask(name, matches)
    elif same and choice == "merge":
        target = _merge_target(name, same)
    db = ctx.db
    if not matches or choice == "create" or alike:
        with db.write():
            new_id = add_contact(
                ctx,
                name=name,
                emails=emails,
                phones=phones,
                company=company,
                title=title,
                tags=tags,
                source=source,
                notes=notes,
                cadence_days=cadence_days,
                allow_duplicate=choice == "create" or bool(alike),
                birthday=birthday,
                anniversary=anniversary,
                custom=custom,
            )
            detail = get_contact(db, new_id, timeline=0)
        return AddOutcome("added", detail, name, matches, alike)
    if choice == "skip":
        detail = get_contact(db, same[0].id if same else matches[0].id, timeline=0)
        return AddOutcome("skipped", detail, name, matches)
    assert target is not None
    with db.write():
        added = add_details(
            ctx,
            target.id,
            emails=emails,
            phones=phones,
            company=company,
            title=title,
            tags=tags,
            source=source,
            notes=notes,
            cadence_days=cadence_days,
            birthday=birthday,
            anniversary=anniversary,
            custom=custom,
        )
        detail = get_contact(db, target.id, timeline=0)
    return AddOutcome("merged", detail, name, matches, added=added)


def _merge_target(name: str, matches: list[Match]) -> Match:
    """The one contact to fold new details into: the only one that is the same person."""
    if len(matches) == 1:
        return matches[0]
    raise Ambiguous(
        f"several contacts look like {name!r}: {describe(matches)};"
        " add the details to one with tinycrm contact edit, or choose --on-duplicate skip or"
        " create",
        [("contact", m.id, m.name) for m in matches],
    )


def add_details(
    ctx: Ctx,
    contact_id: int,
    *,
    emails: list[str] | None = None,
    phones: list[str] | None = None,
    company: str | None = None,
    title: str | None = None,
    tags: list[str] | None = None,
    source: str | None = None,
    notes: str | None = None,
    cadence_days: int | None = None,
    birthday: date | None = None,
    anniversary: date | None = None,
    custom: Mapping[str, str] | None = None,
) -> list[str]:
    """Fold new details into an existing contact (a duplicate caught on entry): emails,
    phones and tags it lacks are added, and fields it has blank (custom fields too) are
    filled; fields it already has are kept. Returns what was added ("email ann@x.com",
    "title"...)."""
    mails = check_emails(emails or [])
    tels = check_phones(phones or [])
    tag_list = normalize_tags(tags or [])
    given = {
        "title": check_text(title, "title"),
        "source": check_text(source, "source"),
        "notes": check_text(notes, "notes"),
    }
    if cadence_days is not None and not 1 <= cadence_days <= 3650:
        raise InvalidInput("stay-in-touch cadence must be between 1 and 3650 days")
    _check_birthday(ctx, birthday)
    db = ctx.db
    added: list[str] = []
    with db.write():
        if company and company.strip():
            db.lock_key("company names")
        db.lock("contacts", contact_id)
        row = db.one(
            "SELECT company_id, title, source, notes, cadence_days, birthday, anniversary"
            " FROM contacts WHERE id = :id",
            {"id": contact_id},
        )
        if row is None:
            raise NotFound(f"no contact with id {contact_id}")
        sets: dict[str, Any] = {k: v for k, v in given.items() if v and not row[k]}
        if cadence_days is not None and row["cadence_days"] is None:
            sets["cadence_days"] = cadence_days
        if company and company.strip() and row["company_id"] is None:
            sets["company_id"] = companies.find_or_create(ctx, company)
        for col, day in (("birthday", birthday), ("anniversary", anniversary)):
            if day is not None and row[col] is None:
                sets[col] = db.day(day)
        added += ["company" if k == "company_id" else k for k in sets]
        before = {
            (m["kind"], m["value_key"])
            for m in db.all(
                "SELECT kind, value_key FROM contact_methods WHERE contact_id = :c",
                {"c": contact_id},
            )
        }
        added += [f"email {e}" for e in dict.fromkeys(mails) if ("email", e) not in before]
        added += [
            f"phone {p}" for p in dict.fromkeys(tels) if ("phone", phone_key(p)) not in before
        ]
        start = db.value(
            "SELECT coalesce(max(position), -1) + 1 AS n FROM contact_methods"
            " WHERE contact_id = :c",
            {"c": contact_id},
        )
        _add_methods(db, contact_id, mails, tels, start=int(start), region=ctx.phone_region)
        have = {
            r["tag"]
            for r in db.all("SELECT tag FROM contact_tags WHERE contact_id = :c", {"c": contact_id})
        }
        for t in tag_list:
            if t not in have:
                db.execute(
                    "INSERT INTO contact_tags (contact_id, tag) VALUES (:c, :t)",
                    {"c": contact_id, "t": t},
                )
                added.append(f"tag {t}")
        has = {fold(v.name) for v in fields.values_of(db, "contact", contact_id)}
        fill = {k: v for k, v in (custom or {}).items() if fold(k) not in has}
        added += list(fields.apply(ctx, "contact", contact_id, fill))
        if not added:
            return added
        sets["updated_at"] = db.ts(ctx.now)
        assigns = ", ".join(f"{k} = :{k}" for k in sets)
        db.execute(
            f"UPDATE contacts SET {assigns}, version = version + 1 WHERE id = :id",
            {**sets, "id": contact_id},
        )
        reindex(db, contact_id)
        clocks.refresh_touch(db, [contact_id])
        audit.record(ctx, "contact", contact_id, "edit", {"added": [None, added]})
    return added


def _add_methods(
    db: Db,
    contact_id: int,
    emails: list[str],
    phones: list[str],
    start: int,
    region: str | None,
) -> None:
    pos = start
    for kind, values in (("email", emails), ("phone", phones)):
        for v in values:
            key = v if kind == "email" else phone_key(v)
            exists = db.value(
                "SELECT id FROM contact_methods WHERE contact_id = :c AND kind = :k"
                " AND value_key = :key",
                {"c": contact_id, "k": kind, "key": key},
            )
            if exists:
                continue
            match = email_match_key(v) if kind == "email" else phone_match_key(v, region)
            db.execute(
                "INSERT INTO contact_methods (contact_id, kind, value, value_key, match_key,"
                " position) VALUES (:c, :k, :v, :key, :match, :pos)",
                {"c": contact_id, "k": kind, "v": v, "key": key, "match": match, "pos": pos},
            )
            pos += 1


def edit_contact(
    ctx: Ctx,
    contact_id: int,
    *,
    name: str | None = None,
    company: str | None = None,
    title: str | None = None,
    source: str | None = None,
    notes: str | None = None,
    cadence_days: int | None = None,
    clear_cadence: bool = False,
    add_emails: list[str] | None = None,
    remove_emails: list[str] | None = None,
    add_phones: list[str] | None = None,
    remove_phones: list[str] | None = None,
    consent: str | None = None,
    consent_at: datetime | None = None,
    opt_out: bool = False,
    opt_in: bool = False,
    expected_version: int | None = None,
    birthday: date | None = None,
    clear_birthday: bool = False,
    anniversary: date | None = None,
    clear_anniversary: bool = False,
    custom: Mapping[str, str] | None = None,
    unset: Sequence[str] = (),
) -> None:
    """Change the given fields; an empty string clears an optional text field. `custom`
    sets custom fields ({name: value as typed}), `unset` clears them. `opt_out`
    records that the person asked not to be contacted (now, unless already recorded) and
    stops their stay-in-touch clock; `opt_in` clears it.

    With `expected_version` (the version the caller showed the user), a contact changed
    since then is refused with Conflict instead of overwritten."""
    db = ctx.db
    sets: dict[str, Any] = {}
    if name is not None:
        sets["name"] = check_name(name)
        sets["name_key"] = fold(sets["name"])
    for col, value in (("title", title), ("source", source), ("notes", notes)):
        if value is not None:
            sets[col] = check_text(value, col)
    if cadence_days is not None:
        if not 1 <= cadence_days <= 3650:
            raise InvalidInput("stay-in-touch cadence must be between 1 and 3650 days")
        sets["cadence_days"] = cadence_days
    if clear_cadence:
        sets["cadence_days"] = None
    _check_birthday(ctx, birthday)
    for col, day, clear in (
        ("birthday", birthday, clear_birthday),
        ("anniversary", anniversary, clear_anniversary),
    ):
        if day is not None:
            sets[col] = db.day(day)
        elif clear:
            sets[col] = None
    if consent is not None:
        sets["consent"] = check_text(consent, "consent")
    if consent_at is not None:
        if consent_at > ctx.now:
            raise InvalidInput("consent can't be given in the future")
        sets["consent_at"] = db.ts(consent_at)
    if opt_out and opt_in:
        raise InvalidInput("give --opt-out or --opt-in, not both")
    if opt_in:
        sets["opted_out_at"] = None
    mails = check_emails(add_emails or [])
    tels = check_phones(add_phones or [])
    drop_mails = check_emails(remove_emails or [])
    methods_change = bool(mails or tels or drop_mails or remove_phones)
    with db.write():
        if company is not None and company.strip():
            db.lock_key("company names")
        db.lock("contacts", contact_id)
        old = db.one(
            "SELECT c.name, c.title, c.source, c.notes, c.cadence_days, c.version, c.consent,"
            " c.consent_at, c.opted_out_at, c.birthday, c.anniversary, co.name AS company"
            " FROM contacts c LEFT JOIN companies co ON co.id = c.company_id"
            " WHERE c.id = :id",
            {"id": contact_id},
        )
        if old is None:
            raise NotFound(f"no contact with id {contact_id}")
        check_version(ctx, "contact", contact_id, old["name"], old["version"], expected_version)
        if opt_out:
            already = old["opted_out_at"]
            sets["opted_out_at"] = already if already is not None else db.ts(ctx.now)
        new: dict[str, Any] = {k: v for k, v in sets.items() if k != "name_key"}
        # the audit log takes times as datetimes
        old = {**old, "consent_at": read_ts(old["consent_at"])}
        old["opted_out_at"] = read_ts(old["opted_out_at"])
        if "consent_at" in new:
            new["consent_at"] = consent_at
        if "opted_out_at" in new:
            new["opted_out_at"] = read_ts(new["opted_out_at"])
        for col in ("birthday", "anniversary"):  # in the audit log as shown: --03-14
            was = read_day(old[col])
            old[col] = important_day_text(was) if was else None
            if col in new:
                day = read_day(new[col])
                new[col] = important_day_text(day) if day else None
        if company is not None:
            sets["company_id"] = companies.find_or_create(ctx, company) if company.strip() else None
            new["company"] = _company_name(db, sets["company_id"])
        if not sets and not methods_change and not custom and not unset:
            raise InvalidInput("nothing to change: give at least one option (see --help)")
        extra = fields.apply(ctx, "contact", contact_id, custom, unset)
        before = methods(db, contact_id) if methods_change else {}
        for e in drop_mails:
            gone = db.execute(
                "DELETE FROM contact_methods WHERE contact_id = :c AND kind = 'email'"
                " AND value_key = :k",
                {"c": contact_id, "k": e},
            )
            if gone.rowcount == 0:
                raise InvalidInput(f"the contact has no email {e}")
        for p in remove_phones or []:
            gone = db.execute(
                "DELETE FROM contact_methods WHERE contact_id = :c AND kind = 'phone'"
                " AND value_key = :k",
                {"c": contact_id, "k": phone_key(p)},
            )
            if gone.rowcount == 0:
                raise InvalidInput(f"the contact has no phone {p}")
        if mails or tels:
            start = db.value(
                "SELECT coalesce(max(position), -1) + 1 AS n FROM contact_methods"
                " WHERE contact_id = :c",
                {"c": contact_id},
            )
            _add_methods(db, contact_id, mails, tels, start=int(start), region=ctx.phone_region)
        sets["updated_at"] = db.ts(ctx.now)
        assigns = ", ".join(f"{k} = :{k}" for k in sets)
        db.execute(
            f"UPDATE contacts SET {assigns}, version = version + 1 WHERE id = :id",
            {**sets, "id": contact_id},
        )
        reindex(db, contact_id)
        if "cadence_days" in sets or "opted_out_at" in sets:
            clocks.refresh_touch(db, [contact_id])
        changes = audit.diff(old, new) | extra
        if methods_change:
            changes.update(audit.diff(before, methods(db, contact_id)))
        audit.record(ctx, "contact", contact_id, "edit", changes)


def check_version(
    ctx: Ctx, entity: str, entity_id: int, label: str, actual: int, expected: int | None
) -> None:
    """Refuse (Conflict) a change based on another version than the stored `actual`."""
    if expected is not None and int(actual) != expected:
        raise audit.stale(ctx, entity, entity_id, label, expected, int(actual))


def tag_contact(
    ctx: Ctx,
    contact_id: int,
    *,
    add: list[str],
    remove: list[str],
    expected_version: int | None = None,
) -> list[str]:
    """Add and remove tags; returns the contact's tags afterwards. `expected_version` as
    for edit_contact."""
    db = ctx.db
    add_t, rm_t = normalize_tags(add), normalize_tags(remove)
    if not add_t and not rm_t:
        raise InvalidInput("give tags to add (vip) or remove (-vip)")
    with db.write():
        db.lock("contacts", contact_id)
        row = db.one("SELECT name, version FROM contacts WHERE id = :id", {"id": contact_id})
        if row is None:
            raise NotFound(f"no contact with id {contact_id}")
        check_version(ctx, "contact", contact_id, row["name"], row["version"], expected_version)
        before = [
            r["tag"]
            for r in db.all(
                "SELECT tag FROM contact_tags WHERE contact_id = :c ORDER BY tag", {"c": contact_id}
            )
        ]
        for t in add_t:
            if not db.value(
                "SELECT 1 AS x FROM contact_tags WHERE contact_id = :c AND tag = :t",
                {"c": contact_id, "t": t},
            ):
                db.execute(
                    "INSERT INTO contact_tags (contact_id, tag) VALUES (:c, :t)",
                    {"c": contact_id, "t": t},
                )
        for t in rm_t:
            db.execute(
                "DELETE FROM contact_tags WHERE contact_id = :c AND tag = :t",
                {"c": contact_id, "t": t},
            )
        db.execute(
            "UPDATE contacts SET updated_at = :now, version = version + 1 WHERE id = :id",
            {"now": db.ts(ctx.now), "id": contact_id},
        )
        reindex(db, contact_id)
        clocks.refresh_touch(db, [contact_id])
        after = [
            r["tag"]
            for r in db.all(
                "SELECT tag FROM contact_tags WHERE contact_id = :c ORDER BY tag", {"c": contact_id}
            )
        ]
        audit.record(
            ctx, "contact", contact_id, "tag", audit.diff({"tags": before}, {"tags": after})
        )
        return after


def save_contact(
    ctx: Ctx,
    contact_id: int | None,
    *,
    name: str,
    emails: list[str] | None = None,
    phones: list[str] | None = None,
    company: str | None = None,
    title: str | None = None,
    tags: list[str] | None = None,
    notes: str | None = None,
    cadence_days: int | None = None,
    expected_version: int | None = None,
    allow_duplicate: bool = False,
    custom: Mapping[str, str] | None = None,
    unset: Sequence[str] = (),
) -> int:
    """Save a contact as a form shows it, whole, and return its id: a new one is added
    (contact_id None; a look-alike is refused as by add_contact unless `allow_duplicate`);
    for an existing one only what differs from the stored contact is written, in one
    transaction, and only if it is still at `expected_version` (else Conflict). An empty
    company, title or notes clears it; cadence_days None clears the contact's own cadence.
    `custom` sets custom fields (the form gives those it changed), `unset` clears them."""
    emails, phones = emails or [], phones or []
    tags = normalize_tags(tags or [])
    company, title, notes = company or "", title or "", notes or ""
    if contact_id is None:
        return add_contact(
            ctx,
            name=name,
            emails=emails,
            phones=phones,
            company=company or None,
            title=title or None,
            tags=tags,
            notes=notes or None,
            cadence_days=cadence_days,
            allow_duplicate=allow_duplicate,
            custom=custom,
        )
    db = ctx.db
    with db.write():
        db.lock("contacts", contact_id)
        d = get_contact(db, contact_id, timeline=0)

        def changed(new: str, old: str | None) -> str | None:
            return new if new != (old or "") else None

        fields: dict[str, Any] = {
            "name": changed(name, d.name),
            "company": changed(company, d.company),
            "title": changed(title, d.title),
            "notes": changed(notes, d.notes),
            "add_emails": [e for e in emails if e not in d.emails],
            "remove_emails": [e for e in d.emails if e not in emails],
            "add_phones": [p for p in phones if p not in d.phones],
            "remove_phones": [p for p in d.phones if p not in phones],
            "custom": dict(custom or {}),
            "unset": list(unset),
        }
        if cadence_days != d.cadence_days:
            fields["cadence_days"] = cadence_days
            fields["clear_cadence"] = cadence_days is None
        expected = expected_version  # checked by the first write only
        if any(v for v in fields.values()) or "cadence_days" in fields:
            edit_contact(ctx, contact_id, **fields, expected_version=expected)
            expected = None
        add = [t for t in tags if t not in d.tags]
        remove = [t for t in d.tags if t not in tags]
        if add or remove:
            tag_contact(ctx, contact_id, add=add, remove=remove, expected_version=expected)
    return contact_id


def delete_contact(ctx: Ctx, contact_id: int) -> None:
    """Delete a contact with its notes, reminders and purchases; its deals stay, unlinked."""
    db = ctx.db
    with db.write():
        db.lock("contacts", contact_id, "delete")
        row = db.one(
            "SELECT c.name, c.title, co.name AS company FROM contacts c"
            " LEFT JOIN companies co ON co.id = c.company_id WHERE c.id = :id",
            {"id": contact_id},
        )
        if row is None:
            raise NotFound(f"no contact with id {contact_id}")
        impact = delete_impact(db, contact_id)
        snapshot = {**row, **methods(db, contact_id)}
        db.execute("DELETE FROM contacts WHERE id = :id", {"id": contact_id})
        audit.record(
            ctx,
            "contact",
            contact_id,
            "delete",
            audit.removed(
                {
                    **snapshot,
                    "interactions": impact.interactions,
                    "reminders": impact.reminders,
                    "purchases": impact.purchases,
                }
            ),
        )


def touch(db: Db, contact_id: int, when: datetime) -> None:
    """Record an interaction time: last_touch_at only ever moves forward, and the
    stay-in-touch clock restarts from it."""
    moved = db.execute(
        "UPDATE contacts SET last_touch_at = :w WHERE id = :id"
        " AND (last_touch_at IS NULL OR last_touch_at < :w)",
        {"w": db.ts(when), "id": contact_id},
    )
    if moved.rowcount:
        clocks.refresh_touch(db, [contact_id])
