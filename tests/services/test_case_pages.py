"""The app's reads of service cases on both backends: `case_page` (the Cases screen, keyset
pages in SLA order, then the paused cases) and `due_cases` (Today's), and the case view's
`similar_cases`. The clock is frozen at Mon 23 Nov 2026 09:00 UTC (10:00 in Berlin)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from tests.conftest import Runner
from tinycrm.services import cases
from tinycrm.services.context import Ctx


def _seed(cli: Runner) -> None:
    cli.ok("user", "add", "kim")
    cli.ok("contact", "add", "Alice Wong")
    # ids 1-7: urgent (11:00), high (14:00), normal (tomorrow 10:00), low, two own deadlines
    # in the past (overdue), and one of kim's; then 8 waiting, 9 closed
    cli.ok("case", "add", "alice", "one", "--priority", "urgent")
    cli.ok("case", "add", "alice", "two", "--priority", "high")
    cli.ok("case", "add", "alice", "three")
    cli.ok("case", "add", "alice", "four", "--priority", "low")
    cli.ok("case", "add", "alice", "five", "--due", "2026-11-20 10:00")
    cli.ok("case", "add", "alice", "six", "--due", "2026-11-21 10:00")
    cli.ok("case", "add", "alice", "seven", "--owner", "kim", "--priority", "urgent")
    cli.ok("case", "add", "alice", "eight")
    cli.ok("case", "edit", "8", "--status", "waiting")
    cli.ok("case", "add", "alice", "nine")
    cli.ok("case", "close", "9", "--solution", "done")


@pytest.fixture
def seeded_ctx(store: str) -> Iterator[Ctx]:
    """A context opened after the seeding (each command closes the CLI's own)."""
    from tinycrm.cli import state

    _seed(Runner())
    yield state.get_ctx()
    state.close()


def _walk(ctx: Ctx, size: int, *, mine: bool = False, overdue: bool = False) -> list[int]:
    page = cases.case_page(ctx, limit=size, mine=mine, overdue=overdue)
    seen, counts = [v.id for v in page.rows], (page.total, page.overdue)
    while page.after is not None:
        page = cases.case_page(
            ctx, limit=size, after=page.after, total=counts, mine=mine, overdue=overdue
        )
        assert (page.total, page.overdue) == counts
        seen += [v.id for v in page.rows]
    return seen


def test_case_pages_walk_every_open_case_once_in_sla_order(seeded_ctx: Ctx) -> None:
    ctx = seeded_ctx
    first = cases.case_page(ctx, limit=3)
    assert (first.total, first.overdue) == (8, 2)
    assert [v.id for v in first.rows] == [5, 6, 1]
    assert first.rows[0].overdue and not first.rows[2].overdue
    # 1 and 7 are both urgent, opened the same second: the id orders them
    every = [5, 6, 1, 7, 2, 3, 4, 8]
    for size in (1, 2, 3, 7, 8, 200):
        assert _walk(ctx, size) == every
    assert _walk(ctx, 2, mine=True) == [5, 6, 1, 2, 3, 4, 8]
    assert _walk(ctx, 1, overdue=True) == [5, 6]
    assert _walk(ctx, 1, mine=True, overdue=True) == [5, 6]
    assert cases.case_page(ctx, limit=200).after is None


def test_due_cases_are_the_users_running_out_by_then(seeded_ctx: Ctx) -> None:
    ctx = seeded_ctx
    end_of_day = ctx.now + timedelta(hours=14)  # midnight in Berlin
    mine = cases.due_cases(ctx, until=end_of_day)
    assert [v.id for v in mine.rows] == [5, 6, 1, 2]
    assert (mine.total, mine.overdue) == (4, 2)
    team = cases.due_cases(ctx, until=end_of_day, team=True, limit=3)
    assert [v.id for v in team.rows] == [5, 6, 1]
    assert (team.total, team.overdue) == (5, 2)


def test_similar_cases_rank_the_obvious_match_first(store: str) -> None:
    from tinycrm.cli import state

    cli = Runner()
    cli.ok("contact", "add", "Alice Wong")
    for n, (title, solution) in enumerate(
        (
            ("printer toner empty", "new toner cartridge"),
            ("invoice address wrong", "fixed the address"),
            ("printer offline", "restarted the print server"),
            ("login fails", "reset the password"),
        ),
        start=1,
    ):
        cli.ok("case", "add", "alice", title)
        cli.ok("case", "close", str(n), "--solution", solution)
    cli.ok("case", "add", "alice", "toner low on the printer")
    ctx = state.get_ctx()
    try:
        similar = cases.similar_cases(ctx, 5)
    finally:
        state.close()
    # toner and printer first on both backends; "printer" alone (case 3) is in three of the
    # five cases: bm25 all but ignores it, ts_rank ranks it lower
    assert similar[0].id == 1 and similar[0].solution == "new toner cartridge"
    assert [s.id for s in similar][1:] in ([], [3])
    assert 2 not in [s.id for s in similar] and 4 not in [s.id for s in similar]
