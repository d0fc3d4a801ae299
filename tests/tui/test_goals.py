"""The Today screen shows where the user stands against their goals (#21)."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import Static

from tests.conftest import Runner
from tests.tui.test_screens import run, settle
from tinycrm.tui.app import TinyCRMApp


def _goals(app: TinyCRMApp) -> Static:
    return app.screen.query_one("#goals", Static)


def test_today_shows_goal_progress_now_and_the_team_s_with_t(seeded: str) -> None:
    cli = Runner()
    # Mon 23 Nov 2026 10:00 Berlin: ACME rollout (12,000 EUR) won now, by sam
    cli.ok("deal", "won", "1")
    cli.ok("goal", "set", "sam", "20000", "--per", "month")
    cli.ok("user", "add", "max")
    cli.ok("goal", "set", "max", "4", "--per", "month", "--metric", "activities")

    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        goals = _goals(app)
        assert goals.display
        # 8,000 left over Mon 23 .. Mon 30 Nov: 6 working days, 1,333.333.. rounded up
        assert str(goals.render()) == (
            "Goal: 60% of November's revenue goal: 12,000.00 of 20,000.00 EUR;"
            " 6 working days left, 1,333.34 EUR a day to go"
        )
        await pilot.press("t")  # the team: every user's goals, by name
        await settle(pilot)
        assert str(_goals(app).render()).splitlines() == [
            "Goal: max: 0% of November's activities goal: 0 of 4 activities;"
            " 6 working days left, 0.7 activities a day to go",
            "Goal: sam: 60% of November's revenue goal: 12,000.00 of 20,000.00 EUR;"
            " 6 working days left, 1,333.34 EUR a day to go",
        ]

    run(flow)


def test_today_has_no_goal_line_without_goals(seeded: str) -> None:
    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        assert not _goals(app).display
        assert str(_goals(app).render()) == ""

    run(flow)
