"""What `tinycrm export` writes, as records read a page at a time.

Each `iter_*` function yields one plain record per contact, interaction, deal or purchase,
reading the store in keyset pages of `PAGE` rows (by id), so that exporting 100k contacts
holds one page in memory, never the whole table. Formatting (CSV, JSON, vCard) lives in
`tinycrm.io.exports`; these records are its only input.

A record names its contact the way an import finds it again: `contact` is the contact's
primary email, or its name when it has none (what `import purchases` reads as a REF), and
`contact_name` is always the name. Ids are store-local and never exported, except by
`export person`, which is about one store's records.

The placeholder that keeps erased customers' purchases (`tinycrm forget`, see
`services.privacy`) is never exported.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from tinycrm.errors import InvalidInput
from tinycrm.money import Money
from tinycrm.services import fields as custom
from tinycrm.services.as_written import AsWritten, load
from tinycrm.services.filters import Filter, within
from tinycrm.store.db import Db, read_day, read_ts

PAGE = 1000
#: Contact methods by kind, in the order they appear in an export.
METHOD_KINDS = ("email", "phone", "url", "address")
#: The one contact with this name key holds erased people's purchases (services.privacy).
#: `check_name` refuses names that fold to nothing, so no real contact ever has it.
PLACEHOLDER_KEY = ""


@dataclass
class Method:
    value: str
    label: str | None


@dataclass
class ContactRecord:
    """One contact as exported; the CSV header is these names, in this order."""

    name: str
    company: str | None
    title: str | None
    emails: list[Method]
    phones: list[Method]
    tags: list[str]
    birthday: date | None
    notes: str | None
    source: str | None
    owner: str | None
    cadence_days: int | None
    consent: str | None
    consent_at: datetime | None
    opted_out_at: datetime | None
    created_at: datetime | None
    urls: list[Method]
    addresses: list[Method]
    anniversary: date | None = None  # with birthday: without a year in dates.NO_YEAR
    as_written: list[AsWritten] = field(default_factory=list)  # what an import couldn't read
    # custom fields as text ({name: "12000.50 USD"}): a column each, after the others
    fields: dict[str, str] = field(default_factory=dict)


@dataclass
class InteractionRecord:
    happened_at: datetime | None
    kind: str
    contact: str | None
    contact_name: str | None
    company: str | None
    deal: str | None
    body: str
    user: str | None


@dataclass
class DealRecord:
    title: str
    contact: str | None
    contact_name: str | None
    company: str | None
    stage: str
    status: str
    value: Money
    currency: str
    probability: int | None
    expected_close: date | None
    lost_reason: str | None
    closed_at: datetime | None
    created_at: datetime | None
    owner: str | None
    fields: dict[str, str] = field(default_factory=dict)  # custom fields, as for contacts


@dataclass
class PurchaseRecord:
    """The columns `tinycrm import purchases` reads (`contact_name` is ignored there)."""

    contact: str
    date: date | None
    amount: Money
    currency: str
    note: str | None
    contact_name: str
    sku: str | None = None  # the product bought (its SKU, else its name), as import reads it
    quantity: int | None = None


@dataclass
class CaseNoteRecord:
    """A note logged on a case (an interaction of the case's contact)."""

    at: datetime | None
    user: str | None
    body: str


@dataclass
class CaseRecord:
    """One service case as `import cases` reads it back: its contact, what it is about,
    where its SLA clock stands (`paused_minutes`: working time it waited on the customer
    or stayed resolved before a reopen) and its notes, oldest first."""

    contact: str | None
    contact_name: str | None
    title: str
    body: str | None
    priority: str
    status: str
    owner: str | None
    due_at: datetime | None
    created_at: datetime | None
    first_response_at: datetime | None
    waiting_since: datetime | None
    paused_minutes: int
    resolved_at: datetime | None
    closed_at: datetime | None
    solution: str | None
    satisfaction: int | None
    notes: list[CaseNoteRecord] = field(default_factory=list)


CONTACT_FIELDS = tuple(f for f in ContactRecord.__dataclass_fields__ if f != "fields")
INTERACTION_FIELDS = tuple(InteractionRecord.__dataclass_fields__)
DEAL_FIELDS = tuple(f for f in DealRecord.__dataclass_fields__ if f != "fields")


def headers(db: Db, kind: str) -> tuple[str, ...]:
    """The columns of a `kind` export (contacts, deals, ...): the record's, then one per
    custom field of contacts or deals, in the fields' order."""
    if kind == "contacts":
        return CONTACT_FIELDS + tuple(custom.field_names_of(db, "contact"))
    if kind == "deals":
        return DEAL_FIELDS + tuple(custom.field_names_of(db, "deal"))
    if kind == "cases":
        return CASE_FIELDS
    return INTERACTION_FIELDS if kind == "interactions" else PURCHASE_FIELDS


PURCHASE_FIELDS = tuple(PurchaseRecord.__dataclass_fields__)
CASE_FIELDS = tuple(CaseRecord.__dataclass_fields__)


def _pages(
    db: Db, sql: str, params: dict[str, Any] | None = None
) -> Iterator[list[dict[str, Any]]]:
    """Keyset pages of `sql`, which selects `x.id AS id` and has `{after}` in its WHERE and
    ends before ORDER BY: ordered by id, PAGE rows at a time."""
    after = 0
    while True:
        rows = db.all(
            sql.format(after="x.id > :after") + " ORDER BY x.id LIMIT :page",
            {**(params or {}), "after": after, "page": PAGE},
        )
        if not rows:
            return
        yield rows
        if len(rows) < PAGE:
            return
        after = int(rows[-1]["id"])


def _ids(rows: list[dict[str, Any]], key: str = "id") -> str:
    return ",".join(str(int(r[key])) for r in rows if r[key] is not None) or "NULL"


def _primary_emails(db: Db, contact_ids: str) -> dict[int, str]:
    # by contact only, kind checked here: with `kind = 'email'` in the WHERE, SQLite picks
    # the (kind, match_key) index and reads every email in the store once per page
    out: dict[int, str] = {}
    for m in db.all(
        "SELECT contact_id, kind, value FROM contact_methods"
        f" WHERE contact_id IN ({contact_ids}) ORDER BY contact_id, position, id"
    ):
        if m["kind"] == "email":
            out.setdefault(int(m["contact_id"]), m["value"])
    return out


def _contact_ref(emails: dict[int, str], contact_id: Any, name: str | None) -> str | None:
    if contact_id is None:
        return None
    return emails.get(int(contact_id)) or name


# -- contacts --------------------------------------------------------------------------------


def iter_contacts(db: Db, where: Filter | None = None) -> Iterator[ContactRecord]:
    """Every contact (or those the compiled filter `where` matches), oldest first, with
    its methods and tags."""
    _check(where, "contacts")
    narrow, params = ("", {}) if where is None else (" AND " + within(where, "x.id"), where.params)
    sql = (
        "SELECT x.id AS id, x.name, x.title, x.birthday, x.anniversary, x.as_written, x.notes,"
        " x.source, x.cadence_days,"
        " x.consent, x.consent_at, x.opted_out_at, x.created_at, co.name AS company,"
        " u.name AS owner FROM contacts x LEFT JOIN companies co ON co.id = x.company_id"
        " LEFT JOIN users u ON u.id = x.owner_id WHERE {after} AND x.name_key <> ''" + narrow
    )
    with db.read():
        for rows in _pages(db, sql, params):
            yield from contact_records(db, rows)


def contact_records(db: Db, rows: list[dict[str, Any]]) -> list[ContactRecord]:
    """Export records for these contact rows, with their emails, phones, tags and company."""
    ids = _ids(rows)
    methods: dict[int, dict[str, list[Method]]] = {}
    for m in db.all(
        "SELECT contact_id, kind, value, label FROM contact_methods"
        f" WHERE contact_id IN ({ids}) ORDER BY contact_id, position, id"
    ):
        by_kind = methods.setdefault(int(m["contact_id"]), {})
        by_kind.setdefault(m["kind"], []).append(Method(m["value"], m["label"] or None))
    tags: dict[int, list[str]] = {}
    for t in db.all(
        f"SELECT contact_id, tag FROM contact_tags WHERE contact_id IN ({ids})"
        " ORDER BY contact_id, tag"
    ):
        tags.setdefault(int(t["contact_id"]), []).append(t["tag"])
    values = custom.export_values(db, "contact", [int(r["id"]) for r in rows])
    out = []
    for r in rows:
        m = methods.get(int(r["id"]), {})
        out.append(
            ContactRecord(
                name=r["name"],
                company=r["company"],
                title=r["title"],
                emails=m.get("email", []),
                phones=m.get("phone", []),
                tags=tags.get(int(r["id"]), []),
                birthday=read_day(r["birthday"]),
                notes=r["notes"],
                source=r["source"],
                owner=r["owner"],
                cadence_days=r["cadence_days"],
                consent=r["consent"],
                consent_at=read_ts(r["consent_at"]),
                opted_out_at=read_ts(r["opted_out_at"]),
                created_at=read_ts(r["created_at"]),
                urls=m.get("url", []),
                addresses=m.get("address", []),
                anniversary=read_day(r["anniversary"]),
                as_written=load(r["as_written"]),
                fields=values.get(int(r["id"]), {}),
            )
        )
    return out


# -- interactions, deals, purchases ----------------------------------------------------------


def iter_interactions(
    db: Db, contact_id: int | None = None, where: Filter | None = None
) -> Iterator[InteractionRecord]:
    """Every interaction (or one contact's, or those of the contacts a compiled filter
    matches), oldest record first."""
    _check(where, "contacts")
    where_sql, params = _of_contact(contact_id, where)
    sql = (
        "SELECT x.id AS id, x.happened_at, x.kind, x.contact_id, c.name AS contact_name,"
        " co.name AS company, d.title AS deal, x.body, u.name AS user FROM interactions x"
        " LEFT JOIN contacts c ON c.id = x.contact_id"
        " LEFT JOIN companies co ON co.id = x.company_id"
        " LEFT JOIN deals d ON d.id = x.deal_id LEFT JOIN users u ON u.id = x.user_id"
        " WHERE {after}" + where_sql
    )
    with db.read():
        for rows in _pages(db, sql, params):
            emails = _primary_emails(db, _ids(rows, "contact_id"))
            for r in rows:
                yield InteractionRecord(
                    happened_at=read_ts(r["happened_at"]),
                    kind=r["kind"],
                    contact=_contact_ref(emails, r["contact_id"], r["contact_name"]),
                    contact_name=r["contact_name"],
                    company=r["company"],
                    deal=r["deal"],
                    body=r["body"],
                    user=r["user"],
                )


def iter_deals(
    db: Db, contact_id: int | None = None, where: Filter | None = None
) -> Iterator[DealRecord]:
    """Every deal (or one contact's, or those a compiled filter of deals or of contacts
    matches), values as `Money`, a page of rows at a time."""
    _check(where, "deals", "contacts")
    where_sql, params = _of_contact(contact_id, where)
    sql = (
        "SELECT x.id AS id, x.title, x.contact_id, c.name AS contact_name, co.name AS company,"
        " s.name AS stage, x.status, x.value_cents, x.currency, x.probability,"
        " x.expected_close, x.lost_reason, x.closed_at, x.created_at, u.name AS owner"
        " FROM deals x JOIN stages s ON s.id = x.stage_id"
        " LEFT JOIN contacts c ON c.id = x.contact_id"
        " LEFT JOIN companies co ON co.id = x.company_id"
        " LEFT JOIN users u ON u.id = x.owner_id WHERE {after}" + where_sql
    )
    with db.read():
        for rows in _pages(db, sql, params):
            emails = _primary_emails(db, _ids(rows, "contact_id"))
            values = custom.export_values(db, "deal", [int(r["id"]) for r in rows])
            for r in rows:
                yield DealRecord(
                    title=r["title"],
                    contact=_contact_ref(emails, r["contact_id"], r["contact_name"]),
                    contact_name=r["contact_name"],
                    company=r["company"],
                    stage=r["stage"],
                    status=r["status"],
                    value=Money(int(r["value_cents"]), r["currency"]),
                    currency=r["currency"],
                    probability=r["probability"],
                    expected_close=read_day(r["expected_close"]),
                    lost_reason=r["lost_reason"],
                    closed_at=read_ts(r["closed_at"]),
                    created_at=read_ts(r["created_at"]),
                    owner=r["owner"],
                    fields=values.get(int(r["id"]), {}),
                )


def iter_purchases(
    db: Db, contact_id: int | None = None, where: Filter | None = None
) -> Iterator[PurchaseRecord]:
    """Every purchase of a real contact (the erased-customers placeholder's are left out:
    they belong to nobody an import could name), or of those a compiled filter of
    contacts matches."""
    _check(where, "contacts")
    where_sql, params = _of_contact(contact_id, where)
    sql = (
        "SELECT x.id AS id, x.contact_id, c.name AS contact_name, x.purchased_on,"
        " x.amount_cents, x.currency, x.note, coalesce(pr.sku, pr.name) AS sku, x.quantity"
        " FROM purchases x JOIN contacts c ON c.id = x.contact_id"
        " LEFT JOIN products pr ON pr.id = x.product_id"
        " WHERE {after} AND c.name_key <> ''" + where_sql
    )
    with db.read():
        for rows in _pages(db, sql, params):
            emails = _primary_emails(db, _ids(rows, "contact_id"))
            for r in rows:
                yield PurchaseRecord(
                    contact=emails.get(int(r["contact_id"])) or r["contact_name"],
                    date=read_day(r["purchased_on"]),
                    amount=Money(int(r["amount_cents"]), r["currency"]),
                    currency=r["currency"],
                    note=r["note"],
                    contact_name=r["contact_name"],
                    sku=r["sku"],
                    quantity=r["quantity"],
                )


def iter_cases(db: Db, contact_id: int | None = None) -> Iterator[CaseRecord]:
    """Every service case (or one contact's) with its notes, a page at a time."""
    where_sql, params = _of_contact(contact_id)
    sql = (
        "SELECT x.id AS id, x.contact_id, c.name AS contact_name, x.title, x.body, x.priority,"
        " x.status, u.name AS owner, x.due_at, x.created_at, x.first_response_at,"
        " x.waiting_since, x.paused_minutes, x.resolved_at, x.closed_at, x.solution,"
        " x.satisfaction FROM cases x JOIN contacts c ON c.id = x.contact_id"
        " LEFT JOIN users u ON u.id = x.owner_id WHERE {after}" + where_sql
    )
    with db.read():
        for rows in _pages(db, sql, params):
            emails = _primary_emails(db, _ids(rows, "contact_id"))
            notes: dict[int, list[CaseNoteRecord]] = {}
            for case_id, at, user, body in db.tuples(
                "SELECT n.case_id, i.happened_at, u.name, i.body FROM case_notes n"
                " JOIN interactions i ON i.id = n.interaction_id"
                " LEFT JOIN users u ON u.id = i.user_id"
                f" WHERE n.case_id IN ({_ids(rows)}) ORDER BY n.case_id, i.happened_at, i.id"
            ):
                notes.setdefault(int(case_id), []).append(
                    CaseNoteRecord(read_ts(at), user, str(body))
                )
            for r in rows:
                yield CaseRecord(
                    contact=_contact_ref(emails, r["contact_id"], r["contact_name"]),
                    contact_name=r["contact_name"],
                    title=r["title"],
                    body=r["body"],
                    priority=r["priority"],
                    status=r["status"],
                    owner=r["owner"],
                    due_at=read_ts(r["due_at"]),
                    created_at=read_ts(r["created_at"]),
                    first_response_at=read_ts(r["first_response_at"]),
                    waiting_since=read_ts(r["waiting_since"]),
                    paused_minutes=int(r["paused_minutes"]),
                    resolved_at=read_ts(r["resolved_at"]),
                    closed_at=read_ts(r["closed_at"]),
                    solution=r["solution"],
                    satisfaction=r["satisfaction"],
                    notes=notes.get(int(r["id"]), []),
                )


def _of_contact(contact_id: int | None, where: Filter | None = None) -> tuple[str, dict[str, Any]]:
    """Conditions on the exported rows `x`: one contact's, and those a compiled filter
    matches (of contacts: the rows of the contacts it matches; of deals: those deals)."""
    sql, params = "", {}
    if contact_id is not None:
        sql, params = " AND x.contact_id = :contact", {"contact": contact_id}
    if where is not None:
        sql += " AND " + within(where, "x.contact_id" if where.entity == "contacts" else "x.id")
        params.update(where.params)
    return sql, params


def _check(where: Filter | None, *entities: str) -> None:
    if where is not None and where.entity not in entities:
        raise InvalidInput(f"this export takes a filter of {' or '.join(entities)}")


# -- one person ------------------------------------------------------------------------------


@dataclass
class PersonExport:
    """`tinycrm export person`: everything the store holds about one person."""

    exported_at: datetime
    id: int
    contact: ContactRecord
    company: dict[str, Any] | None
    interactions: list[dict[str, Any]]
    reminders: list[dict[str, Any]]
    deals: list[dict[str, Any]]
    purchases: list[dict[str, Any]]
    merges: list[dict[str, Any]]
    audit: list[dict[str, Any]]
    cases: list[dict[str, Any]] = field(default_factory=list)  # service cases (#20)
    quotes: list[dict[str, Any]] = field(default_factory=list)  # of their deals (#22)


def person(db: Db, contact_id: int, now: datetime) -> PersonExport:
    """Every row about one contact, with its store ids (for a GDPR access request)."""
    with db.read():
        row = db.one(
            "SELECT x.id AS id, x.name, x.title, x.birthday, x.anniversary, x.as_written, x.notes,"
            " x.source, x.cadence_days,"
            " x.consent, x.consent_at, x.opted_out_at, x.created_at, x.company_id,"
            " co.name AS company, u.name AS owner FROM contacts x"
            " LEFT JOIN companies co ON co.id = x.company_id"
            " LEFT JOIN users u ON u.id = x.owner_id WHERE x.id = :id AND x.name_key <> ''",
            {"id": contact_id},
        )
        if row is None:
            from tinycrm.errors import NotFound

            raise NotFound(f"no contact with id {contact_id}")
        p = {"id": contact_id}
        company = None
        if row["company_id"] is not None:
            company = db.one(
                "SELECT id, name, domain, phone, website, notes FROM companies WHERE id = :c",
                {"c": row["company_id"]},
            )
        interactions = db.all(
            "SELECT i.id, i.happened_at, i.kind, i.body, d.title AS deal, u.name AS user,"
            " i.created_at FROM interactions i LEFT JOIN deals d ON d.id = i.deal_id"
            " LEFT JOIN users u ON u.id = i.user_id WHERE i.contact_id = :id"
            " ORDER BY i.happened_at, i.id",
            p,
        )
        reminders = db.all(
            "SELECT r.id, r.text, r.due_at, r.done_at, r.recurrence, u.name AS owner,"
            " r.created_at FROM reminders r LEFT JOIN users u ON u.id = r.owner_id"
            " WHERE r.contact_id = :id ORDER BY r.due_at, r.id",
            p,
        )
        deals = db.all(
            "SELECT d.id, d.title, s.name AS stage, d.status, d.value_cents, d.currency,"
            " d.expected_close, d.lost_reason, d.closed_at, d.created_at FROM deals d"
            " JOIN stages s ON s.id = d.stage_id WHERE d.contact_id = :id ORDER BY d.id",
            p,
        )
        purchases = db.all(
            "SELECT b.id, b.purchased_on, b.amount_cents, b.currency, b.note, b.created_at,"
            " pr.sku AS product_sku, pr.name AS product, b.quantity, b.deal_id"
            " FROM purchases b LEFT JOIN products pr ON pr.id = b.product_id"
            " WHERE b.contact_id = :id ORDER BY b.purchased_on, b.id",
            p,
        )
        quotes = db.all(
            "SELECT q.id, q.number, q.deal_id, q.issued_at, q.valid_until, q.total_cents,"
            " q.currency, q.content FROM quotes q JOIN deals d ON d.id = q.deal_id"
            " WHERE d.contact_id = :id ORDER BY q.id",
            p,
        )
        cases = db.all(
            "SELECT k.id, k.title, k.body, k.priority, k.status, u.name AS owner, k.due_at,"
            " k.first_response_at, k.resolved_at, k.closed_at, k.solution, k.satisfaction,"
            " k.created_at FROM cases k LEFT JOIN users u ON u.id = k.owner_id"
            " WHERE k.contact_id = :id ORDER BY k.id",
            p,
        )
        case_notes = db.all(
            "SELECT n.case_id, n.interaction_id FROM case_notes n"
            " JOIN cases k ON k.id = n.case_id WHERE k.contact_id = :id"
            " ORDER BY n.case_id, n.interaction_id",
            p,
        )
        merges = db.all(
            "SELECT id, kept_id, removed_id, snapshot, merged_at, undone_at FROM merges"
            " WHERE kept_id = :id OR removed_id = :id ORDER BY id",
            p,
        )
        audit = db.all(
            "SELECT a.id, a.at, u.name AS user, a.entity, a.entity_id, a.action, a.changes"
            " FROM audit_log a LEFT JOIN users u ON u.id = a.user_id"
            f" WHERE {AUDIT_OF_CONTACT} ORDER BY a.id",
            p,
        )
        record = contact_records(db, [row])[0]
        deal_values = custom.export_values(db, "deal", [int(d["id"]) for d in deals])
    for d in deals:
        d["value"] = Money(int(d.pop("value_cents")), d["currency"])
        d["fields"] = deal_values.get(int(d["id"]), {})
    for pu in purchases:
        pu["amount"] = Money(int(pu.pop("amount_cents")), pu["currency"])
    for q in quotes:
        q["total"] = Money(int(q.pop("total_cents")), q["currency"])
        q["issued_at"] = read_ts(q["issued_at"])
        q["valid_until"] = read_day(q["valid_until"])
        q["content"] = _json(q["content"])
    for m in merges:
        m["snapshot"] = _json(m["snapshot"])
    for a in audit:
        a["changes"] = _json(a["changes"])
    return PersonExport(
        exported_at=now,
        id=contact_id,
        contact=record,
        company=company,
        interactions=[_times(r) for r in interactions],
        reminders=[_times(r) for r in reminders],
        deals=[_times(r) for r in deals],
        purchases=[_times(r) for r in purchases],
        merges=[_times(r) for r in merges],
        audit=[_times(r) for r in audit],
        cases=[
            _times(r)
            | {"note_ids": [n["interaction_id"] for n in case_notes if n["case_id"] == r["id"]]}
            for r in cases
        ],
        quotes=quotes,
    )


#: The audit entries about a contact (`:id`): its own, and those of its interactions,
#: reminders, purchases and cases (what `forget` deletes, and `export person` shows).
AUDIT_OF_CONTACT = (
    "((a.entity = 'contact' AND a.entity_id = :id)"
    " OR (a.entity = 'interaction' AND a.entity_id IN"
    "  (SELECT id FROM interactions WHERE contact_id = :id))"
    " OR (a.entity = 'reminder' AND a.entity_id IN"
    "  (SELECT id FROM reminders WHERE contact_id = :id))"
    " OR (a.entity = 'purchase' AND a.entity_id IN"
    "  (SELECT id FROM purchases WHERE contact_id = :id))"
    " OR (a.entity = 'case' AND a.entity_id IN"
    "  (SELECT id FROM cases WHERE contact_id = :id)))"
)


_TIME_KEYS = (
    "happened_at",
    "due_at",
    "done_at",
    "closed_at",
    "created_at",
    "merged_at",
    "first_response_at",
    "resolved_at",
)
_DAY_KEYS = ("purchased_on", "expected_close")


def _times(row: dict[str, Any]) -> dict[str, Any]:
    for k in _TIME_KEYS + ("undone_at", "at"):
        if k in row:
            row[k] = read_ts(row[k])
    for k in _DAY_KEYS:
        if k in row:
            row[k] = read_day(row[k])
    return row


def _json(text: Any) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text
