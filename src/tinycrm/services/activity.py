"""The recent activity across everything: what `tinycrm log` shows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tinycrm.money import display_money
from tinycrm.store.db import Db, read_ts
from tinycrm.text import one_line


@dataclass
class Event:
    at: datetime
    # contact+ | note | call | email | meeting | reminder+ | done | deal+ | deal> | purchase
    kind: str
    text: str
    who: str | None  # the contact/company/deal it concerns
    user: str | None
    ref: str


@dataclass(frozen=True)
class _Source:
    """One kind of event: a query newest-first on an index, and how to describe a row.
    Rows are appended in id order, so `ORDER BY id DESC` is creation order via the rowid."""

    select: str
    time_col: str
    order: str
    describe: Callable[[dict[str, Any]], tuple[str, str, str]]  # kind, text, ref


def _purchase_text(r: dict[str, Any]) -> str:
    text = display_money(int(r["amount_cents"]), r["currency"])
    return text + (f" — {one_line(r['note'], 80)}" if r["note"] else "")


_SOURCES = (
    _Source(
        "SELECT i.id, i.kind, i.body, i.happened_at AS at, coalesce(c.name, co.name) AS who,"
        " u.name AS user FROM interactions i LEFT JOIN contacts c ON c.id = i.contact_id"
        " LEFT JOIN companies co ON co.id = i.company_id LEFT JOIN users u ON u.id = i.user_id",
        "i.happened_at",
        "i.happened_at DESC, i.id DESC",
        lambda r: (r["kind"], one_line(r["body"], 120), f"interaction:{r['id']}"),
    ),
    _Source(
        "SELECT c.id, c.created_at AS at, c.name AS who, u.name AS user FROM contacts c"
        " LEFT JOIN users u ON u.id = c.owner_id",
        "c.created_at",
        "c.id DESC",
        lambda r: ("contact+", "new contact", f"contact:{r['id']}"),
    ),
    _Source(
        "SELECT r.id, r.text, r.created_at AS at, coalesce(c.name, co.name, d.title) AS who,"
        " u.name AS user FROM reminders r LEFT JOIN contacts c ON c.id = r.contact_id"
        " LEFT JOIN companies co ON co.id = r.company_id LEFT JOIN deals d ON d.id = r.deal_id"
        " LEFT JOIN users u ON u.id = r.owner_id",
        "r.created_at",
        "r.id DESC",
        lambda r: ("reminder+", one_line(r["text"], 120), f"reminder:{r['id']}"),
    ),
    _Source(
        "SELECT r.id, r.text, r.done_at AS at, coalesce(c.name, co.name, d.title) AS who,"
        " u.name AS user FROM reminders r LEFT JOIN contacts c ON c.id = r.contact_id"
        " LEFT JOIN companies co ON co.id = r.company_id LEFT JOIN deals d ON d.id = r.deal_id"
        " LEFT JOIN users u ON u.id = r.owner_id WHERE r.done_at IS NOT NULL",
        "r.done_at",
        "r.done_at DESC, r.id DESC",
        lambda r: ("done", one_line(r["text"], 120), f"reminder:{r['id']}"),
    ),
    _Source(
        "SELECT sc.id, sc.deal_id, sc.from_stage_id, sc.changed_at AS at, d.title AS who,"
        " t.name AS stage, u.name AS user FROM stage_changes sc"
        " JOIN deals d ON d.id = sc.deal_id JOIN stages t ON t.id = sc.to_stage_id"
        " LEFT JOIN users u ON u.id = sc.user_id",
        "sc.changed_at",
        "sc.id DESC",
        lambda r: (
            ("deal+", f"new deal in {r['stage']}", f"deal:{r['deal_id']}")
            if r["from_stage_id"] is None
            else ("deal>", f"moved to {r['stage']}", f"deal:{r['deal_id']}")
        ),
    ),
    _Source(
        "SELECT p.id, p.amount_cents, p.currency, p.note, p.created_at AS at, c.name AS who,"
        " NULL AS user FROM purchases p JOIN contacts c ON c.id = p.contact_id",
        "p.created_at",
        "p.id DESC",
        lambda r: ("purchase", _purchase_text(r), f"purchase:{r['id']}"),
    ),
)


def recent(db: Db, *, limit: int = 30, since: datetime | None = None) -> list[Event]:
    """The newest `limit` events, merged from every source."""
    params: dict[str, Any] = {"n": limit}
    if since is not None:
        params["since"] = db.ts(since)
    events: list[Event] = []
    with db.read():
        for src in _SOURCES:
            sql = src.select
            if since is not None:  # (a bound NULL can't be typed by PostgreSQL)
                joiner = " AND " if " WHERE " in sql else " WHERE "
                sql += f"{joiner}{src.time_col} >= :since"
            for r in db.all(f"{sql} ORDER BY {src.order} LIMIT :n", params):
                kind, text, ref = src.describe(r)
                at = read_ts(r["at"])
                assert at is not None
                events.append(Event(at, kind, text, r["who"], r["user"], ref))
    events.sort(key=lambda e: (e.at, e.ref), reverse=True)
    return events[:limit]
