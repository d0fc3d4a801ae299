"""Services return money typed (`Money`: cents and currency), never as JSON-shaped text.

Only the shells format it: the CLI's one JSON encoder (`cli.output.to_jsonable`), the
export writers (`io.exports`), the audit log's `plain` and `money.display_money` for people.
Each test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from tinycrm.money import Money
from tinycrm.refs import Target
from tinycrm.services import audit, companies, contacts, deals, exports, purchases, reports
from tinycrm.services.context import Ctx
from tinycrm.services.value import rank


@pytest.fixture
def seeded(ctx: Any) -> Iterator[tuple[Ctx, int, int]]:
    """A contact at a company with an open USD deal of 1,234.56 (probability 50) and two
    purchases, 10.05 EUR and 99.99 GBP."""
    company = companies.add_company(ctx, name="Acme")
    cid = contacts.add_contact(ctx, name="Ann Lee", company="Acme", emails=["ann@acme.test"])
    target = Target("contact", cid, "Ann Lee")
    deal = deals.add_deal(ctx, "Big one", target=target, value_cents=123456, currency="USD")
    deals.edit_deal(ctx, deal.id, probability=50)
    purchases.add_purchase(ctx, cid, 1005, on=date(2026, 1, 5), currency="EUR")
    purchases.add_purchase(ctx, cid, 9999, on=date(2026, 2, 5), currency="GBP")
    yield ctx, company, deal.id


def test_deal_value_and_weighted_are_money(seeded: tuple[Ctx, int, int]) -> None:
    ctx, _, deal_id = seeded
    d = deals.get_deal(ctx.db, deal_id)
    assert d.value == Money(123456, "USD")
    assert d.weighted == Money(61728, "USD")
    assert d.value_cents == 123456


def test_deal_edit_audits_value_as_decimal_text(seeded: tuple[Ctx, int, int]) -> None:
    ctx, _, deal_id = seeded
    deals.edit_deal(ctx, deal_id, value_cents=200000)
    entries = audit.history(ctx.db, "deal", deal_id)
    assert entries[0].changes["value"] == ["1234.56", "2000.00"]


def test_purchase_amount_is_money(seeded: tuple[Ctx, int, int]) -> None:
    ctx, _, _ = seeded
    listed = purchases.list_purchases(ctx.db)
    assert [p.amount for p in listed] == [Money(9999, "GBP"), Money(1005, "EUR")]
    logged = audit.recent(ctx.db)
    amounts = [e.changes["amount"][1] for e in logged if e.entity == "purchase"]
    assert sorted(amounts) == ["10.05", "99.99"]


def test_company_totals_and_deals_are_money(seeded: tuple[Ctx, int, int]) -> None:
    ctx, company, _ = seeded
    detail = companies.get_company(ctx.db, company)
    assert detail.purchases_total == {"EUR": Money(1005, "EUR"), "GBP": Money(9999, "GBP")}
    assert [d["value"] for d in detail.open_deals] == [Money(123456, "USD")]


def test_ranking_amounts_are_money_in_the_ranking_currency(
    seeded: tuple[Ctx, int, int],
) -> None:
    ctx, _, _ = seeded
    ranking = rank(ctx, as_of=date(2026, 3, 1))
    assert ranking.summary.revenue == Money(1005, ctx.currency)
    assert [c.monetary for c in ranking.customers] == [Money(1005, ctx.currency)]
    assert ranking.customers[0].clv.currency == ctx.currency


def test_reports_money_is_typed(seeded: tuple[Ctx, int, int]) -> None:
    ctx, _, _ = seeded
    pipe = reports.pipeline_report(ctx, currency="USD")
    assert pipe.open_value == Money(123456, "USD")
    assert pipe.open_weighted == Money(61728, "USD")
    assert sum(s.value.cents for s in pipe.stages) == 123456
    assert {c.value for c in pipe.closed} == {Money(0, "USD")}
    cust = reports.customers_report(ctx, currency="GBP")
    assert cust.revenue == Money(9999, "GBP")
    assert cust.concentration[0].revenue == Money(9999, "GBP")
    listed = reports.customer_list(ctx, "bought", currency="EUR")
    assert [line.total for line in listed.rows] == [Money(1005, "EUR")]
    team = reports.team_report(ctx, since=date(2026, 1, 1), currency="EUR")
    assert team.total.revenue == Money(1005, "EUR")
    assert team.total.won_value == Money(0, "EUR")
    sources = reports.sources_report(ctx, currency="EUR")
    assert sources.total.revenue == Money(1005, "EUR")
    assert sources.total.won_value == Money(0, "EUR")


def test_export_records_carry_money(seeded: tuple[Ctx, int, int]) -> None:
    ctx, _, _ = seeded
    assert [d.value for d in exports.iter_deals(ctx.db)] == [Money(123456, "USD")]
    assert sorted(p.amount.cents for p in exports.iter_purchases(ctx.db)) == [1005, 9999]


def test_next_gives_its_reasons_typed_for_the_shell_to_word(
    seeded: tuple[Ctx, int, int],
) -> None:
    """The `next` score's reasons are codes with their amounts as Money (a deal's weighted
    value in the deal's currency), not text naming an amount."""
    from tinycrm.services.agenda import scope_for
    from tinycrm.services.next_actions import REASONS, Reason, next_actions

    ctx, _, deal_id = seeded
    ctx = dataclasses.replace(ctx, next_step_grace=0)  # the deal is new: flag it at once
    (action,) = [a for a in next_actions(ctx, scope_for(ctx)) if a.deal_id == deal_id]
    assert action.kind == "no_next_step"
    assert Reason("weighted_value", 28, amount=Money(61728, "USD")) in action.reasons
    assert all(r.code in REASONS for r in action.reasons)
