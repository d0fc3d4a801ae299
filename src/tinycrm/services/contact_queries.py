"""Reading contacts: lists a page at a time (keyset paging in several orders), the
list rows of given ids, and the 360 view with its timeline. No writes here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from tinycrm.errors import InvalidInput, NotFound
from tinycrm.money import Money
from tinycrm.refs import prefix_match
from tinycrm.services.as_written import AsWritten, load
from tinycrm.services.fields import FieldValue, values_of
from tinycrm.services.validation import normalize_tags
from tinycrm.store.db import Db, read_day, read_ts
from tinycrm.text import fold

#: Real contacts: not the placeholder that keeps erased people's purchases (whose name
#: key is empty; see services.privacy). Lists, counts and rankings hold real ones only.
REAL = "c.name_key <> ''"


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
    kind: str  # note | call | email | meeting | purchase | deal | case
    text: str
    ref: str  # "interaction:12", "purchase:3", "deal:4", "case:5"
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
    purchases_count: int  # orders: refunds are not counted
    purchases_total: dict[str, Money]  # by currency; the shells format them
    last_purchase_on: str | None
    version: int  # changes on every edit; pass it back as expected_version
    consent: str | None = None
    consent_at: datetime | None = None
    opted_out_at: datetime | None = None
    birthday: date | None = None  # without a year: in dates.NO_YEAR
    anniversary: date | None = None
    as_written: list[AsWritten] = field(default_factory=list)  # what an import couldn't read
    open_deals: list[DealLine] = field(default_factory=list)
    timeline: list[TimelineEntry] = field(default_factory=list)
    fields: list[FieldValue] = field(default_factory=list)  # custom fields, in their order


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
    where, params = _filters(db, tag, owner, company_id, starts, opted_out)
    params["n"] = limit
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


def _filters(
    db: Db,
    tag: str | None,
    owner: str | None,
    company_id: int | None,
    starts: str | None,
    opted_out: bool,
) -> tuple[list[str], dict[str, Any]]:
    """The WHERE conditions of `list_contacts` and `count_contacts`, which must agree."""
    where = [REAL]
    params: dict[str, Any] = {}
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
    return where, params


def page_key(db: Db, contact_id: int, order: str = "name") -> tuple[Any, ...]:
    """Where a contact sits in `order`: the `after` of the page that follows it (or the
    `before` of the page that precedes it)."""
    terms = _check_order(order)
    columns = ", ".join(f"{t} AS k{i}" for i, (t, _) in enumerate(terms))
    row = db.one(f"SELECT {columns}{_FROM} WHERE c.id = :id", {"id": contact_id})
    if row is None:
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
    """The list rows of these contacts (erased placeholders left out), in name order."""
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


def count_contacts(
    db: Db,
    *,
    tag: str | None = None,
    owner: str | None = None,
    company_id: int | None = None,
    starts: str | None = None,
    opted_out: bool = False,
) -> int:
    """How many real contacts the store holds (not the erased-purchases placeholder), or
    how many `list_contacts` with the same filters would list without a limit."""
    where, params = _filters(db, tag, owner, company_id, starts, opted_out)
    sql = f"SELECT count(*) AS n FROM contacts c WHERE {' AND '.join(where)}"
    return int(db.value(sql, params) or 0)


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
            # orders are 0 or more; a refund (negative) lowers the total only (docs/value.md)
            "SELECT currency, count(CASE WHEN amount_cents >= 0 THEN 1 END) AS n,"
            " sum(amount_cents) AS total,"
            " max(CASE WHEN amount_cents >= 0 THEN purchased_on END) AS last"
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
        custom = values_of(db, "contact", contact_id)
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
        purchases_total={t["currency"]: Money(int(t["total"]), t["currency"]) for t in totals},
        last_purchase_on=max(last_days).isoformat() if last_days else None,
        version=int(r["version"]),
        consent=r["consent"],
        consent_at=read_ts(r["consent_at"]),
        opted_out_at=read_ts(r["opted_out_at"]),
        birthday=read_day(r["birthday"]),
        anniversary=read_day(r["anniversary"]),
        as_written=load(r["as_written"]),
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
        fields=custom,
    )


def contact_timeline(db: Db, contact_id: int, *, limit: int = 20) -> list[TimelineEntry]:
    """Interactions, purchases, deal moves and service cases (when opened, with their status
    and solution) of a contact, newest first. Entries of the same time (the store keeps
    whole seconds) keep their kinds together: notes, then purchases, then deal moves, then
    cases, each newest id first, so a deal's moves stay in order."""
    from tinycrm.money import display_money

    out: list[tuple[tuple[datetime, int, int], TimelineEntry]] = []
    for i in db.all(
        "SELECT i.id, i.kind, i.body, i.happened_at, u.name AS user FROM interactions i"
        " LEFT JOIN users u ON u.id = i.user_id WHERE i.contact_id = :id"
        " ORDER BY i.happened_at DESC, i.id DESC LIMIT :n",
        {"id": contact_id, "n": limit},
    ):
        ts = read_ts(i["happened_at"])
        assert ts is not None
        entry = TimelineEntry(ts, i["kind"], i["body"], f"interaction:{i['id']}", i["user"])
        out.append(((ts, 2, int(i["id"])), entry))
    for p in db.all(
        "SELECT id, purchased_on, amount_cents, currency, note, created_at FROM purchases"
        " WHERE contact_id = :id ORDER BY purchased_on DESC, id DESC LIMIT :n",
        {"id": contact_id, "n": limit},
    ):
        day = read_day(p["purchased_on"])
        assert day is not None
        when = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
        text = display_money(int(p["amount_cents"]), p["currency"]) + (
            f" — {p['note']}" if p["note"] else ""
        )
        out.append(
            ((when, 1, int(p["id"])), TimelineEntry(when, "purchase", text, f"purchase:{p['id']}"))
        )
    for s in db.all(
        "SELECT sc.id, sc.deal_id, sc.changed_at, d.title, s.name AS stage, u.name AS user"
        " FROM stage_changes sc JOIN deals d ON d.id = sc.deal_id"
        " JOIN stages s ON s.id = sc.to_stage_id LEFT JOIN users u ON u.id = sc.user_id"
        " WHERE d.contact_id = :id ORDER BY sc.changed_at DESC, sc.id DESC LIMIT :n",
        {"id": contact_id, "n": limit},
    ):
        ts = read_ts(s["changed_at"])
        assert ts is not None
        text = f"{s['title']} → {s['stage']}"
        entry = TimelineEntry(ts, "deal", text, f"deal:{s['deal_id']}", s["user"])
        out.append(((ts, 0, int(s["id"])), entry))
    for k in db.all(
        "SELECT k.id, k.title, k.status, k.priority, k.solution, k.created_at, u.name AS user"
        " FROM cases k LEFT JOIN users u ON u.id = k.owner_id WHERE k.contact_id = :id"
        " ORDER BY k.created_at DESC, k.id DESC LIMIT :n",
        {"id": contact_id, "n": limit},
    ):
        ts = read_ts(k["created_at"])
        assert ts is not None
        text = f"#{k['id']} {k['title']} · {k['status']} · {k['priority']}" + (
            f" · solved: {k['solution']}" if k["solution"] else ""
        )
        entry = TimelineEntry(ts, "case", text, f"case:{k['id']}", k["user"])
        out.append(((ts, -1, int(k["id"])), entry))
    out.sort(key=lambda keyed: keyed[0], reverse=True)
    return [entry for _, entry in out[:limit]]


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
