"""Noticing commits: a mark of the store that moves with every commit, cheap enough to read
twice a second, for the app's store watcher (`tui.data.Watcher`).

SQLite: `PRAGMA data_version`, which changes when another connection commits. PostgreSQL:
the newest id of the audit log (every change made through tinycrm writes an entry) and of
each table that grows (primary-key lookups), which move with the commit; and, for changes
that leave no such trace, the server's own count of rows written (`pg_stat_user_tables`),
which moves later (each session flushes it at most once a second, within 10 s when idle).
No table is scanned."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tinycrm.store.db import Db


@dataclass(frozen=True)
class Mark:
    """Where the store stands: `ids` moves with a commit at once (SQLite's data version;
    PostgreSQL's newest ids), `writes` later (PostgreSQL's count of rows written; 0 on
    SQLite)."""

    ids: tuple[Any, ...]
    writes: int = 0


def signature(db: Db) -> str:
    """The PostgreSQL query: rows written, and the newest id of every table keyed by one
    `id` (from the store's own catalog, so a new table is watched too)."""
    newest = [
        f" (SELECT max(id) FROM {t.name}) AS {t.name}" for t in db.tables() if t.key == ("id",)
    ]
    return (
        "SELECT (SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)"
        " FROM pg_stat_user_tables) AS writes," + ",".join(newest)
    )


class Probe:
    """Reads the store's `Mark` over one connection (its caller's own, kept open between
    looks); the PostgreSQL query is built once."""

    def __init__(self, db: Db) -> None:
        self.db = db
        self._sql = ""

    def mark(self) -> Mark:
        """Where the store stands now."""
        db = self.db
        if db.is_sqlite:
            return Mark((db.value("PRAGMA data_version"),))
        self._sql = self._sql or signature(db)
        writes, *ids = (db.one(self._sql) or {}).values()
        return Mark(tuple(ids), int(writes or 0))
