"""A store's data as undo must give it back: every row of every table the journal covers
(no audit log, no journal, no send log, no erasure records), and the search index of every
kind; without `version`, which an undo moves forward on purpose."""

from __future__ import annotations

from typing import Any

from tinycrm.store import journal
from tinycrm.store.open import open_store

State = dict[str, list[tuple[Any, ...]]]


def data_state(url: str) -> State:
    db = open_store(url)
    try:
        out: State = {}
        for table in db.tables():
            if not journal.journaled(table.name):
                continue
            columns = [c for c in table.columns if c != "version"]
            rows = db.all(f"SELECT {', '.join(columns)} FROM {table.name}")
            out[table.name] = sorted((tuple(r[c] for c in columns) for r in rows), key=repr)
        if db.is_sqlite:
            for kind in ("contact", "company", "interaction", "deal"):
                out[f"search:{kind}"] = [
                    tuple(r.values())
                    for r in db.all(f"SELECT rowid, body FROM {kind}_fts ORDER BY rowid")
                ]
        else:
            out["search"] = [
                tuple(r.values())
                for r in db.all("SELECT kind, ref_id, body FROM search_docs ORDER BY 1, 2")
            ]
        return out
    finally:
        db.close()


def differences(a: State, b: State) -> dict[str, tuple[list[Any], list[Any]]]:
    """Per table, the rows only in `a` and the rows only in `b` (for readable failures)."""
    out = {}
    for name in sorted(set(a) | set(b)):
        left, right = a.get(name, []), b.get(name, [])
        if left != right:
            out[name] = ([r for r in left if r not in right], [r for r in right if r not in left])
    return out
