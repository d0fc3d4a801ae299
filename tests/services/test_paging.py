"""Keyset pages of contacts and per-stage pipeline totals, as the TUI reads them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tinycrm.errors import InvalidInput
from tinycrm.refs import Target
from tinycrm.services import companies, contacts, deals, users
from tinycrm.services.context import Ctx
from tinycrm.text import fold


def walk(ctx: Ctx, order: str, size: int) -> list[int]:
    """Every contact id, page by page."""
    seen: list[int] = []
    after = None
    while True:
        page = contacts.list_contacts(ctx.db, order=order, after=after, limit=size)
        if not page:
            return seen
        seen += [c.id for c in page]
        after = contacts.page_key(ctx.db, page[-1].id, order)


def walk_back(ctx: Ctx, order: str, size: int, last: int) -> list[int]:
    """Every contact id before `last` (and `last` itself), page by page from the end."""
    seen = [last]
    while True:
        before = contacts.page_key(ctx.db, seen[0], order)
        page = contacts.list_contacts(ctx.db, order=order, before=before, limit=size)
        if not page:
            return seen
        seen = [c.id for c in page] + seen


def test_pages_walk_every_contact_once_in_every_order(ctx: Ctx) -> None:
    names = [f"Person {i:02d}" for i in range(23)] + ["Ängel Zed", "angel Able", "Person 05"]
    # at a company or none; owned by sam, ann or nobody
    firms: list[int | None] = [companies.add_company(ctx, name=n) for n in ("Zeta", "acme", "Beta")]
    firms += [None, None, None]
    ids = [contacts.add_contact(ctx, name=name, allow_duplicate=True) for name in names]
    ann = users.ensure_user(ctx.db, "ann", ctx.now)
    with ctx.db.write():
        for n, cid in enumerate(ids):
            ctx.db.execute(
                "UPDATE contacts SET company_id = :co, owner_id = :o WHERE id = :id",
                {"co": firms[n % len(firms)], "o": (ctx.user_id, ann, None)[n % 3], "id": cid},
            )
    # touches: some never, two at the same moment, the rest a day apart (a touch is part
    # of a write, as a note's: it locks the contact it recomputes the clock of)
    with ctx.db.write():
        for n, cid in enumerate(ids[:12]):
            contacts.touch(ctx.db, cid, ctx.now - timedelta(days=n % 7))
    for order in contacts.ORDERS:
        everyone = [c.id for c in contacts.list_contacts(ctx.db, order=order, limit=1000)]
        assert sorted(everyone) == sorted(ids)
        for size in (1, 4, 7, 100):
            assert walk(ctx, order, size) == everyone, (order, size)
            assert walk_back(ctx, order, size, everyone[-1]) == everyone, (order, size)
            last = contacts.list_contacts(ctx.db, order=order, last=True, limit=size)
            assert [c.id for c in last] == everyone[-size:], (order, size)
    by_name = [c.id for c in contacts.list_contacts(ctx.db, limit=1000)]
    assert [c.id for c in contacts.list_contacts(ctx.db, order="name-desc")] == by_name[::-1]
    assert [c.id for c in contacts.list_contacts(ctx.db, order="newest")] == ids[::-1]
    untouched = [c.id for c in contacts.list_contacts(ctx.db, order="untouched", limit=1000)]
    assert untouched[:14] == ids[12:]  # never touched, by id
    assert untouched[14] == ids[6]  # then the longest ago (6 days)
    by_company = contacts.list_contacts(ctx.db, order="company", limit=1000)
    assert [fold(c.company) for c in by_company if c.company] == sorted(
        fold(c.company) for c in by_company if c.company
    )
    assert [c.company for c in by_company[-10:]] == [None] * 10  # no company: last
    acme = [c.name for c in by_company if c.company == "acme"]
    assert acme == sorted(acme, key=fold)  # by name within a company
    by_owner = contacts.list_contacts(ctx.db, order="owner", limit=1000)
    assert [c.owner for c in by_owner] == ["ann"] * 9 + ["sam"] * 9 + [None] * 8
    hits = contacts.sorted_ids(ctx.db, ids[:5], order="name-desc")
    assert hits == [i for i in by_name[::-1] if i in ids[:5]]
    with pytest.raises(InvalidInput):
        contacts.list_contacts(ctx.db, order="shoe size")


def test_stage_totals_sum_open_deals_weighted_by_probability(ctx: Ctx) -> None:
    cid = contacts.add_contact(ctx, name="Alice Wong")
    alice = Target("contact", cid, "Alice Wong")
    deals.add_deal(ctx, "small", target=alice, value_cents=100_00, stage="Lead")
    deals.add_deal(ctx, "own odds", target=alice, value_cents=1000_00, stage="Lead", probability=33)
    big = deals.add_deal(ctx, "big", target=alice, value_cents=5000_00, stage="Proposal")
    deals.add_deal(ctx, "dollars", target=alice, value_cents=999_00, currency="USD", stage="Lead")
    done = deals.add_deal(ctx, "done", target=alice, value_cents=700_00, stage="Proposal")
    deals.close_deal(ctx, done.id, "won")
    totals = {t.stage: t for t in deals.stage_totals(ctx.db, "EUR")}
    assert [t.stage for t in deals.stage_totals(ctx.db, "EUR")][:4] == [
        "Lead",
        "Qualified",
        "Proposal",
        "Negotiation",
    ]
    assert (totals["Lead"].deals, totals["Lead"].value_cents) == (2, 1100_00)
    assert totals["Lead"].weighted_cents == 10_00 + 330_00
    assert totals["Proposal"].weighted_cents == big.value_cents // 2
    assert (totals["Qualified"].deals, totals["Won"].deals, totals["Won"].value_cents) == (0, 0, 0)
