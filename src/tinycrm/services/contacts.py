"""Contacts: the people we sell to, with emails, phones, tags and a company."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tinycrm.errors import Conflict, InvalidInput
from tinycrm.identity import email_match_key, phone_match_key
from tinycrm.refs import prefix_match
from tinycrm.services import audit, clocks, companies, search
from tinycrm.services.context import Ctx
from tinycrm.store.db import Db, read_day, read_ts
from tinycrm.text import clean, fold, normalize_email, phone_key

MAX_NAME = 200
#: Real contacts: not the placeholder that keeps erased people's purchases (whose name
#: key is empty; see services.privacy). Lists, counts and rankings hold real ones only.
REAL = "c.name_key <> ''"
MAX_TEXT = 100_000


@dataclass
class ContactSummary:
    id: int
    name: str
    company: str | None
    title: str | None
    email: str | None
    phone: str | None
    tags: list[str]
    owner: str | None
    last_touch_at: datetime | None


@dataclass
class TimelineEntry:
    when: datetime
    kind: str  # note | call | email | meeting | purchase | deal
    text: str
    ref: str  # "interaction:12", "purchase:3", "deal:4"
    user: str | None = None


@dataclass
class DealLine:
    id: int
    title: str
    stage: str
    status: str
    value: str
    currency: str


@dataclass
class ContactDetail:
    id: int
    name: str
    company_id: int | None
    company: str | None
    title: str | None
    source: str | None
    owner: str | None
    notes: str | None
    emails: list[str]
    phones: list[str]
    urls: list[str]
    addresses: list[str]  # each "label: address" when the address has a label
    tags: list[str]
    cadence_days: int | None
    created_at: datetime | None
    updated_at: datetime | None
    last_touch_at: datetime | None
    next_reminder_at: datetime | None
    next_reminder: str | None
    purchases_count: int
    purchases_total: dict[str, str]
    last_purchase_on: str | None
    version: int  # changes on every edit; pass it back as expected_version
    consent: str | None = None
    consent_at: datetime | None = None
    opted_out_at: datetime | None = None
    open_deals: list[DealLine] = field(default_factory=list)
    timeline: list[TimelineEntry] = field(default_factory=list)


def check_name(name: str, what: str = "name") -> str:
    name = " ".join(clean(name).split())
    if not name or not fold(name):  # an empty name key is the erased-purchases placeholder's
        raise InvalidInput(f"{what} can't be empty")
    if len(name) > MAX_NAME:
        raise InvalidInput(f"{what} is longer than {MAX_NAME} characters")
    return name


def check_text(text: str | None, what: str) -> str | None:
    if text is None:
        return None
    text = clean(text)
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"{what} is longer than {MAX_TEXT} characters")
    return text or None


def _check_emails(emails: list[str]) -> list[str]:
    out = []
    for e in emails:
        try:
            out.append(normalize_email(e))
        except ValueError:
            raise InvalidInput(f"not an email address: {e!r}") from None
    return out


def _check_phones(phones: list[str]) -> list[str]:
    out = []
    for p in phones:
        p = " ".join(clean(p).split())
        if len(phone_key(p).lstrip("+")) < 3:
            raise InvalidInput(f"not a phone number: {p!r}")
        out.append(p)
    return out


def check_methods(emails: list[str], phones: list[str]) -> tuple[list[str], list[str]]:
    """Emails (normalized) and phones (cleaned), or InvalidInput naming the bad one."""
    return _check_emails(emails), _check_phones(phones)


def normalize_tags(tags: list[str]) -> list[str]:
    out: list[str] = []
    for raw in tags:
        for t in raw.split(","):
            t = fold(t).lstrip("#").replace(" ", "-")
            if not t:
                continue
            if len(t) > 50:
                raise InvalidInput(f"tag is longer than 50 characters: {t!r}")
            if t not in out:
                out.append(t)
    return out


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
) -> int:
    """Create a contact and return its id. If it looks like a contact already in the store
    (tinycrm.services.duplicates: the same email or phone, the same or a near-identical
    name) it is refused (Conflict) unless `allow_duplicate`."""
    name = check_name(name)
    mails = _check_emails(emails or [])
    tels = _check_phones(phones or [])
    tag_list = normalize_tags(tags or [])
    title, source, notes = (
        check_text(title, "title"),
        check_text(source, "source"),
        check_text(notes, "notes"),
    )
    if cadence_days is not None and not 1 <= cadence_days <= 3650:
        raise InvalidInput("stay-in-touch cadence must be between 1 and 3650 days")
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
            " cadence_days, created_at, updated_at, version) VALUES (:name, :key, :company,"
            " :title, :source, :owner, :notes, :cadence, :now, :now, 1) RETURNING id",
            {
                "name": name,
                "key": fold(name),
                "company": company_id,
                "title": title,
                "source": source,
                "owner": ctx.user_id,
                "notes": notes,
                "cadence": cadence_days,
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
        audit.record(
            ctx,
            "contact",
            contact_id,
            "add",
            audit.added(
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
                }
            ),
        )
    return contact_id


def _company_name(db: Db, company_id: int | None) -> str | None:
    if company_id is None:
        return None
    return db.value("SELECT name FROM companies WHERE id = :id", {"id": company_id})  # type: ignore[no-any-return]


def _refuse_duplicate(ctx: Ctx, name: str, emails: list[str], phones: list[str]) -> None:
    from tinycrm.services.duplicates import describe, find_matches

    matches = find_matches(ctx, name=name, emails=emails, phones=phones)
    if matches:
        raise Conflict(f"a contact like {name!r} already exists: {describe(matches)}")


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
) -> list[str]:
    """Fold new details into an existing contact (a duplicate caught on entry): emails,
    phones and tags it lacks are added, and fields it has blank are filled; fields it
    already has are kept. Returns what was added ("email ann@x.com", "title"...)."""
    mails = _check_emails(emails or [])
    tels = _check_phones(phones or [])
    tag_list = normalize_tags(tags or [])
    given = {
        "title": check_text(title, "title"),
        "source": check_text(source, "source"),
        "notes": check_text(notes, "notes"),
    }
    if cadence_days is not None and not 1 <= cadence_days <= 3650:
        raise InvalidInput("stay-in-touch cadence must be between 1 and 3650 days")
    db = ctx.db
    added: list[str] = []
    with db.write():
        if company and company.strip():
            db.lock_key("company names")
        db.lock("contacts", contact_id)
        row = db.one(
            "SELECT company_id, title, source, notes, cadence_days FROM contacts WHERE id = :id",
            {"id": contact_id},
        )
        if row is None:
            from tinycrm.errors import NotFound

            raise NotFound(f"no contact with id {contact_id}")
        sets: dict[str, Any] = {k: v for k, v in given.items() if v and not row[k]}
        if cadence_days is not None and row["cadence_days"] is None:
            sets["cadence_days"] = cadence_days
        if company and company.strip() and row["company_id"] is None:
            sets["company_id"] = companies.find_or_create(ctx, company)
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


# How contacts can be listed: each order is a list of (SQL term, descending) ending on the
# id, so every row has one place and keyset paging (`after`, `before`) never skips or
# repeats one. A term that can be NULL follows one that sets its NULLs apart (a 0/1 flag),
# so within one value of the flag it is all NULL or never NULL.
_NO_TOUCH = "CASE WHEN c.last_touch_at IS NULL THEN 0 ELSE 1 END"
_NO_COMPANY = "CASE WHEN c.company_id IS NULL THEN 1 ELSE 0 END"
_NO_OWNER = "CASE WHEN c.owner_id IS NULL THEN 1 ELSE 0 END"
ORDERS: dict[str, tuple[tuple[str, bool], ...]] = {
    "name": (("c.name_key", False), ("c.id", False)),
    "name-desc": (("c.name_key", True), ("c.id", True)),
    # never touched first, then the longest since the last touch
    "untouched": ((_NO_TOUCH, False), ("c.last_touch_at", False), ("c.id", False)),
    "newest": (("c.id", True),),
    # by company name (no company last), then by name within it
    "company": (
        (_NO_COMPANY, False),
        ("co.name_key", False),
        ("c.name_key", False),
        ("c.id", False),
    ),
    # by owner (nobody's last), then by name
    "owner": ((_NO_OWNER, False), ("u.name", False), ("c.name_key", False), ("c.id", False)),
}
# every list query joins these, so any term can be used
_FROM = (
    " FROM contacts c LEFT JOIN companies co ON co.id = c.company_id"
    " LEFT JOIN users u ON u.id = c.owner_id"
)


def _check_order(order: str) -> tuple[tuple[str, bool], ...]:
    if order not in ORDERS:
        raise InvalidInput(f"order must be one of {', '.join(ORDERS)}: {order!r}")
    return ORDERS[order]


def _order_by(terms: tuple[tuple[str, bool], ...], backward: bool = False) -> str:
    return ", ".join(f"{t} {'DESC' if desc != backward else 'ASC'}" for t, desc in terms)


def _keyset(
    terms: tuple[tuple[str, bool], ...], key: tuple[Any, ...], backward: bool
) -> tuple[str, dict[str, Any]]:
    """The WHERE condition for the rows after (or before) the one whose `page_key` is `key`:
    (t1 > k1 OR (t1 = k1 AND (t2 > k2 OR ...))), plus t1 >= k1 on its own so that an index
    on t1 can start the scan there."""
    if len(key) != len(terms):
        raise InvalidInput(f"a page key has {len(terms)} parts, not {len(key)}")
    params = {f"k{i}": v for i, v in enumerate(key)}
    clause = ""
    for i in reversed(range(len(terms))):
        term, desc = terms[i]
        if key[i] is None:
            continue  # NULL for every row tied so far (see ORDERS): no say in the order
        op = "<" if desc != backward else ">"
        here = f"{term} {op} :k{i}"
        clause = f"({here} OR ({term} = :k{i} AND {clause}))" if clause else here
    first, desc = terms[0]
    lead = f"{first} {'<' if desc != backward else '>'}= :k0"
    return (f"{lead} AND {clause}" if clause else lead), params


def list_contacts(
    db: Db,
    *,
    tag: str | None = None,
    owner: str | None = None,
    company_id: int | None = None,
    starts: str | None = None,
    opted_out: bool = False,
    order: str = "name",
    after: tuple[Any, ...] | None = None,
    before: tuple[Any, ...] | None = None,
    last: bool = False,
    limit: int = 100,
) -> list[ContactSummary]:
    """Contacts in `order` (see ORDERS; name by default), a page at a time: pass the last
    row's `page_key` as `after` for the next page, or the first row's as `before` for the
    `limit` rows before it; `last` gives the last page. Pages are always in `order`.
    Keyset paging: no OFFSET, so a page in name order takes the same time at 100k contacts
    as at 100."""
    terms = _check_order(order)
    where = [REAL]
    params: dict[str, Any] = {"n": limit}
    if opted_out:
        where.append("c.opted_out_at IS NOT NULL")
    if tag:
        where.append("c.id IN (SELECT contact_id FROM contact_tags WHERE tag = :tag)")
        params["tag"] = normalize_tags([tag])[0] if normalize_tags([tag]) else tag
    if owner:
        where.append("c.owner_id = (SELECT id FROM users WHERE name = :owner)")
        params["owner"] = owner
    if company_id is not None:
        where.append("c.company_id = :company")
        params["company"] = company_id
    if starts:
        key = fold(starts)
        where.append(prefix_match(db, "c.name_key"))
        params.update(lo=key, hi=key + "\uffff")
    if (after is not None) + (before is not None) + last > 1:
        raise InvalidInput("a page starts after one contact, ends before one, or is the last")
    backward = before is not None or last
    edge = before if before is not None else after
    if edge is not None:
        clause, more = _keyset(terms, edge, backward)
        where.append(clause)
        params.update(more)
    rows = db.all(
        "SELECT c.id, c.name, c.title, c.last_touch_at, co.name AS company, u.name AS owner,"
        " (SELECT value FROM contact_methods m WHERE m.contact_id = c.id AND m.kind = 'email'"
        "   ORDER BY position LIMIT 1) AS email,"
        " (SELECT value FROM contact_methods m WHERE m.contact_id = c.id AND m.kind = 'phone'"
        "   ORDER BY position LIMIT 1) AS phone"
        f"{_FROM} WHERE {' AND '.join(where)} ORDER BY {_order_by(terms, backward)} LIMIT :n",
        params,
    )
    if backward:
        rows.reverse()
    return _summaries(db, rows)


def page_key(db: Db, contact_id: int, order: str = "name") -> tuple[Any, ...]:
    """Where a contact sits in `order`: the `after` of the page that follows it (or the
    `before` of the page that precedes it)."""
    terms = _check_order(order)
    columns = ", ".join(f"{t} AS k{i}" for i, (t, _) in enumerate(terms))
    row = db.one(f"SELECT {columns}{_FROM} WHERE c.id = :id", {"id": contact_id})
    if row is None:
        from tinycrm.errors import NotFound

        raise NotFound(f"no contact with id {contact_id}")
    return tuple(row[f"k{i}"] for i in range(len(terms)))


def sorted_ids(
    db: Db,
    ids: list[int],
    *,
    tag: str | None = None,
    owner: str | None = None,
    order: str = "name",
) -> list[int]:
    """`ids` (search hits, say) in `order`, keeping those with `tag` and `owner`."""
    terms = _check_order(order)
    if not ids:
        return []
    where = [REAL, f"c.id IN ({','.join(str(int(i)) for i in ids)})"]
    params: dict[str, Any] = {}
    if tag:
        where.append("c.id IN (SELECT contact_id FROM contact_tags WHERE tag = :tag)")
        params["tag"] = (normalize_tags([tag]) or [tag])[0]
    if owner:
        where.append("c.owner_id = (SELECT id FROM users WHERE name = :owner)")
        params["owner"] = owner
    rows = db.all(
        f"SELECT c.id{_FROM} WHERE {' AND '.join(where)} ORDER BY {_order_by(terms)}", params
    )
    return [int(r["id"]) for r in rows]


def summaries_by_id(db: Db, ids: list[int]) -> list[ContactSummary]:
    if not ids:
        return []
    rows = db.all(
        "SELECT c.id, c.name, c.title, c.last_touch_at, co.name AS company, u.name AS owner,"
        " (SELECT value FROM contact_methods m WHERE m.contact_id = c.id AND m.kind = 'email'"
        "   ORDER BY position LIMIT 1) AS email,"
        " (SELECT value FROM contact_methods m WHERE m.contact_id = c.id AND m.kind = 'phone'"
        "   ORDER BY position LIMIT 1) AS phone"
        " FROM contacts c LEFT JOIN companies co ON co.id = c.company_id"
        " LEFT JOIN users u ON u.id = c.owner_id"
        f" WHERE {REAL} AND c.id IN ({','.join(str(int(i)) for i in ids)})"
        " ORDER BY c.name_key, c.id"
    )
    return _summaries(db, rows)


def _summaries(db: Db, rows: list[dict[str, Any]]) -> list[ContactSummary]:
    tags: dict[int, list[str]] = {}
    if rows:
        ids = ",".join(str(r["id"]) for r in rows)
        for t in db.all(
            f"SELECT contact_id, tag FROM contact_tags WHERE contact_id IN ({ids}) ORDER BY tag"
        ):
            tags.setdefault(t["contact_id"], []).append(t["tag"])
    return [
        ContactSummary(
            id=r["id"],
            name=r["name"],
            company=r["company"],
            title=r["title"],
            email=r["email"],
            phone=r["phone"],
            tags=tags.get(r["id"], []),
            owner=r["owner"],
            last_touch_at=read_ts(r["last_touch_at"]),
        )
        for r in rows
    ]


def count_contacts(db: Db) -> int:
    return int(db.value(f"SELECT count(*) AS n FROM contacts c WHERE {REAL}") or 0)


def get_contact(db: Db, contact_id: int, *, timeline: int = 20) -> ContactDetail:
    """The 360 view: fields, open deals, purchases, last and next touch, timeline."""
    with db.read():
        r = db.one(
            "SELECT c.*, co.name AS company, u.name AS owner FROM contacts c"
            " LEFT JOIN companies co ON co.id = c.company_id"
            " LEFT JOIN users u ON u.id = c.owner_id WHERE c.id = :id",
            {"id": contact_id},
        )
        if r is None:
            from tinycrm.errors import NotFound

            raise NotFound(f"no contact with id {contact_id}")
        methods = db.all(
            "SELECT kind, value, label FROM contact_methods WHERE contact_id = :id"
            " ORDER BY position",
            {"id": contact_id},
        )
        tags = [
            t["tag"]
            for t in db.all(
                "SELECT tag FROM contact_tags WHERE contact_id = :id ORDER BY tag",
                {"id": contact_id},
            )
        ]
        nxt = db.one(
            "SELECT due_at, text FROM reminders WHERE contact_id = :id AND done_at IS NULL"
            " ORDER BY due_at LIMIT 1",
            {"id": contact_id},
        )
        totals = db.all(
            "SELECT currency, count(*) AS n, sum(amount_cents) AS total, max(purchased_on) AS last"
            " FROM purchases WHERE contact_id = :id GROUP BY currency ORDER BY currency",
            {"id": contact_id},
        )
        deals = db.all(
            "SELECT d.id, d.title, s.name AS stage, d.status, d.value_cents, d.currency"
            " FROM deals d JOIN stages s ON s.id = d.stage_id"
            " WHERE d.contact_id = :id AND d.status = 'open' ORDER BY s.position, d.id",
            {"id": contact_id},
        )
        entries = contact_timeline(db, contact_id, limit=timeline)
    from tinycrm.money import format_cents

    last_days = [d for d in (read_day(t["last"]) for t in totals) if d is not None]
    return ContactDetail(
        id=r["id"],
        name=r["name"],
        company_id=r["company_id"],
        company=r["company"],
        title=r["title"],
        source=r["source"],
        owner=r["owner"],
        notes=r["notes"],
        emails=[m["value"] for m in methods if m["kind"] == "email"],
        phones=[m["value"] for m in methods if m["kind"] == "phone"],
        urls=[m["value"] for m in methods if m["kind"] == "url"],
        addresses=[
            (f"{m['label']}: " if m["label"] else "") + m["value"]
            for m in methods
            if m["kind"] == "address"
        ],
        tags=tags,
        cadence_days=r["cadence_days"],
        created_at=read_ts(r["created_at"]),
        updated_at=read_ts(r["updated_at"]),
        last_touch_at=read_ts(r["last_touch_at"]),
        next_reminder_at=read_ts(nxt["due_at"]) if nxt else None,
        next_reminder=nxt["text"] if nxt else None,
        purchases_count=sum(int(t["n"]) for t in totals),
        purchases_total={t["currency"]: format_cents(int(t["total"])) for t in totals},
        last_purchase_on=max(last_days).isoformat() if last_days else None,
        version=int(r["version"]),
        consent=r["consent"],
        consent_at=read_ts(r["consent_at"]),
        opted_out_at=read_ts(r["opted_out_at"]),
        open_deals=[
            DealLine(
                d["id"],
                d["title"],
                d["stage"],
                d["status"],
                format_cents(int(d["value_cents"])),
                d["currency"],
            )
            for d in deals
        ],
        timeline=entries,
    )


def contact_timeline(db: Db, contact_id: int, *, limit: int = 20) -> list[TimelineEntry]:
    """Interactions, purchases and deal moves of a contact, newest first."""
    from tinycrm.money import display_money

    out: list[TimelineEntry] = []
    for i in db.all(
        "SELECT i.id, i.kind, i.body, i.happened_at, u.name AS user FROM interactions i"
        " LEFT JOIN users u ON u.id = i.user_id WHERE i.contact_id = :id"
        " ORDER BY i.happened_at DESC, i.id DESC LIMIT :n",
        {"id": contact_id, "n": limit},
    ):
        ts = read_ts(i["happened_at"])
        assert ts is not None
        out.append(TimelineEntry(ts, i["kind"], i["body"], f"interaction:{i['id']}", i["user"]))
    for p in db.all(
        "SELECT id, purchased_on, amount_cents, currency, note, created_at FROM purchases"
        " WHERE contact_id = :id ORDER BY purchased_on DESC, id DESC LIMIT :n",
        {"id": contact_id, "n": limit},
    ):
        day = read_day(p["purchased_on"])
        assert day is not None
        from datetime import UTC
        from datetime import datetime as dt

        when = dt(day.year, day.month, day.day, 12, tzinfo=UTC)
        text = display_money(int(p["amount_cents"]), p["currency"]) + (
            f" — {p['note']}" if p["note"] else ""
        )
        out.append(TimelineEntry(when, "purchase", text, f"purchase:{p['id']}"))
    for s in db.all(
        "SELECT sc.deal_id, sc.changed_at, d.title, s.name AS stage, u.name AS user"
        " FROM stage_changes sc JOIN deals d ON d.id = sc.deal_id"
        " JOIN stages s ON s.id = sc.to_stage_id LEFT JOIN users u ON u.id = sc.user_id"
        " WHERE d.contact_id = :id ORDER BY sc.changed_at DESC, sc.id DESC LIMIT :n",
        {"id": contact_id, "n": limit},
    ):
        ts = read_ts(s["changed_at"])
        assert ts is not None
        out.append(
            TimelineEntry(
                ts, "deal", f"{s['title']} → {s['stage']}", f"deal:{s['deal_id']}", s["user"]
            )
        )
    out.sort(key=lambda e: (e.when, e.ref), reverse=True)
    return out[:limit]


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
) -> None:
    """Change the given fields; an empty string clears an optional text field. `opt_out`
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
    mails = _check_emails(add_emails or [])
    tels = _check_phones(add_phones or [])
    drop_mails = _check_emails(remove_emails or [])
    methods_change = bool(mails or tels or drop_mails or remove_phones)
    with db.write():
        if company is not None and company.strip():
            db.lock_key("company names")
        db.lock("contacts", contact_id)
        old = db.one(
            "SELECT c.name, c.title, c.source, c.notes, c.cadence_days, c.version, c.consent,"
            " c.consent_at, c.opted_out_at, co.name AS company"
            " FROM contacts c LEFT JOIN companies co ON co.id = c.company_id"
            " WHERE c.id = :id",
            {"id": contact_id},
        )
        if old is None:
            from tinycrm.errors import NotFound

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
        if company is not None:
            sets["company_id"] = companies.find_or_create(ctx, company) if company.strip() else None
            new["company"] = _company_name(db, sets["company_id"])
        if not sets and not methods_change:
            raise InvalidInput("nothing to change: give at least one option (see --help)")
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
        changes = audit.diff(old, new)
        if methods_change:
            changes.update(audit.diff(before, methods(db, contact_id)))
        audit.record(ctx, "contact", contact_id, "edit", changes)


def methods(db: Db, contact_id: int) -> dict[str, list[str]]:
    """A contact's emails and phones, in order: {"emails": [...], "phones": [...]}."""
    rows = db.all(
        "SELECT kind, value FROM contact_methods WHERE contact_id = :id ORDER BY position, id",
        {"id": contact_id},
    )
    return {
        "emails": [r["value"] for r in rows if r["kind"] == "email"],
        "phones": [r["value"] for r in rows if r["kind"] == "phone"],
    }


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
            from tinycrm.errors import NotFound

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


@dataclass
class DeleteImpact:
    interactions: int
    reminders: int
    purchases: int
    deals: int


def delete_impact(db: Db, contact_id: int) -> DeleteImpact:
    """What deleting a contact takes with it (deals are kept, unlinked)."""
    p = {"id": contact_id}
    return DeleteImpact(
        interactions=int(db.value("SELECT count(*) FROM interactions WHERE contact_id = :id", p)),
        reminders=int(db.value("SELECT count(*) FROM reminders WHERE contact_id = :id", p)),
        purchases=int(db.value("SELECT count(*) FROM purchases WHERE contact_id = :id", p)),
        deals=int(db.value("SELECT count(*) FROM deals WHERE contact_id = :id", p)),
    )


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
            from tinycrm.errors import NotFound

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
