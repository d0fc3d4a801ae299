"""The TUI's data access: plain Python, no Textual, so it can be tested and timed alone.

Every worker call opens its own connection with `Store.ctx()` (sqlite3 connections must
not cross threads) and builds a fresh `Ctx`, so the clock is read at each call: a TUI left
open overnight sees the new day. `Watcher` holds the one long-lived connection, used only by
the watch thread, to notice writes from other processes.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tinycrm.config import Settings
from tinycrm.services.context import Ctx

if TYPE_CHECKING:
    from tinycrm.services.deals import StageTotal
    from tinycrm.services.digest import Digest
    from tinycrm.services.value import Ranking
    from tinycrm.store.db import Db


class Store:
    """Where the data is and how to reach it from any thread."""

    def __init__(self, db_option: str | None, settings: Settings) -> None:
        self.db_option = db_option
        self.settings = settings
        self.description = ""
        self.user_name = ""
        self.is_sqlite = True
        self.tz: tzinfo = UTC
        self.currency = settings.currency
        self.rankings = Rankings()

    @classmethod
    def open(cls, db_option: str | None = None) -> Store:
        """Check that the store opens (creating or upgrading it once, here), so a locked,
        missing or newer store is one error line before any screen is drawn."""
        from tinycrm import config

        store = cls(db_option, config.load_settings())
        with store.ctx() as ctx:
            store.description = ctx.db.location.describe()
            store.user_name = ctx.user_name
            store.is_sqlite = ctx.db.is_sqlite
            store.tz = ctx.tz
        return store

    @contextlib.contextmanager
    def ctx(self) -> Iterator[Ctx]:
        from tinycrm.startup import open_ctx

        ctx = open_ctx(self.db_option, self.settings)
        try:
            yield ctx
        finally:
            ctx.db.close()

    def now(self) -> datetime:
        from tinycrm import config

        return config.now()

    def today(self) -> date:
        return self.now().astimezone(self.tz).date()

    def when(self, text: str, *, past: bool = False) -> datetime:
        """Parse a WHEN as the CLI does (docs/cli.md#when); raises InvalidInput."""
        from tinycrm import config
        from tinycrm.dates import parse_when

        hh, mm = (int(x) for x in self.settings.day_starts_at.split(":"))
        return parse_when(
            text,
            now=config.now(),
            tz=self.tz,
            default_time=time(hh, mm),
            past=past,
        )


class Watcher:
    """Notices commits by other connections, cheaply enough to ask twice a second.

    SQLite: `PRAGMA data_version`, which changes when another connection commits.
    PostgreSQL: the server's own count of rows written (`pg_stat_user_tables`, flushed by
    each session within about a second, at once when it ends) plus the newest id of each
    table that grows (primary-key lookups), so a new note shows even before the statistics
    do. No table is scanned."""

    @staticmethod
    def signature(db: Db) -> str:
        """The PostgreSQL query: rows written, and the newest id of every table keyed by
        one `id` (from the store's own catalog, so a new table is watched too)."""
        newest = [
            f" (SELECT max(id) FROM {t.name}) AS {t.name}" for t in db.tables() if t.key == ("id",)
        ]
        return (
            "SELECT (SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)"
            " FROM pg_stat_user_tables) AS writes," + ",".join(newest)
        )

    def __init__(self, store: Store) -> None:
        self.store = store
        self._stack: contextlib.ExitStack | None = None
        self._db: Db | None = None
        self._last: object = None
        self._sql = ""

    def changed(self) -> bool:
        """True when someone committed since the previous call (never on the first)."""
        if self._db is None:
            stack = contextlib.ExitStack()
            self._db = stack.enter_context(self.store.ctx()).db
            self._stack = stack
        db = self._db
        if db.is_sqlite:
            now: object = db.value("PRAGMA data_version")
        else:
            self._sql = self._sql or self.signature(db)
            now = tuple((db.one(self._sql) or {}).values())
        before, self._last = self._last, now
        return before is not None and before != now

    def close(self) -> None:
        if self._stack is not None:
            self._stack.close()
            self._stack = None
            self._db = None


# -- what the app remembers between runs -----------------------------------------------------

STATE_FILE = "tui-state.json"


def state_path() -> Path:
    """The app's own small file beside the settings (never the settings file itself)."""
    from tinycrm import config

    return config.config_dir() / STATE_FILE


def load_state() -> dict[str, Any]:
    """What the app remembered ({} when nothing, or when the file is unreadable)."""
    try:
        data = json.loads(state_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save_state(**changes: Any) -> None:
    """Remember `changes` (merged into what is there), replacing the file in one step so a
    crash never leaves half of it. Raises OSError when it can't be written."""
    path = state_path()
    state = load_state()
    state.update(changes)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)


# -- what the screens show -------------------------------------------------------------------


@dataclass
class Today:
    """The home screen's contents, all read in one worker call."""

    greeting: str
    digest: Digest
    pipeline: list[StageTotal] = field(default_factory=list)
    currency: str = "EUR"
    empty_store: bool = False


def load_today(ctx: Ctx, *, team: bool = False, per_section: int = 50) -> Today:
    from tinycrm.services.agenda import scope_for
    from tinycrm.services.deals import stage_totals
    from tinycrm.services.digest import build_digest

    scope = scope_for(ctx, team=team)
    local = ctx.now.astimezone(ctx.tz)
    with ctx.db.read():
        digest = build_digest(ctx, scope, local.date(), days_ahead=7, per_section=per_section)
        pipeline = stage_totals(ctx.db, ctx.currency)
        empty = ctx.db.one("SELECT id FROM contacts LIMIT 1") is None
    who = "the team" if team else ctx.user_name
    return Today(
        greeting=f"{local.strftime('%A %d %B, %H:%M')} · {who}",
        digest=digest,
        pipeline=list(pipeline),
        currency=ctx.currency,
        empty_store=empty,
    )


def top_customers(store: Store, ctx: Ctx, n: int = 5) -> Ranking:
    """The best customers by value."""
    from dataclasses import replace

    ranking = store.rankings.get(ctx, by="value")
    return replace(ranking, customers=ranking.customers[:n])


class Rankings:
    """`rank` results, computed once and kept until a purchase changes or the day turns:
    ranking 100k customers takes a good half second, and the screens ask often (every
    contact opened, every refresh of Today)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: object = None
        self._cache: dict[tuple[str, str], Ranking] = {}
        self._grades: dict[int, str] | None = None

    def _check(self, ctx: Ctx) -> None:
        row = ctx.db.one("SELECT count(*) AS n, max(id) AS last FROM purchases") or {}
        key = (row.get("n"), row.get("last"), ctx.now.astimezone(ctx.tz).date(), ctx.currency)
        if key != self._key:
            self._key, self._cache, self._grades = key, {}, None

    def get(self, ctx: Ctx, *, by: str = "rfm", level: str = "contact") -> Ranking:
        """Every customer, best first (filter segments and grades from it: `rank` keeps
        each customer's place among all)."""
        from tinycrm.services.value import rank
        from tinycrm.text import scrub_once

        with self._lock:
            self._check(ctx)
            if (by, level) not in self._cache:
                self._cache[by, level] = scrub_once(rank(ctx, by=by, level=level))
            return self._cache[by, level]

    def grade(self, ctx: Ctx, contact_id: int) -> str:
        """'RFM 333 need attention · ABC A · rank 1', or '' for someone who never bought."""
        ranking = self.get(ctx)
        with self._lock:
            if self._grades is None:
                self._grades = {
                    c.id: f"RFM {c.rfm} {c.segment} · ABC {c.abc} · rank {c.rank}"
                    for c in ranking.customers
                }
            return self._grades.get(contact_id, "")
