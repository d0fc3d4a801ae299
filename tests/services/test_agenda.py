"""`next` and the digest read only what they need; what they return must not change.

`next_actions` skips a kind of work that could not reach the list, and the printed digest
reads the first items of each section and counts the rest. These tests build a varied store
through the services and check both shortcuts against the full computation, and (SQLite)
that every agenda query is an index search, not a scan.
"""

from __future__ import annotations

import dataclasses
import random
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tinycrm.refs import Target
from tinycrm.services import agenda, contacts, deals, interactions, purchases, reminders, users
from tinycrm.services.context import Ctx
from tinycrm.services.digest import SECTIONS, build_digest
from tinycrm.services.next_actions import Action, next_actions
from tinycrm.services.users import ensure_user

NOW = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)
STAGES = ["Lead", "Qualified", "Proposal", "Negotiation"]


def _as(ctx: Ctx, user: str, now: datetime) -> Ctx:
    return dataclasses.replace(
        ctx, user_name=user, now=now, _user_id=ensure_user(ctx.db, user, now)
    )


def populate(ctx: Ctx, seed: int) -> None:
    """Users (sam leads ana), contacts with own or tag cadences, reminders from two months
    overdue to next week, deals in every open stage with old and recent activity, purchases."""
    rng = random.Random(seed)
    users.ensure_user(ctx.db, "sam", NOW)  # the current user: there from the first command
    users.add_user(ctx.db, "ana", NOW, lead="sam")
    agenda.set_tag_cadence(_as(ctx, "sam", NOW), "vip", 14)
    for i in range(40):
        owner = rng.choice(["sam", "ana"])
        made = NOW - timedelta(days=rng.randint(1, 120), hours=rng.randint(0, 23))
        c = _as(ctx, owner, made)
        tags = ["vip"] if rng.random() < 0.4 else []
        cadence = rng.choice([None, None, 7, 30]) if not tags else None
        cid = contacts.add_contact(c, name=f"Person {i:02d}", tags=tags, cadence_days=cadence)
        target = Target("contact", cid, f"Person {i:02d}")
        if rng.random() < 0.5:
            when = made + timedelta(days=rng.randint(0, (NOW - made).days))
            interactions.log_interaction(_as(c, owner, when), target, "talked", when=when)
        for _ in range(rng.randint(0, 2)):
            due = NOW + timedelta(days=rng.randint(-60, 8), hours=rng.randint(-12, 12))
            reminders.add_reminder(_as(c, owner, min(made, due)), target, due, f"call {i}")
        for _ in range(rng.randint(0, 2)):
            day = (NOW - timedelta(days=rng.randint(0, 500))).date()
            amount = rng.choice([500, 90_000, 2_500_000, 40_000_000])
            # written on the contact's clock (`made`), dated up to NOW: future=True
            purchases.add_purchase(c, cid, amount, on=day, future=True)
        if rng.random() < 0.6:
            start = NOW - timedelta(days=rng.randint(0, 90))
            value = rng.choice([0, 50_000, 1_200_000, 30_000_000])
            deals.add_deal(
                _as(c, owner, start),
                f"Deal {i}",
                target=target,
                value_cents=value,
                stage=rng.choice(STAGES),
            )
    # deals with no contact, so no next step can come from a contact's reminder
    for j in range(6):
        deals.add_deal(
            _as(ctx, rng.choice(["sam", "ana"]), NOW - timedelta(days=rng.randint(0, 40))),
            f"Loose deal {j}",
            value_cents=rng.choice([10_000, 5_000_000]),
        )


@pytest.fixture
def agenda_ctx(ctx: Ctx) -> Iterator[Ctx]:
    populate(ctx, seed=7)
    yield _as(ctx, "sam", NOW)


def _key(a: Action) -> tuple[Any, ...]:
    return (a.kind, a.id, a.score, a.reasons, a.rank)


@pytest.mark.parametrize("who", ["sam", "ana", None])
def test_next_with_a_limit_is_the_head_of_the_whole_ranking(
    agenda_ctx: Ctx, who: str | None
) -> None:
    scope = agenda.scope_for(agenda_ctx, who, team=who is None)
    everything = next_actions(agenda_ctx, scope, limit=None)
    kinds = {a.kind for a in everything}
    assert {"reminder", "stay_in_touch", "rotting_deal", "no_next_step"} <= kinds, kinds
    assert [a.rank for a in everything] == list(range(1, len(everything) + 1))
    for limit in (1, 2, 3, 5, 8, 13, 21, 34, len(everything), len(everything) + 5):
        head = next_actions(agenda_ctx, scope, limit=limit)
        assert [_key(a) for a in head] == [_key(a) for a in everything[:limit]], limit


def test_next_skips_kinds_that_cannot_make_the_list(
    agenda_ctx: Ctx, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a short list full of long-overdue reminders, stay-in-touch is never read."""
    scope = agenda.scope_for(agenda_ctx, "sam")
    read: list[str] = []
    real = agenda.touch_due

    def spy(*args: Any, **kwargs: Any) -> Any:
        read.append("touch")
        return real(*args, **kwargs)

    monkeypatch.setattr(agenda, "touch_due", spy)
    top = next_actions(agenda_ctx, scope, limit=2)
    assert all(a.kind in ("reminder", "escalated") for a in top)
    assert read == []
    next_actions(agenda_ctx, scope, limit=None)
    assert read == ["touch"]


@pytest.mark.parametrize("who", ["sam", "ana", None])
@pytest.mark.parametrize("per_section", [1, 3, 50])
def test_the_printed_digest_is_the_head_of_each_section_with_true_counts(
    agenda_ctx: Ctx, who: str | None, per_section: int
) -> None:
    scope = agenda.scope_for(agenda_ctx, who, team=who is None)
    day = NOW.astimezone(agenda_ctx.tz).date()
    full = build_digest(agenda_ctx, scope, day, days_ahead=7)
    short = build_digest(agenda_ctx, scope, day, days_ahead=7, per_section=per_section)
    assert sum(full.counts().values()) > 10
    assert short.counts() == full.counts()
    assert short.empty == full.empty
    for s in SECTIONS:
        assert getattr(short, s) == getattr(full, s)[:per_section], s


def _plans(db: Any, statements: list[tuple[str, Any]]) -> list[str]:
    out = []
    for sql, params in statements:
        rows = db.conn.execute("EXPLAIN QUERY PLAN " + sql, dict(params or {})).fetchall()
        out += [str(r["detail"] if isinstance(r, dict) else r[3]) for r in rows]
    return out


def test_agenda_queries_search_indexes_instead_of_scanning(
    sqlite_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Plans without statistics, as a real store has them (tinycrm never runs ANALYZE)."""
    from tinycrm.cli import state

    ctx = state.get_ctx()
    try:
        populate(ctx, seed=3)
        sam = _as(ctx, "sam", NOW)
        ctx.db.conn.execute("DROP TABLE IF EXISTS sqlite_stat1")
        seen: list[tuple[str, Any]] = []
        for method in ("all", "value", "one"):
            real = getattr(type(ctx.db), method)

            def spy(self: Any, sql: str, params: Any = None, _real: Any = real) -> Any:
                seen.append((sql, params))
                return _real(self, sql, params)

            monkeypatch.setattr(type(ctx.db), method, spy)
        day = NOW.astimezone(sam.tz).date()
        for who in ("sam", "ana"):
            scope = agenda.scope_for(sam, who)
            next_actions(sam, scope, limit=None)
            build_digest(sam, scope, day)
            build_digest(sam, scope, day, per_section=5)
        plans = _plans(ctx.db, seen)
        big = ("reminders", "contacts", "deals", "interactions", "purchases")
        scans = [p for p in plans if re.match(rf"SCAN ({'|'.join(big)})\b", p)]
        assert scans == [], scans
        # one user's lists go through the owner-led partial indexes, not all their history
        assert not [p for p in plans if "ix_reminders_owner_id" in p]
        for index in (
            "ix_reminders_open_owner_due",
            "ix_reminders_open_contact",
            "ix_reminders_open_deal",
            "ix_contacts_owner_touch",
            "ix_deals_owner_rots_at",
            "ix_deals_open_owner_value",
        ):
            assert any(index in p for p in plans), index
    finally:
        state.close()
