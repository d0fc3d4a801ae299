"""follow-ups: stay-in-touch and rot clocks, tag cadences, the digest send log

Adds the derived clocks `contacts.touch_due_at` and `deals.activity_at`/`rots_at` (see
tinycrm.services.clocks) with sparse indexes, so that `next` and `digest` read an index
instead of scanning every interaction, and fills them in for existing records.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 11:40:00
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from tinycrm.services.clocks import rot_due, touch_due
from tinycrm.store.db import _TS_FORMAT, read_ts

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _sparse(column: str) -> dict[str, object]:
    where = sa.text(f"{column} IS NOT NULL")
    return {"sqlite_where": where, "postgresql_where": where}


def upgrade() -> None:
    op.create_table(
        "tag_cadences",
        sa.Column("tag", sa.String(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("tag"),
    )
    op.create_table(
        "digests_sent",
        sa.Column("recipient_key", sa.String(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("sent_to", sa.String(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("recipient_key", "as_of"),
    )
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("touch_due_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index(
            "ix_contacts_touch_due_at", ["touch_due_at"], unique=False, **_sparse("touch_due_at")
        )
    with op.batch_alter_table("deals") as batch:
        batch.add_column(sa.Column("activity_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("rots_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_deals_rots_at", ["rots_at"], unique=False, **_sparse("rots_at"))
    _backfill(op.get_bind())


def _store(bind: Any, value: datetime | None) -> Any:
    if value is None or bind.dialect.name != "sqlite":
        return value
    return value.astimezone(UTC).strftime(_TS_FORMAT)


def _backfill(bind: Any) -> None:
    contacts = bind.execute(
        sa.text(
            "SELECT id, last_touch_at, created_at, cadence_days FROM contacts"
            " WHERE cadence_days IS NOT NULL"
        )
    ).fetchall()
    updates = []
    for cid, last, created, days in contacts:
        due = touch_due(read_ts(last), read_ts(created) or datetime.now(UTC), days, None)
        updates.append({"id": cid, "due": _store(bind, due)})
    if updates:
        bind.execute(sa.text("UPDATE contacts SET touch_due_at = :due WHERE id = :id"), updates)

    # a deal's last sign of life: its stage entry, its last edit, or its contact's last touch
    deals = bind.execute(
        sa.text(
            "SELECT d.id, d.status, d.stage_entered_at, d.updated_at, c.last_touch_at,"
            " s.rot_days FROM deals d JOIN stages s ON s.id = d.stage_id"
            " LEFT JOIN contacts c ON c.id = d.contact_id"
        )
    ).fetchall()
    now = datetime.now(UTC)
    updates = []
    for did, status, entered, updated, touched, rot_days in deals:
        times = [t for t in (read_ts(entered), read_ts(updated), read_ts(touched)) if t]
        activity = min(max(times), now)
        updates.append(
            {
                "id": did,
                "act": _store(bind, activity),
                "rot": _store(bind, rot_due(activity, rot_days, status)),
            }
        )
    if updates:
        bind.execute(
            sa.text("UPDATE deals SET activity_at = :act, rots_at = :rot WHERE id = :id"), updates
        )


def downgrade() -> None:
    with op.batch_alter_table("deals") as batch:
        batch.drop_index("ix_deals_rots_at")
        batch.drop_column("rots_at")
        batch.drop_column("activity_at")
    with op.batch_alter_table("contacts") as batch:
        batch.drop_index("ix_contacts_touch_due_at")
        batch.drop_column("touch_due_at")
    op.drop_table("digests_sent")
    op.drop_table("tag_cadences")
