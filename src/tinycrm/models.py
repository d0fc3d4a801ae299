"""The schema: the one place the tables are spelled out.

These SQLModel classes are the source of truth for the Alembic migrations (a test checks
that upgrading an empty store to head yields exactly this metadata). The services talk to
the store in portable SQL through `tinycrm.store` so that everyday commands never pay for
importing SQLAlchemy; this module is imported only by migrations, tests and tools.

Conventions: money is integer minor units (`*_cents`, BIGINT) with an ISO currency code;
every timestamp is timezone-aware UTC (`DateTime(timezone=True)`); calendar days that have
no time of day (purchase date, expected close) are `DATE`.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    text,
)
from sqlmodel import Field, SQLModel

metadata = SQLModel.metadata


def _ts(nullable: bool = False, index: bool = False) -> Column:  # type: ignore[type-arg]
    return Column(DateTime(timezone=True), nullable=nullable, index=index)


def _sparse_index(table: str, column: str) -> Index:
    """An index on a mostly-NULL foreign key, holding only the rows that have one: a full
    index on interactions.deal_id would spend 9 MiB per million notes on NULLs."""
    where = text(f"{column} IS NOT NULL")
    return Index(f"ix_{table}_{column}", column, sqlite_where=where, postgresql_where=where)


def _open_reminders_by(column: str) -> Index:
    """Open reminders by due time, by contact or by deal. Only open rows are held (a few
    thousand of 200k), and `done_at IS NULL` is the index's condition rather than a column
    of it: SQLite's statistics count every NULL as a distinct value, so an index led by
    done_at looks like it finds one row and the planner scanned all open reminders per deal."""
    where = text(
        "done_at IS NULL" if column == "due_at" else f"done_at IS NULL AND {column} IS NOT NULL"
    )
    name = f"ix_reminders_open_{column.removesuffix('_id').removesuffix('_at')}"
    return Index(name, column, sqlite_where=where, postgresql_where=where)


def _fk(target: str, ondelete: str, nullable: bool = True, index: bool = True) -> Column:  # type: ignore[type-arg]
    return Column(Integer, ForeignKey(target, ondelete=ondelete), nullable=nullable, index=index)


class User(SQLModel, table=True):
    """A salesperson. The first one is created from the OS login on first use."""

    __tablename__ = "users"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    email: str | None = None
    timezone: str | None = None
    lead_id: int | None = Field(default=None, sa_column=_fk("users.id", "SET NULL", index=False))
    created_at: datetime = Field(sa_column=_ts())


class Company(SQLModel, table=True):
    __tablename__ = "companies"
    id: int | None = Field(default=None, primary_key=True)
    name: str
    name_key: str = Field(index=True)
    domain: str | None = None
    phone: str | None = None
    website: str | None = None
    notes: str | None = None
    owner_id: int | None = Field(default=None, sa_column=_fk("users.id", "SET NULL"))
    created_at: datetime = Field(sa_column=_ts())
    updated_at: datetime = Field(sa_column=_ts())
    version: int = 1


class Contact(SQLModel, table=True):
    """`touch_due_at` is derived: when stay-in-touch falls due (last touch, or creation, plus
    the contact's cadence or the shortest cadence of its tags); NULL without a cadence."""

    __tablename__ = "contacts"
    __table_args__ = (
        _sparse_index("contacts", "touch_due_at"),
        # one user's stay-in-touch list, without reading the whole team's
        Index(
            "ix_contacts_owner_touch",
            "owner_id",
            "touch_due_at",
            sqlite_where=text("touch_due_at IS NOT NULL"),
            postgresql_where=text("touch_due_at IS NOT NULL"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    name: str
    name_key: str = Field(index=True)
    company_id: int | None = Field(default=None, sa_column=_fk("companies.id", "SET NULL"))
    title: str | None = None
    source: str | None = None
    owner_id: int | None = Field(default=None, sa_column=_fk("users.id", "SET NULL"))
    notes: str | None = None
    cadence_days: int | None = None
    last_touch_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    touch_due_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    birthday: date | None = None
    # consent: what the person agreed to and when (free text, e.g. "newsletter, web form");
    # opted out: they asked not to be contacted, so no stay-in-touch clock runs for them
    consent: str | None = None
    consent_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    opted_out_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    created_at: datetime = Field(sa_column=_ts())
    updated_at: datetime = Field(sa_column=_ts())
    version: int = 1
    # a birthday or anniversary without a year is stored in the year 1604 (dates.NO_YEAR)
    anniversary: date | None = None
    # JSON list of {"field", "value", "why"}: what an import could not read, as written
    as_written: str | None = None


class TagCadence(SQLModel, table=True):
    """The default stay-in-touch cadence of every contact with this tag."""

    __tablename__ = "tag_cadences"
    tag: str = Field(primary_key=True)
    days: int


class ContactMethod(SQLModel, table=True):
    """An email address, phone number, web address or postal address of a contact; position
    0 is the primary one. `value_key` is the exact form (`ref`s look it up); `match_key`
    the looser one duplicates are found by (tinycrm.identity: plus-addressing, E.164)."""

    __tablename__ = "contact_methods"
    __table_args__ = (
        Index("ix_contact_methods_kind_key", "kind", "value_key"),
        Index("ix_contact_methods_kind_match", "kind", "match_key"),
    )
    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = Field(sa_column=_fk("contacts.id", "CASCADE", nullable=False))
    kind: str  # "email" | "phone"
    value: str
    value_key: str
    match_key: str | None = None
    label: str | None = None
    position: int = 0


class ContactTag(SQLModel, table=True):
    __tablename__ = "contact_tags"
    contact_id: int = Field(
        sa_column=Column(Integer, ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True)
    )
    tag: str = Field(primary_key=True, index=True)


class Interaction(SQLModel, table=True):
    """A note, call, email or meeting with a contact (or a company), maybe about a deal."""

    __tablename__ = "interactions"
    __table_args__ = (
        Index("ix_interactions_contact_when", "contact_id", "happened_at"),
        _sparse_index("interactions", "company_id"),
        _sparse_index("interactions", "deal_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    contact_id: int | None = Field(
        default=None, sa_column=_fk("contacts.id", "CASCADE", index=False)
    )
    company_id: int | None = Field(
        default=None, sa_column=_fk("companies.id", "CASCADE", index=False)
    )
    deal_id: int | None = Field(default=None, sa_column=_fk("deals.id", "SET NULL", index=False))
    kind: str = "note"  # note | call | email | meeting
    body: str = Field(sa_column=Column(Text, nullable=False))
    happened_at: datetime = Field(sa_column=_ts(index=True))
    user_id: int | None = Field(default=None, sa_column=_fk("users.id", "SET NULL", index=False))
    created_at: datetime = Field(sa_column=_ts())
    version: int = 1


class Reminder(SQLModel, table=True):
    """Something to do by `due_at`. `scheduled_at` is the occurrence of a recurring series
    (snoozing moves `due_at` only); `rrule` is an RFC 5545 rule body."""

    __tablename__ = "reminders"
    __table_args__ = (
        _open_reminders_by("due_at"),
        # one user's open reminders by due time (`todo`, `next`, the digest)
        Index(
            "ix_reminders_open_owner_due",
            "owner_id",
            "due_at",
            sqlite_where=text("done_at IS NULL"),
            postgresql_where=text("done_at IS NULL"),
        ),
        _sparse_index("reminders", "company_id"),
        _sparse_index("reminders", "deal_id"),
        _open_reminders_by("contact_id"),
        _open_reminders_by("deal_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    contact_id: int | None = Field(default=None, sa_column=_fk("contacts.id", "CASCADE"))
    company_id: int | None = Field(
        default=None, sa_column=_fk("companies.id", "CASCADE", index=False)
    )
    deal_id: int | None = Field(default=None, sa_column=_fk("deals.id", "CASCADE", index=False))
    owner_id: int | None = Field(default=None, sa_column=_fk("users.id", "SET NULL"))
    text: str
    due_at: datetime = Field(sa_column=_ts())
    scheduled_at: datetime = Field(sa_column=_ts())
    done_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    snoozed: int = 0
    rrule: str | None = None
    recurrence: str | None = None
    from_done: bool = False
    created_at: datetime = Field(sa_column=_ts())
    updated_at: datetime = Field(sa_column=_ts())
    version: int = 1


class Stage(SQLModel, table=True):
    """A pipeline stage; `outcome` is open, won or lost."""

    __tablename__ = "stages"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    position: int
    probability: int
    rot_days: int | None = None
    outcome: str = "open"


class Deal(SQLModel, table=True):
    """`activity_at` is the deal's last sign of life (a stage move, an edit, an interaction
    on it or its contact); `rots_at` is derived: activity plus the stage's rot days, set
    only while the deal is open in a stage that rots."""

    __tablename__ = "deals"
    __table_args__ = (
        Index("ix_deals_status_stage", "status", "stage_id"),
        _sparse_index("deals", "rots_at"),
        # one user's rotting deals
        Index(
            "ix_deals_owner_rots_at",
            "owner_id",
            "rots_at",
            sqlite_where=text("rots_at IS NOT NULL"),
            postgresql_where=text("rots_at IS NOT NULL"),
        ),
        # one user's open deals, biggest first (deals with no next step)
        Index(
            "ix_deals_open_owner_value",
            "owner_id",
            "value_cents",
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    title: str
    title_key: str = Field(index=True)
    contact_id: int | None = Field(default=None, sa_column=_fk("contacts.id", "SET NULL"))
    company_id: int | None = Field(default=None, sa_column=_fk("companies.id", "SET NULL"))
    value_cents: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    currency: str
    stage_id: int = Field(sa_column=_fk("stages.id", "RESTRICT", nullable=False))
    owner_id: int | None = Field(default=None, sa_column=_fk("users.id", "SET NULL"))
    probability: int | None = None
    expected_close: date | None = None
    status: str = "open"  # open | won | lost
    lost_reason: str | None = None
    closed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    stage_entered_at: datetime = Field(sa_column=_ts())
    activity_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    rots_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    created_at: datetime = Field(sa_column=_ts())
    updated_at: datetime = Field(sa_column=_ts())
    version: int = 1
    # who owned the deal when it was won (set by the move into a won stage, cleared when
    # it leaves one): won deals and their value count for them, whoever owns it later.
    # No ON DELETE: SQLite adds the column in place (migration 0014), and its reflection
    # reads no action from a column's own REFERENCES; users are never deleted (`user rm`
    # keeps the row), so only undoing a `user add` could meet it, and it is refused then.
    won_by: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("users.id"), nullable=True)
    )


class StageChange(SQLModel, table=True):
    __tablename__ = "stage_changes"
    id: int | None = Field(default=None, primary_key=True)
    deal_id: int = Field(sa_column=_fk("deals.id", "CASCADE", nullable=False))
    from_stage_id: int | None = Field(
        default=None, sa_column=_fk("stages.id", "SET NULL", index=False)
    )
    to_stage_id: int = Field(sa_column=_fk("stages.id", "RESTRICT", nullable=False, index=False))
    changed_at: datetime = Field(sa_column=_ts())
    user_id: int | None = Field(default=None, sa_column=_fk("users.id", "SET NULL", index=False))


class Purchase(SQLModel, table=True):
    __tablename__ = "purchases"
    __table_args__ = (
        # covers the customer-value aggregation (`rank`, `next`'s customer points): per
        # contact, by day, amount and currency, without reading the table
        Index(
            "ix_purchases_customer_value", "contact_id", "purchased_on", "amount_cents", "currency"
        ),
        # who bought which product (`recommend`, `report products`), only rows that name one
        Index(
            "ix_purchases_product",
            "product_id",
            "contact_id",
            sqlite_where=text("product_id IS NOT NULL"),
            postgresql_where=text("product_id IS NOT NULL"),
        ),
        _sparse_index("purchases", "deal_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = Field(sa_column=_fk("contacts.id", "CASCADE", nullable=False, index=False))
    purchased_on: date
    amount_cents: int = Field(sa_column=Column(BigInteger, nullable=False))
    currency: str
    note: str | None = None
    version: int = 1
    created_at: datetime = Field(sa_column=_ts())
    # what was bought (#22): a product of the catalogue and how many; NULL for a bare
    # amount. `deal_id`: the won deal whose line items this purchase came from (once).
    # Both foreign keys are NO ACTION: migration 0016 adds them in place, where SQLite
    # keeps no ON DELETE clause that reflection reads back; a product that was sold is
    # archived, never deleted, and deleting a deal takes its purchases off it first
    # (services.deals.delete_deal), as it does its notes.
    product_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("products.id"), nullable=True)
    )
    quantity: int | None = None
    deal_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("deals.id"), nullable=True)
    )


class Product(SQLModel, table=True):
    """A product or service in the catalogue (#22). `price_cents` in `currency` per `unit`;
    `tax_bp` the tax rate in basis points (1900 = 19%). A product that was sold or quoted
    is archived (`archived_at`), never deleted, so items and purchases keep naming it."""

    __tablename__ = "products"
    id: int | None = Field(default=None, primary_key=True)
    sku: str | None = Field(default=None, unique=True)  # as typed; unique ignoring case
    name: str
    name_key: str = Field(index=True)
    price_cents: int = Field(sa_column=Column(BigInteger, nullable=False))
    currency: str
    unit: str | None = None
    tax_bp: int = 0
    archived_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    created_at: datetime = Field(sa_column=_ts())
    updated_at: datetime = Field(sa_column=_ts())
    version: int = 1


class DealItem(SQLModel, table=True):
    """A line item of a deal: `quantity` of a product at `price_cents` each (in the
    deal's currency), less a discount (`discount_bp` percent in basis points, or
    `discount_cents` off the line), taxed at `tax_bp`. A deal with items takes its value
    from them (tinycrm.services.products)."""

    __tablename__ = "deal_items"
    id: int | None = Field(default=None, primary_key=True)
    deal_id: int = Field(sa_column=_fk("deals.id", "CASCADE", nullable=False))
    product_id: int = Field(sa_column=_fk("products.id", "RESTRICT", nullable=False))
    position: int
    quantity: int
    price_cents: int = Field(sa_column=Column(BigInteger, nullable=False))
    discount_bp: int | None = None
    discount_cents: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    tax_bp: int = 0
    created_at: datetime = Field(sa_column=_ts())


class Quote(SQLModel, table=True):
    """A numbered quote issued for a deal (`tinycrm quote`): its number (Q-2026-0001),
    when, valid until, the total with tax, and `content`, the JSON of everything it
    showed (header, customer, items, taxes, terms), so it renders the same later."""

    __tablename__ = "quotes"
    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(unique=True)
    deal_id: int = Field(sa_column=_fk("deals.id", "CASCADE", nullable=False))
    issued_at: datetime = Field(sa_column=_ts())
    valid_until: date
    total_cents: int = Field(sa_column=Column(BigInteger, nullable=False))
    currency: str
    content: str = Field(sa_column=Column(Text, nullable=False))
    user_id: int | None = Field(default=None, sa_column=_fk("users.id", "SET NULL", index=False))


class QuoteCounter(SQLModel, table=True):
    """The last quote number handed out in a year. Not in the change journal: a number
    handed out stays handed out, even when `undo` takes its quote back."""

    __tablename__ = "quote_counters"
    year: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    last: int


class DigestSent(SQLModel, table=True):
    """One mailed digest: who it was for ('' for the team) and the day it covered, so that
    cron never mails the same day twice and can tell which days were missed."""

    __tablename__ = "digests_sent"
    recipient_key: str = Field(primary_key=True)  # user name, or "" for --team
    as_of: date = Field(primary_key=True)
    sent_to: str
    sent_at: datetime = Field(sa_column=_ts())


class Merge(SQLModel, table=True):
    """`tinycrm merge`: the contact that was folded into `kept_id`, as it was, and every row
    that moved, so that `merge --undo` can put it back (tinycrm.services.merge)."""

    __tablename__ = "merges"
    id: int | None = Field(default=None, primary_key=True)
    kept_id: int = Field(sa_column=_fk("contacts.id", "CASCADE", nullable=False))
    removed_id: int  # no foreign key: that contact is gone until the merge is undone
    snapshot: str = Field(sa_column=Column(Text, nullable=False))  # JSON
    merged_at: datetime = Field(sa_column=_ts())
    user_id: int | None = Field(default=None, sa_column=_fk("users.id", "SET NULL", index=False))
    undone_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class Erasure(SQLModel, table=True):
    """`tinycrm forget`: only that an erasure happened, when and by whom, and how many rows
    went; nothing that identifies the person."""

    __tablename__ = "erasures"
    id: int | None = Field(default=None, primary_key=True)
    erased_at: datetime = Field(sa_column=_ts())
    user_id: int | None = Field(default=None, sa_column=_fk("users.id", "SET NULL", index=False))
    summary: str = Field(sa_column=Column(Text, nullable=False))  # JSON counts


class Case(SQLModel, table=True):
    """A customer's request (a service case), about one contact. `sla_due_at` is derived
    (tinycrm.services.cases): when the next unmet SLA target (first response, then
    resolution) or the case's own `due_at` falls due, whichever is first, in the owner's
    working hours; NULL while the case waits on the customer (the clock pauses:
    `waiting_since`, then `paused_minutes` of working time) and once it is resolved."""

    __tablename__ = "cases"
    __table_args__ = (
        # one user's open cases by SLA time (`case list --overdue`, escalations, `next`)
        Index(
            "ix_cases_owner_sla",
            "owner_id",
            "sla_due_at",
            sqlite_where=text("sla_due_at IS NOT NULL"),
            postgresql_where=text("sla_due_at IS NOT NULL"),
        ),
        # everyone's open cases by SLA time, a page at a time (the app's Cases screen)
        Index(
            "ix_cases_sla",
            "sla_due_at",
            "id",
            sqlite_where=text("sla_due_at IS NOT NULL"),
            postgresql_where=text("sla_due_at IS NOT NULL"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = Field(sa_column=_fk("contacts.id", "CASCADE", nullable=False))
    title: str
    body: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    priority: str = "normal"  # low | normal | high | urgent
    status: str = "open"  # open | waiting | resolved | closed
    owner_id: int | None = Field(default=None, sa_column=_fk("users.id", "SET NULL", index=False))
    due_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    sla_due_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    waiting_since: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    paused_minutes: int = 0
    first_response_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    resolved_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    closed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    solution: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    satisfaction: int | None = None  # 1-5, asked when the case is closed
    created_at: datetime = Field(sa_column=_ts())
    updated_at: datetime = Field(sa_column=_ts())
    version: int = 1


class CaseNote(SQLModel, table=True):
    """A note logged on a case: an interaction of the case's contact (so it is on their
    timeline too), linked here. Deleting the case keeps the note on the timeline."""

    __tablename__ = "case_notes"
    case_id: int = Field(
        sa_column=Column(Integer, ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    )
    interaction_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("interactions.id", ondelete="CASCADE"), primary_key=True
        )
    )


class SlaTarget(SQLModel, table=True):
    """A priority's first-response and resolution targets as typed (`4h`, `1d`: working
    time), shared by the team; a priority with no row has the built-in default."""

    __tablename__ = "sla_targets"
    priority: str = Field(primary_key=True)
    respond: str
    resolve: str


class Goal(SQLModel, table=True):
    """A user's target per month, quarter or year (`tinycrm goal set`), from the period
    starting `starts_on` until a later goal of the same user, metric and period length.
    `target` is cents in `currency` for revenue, a count for won-deals and activities."""

    __tablename__ = "goals"
    __table_args__ = (UniqueConstraint("user_id", "metric", "per", "starts_on"),)
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=_fk("users.id", "CASCADE", nullable=False, index=False))
    metric: str  # revenue | won-deals | activities
    per: str  # month | quarter | year
    starts_on: date  # the first day of the first period it applies to
    target: int = Field(sa_column=Column(BigInteger, nullable=False))
    currency: str | None = None  # revenue goals only
    created_at: datetime = Field(sa_column=_ts())
    updated_at: datetime = Field(sa_column=_ts())


class TeamSetting(SQLModel, table=True):
    """A setting shared by the whole store (`tinycrm settings set`): working hours,
    holidays."""

    __tablename__ = "team_settings"
    key: str = Field(primary_key=True)
    value: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(sa_column=_ts())


class Campaign(SQLModel, table=True):
    """A marketing campaign: what was spent (`cost_cents` in `currency`) to bring in leads
    from one lead source (`source`, compared with `contacts.source` as exact text) from
    `starts_on` to `ends_on` (local days, both included; no end: still running).
    `report sources` attributes leads to it by first touch (docs/reports.md)."""

    __tablename__ = "campaigns"
    id: int | None = Field(default=None, primary_key=True)
    name: str
    source: str
    cost_cents: int = Field(sa_column=Column(BigInteger, nullable=False))
    currency: str
    starts_on: date
    ends_on: date | None = None
    created_at: datetime = Field(sa_column=_ts())
    updated_at: datetime = Field(sa_column=_ts())
    version: int = 1


class CustomField(SQLModel, table=True):
    """A field the team added to contacts, companies or deals (`tinycrm field add`): its
    name as written and folded (`name_key`, unique per entity), its type (text | number |
    money | date | choice | bool), the choices of a choice field (a JSON list, in order)
    and whether every new record must have it."""

    __tablename__ = "custom_fields"
    __table_args__ = (UniqueConstraint("entity", "name_key"),)
    id: int | None = Field(default=None, primary_key=True)
    entity: str  # contact | company | deal
    name: str
    name_key: str
    type: str
    choices: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    required: bool = False
    position: int = 0
    created_at: datetime = Field(sa_column=_ts())
    version: int = 1


_OWNERS = ("contact_id", "company_id", "deal_id")


def _custom_value_index(name: str, *columns: str, where: str, unique: bool = False) -> Index:
    return Index(
        name,
        *columns,
        unique=unique,
        sqlite_where=text(where),
        postgresql_where=text(where),
    )


class CustomValue(SQLModel, table=True):
    """One record's value of one custom field, typed (docs/architecture.md, "Custom
    fields"): exactly one of contact_id, company_id, deal_id says whose it is (deleting the
    record deletes its values). `value` is the value as shown (a number's exact decimal,
    a money amount's decimal, a day ISO, yes/no); the filter columns are typed and indexed
    per field: `value_key` (text, choice and bool, folded), `value_num` (number; a
    choice's position in its list), `value_cents` with `currency` (money), `value_date`."""

    __tablename__ = "custom_values"
    __table_args__ = (
        _custom_value_index(
            "ix_custom_values_contact",
            "contact_id",
            "field_id",
            where="contact_id IS NOT NULL",
            unique=True,
        ),
        _custom_value_index(
            "ix_custom_values_company",
            "company_id",
            "field_id",
            where="company_id IS NOT NULL",
            unique=True,
        ),
        _custom_value_index(
            "ix_custom_values_deal", "deal_id", "field_id", where="deal_id IS NOT NULL", unique=True
        ),
        # a filter reads one of these and nothing else: they carry whose value it is
        _custom_value_index(
            "ix_custom_values_key", "field_id", "value_key", *_OWNERS, where="value_key IS NOT NULL"
        ),
        _custom_value_index(
            "ix_custom_values_num", "field_id", "value_num", *_OWNERS, where="value_num IS NOT NULL"
        ),
        _custom_value_index(
            "ix_custom_values_cents",
            "field_id",
            "currency",
            "value_cents",
            *_OWNERS,
            where="value_cents IS NOT NULL",
        ),
        _custom_value_index(
            "ix_custom_values_date",
            "field_id",
            "value_date",
            *_OWNERS,
            where="value_date IS NOT NULL",
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    field_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("custom_fields.id", ondelete="CASCADE"), nullable=False
        )
    )
    contact_id: int | None = Field(
        default=None, sa_column=_fk("contacts.id", "CASCADE", index=False)
    )
    company_id: int | None = Field(
        default=None, sa_column=_fk("companies.id", "CASCADE", index=False)
    )
    deal_id: int | None = Field(default=None, sa_column=_fk("deals.id", "CASCADE", index=False))
    value: str = Field(sa_column=Column(Text, nullable=False))
    value_key: str | None = None
    value_num: float | None = None
    value_cents: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    currency: str | None = None
    value_date: date | None = None


class SavedView(SQLModel, table=True):
    """A saved view (`tinycrm view save`, ctrl+s in the app): a filter in the filter
    language with its sort and columns, of contacts, deals or companies. Shared by everyone
    using the store. Names are unique ignoring case, which the service checks (not an index:
    `forget` may scrub two names to the same text)."""

    __tablename__ = "saved_views"
    id: int | None = Field(default=None, primary_key=True)
    name: str
    entity: str  # contacts | deals | companies
    filter: str = Field(sa_column=Column(Text, nullable=False))
    sort: str | None = None
    columns: str | None = None  # comma-separated column names
    user_id: int | None = Field(default=None, sa_column=_fk("users.id", "SET NULL", index=False))
    created_at: datetime = Field(sa_column=_ts())
    updated_at: datetime = Field(sa_column=_ts())
    version: int = 1


class AuditEntry(SQLModel, table=True):
    """One change: who, when, which record, what (`changes` is JSON {field: [old, new]})."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=_ts())
    user_id: int | None = Field(default=None, sa_column=_fk("users.id", "SET NULL", index=False))
    entity: str  # contact | company | deal | reminder | interaction | purchase | user | stage
    entity_id: int
    action: str  # add | edit | delete | merge | restore | ...
    changes: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class Change(SQLModel, table=True):
    """One write transaction in the change journal (tinycrm.store.journal, services/undo):
    who made it and when, the audit entries that describe it (`audit_ids`, comma-separated
    ids into audit_log), and how it stands: `undoes` names the change an undo or redo took
    back, `undone_by` the change that took this one back (NULL while it stands)."""

    __tablename__ = "changes"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=_ts())
    user_id: int | None = Field(default=None, sa_column=_fk("users.id", "SET NULL", index=False))
    audit_ids: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    undoes: int | None = None
    undone_by: int | None = None


class RowChange(SQLModel, table=True):
    """One row written by a change, as the journal's triggers saw it: the table, the row's
    primary key (a JSON array), and the whole row before and after as JSON objects (NULL
    before an insert, after a delete). `change_id` is NULL until the transaction that wrote
    it ends (`Db.write` assigns it); the partial index finds those few rows at once."""

    __tablename__ = "row_changes"
    __table_args__ = (
        Index(
            "ix_row_changes_pending",
            "id",
            sqlite_where=text("change_id IS NULL"),
            postgresql_where=text("change_id IS NULL"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    change_id: int | None = Field(default=None, sa_column=_fk("changes.id", "CASCADE"))
    table_name: str
    row_key: str
    old_row: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    new_row: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class MailMessage(SQLModel, table=True):
    """An email `tinycrm mail import` logged (one `email` interaction per matched contact,
    through `mail_links`). `message_key` is the Message-ID without its angle brackets, or
    "sha256:" and a hash of the headers when the message has none: re-importing finds it
    here and skips it. `thread_key` is the key of the first message of its thread (from
    In-Reply-To/References), shared by every reply."""

    __tablename__ = "mail_messages"
    id: int | None = Field(default=None, primary_key=True)
    message_key: str = Field(unique=True)
    thread_key: str = Field(index=True)
    direction: str  # sent | received
    sent_at: datetime = Field(sa_column=_ts())
    imported_at: datetime = Field(sa_column=_ts())
    user_id: int | None = Field(default=None, sa_column=_fk("users.id", "SET NULL", index=False))


class MailLink(SQLModel, table=True):
    """Which interactions an imported email became (one per matched contact or company)."""

    __tablename__ = "mail_links"
    message_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("mail_messages.id", ondelete="CASCADE"), primary_key=True
        )
    )
    interaction_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("interactions.id", ondelete="CASCADE"), primary_key=True, index=True
        )
    )


class MailFolder(SQLModel, table=True):
    """Where an IMAP `mail import` stopped: per account (user@host:port) and folder, the
    folder's UIDVALIDITY and the highest UID read, so the next run fetches only newer mail
    (and starts over if the server renumbered the folder)."""

    __tablename__ = "mail_folders"
    __table_args__ = (UniqueConstraint("account", "folder"),)
    id: int | None = Field(default=None, primary_key=True)
    account: str
    folder: str
    uidvalidity: int = Field(sa_column=Column(BigInteger, nullable=False))
    last_uid: int = Field(sa_column=Column(BigInteger, nullable=False))
    updated_at: datetime = Field(sa_column=_ts())


def _ids_never_reused() -> None:
    """Every table keyed by an integer `id` is AUTOINCREMENT on SQLite, so a deleted row's
    id is never handed out again (the audit log, merge snapshots, exports and people name
    records by id). PostgreSQL's sequences never go back anyway. Set here for every such
    table, so a new one can't forget it; migration 0007 rebuilt the older stores."""
    for table in metadata.tables.values():
        if [c.name for c in table.primary_key.columns] == ["id"]:
            table.dialect_kwargs["sqlite_autoincrement"] = True


_ids_never_reused()
