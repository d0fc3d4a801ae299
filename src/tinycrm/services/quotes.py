"""Quotes (#22): a numbered offer made from a deal's line items, stored as it was issued.

`issue_quote` numbers the quote `Q-<year>-<n>` (the year it is issued in, local time;
`n` from 0001 up, per year), and stores what it shows as `content`: the company's header
and terms from the team settings, the customer (the deal's contact and company, their
first email and address), the lines with discounts, tax per rate and the totals, the
validity. A quote renders from `content` alone (tinycrm.io.quote_format), so it reads the
same later whatever happens to the deal, the catalogue or the settings; `quote list`
shows a deal's versions.

Numbers are never reused: the counter (`quote_counters`, one row per year) is read and
moved under the `quote numbers` lock key, so concurrent writers on PostgreSQL take turns
(SQLite's write lock already serialises them), and it is kept out of the change journal,
so `undo` takes a quote back but not its number.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime, timedelta
from typing import Any

from tinycrm.errors import InvalidInput, NotFound
from tinycrm.money import Money
from tinycrm.services import audit, team_settings
from tinycrm.services.context import Ctx
from tinycrm.services.deal_items import read_lines
from tinycrm.store.db import Db, read_day, read_ts

MAX_VALID_DAYS = 3650


@dataclass(frozen=True)
class QuoteLine:
    line: int
    sku: str | None
    product: str
    unit: str | None
    quantity: int
    price_cents: int
    discount_bp: int | None
    discount_cents: int
    net_cents: int
    tax_bp: int


@dataclass(frozen=True)
class QuoteTax:
    rate_bp: int
    base_cents: int
    tax_cents: int


@dataclass(frozen=True)
class QuoteContent:
    """Everything a quote shows, as it was issued (stored as JSON in `quotes.content`)."""

    number: str
    issued_on: date
    valid_until: date
    seller_name: str
    seller_address: list[str]
    seller_email: str
    terms: str
    customer: str | None  # the deal's contact
    customer_company: str | None
    customer_email: str | None
    customer_address: list[str]
    deal_id: int
    deal_title: str
    currency: str
    lines: list[QuoteLine] = field(default_factory=list)
    gross_cents: int = 0
    discount_cents: int = 0
    net_cents: int = 0
    taxes: list[QuoteTax] = field(default_factory=list)
    tax_cents: int = 0
    total_cents: int = 0

    def to_json(self) -> str:
        """The content as stored in `quotes.content` (days ISO, money integer cents)."""
        data = asdict(self)
        data["issued_on"] = self.issued_on.isoformat()
        data["valid_until"] = self.valid_until.isoformat()
        return json.dumps(data, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> QuoteContent:
        """The content read back from `quotes.content`."""
        data: dict[str, Any] = json.loads(text)
        known = {f.name for f in fields(cls)}
        data = {k: v for k, v in data.items() if k in known}  # what a later version adds
        data["issued_on"] = date.fromisoformat(data["issued_on"])
        data["valid_until"] = date.fromisoformat(data["valid_until"])
        data["lines"] = [QuoteLine(**x) for x in data["lines"]]
        data["taxes"] = [QuoteTax(**x) for x in data["taxes"]]
        return cls(**data)


@dataclass
class QuoteView:
    id: int
    number: str
    deal_id: int
    issued_at: datetime
    valid_until: date
    total: Money
    user: str | None
    content: QuoteContent


@dataclass
class QuoteSummary:
    id: int
    number: str
    issued_at: datetime
    valid_until: date
    total: Money
    user: str | None
    lines: int
    expired: bool  # valid_until is before today


def _next_number(db: Db, year: int) -> str:
    """The next quote number of `year`, moving the counter (in the caller's write, which
    holds the `quote numbers` lock key)."""
    last = db.value("SELECT last FROM quote_counters WHERE year = :y", {"y": year})
    if last is None:
        n = 1
        db.execute("INSERT INTO quote_counters (year, last) VALUES (:y, 1)", {"y": year})
    else:
        n = int(last) + 1
        db.execute("UPDATE quote_counters SET last = :n WHERE year = :y", {"n": n, "y": year})
    return f"Q-{year}-{n:04d}"


def _customer(db: Db, contact_id: int | None) -> tuple[str | None, list[str]]:
    """The contact's first email address and first postal address (as lines)."""
    if contact_id is None:
        return None, []
    rows = db.all(
        "SELECT kind, value FROM contact_methods WHERE contact_id = :id"
        " AND kind IN ('email', 'address') ORDER BY position, id",
        {"id": contact_id},
    )
    email = next((r["value"] for r in rows if r["kind"] == "email"), None)
    address = next((r["value"] for r in rows if r["kind"] == "address"), None)
    lines = [p.strip() for p in str(address).replace(";", "\n").splitlines()] if address else []
    return email, [p for p in lines if p]


def issue_quote(ctx: Ctx, deal_id: int, *, valid_days: int | None = None) -> QuoteView:
    """Number and store a quote of a deal's line items, valid for `valid_days` (default
    the team's `quote-valid-for`, 30 days); logged on the deal. The deal needs items."""
    if valid_days is not None and not 1 <= valid_days <= MAX_VALID_DAYS:
        raise InvalidInput(f"--valid-for is between 1d and {MAX_VALID_DAYS}d")
    db = ctx.db
    with db.write():
        db.lock_key("quote numbers")  # keys before rows: the counter is read further down
        db.lock("deals", deal_id, "keep")  # the deal stays until the quote is on it
        deal = db.one(
            "SELECT d.id, d.title, d.contact_id, c.name AS contact, co.name AS company"
            " FROM deals d LEFT JOIN contacts c ON c.id = d.contact_id"
            " LEFT JOIN companies co ON co.id = d.company_id WHERE d.id = :id",
            {"id": deal_id},
        )
        if deal is None:
            raise NotFound(f"no deal with id {deal_id}")
        lines = read_lines(db, deal_id)
        if not lines.items:
            raise InvalidInput(
                f"deal #{deal_id} {deal['title']} has no items to quote:"
                f" add them with tinycrm deal item add {deal_id} PRODUCT --qty N"
            )
        assert lines.net and lines.tax and lines.total and lines.gross and lines.discount
        settings = {s.key: s.value for s in team_settings.list_settings(db)}
        if valid_days is None:
            valid_days = int(settings["quote-valid-for"].rstrip("d"))
        today = ctx.now.astimezone(ctx.tz).date()
        number = _next_number(db, today.year)
        email, address = _customer(db, deal["contact_id"])
        content = QuoteContent(
            number=number,
            issued_on=today,
            valid_until=today + timedelta(days=valid_days),
            seller_name=settings["company-name"],
            seller_address=[x for x in settings["company-address"].split("\n") if x],
            seller_email=settings["company-email"],
            terms=settings["quote-terms"],
            customer=deal["contact"],
            customer_company=deal["company"],
            customer_email=email,
            customer_address=address,
            deal_id=deal_id,
            deal_title=deal["title"],
            currency=lines.currency,
            lines=[
                QuoteLine(
                    i.line,
                    i.sku,
                    i.product,
                    i.unit,
                    i.quantity,
                    i.price.cents,
                    i.discount_bp,
                    i.discount.cents,
                    i.net.cents,
                    i.tax_bp,
                )
                for i in lines.items
            ],
            gross_cents=lines.gross.cents,
            discount_cents=lines.discount.cents,
            net_cents=lines.net.cents,
            taxes=[QuoteTax(t.rate_bp, t.base.cents, t.tax.cents) for t in lines.taxes],
            tax_cents=lines.tax.cents,
            total_cents=lines.total.cents,
        )
        quote_id = db.insert(
            "INSERT INTO quotes (number, deal_id, issued_at, valid_until, total_cents, currency,"
            " content, user_id) VALUES (:number, :deal, :now, :until, :total, :cur, :content,"
            " :user) RETURNING id",
            {
                "number": number,
                "deal": deal_id,
                "now": db.ts(ctx.now),
                "until": db.day(content.valid_until),
                "total": content.total_cents,
                "cur": content.currency,
                "content": content.to_json(),
                "user": ctx.user_id,
            },
        )
        audit.record(
            ctx,
            "deal",
            deal_id,
            "quote",
            audit.added(
                {
                    "quote": number,
                    "total": lines.total,
                    "valid_until": content.valid_until,
                }
            ),
        )
        return get_quote(db, number, quote_id=quote_id)


_SELECT = "SELECT q.*, u.name AS user FROM quotes q LEFT JOIN users u ON u.id = q.user_id"


def get_quote(db: Db, number: str, *, quote_id: int | None = None) -> QuoteView:
    """One quote by its number (any case: q-2026-0001), with what it showed."""
    if quote_id is not None:
        row = db.one(_SELECT + " WHERE q.id = :id", {"id": quote_id})
    else:
        row = db.one(_SELECT + " WHERE q.number = :n", {"n": number.strip().upper()})
    if row is None:
        raise NotFound(f"no quote numbered {number.strip()!r} (see tinycrm quote list DEAL)")
    issued = read_ts(row["issued_at"])
    until = read_day(row["valid_until"])
    assert issued is not None and until is not None
    return QuoteView(
        id=int(row["id"]),
        number=row["number"],
        deal_id=int(row["deal_id"]),
        issued_at=issued,
        valid_until=until,
        total=Money(int(row["total_cents"]), row["currency"]),
        user=row["user"],
        content=QuoteContent.from_json(row["content"]),
    )


def list_quotes(ctx: Ctx, deal_id: int) -> list[QuoteSummary]:
    """A deal's quotes, oldest first: its versions, each with its number and total."""
    db = ctx.db
    if db.value("SELECT id FROM deals WHERE id = :id", {"id": deal_id}) is None:
        raise NotFound(f"no deal with id {deal_id}")
    today = ctx.now.astimezone(ctx.tz).date()
    out = []
    for r in db.all(_SELECT + " WHERE q.deal_id = :id ORDER BY q.id", {"id": deal_id}):
        issued, until = read_ts(r["issued_at"]), read_day(r["valid_until"])
        assert issued is not None and until is not None
        out.append(
            QuoteSummary(
                int(r["id"]),
                r["number"],
                issued,
                until,
                Money(int(r["total_cents"]), r["currency"]),
                r["user"],
                len(json.loads(r["content"])["lines"]),
                until < today,
            )
        )
    return out


def erase_customer(db: Db, contact_id: int, erased: str) -> int:
    """For `forget`, before the person's deals are unlinked: their quotes keep the deal's
    lines and totals (the team's figures) but say `erased` for the customer, their company,
    email and address. Returns how many quotes were rewritten."""
    rows = db.all(
        "SELECT q.id, q.content FROM quotes q JOIN deals d ON d.id = q.deal_id"
        " WHERE d.contact_id = :id ORDER BY q.id",
        {"id": contact_id},
    )
    for r in rows:
        data = json.loads(r["content"])
        data.update(
            customer=erased, customer_company=None, customer_email=None, customer_address=[]
        )
        db.execute(
            "UPDATE quotes SET content = :c WHERE id = :id",
            {"c": json.dumps(data, ensure_ascii=False, sort_keys=True), "id": r["id"]},
        )
    return len(rows)
