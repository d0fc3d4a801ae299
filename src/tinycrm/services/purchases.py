"""Purchases: what customers bought, the raw material of customer value."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from tinycrm.errors import InvalidInput, UnknownId
from tinycrm.money import MAX_CENTS, Money
from tinycrm.pricing import check_quantity
from tinycrm.refs import hold
from tinycrm.services import audit
from tinycrm.services.contacts import check_text, check_version
from tinycrm.services.context import Ctx
from tinycrm.services.products import find_product
from tinycrm.store.db import Db, LockMode, read_day


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
    version: int = 1  # changes on every edit; pass it back as expected_version
    product_id: int | None = None  # what was bought, from the catalogue (#22)
    product: str | None = None  # its SKU, else its name
    quantity: int | None = None
    deal_id: int | None = None  # the won deal whose items it came from

    @property
    def refund(self) -> bool:
        """A negative amount: money given back, not an order."""
        return self.amount_cents < 0


def _check_amount(cents: int) -> None:
    """Any amount up to the limit: 0 is an order, a negative amount a refund."""
    if abs(cents) >= MAX_CENTS:
        raise InvalidInput("a purchase amount is too large")


def _check_day(ctx: Ctx, day: date, *, future: bool) -> date:
    """A purchase's day: in range, and not after today unless `future` says it is meant (a
    purchase dated ahead would count in rankings as made)."""
    if day.year < 1900 or day > ctx.now.astimezone(ctx.tz).date().replace(year=ctx.now.year + 1):
        raise InvalidInput(f"purchase date out of range: {day.isoformat()}")
    if day > ctx.now.astimezone(ctx.tz).date() and not future:
        raise InvalidInput(
            f"a purchase records what was bought, and {day.isoformat()} is in the future;"
            " give a past date, or add --future if it is meant"
        )
    return day


def add_purchase(
    ctx: Ctx,
    contact_id: int,
    amount_cents: int,
    *,
    on: date | None = None,
    currency: str | None = None,
    note: str | None = None,
    future: bool = False,
    product: str | None = None,
    quantity: int | None = None,
) -> PurchaseView:
    """Record what a contact bought (on `on`, default today; in `currency`, default the
    store's), logged in the audit log; with `product` (a SKU, name or #id of the
    catalogue) and `quantity` (default 1), which product and how many. 0 is an order (a
    free sample, a full discount); a negative amount is a refund or return, which lowers
    the customer's value and is no order (docs/value.md). A day after today is refused
    (the purchase would count in rankings as made) unless `future` says so."""
    _check_amount(amount_cents)
    day = _check_day(ctx, on or ctx.now.astimezone(ctx.tz).date(), future=future)
    if quantity is not None:
        if product is None:
            raise InvalidInput("--qty says how many of a product: give --product too")
        check_quantity(quantity)
    db = ctx.db
    with db.write():
        product_id = None
        if product is not None:
            db.lock_key("products", shared=True)  # the product stays until the row names it
            product_id = find_product(db, product).id
            quantity = quantity or 1
        hold(db, "contact", contact_id)
        new_id = db.insert(
            "INSERT INTO purchases (contact_id, purchased_on, amount_cents, currency, note,"
            " created_at, product_id, quantity) VALUES (:c, :on, :amount, :cur, :note, :now,"
            " :product, :qty) RETURNING id",
            {
                "product": product_id,
                "qty": quantity,
                "c": contact_id,
                "on": db.day(day),
                "amount": amount_cents,
                "cur": currency or ctx.currency,
                "note": check_text(note, "note"),
                "now": db.ts(ctx.now),
            },
        )
        view = list_purchases(db, purchase_id=new_id)[0]
        audit.record(ctx, "purchase", new_id, "add", audit.added(_fields(view)))
        return view


def _fields(view: PurchaseView) -> dict[str, Any]:
    """A purchase as the audit log records it."""
    return {
        "amount": view.amount,
        "currency": view.currency,
        "purchased_on": view.purchased_on,
        "note": view.note,
        "contact": view.contact,
        "product": view.product,
        "quantity": view.quantity,
    }


def get_purchase(db: Db, purchase_id: int) -> PurchaseView:
    """One purchase; UnknownId (exit 2) when there is none."""
    found = list_purchases(db, purchase_id=purchase_id)
    if not found:
        raise UnknownId(f"no purchase with id {purchase_id}")
    return found[0]


def _lock(db: Db, purchase_id: int, mode: LockMode) -> PurchaseView:
    """Keep the purchase's contact, lock the purchase, and read it."""
    contact_id = db.value("SELECT contact_id FROM purchases WHERE id = :id", {"id": purchase_id})
    if contact_id is None:
        raise UnknownId(f"no purchase with id {purchase_id}")
    db.lock("contacts", contact_id, "keep")
    db.lock("purchases", purchase_id, mode)
    return get_purchase(db, purchase_id)


def _label(view: PurchaseView) -> str:
    return f"of {view.contact} on {view.purchased_on.isoformat()}"


def edit_purchase(
    ctx: Ctx,
    purchase_id: int,
    *,
    amount_cents: int | None = None,
    currency: str | None = None,
    on: date | None = None,
    note: str | None = None,
    contact_id: int | None = None,
    expected_version: int | None = None,
    future: bool = False,
    product: str | None = None,
    quantity: int | None = None,
) -> PurchaseView:
    """Correct a purchase: amount, currency, date (not after today unless `future`), note
    ('' clears it), whose it is, or what was bought (`product`, '' for none; `quantity`).
    Rankings and reports read purchases as they are, so they follow. With
    `expected_version`, a purchase changed since is refused."""
    sets: dict[str, Any] = {}
    if amount_cents is not None:
        _check_amount(amount_cents)  # 0 is an order, a negative amount a refund
        sets["amount_cents"] = amount_cents
    if currency is not None:
        sets["currency"] = currency
    if on is not None:
        sets["purchased_on"] = ctx.db.day(_check_day(ctx, on, future=future))
    if note is not None:
        sets["note"] = check_text(note, "note") or None
    if contact_id is not None:
        sets["contact_id"] = contact_id
    if quantity is not None:
        check_quantity(quantity)
        sets["quantity"] = quantity
    if not sets and product is None:
        raise InvalidInput("nothing to change: give at least one option (see --help)")
    db = ctx.db
    with db.write():
        if product is not None:
            db.lock_key("products", shared=True)
            if product.strip():
                sets["product_id"] = find_product(db, product).id
                sets.setdefault("quantity", quantity or None)
            else:
                sets["product_id"] = sets["quantity"] = None
        if contact_id is not None:
            hold(db, "contact", contact_id)
        old = _lock(db, purchase_id, "change")
        if product is not None and product.strip() and sets.get("quantity") is None:
            sets["quantity"] = old.quantity or 1
        if (
            "quantity" in sets
            and sets["quantity"] is not None
            and (sets.get("product_id", old.product_id) is None)
        ):
            raise InvalidInput("--qty says how many of a product: give --product too")
        check_version(ctx, "purchase", purchase_id, _label(old), old.version, expected_version)
        assigns = ", ".join(f"{k} = :{k}" for k in sets)
        db.execute(
            f"UPDATE purchases SET {assigns}, version = version + 1 WHERE id = :id",
            {**sets, "id": purchase_id},
        )
        new = get_purchase(db, purchase_id)
        audit.record(ctx, "purchase", purchase_id, "edit", audit.diff(_fields(old), _fields(new)))
        return new


def delete_purchase(
    ctx: Ctx, purchase_id: int, *, expected_version: int | None = None
) -> PurchaseView:
    """Delete a purchase; returns it as it was."""
    db = ctx.db
    with db.write():
        old = _lock(db, purchase_id, "delete")
        check_version(ctx, "purchase", purchase_id, _label(old), old.version, expected_version)
        db.execute("DELETE FROM purchases WHERE id = :id", {"id": purchase_id})
        audit.record(ctx, "purchase", purchase_id, "delete", audit.removed(_fields(old)))
        return old


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
        "SELECT p.*, c.name AS contact, coalesce(pr.sku, pr.name) AS product FROM purchases p"
        " JOIN contacts c ON c.id = p.contact_id LEFT JOIN products pr ON pr.id = p.product_id"
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
                int(r["version"]),
                r["product_id"],
                r["product"],
                r["quantity"],
                r["deal_id"],
            )
        )
    return out
