"""Marketing campaigns: what was spent to bring in leads from one lead source, and when.

A campaign attaches a cost to a lead source (`contacts.source`, exact text) for a run of
local days, `starts_on` to `ends_on` (both included; no end: still running). `report
sources` attributes each contact to at most one campaign by first touch
(`attribution_windows`, docs/reports.md): the contact's source is the campaign's source and
the local day it was created falls in the campaign's run; when several campaigns of one
source run on that day, the one that started last takes it (the same day: the lower id).

Campaigns are named by id or by name (names are unique, compared folded). Every write is one
transaction with an audit entry, journalled for `undo`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from tinycrm.errors import InvalidInput, UnknownId
from tinycrm.money import MAX_CENTS, Money
from tinycrm.services import audit
from tinycrm.services.contacts import check_text
from tinycrm.services.context import Ctx
from tinycrm.store.db import Db, read_day, read_ts
from tinycrm.text import fold

#: Where a run without an end stops, for the interval arithmetic of attribution.
FOREVER = date.max


@dataclass(frozen=True)
class Campaign:
    """A campaign as the services return it."""

    id: int
    name: str
    source: str
    cost: Money
    currency: str  # the cost's (JSON writes `cost` as a bare decimal string)
    starts_on: date
    ends_on: date | None  # None: still running
    created_at: datetime
    updated_at: datetime
    version: int


def _campaign(r: dict[str, Any]) -> Campaign:
    starts_on, created_at, updated_at = (
        read_day(r["starts_on"]),
        read_ts(r["created_at"]),
        read_ts(r["updated_at"]),
    )
    assert starts_on and created_at and updated_at  # NOT NULL columns
    return Campaign(
        id=int(r["id"]),
        name=r["name"],
        source=r["source"],
        cost=Money(int(r["cost_cents"]), r["currency"]),
        currency=r["currency"],
        starts_on=starts_on,
        ends_on=read_day(r["ends_on"]),
        created_at=created_at,
        updated_at=updated_at,
        version=int(r["version"]),
    )


_COLUMNS = (
    "id, name, source, cost_cents, currency, starts_on, ends_on, created_at, updated_at, version"
)


def list_campaigns(ctx: Ctx, *, source: str | None = None) -> list[Campaign]:
    """Every campaign (or one source's), latest start first, then by id."""
    where, params = "", {}
    if source is not None:
        where, params = " WHERE source = :source", {"source": source}
    rows = ctx.db.all(
        f"SELECT {_COLUMNS} FROM campaigns{where} ORDER BY starts_on DESC, id", params
    )
    return [_campaign(r) for r in rows]


def _find(db: Db, ref: str) -> dict[str, Any]:
    """The campaign an id or a name (folded) names."""
    text = ref.strip()
    if text.isdigit():
        row = db.one(f"SELECT {_COLUMNS} FROM campaigns WHERE id = :id", {"id": int(text)})
        if row is None:
            raise UnknownId(f"no campaign with id {text}")
        return row
    key = fold(text)
    found = [r for r in db.all(f"SELECT {_COLUMNS} FROM campaigns") if fold(r["name"]) == key]
    if not found:
        raise UnknownId(f"no campaign called {text!r} (see: tinycrm campaign list)")
    return found[0]  # names are unique, folded


def get_campaign(ctx: Ctx, ref: str) -> Campaign:
    """The campaign named by `ref`: its id or its name (any case)."""
    return _campaign(_find(ctx.db, ref))


def _name(text: str) -> str:
    name = " ".join((check_text(text, "campaign name") or "").split())
    if not name:
        raise InvalidInput("campaign name can't be empty")
    if name.isdigit():
        raise InvalidInput(f"campaign name can't be a bare number (it reads as an id): {name!r}")
    return name


def _source(text: str) -> str:
    source = check_text(text, "--source")
    if not source:
        raise InvalidInput("--source can't be empty: give the lead source the campaign brings")
    return source


def _cost(cents: int) -> int:
    if cents < 0:
        raise InvalidInput(f"--cost can't be negative: {cents / 100:.2f}")
    if cents > MAX_CENTS:
        raise InvalidInput("--cost is too large")
    return cents


def _check_run(starts_on: date, ends_on: date | None) -> None:
    if starts_on.year < 1900 or (ends_on is not None and ends_on.year > 9000):
        raise InvalidInput("campaign days out of range")
    if ends_on is not None and ends_on < starts_on:
        raise InvalidInput(
            f"--end ({ends_on.isoformat()}) is before --start ({starts_on.isoformat()})"
        )


def _check_unique(db: Db, name: str, but: int | None = None) -> None:
    key = fold(name)
    for r in db.all("SELECT id, name FROM campaigns"):
        if fold(r["name"]) == key and r["id"] != but:
            raise InvalidInput(f"there is a campaign called {r['name']!r} already (#{r['id']})")


def _fields(c: Campaign) -> dict[str, Any]:
    return {
        "name": c.name,
        "source": c.source,
        "cost": c.cost,
        "starts_on": c.starts_on,
        "ends_on": c.ends_on,
    }


def add_campaign(
    ctx: Ctx,
    name: str,
    *,
    source: str,
    cost_cents: int,
    currency: str | None = None,
    starts_on: date | None = None,
    ends_on: date | None = None,
) -> Campaign:
    """Record a campaign: its cost (in `currency`, default the store's) for the leads of
    `source` from `starts_on` (default today) to `ends_on` (default: still running)."""
    the_name, the_source, cents = _name(name), _source(source), _cost(cost_cents)
    start = starts_on or ctx.now.astimezone(ctx.tz).date()
    _check_run(start, ends_on)
    db = ctx.db
    with db.write():
        db.lock_key("campaign names")
        _check_unique(db, the_name)
        new_id = db.insert(
            "INSERT INTO campaigns (name, source, cost_cents, currency, starts_on, ends_on,"
            " created_at, updated_at, version) VALUES (:name, :source, :cost, :cur, :start,"
            " :end, :now, :now, 1) RETURNING id",
            {
                "name": the_name,
                "source": the_source,
                "cost": cents,
                "cur": currency or ctx.currency,
                "start": db.day(start),
                "end": db.day(ends_on),
                "now": db.ts(ctx.now),
            },
        )
        made = get_campaign(ctx, str(new_id))
        audit.record(ctx, "campaign", new_id, "add", audit.added(_fields(made)))
        return made


def edit_campaign(
    ctx: Ctx,
    ref: str,
    *,
    name: str | None = None,
    source: str | None = None,
    cost_cents: int | None = None,
    currency: str | None = None,
    starts_on: date | None = None,
    ends_on: date | None = None,
    clear_end: bool = False,
    expected_version: int | None = None,
) -> Campaign:
    """Change the given fields of a campaign (`clear_end`: still running). With
    `expected_version`, a campaign changed since the caller read it is refused (Conflict)."""
    sets: dict[str, Any] = {}
    if name is not None:
        sets["name"] = _name(name)
    if source is not None:
        sets["source"] = _source(source)
    if cost_cents is not None:
        sets["cost_cents"] = _cost(cost_cents)
    if currency is not None:
        sets["currency"] = currency
    if not sets and starts_on is None and ends_on is None and not clear_end:
        raise InvalidInput(
            "nothing to change: give --name, --source, --cost, --start, --end or --end none"
        )
    db = ctx.db
    with db.write():
        db.lock_key("campaign names")
        row = _find(db, ref)
        campaign_id = int(row["id"])
        db.lock("campaigns", campaign_id, "change")
        row = _find(db, str(campaign_id))
        old = _campaign(row)
        if expected_version is not None and old.version != expected_version:
            raise audit.stale(ctx, "campaign", campaign_id, old.name, expected_version, old.version)
        start = starts_on or old.starts_on
        end = None if clear_end else (ends_on or old.ends_on)
        _check_run(start, end)
        if "name" in sets:
            _check_unique(db, sets["name"], but=campaign_id)
        sets |= {"starts_on": db.day(start), "ends_on": db.day(end)}
        assigns = ", ".join(f"{k} = :{k}" for k in sets)
        db.execute(
            f"UPDATE campaigns SET {assigns}, updated_at = :now, version = version + 1"
            " WHERE id = :id",
            {**sets, "now": db.ts(ctx.now), "id": campaign_id},
        )
        new = get_campaign(ctx, str(campaign_id))
        audit.record(ctx, "campaign", campaign_id, "edit", audit.diff(_fields(old), _fields(new)))
        return new


def delete_campaign(ctx: Ctx, ref: str, *, expected_version: int | None = None) -> Campaign:
    """Delete a campaign (its contacts keep their source; `undo` brings it back)."""
    db = ctx.db
    with db.write():
        campaign_id = int(_find(db, ref)["id"])
        db.lock("campaigns", campaign_id, "delete")
        old = _campaign(_find(db, str(campaign_id)))
        if expected_version is not None and old.version != expected_version:
            raise audit.stale(ctx, "campaign", campaign_id, old.name, expected_version, old.version)
        db.execute("DELETE FROM campaigns WHERE id = :id", {"id": campaign_id})
        audit.record(ctx, "campaign", campaign_id, "delete", audit.removed(_fields(old)))
        return old


# -- attribution --------------------------------------------------------------------------------
Days = tuple[date, date]  # first and last local day, both included (FOREVER: no end)


def attribution_windows(campaigns: list[Campaign]) -> dict[int, list[Days]]:
    """Per campaign, the days whose new contacts of its source it takes (first touch): its
    run, less the days on which a campaign of the same source that started later (or the
    same day with a lower id) runs. Pure; the windows of one source never overlap."""
    out: dict[int, list[Days]] = {}
    for c in campaigns:
        runs: list[Days] = [(c.starts_on, c.ends_on or FOREVER)]
        for other in campaigns:
            if other.source != c.source or other.id == c.id:
                continue
            if (other.starts_on, -other.id) <= (c.starts_on, -c.id):
                continue  # this one ranks below c: c keeps those days
            runs = _less(runs, (other.starts_on, other.ends_on or FOREVER))
        out[c.id] = runs
    return out


def _less(runs: list[Days], cut: Days) -> list[Days]:
    """`runs` without the days of `cut`."""
    left: list[Days] = []
    for first, last in runs:
        if cut[1] < first or cut[0] > last:
            left.append((first, last))
            continue
        if cut[0] > first:
            left.append((first, cut[0] - timedelta(days=1)))
        if cut[1] < last:
            left.append((cut[1] + timedelta(days=1), last))
    return left
