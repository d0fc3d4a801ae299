"""Deals and the pipeline stages they move through."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from tinycrm.errors import Conflict, InvalidInput, NotFound, UnknownId
from tinycrm.money import Money
from tinycrm.refs import Target, hold
from tinycrm.services import audit, clocks, deal_items, search
from tinycrm.services.contacts import check_name, check_text, check_version
from tinycrm.services.context import Ctx
from tinycrm.services.fields import FieldValue, values_of
from tinycrm.services.fields import apply as apply_fields
from tinycrm.services.filters import Filter
from tinycrm.store.db import Db, read_day, read_ts
from tinycrm.text import fold, plural


@dataclass
class StageView:
    id: int
    name: str
    position: int
    probability: int
    rot_days: int | None
    outcome: str
    open_deals: int = 0


@dataclass
class DealView:
    id: int
    title: str
    stage: str
    stage_id: int
    status: str
    value: Money
    value_cents: int
    currency: str
    probability: int  # the deal's own, else its stage's
    weighted: Money  # value × probability, rounded half-up to the cent
    contact_id: int | None
    contact: str | None
    company_id: int | None
    company: str | None
    owner: str | None
    expected_close: date | None
    lost_reason: str | None
    closed_at: datetime | None
    stage_entered_at: datetime | None
    activity_at: datetime | None  # the last sign of life: a move, an edit, an interaction
    rots_at: datetime | None  # when the deal rots if nothing happens (open deals only)
    created_at: datetime | None
    updated_at: datetime | None
    version: int  # changes on every edit and move; pass it back as expected_version
    history: list[dict[str, Any]] = field(default_factory=list)
    # its line items and what they come to (get_deal with items=True)
    lines: deal_items.DealLines | None = None
    purchases_added: int = 0  # purchases its items became when this move won it
    # custom fields: read by get_deal (show, add, edit); None where deals are listed
    fields: list[FieldValue] | None = None


# -- stages --------------------------------------------------------------------------------
def list_stages(db: Db) -> list[StageView]:
    """The pipeline's stages in order, each with its count of open deals."""
    rows = db.all(
        "SELECT s.*, (SELECT count(*) FROM deals d WHERE d.stage_id = s.id"
        " AND d.status = 'open') AS open_deals FROM stages s ORDER BY s.position, s.id"
    )
    return [
        StageView(
            r["id"],
            r["name"],
            r["position"],
            r["probability"],
            r["rot_days"],
            r["outcome"],
            int(r["open_deals"]),
        )
        for r in rows
    ]


@dataclass
class StageTotal:
    """The open deals in one stage: how many, worth and weighted in one currency, and what
    that leaves out (deals in other currencies are counted in `all_deals` and summed per
    currency in `other_cents`, never added to the rest)."""

    stage: str
    position: int
    probability: int
    outcome: str
    deals: int  # open deals in the currency
    value_cents: int
    weighted_cents: int  # each deal's value times its (or its stage's) probability
    all_deals: int = 0  # open deals in every currency: what the stage holds
    other_cents: dict[str, int] = field(default_factory=dict)  # value by other currency


def stage_totals(db: Db, currency: str) -> list[StageTotal]:
    """Every stage in pipeline order with its open deals in `currency` counted and summed,
    and those in other currencies counted and summed apart (closed stages hold no open
    deals, so they show zero)."""
    stages = db.all(
        "SELECT id, name, position, probability, outcome FROM stages ORDER BY position, id"
    )
    sums = db.all(
        "SELECT d.stage_id, d.currency, count(*) AS n, sum(d.value_cents) AS total,"
        " sum((d.value_cents * coalesce(d.probability, s.probability) + 50) / 100) AS weighted"
        " FROM deals d JOIN stages s ON s.id = d.stage_id WHERE d.status = 'open'"
        " GROUP BY d.stage_id, d.currency"
    )
    by_stage: dict[int, list[dict[str, Any]]] = {}
    for r in sums:
        by_stage.setdefault(int(r["stage_id"]), []).append(r)
    out = []
    for st in stages:
        rows = by_stage.get(int(st["id"]), [])
        mine = [r for r in rows if r["currency"] == currency]
        out.append(
            StageTotal(
                st["name"],
                int(st["position"]),
                int(st["probability"]),
                st["outcome"],
                sum(int(r["n"]) for r in mine),
                sum(int(r["total"]) for r in mine),
                sum(int(r["weighted"]) for r in mine),
                all_deals=sum(int(r["n"]) for r in rows),
                other_cents={
                    r["currency"]: int(r["total"])
                    for r in sorted(rows, key=lambda r: r["currency"])
                    if r["currency"] != currency
                },
            )
        )
    return out


def find_stage(db: Db, name: str) -> StageView:
    """The stage `name` means (exact, else a unique prefix, ignoring case and accents); InvalidInput
    listing the stages otherwise."""
    key = fold(name)
    stages = list_stages(db)
    exact = [s for s in stages if fold(s.name) == key]
    if exact:
        return exact[0]
    prefix = [s for s in stages if fold(s.name).startswith(key)] if key else []
    if len(prefix) == 1:
        return prefix[0]
    names = ", ".join(s.name for s in stages)
    raise InvalidInput(f"unknown stage {name!r}: use one of {names}")


def _check_probability(p: int) -> int:
    if not 0 <= p <= 100:
        raise InvalidInput(f"probability must be between 0 and 100: {p}")
    return p


def add_stage(
    ctx: Ctx, name: str, *, probability: int, rot_days: int | None = None, before: str | None = None
) -> StageView:
    """Add an open stage, by default before the first won/lost stage."""
    name = check_name(name, "stage name")
    _check_probability(probability)
    db = ctx.db
    with db.write():
        db.lock_key("stages")
        _refuse_taken(db, name)
        stages = list_stages(db)
        if before:
            pos = find_stage(db, before).position
        else:
            closed = [s.position for s in stages if s.outcome != "open"]
            pos = min(closed) if closed else (max((s.position for s in stages), default=0) + 1)
        db.execute("UPDATE stages SET position = position + 1 WHERE position >= :p", {"p": pos})
        db.execute(
            "INSERT INTO stages (name, position, probability, rot_days, outcome)"
            " VALUES (:name, :pos, :prob, :rot, 'open')",
            {"name": name, "pos": pos, "prob": probability, "rot": rot_days},
        )
        added = find_stage(db, name)
        audit.record(ctx, "stage", added.id, "add", audit.added(_stage_fields(added)))
        return added


def _refuse_taken(db: Db, name: str, *, but: int | None = None) -> None:
    """Conflict if another stage has this name, in any case or accents."""
    if any(fold(s.name) == fold(name) and s.id != but for s in list_stages(db)):
        raise Conflict(f"a stage named {name!r} already exists")


def _stage_fields(s: StageView) -> dict[str, Any]:
    return {
        "name": s.name,
        "position": s.position,
        "probability": s.probability,
        "rot_days": s.rot_days,
    }


def edit_stage(
    ctx: Ctx,
    name: str,
    *,
    new_name: str | None = None,
    probability: int | None = None,
    rot_days: int | None = None,
    position: int | None = None,
) -> StageView:
    """Rename a stage, or change its probability, rot days or place in the pipeline."""
    db = ctx.db
    with db.write():
        db.lock_key("stages")
        stage = find_stage(db, name)
        sets: dict[str, Any] = {}
        if new_name is not None:
            sets["name"] = check_name(new_name, "stage name")
            _refuse_taken(db, sets["name"], but=stage.id)
        if probability is not None:
            sets["probability"] = _check_probability(probability)
        if rot_days is not None:
            if rot_days < 0:
                raise InvalidInput("rot days can't be negative")
            sets["rot_days"] = rot_days or None
        if position is not None:
            count = len(list_stages(db))
            if not 1 <= position <= count:
                raise InvalidInput(f"position must be between 1 and {count}")
            order = [s for s in list_stages(db) if s.id != stage.id]
            order.insert(position - 1, stage)
            for i, s in enumerate(order, start=1):
                db.execute("UPDATE stages SET position = :p WHERE id = :id", {"p": -i, "id": s.id})
            db.execute("UPDATE stages SET position = -position WHERE position < 0")
        if not sets and position is None:
            raise InvalidInput("nothing to change: give at least one option (see --help)")
        if sets:
            assigns = ", ".join(f"{k} = :{k}" for k in sets)
            db.execute(f"UPDATE stages SET {assigns} WHERE id = :id", {**sets, "id": stage.id})
        if "rot_days" in sets:
            clocks.refresh_rot_for_stage(db, stage.id)
        changed = find_stage(db, sets.get("name", stage.name))
        audit.record(
            ctx,
            "stage",
            stage.id,
            "edit",
            audit.diff(_stage_fields(stage), _stage_fields(changed)),
        )
        return changed


def remove_stage(ctx: Ctx, name: str) -> None:
    """Delete a stage no deal is in (a pipeline keeps one won and one lost stage)."""
    db = ctx.db
    with db.write():
        db.lock_key("stages")  # deal moves and adds hold it shared: none is on its way in
        stage = find_stage(db, name)
        used = db.value("SELECT count(*) FROM deals WHERE stage_id = :id", {"id": stage.id})
        if used:
            raise Conflict(f"stage {stage.name!r} still has {used} deal(s); move them first")
        if stage.outcome != "open" and not any(
            s.outcome == stage.outcome and s.id != stage.id for s in list_stages(db)
        ):
            raise Conflict(f"the pipeline needs a {stage.outcome} stage; {stage.name!r} stays")
        db.execute("DELETE FROM stages WHERE id = :id", {"id": stage.id})
        audit.record(ctx, "stage", stage.id, "delete", audit.removed(_stage_fields(stage)))


# -- deals ---------------------------------------------------------------------------------
_SELECT = (
    "SELECT d.*, s.name AS stage, s.probability AS stage_probability,"
    " c.name AS contact, co.name AS company, u.name AS owner FROM deals d"
    " JOIN stages s ON s.id = d.stage_id LEFT JOIN contacts c ON c.id = d.contact_id"
    " LEFT JOIN companies co ON co.id = d.company_id LEFT JOIN users u ON u.id = d.owner_id"
)


def _view(r: dict[str, Any]) -> DealView:
    prob = r["probability"] if r["probability"] is not None else r["stage_probability"]
    cents = int(r["value_cents"])
    weighted = (cents * prob + 50) // 100
    return DealView(
        id=r["id"],
        title=r["title"],
        stage=r["stage"],
        stage_id=r["stage_id"],
        status=r["status"],
        value=Money(cents, r["currency"]),
        value_cents=cents,
        currency=r["currency"],
        probability=int(prob),
        weighted=Money(weighted, r["currency"]),
        contact_id=r["contact_id"],
        contact=r["contact"],
        company_id=r["company_id"],
        company=r["company"],
        owner=r["owner"],
        expected_close=read_day(r["expected_close"]),
        lost_reason=r["lost_reason"],
        closed_at=read_ts(r["closed_at"]),
        stage_entered_at=read_ts(r["stage_entered_at"]),
        activity_at=read_ts(r["activity_at"]),
        rots_at=read_ts(r["rots_at"]),
        created_at=read_ts(r["created_at"]),
        updated_at=read_ts(r["updated_at"]),
        version=int(r["version"]),
    )


def get_deal(db: Db, deal_id: int, *, history: bool = False, items: bool = False) -> DealView:
    """One deal, its value and weighted value as `Money`; with `history`, its stage moves;
    with `items`, its line items and their totals."""
    row = db.one(_SELECT + " WHERE d.id = :id", {"id": deal_id})
    if row is None:
        raise NotFound(f"no deal with id {deal_id}")
    view = _view(row)
    if items:
        view.lines = deal_items.read_lines(db, deal_id)
    view.fields = values_of(db, "deal", deal_id)
    if history:
        view.history = [
            {
                "at": read_ts(h["changed_at"]),
                "from": h["from_name"],
                "to": h["to_name"],
                "user": h["user"],
            }
            for h in db.all(
                "SELECT sc.changed_at, f.name AS from_name, t.name AS to_name, u.name AS user"
                " FROM stage_changes sc LEFT JOIN stages f ON f.id = sc.from_stage_id"
                " JOIN stages t ON t.id = sc.to_stage_id LEFT JOIN users u ON u.id = sc.user_id"
                " WHERE sc.deal_id = :id ORDER BY sc.changed_at, sc.id",
                {"id": deal_id},
            )
        ]
    return view


def add_deal(
    ctx: Ctx,
    title: str,
    *,
    target: Target | None = None,
    value_cents: int = 0,
    currency: str | None = None,
    stage: str | None = None,
    probability: int | None = None,
    expected_close: date | None = None,
    custom: Mapping[str, str] | None = None,
) -> DealView:
    """Create a deal, about a contact, company or nobody, in `stage` (default: the first
    open one), with custom fields `custom` ({name: value as typed})."""
    title = check_name(title, "deal title")
    if probability is not None:
        _check_probability(probability)
    db = ctx.db
    with db.write():
        db.lock_key("stages", shared=True)  # the stage stays until the deal is in it
        if target is not None:
            hold(db, target.kind, target.id)
        st = (
            find_stage(db, stage)
            if stage
            else next(s for s in list_stages(db) if s.outcome == "open")
        )
        if st.outcome != "open":
            raise InvalidInput(f"a new deal can't start in the {st.outcome} stage {st.name!r}")
        contact_id = company_id = None
        if target is not None and target.kind == "contact":
            contact_id = target.id
            company_id = db.value(
                "SELECT company_id FROM contacts WHERE id = :id", {"id": contact_id}
            )
        elif target is not None and target.kind == "company":
            company_id = target.id
        now = db.ts(ctx.now)
        deal_id = db.insert(
            "INSERT INTO deals (title, title_key, contact_id, company_id, value_cents, currency,"
            " stage_id, owner_id, probability, expected_close, status, stage_entered_at,"
            " activity_at, created_at, updated_at, version) VALUES (:title, :key, :contact,"
            " :company, :value, :cur, :stage, :owner, :prob, :close, 'open', :now, :now, :now,"
            " :now, 1)"
            " RETURNING id",
            {
                "title": title,
                "key": fold(title),
                "contact": contact_id,
                "company": company_id,
                "value": value_cents,
                "cur": currency or ctx.currency,
                "stage": st.id,
                "owner": ctx.user_id,
                "prob": probability,
                "close": db.day(expected_close),
                "now": now,
            },
        )
        db.execute(
            "INSERT INTO stage_changes (deal_id, from_stage_id, to_stage_id, changed_at, user_id)"
            " VALUES (:d, NULL, :s, :now, :u)",
            {"d": deal_id, "s": st.id, "now": now, "u": ctx.user_id},
        )
        search.index(db, "deal", deal_id, title)
        clocks.refresh_rot(db, [deal_id])
        extra = apply_fields(ctx, "deal", deal_id, custom, adding=True)
        view = get_deal(db, deal_id)
        audit.record(
            ctx,
            "deal",
            deal_id,
            "add",
            {
                **audit.added(
                    {
                        **_deal_fields(view),
                        "contact": view.contact,
                        "company": view.company,
                        "owner": view.owner,
                    }
                ),
                **extra,
            },
        )
        return view


def _deal_fields(d: DealView) -> dict[str, Any]:
    """What edits and moves change, as the audit log records it."""
    return {
        "title": d.title,
        "value": d.value,
        "currency": d.currency,
        "probability": d.probability,
        "expected_close": d.expected_close,
        "stage": d.stage,
        "status": d.status,
        "lost_reason": d.lost_reason,
        "contact": d.contact,
        "company": d.company,
        "owner": d.owner,
    }


#: How deals can be listed (the first is the default): each ends on the id.
DEAL_ORDERS: dict[str, str] = {
    "stage": "s.position, d.value_cents DESC, d.id",  # pipeline order, biggest first
    "value": "d.value_cents DESC, d.id",
    "close": "CASE WHEN d.expected_close IS NULL THEN 1 ELSE 0 END, d.expected_close, d.id",
    "newest": "d.id DESC",
    "title": "d.title_key, d.id",
}


def list_deals(
    db: Db,
    *,
    status: str | None = "open",
    stage: str | None = None,
    owner: str | None = None,
    contact_id: int | None = None,
    limit: int | None = None,
    order: str = "stage",
    where: Filter | None = None,
) -> list[DealView]:
    """Deals in `order` (DEAL_ORDERS: pipeline order, biggest first within a stage, by
    default), those matching the filters and the compiled filter `where`."""
    if order not in DEAL_ORDERS:
        raise InvalidInput(f"deals sort by {', '.join(DEAL_ORDERS)}, not {order!r}")
    clause, params = _deal_filters(db, status, stage, owner, contact_id, where)
    sql = _SELECT + clause + " ORDER BY " + DEAL_ORDERS[order]
    if limit is not None:
        sql += " LIMIT :n"
        params["n"] = limit
    return [_view(r) for r in db.all(sql, params)]


def count_deals(
    db: Db,
    *,
    status: str | None = "open",
    stage: str | None = None,
    owner: str | None = None,
    contact_id: int | None = None,
    where: Filter | None = None,
) -> int:
    """How many deals match the filters (as for list_deals)."""
    clause, params = _deal_filters(db, status, stage, owner, contact_id, where)
    return int(db.value("SELECT count(*) FROM deals d" + clause, params))


def _deal_filters(
    db: Db,
    status: str | None,
    stage: str | None,
    owner: str | None,
    contact_id: int | None,
    extra: Filter | None = None,
) -> tuple[str, dict[str, Any]]:
    where: list[str] = []
    params: dict[str, Any] = {}
    if extra is not None:
        if extra.entity != "deals":
            raise InvalidInput(f"a filter of {extra.entity} can't list deals")
        where.append(extra.sql)
        params.update(extra.params)
    if status:
        where.append("d.status = :status")
        params["status"] = status
    if stage:
        where.append("d.stage_id = :stage")
        params["stage"] = find_stage(db, stage).id
    if owner:
        where.append("d.owner_id = (SELECT id FROM users WHERE name = :owner)")
        params["owner"] = owner
    if contact_id is not None:
        where.append("d.contact_id = :cid")
        params["cid"] = contact_id
    return (" WHERE " + " AND ".join(where)) if where else "", params


def edit_deal(
    ctx: Ctx,
    deal_id: int,
    *,
    title: str | None = None,
    value_cents: int | None = None,
    currency: str | None = None,
    probability: int | None = None,
    expected_close: date | None = None,
    contact_id: int | None = None,
    owner: str | None = None,
    expected_version: int | None = None,
    custom: Mapping[str, str] | None = None,
    unset: Sequence[str] = (),
) -> DealView:
    """Change the given fields and custom fields (`custom` sets, `unset` clears); a new
    contact brings their company along, as adding the deal with them would. With
    `expected_version` (the version the caller showed), a deal changed since then is
    refused (Conflict) instead of overwritten."""
    sets: dict[str, Any] = {}
    if title is not None:
        sets["title"] = check_name(title, "deal title")
        sets["title_key"] = fold(sets["title"])
    if value_cents is not None:
        sets["value_cents"] = value_cents
    if currency is not None:
        sets["currency"] = currency
    if probability is not None:
        sets["probability"] = _check_probability(probability)
    if expected_close is not None:
        sets["expected_close"] = ctx.db.day(expected_close)
    if not sets and contact_id is None and owner is None and not custom and not unset:
        raise InvalidInput("nothing to change: give at least one option (see --help)")
    db = ctx.db
    with db.write():
        if contact_id is not None:
            hold(db, "contact", contact_id)
            sets["contact_id"] = contact_id
            sets["company_id"] = db.value(
                "SELECT company_id FROM contacts WHERE id = :id", {"id": contact_id}
            )
        if owner is not None:
            from tinycrm.services.users import user_id

            sets["owner_id"] = user_id(db, owner)
        db.lock("deals", deal_id)
        old = _get_known(db, deal_id)
        check_version(ctx, "deal", deal_id, old.title, old.version, expected_version)
        if "value_cents" in sets or "currency" in sets:
            _refuse_with_items(db, old)
        extra = apply_fields(ctx, "deal", deal_id, custom, unset)
        sets["updated_at"] = sets["activity_at"] = db.ts(ctx.now)
        assigns = ", ".join(f"{k} = :{k}" for k in sets)
        db.execute(
            f"UPDATE deals SET {assigns}, version = version + 1 WHERE id = :id",
            {**sets, "id": deal_id},
        )
        clocks.refresh_rot(db, [deal_id])
        if contact_id is not None and old.status == "open":
            # notes on the new contact now count as the deal's activity, as they would
            # have had it been theirs from the start
            clocks.recount_activity(db, [deal_id])
        if title is not None:
            search.reindex(db, "deal", deal_id)  # the title, and a lost deal's reason
        new = get_deal(db, deal_id)
        changes = {**audit.diff(_deal_fields(old), _deal_fields(new)), **extra}
        audit.record(ctx, "deal", deal_id, "edit", changes)
        return new


def _refuse_with_items(db: Db, deal: DealView) -> None:
    """A deal with line items takes its value and currency from them."""
    n = int(db.value("SELECT count(*) FROM deal_items WHERE deal_id = :id", {"id": deal.id}))
    if n:
        raise InvalidInput(
            f"deal #{deal.id} {deal.title} takes its value from its {plural(n, 'item')}:"
            f" change them with tinycrm deal item edit {deal.id} LINE"
        )


def _get_known(db: Db, deal_id: int) -> DealView:
    """get_deal for a command that changes the deal: an unknown id is UnknownId (exit 2)."""
    try:
        return get_deal(db, deal_id)
    except NotFound:
        raise UnknownId(f"no deal with id {deal_id}") from None


@dataclass
class DealImpact:
    """What goes with a deal when it is deleted, and what stays."""

    reminders: int  # about the deal: deleted with it
    interactions: int  # logged on the deal: kept, on their contact or company
    stage_changes: int  # its stage history: deleted with it


def deal_impact(db: Db, deal_id: int) -> DealImpact:
    """What deleting the deal would take with it (and leave): for the question `rm` asks."""
    p = {"id": deal_id}
    return DealImpact(
        reminders=int(db.value("SELECT count(*) FROM reminders WHERE deal_id = :id", p)),
        interactions=int(db.value("SELECT count(*) FROM interactions WHERE deal_id = :id", p)),
        stage_changes=int(db.value("SELECT count(*) FROM stage_changes WHERE deal_id = :id", p)),
    )


def delete_deal(ctx: Ctx, deal_id: int, *, expected_version: int | None = None) -> DealView:
    """Delete a deal with its stage history and its reminders; the notes logged on it stay
    with their contact or company, off the deal. Its index row goes by trigger. Returns
    the deal as it was."""
    db = ctx.db
    with db.write():
        row = db.one("SELECT contact_id, company_id FROM deals WHERE id = :id", {"id": deal_id})
        if row is None:
            raise UnknownId(f"no deal with id {deal_id}")
        for column, table in (("company_id", "companies"), ("contact_id", "contacts")):
            if row[column] is not None:
                db.lock(table, row[column], "keep")
        db.lock("deals", deal_id, "delete")
        old = _get_known(db, deal_id)
        check_version(ctx, "deal", deal_id, old.title, old.version, expected_version)
        impact = deal_impact(db, deal_id)
        # its notes stay, off the deal: a change to them, so their version moves (the
        # foreign key's SET NULL would leave it)
        notes = db.all("SELECT id FROM interactions WHERE deal_id = :id", {"id": deal_id})
        db.lock("interactions", [int(r["id"]) for r in notes])
        db.execute(
            "UPDATE interactions SET deal_id = NULL, version = version + 1 WHERE deal_id = :id",
            {"id": deal_id},
        )
        # so do the purchases its items became when it was won: bought is bought
        bought = db.all("SELECT id FROM purchases WHERE deal_id = :id", {"id": deal_id})
        db.lock("purchases", [int(r["id"]) for r in bought])
        db.execute(
            "UPDATE purchases SET deal_id = NULL, version = version + 1 WHERE deal_id = :id",
            {"id": deal_id},
        )
        db.execute("DELETE FROM deals WHERE id = :id", {"id": deal_id})
        audit.record(
            ctx,
            "deal",
            deal_id,
            "delete",
            audit.removed(
                {
                    **_deal_fields(old),
                    "value": old.value,
                    "reminders": impact.reminders,
                    "stage_changes": impact.stage_changes,
                }
            ),
        )
        return old


def reopen_stage(db: Db, deal_id: int) -> StageView:
    """The open stage a closed deal goes back to: the last open stage its history
    entered, else the first open stage."""
    stages = {s.id: s for s in list_stages(db)}
    for h in db.all(
        "SELECT to_stage_id, from_stage_id FROM stage_changes WHERE deal_id = :id"
        " ORDER BY changed_at DESC, id DESC",
        {"id": deal_id},
    ):
        for sid in (h["to_stage_id"], h["from_stage_id"]):
            if sid in stages and stages[sid].outcome == "open":
                return stages[sid]
    return next(s for s in stages.values() if s.outcome == "open")


def reopen_deal(
    ctx: Ctx, deal_id: int, *, stage: str | None = None, expected_version: int | None = None
) -> DealView:
    """Take a won or lost deal back to an open stage: `stage`, else the last open one in
    its stage history. Recorded as a reopen, its stage history grows by the move."""
    db = ctx.db
    with db.write():
        db.lock_key("stages", shared=True)
        db.lock("deals", deal_id)
        deal = _get_known(db, deal_id)
        if deal.status == "open":
            raise InvalidInput(f"deal #{deal_id} {deal.title} is open already ({deal.stage})")
        target = find_stage(db, stage) if stage else reopen_stage(db, deal_id)
        if target.outcome != "open":
            raise InvalidInput(
                f"reopen goes to an open stage; {target.name!r} is a {target.outcome} stage"
            )
        return move_deal(ctx, deal_id, target.name, expected_version=expected_version)


def move_deal(
    ctx: Ctx,
    deal_id: int,
    stage: str,
    *,
    reason: str | None = None,
    expected_version: int | None = None,
) -> DealView:
    """Move a deal to a stage; moving to a won/lost stage closes it, out of one reopens it.
    `expected_version` as for edit_deal."""
    db = ctx.db
    with db.write():
        db.lock_key("stages", shared=True)  # the stage stays until the deal is in it
        db.lock("deals", deal_id)
        deal = get_deal(db, deal_id)
        check_version(ctx, "deal", deal_id, deal.title, deal.version, expected_version)
        st = find_stage(db, stage)
        if st.id == deal.stage_id:
            raise InvalidInput(f"deal #{deal_id} is already in {st.name}")
        if st.outcome == "lost" and not (reason and reason.strip()):
            raise InvalidInput("say why the deal was lost: --reason 'went with a competitor'")
        now = db.ts(ctx.now)
        closed = st.outcome != "open"
        db.execute(
            "UPDATE deals SET stage_id = :s, status = :status, stage_entered_at = :now,"
            " activity_at = :now, closed_at = :closed, lost_reason = :reason, updated_at = :now,"
            # the owner at the win gets the credit, whoever owns the deal later
            " won_by = CASE WHEN :won = 1 THEN owner_id END,"
            " version = version + 1 WHERE id = :id",
            {
                "s": st.id,
                "status": st.outcome,
                "won": 1 if st.outcome == "won" else 0,
                "now": now,
                "closed": now if closed else None,
                "reason": check_text(reason, "reason") if st.outcome == "lost" else None,
                "id": deal_id,
            },
        )
        db.execute(
            "INSERT INTO stage_changes (deal_id, from_stage_id, to_stage_id, changed_at, user_id)"
            " VALUES (:d, :f, :t, :now, :u)",
            {"d": deal_id, "f": deal.stage_id, "t": st.id, "now": now, "u": ctx.user_id},
        )
        clocks.refresh_rot(db, [deal_id])
        search.reindex(db, "deal", deal_id)
        bought = deal_items.purchases_from_won(ctx, deal_id) if st.outcome == "won" else 0
        moved = get_deal(db, deal_id)
        moved.purchases_added = bought
        if st.outcome != "open":
            action = st.outcome
        else:
            action = "reopen" if deal.status != "open" else "move"
        changes = audit.diff(_deal_fields(deal), _deal_fields(moved))
        changes.pop("probability", None)  # the stage's, which goes with the stage
        audit.record(ctx, "deal", deal_id, action, changes)
        return moved


def close_deal(
    ctx: Ctx,
    deal_id: int,
    outcome: str,
    *,
    reason: str | None = None,
    expected_version: int | None = None,
) -> DealView:
    """Mark a deal won or lost (moves it to the first stage with that outcome)."""
    stage = next((s for s in list_stages(ctx.db) if s.outcome == outcome), None)
    if stage is None:
        raise InvalidInput(f"the pipeline has no {outcome} stage")
    return move_deal(ctx, deal_id, stage.name, reason=reason, expected_version=expected_version)
