"""Product recommendations (#22): what customers who bought what this one bought also
bought, that this one hasn't (docs/products.md, "Recommendations").

Item-to-item co-occurrence with cosine similarity over sets of customers. B(p) is the
set of customers with a purchase line naming product p (the erased-customers placeholder
is nobody). For the customer R, who bought the products P, every other product x that is
not archived scores

    score(x) = Σ over p in P of |B(p) ∩ B(x)| / √(|B(p)| · |B(x)|)

each term the cosine of the two products' customer sets: 1 when the same people buy
both, small when x is bought by many who never bought p (a best-seller is not pushed on
everyone). `customers` counts the other customers who bought x and at least one product
of P; `because` lists the products of P it was bought with, most shared first. Ranked
by score, then customers, then name; products scoring 0 are left out. Read in three
queries over two indexes of purchases: `ix_purchases_product` (product, customer) and the
customer-value index, which ends in the product.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from tinycrm.errors import NotFound
from tinycrm.money import Money
from tinycrm.store.db import Db


@dataclass
class Suggestion:
    product_id: int
    sku: str | None
    name: str
    label: str  # SKU and name, as lists show it
    price: Money
    tax_bp: int
    score: float  # see the module docstring
    customers: int  # others who bought it and something this customer bought
    because: list[str] = field(default_factory=list)  # what of theirs it was bought with


@dataclass
class Recommendations:
    contact_id: int
    contact: str
    bought: list[str]  # the products this customer bought (labels), by name
    products: list[Suggestion]


def _label(sku: str | None, name: str) -> str:
    return f"{sku} {name}" if sku else name


def recommend(db: Db, contact_id: int, *, top: int = 5) -> Recommendations:
    """The `top` products to offer a contact, by co-occurrence (see the module docstring)."""
    name = db.value("SELECT name FROM contacts WHERE id = :id", {"id": contact_id})
    if name is None:
        raise NotFound(f"no contact with id {contact_id}")
    with db.read():
        mine = [
            int(r["product_id"])
            for r in db.all(
                "SELECT DISTINCT product_id FROM purchases WHERE contact_id = :r"
                " AND product_id IS NOT NULL",
                {"r": contact_id},
            )
        ]
        products = {
            int(r["id"]): r
            for r in db.all(
                "SELECT id, sku, name, price_cents, currency, tax_bp, archived_at FROM products"
            )
        }
        bought = sorted(
            (_label(products[p]["sku"], products[p]["name"]) for p in mine), key=str.casefold
        )
        if not mine:
            return Recommendations(contact_id, str(name), bought, [])
        nobody = db.value("SELECT id FROM contacts WHERE name_key = '' ORDER BY id LIMIT 1")
        skip = {"r": contact_id, "nobody": -1 if nobody is None else int(nobody)}
        listed = ", ".join(str(p) for p in mine)
        # |B(p)| for every product
        sizes = {
            int(r["product_id"]): int(r["n"])
            for r in db.all(
                "SELECT product_id, count(DISTINCT contact_id) AS n FROM purchases"
                " WHERE product_id IS NOT NULL AND contact_id <> :nobody GROUP BY product_id",
                skip,
            )
        }
        # |B(p) ∩ B(x)| for p of mine, x any other product, over the other customers
        pairs = db.all(
            "SELECT a.product_id AS p, b.product_id AS x, count(DISTINCT a.contact_id) AS n"
            " FROM purchases a JOIN purchases b ON b.contact_id = a.contact_id"
            f" WHERE a.product_id IN ({listed}) AND b.product_id IS NOT NULL"
            f" AND b.product_id NOT IN ({listed})"
            " AND a.contact_id <> :r AND a.contact_id <> :nobody"
            " GROUP BY a.product_id, b.product_id",
            skip,
        )
        reach = {
            int(r["x"]): int(r["n"])
            for r in db.all(
                "SELECT b.product_id AS x, count(DISTINCT b.contact_id) AS n FROM purchases b"
                " WHERE b.product_id IS NOT NULL AND b.contact_id <> :r"
                " AND b.contact_id <> :nobody AND b.contact_id IN (SELECT a.contact_id FROM"
                f" purchases a WHERE a.product_id IN ({listed}))"
                " GROUP BY b.product_id",
                skip,
            )
        }
    # R's own purchases are in |B(p)| (they bought p) but not in the pairs: R never bought x
    scores: dict[int, float] = {}
    shared: dict[int, list[tuple[int, int]]] = {}
    for r in pairs:
        p, x, n = int(r["p"]), int(r["x"]), int(r["n"])
        if x not in products or products[x]["archived_at"] is not None:
            continue
        scores[x] = scores.get(x, 0.0) + n / math.sqrt(sizes[p] * sizes[x])
        shared.setdefault(x, []).append((n, p))
    out = []
    for x, score in scores.items():
        row = products[x]
        with_ = sorted(shared[x], key=lambda t: (-t[0], products[t[1]]["name"].casefold()))
        out.append(
            Suggestion(
                product_id=x,
                sku=row["sku"],
                name=row["name"],
                label=_label(row["sku"], row["name"]),
                price=Money(int(row["price_cents"]), row["currency"]),
                tax_bp=int(row["tax_bp"]),
                score=round(score, 6),
                customers=reach.get(x, 0),
                because=[_label(products[p]["sku"], products[p]["name"]) for _, p in with_],
            )
        )
    out.sort(key=lambda s: (-s.score, -s.customers, s.name.casefold(), s.product_id))
    return Recommendations(contact_id, str(name), bought, out[:top])
