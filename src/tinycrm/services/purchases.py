"""Purchases: what customers bought, the raw material of customer value."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from tinycrm.errors import InvalidInput
from tinycrm.money import MAX_CENTS, Money
from tinycrm.refs import hold
from tinycrm.services import audit
from tinycrm.services.contacts import check_text
from tinycrm.services.context import Ctx
from tinycrm.store.db import Db, read_day


@dataclass
class PurchaseView:
    id: int
    contact_id: int
    contact: str
    purchased_on: date
    amount: Money
    amount_cents: int
    currency: str
    note: str | None

    @property
    def refund(self) -> bool:
        """A negative amount: money given back, not an order."""
        return self.amount_cents < 0


def add_purchase(
    ctx: Ctx,
    contact_id: int,
    amount_cents: int,
    *,
    on: date | None = None,
    currency: str | None = None,
    note: str | None = None,
) -> PurchaseView:
    """Record what a contact bought (on `on`, default today; in `currency`, default the
    store's), logged in the audit log. 0 is an order (a free sample, a full discount); a
    negative amount is a refund or return, which lowers the customer's value and is no
    order (docs/value.md)."""
    if abs(amount_cents) >= MAX_CENTS:
        raise InvalidInput("a purchase amount is too large")
    day = on or ctx.now.astimezone(ctx.tz).date()
    if day.year < 1900 or day > ctx.now.astimezone(ctx.tz).date().replace(year=ctx.now.year + 1):
        raise InvalidInput(f"purchase date out of range: {day.isoformat()}")
    db = ctx.db
    with db.write():
        hold(db, "contact", contact_id)
        new_id = db.insert(
            "INSERT INTO purchases (contact_id, purchased_on, amount_cents, currency, note,"
            " created_at) VALUES (:c, :on, :amount, :cur, :note, :now) RETURNING id",
            {
                "c": contact_id,
                "on": db.day(day),
                "amount": amount_cents,
                "cur": currency or ctx.currency,
                "note": check_text(note, "note"),
                "now": db.ts(ctx.now),
            },
        )
        view = list_purchases(db, purchase_id=new_id)[0]
        audit.record(
            ctx,
            "purchase",
            new_id,
            "add",
            audit.added(
                {
                    "amount": view.amount,
                    "currency": view.currency,
                    "purchased_on": view.purchased_on,
                    "note": view.note,
                    "contact": view.contact,
                }
            ),
        )
        return view


def list_purchases(
    db: Db,
    *,
    contact_id: int | None = None,
    since: date | None = None,
    purchase_id: int | None = None,
    limit: int = 200,
) -> list[PurchaseView]:
    """Purchases newest first (one contact's, from `since`, or the one `purchase_id`),
    amounts as `Money`."""
    where: list[str] = []
    params: dict[str, Any] = {"n": limit}
    if contact_id is not None:
        where.append("p.contact_id = :cid")
        params["cid"] = contact_id
    if since is not None:
        where.append("p.purchased_on >= :since")
        params["since"] = db.day(since)
    if purchase_id is not None:
        where.append("p.id = :pid")
        params["pid"] = purchase_id
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    rows = db.all(
        "SELECT p.*, c.name AS contact FROM purchases p JOIN contacts c ON c.id = p.contact_id"
        + clause
        + " ORDER BY p.purchased_on DESC, p.id DESC LIMIT :n",
        params,
    )
    out = []
    for r in rows:
        day = read_day(r["purchased_on"])
        assert day is not None
        out.append(
            PurchaseView(
                r["id"],
                r["contact_id"],
                r["contact"],
                day,
                Money(int(r["amount_cents"]), r["currency"]),
                int(r["amount_cents"]),
                r["currency"],
                r["note"],
            )
        )
    return out
