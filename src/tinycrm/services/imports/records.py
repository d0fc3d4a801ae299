"""Importing interactions and deals: what `tinycrm export interactions|deals` wrote, read
back into a store, so that every export round-trips.

The reader (`tinycrm.io.record_files`) turns a CSV or JSON file into `InteractionRow`s or
`DealRow`s and the `RowError`s of rows it could not read; `bulk` runs the import (all or
nothing, rejects, the audit entry); this module owns the rules for these records:

- A row's contact is found by `contact` (an email or id, else an exact name, as `import
  purchases` finds a REF: never a prefix or a guess), else by `contact_name` (an exact
  name). No contact is ever created: import the contacts first.
- A company is found by its exact name (case- and accent-insensitive) and created when the
  store has none, as `import contacts` does.
- An interaction's `deal` is a deal title; when several deals share it, the one with the
  row's contact. A deal's `stage` is a stage name (exact, never a prefix); its `status`
  must be the stage's outcome (won and lost stages close a deal; a lost one needs its
  `lost_reason`). `user` and `owner` must be existing users.
- Duplicates of what the store holds are skipped and counted: an interaction with the same
  contact (or company), time, kind and body; a deal with the same title, contact and
  created time. Each stored record accounts for one row, so a file that holds two
  identical notes imports both the first time and skips both the second.

Everything happens in one transaction, with one audit entry for the run. Derived data is
kept as the one-record services keep it: the search index (`search.index_new`), contacts'
`last_touch_at` and stay-in-touch clocks, deals' `activity_at` and rot clocks, and a
`stage_changes` row for each new deal's stage (entered when the deal closed, else when it
was created).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from tinycrm.errors import InvalidInput
from tinycrm.services import clocks, fields, search
from tinycrm.services.context import Ctx
from tinycrm.services.imports.bulk import (
    BATCH,
    SHOWN,
    Progress,
    RowError,
    Run,
    SaveRejects,
    chunks,
    companies,
    id_lists,
    lookup,
    quoted,
    resolve_refs,
)
from tinycrm.services.imports.contacts import ContactImportSource, custom_columns
from tinycrm.services.interactions import KINDS
from tinycrm.store.db import Db, LockKey, read_ts
from tinycrm.text import fold


@dataclass(slots=True)
class InteractionRow:
    """One readable row of an interactions file; `line` is where it starts in the file."""

    line: int
    happened_at: datetime
    kind: str
    contact: str | None
    contact_name: str | None
    company: str | None
    deal: str | None
    body: str
    user: str | None
    user_given: bool = True  # False: the file has no `user` column, so the importer
    # False: an activity still to do (another CRM's open task, a call planned), which
    # becomes a reminder due at `happened_at` rather than an interaction
    done: bool = True


@dataclass(slots=True)
class DealRow:
    line: int
    title: str
    contact: str | None
    contact_name: str | None
    company: str | None
    stage: str
    status: str | None
    value_cents: int
    currency: str
    probability: int | None
    expected_close: date | None
    lost_reason: str | None
    closed_at: datetime | None
    created_at: datetime | None
    owner: str | None
    owner_given: bool = True  # False: the file has no `owner` column, so the importer
    # columns the reader didn't know: those named like a custom field of deals go to it
    extra: dict[str, str] = field(default_factory=dict)


@dataclass
class RecordImportSummary:
    """What `import interactions` and `import deals` did (or, in a dry run, would do)."""

    what: str  # "interactions" | "deals"
    source: ContactImportSource
    dry_run: bool
    rows: int
    imported: int
    duplicates: int
    rejected: int
    rejects_file: str | None
    companies_created: list[str]
    errors: list[RowError] = field(default_factory=list)  # the first bulk.SHOWN, by line
    reminders: int = 0  # of `imported`: activities still to do, made reminders
    stages_created: list[str] = field(default_factory=list)  # --create-stages


# -- what both imports share ----------------------------------------------------------------


@dataclass
class _Found:
    """The store's answers for the names a file uses."""

    contacts: dict[str, int]  # contact REF or name -> id
    contact_errors: dict[str, str]
    users: dict[str, int]  # user name, folded name or lower-case email -> id
    companies: dict[str, int]  # fold(name) -> id (existing ones)
    # (fold(name), fold(company)) -> contact ids: a name two contacts share, told apart
    by_company: dict[tuple[str, str], list[int]] = field(default_factory=dict)


def _find(
    db: Db,
    contact_refs: Iterable[str],
    users: Iterable[str],
    companies: Iterable[str],
    names_at: Iterable[tuple[str, str]] = (),
) -> _Found:
    refs = resolve_refs(db, list(dict.fromkeys(contact_refs)), create_missing=False)
    wanted = set(users)
    user_ids: dict[str, int] = {}
    if wanted:  # another CRM's owner: a user's name (any case, accents) or email
        folded = {fold(u) for u in wanted} | {u.strip().lower() for u in wanted}
        for ident, name, email in db.tuples("SELECT id, name, email FROM users ORDER BY id"):
            for key in (str(name), fold(str(name)), str(email or "").lower()):
                if key and (key in wanted or key in folded):
                    user_ids.setdefault(key, int(ident))
    company_ids = {
        key: ids[0]
        for key, ids in lookup(
            db,
            "SELECT name_key, id FROM companies WHERE name_key IN ({keys})",
            {fold(c) for c in companies},
        ).items()
    }
    by_company: dict[tuple[str, str], list[int]] = {}
    pairs = {(fold(n), fold(c)) for n, c in names_at if n in refs.errors}
    if pairs:
        for ident, name_key, company_key in lookup_pairs(db, pairs):
            by_company.setdefault((name_key, company_key), []).append(ident)
    return _Found(refs.ids, refs.errors, user_ids, company_ids, by_company)


def lookup_pairs(db: Db, pairs: set[tuple[str, str]]) -> list[tuple[int, str, str]]:
    """(contact id, name key, company key) of the contacts named so at those companies."""
    out = []
    for batch in chunks(sorted({n for n, _ in pairs})):
        params = {f"k{i}": k for i, k in enumerate(batch)}
        listed = ",".join(f":{p}" for p in params)
        for ident, name_key, company_key in db.tuples(
            "SELECT c.id, c.name_key, co.name_key FROM contacts c"
            f" JOIN companies co ON co.id = c.company_id WHERE c.name_key IN ({listed})"
            " ORDER BY c.id",
            params,
        ):
            if (name_key, company_key) in pairs:
                out.append((int(ident), str(name_key), str(company_key)))
    return out


def _contact_of(
    found: _Found, contact: str | None, name: str | None, company: str | None = None
) -> int | None | RowError:
    """The contact a row names (None when it names none): by email (or id), else by name,
    a name two contacts share told apart by the row's company; or the error to report
    (line 0: the caller fills it in)."""
    if not contact and not name:
        return None
    for ref in (contact, name):
        if ref and ref in found.contacts:
            return found.contacts[ref]
    for ref in (contact, name):
        if ref and company:
            ids = found.by_company.get((fold(ref), fold(company)), [])
            if len(ids) == 1:
                return ids[0]
    problem = found.contact_errors.get(contact or name or "") or "no contact matches"
    problem = problem.replace(" (--create-missing adds it)", " (import contacts first)")
    return RowError(0, "contact" if contact else "contact_name", problem)


def _user_of(
    ctx: Ctx, found: _Found, name: str | None, given: bool, what: str
) -> int | None | RowError:
    if not given:
        return ctx.user_id
    if not name:
        return None
    for key in (name, fold(name), name.strip().lower()):
        if key in found.users:
            return found.users[key]
    return RowError(
        0, what, f"no user called {quoted(name)} (by name or email); see tinycrm user list"
    )


def _at(line: int, problem: RowError) -> RowError:
    problem.line = line
    return problem


def _plan_companies(found: _Found, names: Iterable[str | None]) -> list[str]:
    """The companies to create, first spelling of each, in file order."""
    new: dict[str, str] = {}
    for n in names:
        if n and fold(n) not in found.companies:
            new.setdefault(fold(n), n)
    return list(new.values())


def _second(t: datetime | None) -> datetime | None:
    return None if t is None else t.replace(microsecond=0)


def _finish(
    ctx: Ctx,
    run: Run,
    source: ContactImportSource,
    *,
    rows: int,
    imported: int,
    duplicates: int,
    errors: list[RowError],
    new_companies: list[str],
    reminders: int = 0,
    stages_created: list[str] | None = None,
) -> RecordImportSummary:
    """Save the rejects and log the run (`Run.finish`), and sum it up."""
    counts: dict[str, Any] = {
        "rows": rows,
        "imported": imported,
        "duplicates": duplicates,
        "rejected": len(errors),
        "companies_created": len(new_companies),
    }
    if reminders:
        counts["reminders"] = reminders
    if stages_created:
        counts["stages_created"] = stages_created
    rejects_file = run.finish(ctx, errors, counts)
    return RecordImportSummary(
        what=run.what,
        source=source,
        dry_run=run.dry_run,
        rows=rows,
        imported=imported,
        duplicates=duplicates,
        rejected=len(errors),
        rejects_file=rejects_file,
        companies_created=new_companies,
        errors=errors[:SHOWN],
        reminders=reminders,
        stages_created=stages_created or [],
    )


def _company_ids(ctx: Ctx, found: _Found, new: list[str], dry_run: bool) -> dict[str, int]:
    if dry_run:
        return {**found.companies, **{fold(n): -1 - i for i, n in enumerate(new)}}
    return {**found.companies, **companies(ctx, new)}


# -- interactions ---------------------------------------------------------------------------


def import_interactions(
    ctx: Ctx,
    rows: Sequence[InteractionRow],
    *,
    source: ContactImportSource,
    unreadable: Sequence[RowError] = (),
    skip_bad: bool = False,
    dry_run: bool = False,
    save_rejects: SaveRejects | None = None,
    progress: Progress | None = None,
) -> RecordImportSummary:
    """Import interactions as `export` wrote them, all or nothing (`bulk.Run`), skipping
    those already stored (see the module docstring). A dry run only reads."""
    db = ctx.db
    run = Run("interactions", source.file, skip_bad, dry_run, save_rejects, progress)
    # what the duplicate checks read stays as it is until this lands
    with run.transaction(db, "company names", "interaction imports"):
        run.step("check", 0, len(rows))
        found = _find(
            db,
            [x for r in rows for x in (r.contact, r.contact_name) if x],
            {r.user for r in rows if r.user},
            {r.company for r in rows if r.company},
            [(x, r.company) for r in rows if r.company for x in (r.contact, r.contact_name) if x],
        )
        deals = _deals_by_title(db, {fold(r.deal) for r in rows if r.deal})
        limit = ctx.now + timedelta(days=366)
        good: list[tuple[InteractionRow, int | None, int | None, int | None]] = []
        errors = list(unreadable)
        for r in rows:
            contact = _contact_of(found, r.contact, r.contact_name, r.company)
            user = _user_of(ctx, found, r.user, r.user_given, "user")
            deal: int | None | RowError = None
            if r.deal and not isinstance(contact, RowError):
                deal = _deal_of(deals, r.deal, contact)
            for problem in (contact, user, deal):
                if isinstance(problem, RowError):
                    errors.append(_at(r.line, problem))
                    break
            else:
                if r.kind == "task" and r.done:
                    r.kind = "note"  # a done to-do is a note of what was done
                if r.kind not in KINDS and r.kind != "task":
                    errors.append(
                        RowError(
                            r.line, "kind", f"must be one of {', '.join(KINDS)}: {quoted(r.kind)}"
                        )
                    )
                elif contact is None and not r.company:
                    errors.append(
                        RowError(r.line, "contact", "empty, and so is company: about whom?")
                    )
                elif r.done and r.happened_at > limit:
                    errors.append(RowError(r.line, "happened_at", "more than a year in the future"))
                else:
                    assert not isinstance(contact, RowError) and not isinstance(user, RowError)
                    assert not isinstance(deal, RowError)
                    good.append((r, contact, deal, user))
        run.checked(errors)
        new_companies = _plan_companies(found, (r.company for r, *_ in good))
        company_of = _company_ids(ctx, found, new_companies, dry_run)
        everything = [
            _Interaction(r, contact, company_of[fold(r.company)] if r.company else None, deal, user)
            for r, contact, deal, user in good
        ]
        planned, duplicates = _drop_stored_interactions(db, [p for p in everything if p.row.done])
        to_do, stored_to_do = _drop_stored_reminders(db, [p for p in everything if not p.row.done])
        run.step("check", len(rows), len(rows))
        if not dry_run:
            _insert_interactions(ctx, planned, progress)
            _insert_reminders(ctx, to_do)
        summary = _finish(
            ctx,
            run,
            source,
            rows=len(rows) + len(unreadable),
            imported=len(planned) + len(to_do),
            duplicates=duplicates + stored_to_do,
            errors=errors,
            new_companies=new_companies,
            reminders=len(to_do),
        )
        return summary


@dataclass(slots=True)
class _Interaction:
    row: InteractionRow
    contact_id: int | None
    company_id: int | None
    deal_id: int | None
    user_id: int | None

    def key(self) -> tuple[Any, ...]:
        r = self.row
        about = ("contact", self.contact_id) if self.contact_id else ("company", self.company_id)
        return (*about, _second(r.happened_at), r.kind, r.body)


def _deals_by_title(db: Db, keys: set[str]) -> dict[str, list[tuple[int, int | None]]]:
    out: dict[str, list[tuple[int, int | None]]] = {}
    for batch in chunks(sorted(keys)):
        params = {f"k{i}": k for i, k in enumerate(batch)}
        listed = ",".join(f":{p}" for p in params)
        for key, deal_id, contact_id in db.tuples(
            f"SELECT title_key, id, contact_id FROM deals WHERE title_key IN ({listed})"
            " ORDER BY id",
            params,
        ):
            out.setdefault(key, []).append((int(deal_id), contact_id))
    return out


def _deal_of(
    deals: dict[str, list[tuple[int, int | None]]], title: str, contact_id: int | None
) -> int | RowError:
    hits = deals.get(fold(title), [])
    if len(hits) > 1:
        hits = [h for h in hits if h[1] == contact_id]
    if len(hits) == 1:
        return hits[0][0]
    if not hits:
        return RowError(
            0,
            "deal",
            f"no deal titled {quoted(title)}"
            + (" with this contact" if deals.get(fold(title)) else " (import deals first)"),
        )
    listing = ", ".join(f"#{h[0]}" for h in hits[:8])
    return RowError(
        0, "deal", f"{quoted(title)} matches {len(hits)} deals of this contact ({listing})"
    )


def _drop_stored_interactions(
    db: Db, planned: list[_Interaction]
) -> tuple[list[_Interaction], int]:
    """`planned` without the rows a stored interaction already accounts for. Only contacts
    and companies that existed before can have any, and only between the file's first and
    last time, so that is all that is read."""
    old = [p for p in planned if (p.contact_id or p.company_id or 0) > 0]
    if not old:
        return planned, 0
    keys = {p.key() for p in old}
    times = [p.row.happened_at for p in old]
    bounds = {
        "lo": db.ts(min(times) - timedelta(seconds=1)),
        "hi": db.ts(max(times) + timedelta(seconds=1)),
    }
    stored: Counter[tuple[Any, ...]] = Counter()
    for column, ids in (
        ("contact_id", {p.contact_id for p in old if p.contact_id}),
        ("company_id", {p.company_id for p in old if not p.contact_id}),
    ):
        extra = "" if column == "contact_id" else " AND contact_id IS NULL"
        for _, listed in id_lists(i for i in ids if i and i > 0):
            for ref, when, kind, body in db.tuples(
                f"SELECT {column}, happened_at, kind, body FROM interactions"
                f" WHERE {column} IN ({listed}){extra}"
                " AND happened_at >= :lo AND happened_at <= :hi",
                bounds,
            ):
                key = (column[:-3], int(ref), _second(read_ts(when)), kind, body)
                if key in keys:
                    stored[key] += 1
    if not stored:
        return planned, 0
    kept = []
    for p in planned:
        k = p.key()
        if stored[k] > 0:
            stored[k] -= 1
        else:
            kept.append(p)
    return kept, len(planned) - len(kept)


def _insert_interactions(ctx: Ctx, planned: list[_Interaction], progress: Progress | None) -> None:
    """In file order (an export lists them by id, so a second export keeps the order), then
    the index and the clocks, once per contact and deal rather than once per row."""
    db = ctx.db
    if not planned:
        return
    before = int(db.value("SELECT coalesce(max(id), 0) AS n FROM interactions") or 0)
    now = db.ts(ctx.now)
    for start in range(0, len(planned), BATCH):
        db.insert_many(
            "INSERT INTO interactions (contact_id, company_id, deal_id, kind, body, happened_at,"
            " user_id, created_at) VALUES (:contact, :company, :deal, :kind, :body, :when,"
            " :user, :now)",
            [
                {
                    "contact": p.contact_id,
                    "company": p.company_id,
                    "deal": p.deal_id,
                    "kind": p.row.kind,
                    "body": p.row.body,
                    "when": db.ts(p.row.happened_at),
                    "user": p.user_id,
                    "now": now,
                }
                for p in planned[start : start + BATCH]
            ],
        )
        if progress:
            progress("save", min(start + BATCH, len(planned)), len(planned))
    # every row after `before` (on PostgreSQL maybe also another session's, indexed the same)
    search.index_new(
        db,
        "interaction",
        [
            (str(i), body)
            for i, body in db.tuples(
                "SELECT id, body FROM interactions WHERE id > :before ORDER BY id",
                {"before": before},
            )
        ],
    )
    last_touch: dict[int, datetime] = {}
    deal_at: dict[int, datetime] = {}
    contact_at: dict[int, datetime] = {}
    for p in planned:
        when = p.row.happened_at
        capped = min(when, ctx.now)
        if p.contact_id is not None:
            last_touch[p.contact_id] = max(when, last_touch.get(p.contact_id, when))
            contact_at[p.contact_id] = max(capped, contact_at.get(p.contact_id, capped))
        if p.deal_id is not None:
            deal_at[p.deal_id] = max(capped, deal_at.get(p.deal_id, capped))
    db.insert_many(
        "UPDATE contacts SET last_touch_at = :w WHERE id = :id"
        " AND (last_touch_at IS NULL OR last_touch_at < :w)",
        [{"id": c, "w": db.ts(w)} for c, w in last_touch.items()],
    )
    clocks.refresh_touch(db, sorted(last_touch))
    # the open deals the notes are on, or on whose contact: read once, moved by id (an
    # UPDATE ... WHERE contact_id per contact makes SQLite pick the status index and scan)
    activity: dict[int, datetime] = {}
    for column, latest in (("id", deal_at), ("contact_id", contact_at)):
        for _, listed in id_lists(latest):
            for deal_id, ref, at in db.tuples(
                f"SELECT id, {column}, activity_at FROM deals WHERE {column} IN ({listed})"
                " AND status = 'open'"
            ):
                stored = read_ts(at)
                new = max(latest[int(ref)], activity.get(int(deal_id), latest[int(ref)]))
                if stored is None or stored < new:
                    activity[int(deal_id)] = new
    db.insert_many(
        "UPDATE deals SET activity_at = :at WHERE id = :id",
        [{"id": d, "at": db.ts(at)} for d, at in activity.items()],
    )
    touched = set(activity)
    clocks.refresh_rot(db, sorted(touched))


# -- deals ----------------------------------------------------------------------------------


def _reminder_target(p: _Interaction) -> dict[str, int | None]:
    """A reminder is about one record: the deal, else the person, else the company."""
    if p.deal_id:
        return {"contact": None, "company": None, "deal": p.deal_id}
    if p.contact_id:
        return {"contact": p.contact_id, "company": None, "deal": None}
    return {"contact": None, "company": p.company_id, "deal": None}


def _drop_stored_reminders(db: Db, planned: list[_Interaction]) -> tuple[list[_Interaction], int]:
    """Without the open activities a stored reminder (same text, due time and record)
    accounts for: importing a file twice sets each reminder once."""
    if not planned:
        return planned, 0
    stored: Counter[tuple[Any, ...]] = Counter()
    texts = sorted({p.row.body for p in planned})
    for batch in chunks(texts):
        params = {f"k{i}": k for i, k in enumerate(batch)}
        listed = ",".join(f":{p}" for p in params)
        for contact, company, deal, due, text in db.tuples(
            "SELECT contact_id, company_id, deal_id, due_at, text FROM reminders"
            f" WHERE text IN ({listed})",
            params,
        ):
            stored[(contact, company, deal, _second(read_ts(due)), text)] += 1
    kept = []
    for p in planned:
        t = _reminder_target(p)
        key = (t["contact"], t["company"], t["deal"], _second(p.row.happened_at), p.row.body)
        if stored[key] > 0:
            stored[key] -= 1
        else:
            kept.append(p)
    return kept, len(planned) - len(kept)


def _insert_reminders(ctx: Ctx, planned: list[_Interaction]) -> None:
    """Another CRM's open activities, as `remind` would set them (owner: the row's user)."""
    if not planned:
        return
    db = ctx.db
    now = db.ts(ctx.now)
    db.insert_many(
        "INSERT INTO reminders (contact_id, company_id, deal_id, owner_id, text, due_at,"
        " scheduled_at, snoozed, rrule, recurrence, from_done, created_at, updated_at)"
        " VALUES (:contact, :company, :deal, :owner, :text, :due, :due, 0, NULL, NULL,"
        " :from_done, :now, :now)",
        [
            {
                **_reminder_target(p),
                "owner": p.user_id or ctx.user_id,
                "text": p.row.body,
                "due": db.ts(p.row.happened_at),
                "from_done": False,
                "now": now,
            }
            for p in planned
        ],
    )


def import_deals(
    ctx: Ctx,
    rows: Sequence[DealRow],
    *,
    source: ContactImportSource,
    unreadable: Sequence[RowError] = (),
    skip_bad: bool = False,
    dry_run: bool = False,
    save_rejects: SaveRejects | None = None,
    progress: Progress | None = None,
    stage_map: dict[str, str] | None = None,
    create_stages: bool = False,
) -> RecordImportSummary:
    """Import deals as `export` wrote them, or as another CRM exported them, all or nothing
    (`bulk.Run`), skipping those already stored (see the module docstring). A dry run only
    reads. Stages are found by name (case and accents aside; "Closed Won" and "Closed Lost"
    are the won and lost stages); `stage_map` names the store's stage for another CRM's
    (`{"Appointment scheduled": "Qualified"}`), and `create_stages` adds the stages the
    store lacks (before Won/Lost) instead of refusing the file."""
    db = ctx.db
    run = Run("deals", source.file, skip_bad, dry_run, save_rejects, progress)
    shared: set[LockKey] = set() if create_stages and not dry_run else {"stages"}
    shared.add("custom fields")
    # what the duplicate checks read stays as it is until this lands (and the fields)
    keys: tuple[LockKey, ...] = ("company names", "stages", "deal imports", "custom fields")
    with run.transaction(db, *keys, shared=shared):
        run.step("check", 0, len(rows))
        found = _find(
            db,
            [x for r in rows for x in (r.contact, r.contact_name) if x],
            {r.owner for r in rows if r.owner},
            {r.company for r in rows if r.company},
            [(x, r.company) for r in rows if r.company for x in (r.contact, r.contact_name) if x],
        )
        stages, created = _stages_for(
            ctx, rows, source.file, stage_map or {}, create_stages, dry_run
        )
        names = ", ".join(str(s["name"]) for s in stages.values() if s["id"] is not None)
        good: list[tuple[DealRow, int | None, int | None, dict[str, Any]]] = []
        errors = list(unreadable)
        custom = custom_columns(db, "deal", (r.extra for r in rows), source)
        values: dict[int, list[tuple[int, fields.Stored]]] = {}  # by row line
        for r in rows:
            contact = _contact_of(found, r.contact, r.contact_name, r.company)
            owner = _user_of(ctx, found, r.owner, r.owner_given, "owner")
            stage = stages.get(fold(r.stage))
            if r.status in ("won", "lost") and (stage is None or stage["outcome"] == "open"):
                # Pipedrive keeps a won deal in its last open stage, Salesforce names its
                # own closed stages: the status says where
                stage = stages.get(f"\x00{r.status}", stage)
            problem: RowError | None = next(
                (p for p in (contact, owner) if isinstance(p, RowError)), None
            )
            if problem is not None:
                errors.append(_at(r.line, problem))
            elif stage is None:
                errors.append(
                    RowError(
                        r.line, "stage", f"no stage named {quoted(r.stage)}: use one of {names}"
                    )
                )
            else:
                outcome = str(stage["outcome"])
                wrong = _deal_problem(r, outcome, str(stage["name"]))
                if wrong is not None:
                    errors.append(RowError(r.line, *wrong))
                else:
                    assert not isinstance(contact, RowError) and not isinstance(owner, RowError)
                    try:
                        values[r.line] = [
                            (f.id, fields.read_value(ctx, f, text))
                            for col, text in r.extra.items()
                            if (f := custom.get(col)) is not None and text
                        ]
                    except InvalidInput as e:
                        errors.append(RowError(r.line, None, str(e)))
                        continue
                    good.append((r, contact, owner, stage))
        run.checked(errors)
        good, duplicates = _drop_stored_deals(db, good)
        new_companies = _plan_companies(found, (g[0].company for g in good))
        company_of = _company_ids(ctx, found, new_companies, dry_run)
        run.step("check", len(rows), len(rows))
        if not dry_run:
            _insert_deals(ctx, good, company_of, progress, values)
        return _finish(
            ctx,
            run,
            source,
            rows=len(rows) + len(unreadable),
            imported=len(good),
            duplicates=duplicates,
            errors=errors,
            new_companies=new_companies,
            stages_created=created,
        )


#: Other CRMs' names for the won and lost stages (folded), when the store has no stage so named.
WON_NAMES = ("closed won", "closedwon", "won", "gewonnen", "abgeschlossen gewonnen")
LOST_NAMES = ("closed lost", "closedlost", "lost", "verloren", "abgeschlossen verloren")


def _stages_for(
    ctx: Ctx,
    rows: Sequence[DealRow],
    file: str,
    stage_map: dict[str, str],
    create: bool,
    dry_run: bool,
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """fold(stage name in the file) -> the stage row, and the stages created. Unknown
    stages are one error listing them all, with the --stage-map to write."""
    db = ctx.db
    rows_of = db.all("SELECT id, name, outcome, probability FROM stages ORDER BY position, id")
    by_name = {fold(str(s["name"])): s for s in rows_of}
    out: dict[str, dict[str, Any]] = dict(by_name)
    for outcome, words in (("won", WON_NAMES), ("lost", LOST_NAMES)):
        first = next((s for s in rows_of if s["outcome"] == outcome), None)
        if first is not None:
            out[f"\x00{outcome}"] = first  # where a won or lost status goes
            for w in words:
                out.setdefault(w, first)
    for their, ours in stage_map.items():
        target = by_name.get(fold(ours))
        if target is None:
            names = ", ".join(str(s["name"]) for s in rows_of)
            raise InvalidInput(f"--stage-map: no stage named {ours!r} (stages: {names})")
        out[fold(their)] = target
    unknown: dict[str, tuple[str, int]] = {}
    for r in rows:
        # a won or lost deal needs no open stage of ours, unless the stages are being made
        if fold(r.stage) not in out and (create or r.status not in ("won", "lost")):
            unknown.setdefault(fold(r.stage), (r.stage, r.line))
    if not unknown:
        return out, []
    if not create:
        listed = ", ".join(f"{name!r} (line {line})" for name, line in unknown.values())
        open_stages = [str(s["name"]) for s in rows_of if s["outcome"] == "open"]
        example = ",".join(
            f"{name}={open_stages[min(i, len(open_stages) - 1)]}"
            for i, (name, _) in enumerate(unknown.values())
        )
        raise InvalidInput(
            f"{file}: {len(unknown)} stage{'s' if len(unknown) > 1 else ''} the store doesn't"
            f' have: {listed}. Say which of yours each is: --stage-map "{example}"'
            f" (stages: {', '.join(str(s['name']) for s in rows_of)}), or add them with"
            " --create-stages"
        )
    from tinycrm.services import deals

    open_rows = [s for s in rows_of if s["outcome"] == "open"]
    probability = int(open_rows[-1]["probability"]) if open_rows else 50
    created: list[str] = []
    for key, (name, _) in unknown.items():
        if dry_run:
            out[key] = {"id": None, "name": name, "outcome": "open", "probability": probability}
        else:
            added = deals.add_stage(ctx, name, probability=probability)
            out[key] = {"id": added.id, "name": added.name, "outcome": "open"}
        created.append(name)
    return out, created


def _deal_problem(r: DealRow, outcome: str, stage: str) -> tuple[str, str] | None:
    if r.status is not None and r.status != outcome:
        return "status", f"{quoted(r.status)}, but stage {stage!r} means {outcome}"
    if r.probability is not None and not 0 <= r.probability <= 100:
        return "probability", f"must be between 0 and 100: {r.probability}"
    if outcome == "lost" and not r.lost_reason:
        return "lost_reason", "a lost deal needs one"
    if outcome != "lost" and r.lost_reason:
        return "lost_reason", f"only a lost deal has one (this one is {outcome})"
    if outcome == "open" and r.closed_at is not None:
        return "closed_at", "an open deal isn't closed"
    return None


def _drop_stored_deals(
    db: Db, good: list[tuple[DealRow, int | None, int | None, dict[str, Any]]]
) -> tuple[list[tuple[DealRow, int | None, int | None, dict[str, Any]]], int]:
    """Without the rows a stored deal accounts for (same title, contact and created time; a
    row without created_at: same title and contact)."""
    stored: Counter[tuple[Any, ...]] = Counter()
    loose: Counter[tuple[Any, ...]] = Counter()
    for batch in chunks(sorted({fold(g[0].title) for g in good})):
        params = {f"k{i}": k for i, k in enumerate(batch)}
        listed = ",".join(f":{p}" for p in params)
        for key, contact_id, created in db.tuples(
            f"SELECT title_key, contact_id, created_at FROM deals WHERE title_key IN ({listed})",
            params,
        ):
            stored[(key, contact_id, _second(read_ts(created)))] += 1
            loose[(key, contact_id)] += 1
    if not stored:
        return good, 0
    kept = []
    for g in good:
        r, contact_id = g[0], g[1]
        strict = (fold(r.title), contact_id, _second(r.created_at))
        if r.created_at is not None and stored[strict] > 0:
            stored[strict] -= 1
        elif r.created_at is None and loose[strict[:2]] > 0:
            loose[strict[:2]] -= 1
        else:
            kept.append(g)
    return kept, len(good) - len(kept)


def _insert_deals(
    ctx: Ctx,
    good: list[tuple[DealRow, int | None, int | None, dict[str, Any]]],
    company_of: dict[str, int],
    progress: Progress | None,
    values: dict[int, list[tuple[int, fields.Stored]]] | None = None,
) -> None:
    db = ctx.db
    now = db.ts(ctx.now)
    docs: list[tuple[str, str | None, str | None]] = []
    changes: list[dict[str, Any]] = []
    latest = _latest_interactions(db, {g[1] for g in good if g[1] is not None})
    for n, (r, contact_id, owner_id, stage) in enumerate(good, start=1):
        created = min(r.created_at or ctx.now, ctx.now)
        closed = None
        if stage["outcome"] != "open":
            closed = r.closed_at or created
        entered = closed or created
        # the contact's latest interaction counts as activity, as a note logged now would
        activity = entered
        if closed is None and contact_id in latest:
            activity = max(entered, min(latest[contact_id], ctx.now))
        deal_id = db.insert(
            "INSERT INTO deals (title, title_key, contact_id, company_id, value_cents, currency,"
            " stage_id, owner_id, probability, expected_close, status, lost_reason, closed_at,"
            " stage_entered_at, activity_at, created_at, updated_at, version, won_by) VALUES"
            " (:title, :key, :contact, :company, :value, :cur, :stage, :owner, :prob, :close,"
            " :status, :reason, :closed, :entered, :activity, :created, :now, 1, :won_by)"
            " RETURNING id",
            {
                "title": r.title,
                "key": fold(r.title),
                "contact": contact_id,
                "company": company_of[fold(r.company)] if r.company else None,
                "value": r.value_cents,
                "cur": r.currency,
                "stage": stage["id"],
                "owner": owner_id,
                "won_by": owner_id if stage["outcome"] == "won" else None,
                "prob": r.probability,
                "close": db.day(r.expected_close),
                "status": stage["outcome"],
                "reason": r.lost_reason,
                "closed": db.ts(closed),
                "entered": db.ts(entered),
                "activity": db.ts(activity),
                "created": db.ts(created),
                "now": now,
            },
        )
        docs.append((str(deal_id), r.title, r.lost_reason))
        changes.append({"d": deal_id, "s": stage["id"], "at": db.ts(entered), "u": ctx.user_id})
        if progress and n % 1000 == 0:
            progress("save", n, len(good))
    db.insert_many(
        "INSERT INTO stage_changes (deal_id, from_stage_id, to_stage_id, changed_at, user_id)"
        " VALUES (:d, NULL, :s, :at, :u)",
        changes,
    )
    search.index_new(db, "deal", docs)
    ids = [int(d[0]) for d in docs]
    fields.insert_values(
        db,
        "deal",
        [
            (i, fid, v)
            for i, g in zip(ids, good, strict=True)
            for fid, v in (values or {}).get(g[0].line, [])
        ],
    )
    clocks.refresh_rot(db, ids)
    if progress:
        progress("save", len(good), len(good))


def _latest_interactions(db: Db, contact_ids: set[int]) -> dict[int, datetime]:
    out: dict[int, datetime] = {}
    for _, listed in id_lists(contact_ids):
        for cid, when in db.tuples(
            "SELECT contact_id, max(happened_at) FROM interactions"
            f" WHERE contact_id IN ({listed}) GROUP BY contact_id"
        ):
            at = read_ts(when)
            if at is not None:
                out[int(cid)] = at
    return out
