"""The upgrade to 0014 (#21): won deals of an older store are credited to their owner,
and the back-fill is nobody's change to undo."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import PG_URL, Runner, _pg_admin_url


def _at_0012(url: str) -> None:
    """A store at schema revision 0012 at `url` (which must be empty)."""
    from alembic import command
    from sqlalchemy import create_engine

    from tinycrm.store.db import locate
    from tinycrm.store.open import alembic_config, sqlalchemy_url

    engine = create_engine(sqlalchemy_url(locate(url)))
    try:
        with engine.begin() as conn:
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0012")
    finally:
        engine.dispose()


def _fill(url: str) -> None:
    """Users sam and max; a deal sam won, one max won, one nobody owned when won, an open
    one and a lost one, written as tinycrm 0012 wrote them (no won_by)."""
    from tinycrm.store.db import locate
    from tinycrm.store.open import _open_sqlite_raw, connect_postgres

    location = locate(url)
    db = _open_sqlite_raw(location) if location.dialect == "sqlite" else connect_postgres(location)
    now = db.ts(datetime(2026, 11, 20, 10, tzinfo=UTC))
    try:
        with db.write():
            for name in ("sam", "max"):
                db.insert(
                    "INSERT INTO users (name, created_at) VALUES (:n, :now) RETURNING id",
                    {"n": name, "now": now},
                )
            stage = {
                r["outcome"]: r["id"]
                for r in db.all("SELECT min(id) AS id, outcome FROM stages GROUP BY outcome")
            }
            for title, owner, outcome in (
                ("sam's win", 1, "won"),
                ("max's win", 2, "won"),
                ("nobody's win", None, "won"),
                ("open", 1, "open"),
                ("lost", 1, "lost"),
            ):
                db.insert(
                    "INSERT INTO deals (title, title_key, value_cents, currency, stage_id,"
                    " owner_id, status, lost_reason, closed_at, stage_entered_at,"
                    " created_at, updated_at, version) VALUES (:t, :t, 100000, 'EUR', :s,"
                    " :o, :st, :why, :closed, :now, :now, :now, 1) RETURNING id",
                    {
                        "t": title,
                        "s": stage[outcome],
                        "o": owner,
                        "st": outcome,
                        "why": "price" if outcome == "lost" else None,
                        "closed": None if outcome == "open" else now,
                        "now": now,
                    },
                )
    finally:
        db.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def old_store(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """The URL of a store at revision 0012 with deals in it, also TINYCRM_DB."""
    if request.param == "sqlite":
        url = str(tmp_path / "old.db")
        _at_0012(url)
        _fill(url)
        monkeypatch.setenv("TINYCRM_DB", url)
        yield url
        return
    if not PG_URL:
        pytest.skip("PostgreSQL tests need TINYCRM_TEST_PG_URL (CI sets it)")
    import psycopg

    name = f"tinycrm_old_{uuid.uuid4().hex[:8]}"
    admin = _pg_admin_url(PG_URL)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, query = PG_URL.partition("?")
    url = base.rsplit("/", 1)[0] + "/" + name + (f"?{query}" if query else "")
    try:
        _at_0012(url)
        _fill(url)
        monkeypatch.setenv("TINYCRM_DB", url)
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_upgrade_credits_won_deals_to_their_owner_and_keeps_it_out_of_undo(
    old_store: str,
) -> None:
    cli = Runner()
    report = ("report", "team", "--since", "2026-11-01", "--json")

    def wins() -> dict[str | None, int]:
        return {u["user"]: u["deals_won"] for u in cli.ok(*report).json()["users"]}

    assert wins() == {"max": 1, "sam": 1, None: 1}  # (nobody): no owner when won
    cli.ok("assign", "deal:1", "max")  # a hand-over after the upgrade moves no win
    assert wins() == {"max": 1, "sam": 1, None: 1}
    # the first change after the upgrade holds the assign only: had the back-fill's rows
    # been filed with it, its undo would take the credit away again
    cli.ok("undo")
    assert wins() == {"max": 1, "sam": 1, None: 1}
