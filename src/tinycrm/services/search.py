"""Full-text search across contacts, companies, notes, deals and service cases.

One small interface over two backends: SQLite FTS5 tables (`<kind>_fts`, rowid = record id)
and a PostgreSQL `search_docs` table with a GIN index on `to_tsvector('simple', body)`.
Both index the same folded tokens (`tinycrm.text.search_document`), and every query term
matches as a prefix, so "acm" finds "ACME" and "明天" finds a note that says "明天见".
Deleting a record drops its index row through a trigger (see migrations 0002 and 0013).

Cases are the knowledge base: `similar_cases` ranks past (resolved or closed) cases by how
much of a case's wording they share, with bm25 on SQLite and ts_rank on PostgreSQL, after
leaving out the words most cases hold, and the matches far weaker than the best.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tinycrm.store.db import Db, read_ts
from tinycrm.text import one_line, query_terms, search_document, search_tokens

KINDS = ("contact", "company", "interaction", "deal", "case")


def index(db: Db, kind: str, ref_id: int, *parts: str | None) -> None:
    """(Re)index one record; call inside the write transaction that changed it."""
    _write(db, kind, ref_id, search_document(*parts))


def _write(db: Db, kind: str, ref_id: int, body: str) -> None:
    if db.is_sqlite:
        db.execute(f"DELETE FROM {kind}_fts WHERE rowid = :id", {"id": ref_id})
        db.execute(
            f"INSERT INTO {kind}_fts (rowid, body) VALUES (:id, :body)",
            {"id": ref_id, "body": body},
        )
    else:
        db.execute(
            "INSERT INTO search_docs (kind, ref_id, body) VALUES (:kind, :id, :body)"
            " ON CONFLICT (kind, ref_id) DO UPDATE SET body = excluded.body",
            {"kind": kind, "id": ref_id, "body": body},
        )


def index_new(db: Db, kind: str, records: Sequence[Sequence[str | None]]) -> None:
    """Index many records in batches: each is (id, *parts). For bulk imports; `index` is
    the one-record form."""
    for start in range(0, len(records), 5_000):
        rows = [
            {"id": int(str(r[0])), "body": search_document(*r[1:]), "kind": kind}
            for r in records[start : start + 5_000]
        ]
        if db.is_sqlite:
            db.insert_many(f"DELETE FROM {kind}_fts WHERE rowid = :id", rows)
            db.insert_many(f"INSERT INTO {kind}_fts (rowid, body) VALUES (:id, :body)", rows)
        else:
            db.insert_many(
                "INSERT INTO search_docs (kind, ref_id, body) VALUES (:kind, :id, :body)"
                " ON CONFLICT (kind, ref_id) DO UPDATE SET body = excluded.body",
                rows,
            )


# What each kind's index row holds, in this order (None parts are skipped): the one
# definition the services (through reindex) and `tinycrm doctor` share.
_DOCUMENT_SQL = {
    # the erased-customers placeholder (empty name_key, services/privacy) is never found
    "contact": "SELECT c.id, c.name, co.name AS company, c.title, c.source, c.notes"
    " FROM contacts c LEFT JOIN companies co ON co.id = c.company_id"
    " WHERE c.id > :lo AND c.id <= :hi AND c.name_key <> ''",
    "company": "SELECT id, name, domain, website, notes FROM companies"
    " WHERE id > :lo AND id <= :hi",
    "interaction": "SELECT id, body FROM interactions WHERE id > :lo AND id <= :hi",
    "deal": "SELECT id, title, lost_reason FROM deals WHERE id > :lo AND id <= :hi",
    "case": "SELECT id, title, body, solution FROM cases WHERE id > :lo AND id <= :hi",
}


def documents(db: Db, kind: str, lo: int, hi: int) -> dict[int, str]:
    """The index document of every `kind` record with lo < id <= hi."""
    rows = db.tuples(_DOCUMENT_SQL[kind], {"lo": lo, "hi": hi})
    extra: dict[int, list[str]] = {}
    if kind == "contact" and rows:
        span = {"lo": lo, "hi": hi}
        for cid, value in db.tuples(
            "SELECT contact_id, value FROM contact_methods"
            " WHERE contact_id > :lo AND contact_id <= :hi ORDER BY contact_id, position, id",
            span,
        ):
            extra.setdefault(cid, []).append(value)
        for cid, tag in db.tuples(
            "SELECT contact_id, tag FROM contact_tags"
            " WHERE contact_id > :lo AND contact_id <= :hi ORDER BY contact_id, tag",
            span,
        ):
            extra.setdefault(cid, []).append(tag)
    return {int(r[0]): search_document(*r[1:], *extra.get(r[0], ())) for r in rows}


def reindex(db: Db, kind: str, ref_id: int) -> None:
    """Rewrite one record's index row from what the store holds now (no row if it's gone)."""
    docs = documents(db, kind, ref_id - 1, ref_id)
    if ref_id in docs:
        _write(db, kind, ref_id, docs[ref_id])
    else:
        unindex(db, kind, ref_id)


def reindex_rows(db: Db, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
    """Rewrite every index document that reads these rows of `table` (just changed or
    deleted; full rows as SELECT * gave them), as `documents` defines them: a contact's
    reads its row, its company's name, its methods and tags; the others their own row."""
    wanted: set[tuple[str, int]] = set()
    for row in rows:
        if table in ("contact_methods", "contact_tags"):
            wanted.add(("contact", int(row["contact_id"])))
        elif table in _TABLE_KIND:
            wanted.add((_TABLE_KIND[table], int(row["id"])))
        if table == "companies":
            for r in db.all("SELECT id FROM contacts WHERE company_id = :c", {"c": row["id"]}):
                wanted.add(("contact", int(r["id"])))
    for kind, ref_id in sorted(wanted):
        reindex(db, kind, ref_id)


_TABLE_KIND = {
    "contacts": "contact",
    "companies": "company",
    "interactions": "interaction",
    "deals": "deal",
    "cases": "case",
}


def unindex(db: Db, kind: str, ref_id: int) -> None:
    """Remove a record's search index row."""
    if db.is_sqlite:
        db.execute(f"DELETE FROM {kind}_fts WHERE rowid = :id", {"id": ref_id})
    else:
        db.execute(
            "DELETE FROM search_docs WHERE kind = :kind AND ref_id = :id",
            {"kind": kind, "id": ref_id},
        )


def indexed(db: Db, kind: str, lo: int, hi: int) -> dict[int, str]:
    """What the index holds for `kind` records with lo < id <= hi."""
    if db.is_sqlite:
        rows = db.tuples(
            f"SELECT rowid, body FROM {kind}_fts WHERE rowid > :lo AND rowid <= :hi",
            {"lo": lo, "hi": hi},
        )
    else:
        rows = db.tuples(
            "SELECT ref_id, body FROM search_docs WHERE kind = :kind"
            " AND ref_id > :lo AND ref_id <= :hi",
            {"kind": kind, "lo": lo, "hi": hi},
        )
    return {int(r[0]): str(r[1]) for r in rows}


def matching_ids(db: Db, kind: str, text: str, limit: int) -> list[int]:
    """Ids of `kind` records whose text holds every term of `text` (as word prefixes),
    newest records first."""
    terms = query_terms(text)
    if not terms:
        return []
    if db.is_sqlite:
        query = " ".join('"' + t.replace('"', '""') + '"*' for t in terms)
        rows = db.all(
            f"SELECT rowid AS id FROM {kind}_fts WHERE {kind}_fts MATCH :q"
            " ORDER BY rowid DESC LIMIT :n",
            {"q": query, "n": limit},
        )
    else:
        query = " & ".join("'" + t.replace("'", "''") + "':*" for t in terms)
        rows = db.all(
            "SELECT ref_id AS id FROM search_docs WHERE kind = :kind"
            " AND to_tsvector('simple', body) @@ to_tsquery('simple', :q)"
            " ORDER BY ref_id DESC LIMIT :n",
            {"kind": kind, "q": query, "n": limit},
        )
    return [int(r["id"]) for r in rows]


@dataclass
class Hit:
    kind: str  # contact | company | interaction | deal | case
    id: int
    title: str
    detail: str
    contact_id: int | None
    when: datetime | None


def _in(ids: list[int]) -> str:
    return ",".join(str(int(i)) for i in ids) or "NULL"


def search(db: Db, text: str, *, kinds: tuple[str, ...] = KINDS, limit: int = 50) -> list[Hit]:
    """Everything matching `text`, grouped by kind in the order of `kinds`."""
    hits: list[Hit] = []
    for kind in kinds:
        ids = matching_ids(db, kind, text, limit)
        if not ids:
            continue
        if kind == "contact":
            rows = db.all(
                "SELECT c.id, c.name, c.title, co.name AS company, c.updated_at FROM contacts c"
                f" LEFT JOIN companies co ON co.id = c.company_id WHERE c.id IN ({_in(ids)})"
                " ORDER BY c.name_key, c.id"
            )
            hits += [
                Hit(
                    kind,
                    r["id"],
                    r["name"],
                    " · ".join(x for x in (r["title"], r["company"]) if x),
                    r["id"],
                    read_ts(r["updated_at"]),
                )
                for r in rows
            ]
        elif kind == "company":
            rows = db.all(
                "SELECT id, name, domain, updated_at FROM companies"
                f" WHERE id IN ({_in(ids)}) ORDER BY name_key, id"
            )
            hits += [
                Hit(kind, r["id"], r["name"], r["domain"] or "", None, read_ts(r["updated_at"]))
                for r in rows
            ]
        elif kind == "interaction":
            rows = db.all(
                "SELECT i.id, i.kind, i.body, i.happened_at, i.contact_id,"
                " coalesce(c.name, co.name) AS who FROM interactions i"
                " LEFT JOIN contacts c ON c.id = i.contact_id"
                " LEFT JOIN companies co ON co.id = i.company_id"
                f" WHERE i.id IN ({_in(ids)}) ORDER BY i.happened_at DESC, i.id DESC"
            )
            hits += [
                Hit(
                    kind,
                    r["id"],
                    r["who"] or "",
                    f"{r['kind']}: {one_line(r['body'], 200)}",
                    r["contact_id"],
                    read_ts(r["happened_at"]),
                )
                for r in rows
            ]
        elif kind == "deal":
            rows = db.all(
                "SELECT d.id, d.title, d.status, s.name AS stage, d.contact_id, d.updated_at"
                " FROM deals d JOIN stages s ON s.id = d.stage_id"
                f" WHERE d.id IN ({_in(ids)}) ORDER BY d.id DESC"
            )
            hits += [
                Hit(
                    kind,
                    r["id"],
                    r["title"],
                    f"{r['stage']} ({r['status']})",
                    r["contact_id"],
                    read_ts(r["updated_at"]),
                )
                for r in rows
            ]
        elif kind == "case":
            rows = db.all(
                "SELECT k.id, k.title, k.status, k.solution, k.contact_id, c.name AS contact,"
                " k.updated_at FROM cases k JOIN contacts c ON c.id = k.contact_id"
                f" WHERE k.id IN ({_in(ids)}) ORDER BY k.id DESC"
            )
            hits += [
                Hit(
                    kind,
                    r["id"],
                    r["title"],
                    f"{r['contact']} ({r['status']})"
                    + (f": {one_line(r['solution'], 200)}" if r["solution"] else ""),
                    r["contact_id"],
                    read_ts(r["updated_at"]),
                )
                for r in rows
            ]
    return hits


# a case's own words that `similar_cases` looks for, at most (the first ones: the title's,
# then the body's)
SIMILAR_TERMS = 64


def similar_cases(db: Db, text: str, *, exclude: int, limit: int) -> list[tuple[int, float]]:
    """Past cases (resolved or closed, not `exclude`: the case `text` is from) that share
    words with `text`, the most similar first, as (id, score): higher is more similar,
    comparable within one answer only. Words that more than half of the other cases hold
    ("the", "please") are left out first (`_rare_terms`); then SQLite ranks by bm25 (rare
    words weigh more, long cases less) and PostgreSQL by ts_rank (how often the words
    occur, divided by 1 + the log of the case's length); a case scoring under a quarter of
    the best one's (it shares only a word or two that many cases hold) is left out. Ties:
    the newest case first."""
    terms = _rare_terms(db, list(dict.fromkeys(search_tokens(text)))[:SIMILAR_TERMS])
    if not terms:
        return []
    params: dict[str, Any] = {"id": exclude, "n": limit}
    if db.is_sqlite:
        params["q"] = " OR ".join(_fts_word(t) for t in terms)
        rows = db.tuples(
            "SELECT k.id, -bm25(case_fts) AS score FROM case_fts"
            " JOIN cases k ON k.id = case_fts.rowid"
            " WHERE case_fts MATCH :q AND k.status IN ('resolved', 'closed') AND k.id <> :id"
            " ORDER BY bm25(case_fts), k.id DESC LIMIT :n",
            params,
        )
    else:
        params["q"] = " | ".join(_ts_word(t) for t in terms)
        rows = db.tuples(
            "SELECT k.id, ts_rank(to_tsvector('simple', d.body), to_tsquery('simple', :q), 1)"
            " AS score FROM search_docs d JOIN cases k ON k.id = d.ref_id"
            " WHERE d.kind = 'case' AND to_tsvector('simple', d.body) @@ to_tsquery('simple', :q)"
            " AND k.status IN ('resolved', 'closed') AND k.id <> :id"
            " ORDER BY score DESC, k.id DESC LIMIT :n",
            params,
        )
    ranked = [(int(r[0]), float(r[1])) for r in rows]
    best = ranked[0][1] if ranked else 0.0
    return [(k, score) for k, score in ranked if score >= best * WEAKEST]


# a past case scoring under this share of the best one's is not shown as similar
WEAKEST = 0.25


def _fts_word(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _ts_word(term: str) -> str:
    return "'" + term.replace("'", "''") + "'"


# fewer other cases than this: every word counts (half of three cases is no signal)
COMMON_FROM = 4


def _rare_terms(db: Db, terms: list[str]) -> list[str]:
    """`terms` (the words of one indexed case) without those that more than half of the
    other cases hold (all of them if that leaves none): one index lookup per word on
    SQLite, one pass over the cases holding any of them on PostgreSQL. The case itself
    holds every one of its words, so it is taken off each count."""
    if not terms:
        return terms
    if db.is_sqlite:
        total = int(db.value("SELECT count(*) AS n FROM case_fts") or 0)
        if total - 1 < COMMON_FROM:
            return terms
        held = [
            int(
                db.value(
                    "SELECT count(*) AS n FROM case_fts WHERE case_fts MATCH :q",
                    {"q": _fts_word(t)},
                )
                or 0
            )
            for t in terms
        ]
    else:
        total = int(db.value("SELECT count(*) AS n FROM search_docs WHERE kind = 'case'") or 0)
        if total - 1 < COMMON_FROM:
            return terms
        words = {f"t{i}": _ts_word(t) for i, t in enumerate(terms)}
        counts = ", ".join(
            f"sum(CASE WHEN to_tsvector('simple', body) @@ to_tsquery('simple', :t{i})"
            f" THEN 1 ELSE 0 END) AS n{i}"
            for i in range(len(terms))
        )
        row = db.one(
            f"SELECT {counts} FROM search_docs WHERE kind = 'case'"
            " AND to_tsvector('simple', body) @@ to_tsquery('simple', :any)",
            {**words, "any": " | ".join(words.values())},
        )
        held = [int((row or {}).get(f"n{i}") or 0) for i in range(len(terms))]
    others = total - 1
    rare = [t for t, n in zip(terms, held, strict=True) if (n - 1) * 2 <= others]
    return rare or terms


@dataclass(frozen=True)
class ContactMatch:
    """A contact found by a search, and why: `via` "contact" (their own record: name,
    company, title, emails, phones, tags, notes; `text` is empty), "interaction" (a note,
    call, email or meeting of theirs, or on their deal), "deal" (a deal of theirs) or
    "company" (their company's record: name, domain, website, notes), with the id and the
    text of what matched."""

    contact_id: int
    via: str
    ref_id: int
    text: str
    kind: str = ""  # an interaction's kind (note, call, email, meeting)


def matching_contacts(db: Db, text: str, limit: int) -> list[ContactMatch]:
    """Contacts that `tinycrm search text` leads to, each once with the first reason: those
    whose own record matches, then those with a matching note (newest first), deal, or
    company; at most `limit`. Erased placeholders are among the ids no list shows."""
    found: dict[int, ContactMatch] = {}
    for cid in matching_ids(db, "contact", text, limit):
        found.setdefault(cid, ContactMatch(cid, "contact", cid, ""))
    if len(found) < limit:
        ids = matching_ids(db, "interaction", text, limit)
        if ids:
            for r in db.all(
                "SELECT i.id, i.kind, i.body, coalesce(i.contact_id, d.contact_id) AS cid"
                " FROM interactions i LEFT JOIN deals d ON d.id = i.deal_id"
                f" WHERE i.id IN ({_in(ids)}) ORDER BY i.happened_at DESC, i.id DESC"
            ):
                if r["cid"] is not None and len(found) < limit:
                    found.setdefault(
                        int(r["cid"]),
                        ContactMatch(
                            int(r["cid"]), "interaction", r["id"], one_line(r["body"]), r["kind"]
                        ),
                    )
    if len(found) < limit:
        ids = matching_ids(db, "deal", text, limit)
        if ids:
            for r in db.all(
                "SELECT id, title, contact_id FROM deals"
                f" WHERE id IN ({_in(ids)}) AND contact_id IS NOT NULL ORDER BY id DESC"
            ):
                if len(found) < limit:
                    cid = int(r["contact_id"])
                    found.setdefault(cid, ContactMatch(cid, "deal", r["id"], one_line(r["title"])))
    if len(found) < limit:
        ids = matching_ids(db, "company", text, limit)
        if ids:
            for r in db.all(
                "SELECT c.id, co.id AS company_id, co.name FROM contacts c"
                " JOIN companies co ON co.id = c.company_id"
                f" WHERE co.id IN ({_in(ids)}) ORDER BY co.id DESC, c.id DESC LIMIT :n",
                {"n": limit},
            ):
                if len(found) < limit:
                    cid = int(r["id"])
                    found.setdefault(
                        cid, ContactMatch(cid, "company", r["company_id"], one_line(r["name"]))
                    )
    return list(found.values())


def any_group_ids(db: Db, kind: str, groups: list[list[tuple[str, bool]]], limit: int) -> list[int]:
    """Ids of `kind` records matching any of `groups`, each a list of (token, as a prefix)
    that must all be in the record's text: one index lookup for several alternatives
    (duplicates uses it to find candidate names without reading every contact)."""
    groups = [g for g in groups if g]
    if not groups:
        return []
    if db.is_sqlite:
        query = " OR ".join(
            "("
            + " AND ".join('"' + t.replace('"', '""') + '"' + ("*" if p else "") for t, p in g)
            + ")"
            for g in groups
        )
        rows = db.all(
            f"SELECT rowid AS id FROM {kind}_fts WHERE {kind}_fts MATCH :q"
            " ORDER BY rowid DESC LIMIT :n",
            {"q": query, "n": limit},
        )
    else:
        query = " | ".join(
            "("
            + " & ".join("'" + t.replace("'", "''") + "'" + (":*" if p else "") for t, p in g)
            + ")"
            for g in groups
        )
        rows = db.all(
            "SELECT ref_id AS id FROM search_docs WHERE kind = :kind"
            " AND to_tsvector('simple', body) @@ to_tsquery('simple', :q)"
            " ORDER BY ref_id DESC LIMIT :n",
            {"kind": kind, "q": query, "n": limit},
        )
    return [int(r["id"]) for r in rows]
