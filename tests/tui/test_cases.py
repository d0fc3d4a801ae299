"""The Cases screen (#20) under Pilot, on a seeded SQLite store with a frozen clock (Mon 23
Nov 2026 10:00 in Berlin): the open cases with their SLA clocks and marks, the filters, a
case opened with its notes and the past cases most like it, and its actions through the
forms; the cases on Today and in the contact view. What the app wrote is read back
through the real command line."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Select, Static

from tests.conftest import Runner
from tests.tui.test_screens import rows, run, settle
from tinycrm.tui.app import TinyCRMApp
from tinycrm.tui.screens.cases import CaseScreen, CasesScreen
from tinycrm.tui.screens.contact import ContactScreen
from tinycrm.tui.screens.forms import CaseForm, ConfirmModal, FormModal


def _case(number: int) -> Any:
    return Runner().ok("case", "show", str(number), "--json").json()


async def _open_cases(pilot: Pilot[int]) -> None:
    await pilot.press("6")
    await settle(pilot)
    assert isinstance(pilot.app.screen, CasesScreen)


def status(app: TinyCRMApp, name: str) -> str:
    return str(app.screen.query_one(name, Static).render())


def test_cases_screen_lists_open_cases_most_urgent_first_and_filters(cases: str) -> None:
    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        await _open_cases(pilot)
        listed = rows(app, "case-list")
        # kim's overdue case first (escalated to sam), then the urgent one, then the waiting
        assert [r[2] for r in listed] == [
            "#5 Quote missing", "#4 Printer toner again", "#6 Delivery late",
        ]  # fmt: skip
        assert listed[0][0].endswith("overdue") and listed[0][-1] == "↑ sam"
        assert listed[1][:2] == ["today 11:00", "urgent"] and listed[1][-1] == ""
        assert (listed[2][0], listed[2][4]) == ("paused", "waiting")
        assert status(app, "#cases-status") == "3 open cases (everyone's) · 1 overdue"
        await pilot.press("m")
        await settle(pilot)
        assert [r[2] for r in rows(app, "case-list")] == [
            "#4 Printer toner again",
            "#6 Delivery late",
        ]
        assert status(app, "#cases-status") == "2 open cases (mine) · 0 overdue"
        await pilot.press("o")
        await settle(pilot)
        assert rows(app, "case-list")[0][2].startswith("no open case of yours is overdue")
        await pilot.press("m")
        await settle(pilot)
        assert [r[2] for r in rows(app, "case-list")] == ["#5 Quote missing"]
        assert status(app, "#cases-status") == (
            "1 open case (everyone's · overdue only) · 1 overdue"
        )

    run(flow)


def test_cases_screen_reads_the_next_page_at_the_bottom(
    cases: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tinycrm.tui import data

    monkeypatch.setattr(data, "CASES", 2)

    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        await _open_cases(pilot)
        # the first page, then at once the next (the cursor is within EDGE of its end)
        await settle(pilot)
        assert [r[2] for r in rows(app, "case-list")] == [
            "#5 Quote missing", "#4 Printer toner again", "#6 Delivery late",
        ]  # fmt: skip
        assert status(app, "#cases-status") == "3 open cases (everyone's) · 1 overdue"

    run(flow)


def test_an_opened_case_shows_the_past_cases_like_it_with_their_solutions(cases: str) -> None:
    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        await _open_cases(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen)
        card = status(app, "#case-fields")
        assert "#4 Printer toner again" in card and "Alice Wong" in card
        assert "urgent" in card and "today 11:00 (first response)" in card
        assert "toner low on the printer" in card and "No notes yet" in card
        similar = rows(app, "similar")
        assert similar[0][:2] == ["#1 Printer toner empty (Alice Wong)", "sent a new cartridge"]
        assert all("Login" not in r[0] for r in similar)
        assert "Solved before · 1 past case like this one" in status(app, "#similar-title")
        await pilot.press("enter")  # the past case, opened in its turn
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen) and app.screen.case_id == 1
        assert "sent a new cartridge" in status(app, "#case-fields")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen) and app.screen.case_id == 4

    run(flow)


def test_note_then_close_with_a_solution_from_the_case_view(cases: str) -> None:
    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        await _open_cases(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, FormModal)
        await pilot.press(*"asked for the model", "enter")
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen)
        card = status(app, "#case-fields")
        assert "Notes · 1" in card and "asked for the model" in card
        assert "responded  2026-11-23 10:00" in card
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, FormModal)
        await pilot.press("ctrl+s")  # no solution: refused under the field, nothing written
        await settle(pilot)
        assert isinstance(app.screen, FormModal)
        assert "the solution can't be empty" in status(app, "#solution-error")
        app.screen.query_one("#satisfaction", Select).value = "5"
        app.screen.query_one("#solution").focus()
        await pilot.press(*"replaced the drum", "enter")
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen)
        card = status(app, "#case-fields")
        assert "status  closed" in card and "solution  replaced the drum" in card
        assert "CSAT  5/5" in card
        await pilot.press("escape")
        await settle(pilot)
        assert [r[2] for r in rows(app, "case-list")] == ["#5 Quote missing", "#6 Delivery late"]

    run(flow)
    case = _case(4)
    assert (case["status"], case["solution"], case["satisfaction"]) == (
        "closed", "replaced the drum", 5,
    )  # fmt: skip
    assert [n["body"] for n in case["notes"]] == ["asked for the model"]
    # the solution is in the knowledge base at once
    assert [h["id"] for h in Runner().ok("search", "drum", "--json").json()] == [4]


def test_reopen_assign_edit_and_delete_a_case(cases: str) -> None:
    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        app.open_case(1)
        await settle(pilot)
        await pilot.press("r")  # closed: reopened
        await settle(pilot)
        assert "status  open" in status(app, "#case-fields")
        await pilot.press("a")
        await settle(pilot)
        await pilot.press(*"nobody", "enter")  # not a user: the service's refusal shows
        await settle(pilot)
        assert isinstance(app.screen, FormModal)
        assert "no user called 'nobody'" in status(app, "#form-error")
        app.screen.query_one("#user").value = ""  # type: ignore[attr-defined]
        await pilot.press(*"kim", "enter")
        await settle(pilot)
        assert "owner  kim" in status(app, "#case-fields")
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, FormModal)
        app.screen.query_one("#priority", Select).value = "high"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "priority  high" in status(app, "#case-fields")
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await settle(pilot)
        assert not isinstance(app.screen, CaseScreen)  # gone: back where it was opened

    run(flow)
    r = Runner()("case", "show", "1")
    assert r.exit_code == 1 and r.stderr == "Error: no case with id 1\n"
    Runner().ok("undo")  # the delete: back as the app left it
    case = _case(1)
    assert (case["status"], case["owner"], case["priority"]) == ("open", "kim", "high")


def test_today_shows_the_cases_escalated_to_me(cases: str) -> None:
    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        listed = rows(app, "cases")
        assert [r[1] for r in listed] == ["#5 Quote missing", "#4 Printer toner again"]
        assert listed[0][3] == "↑ sam" and listed[1][0] == "today 11:00"
        title = status(app, "#cases-title")
        assert title == "Cases · 1 escalated to you · 1 due today"  # no "0 overdue"
        app.screen.query_one("#cases").focus()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen) and app.screen.case_id == 5

    run(flow)


def test_today_has_no_cases_list_without_cases(seeded: str) -> None:
    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        assert not app.screen.query_one("#cases").display
        assert not app.screen.query_one("#cases-title").display

    run(flow)


def test_the_contact_view_shows_and_opens_cases(cases: str) -> None:
    async def flow(pilot: Pilot[int], app: TinyCRMApp) -> None:
        app.open_contact(1)  # Alice
        await settle(pilot)
        assert isinstance(app.screen, ContactScreen)
        timeline = rows(app, "timeline")
        case_rows = [r for r in timeline if r[1] == "case"]
        assert [r[2] for r in case_rows] == [
            "#4 Printer toner again · open · urgent",
            "#1 Printer toner empty · closed · normal · solved: sent a new cartridge",
        ]
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, CaseForm)
        await pilot.press(*"Scanner jammed", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ContactScreen)
        timeline = rows(app, "timeline")
        new = timeline.index(next(r for r in timeline if r[1] == "case"))
        assert timeline[new][2] == "#7 Scanner jammed · open · normal"
        app.screen.query_one("#timeline", DataTable).move_cursor(row=new)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen) and app.screen.case_id == 7

    run(flow)
    assert _case(7)["contact"] == "Alice Wong"
