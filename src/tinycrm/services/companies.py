"""Companies: the organisations contacts work for and deals are made with."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tinycrm.errors import Conflict, InvalidInput, NotFound
from tinycrm.money import Money
from tinycrm.refs import hold, prefix_match, resolve
from tinycrm.services import audit, fields, search
from tinycrm.services.context import Ctx
from tinycrm.services.fields import FieldValue
from tinycrm.store.db import Db, read_ts
from tinycrm.text import clean, fold


@dataclass
class CompanySummary:
    id: int
    name: str
    domain: str | None
    contacts: int
    open_deals: int


@dataclass
class CompanyDetail:
    id: int
    name: str
    domain: str | None
    phone: str | None
    website: str | None
    notes: str | None
    owner: str | None
    created_at: datetime | None
    updated_at: datetime | None
    version: int  # changes on every edit; pass it back as expected_version
    contacts: list[dict[str, Any]] = field(default_factory=list)
    open_deals: list[dict[str, Any]] = field(default_factory=list)
    purchases_total: dict[str, Money] = field(default_factory=dict)  # by currency
    fields: list[FieldValue] = field(default_factory=list)  # custom fields


def _name(name: str) -> str:
    name = " ".join(clean(name).split())
    if not name:
        raise InvalidInput("company name can't be empty")
    if len(name) > 200:
        raise InvalidInput("company name is longer than 200 characters")
    return name


def _opt(value: str | None) -> str | None:
    if value is None:
        return None
    return clean(value) or None


def reindex(db: Db, company_id: int) -> None:
    """Rewrite the company's search index row."""
    search.reindex(db, "company", company_id)


def add_company(
    ctx: Ctx,
    *,
    name: str,
    domain: str | None = None,
    phone: str | None = None,
    website: str | None = None,
    notes: str | None = None,
    custom: Mapping[str, str] | None = None,
) -> int:
    """Create a company and return its id; a name already taken is refused (Conflict).
    `custom` sets custom fields ({name: value as typed}); a required one must be there."""
    name = _name(name)
    db = ctx.db
    with db.write():
        db.lock_key("company names")
        same = db.one("SELECT id, name FROM companies WHERE name_key = :k", {"k": fold(name)})
        if same:
            raise Conflict(
                f"a company named {same['name']!r} already exists (company:{same['id']})"
            )
        values = {
            "name": name,
            "domain": _opt(domain),
            "phone": _opt(phone),
            "website": _opt(website),
            "notes": _opt(notes),
        }
        company_id = db.insert(
            "INSERT INTO companies (name, name_key, domain, phone, website, notes, owner_id,"
            " created_at, updated_at, version) VALUES (:name, :key, :domain, :phone, :website,"
            " :notes, :owner, :now, :now, 1) RETURNING id",
            {**values, "key": fold(name), "owner": ctx.user_id, "now": db.ts(ctx.now)},
        )
        reindex(db, company_id)
        extra = fields.apply(ctx, "company", company_id, custom, adding=True)
        audit.record(
            ctx,
            "company",
            company_id,
            "add",
            {**audit.added({**values, "owner": ctx.user_name}), **extra},
        )
    return company_id


def find_or_create(ctx: Ctx, name_or_ref: str) -> int:
    """The company the user named: an existing one (by id or exact name), else a new one;
    in a write transaction, which then holds the names (deleting a company frees one)."""
    raw = name_or_ref.strip()
    if raw.lower().startswith(("company:", "co:")) or raw.startswith("#") or raw.isdigit():
        found_id = resolve(ctx.db, raw, ("company",)).id
        hold(ctx.db, "company", found_id)
        return found_id
    ctx.db.lock_key("company names")
    found = ctx.db.value("SELECT id FROM companies WHERE name_key = :k", {"k": fold(_name(raw))})
    if found is not None:
        return int(found)
    return add_company(ctx, name=raw)


def list_companies(
    db: Db, *, starts: str | None = None, after: tuple[str, int] | None = None, limit: int = 100
) -> list[CompanySummary]:
    """Companies by name, a page at a time (keyset `after`), optionally those starting with
    `starts`."""
    where = ["1 = 1"]
    params: dict[str, Any] = {"n": limit}
    if starts:
        key = fold(starts)
        where.append(prefix_match(db, "co.name_key"))
        params.update(lo=key, hi=key + "\uffff")
    if after:
        where.append("(co.name_key > :ak OR (co.name_key = :ak AND co.id > :aid))")
        params.update(ak=after[0], aid=after[1])
    rows = db.all(
        "SELECT co.id, co.name, co.domain,"
        " (SELECT count(*) FROM contacts c WHERE c.company_id = co.id) AS contacts,"
        " (SELECT count(*) FROM deals d WHERE d.company_id = co.id AND d.status = 'open')"
        "   AS open_deals"
        f" FROM companies co WHERE {' AND '.join(where)} ORDER BY co.name_key, co.id LIMIT :n",
        params,
    )
    return [
        CompanySummary(r["id"], r["name"], r["domain"], int(r["contacts"]), int(r["open_deals"]))
        for r in rows
    ]


def get_company(db: Db, company_id: int) -> CompanyDetail:
    """One company with its people, open deals (theirs and their people's) and what its
    people bought, per currency."""
    with db.read():
        r = db.one(
            "SELECT co.*, u.name AS owner FROM companies co LEFT JOIN users u"
            " ON u.id = co.owner_id WHERE co.id = :id",
            {"id": company_id},
        )
        if r is None:
            raise NotFound(f"no company with id {company_id}")
        people = db.all(
            "SELECT id, name, title FROM contacts WHERE company_id = :id ORDER BY name_key, id",
            {"id": company_id},
        )
        deals = db.all(
            "SELECT d.id, d.title, s.name AS stage, d.value_cents, d.currency FROM deals d"
            " JOIN stages s ON s.id = d.stage_id WHERE d.status = 'open' AND (d.company_id = :id"
            " OR d.contact_id IN (SELECT id FROM contacts WHERE company_id = :id))"
            " ORDER BY s.position, d.id",
            {"id": company_id},
        )
        totals = db.all(
            "SELECT p.currency, sum(p.amount_cents) AS total FROM purchases p"
            " JOIN contacts c ON c.id = p.contact_id WHERE c.company_id = :id"
            " GROUP BY p.currency ORDER BY p.currency",
            {"id": company_id},
        )
        custom = fields.values_of(db, "company", company_id)
    return CompanyDetail(
        id=r["id"],
        name=r["name"],
        domain=r["domain"],
        phone=r["phone"],
        website=r["website"],
        notes=r["notes"],
        owner=r["owner"],
        created_at=read_ts(r["created_at"]),
        updated_at=read_ts(r["updated_at"]),
        version=int(r["version"]),
        contacts=[{"id": p["id"], "name": p["name"], "title": p["title"]} for p in people],
        open_deals=[
            {
                "id": d["id"],
                "title": d["title"],
                "stage": d["stage"],
                "value": Money(int(d["value_cents"]), d["currency"]),
                "currency": d["currency"],
            }
            for d in deals
        ],
        purchases_total={t["currency"]: Money(int(t["total"]), t["currency"]) for t in totals},
        fields=custom,
    )


def edit_company(
    ctx: Ctx,
    company_id: int,
    *,
    name: str | None = None,
    domain: str | None = None,
    phone: str | None = None,
    website: str | None = None,
    notes: str | None = None,
    expected_version: int | None = None,
    custom: Mapping[str, str] | None = None,
    unset: Sequence[str] = (),
) -> None:
    """Change the given fields ('' clears one), set custom fields (`custom`, {name: value
    as typed}) and clear them (`unset`). With `expected_version`, a company changed
    since the caller read it is refused (Conflict) instead of overwritten."""
    db = ctx.db
    sets: dict[str, Any] = {}
    if name is not None:
        sets["name"] = _name(name)
        sets["name_key"] = fold(sets["name"])
    for col, value in (
        ("domain", domain),
        ("phone", phone),
        ("website", website),
        ("notes", notes),
    ):
        if value is not None:
            sets[col] = _opt(value)
    if not sets and not custom and not unset:
        raise InvalidInput("nothing to change: give at least one option (see --help)")
    with db.write():
        if "name_key" in sets:
            db.lock_key("company names")
        db.lock("companies", company_id)
        old = db.one(
            "SELECT name, domain, phone, website, notes, version FROM companies WHERE id = :id",
            {"id": company_id},
        )
        if old is None:
            raise NotFound(f"no company with id {company_id}")
        if expected_version is not None and int(old["version"]) != expected_version:
            raise audit.stale(
                ctx, "company", company_id, old["name"], expected_version, int(old["version"])
            )
        if "name_key" in sets:
            same = db.one(
                "SELECT id, name FROM companies WHERE name_key = :k AND id != :id",
                {"k": sets["name_key"], "id": company_id},
            )
            if same:
                raise Conflict(f"a company named {same['name']!r} already exists")
        new = {k: v for k, v in sets.items() if k != "name_key"}
        extra = fields.apply(ctx, "company", company_id, custom, unset)
        sets["updated_at"] = db.ts(ctx.now)
        assigns = ", ".join(f"{k} = :{k}" for k in sets)
        db.execute(
            f"UPDATE companies SET {assigns}, version = version + 1 WHERE id = :id",
            {**sets, "id": company_id},
        )
        audit.record(ctx, "company", company_id, "edit", {**audit.diff(old, new), **extra})
        reindex(db, company_id)
        if "name" in sets:  # contacts are findable by their company's name
            people = [
                int(c["id"])
                for c in db.all(
                    "SELECT id FROM contacts WHERE company_id = :id", {"id": company_id}
                )
            ]
            db.lock("contacts", people)  # so no edit of theirs lands between read and write
            for contact_id in people:
                search.reindex(db, "contact", contact_id)


def delete_company(ctx: Ctx, company_id: int) -> None:
    """Delete a company; its contacts and deals stay, unlinked."""
    with ctx.db.write():
        ctx.db.lock_key("company names")
        ctx.db.lock("companies", company_id, "delete")
        old = ctx.db.one(
            "SELECT name, domain, phone, website, notes FROM companies WHERE id = :id",
            {"id": company_id},
        )
        if old is None:
            raise NotFound(f"no company with id {company_id}")
        ctx.db.execute("DELETE FROM companies WHERE id = :id", {"id": company_id})
        audit.record(ctx, "company", company_id, "delete", audit.removed(old))
