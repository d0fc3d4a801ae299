"""Services return values typed, not worded for a screen (#15): merge's field choices and
doctor's clock findings carry dates, times and numbers; the shells format them. On both
backends, which used to word the same time differently."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

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


def test_doctor_reports_a_wrong_clock_with_its_times(ctx: Ctx) -> None:
    from tinycrm.services import doctor

    ann = contacts.add_contact(ctx, name="Ann Lee", cadence_days=30)
    with ctx.db.write():
        ctx.db.execute("UPDATE contacts SET touch_due_at = NULL WHERE id = :id", {"id": ann})
    (problem,) = [p for p in doctor.check(ctx.db).problems if p.check == "clocks"]
    assert (problem.table, problem.id, problem.detail, problem.stored) == (
        "contacts",
        ann,
        "touch_due_at",
        None,
    )
    assert problem.expected == ctx.now.replace(microsecond=0) + timedelta(days=30)
