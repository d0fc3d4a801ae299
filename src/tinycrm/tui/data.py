"""The app's data: everything the screens read, and the store watcher. Plain Python, no
Textual, so it can be tested and timed alone.

Every read is a function of a `Ctx`, the same context the CLI builds for a command
(`startup.open_ctx`): the screens call them from thread workers, each worker call with a
fresh `Ctx` and its own connection (`Store.ctx()`; sqlite3 connections must not cross
threads), so the clock is read at each call and an app left open overnight sees the new
day. Writes call one service each, the same way. `Watcher` holds the one long-lived
connection, used only by its own thread, to notice commits, the app's own included.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from time import monotonic
from typing import TYPE_CHECKING, Any

from tinycrm.config import Settings
from tinycrm.services.context import Ctx

if TYPE_CHECKING:
    from tinycrm.services.cases import CaseKey, CasePage, CaseView, DueCases, SimilarCase
    from tinycrm.services.commits import Mark, Probe
    from tinycrm.services.contacts import ContactDetail, ContactSummary, DeleteImpact
    from tinycrm.services.deals import DealView, StageTotal
    from tinycrm.services.digest import Digest
    from tinycrm.services.fields import FieldDef
    from tinycrm.services.filters import Filter
    from tinycrm.services.recommend import Recommendations
    from tinycrm.services.reminders import ReminderView
    from tinycrm.services.search import ContactMatch
    from tinycrm.services.value import RankedCustomer, Ranking
    from tinycrm.services.views import Saved, View


@dataclass(frozen=True)
class Clock:
    """The user's time zone and day start, taken from the `Ctx` the store was opened with
    (checked there, as for every command), with the time read anew at each call: what
    the UI thread needs to show times and read a WHEN without a connection."""

    tz: tzinfo = UTC
    day_start: time = time(9, 0)

    @classmethod
    def of(cls, ctx: Ctx) -> Clock:
        return cls(ctx.tz, ctx.day_start)

    def now(self) -> datetime:
        from tinycrm import config

        return config.now()

    def today(self) -> date:
        return self.now().astimezone(self.tz).date()

    def when(self, text: str, *, past: bool = False) -> datetime:
        """Parse a WHEN as the CLI does (docs/cli.md#when); raises InvalidInput."""
        from tinycrm.dates import parse_when

        return parse_when(text, now=self.now(), tz=self.tz, default_time=self.day_start, past=past)


class Store:
    """Where the data is and how to reach it from any thread."""

    def __init__(self, db_option: str | None, settings: Settings) -> None:
        self.db_option = db_option
        self.settings = settings
        self.description = ""
        self.clock = Clock()
        self.currency = "EUR"  # the store's, from the Ctx it was opened with
        self.user_name = ""  # who the app runs as (the Ctx's user)
        self.rankings = Rankings()

    @classmethod
    def open(cls, db_option: str | None = None) -> Store:
        """Check that the store opens (creating or upgrading it once, here), so a locked,
        missing or newer store, or a bad setting, is one error line before any screen is
        drawn."""
        from tinycrm import config

        store = cls(db_option, config.load_settings())
        with store.ctx() as ctx:
            store.description = ctx.db.location.describe()
            store.clock = Clock.of(ctx)
            store.currency = ctx.currency
            store.user_name = ctx.user_name
        return store

    @contextlib.contextmanager
    def ctx(self) -> Iterator[Ctx]:
        """A fresh `Ctx` with its own connection, as the CLI builds one per command."""
        from tinycrm.startup import open_ctx

        ctx = open_ctx(self.db_option, self.settings)
        try:
            yield ctx
        finally:
            ctx.db.close()


# -- noticing changes ------------------------------------------------------------------------


class Watcher:
    """Notices commits, cheaply enough to ask twice a second, and says so through
    `on_change` (called in its own thread).

    What it compares is `services.commits.Mark`: SQLite's data version (the app's workers
    have connections of their own, so their commits count too); on PostgreSQL the newest
    ids, which move with the commit, and the server's count of rows written, which moves a
    while after every change already seen by its ids: within GRACE seconds of one, it is
    taken as the same change, not reported again (a change with no such trace in that
    time shows with the next one).

    It looks every `poll` seconds (never, if None) and whenever the app says it wrote
    (`wrote()`): the app's own change is then reported once, at once, and the next look
    finds nothing new, so nothing is reloaded twice for one commit."""

    GRACE = 10.0

    def __init__(
        self,
        store: Store,
        on_change: Callable[[], object] = lambda: None,
        *,
        poll: float | None = None,
    ) -> None:
        self.store = store
        self.on_change = on_change
        self.poll = poll
        self._stack: contextlib.ExitStack | None = None
        self._probe: Probe | None = None
        self._last: Mark | None = None
        self._ids_moved = -float("inf")  # when the ids last moved (PostgreSQL)
        self._thread: threading.Thread | None = None
        self._cond = threading.Condition()
        self._asked = 0  # looks asked for by wrote()
        self._answered = 0  # ... and done
        self._stopping = False
        self.looked = threading.Event()  # set once the first look is done

    def changed(self) -> bool:
        """True when someone committed since the previous call (never on the first)."""
        from tinycrm.services.commits import Probe

        if self._probe is None:
            stack = contextlib.ExitStack()
            self._probe = Probe(stack.enter_context(self.store.ctx()).db)
            self._stack = stack
        before, self._last = self._last, self._probe.mark()
        if before is None:
            return False
        if before.ids != self._last.ids:
            self._ids_moved = monotonic()
            return True
        return before.writes != self._last.writes and monotonic() - self._ids_moved > self.GRACE

    def close(self) -> None:
        if self._stack is not None:
            self._stack.close()
            self._stack = None
            self._probe = None

    # the watching thread
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="tinycrm-watcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop looking (the thread closes its connection on its way out)."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()

    def wrote(self, timeout: float = 5.0) -> None:
        """The app committed: look now, and return once the change has been reported."""
        thread = self._thread
        if thread is None or not thread.is_alive():
            self.on_change()  # nobody watching: say so directly
            return
        with self._cond:
            self._asked += 1
            asked = self._asked
            self._cond.notify_all()
            self._cond.wait_for(lambda: self._answered >= asked or self._stopping, timeout)

    def _run(self) -> None:
        from tinycrm.errors import TinyCRMError

        def look(told: bool) -> None:
            try:
                first = self._last is None
                if self.changed() or (told and first):
                    self.on_change()
            except TinyCRMError:
                self.close()  # locked or gone for a moment: reconnect next time

        try:
            look(False)  # what the store is like now: later looks compare with it
            self.looked.set()
            while True:
                with self._cond:
                    self._cond.wait_for(
                        lambda: self._stopping or self._asked > self._answered, self.poll
                    )
                    if self._stopping:
                        return
                    asked = self._asked
                look(asked > self._answered)
                with self._cond:
                    self._answered = asked
                    self._cond.notify_all()
        finally:
            self.close()


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


# -- Today -------------------------------------------------------------------------------------


@dataclass
class Today:
    """The home screen's contents, all read in one worker call."""

    greeting: str
    digest: Digest
    pipeline: list[StageTotal] = field(default_factory=list)
    currency: str = "EUR"
    empty_store: bool = False
    # the user's open cases due today or overdue (the team's with `team`); the escalated
    # ones are the digest's (`digest.cases`)
    cases_due: DueCases | None = None
    goals: list[str] = field(default_factory=list)  # goal progress now, one line each


def load_today(ctx: Ctx, *, team: bool = False, per_section: int = 50) -> Today:
    from tinycrm.io import goal_text
    from tinycrm.services import goals
    from tinycrm.services.agenda import scope_for
    from tinycrm.services.cases import due_cases
    from tinycrm.services.contacts import list_contacts
    from tinycrm.services.deals import stage_totals
    from tinycrm.services.digest import build_digest

    scope = scope_for(ctx, team=team)
    local = ctx.now.astimezone(ctx.tz)
    with ctx.db.read():
        digest = build_digest(ctx, scope, local.date(), days_ahead=7, per_section=per_section)
        pipeline = stage_totals(ctx.db, ctx.currency)
        empty = not list_contacts(ctx.db, limit=1)
        end = datetime.combine(local.date(), time(), ctx.tz) + timedelta(days=1)
        due = due_cases(ctx, until=end, team=team, limit=per_section)
        progress = goals.progress(ctx, uid=scope.user_id)  # now, not the day's start
    who = "the team" if team else ctx.user_name
    return Today(
        greeting=f"{local.strftime('%A %d %B, %H:%M')} · {who}",
        digest=digest,
        pipeline=list(pipeline),
        currency=ctx.currency,
        empty_store=empty,
        cases_due=due,
        goals=[goal_text.line(g, who=team) for g in progress],
    )


def top_customers(store: Store, ctx: Ctx, n: int = 5) -> Ranking:
    """The best customers by value."""
    return store.rankings.top(ctx, n)


# -- Contacts --------------------------------------------------------------------------------

SEARCH_LIMIT = 500  # search hits shown at most (type more to narrow)


@dataclass
class Query:
    """What the contacts list shows: the words searched, `tag:` and `owner:`, the order."""

    text: str = ""
    tag: str | None = None
    owner: str | None = None
    order: str = "name"  # one of tinycrm.services.contacts.ORDERS
    where: str = ""  # the filter bar's filter (services.filters), as typed

    @classmethod
    def parse(cls, raw: str, order: str, where: str = "") -> Query:
        q = cls(order=order, where=where)
        words = []
        for word in raw.split():
            low = word.lower()
            if low.startswith("tag:") and len(word) > 4:
                q.tag = word[4:]
            elif low.startswith("owner:") and len(word) > 6:
                q.owner = word[6:]
            else:
                words.append(word)
        q.text = " ".join(words)
        return q


@dataclass
class Page:
    """Rows for the table and where they go: `where` is "all" (they replace what is
    shown), "end" (after it) or "start" (before it)."""

    query: Query
    rows: list[ContactSummary]
    after: Any  # more after these: True (list) or the search hits still to show; None: no
    before: bool = False  # more before these
    total: int | None = None  # contacts in the store, or search hits
    where: str = "all"
    keep: int | None = None  # the contact to put the cursor back on
    last: bool = False  # the cursor goes to the last row
    epoch: int = 0  # which start of the table it belongs to (ContactsScreen.epoch)
    # a new search: why each hit was found (its own record, a note, a deal, its company)
    matches: dict[int, ContactMatch] = field(default_factory=dict)


def _filter(ctx: Ctx, entity: str, text: str) -> Filter | None:
    """The filter bar's text compiled (FilterSyntaxError, with its column, otherwise)."""
    if not text.strip():
        return None
    from tinycrm.services.filters import compile_filter

    return compile_filter(ctx, entity, text)


def load_views(ctx: Ctx, entity: str | None = None) -> list[View]:
    """The saved views (of one kind of record), by name."""
    from tinycrm.services.views import list_views

    return list_views(ctx.db, entity)


def save_view(
    ctx: Ctx, name: str, entity: str, where: str, sort: str | None, columns: list[str] | None
) -> Saved:
    """Save what a screen shows (its filter, sort and columns) as a view."""
    from tinycrm.services.views import save_view as save

    return save(ctx, name, entity=entity, where=where, sort=sort, columns=columns)


def load_page(ctx: Ctx, q: Query, after: Any, limit: int, count: bool) -> Page:
    """One page of the list: in order by keyset (`after` is the id of the row the page
    follows), or of the search hits (`after` holds the hits still to show, in order)."""
    from tinycrm.services import contacts, search

    db = ctx.db
    if q.text:
        matches: dict[int, ContactMatch] = {}
        if after is None:  # a new search: every hit, in order, once
            found = search.matching_contacts(db, q.text, SEARCH_LIMIT)
            matches = {m.contact_id: m for m in found}
            after = contacts.sorted_ids(
                db,
                list(matches),
                tag=q.tag,
                owner=q.owner,
                order=q.order,
                where=_filter(ctx, "contacts", q.where),
            )
        hits: list[int] = after
        window, rest = hits[:limit], hits[limit:]
        by_id = {c.id: c for c in contacts.summaries_by_id(db, window)}
        rows = [by_id[i] for i in window if i in by_id]
        return Page(q, rows, rest or None, total=len(hits) if count else None, matches=matches)
    key = contacts.page_key(db, after, q.order) if after is not None else None
    where = _filter(ctx, "contacts", q.where)
    rows = contacts.list_contacts(
        db, tag=q.tag, owner=q.owner, order=q.order, after=key, limit=limit, where=where
    )
    total = contacts.count_contacts(db, tag=q.tag, owner=q.owner, where=where) if count else None
    return Page(q, rows, True if len(rows) == limit else None, key is not None, total)


def load_before(ctx: Ctx, q: Query, first: int | None, limit: int) -> Page:
    """The `limit` rows before the contact `first` in the list (not searching), or the
    last `limit` rows when `first` is None."""
    from tinycrm.services import contacts

    key = contacts.page_key(ctx.db, first, q.order) if first is not None else None
    rows = contacts.list_contacts(
        ctx.db,
        tag=q.tag,
        owner=q.owner,
        order=q.order,
        before=key,
        last=key is None,
        limit=limit,
        where=_filter(ctx, "contacts", q.where),
    )
    return Page(q, rows, first is not None or None, len(rows) == limit, where="start")


def load_window(ctx: Ctx, q: Query, first: int | None, limit: int) -> Page:
    """The list read again from the contact `first` on (or from the start): what a reload
    shows without moving. `first` gone (deleted meanwhile): from the start."""
    from tinycrm.errors import NotFound

    if q.text or first is None:
        return load_page(ctx, q, None, limit, count=True)
    try:
        prev = load_before(ctx, q, first, 1).rows
    except NotFound:
        return load_page(ctx, q, None, limit, count=True)
    page = load_page(ctx, q, prev[0].id if prev else None, limit, count=True)
    if not page.rows or page.rows[0].id != first:
        # a row came in just before `first` (or `first` went): not a reason to jump
        page.before = bool(prev)
    return page


def find_contacts(ctx: Ctx, text: str, limit: int) -> list[tuple[ContactSummary, ContactMatch]]:
    """The first `limit` contacts `tinycrm search text` leads to (their own record, a
    note, a deal, their company), each with why it was found, in that order."""
    from tinycrm.services import contacts, search

    with ctx.db.read():
        found = search.matching_contacts(ctx.db, text, limit)
        by_id = {c.id: c for c in contacts.summaries_by_id(ctx.db, [m.contact_id for m in found])}
    return [(by_id[m.contact_id], m) for m in found if m.contact_id in by_id]


def delete_impact(ctx: Ctx, contact_id: int) -> DeleteImpact:
    """What goes with a contact deleted (notes, reminders, purchases) and what stays."""
    from tinycrm.services import contacts

    return contacts.delete_impact(ctx.db, contact_id)


# -- one contact -------------------------------------------------------------------------------

TIMELINE = 200  # timeline entries shown


def load_contact(ctx: Ctx, contact_id: int, *, timeline: int = TIMELINE) -> ContactDetail:
    """The 360 view; `timeline=0` for the contact form (fields and version only)."""
    from tinycrm.services.contacts import get_contact

    return get_contact(ctx.db, contact_id, timeline=timeline)


def field_defs(ctx: Ctx, entity: str = "contact") -> list[FieldDef]:
    """The custom fields of contacts (or companies, deals), for the forms."""
    from tinycrm.services.fields import list_fields

    return list_fields(ctx.db, entity)


def contact_grade(store: Store, ctx: Ctx, contact_id: int) -> str:
    """'RFM 333 need attention · ABC A · rank 1', or '' for someone who never bought."""
    return store.rankings.grade(ctx, contact_id)


def recommendations(ctx: Ctx, contact_id: int, top: int = 5) -> Recommendations:
    """What to offer the contact next (services.recommend, docs/products.md)."""
    from tinycrm.services.recommend import recommend

    return recommend(ctx.db, contact_id, top=top)


# -- Deals -------------------------------------------------------------------------------------

PER_COLUMN = 100  # deals shown in each stage's column


@dataclass
class Board:
    stages: list[StageTotal]  # the open stages, in pipeline order
    deals: dict[str, list[DealView]]  # by stage name, biggest first
    currency: str
    where: str = ""  # the filter the deals were read with
    matching: dict[str, int] | None = None  # with a filter: the open deals it matches, by stage


def deal_with_items(ctx: Ctx, deal_id: int) -> DealView:
    """One deal with its line items and their totals, for the board's items view."""
    from tinycrm.services.deals import get_deal

    return get_deal(ctx.db, deal_id, items=True)


def load_board(ctx: Ctx, where: str = "", order: str = "stage") -> Board:
    """The open stages with their deals; with a filter (the filter bar's), only the deals
    it matches, counted per stage in `matching`."""
    from tinycrm.services.deals import count_deals, list_deals, stage_totals

    with ctx.db.read():
        f = _filter(ctx, "deals", where)
        stages = [s for s in stage_totals(ctx.db, ctx.currency) if s.outcome == "open"]
        deals = {
            s.stage: list_deals(ctx.db, stage=s.stage, limit=PER_COLUMN, where=f, order=order)
            for s in stages
        }
        matching = (
            {s.stage: count_deals(ctx.db, stage=s.stage, where=f) for s in stages}
            if f is not None
            else None
        )
    return Board(stages, deals, ctx.currency, where, matching)


# -- Reminders ---------------------------------------------------------------------------------

REMINDERS = 500  # reminders shown at most


@dataclass
class Reminders:
    rows: list[ReminderView]
    total: int  # in the store, not the rows loaded
    overdue: int  # the same


def load_reminders(ctx: Ctx, mine: bool, overdue: bool) -> Reminders:
    from tinycrm.services.reminders import reminder_list

    found = reminder_list(ctx, mine=mine, overdue_only=overdue, limit=REMINDERS)
    return Reminders(found.rows, found.total, found.overdue)


# -- Cases -------------------------------------------------------------------------------------

CASES = 200  # open cases read at a time (the screen reads the next page at the bottom)
SIMILAR = 5  # past cases shown under an opened case


def load_cases(
    ctx: Ctx,
    mine: bool,
    overdue: bool,
    after: CaseKey | None = None,
    counts: tuple[int, int] | None = None,
) -> CasePage:
    """A page of open cases, the most urgent first (keyset paged: `after` is the page
    before's `after`), with the store's counts (a later page: the first page's `counts`)."""
    from tinycrm.services.cases import case_page

    return case_page(ctx, mine=mine, overdue=overdue, after=after, limit=CASES, total=counts)


@dataclass
class CaseDetail:
    """An opened case: the case with its notes, and the past cases most like it."""

    case: CaseView
    similar: list[SimilarCase]


def load_case(ctx: Ctx, case_id: int) -> CaseDetail:
    from tinycrm.services.cases import get_case, similar_cases

    with ctx.db.read():
        return CaseDetail(get_case(ctx, case_id), similar_cases(ctx, case_id, limit=SIMILAR))


# -- Rankings ----------------------------------------------------------------------------------


def load_ranking(store: Store, ctx: Ctx, *, by: str, level: str) -> Ranking:
    """Every customer, best first (the screen filters segments and grades from it)."""
    return store.rankings.get(ctx, by=by, level=level)


class Rankings:
    """`rank` results, computed once and kept until a purchase changes or the day turns:
    ranking 100k customers takes a good half second, and the screens ask often (every
    contact opened, every refresh of Today).

    What is kept is bounded, since a full ranking of 100k customers is tens of MB: the
    ranking by RFM (each contact's grade comes from it, and the Rankings screen opens on
    it), the one other ranking the Rankings screen shows last, and Today's top few."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: object = None
        self._cache: dict[tuple[str, str], Ranking] = {}
        self._top: tuple[int, Ranking] | None = None
        self._grades: dict[int, RankedCustomer] | None = None

    def _check(self, ctx: Ctx) -> None:
        from tinycrm.services.value import purchases_mark

        key = (purchases_mark(ctx), ctx.now.astimezone(ctx.tz).date(), ctx.currency)
        if key != self._key:
            self._key, self._cache, self._top, self._grades = key, {}, None, None

    def get(self, ctx: Ctx, *, by: str = "rfm", level: str = "contact") -> Ranking:
        """Every customer, best first (filter segments and grades from it: `rank` keeps
        each customer's place among all)."""
        from tinycrm.services.value import rank
        from tinycrm.text import scrub_once

        with self._lock:
            self._check(ctx)
            if (by, level) not in self._cache:
                kept = ("rfm", "contact")
                self._cache = {k: v for k, v in self._cache.items() if k == kept}
                self._cache[by, level] = scrub_once(rank(ctx, by=by, level=level))
                self._give_back()
            return self._cache[by, level]

    @staticmethod
    def _give_back() -> None:
        """Hand the heap that ranking freed back to the system (glibc keeps it otherwise:
        tens of MB after ranking 100k customers). Elsewhere: nothing to do."""
        with contextlib.suppress(OSError, AttributeError):
            import ctypes

            ctypes.CDLL("libc.so.6").malloc_trim(0)

    def top(self, ctx: Ctx, n: int) -> Ranking:
        """The `n` best customers by value (only they are kept)."""
        from tinycrm.services.value import rank
        from tinycrm.text import scrub

        with self._lock:
            self._check(ctx)
            if self._top is None or self._top[0] != n:
                self._top = n, scrub(rank(ctx, by="value", top=n))
                self._give_back()
            return self._top[1]

    def grade(self, ctx: Ctx, contact_id: int) -> str:
        """'RFM 333 need attention · ABC A · rank 1', or '' for someone who never bought."""
        ranking = self.get(ctx)
        with self._lock:
            if self._grades is None:
                self._grades = {c.id: c for c in ranking.customers}
            c = self._grades.get(contact_id)
        return "" if c is None else f"RFM {c.rfm} {c.segment} · ABC {c.abc} · rank {c.rank}"


# -- correcting and deleting one record (e and x) ----------------------------------------------
#: The records `e` edits and `x` deletes, in the contact view and the lists.
RECORD_KINDS = ("interaction", "reminder", "purchase", "deal", "case")


def load_record(ctx: Ctx, kind: str, ident: int) -> Any:
    """A note, reminder, purchase or deal as its edit form needs it (with its version)."""
    if kind == "interaction":
        from tinycrm.services.interactions import get_interaction

        return get_interaction(ctx.db, ident)
    if kind == "reminder":
        from tinycrm.services.reminders import get_reminder_or_unknown

        return get_reminder_or_unknown(ctx, ident)
    if kind == "purchase":
        from tinycrm.services.purchases import get_purchase

        return get_purchase(ctx.db, ident)
    if kind == "case":
        from tinycrm.services.cases import get_case

        return get_case(ctx, ident)
    from tinycrm.services.deals import get_deal

    return get_deal(ctx.db, ident)


@dataclass
class Removal:
    """What `x` asks before deleting a record: the question, what goes with it, and the
    version it was read at (the delete is refused if it changed meanwhile)."""

    kind: str
    id: int
    question: str
    detail: str
    version: int


def removal(ctx: Ctx, kind: str, ident: int) -> Removal:
    from tinycrm.text import one_line, plural

    view = load_record(ctx, kind, ident)
    tz = ctx.tz
    if kind == "interaction":
        who = view.contact or view.company or "nobody"
        when = view.happened_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
        return Removal(
            kind,
            ident,
            f"Delete {view.kind} #{ident} with {who}?",
            f"{when}: {one_line(view.body, 80)}\nLast touch and the stay-in-touch and rot"
            " clocks are recomputed without it.",
            view.version,
        )
    if kind == "reminder":
        about = f" about {view.target}" if view.target else ""
        detail = one_line(view.text, 80)
        if view.recurrence and view.done_at is None:
            detail += (
                f"\nIt repeats {view.recurrence}: this occurrence goes and the next one is"
                " scheduled (tinycrm reminder rm --series ends the series)."
            )
        return Removal(kind, ident, f"Delete reminder #{ident}{about}?", detail, view.version)
    if kind == "purchase":
        from tinycrm.money import display_money

        amount = display_money(view.amount_cents, view.currency)
        return Removal(
            kind,
            ident,
            f"Delete purchase #{ident}: {view.contact} bought {amount}"
            f" on {view.purchased_on.isoformat()}?",
            "Rankings and reports follow.",
            view.version,
        )
    if kind == "case":
        notes = (
            f"\nIts {plural(len(view.notes), 'note')} stay on {view.contact}'s timeline."
            if view.notes
            else ""
        )
        return Removal(
            kind,
            ident,
            f"Delete case #{ident} '{view.title}' ({view.contact}, {view.status})?",
            f"{one_line(view.body or '', 80)}{notes}".strip(),
            view.version,
        )
    from tinycrm.services.deals import deal_impact

    impact = deal_impact(ctx.db, ident)
    kept = f"\nIts {impact.interactions} note(s) stay, off the deal." if impact.interactions else ""
    return Removal(
        kind,
        ident,
        f"Delete deal #{ident} '{view.title}' and its {impact.reminders} reminder(s)?",
        f"Its stage history goes with it.{kept}",
        view.version,
    )


def remove_record(ctx: Ctx, asked: Removal) -> str:
    """Delete what `removal` asked about, if it is still at that version; what went."""
    kind, ident, version = asked.kind, asked.id, asked.version
    if kind == "interaction":
        from tinycrm.services.interactions import delete_interaction

        gone = delete_interaction(ctx, ident, expected_version=version)
        return f"Deleted {gone.kind} #{ident}"
    if kind == "reminder":
        from tinycrm.services.reminders import delete_reminder

        removed = delete_reminder(ctx, ident, expected_version=version)
        nxt = f"; next #{removed.next.id}" if removed.next else ""
        return f"Deleted reminder #{ident} {removed.removed.text}{nxt}"
    if kind == "purchase":
        from tinycrm.services.purchases import delete_purchase

        delete_purchase(ctx, ident, expected_version=version)
        return f"Deleted purchase #{ident}"
    if kind == "case":
        from tinycrm.services.cases import delete_case

        case = delete_case(ctx, ident, expected_version=version)
        return f"Deleted case #{ident} {case.title}"
    from tinycrm.services.deals import delete_deal

    deal = delete_deal(ctx, ident, expected_version=version)
    return f"Deleted deal #{ident} {deal.title}"
