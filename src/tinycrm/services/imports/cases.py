"""Importing service cases: what `tinycrm export cases` wrote, read back into a store (the
reader is `tinycrm.io.record_files.read_cases`; `bulk` runs it all or nothing).

- A row's contact is found as `import interactions` finds it: by `contact` (an email or
  id, else an exact name), else by `contact_name`; never created (import contacts first).
  `owner` must be a user of the store (empty: nobody); a note's `user` too (empty or
  unknown: nobody, as a note whose author left).
- `priority` and `status` are checked as `case add/edit` checks them, `satisfaction` is 1
  to 5, and a closed case needs its `solution`; times are kept as exported (the SLA clock,
  `sla_due_at`, is computed again from them in the same transaction).
- Duplicates are skipped and counted: a case with the same contact, title and opening
  time (to the second) as a stored one, or as an earlier row of the file.
- Notes: each note is an interaction of the case's contact. One the store already holds
  (same contact, time to the second and text, not yet on a case) is linked, so importing
  `export interactions` first and `export cases` after doesn't log notes twice; the
  others are logged as notes, with the index and stay-in-touch clocks kept as
  `import interactions` keeps them.
- The knowledge base: each case's title, body and solution go into the search index, as
  `case add` and `case close` put them there.

One transaction and one audit entry for the run.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tinycrm.services import cases, search
from tinycrm.services.context import Ctx
from tinycrm.services.imports.bulk import (
    SHOWN,
    Progress,
    RowError,
    Run,
    SaveRejects,
    id_lists,
    quoted,
    resolve_refs,
)
from tinycrm.services.imports.contacts import ContactImportSource
from tinycrm.services.imports.records import RecordImportSummary, log_notes
from tinycrm.services.sla import PRIORITIES
from tinycrm.store.db import Db, read_ts


@dataclass(slots=True)
class CaseNoteRow:
    at: datetime
    user: str | None
    body: str


@dataclass(slots=True)
class CaseRow:
    """One readable row of a cases file; `line` is where it starts in the file."""

    line: int
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
    notes: list[CaseNoteRow] = field(default_factory=list)


def parse_notes(text: str | None) -> list[CaseNoteRow]:
    """A case's `notes` cell: the export's JSON array of {at, user, body}; ValueError
    saying what is wrong otherwise."""
    if text is None or not text.strip():
        return []
    try:
        items = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"not a JSON list of notes ({e.msg} at character {e.pos + 1})") from None
    if not isinstance(items, list):
        raise ValueError("not a JSON list of notes")
    out = []
    for n, item in enumerate(items, 1):
        if not isinstance(item, dict) or not isinstance(item.get("body"), str):
            raise ValueError(f"note {n} has no body")
        try:
            at = datetime.fromisoformat(str(item.get("at")).replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"note {n}: 'at' is not a time like 2026-11-23T09:00:00Z") from None
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        user = item.get("user")
        out.append(CaseNoteRow(at, str(user) if user else None, item["body"]))
    return out


def _second(t: datetime | None) -> datetime | None:
    return None if t is None else t.replace(microsecond=0)


def _problem(r: CaseRow) -> tuple[str, str] | None:
    """What is wrong with a row's own values, as (field, why)."""
    if r.priority not in PRIORITIES:
        return "priority", f"must be one of {', '.join(PRIORITIES)}: {quoted(r.priority)}"
    if r.status not in cases.STATUSES:
        return "status", f"must be one of {', '.join(cases.STATUSES)}: {quoted(r.status)}"
    if r.satisfaction is not None and not 1 <= r.satisfaction <= 5:
        return "satisfaction", f"must be 1 to 5: {r.satisfaction}"
    if r.status == "closed" and not r.solution:
        return "solution", "a closed case needs its solution"
    return None


def _users(db: Db) -> dict[str, int]:
    return {str(name): int(i) for i, name in db.tuples("SELECT id, name FROM users")}


def _stored(db: Db, contact_ids: set[int]) -> set[tuple[int, str, datetime | None]]:
    out = set()
    for _, listed in id_lists(contact_ids):
        for cid, title, created in db.tuples(
            f"SELECT contact_id, title, created_at FROM cases WHERE contact_id IN ({listed})"
        ):
            out.add((int(cid), str(title), _second(read_ts(created))))
    return out


def import_cases(
    ctx: Ctx,
    rows: Sequence[CaseRow],
    *,
    source: ContactImportSource,
    unreadable: Sequence[RowError] = (),
    skip_bad: bool = False,
    dry_run: bool = False,
    save_rejects: SaveRejects | None = None,
    progress: Progress | None = None,
) -> RecordImportSummary:
    """Import cases as `export cases` wrote them, all or nothing (`bulk.Run`), skipping
    those already stored (see the module docstring). A dry run only reads."""
    db = ctx.db
    run = Run("cases", source.file, skip_bad, dry_run, save_rejects, progress)
    with run.transaction(db, "case imports"):
        run.step("check", 0, len(rows))
        refs = resolve_refs(
            db,
            list(dict.fromkeys(x for r in rows for x in (r.contact, r.contact_name) if x)),
            create_missing=False,
        )
        users = _users(db)
        errors = list(unreadable)
        good: list[tuple[CaseRow, int, int | None]] = []
        for r in rows:
            contact = next(
                (refs.ids[x] for x in (r.contact, r.contact_name) if x in refs.ids), None
            )
            wrong = _problem(r)
            if contact is None:
                ref = r.contact or r.contact_name or ""
                why = refs.errors.get(ref, "no contact matches").replace(
                    " (--create-missing adds it)", " (import contacts first)"
                )
                errors.append(
                    RowError(r.line, "contact" if r.contact else "contact_name", why)
                    if ref
                    else RowError(r.line, "contact", "empty")
                )
            elif r.owner and r.owner not in users:
                errors.append(
                    RowError(
                        r.line, "owner", f"no user called {quoted(r.owner)}; see tinycrm user list"
                    )
                )
            elif wrong is not None:
                errors.append(RowError(r.line, *wrong))
            else:
                good.append((r, contact, users[r.owner] if r.owner else None))
        run.checked(errors)
        stored = _stored(db, {c for _, c, _ in good})
        kept: list[tuple[CaseRow, int, int | None]] = []
        for g in good:
            key = (g[1], g[0].title, _second(g[0].created_at or ctx.now))
            if key not in stored:
                stored.add(key)
                kept.append(g)
        duplicates = len(good) - len(kept)
        run.step("check", len(rows), len(rows))
        if not dry_run:
            _insert(ctx, kept, users, progress)
        counts: dict[str, Any] = {
            "rows": len(rows) + len(unreadable),
            "imported": len(kept),
            "duplicates": duplicates,
            "rejected": len(errors),
        }
        rejects_file = run.finish(ctx, errors, counts)
        return RecordImportSummary(
            what="cases",
            source=source,
            dry_run=dry_run,
            rows=counts["rows"],
            imported=len(kept),
            duplicates=duplicates,
            rejected=len(errors),
            rejects_file=rejects_file,
            companies_created=[],
            errors=errors[:SHOWN],
        )


def _insert(
    ctx: Ctx,
    planned: list[tuple[CaseRow, int, int | None]],
    users: dict[str, int],
    progress: Progress | None,
) -> None:
    db = ctx.db
    ids: list[int] = []
    for n, (r, contact, owner) in enumerate(planned, 1):
        created = r.created_at or ctx.now
        ids.append(
            db.insert(
                "INSERT INTO cases (contact_id, title, body, priority, status, owner_id, due_at,"
                " waiting_since, paused_minutes, first_response_at, resolved_at, closed_at,"
                " solution, satisfaction, created_at, updated_at, version) VALUES (:contact,"
                " :title, :body, :priority, :status, :owner, :due, :waiting, :paused, :first,"
                " :resolved, :closed, :solution, :satisfaction, :created, :now, 1) RETURNING id",
                {
                    "contact": contact,
                    "title": r.title,
                    "body": r.body,
                    "priority": r.priority,
                    "status": r.status,
                    "owner": owner,
                    "due": _ts(db, r.due_at),
                    "waiting": _ts(db, r.waiting_since),
                    "paused": r.paused_minutes,
                    "first": _ts(db, r.first_response_at),
                    "resolved": _ts(db, r.resolved_at),
                    "closed": _ts(db, r.closed_at),
                    "solution": r.solution,
                    "satisfaction": r.satisfaction,
                    "created": db.ts(created),
                    "now": db.ts(ctx.now),
                },
            )
        )
        if progress and n % 1000 == 0:
            progress("save", n, len(planned))
    notes = [
        (case_id, contact, note.at, note.body, users.get(note.user or ""))
        for case_id, (r, contact, _owner) in zip(ids, planned, strict=True)
        for note in r.notes
    ]
    interaction_ids = log_notes(ctx, [(c, at, body, user) for _, c, at, body, user in notes])
    db.insert_many(
        "INSERT INTO case_notes (case_id, interaction_id) VALUES (:c, :i)",
        [{"c": n[0], "i": i} for n, i in zip(notes, interaction_ids, strict=True)],
    )
    # the knowledge base: title, body and solution, as search.reindex writes a case's
    search.index_new(
        db,
        "case",
        [
            (str(i), r.title, r.body, r.solution)
            for i, (r, _c, _o) in zip(ids, planned, strict=True)
        ],
    )
    cases.refresh_clocks(db, ctx.tz, ids)


def _ts(db: Db, t: datetime | None) -> Any:
    return None if t is None else db.ts(t)
