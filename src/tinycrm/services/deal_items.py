"""Line items on deals (#22): products, quantities, prices, discounts and tax.

A deal with items takes its value from them: the sum of the lines' nets (quantity × price
less discount, before tax), written to `deals.value_cents` in the same transaction as the
change to an item, which moves the deal's version like any edit (tinycrm.pricing has the
arithmetic and its rounding rules). Removing the last item leaves the value as it was, a
typed value again. Items change only while the deal is open; an item takes the product's
price and tax rate when it is added (a later price change leaves it alone), and the
deal's currency: a product priced in another currency needs a price given.

Lines are numbered 1, 2, 3 in the order they were added (`line` in the views), as `deal
show` and quotes show them; removing one closes the gap.

When a deal with items is won, each line becomes a purchase of its product by the deal's
contact (`purchases_from_won`, called by `deals.move_deal` in its transaction): once per
deal, since the purchases remember the deal, so reopening and winning it again adds none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tinycrm.errors import InvalidInput, NotFound, UnknownId
from tinycrm.money import MAX_CENTS, Money, format_cents
from tinycrm.pricing import BP, Line, check_quantity, format_percent, totals
from tinycrm.services import audit, clocks
from tinycrm.services.context import Ctx
from tinycrm.services.products import find_product
from tinycrm.store.db import Db


@dataclass
class ItemView:
    line: int  # 1, 2, 3: the line number `deal show` and quotes show
    id: int
    product_id: int
    sku: str | None
    product: str
    unit: str | None
    quantity: int
    price: Money  # each
    discount_bp: int | None  # a percentage discount, in basis points
    discount: Money  # what the discount takes off the line (a percentage rounded half-up)
    gross: Money  # quantity × price
    net: Money  # gross less discount
    tax_bp: int


@dataclass
class TaxView:
    rate_bp: int
    base: Money  # the nets of the lines at this rate
    tax: Money  # base × rate, rounded half-up once


@dataclass
class DealLines:
    """A deal's items and what they come to (empty `items`: a deal with a typed value)."""

    deal_id: int
    currency: str
    items: list[ItemView] = field(default_factory=list)
    gross: Money | None = None  # before discounts
    discount: Money | None = None
    net: Money | None = None  # the deal's value
    taxes: list[TaxView] = field(default_factory=list)
    tax: Money | None = None
    total: Money | None = None  # net plus tax


def read_lines(db: Db, deal_id: int) -> DealLines:
    """A deal's line items in order, with the totals `tinycrm.pricing` works out."""
    currency = db.value("SELECT currency FROM deals WHERE id = :id", {"id": deal_id})
    if currency is None:
        raise NotFound(f"no deal with id {deal_id}")
    rows = db.all(
        "SELECT i.*, p.sku, p.name, p.unit FROM deal_items i"
        " JOIN products p ON p.id = i.product_id WHERE i.deal_id = :id ORDER BY i.position, i.id",
        {"id": deal_id},
    )
    lines = [
        Line(
            int(r["quantity"]),
            int(r["price_cents"]),
            r["discount_bp"],
            None if r["discount_cents"] is None else int(r["discount_cents"]),
            int(r["tax_bp"]),
        )
        for r in rows
    ]
    t = totals(lines)

    def m(cents: int) -> Money:
        return Money(cents, currency)

    out = DealLines(deal_id, currency)
    if not rows:
        return out
    for n, (r, a) in enumerate(zip(rows, t.lines, strict=True), start=1):
        out.items.append(
            ItemView(
                line=n,
                id=int(r["id"]),
                product_id=int(r["product_id"]),
                sku=r["sku"],
                product=r["name"],
                unit=r["unit"],
                quantity=int(r["quantity"]),
                price=m(int(r["price_cents"])),
                discount_bp=r["discount_bp"],
                discount=m(a.discount_cents),
                gross=m(a.gross_cents),
                net=m(a.net_cents),
                tax_bp=int(r["tax_bp"]),
            )
        )
    out.gross, out.discount, out.net = m(t.gross_cents), m(t.discount_cents), m(t.net_cents)
    out.taxes = [TaxView(x.rate_bp, m(x.base_cents), m(x.tax_cents)) for x in t.taxes]
    out.tax, out.total = m(t.tax_cents), m(t.total_cents)
    return out


def _describe(item: ItemView) -> str:
    """A line as the audit log records it: '3 × WID-1 Widget at 12.00 EUR less 10%'."""
    text = f"{item.quantity} × {item.sku + ' ' if item.sku else ''}{item.product} at"
    text += f" {format_cents(item.price.cents)} {item.price.currency}"
    if item.discount_bp is not None:
        text += f" less {format_percent(item.discount_bp)}"
    elif item.discount.cents:
        text += f" less {format_cents(item.discount.cents)}"
    return text


def _open_deal(db: Db, deal_id: int) -> dict[str, Any]:
    """Lock the deal (its value changes with its items) and check items can change."""
    db.lock("deals", deal_id)
    row = db.one(
        "SELECT id, title, status, currency, value_cents, contact_id FROM deals WHERE id = :id",
        {"id": deal_id},
    )
    if row is None:
        raise UnknownId(f"no deal with id {deal_id}")
    if row["status"] != "open":
        raise InvalidInput(
            f"deal #{deal_id} {row['title']} is {row['status']}: reopen it to change its items"
            f" (tinycrm deal reopen {deal_id})"
        )
    return row


def _check_discount(
    quantity: int, price_cents: int, discount_bp: int | None, discount_cents: int | None
) -> None:
    if discount_bp is not None and discount_cents is not None:
        raise InvalidInput("give a discount as a percentage or an amount, not both")
    if discount_bp is not None and not 0 < discount_bp <= BP:
        raise InvalidInput("a discount is more than 0% and at most 100%")
    if discount_cents is not None:
        if discount_cents <= 0:
            raise InvalidInput("a discount amount must be more than zero")
        if discount_cents > quantity * price_cents:
            raise InvalidInput(
                f"the discount ({format_cents(discount_cents)}) is more than the line"
                f" ({format_cents(quantity * price_cents)})"
            )


def _check_price(cents: int, quantity: int) -> None:
    if cents < 0:
        raise InvalidInput("a price can't be negative (give a discount instead)")
    if cents * quantity >= MAX_CENTS:
        raise InvalidInput("the line comes to more than tinycrm can hold")


def _item_at(lines: DealLines, line: int) -> ItemView:
    if not lines.items:
        raise InvalidInput(f"deal #{lines.deal_id} has no items")
    if not 1 <= line <= len(lines.items):
        raise InvalidInput(
            f"deal #{lines.deal_id} has no line {line}: its lines are 1 to {len(lines.items)}"
        )
    return lines.items[line - 1]


def _revalue(ctx: Ctx, deal: dict[str, Any], changes: dict[str, Any]) -> DealLines:
    """Set the deal's value to its items' net, move its version and clocks, and log the
    change to the deal (the line as it was and is, and the value)."""
    db = ctx.db
    lines = read_lines(db, int(deal["id"]))
    value = lines.net.cents if lines.net is not None else int(deal["value_cents"])
    now = db.ts(ctx.now)
    db.execute(
        "UPDATE deals SET value_cents = :v, updated_at = :now, activity_at = :now,"
        " version = version + 1 WHERE id = :id",
        {"v": value, "now": now, "id": deal["id"]},
    )
    clocks.refresh_rot(db, [int(deal["id"])])
    if value != int(deal["value_cents"]):
        cur = str(deal["currency"])
        changes["value"] = [Money(int(deal["value_cents"]), cur), Money(value, cur)]
    audit.record(
        ctx, "deal", int(deal["id"]), "edit", {k: audit.plain(v) for k, v in changes.items()}
    )
    return lines


def add_item(
    ctx: Ctx,
    deal_id: int,
    product: str,
    *,
    quantity: int,
    price_cents: int | None = None,
    discount_bp: int | None = None,
    discount_cents: int | None = None,
) -> DealLines:
    """Put `quantity` of a product on an open deal, at the product's price (or
    `price_cents`, in the deal's currency) and tax rate, less a discount; the deal's value
    becomes its items' net. Returns the deal's lines."""
    check_quantity(quantity)
    db = ctx.db
    with db.write():
        db.lock_key("products", shared=True)  # the product stays until the item names it
        deal = _open_deal(db, deal_id)
        p = find_product(db, product)
        if p.archived_at is not None:
            raise InvalidInput(
                f"product {p.label} is archived (tinycrm product edit {p.sku or p.id} --restore)"
            )
        if price_cents is None:
            if p.price.currency != deal["currency"]:
                raise InvalidInput(
                    f"product {p.label} is priced in {p.price.currency} and deal #{deal_id}"
                    f" is in {deal['currency']}: give --price in {deal['currency']}"
                )
            price_cents = p.price.cents
        _check_price(price_cents, quantity)
        _check_discount(quantity, price_cents, discount_bp, discount_cents)
        position = db.value(
            "SELECT coalesce(max(position), 0) + 1 FROM deal_items WHERE deal_id = :id",
            {"id": deal_id},
        )
        db.execute(
            "INSERT INTO deal_items (deal_id, product_id, position, quantity, price_cents,"
            " discount_bp, discount_cents, tax_bp, created_at) VALUES (:deal, :product, :pos,"
            " :qty, :price, :dbp, :dc, :tax, :now)",
            {
                "deal": deal_id,
                "product": p.id,
                "pos": int(position),
                "qty": quantity,
                "price": price_cents,
                "dbp": discount_bp,
                "dc": discount_cents,
                "tax": p.tax_bp,
                "now": db.ts(ctx.now),
            },
        )
        added = read_lines(db, deal_id).items[-1]
        return _revalue(ctx, deal, {f"line {added.line}": [None, _describe(added)]})


def edit_item(
    ctx: Ctx,
    deal_id: int,
    line: int,
    *,
    quantity: int | None = None,
    price_cents: int | None = None,
    discount_bp: int | None = None,
    discount_cents: int | None = None,
    no_discount: bool = False,
) -> DealLines:
    """Change a line's quantity, price or discount (`no_discount` takes it off); the
    deal's value follows."""
    if quantity is not None:
        check_quantity(quantity)
    given = (quantity, price_cents, discount_bp, discount_cents)
    if all(v is None for v in given) and not no_discount:
        raise InvalidInput("nothing to change: give --qty, --price or --discount (see --help)")
    if no_discount and (discount_bp is not None or discount_cents is not None):
        raise InvalidInput("give --discount or --no-discount, not both")
    db = ctx.db
    with db.write():
        deal = _open_deal(db, deal_id)
        old = _item_at(read_lines(db, deal_id), line)
        qty = quantity if quantity is not None else old.quantity
        price = price_cents if price_cents is not None else old.price.cents
        if no_discount:
            dbp, dc = None, None
        elif discount_bp is not None or discount_cents is not None:
            dbp, dc = discount_bp, discount_cents
        else:
            dbp = old.discount_bp
            dc = old.discount.cents if old.discount_bp is None and old.discount.cents else None
        _check_price(price, qty)
        _check_discount(qty, price, dbp, dc)
        db.execute(
            "UPDATE deal_items SET quantity = :qty, price_cents = :price, discount_bp = :dbp,"
            " discount_cents = :dc WHERE id = :id",
            {"qty": qty, "price": price, "dbp": dbp, "dc": dc, "id": old.id},
        )
        new = _item_at(read_lines(db, deal_id), line)
        return _revalue(ctx, deal, {f"line {line}": [_describe(old), _describe(new)]})


def remove_item(ctx: Ctx, deal_id: int, line: int) -> DealLines:
    """Take a line off an open deal; the lines after it move up one. The last line's going
    leaves the deal's value as it was, a typed value again."""
    db = ctx.db
    with db.write():
        deal = _open_deal(db, deal_id)
        old = _item_at(read_lines(db, deal_id), line)
        db.execute("DELETE FROM deal_items WHERE id = :id", {"id": old.id})
        return _revalue(ctx, deal, {f"line {line}": [_describe(old), None]})


def purchases_from_won(ctx: Ctx, deal_id: int) -> int:
    """In the transaction that wins a deal: each line item becomes a purchase of its
    product by the deal's contact (the line's net, today, in the deal's currency), unless
    the deal made its purchases before (won, reopened, won again) or has no contact.
    Returns how many purchases were added."""
    db = ctx.db
    deal = db.one(
        "SELECT id, title, contact_id, currency FROM deals WHERE id = :id", {"id": deal_id}
    )
    if deal is None or deal["contact_id"] is None:
        return 0
    if db.value("SELECT count(*) FROM purchases WHERE deal_id = :id", {"id": deal_id}):
        return 0
    lines = read_lines(db, deal_id)
    if not lines.items:
        return 0
    db.lock("contacts", int(deal["contact_id"]), "keep")
    today = db.day(ctx.now.astimezone(ctx.tz).date())
    contact = db.value("SELECT name FROM contacts WHERE id = :id", {"id": deal["contact_id"]})
    for item in lines.items:
        new_id = db.insert(
            "INSERT INTO purchases (contact_id, purchased_on, amount_cents, currency, note,"
            " created_at, product_id, quantity, deal_id) VALUES (:c, :on, :amount, :cur, :note,"
            " :now, :product, :qty, :deal) RETURNING id",
            {
                "c": deal["contact_id"],
                "on": today,
                "amount": item.net.cents,
                "cur": lines.currency,
                "note": f"deal #{deal_id} {deal['title']}",
                "now": db.ts(ctx.now),
                "product": item.product_id,
                "qty": item.quantity,
                "deal": deal_id,
            },
        )
        audit.record(
            ctx,
            "purchase",
            new_id,
            "add",
            audit.added(
                {
                    "amount": item.net,
                    "currency": lines.currency,
                    "purchased_on": ctx.now.astimezone(ctx.tz).date(),
                    "product": item.sku or item.product,
                    "quantity": item.quantity,
                    "deal": deal_id,
                    "contact": contact,
                }
            ),
        )
    return len(lines.items)
