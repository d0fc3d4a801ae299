"""Resolving what a user typed (an id, an email, a name) to one record.

The rules, tried in order, first tier with a hit wins:

1. `#12` or `12` is an id (of the first kind asked for); `company:12`, `co:12`,
   `deal:12`, `d:12`, `contact:12`, `c:12` name the kind explicitly (also with names:
   `company:acme`).
2. Something with an `@` is an email address of a contact (case-insensitive).
3. The folded name (case-, accent- and width-insensitive) equals the record's.
4. The folded name is a prefix of the record's name, or of one of its words.
5. A fuzzy match (rapidfuzz WRatio >= 88) clearly ahead of the runner-up.

Several hits in the deciding tier raise `Ambiguous` with the candidates (exit 2); no hit
raises `NotFound`, with the closest names as suggestions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tinycrm.errors import Ambiguous, InvalidInput, NotFound
from tinycrm.store.db import Db
from tinycrm.text import clean, fold

KINDS = ("contact", "company", "deal")
_PREFIXES = {
    "c": "contact",
    "contact": "contact",
    "co": "company",
    "company": "company",
    "d": "deal",
    "deal": "deal",
}
_TABLES = {"contact": "contacts", "company": "companies", "deal": "deals"}
_LABEL = {"contact": "name", "company": "name", "deal": "title"}
_KEY = {"contact": "name_key", "company": "name_key", "deal": "title_key"}
MAX_CANDIDATES = 8
FUZZY_MIN = 88.0
FUZZY_GAP = 4.0


@dataclass(frozen=True)
class Target:
    kind: str  # contact | company | deal
    id: int
    label: str

    def describe(self) -> str:
        return f"{self.kind} #{self.id} {self.label}"


def resolve(db: Db, text: str, kinds: tuple[str, ...] = ("contact",)) -> Target:
    """The one record `text` means among `kinds` (see the module docstring)."""
    raw = clean(text)
    if not raw:
        raise InvalidInput("empty reference: give an id, an email or a name")
    m = re.fullmatch(r"([a-z]+):(.+)", raw, flags=re.IGNORECASE)
    if m and m.group(1).lower() in _PREFIXES:
        kind = _PREFIXES[m.group(1).lower()]
        if kind not in kinds:
            raise InvalidInput(f"a {kind} can't be used here: {raw!r}")
        kinds, raw = (kind,), m.group(2).strip()
    id_match = re.fullmatch(r"#?(\d{1,18})", raw)
    if id_match:
        return _by_id(db, kinds[0], int(id_match.group(1)), raw)
    if "@" in raw and "contact" in kinds:
        hit = _by_email(db, raw)
        if hit is not None:
            return hit
    key = fold(raw)
    for tier in (_exact, _prefix):
        hits = [t for kind in kinds for t in tier(db, kind, key)]
        if len(hits) == 1:
            return hits[0]
        if hits:
            raise _ambiguous(raw, hits)
    return _fuzzy(db, kinds, raw, key)


def hold(db: Db, kind: str, ident: int) -> None:
    """In a write that adds rows under a contact, company or deal resolved before it
    (a note, a reminder, a deal): keep the record from being deleted until the
    transaction ends, and check it is still there (NotFound, as resolving it now would)."""
    table = _TABLES[kind]
    db.lock(table, ident, "keep")
    if db.value(f"SELECT 1 AS x FROM {table} WHERE id = :id", {"id": ident}) is None:
        raise NotFound(f"no {kind} with id {ident}")


def _by_id(db: Db, kind: str, ident: int, raw: str) -> Target:
    table, label = _TABLES[kind], _LABEL[kind]
    row = db.one(f"SELECT id, {label} AS label FROM {table} WHERE id = :id", {"id": ident})
    if row is None:
        raise NotFound(f"no {kind} with id {ident}")
    return Target(kind, row["id"], row["label"])


def _by_email(db: Db, raw: str) -> Target | None:
    rows = db.all(
        "SELECT DISTINCT c.id, c.name FROM contact_methods m JOIN contacts c ON c.id = m.contact_id"
        " WHERE m.kind = 'email' AND m.value_key = :key ORDER BY c.id LIMIT 9",
        {"key": raw.strip().lower()},
    )
    hits = [Target("contact", r["id"], r["name"]) for r in rows]
    if len(hits) > 1:
        raise _ambiguous(raw, hits)
    return hits[0] if hits else None


def prefix_match(db: Db, col: str) -> str:
    """SQL true when `col` starts with :lo (:hi is :lo + U+FFFF). On SQLite a range scan
    over the column's index; PostgreSQL's locale collations don't order U+FFFF last."""
    return f"{col} >= :lo AND {col} < :hi" if db.is_sqlite else f"starts_with({col}, :lo)"


def _exact(db: Db, kind: str, key: str) -> list[Target]:
    table, label, col = _TABLES[kind], _LABEL[kind], _KEY[kind]
    rows = db.all(
        f"SELECT id, {label} AS label FROM {table} WHERE {col} = :key ORDER BY id LIMIT 9",
        {"key": key},
    )
    return [Target(kind, r["id"], r["label"]) for r in rows]


def _prefix(db: Db, kind: str, key: str) -> list[Target]:
    table, label, col = _TABLES[kind], _LABEL[kind], _KEY[kind]
    # Whole-name prefix uses the key's index (a range scan, not LIKE).
    rows = db.all(
        f"SELECT id, {label} AS label FROM {table} WHERE {prefix_match(db, col)}"
        f" ORDER BY {col}, id LIMIT 9",
        {"lo": key, "hi": key + "\uffff"},
    )
    if rows:
        return [Target(kind, r["id"], r["label"]) for r in rows]
    # A later word of the name: "wong" finds "Alice Wong".
    pattern = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    rows = db.all(
        f"SELECT id, {label} AS label FROM {table} WHERE {col} LIKE :pat ESCAPE '\\'"
        f" ORDER BY {col}, id LIMIT 9",
        {"pat": f"% {pattern}%"},
    )
    return [Target(kind, r["id"], r["label"]) for r in rows]


def _fuzzy(db: Db, kinds: tuple[str, ...], raw: str, key: str) -> Target:
    from rapidfuzz import fuzz, process, utils

    pool: dict[tuple[str, int], str] = {}
    labels: dict[tuple[str, int], str] = {}
    for kind in kinds:
        table, label, col = _TABLES[kind], _LABEL[kind], _KEY[kind]
        for r in db.all(f"SELECT id, {label} AS label, {col} AS k FROM {table}"):
            pool[(kind, r["id"])] = r["k"]
            labels[(kind, r["id"])] = r["label"]
    what = kinds[0] if len(kinds) == 1 else f"{', '.join(kinds[:-1])} or {kinds[-1]}"
    if not pool:
        raise NotFound(f"no {what} matches {raw!r}")
    found = process.extract(key, pool, scorer=fuzz.WRatio, processor=utils.default_process, limit=5)
    best = [(score, ref) for _, score, ref in found]
    if best and best[0][0] >= FUZZY_MIN:
        if len(best) == 1 or best[0][0] - best[1][0] >= FUZZY_GAP:
            kind, ident = best[0][1]
            return Target(kind, ident, labels[(kind, ident)])
        close = [Target(k, i, labels[(k, i)]) for s, (k, i) in best if s >= FUZZY_MIN]
        raise _ambiguous(raw, close)
    hints = [labels[ref] for score, ref in best[:3] if score >= 60]
    hint = f" (did you mean {' or '.join(repr(h) for h in hints)}?)" if hints else ""
    raise NotFound(f"no {what} matches {raw!r}{hint}")


def _ambiguous(raw: str, hits: list[Target]) -> Ambiguous:
    shown = hits[:MAX_CANDIDATES]
    listing = ", ".join(
        f"{'#' if t.kind == 'contact' else t.kind + ':'}{t.id} {t.label}" for t in shown
    )
    more = "" if len(hits) <= MAX_CANDIDATES else ", ..."
    return Ambiguous(
        f"{raw!r} matches several: {listing}{more}; use the id or more of the name",
        [(t.kind, t.id, t.label) for t in shown],
    )
