"""Quick lookups for other programs: the address book mail clients query (`contact query`)
and the values tab completion offers (contacts, companies, deals, reminders, users, tags,
stages). Both run on every keystroke, so each is one or two indexed reads: prefix ranges
on the folded keys, the full-text index for the address book. No writes here."""

from __future__ import annotations

from dataclasses import dataclass

from tinycrm.services.search import matching_ids
from tinycrm.store.db import Db
from tinycrm.text import fold, query_terms, search_tokens

#: What `complete` can offer, by the kind of value a parameter takes.
KINDS = (
    "contact",
    "company",
    "ref",
    "deal",
    "reminder",
    "product",
    "interaction",
    "user",
    "tag",
    "stage",
    "view",
)


@dataclass(frozen=True)
class Address:
    """One line of the address book: an email with its contact's name and company."""

    email: str
    name: str
    company: str | None


def address_book(db: Db, text: str, *, limit: int = 50) -> list[Address]:
    """Addresses of the contacts whose name, emails or company hold every word of `text`
    as a word prefix ("ali acme", "wong", "alice@ac"), newest contacts first."""
    terms = query_terms(text)
    if not terms:
        return []
    # the index also holds titles, notes and tags: take more, keep what the words name
    ids = matching_ids(db, "contact", text, limit * 4)
    if not ids:
        return []
    listed = ",".join(str(int(i)) for i in ids)
    people = db.all(
        "SELECT c.id, c.name, co.name AS company FROM contacts c"
        " LEFT JOIN companies co ON co.id = c.company_id"
        f" WHERE c.id IN ({listed}) AND c.name_key <> ''"
    )
    # the kind is checked here, not in SQL: with `kind = 'email'` the planner reads the
    # (kind, value) index, half the table, instead of these contacts' few methods
    emails: dict[int, list[str]] = {}
    for r in db.all(
        "SELECT contact_id, kind, value FROM contact_methods"
        f" WHERE contact_id IN ({listed}) ORDER BY contact_id, position, id"
    ):
        if r["kind"] == "email":
            emails.setdefault(int(r["contact_id"]), []).append(str(r["value"]))
    out: list[Address] = []
    for person in sorted(people, key=lambda p: -int(p["id"])):  # newest first
        mine = emails.get(int(person["id"]), [])
        if not mine:
            continue
        name = str(person["name"])
        company = None if person["company"] is None else str(person["company"])
        words = search_tokens(" ".join([name, company or "", *mine]))
        if not all(any(w.startswith(t) for w in words) for t in terms):
            continue
        out.extend(Address(e, name, company) for e in mine)
        if len(out) >= limit:
            break
    return out[:limit]


def complete(db: Db, kind: str, typed: str, *, limit: int = 50) -> list[tuple[str, str]]:
    """(value, description) pairs for a `kind` of value (KINDS) starting with `typed`,
    as a shell would insert them: names and emails for contacts, `company:NAME` refs
    only where a contact could be meant too, deal and reminder ids with their titles."""
    found = _complete(db, kind, typed, limit)
    seen: set[str] = set()
    unique = []
    for value, description in found:  # namesakes: one name to type
        if value not in seen:
            seen.add(value)
            unique.append((value, description))
    return unique


def _complete(db: Db, kind: str, typed: str, limit: int) -> list[tuple[str, str]]:
    if kind == "contact":
        return _contacts(db, typed, limit)
    if kind == "company":
        return _companies(db, typed, limit, prefix="")
    if kind == "ref":
        found = _contacts(db, typed, limit)
        if typed.lower().startswith("company:") or len(found) < limit:
            found += _companies(db, typed, limit - len(found), prefix="company:")
        return found
    if kind == "deal":
        return _numbered(
            db,
            "SELECT d.id, d.title AS what FROM deals d WHERE d.status = 'open'",
            typed,
            limit,
        )
    if kind == "reminder":
        return _numbered(
            db, "SELECT r.id, r.text AS what FROM reminders r WHERE r.done_at IS NULL", typed, limit
        )
    if kind == "interaction":  # the newest first, with the first line of their text
        return _numbered(
            db, "SELECT i.id, i.kind || ': ' || i.body AS what FROM interactions i", typed, limit
        )
    if kind == "user":
        rows = db.all("SELECT name, email FROM users ORDER BY name")
        return [(r["name"], r["email"] or "") for r in rows if r["name"].startswith(typed)][:limit]
    if kind == "tag":
        where, params = _prefix(db, "tag", typed.lower())
        rows = db.all(
            f"SELECT tag, COUNT(*) AS n FROM contact_tags WHERE {where} GROUP BY tag ORDER BY tag",
            params,
        )
        return [(r["tag"], f"{r['n']} contacts") for r in rows][:limit]
    if kind == "product":  # SKUs (else names) of the products not archived
        rows = db.all("SELECT sku, name FROM products WHERE archived_at IS NULL ORDER BY name_key")
        key = fold(typed)
        return [
            (r["sku"] or r["name"], r["name"] if r["sku"] else "")
            for r in rows
            if (r["sku"] or "").lower().startswith(typed.lower()) or fold(r["name"]).startswith(key)
        ][:limit]
    if kind == "stage":
        rows = db.all("SELECT name, outcome FROM stages ORDER BY position")
        return [(r["name"], r["outcome"]) for r in rows if fold(r["name"]).startswith(fold(typed))]
    if kind == "view":  # saved views: a handful, so read whole
        rows = db.all("SELECT name, entity, filter FROM saved_views ORDER BY name")
        return [
            (r["name"], f"{r['entity']}: {r['filter']}")
            for r in rows
            if fold(r["name"]).startswith(fold(typed))
        ][:limit]
    raise ValueError(f"unknown kind of value: {kind}")


def _prefix(db: Db, column: str, prefix: str) -> tuple[str, dict[str, str]]:
    """A condition on `column` for the strings starting with `prefix`, and its parameters.
    SQLite compares bytes, so a range reads its index; PostgreSQL's collations don't order
    by prefix, so it is LIKE there (escaped)."""
    if db.is_sqlite:
        return f"{column} >= :lo AND {column} < :hi", {"lo": prefix, "hi": prefix + "\U0010ffff"}
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{column} LIKE :like", {"like": escaped + "%"}


def _contacts(db: Db, typed: str, limit: int) -> list[tuple[str, str]]:
    if "@" in typed:
        where, params = _prefix(db, "m.value_key", typed.strip().lower())
        rows = db.all(
            "SELECT m.value, c.name FROM contact_methods m JOIN contacts c ON c.id = m.contact_id"
            f" WHERE m.kind = 'email' AND {where} ORDER BY m.value_key LIMIT :n",
            {**params, "n": limit},
        )
        return [
            (r["value"], r["name"]) for r in rows if r["value"].lower().startswith(typed.lower())
        ]
    key = fold(typed)
    where, params = _prefix(db, "c.name_key", key)
    rows = db.all(
        "SELECT c.name, co.name AS company, c.title FROM contacts c"
        " LEFT JOIN companies co ON co.id = c.company_id"
        f" WHERE {where} AND c.name_key <> '' ORDER BY c.name_key, c.id LIMIT :n",
        {**params, "n": limit},
    )
    return [
        (r["name"], r["company"] or r["title"] or "")
        for r in rows
        if fold(r["name"]).startswith(key)
    ]


def _companies(db: Db, typed: str, limit: int, *, prefix: str) -> list[tuple[str, str]]:
    if limit <= 0:
        return []
    bare = typed[len("company:") :] if typed.lower().startswith("company:") else typed
    if prefix and not typed.lower().startswith("company:") and typed:
        return []  # company refs complete once "company:" is typed (or on an empty word)
    key = fold(bare)
    where, params = _prefix(db, "name_key", key)
    rows = db.all(
        f"SELECT name, domain FROM companies WHERE {where} ORDER BY name_key, id LIMIT :n",
        {**params, "n": limit},
    )
    return [(prefix + r["name"], r["domain"] or "company") for r in rows]


def _numbered(db: Db, sql: str, typed: str, limit: int) -> list[tuple[str, str]]:
    digits = typed.lstrip("#")
    if digits and not digits.isdigit():
        return []
    rows = db.all(f"{sql} ORDER BY 1 DESC LIMIT 2000")
    return [
        (str(r["id"]), str(r["what"]).split("\n", 1)[0])
        for r in rows
        if str(r["id"]).startswith(digits)
    ][:limit]
