"""Counts come from the store, and totals say what they leave out (issue #18, items 5 and 6):
what the app's "N of M" and pipeline lines are built from."""

from __future__ import annotations

from datetime import timedelta

from tinycrm.refs import Target
from tinycrm.services import contacts, deals, reminders
from tinycrm.services.context import Ctx


def test_a_reminder_list_counts_the_store_not_the_rows_loaded(ctx: Ctx) -> None:
    for k in range(5):  # three overdue, two later today
        reminders.add_reminder(ctx, None, ctx.now + timedelta(hours=k - 3), f"r{k}")
    found = reminders.reminder_list(ctx, limit=2)
    assert [r.text for r in found.rows] == ["r0", "r1"]
    assert (found.total, found.overdue) == (5, 3)
    only = reminders.reminder_list(ctx, overdue_only=True, limit=2)
    assert (len(only.rows), only.total, only.overdue) == (2, 3, 3)
    whole = reminders.reminder_list(ctx)
    assert (len(whole.rows), whole.total, whole.overdue) == (5, 5, 3)


def test_stage_totals_count_every_currency_and_sum_the_others_apart(ctx: Ctx) -> None:
    cid = contacts.add_contact(ctx, name="Alice Wong")
    alice = Target("contact", cid, "Alice Wong")
    deals.add_deal(ctx, "euros", target=alice, value_cents=9_500_00, stage="Lead")
    deals.add_deal(ctx, "pounds", target=alice, value_cents=1_200_00, currency="GBP", stage="Lead")
    deals.add_deal(ctx, "dollars", target=alice, value_cents=300_00, currency="USD", stage="Lead")
    deals.add_deal(ctx, "more pounds", target=alice, value_cents=50_00, currency="GBP")
    lead = {t.stage: t for t in deals.stage_totals(ctx.db, "EUR")}["Lead"]
    assert (lead.deals, lead.value_cents, lead.weighted_cents) == (1, 9_500_00, 950_00)
    assert lead.all_deals == 4
    assert lead.other_cents == {"GBP": 1_250_00, "USD": 300_00}
