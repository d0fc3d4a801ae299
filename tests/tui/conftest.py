"""A small seeded store on SQLite and a way to run the app on it under Pilot."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import Runner


def seed(cli: Runner) -> None:
    """A few people, reminders (overdue, today, later), a cadence, deals and purchases.
    The deals are made now, so they are flagged without a next step at once (no grace)."""
    home = Path(os.environ["TINYCRM_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    (home / "settings.toml").write_text("next_step_grace = 0\n")
    cli.ok(
        "contact",
        "add",
        "Alice Wong",
        "--email",
        "alice@acme.example",
        "--company",
        "ACME",
        "--title",
        "Buyer",
        "--tag",
        "vip",
        "--every",
        "14d",
    )
    cli.ok("contact", "add", "Bob Stone", "--email", "bob@stone.example", "--tag", "lead")
    cli.ok("contact", "add", "王小明", "--company", "北京贸易", "--notes", "客户说明天见面")
    cli.ok("contact", "add", "Carla Diaz", "--company", "ACME", "--every", "7d")
    cli.ok("note", "alice", "asked for a quote", "--when", "20d ago")
    cli.ok("note", "carla", "intro call", "--kind", "call", "--when", "10d ago")
    cli.ok("remind", "alice", "2026-11-20 10:00", "send the proposal")
    cli.ok("remind", "bob", "today 15:00", "call Bob back")
    cli.ok("remind", "carla", "friday", "check in", "--every", "weekly")
    cli.ok("deal", "add", "alice", "ACME rollout", "--value", "12000", "--stage", "Proposal")
    cli.ok("deal", "add", "bob", "Stone pilot", "--value", "3000", "--stage", "Lead")
    cli.ok("deal", "add", "王小明", "北京 order", "--value", "8000", "--stage", "Negotiation")
    cli.ok("purchase", "add", "alice", "1200", "--date", "2026-10-01", "--note", "licences")
    cli.ok("purchase", "add", "alice", "800", "--date", "2026-11-02")
    cli.ok("purchase", "add", "carla", "300", "--date", "2026-06-15")


@pytest.fixture
def seeded(sqlite_store: str) -> str:
    """The path of a seeded SQLite store (also TINYCRM_DB)."""
    seed(Runner())
    return sqlite_store


@pytest.fixture
def cases(seeded: str) -> str:
    """Three solved cases (the knowledge base) and three open ones: an urgent one of sam's,
    one of kim's overdue since 13 November (escalated to sam, kim's lead), one waiting."""
    cli = Runner()
    cli.ok("user", "add", "kim", "--lead", "sam")
    for ref, title, body, solution in (
        ("alice", "Printer toner empty", "the printer says toner low", "sent a new cartridge"),
        ("bob", "Invoice address wrong", "the invoice went to the old office", "fixed billing"),
        ("carla", "Login fails", "password reset mail never arrives", "whitelisted our mail"),
    ):
        case = cli.ok("case", "add", ref, title, "--body", body, "--json").json()
        cli.ok("case", "close", str(case["id"]), "--solution", solution, "--satisfaction", "4")
    cli.ok("case", "add", "alice", "Printer toner again", "--body", "toner low on the printer",
           "--priority", "urgent")  # fmt: skip
    cli.ok("case", "add", "bob", "Quote missing", "--owner", "kim", "--due", "2026-11-13 10:00")
    cli.ok("case", "add", "王小明", "Delivery late", "--priority", "low")
    cli.ok("case", "edit", "6", "--status", "waiting")
    return seeded
