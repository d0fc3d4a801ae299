"""Services return values typed, not worded for a screen (#15): merge's field choices and
doctor's clock findings carry dates, times and numbers; the shells format them. On both
backends, which used to word the same time differently."""

from __future__ import annotations

from datetime import UTC, datetime

from tinycrm.services import contacts, merge
from tinycrm.services.context import Ctx


def test_merge_field_choices_are_typed_the_same_on_both_backends(ctx: Ctx) -> None:
    kept = contacts.add_contact(ctx, name="Ann Lee", emails=["ann@x.test"], cadence_days=14)
    removed = contacts.add_contact(
        ctx, name="Ann Lee", emails=["ann@y.test"], cadence_days=30, company="Acme",
        allow_duplicate=True,
    )  # fmt: skip
    contacts.edit_contact(ctx, removed, opt_out=True)
    plan = merge.plan_merge(ctx, kept, removed, prefer="a")
    fields = {f.field: (f.kept, f.removed, f.result, f.source) for f in plan.fields}
    assert fields["cadence_days"] == (14, 30, 14, "kept")
    assert fields["company_id"] == (None, "Acme", "Acme", "removed")
    opted = fields["opted_out_at"]
    assert opted[0] is None and opted[3] == "removed"
    assert opted[1] == opted[2] == ctx.now.astimezone(UTC).replace(microsecond=0)
    assert isinstance(opted[1], datetime) and opted[1].tzinfo is not None
