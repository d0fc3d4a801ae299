"""Service cases: a customer's request about one contact, with SLA clocks that escalate.

A case is open, waiting (on the customer: its SLA clock pauses), resolved or closed (with a
solution, and maybe a satisfaction score 1-5). Its clock, `sla_due_at`, is derived here in
the same transaction as every change that moves it (tinycrm.services.sla.clock_due): the
first unmet target of its priority (first response, then resolution) in the owner's
working hours and time zone, plus the working time it spent waiting or resolved, or its
own due time if that is earlier; NULL while it isn't open.

Escalation is read, not stored: a case overdue by more than `escalate_after` days is with
the owner's lead (level 1); overdue by more than twice that, with the lead's lead
(level 2), and so on up the chain of leads (`users.lead_id`); past the top it stays with
the last lead. Only the user it is escalated to now sees it as escalated (`next`, the
digest, `case list --escalated`). Any note logged on the case is its first response, which
moves the clock on to the resolution target.

The knowledge base: every case's title, body and solution are in the search index (kind
`case`, written in the transaction of each change to them), and `similar_cases` lists the
past cases whose wording is nearest a case's, with their solutions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from tinycrm.errors import InvalidInput, NotFound
from tinycrm.refs import Target, hold, resolve
from tinycrm.services import audit, interactions, search, sla, team_settings
from tinycrm.services.context import Ctx
from tinycrm.services.sla import check_priority
from tinycrm.services.validation import check_text
from tinycrm.store.db import Db, LockMode, read_ts
from tinycrm.worktime import Hours, working_between

STATUSES = ("open", "waiting", "resolved", "closed")
RUNNING = ("open",)  # statuses whose SLA clock runs
OPEN = ("open", "waiting")  # `case list --open`


@dataclass
class CaseNote:
    interaction_id: int
    body: str
    happened_at: datetime
    user: str | None


@dataclass
class CaseView:
    id: int
    contact_id: int
    contact: str
    title: str
    body: str | None
    priority: str
    status: str
    owner: str | None
    due_at: datetime | None
    sla_due_at: datetime | None  # when it is next overdue; None unless open
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    solution: str | None
    satisfaction: int | None
    created_at: datetime
    updated_at: datetime
    version: int
    overdue: bool = False
    escalation: int = 0  # 0, or how many leads up the chain it has gone
    escalated_to: str | None = None
    notes: list[CaseNote] = field(default_factory=list)


_SELECT = (
    "SELECT k.id, k.contact_id, c.name AS contact, k.title, k.body, k.priority, k.status,"
    " k.owner_id, u.name AS owner, k.due_at, k.sla_due_at, k.waiting_since, k.paused_minutes,"
    " k.first_response_at, k.resolved_at, k.closed_at, k.solution, k.satisfaction,"
    " k.created_at, k.updated_at, k.version"
    " FROM cases k JOIN contacts c ON c.id = k.contact_id LEFT JOIN users u ON u.id = k.owner_id"
)


# -- the team's leads ------------------------------------------------------------------------
@dataclass(frozen=True)
class _Team:
    names: dict[int, str]
    leads: dict[int, int | None]
    zones: dict[int, str | None]

    def chain(self, user_id: int | None) -> list[int]:
        """The user's lead, their lead, ... (stopping at a loop, which users.py refuses)."""
        out: list[int] = []
        at = self.leads.get(user_id) if user_id is not None else None
        while at is not None and at not in out and at != user_id:
            out.append(at)
            at = self.leads.get(at)
        return out


def _team(db: Db) -> _Team:
    rows = db.all("SELECT id, name, lead_id, timezone FROM users")
    return _Team(
        {r["id"]: r["name"] for r in rows},
        {r["id"]: r["lead_id"] for r in rows},
        {r["id"]: r["timezone"] for r in rows},
    )


def _escalate_after(ctx: Ctx) -> timedelta:
    return timedelta(days=ctx.escalate_after)


def _view(ctx: Ctx, r: dict[str, Any], team: _Team, as_of: datetime) -> CaseView:
    sla_due = read_ts(r["sla_due_at"])
    created, updated = read_ts(r["created_at"]), read_ts(r["updated_at"])
    assert created is not None and updated is not None
    v = CaseView(
        id=r["id"],
        contact_id=r["contact_id"],
        contact=r["contact"],
        title=r["title"],
        body=r["body"],
        priority=r["priority"],
        status=r["status"],
        owner=r["owner"],
        due_at=read_ts(r["due_at"]),
        sla_due_at=sla_due,
        first_response_at=read_ts(r["first_response_at"]),
        resolved_at=read_ts(r["resolved_at"]),
        closed_at=read_ts(r["closed_at"]),
        solution=r["solution"],
        satisfaction=r["satisfaction"],
        created_at=created,
        updated_at=updated,
        version=int(r["version"]),
        overdue=sla_due is not None and sla_due < as_of,
    )
    if sla_due is not None and v.overdue:
        chain = team.chain(r["owner_id"])
        late, step, level = as_of - sla_due, _escalate_after(ctx), 0
        while level < len(chain) and late > step * (level + 1):
            level += 1
        if level:
            v.escalation, v.escalated_to = level, team.names[chain[level - 1]]
    return v


def _row(db: Db, case_id: int) -> dict[str, Any]:
    row = db.one(_SELECT + " WHERE k.id = :id", {"id": case_id})
    if row is None:
        raise NotFound(f"no case with id {case_id}")
    return row


def get_case(ctx: Ctx, case_id: int, *, as_of: datetime | None = None) -> CaseView:
    """One case with its notes; NotFound if there is none with that id."""
    db = ctx.db
    with db.read():
        v = _view(ctx, _row(db, case_id), _team(db), as_of or ctx.now)
        notes = db.all(
            "SELECT i.id, i.body, i.happened_at, u.name AS user FROM case_notes n"
            " JOIN interactions i ON i.id = n.interaction_id"
            " LEFT JOIN users u ON u.id = i.user_id WHERE n.case_id = :id"
            " ORDER BY i.happened_at, i.id",
            {"id": case_id},
        )
    for n in notes:
        at = read_ts(n["happened_at"])
        assert at is not None
        v.notes.append(CaseNote(n["id"], n["body"], at, n["user"]))
    return v


# -- the SLA clock ---------------------------------------------------------------------------
def _zone(fallback: tzinfo, team: _Team, owner_id: int | None) -> tzinfo:
    name = team.zones.get(owner_id) if owner_id is not None else None
    return ZoneInfo(name) if name else fallback


def _clock(db: Db, tz: tzinfo, r: dict[str, Any], team: _Team, hours: Hours) -> datetime | None:
    if r["status"] not in RUNNING:
        return None
    created = read_ts(r["created_at"])
    assert created is not None
    return sla.clock_due(
        hours,
        _zone(tz, team, r["owner_id"]),
        sla.get_target(db, r["priority"]),
        created_at=created,
        first_response_at=read_ts(r["first_response_at"]),
        paused=timedelta(minutes=int(r["paused_minutes"])),
        due_at=read_ts(r["due_at"]),
    )


def clock_rows(
    db: Db, tz: tzinfo, lo: int, hi: int
) -> list[tuple[int, datetime | None, datetime | None]]:
    """(id, stored, expected) SLA clocks of the cases with lo < id <= hi, for `doctor`;
    owners without a time zone count in `tz`, as a command of that user would."""
    team, hours = _team(db), team_settings.working_hours(db)
    rows = db.all(_SELECT + " WHERE k.id > :lo AND k.id <= :hi ORDER BY k.id", {"lo": lo, "hi": hi})
    return [(r["id"], read_ts(r["sla_due_at"]), _clock(db, tz, r, team, hours)) for r in rows]


def refresh_clocks(db: Db, tz: tzinfo, case_ids: Iterable[int]) -> None:
    """Recompute these cases' SLA clocks from their rows (in the caller's transaction); an
    id with no case any more (an undo took it back) is passed over."""
    team, hours = _team(db), team_settings.working_hours(db)
    for case_id in case_ids:
        r = db.one(_SELECT + " WHERE k.id = :id", {"id": case_id})
        if r is None:
            continue
        due = _clock(db, tz, r, team, hours)
        if read_ts(r["sla_due_at"]) != due:
            db.execute(
                "UPDATE cases SET sla_due_at = :due WHERE id = :id",
                {"due": db.ts(due) if due else None, "id": case_id},
            )


def _refresh(ctx: Ctx, case_ids: Iterable[int]) -> None:
    refresh_clocks(ctx.db, ctx.tz, case_ids)


def _paused_now(ctx: Ctx, r: dict[str, Any], since: datetime | None) -> int:
    """The case's paused minutes plus the working time from `since` to now (rounded up)."""
    paused = int(r["paused_minutes"])
    if since is None:
        return paused
    team = _team(ctx.db)
    spent = working_between(
        team_settings.working_hours(ctx.db), _zone(ctx.tz, team, r["owner_id"]), since, ctx.now
    )
    return paused + -(-spent // timedelta(minutes=1))


# -- checks -----------------------------------------------------------------------------------
def check_status(text: str) -> str:
    """A case status as typed, checked (InvalidInput names the statuses)."""
    s = text.strip().lower()
    if s not in STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(STATUSES)}: {text!r}")
    return s


def check_satisfaction(score: int) -> int:
    """A satisfaction score, 1 to 5."""
    if not 1 <= score <= 5:
        raise InvalidInput(f"satisfaction must be 1 to 5: {score}")
    return score


def _title(text: str) -> str:
    title = " ".join((check_text(text, "case title") or "").split())
    if not title:
        raise InvalidInput("case title can't be empty")
    return title


def _owner_id(db: Db, name: str) -> int:
    found = db.value("SELECT id FROM users WHERE name = :n", {"n": name.strip()})
    if found is None:
        names = ", ".join(r["name"] for r in db.all("SELECT name FROM users ORDER BY name"))
        raise InvalidInput(f"no user called {name!r} (users: {names or 'none yet'})")
    return int(found)


def _fields(v: CaseView) -> dict[str, Any]:
    return {
        "title": v.title,
        "body": v.body,
        "priority": v.priority,
        "status": v.status,
        "owner": v.owner,
        "due_at": v.due_at,
        "contact": v.contact,
        "solution": v.solution,
        "satisfaction": v.satisfaction,
    }


# -- writing ----------------------------------------------------------------------------------
def add_case(
    ctx: Ctx,
    contact: Target | str,
    title: str,
    *,
    priority: str = "normal",
    body: str | None = None,
    due: datetime | None = None,
    owner: str | None = None,
) -> CaseView:
    """Open a case about a contact (`contact`: what the user typed, resolved in the same
    transaction), owned by `owner` or the current user."""
    the_title = _title(title)
    the_priority = check_priority(priority)
    the_body = check_text(body, "case body") if body else None
    db = ctx.db
    with db.write():
        target = resolve(db, contact) if isinstance(contact, str) else contact
        owner_id = _owner_id(db, owner) if owner is not None else ctx.user_id
        hold(db, "contact", target.id)
        new_id = db.insert(
            "INSERT INTO cases (contact_id, title, body, priority, status, owner_id, due_at,"
            " paused_minutes, created_at, updated_at, version)"
            " VALUES (:contact, :title, :body, :priority, 'open', :owner, :due, 0, :now, :now, 1)"
            " RETURNING id",
            {
                "contact": target.id,
                "title": the_title,
                "body": the_body or None,
                "priority": the_priority,
                "owner": owner_id,
                "due": db.ts(due) if due else None,
                "now": db.ts(ctx.now),
            },
        )
        _refresh(ctx, [new_id])
        search.reindex(db, "case", new_id)
        view = get_case(ctx, new_id)
        audit.record(ctx, "case", new_id, "add", audit.added(_fields(view)))
        return view


def _lock_contact(db: Db, case_id: int, mode: LockMode = "keep") -> None:
    """Parents before children: lock the case's contact before the case. A case updated
    twice in one transaction has its foreign key checked on the second update (PostgreSQL
    checks a row version its own transaction wrote), which waits for a `contact rm` that
    is waiting for the case: a deadlock, unless the contact was locked first."""
    contact_id = db.value("SELECT contact_id FROM cases WHERE id = :id", {"id": case_id})
    if contact_id is None:
        raise NotFound(f"no case with id {case_id}")
    db.lock("contacts", int(contact_id), mode)


def _locked(
    ctx: Ctx, case_id: int, expected_version: int | None
) -> tuple[dict[str, Any], CaseView]:
    db = ctx.db
    _lock_contact(db, case_id)
    db.lock("cases", case_id, "change")
    row = _row(db, case_id)
    if expected_version is not None and int(row["version"]) != expected_version:
        raise audit.stale(ctx, "case", case_id, row["title"], expected_version, int(row["version"]))
    return row, _view(ctx, row, _team(db), ctx.now)


def _update(ctx: Ctx, case_id: int, old: CaseView, sets: dict[str, Any], action: str) -> CaseView:
    db = ctx.db
    assigns = ", ".join(f"{k} = :{k}" for k in sets)
    db.execute(
        f"UPDATE cases SET {assigns}, updated_at = :now, version = version + 1 WHERE id = :id",
        {**sets, "now": db.ts(ctx.now), "id": case_id},
    )
    _refresh(ctx, [case_id])
    if sets.keys() & {"title", "body", "solution"}:
        search.reindex(db, "case", case_id)
    new = get_case(ctx, case_id)
    audit.record(ctx, "case", case_id, action, audit.diff(_fields(old), _fields(new)))
    return new


def _status_change(ctx: Ctx, row: dict[str, Any], status: str) -> dict[str, Any]:
    """The columns a move from the row's status to `status` sets (the clock's pauses)."""
    db = ctx.db
    old = row["status"]
    if status == old:
        return {}
    sets: dict[str, Any] = {"status": status}
    # leaving a paused status: the time it was paused doesn't count against the SLA
    if old == "waiting":
        sets["paused_minutes"] = _paused_now(ctx, row, read_ts(row["waiting_since"]))
        sets["waiting_since"] = None
    elif old in ("resolved", "closed"):
        sets["paused_minutes"] = _paused_now(ctx, row, read_ts(row["resolved_at"]))
        sets["resolved_at"] = None
        sets["closed_at"] = None
    if status == "waiting":
        sets["waiting_since"] = db.ts(ctx.now)
        if row["first_response_at"] is None:  # asking the customer is a response
            sets["first_response_at"] = db.ts(ctx.now)
    elif status in ("resolved", "closed"):
        sets["resolved_at"] = db.ts(ctx.now)
        if status == "closed":
            sets["closed_at"] = db.ts(ctx.now)
    return sets


def edit_case(
    ctx: Ctx,
    case_id: int,
    *,
    title: str | None = None,
    body: str | None = None,
    priority: str | None = None,
    status: str | None = None,
    due: datetime | None = None,
    clear_due: bool = False,
    expected_version: int | None = None,
) -> CaseView:
    """Change the given fields ('' clears the body); `status` moves between open, waiting
    (the SLA clock pauses) and resolved. With `expected_version`, a case changed since the
    caller read it is refused (Conflict)."""
    sets: dict[str, Any] = {}
    if title is not None:
        sets["title"] = _title(title)
    if body is not None:
        sets["body"] = check_text(body, "case body") or None
    if priority is not None:
        sets["priority"] = check_priority(priority)
    new_status = check_status(status) if status is not None else None
    if new_status == "closed":
        raise InvalidInput("close a case with: tinycrm case close ID --solution TEXT")
    if due is not None or clear_due:
        sets["due_at"] = ctx.db.ts(due) if due is not None else None
    if not sets and new_status is None:
        raise InvalidInput("nothing to change: give --title, --body, --priority, --status or --due")
    with ctx.db.write():
        row, old = _locked(ctx, case_id, expected_version)
        if new_status is not None:
            if old.status == "closed":
                raise InvalidInput(
                    f"case {case_id} is closed; reopen it first: tinycrm case reopen {case_id}"
                )
            sets |= _status_change(ctx, row, new_status)
        return _update(ctx, case_id, old, sets, "edit")


def assign_case(
    ctx: Ctx, case_id: int, user: str, *, expected_version: int | None = None
) -> CaseView:
    """Give the case to another user (its clock moves to their time zone)."""
    db = ctx.db
    with db.write():
        db.lock_key("users")
        owner_id = _owner_id(db, user)
        _row_, old = _locked(ctx, case_id, expected_version)
        return _update(ctx, case_id, old, {"owner_id": owner_id}, "assign")


def close_case(
    ctx: Ctx,
    case_id: int,
    solution: str,
    *,
    satisfaction: int | None = None,
    expected_version: int | None = None,
) -> CaseView:
    """Close a case with its solution (required) and the customer's satisfaction (1-5)."""
    text = check_text(solution, "solution")
    if not text:
        raise InvalidInput("a case is closed with a solution: give --solution TEXT")
    score = check_satisfaction(satisfaction) if satisfaction is not None else None
    with ctx.db.write():
        row, old = _locked(ctx, case_id, expected_version)
        if old.status == "closed":
            raise InvalidInput(f"case {case_id} is already closed")
        sets = _status_change(ctx, row, "closed")
        if old.status == "resolved":  # resolved earlier: that is when it was resolved
            sets.pop("paused_minutes", None)
            sets["resolved_at"] = row["resolved_at"]
        sets |= {"solution": text, "satisfaction": score}
        return _update(ctx, case_id, old, sets, "close")


def reopen_case(ctx: Ctx, case_id: int, *, expected_version: int | None = None) -> CaseView:
    """Open a resolved or closed case again; its clock goes on where it stopped."""
    with ctx.db.write():
        row, old = _locked(ctx, case_id, expected_version)
        if old.status not in ("resolved", "closed"):
            raise InvalidInput(f"case {case_id} is {old.status}, not resolved or closed")
        return _update(ctx, case_id, old, _status_change(ctx, row, "open"), "reopen")


def note_case(ctx: Ctx, case_id: int, text: str) -> CaseView:
    """Log a note on the case: on the contact's timeline too, and the case's first response
    if it had none."""
    db = ctx.db
    with db.write():
        # the contact as the note's clock refresh will lock it ("change"), not only held:
        # taking the stronger lock later, after waiting for the case, could deadlock
        _lock_contact(db, case_id, "change")
        db.lock("cases", case_id, "change")
        row = _row(db, case_id)
        logged = interactions.log_interaction(
            ctx, Target("contact", int(row["contact_id"]), row["contact"]), text
        )
        db.execute(
            "INSERT INTO case_notes (case_id, interaction_id) VALUES (:c, :i)",
            {"c": case_id, "i": logged.id},
        )
        if row["first_response_at"] is None:
            db.execute(
                "UPDATE cases SET first_response_at = :now, updated_at = :now WHERE id = :id",
                {"now": db.ts(ctx.now), "id": case_id},
            )
            _refresh(ctx, [case_id])
            audit.record(
                ctx, "case", case_id, "respond", {"first_response_at": [None, audit.plain(ctx.now)]}
            )
        return get_case(ctx, case_id)


def delete_case(ctx: Ctx, case_id: int, *, expected_version: int | None = None) -> CaseView:
    """Delete a case; the notes logged on it stay on the contact's timeline."""
    db = ctx.db
    with db.write():
        db.lock("cases", case_id, "delete")
        row = _row(db, case_id)
        if expected_version is not None and int(row["version"]) != expected_version:
            raise audit.stale(
                ctx, "case", case_id, row["title"], expected_version, int(row["version"])
            )
        old = get_case(ctx, case_id)
        db.execute("DELETE FROM cases WHERE id = :id", {"id": case_id})
        audit.record(ctx, "case", case_id, "delete", audit.removed(_fields(old)))
        return old


def edit_sla(
    ctx: Ctx, priority: str, *, respond: str | None = None, resolve: str | None = None
) -> sla.SlaTarget:
    """Change a priority's SLA targets and move the clocks of its open cases with them."""
    db = ctx.db
    with db.write():
        target = sla.edit_target(ctx, priority, respond=respond, resolve=resolve)
        ids = [
            r["id"]
            for r in db.all(
                "SELECT id FROM cases WHERE priority = :p AND status = 'open' ORDER BY id",
                {"p": target.priority},
            )
        ]
        if ids:
            db.lock("cases", ids, "change")
        _refresh(ctx, ids)
        return target


def set_team_setting(ctx: Ctx, key: str, value: str) -> team_settings.Setting:
    """Store a shared setting; working hours and holidays move every open case's clock."""
    db = ctx.db
    with db.write():
        setting = team_settings.set_setting(ctx, key, value)
        if setting.key not in ("working-hours", "holidays"):
            return setting
        ids = [r["id"] for r in db.all("SELECT id FROM cases WHERE status = 'open' ORDER BY id")]
        if ids:
            db.lock("cases", ids, "change")
        _refresh(ctx, ids)
        return setting


# -- reading ----------------------------------------------------------------------------------
_ORDER = (
    " ORDER BY CASE WHEN k.status IN ('open', 'waiting') THEN 0 ELSE 1 END,"
    " k.sla_due_at IS NULL, k.sla_due_at,"
    " CASE k.priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2"
    " WHEN 'low' THEN 3 ELSE 9 END, k.id"
)


@dataclass(frozen=True)
class _Query:
    where: list[str]
    params: dict[str, Any]
    team: _Team
    escalated_to: int | None  # filter on the views after reading: escalation is read
    escalated: bool


def _query(
    ctx: Ctx,
    at: datetime,
    *,
    open_only: bool,
    owner_id: int | None,
    overdue: bool,
    priority: str | None,
    escalated_to: int | None,
    escalated: bool,
    contact_id: int | None,
    due_before: datetime | None,
) -> _Query | None:
    """The WHERE of a case list (None: nothing can match); in the caller's read."""
    db = ctx.db
    where: list[str] = []
    params: dict[str, Any] = {}
    if open_only:
        where.append("k.status IN ('open', 'waiting')")
    if owner_id is not None:
        where.append("k.owner_id = :owner")
        params["owner"] = owner_id
    if priority is not None:
        where.append("k.priority = :priority")
        params["priority"] = check_priority(priority)
    if contact_id is not None:
        where.append("k.contact_id = :contact")
        params["contact"] = contact_id
    if due_before is not None:
        where.append("k.sla_due_at IS NOT NULL AND k.sla_due_at < :due_before")
        params["due_before"] = db.ts(due_before)
    if overdue or escalated or escalated_to is not None:
        step = _escalate_after(ctx) if (escalated or escalated_to is not None) else timedelta(0)
        where.append("k.sla_due_at IS NOT NULL AND k.sla_due_at < :before")
        params["before"] = db.ts(at - step)
    team = _team(db)
    if escalated_to is not None:
        owners = [u for u in team.names if escalated_to in team.chain(u)]
        if not owners:
            return None
        marks = ", ".join(f":o{i}" for i in range(len(owners)))
        where.append(f"k.owner_id IN ({marks})")
        params |= {f"o{i}": o for i, o in enumerate(owners)}
    return _Query(where, params, team, escalated_to, escalated)


def _where(q: _Query) -> str:
    return " WHERE " + " AND ".join(q.where) if q.where else ""


def list_cases(
    ctx: Ctx,
    *,
    open_only: bool = False,
    owner_id: int | None = None,
    overdue: bool = False,
    priority: str | None = None,
    escalated_to: int | None = None,
    escalated: bool = False,
    contact_id: int | None = None,
    as_of: datetime | None = None,
    due_before: datetime | None = None,
    limit: int | None = None,
) -> list[CaseView]:
    """Cases, the most urgent first (open and waiting first, then by SLA time, then
    priority, then id), at most `limit`. `overdue`: past their SLA clock at `as_of`
    (default now); `due_before`: open cases whose clock runs out before then;
    `escalated_to`: the cases escalated to this user at `as_of`; `escalated`: every
    escalated case (the team's view)."""
    at = as_of or ctx.now
    db = ctx.db
    with db.read():
        q = _query(
            ctx,
            at,
            open_only=open_only,
            owner_id=owner_id,
            overdue=overdue,
            priority=priority,
            escalated_to=escalated_to,
            escalated=escalated,
            contact_id=contact_id,
            due_before=due_before,
        )
        if q is None:
            return []
        sql, params = _SELECT + _where(q) + _ORDER, dict(q.params)
        filtered = q.escalated_to is not None or q.escalated
        if limit is not None and not filtered:  # escalation is read: filter, then cut
            sql += " LIMIT :n"
            params["n"] = limit
        views = [_view(ctx, r, q.team, at) for r in db.all(sql, params)]
    if q.escalated_to is not None:
        name = q.team.names.get(q.escalated_to)
        views = [v for v in views if v.escalated_to == name]
    elif q.escalated:
        views = [v for v in views if v.escalation]
    return views if limit is None else views[:limit]


def count_cases(
    ctx: Ctx,
    *,
    open_only: bool = False,
    owner_id: int | None = None,
    overdue: bool = False,
    priority: str | None = None,
    escalated_to: int | None = None,
    escalated: bool = False,
    as_of: datetime | None = None,
) -> int:
    """How many cases `list_cases` would list with the same filters and no limit."""
    if escalated_to is not None or escalated:
        return len(
            list_cases(
                ctx,
                open_only=open_only,
                owner_id=owner_id,
                overdue=overdue,
                priority=priority,
                escalated_to=escalated_to,
                escalated=escalated,
                as_of=as_of,
            )
        )
    db = ctx.db
    with db.read():
        q = _query(
            ctx,
            as_of or ctx.now,
            open_only=open_only,
            owner_id=owner_id,
            overdue=overdue,
            priority=priority,
            escalated_to=None,
            escalated=False,
            contact_id=None,
            due_before=None,
        )
        assert q is not None
        return int(db.value("SELECT count(*) FROM cases k" + _where(q), q.params) or 0)


# -- the knowledge base -----------------------------------------------------------------------
@dataclass
class SimilarCase:
    """A past (resolved or closed) case like another, with its solution; `score` is the
    search backend's ranking (higher is more similar: bm25 on SQLite, ts_rank on
    PostgreSQL), comparable within one list only."""

    id: int
    title: str
    contact_id: int
    contact: str
    status: str
    priority: str
    solution: str | None
    satisfaction: int | None
    resolved_at: datetime | None
    score: float


def similar_cases(ctx: Ctx, case_id: int, *, limit: int = 5) -> list[SimilarCase]:
    """Past cases (resolved or closed) whose titles, bodies and solutions share the most
    words with this case's title and body, the most similar first, each with its solution;
    NotFound if there is no such case."""
    if limit < 1:
        raise InvalidInput(f"limit must be at least 1: {limit}")
    db = ctx.db
    with db.read():
        row = db.one("SELECT title, body FROM cases WHERE id = :id", {"id": case_id})
        if row is None:
            raise NotFound(f"no case with id {case_id}")
        ranked = search.similar_cases(
            db, f"{row['title']} {row['body'] or ''}", exclude=case_id, limit=limit
        )
        if not ranked:
            return []
        marks = ", ".join(f":k{i}" for i in range(len(ranked)))
        rows = {
            int(r["id"]): r
            for r in db.all(
                "SELECT k.id, k.title, k.contact_id, c.name AS contact, k.status, k.priority,"
                " k.solution, k.satisfaction, k.resolved_at FROM cases k"
                f" JOIN contacts c ON c.id = k.contact_id WHERE k.id IN ({marks})",
                {f"k{i}": k for i, (k, _score) in enumerate(ranked)},
            )
        }
    return [
        SimilarCase(
            id=k,
            title=r["title"],
            contact_id=int(r["contact_id"]),
            contact=r["contact"],
            status=r["status"],
            priority=r["priority"],
            solution=r["solution"],
            satisfaction=r["satisfaction"],
            resolved_at=read_ts(r["resolved_at"]),
            score=round(score, 6),
        )
        for k, score in ranked
        if (r := rows.get(k)) is not None
    ]


# -- a screenful at a time ---------------------------------------------------------------------
#: where a page of `case_page` ends: (the last case's SLA time, its id); SLA time None: the
#: page ended among the cases whose clock is paused (waiting on the customer), listed last
CaseKey = tuple[datetime | None, int]


@dataclass
class CasePage:
    """One page of open cases and the store's counts for the whole list (not the page):
    `total` cases match, `overdue` of them are past their SLA clock. `after`: the key of
    the next page, None when this is the last."""

    rows: list[CaseView]
    total: int
    overdue: int
    after: CaseKey | None


def case_page(
    ctx: Ctx,
    *,
    mine: bool = False,
    overdue: bool = False,
    after: CaseKey | None = None,
    limit: int = 200,
    total: tuple[int, int] | None = None,
) -> CasePage:
    """Open cases (open or waiting on the customer), keyset paged: those whose SLA clock
    runs by SLA time (the most urgent first, `ix_cases_sla`), then the paused ones by id.
    `mine`: owned by the current user; `overdue`: past their SLA clock now. Each case
    carries its overdue and escalation marks, as `list_cases` gives them. `total`: the
    counts a first page gave (total, overdue), for a later page not to count again."""
    db = ctx.db
    where = ["k.status IN ('open', 'waiting')"]
    params: dict[str, Any] = {"now": db.ts(ctx.now)}
    if mine:
        where.append("k.owner_id = :me")
        params["me"] = ctx.user_id
    if overdue:
        where.append("k.sla_due_at IS NOT NULL AND k.sla_due_at < :now")
    base = " AND ".join(where)
    rows: list[dict[str, Any]] = []
    with db.read():
        if after is None or after[0] is not None:
            running = base + " AND k.sla_due_at IS NOT NULL"
            page = dict(params, n=limit + 1)
            if after is not None:
                assert after[0] is not None
                running += " AND (k.sla_due_at > :at OR (k.sla_due_at = :at AND k.id > :id))"
                page |= {"at": db.ts(after[0]), "id": after[1]}
            rows = db.all(_SELECT + f" WHERE {running} ORDER BY k.sla_due_at, k.id LIMIT :n", page)
        if len(rows) <= limit and not overdue:
            paused = base + " AND k.sla_due_at IS NULL"
            page = dict(params, n=limit + 1 - len(rows))
            if after is not None and after[0] is None:
                paused += " AND k.id > :id"
                page["id"] = after[1]
            rows += db.all(_SELECT + f" WHERE {paused} ORDER BY k.id LIMIT :n", page)
        counts = (
            db.one(
                "SELECT count(*) AS total,"
                " sum(CASE WHEN k.sla_due_at < :now THEN 1 ELSE 0 END) AS late"
                f" FROM cases k WHERE {base}",
                params,
            )
            if after is None or total is None
            else {"total": total[0], "late": total[1]}
        )
        team = _team(db)
    more = len(rows) > limit
    views = [_view(ctx, r, team, ctx.now) for r in rows[:limit]]
    last = views[-1] if views else None
    return CasePage(
        views,
        int(counts["total"]) if counts else 0,
        int((counts or {}).get("late") or 0),
        (last.sla_due_at, last.id) if more and last is not None else None,
    )


@dataclass
class DueCases:
    """Open cases whose SLA clock runs out before a time (Today's "due today"), the most
    urgent first, cut to a limit; `total` and `overdue` count the whole list."""

    rows: list[CaseView]
    total: int
    overdue: int


def due_cases(ctx: Ctx, *, until: datetime, team: bool = False, limit: int = 50) -> DueCases:
    """The user's open cases (with `team`, everyone's) whose SLA clock runs out before
    `until` or has run out: read by SLA time through the owner's index (`ix_cases_sla` for
    the team), with their overdue and escalation marks."""
    db = ctx.db
    where = "k.status = 'open' AND k.sla_due_at IS NOT NULL AND k.sla_due_at < :until"
    params: dict[str, Any] = {"until": db.ts(until), "now": db.ts(ctx.now), "n": limit}
    if not team:
        where += " AND k.owner_id = :me"
        params["me"] = ctx.user_id
    with db.read():
        rows = db.all(_SELECT + f" WHERE {where} ORDER BY k.sla_due_at, k.id LIMIT :n", params)
        counts = db.one(
            "SELECT count(*) AS total, sum(CASE WHEN k.sla_due_at < :now THEN 1 ELSE 0 END)"
            f" AS late FROM cases k WHERE {where}",
            params,
        )
        team_ = _team(db)
    return DueCases(
        [_view(ctx, r, team_, ctx.now) for r in rows],
        int((counts or {}).get("total") or 0),
        int((counts or {}).get("late") or 0),
    )
