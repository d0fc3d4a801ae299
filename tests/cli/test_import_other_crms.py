"""Deals and activities from other CRMs (#17): Pipedrive, HubSpot, Salesforce and Zoho
exports (and Pipedrive's German headers), shaped as the vendors export them, into a real
store on both backends: what lands, what the summary says, what is refused and how."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Runner
from tinycrm.store.open import open_store

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "crm"


@pytest.fixture
def here(cli: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The files, the team (sam, whose email Pipedrive shows; Lea Kim; Sam Lee as
    Salesforce names him) and the people the deals are with."""
    monkeypatch.chdir(tmp_path)
    for f in FIXTURES.iterdir():
        shutil.copy(f, tmp_path / f.name)
    cli.ok("user", "edit", "sam", "--email", "sam@example.com")
    cli.ok("user", "add", "Lea Kim")
    cli.ok("contact", "add", "Ann Lee", "-e", "ann@acme.example", "--company", "Acme GmbH")
    cli.ok("contact", "add", "Bob Stone", "-e", "bob@birch.example", "--company", "Birch Ltd")
    cli.ok("contact", "add", "Sam Park", "--company", "Birch Ltd")
    cli.ok("contact", "add", "Sam Park", "--company", "Other Co", "--allow-duplicate")
    return tmp_path


def deals(store: str) -> dict[str, dict[str, Any]]:
    db = open_store(store)
    try:
        return {
            str(r["title"]): dict(r)
            for r in db.all(
                "SELECT d.title, d.value_cents, d.currency, d.status, d.lost_reason,"
                " d.probability, d.expected_close, d.created_at, s.name AS stage,"
                " u.name AS owner, c.name AS contact, c.company_id AS contact_company,"
                " co.name AS company FROM deals d JOIN stages s ON s.id = d.stage_id"
                " LEFT JOIN users u ON u.id = d.owner_id LEFT JOIN contacts c"
                " ON c.id = d.contact_id LEFT JOIN companies co ON co.id = d.company_id"
            )
        }
    finally:
        db.close()


def test_pipedrive_deals_with_a_stage_the_store_lacks(cli: Runner, store: str, here: Path) -> None:
    r = cli("import", "deals", "pipedrive-deals.csv")
    assert (r.exit_code, r.stdout) == (2, "")
    assert r.stderr == (
        "Error: pipedrive-deals.csv: 1 stage the store doesn't have: 'Appointment scheduled'"
        ' (line 5). Say which of yours each is: --stage-map "Appointment scheduled=Lead"'
        " (stages: Lead, Qualified, Proposal, Negotiation, Won, Lost), or add them with"
        " --create-stages\n"
    )
    assert deals(store) == {}
    s = cli.ok(
        "import", "deals", "pipedrive-deals.csv", "--stage-map", "appointment SCHEDULED=Lead",
        "--json",
    ).json()  # fmt: skip
    assert (s["imported"], s["rejected"], s["companies_created"]) == (4, 0, [])
    assert s["source"]["columns"]["Deal - Title"] == "title"
    assert s["source"]["columns"]["Person - Email"] == "contact"
    assert "Deal - Weighted value" in s["source"]["ignored_columns"]
    got = deals(store)
    fleet = got["Fleet renewal"]
    assert (fleet["stage"], fleet["status"], fleet["value_cents"], fleet["owner"]) == (
        "Qualified",
        "open",
        4_800_000,
        "sam",  # by email
    )
    assert (fleet["contact"], fleet["company"], fleet["probability"]) == (
        "Ann Lee",
        "Acme GmbH",
        50,
    )
    assert str(fleet["expected_close"]) == "2026-12-31"
    assert str(fleet["created_at"]).startswith("2026-10-01")
    # won in Pipedrive while in its last open stage: in the store's won stage
    pilot = got["Pilot licences"]
    assert (pilot["stage"], pilot["status"], pilot["value_cents"]) == ("Won", "won", 120_050)
    support = got["Support plan"]
    assert (support["stage"], support["lost_reason"], support["owner"]) == (
        "Lost",
        "Went with a competitor",
        "Lea Kim",
    )
    assert support["currency"] == "USD" and support["contact"] == "Bob Stone"
    # "Sam Park" is two contacts: the one at Birch Ltd
    onboarding = got["Onboarding"]
    assert (onboarding["stage"], onboarding["contact"]) == ("Lead", "Sam Park")
    assert onboarding["company"] == "Birch Ltd"
    again = cli.ok("import", "deals", "pipedrive-deals.csv", "--stage-map",
                   "Appointment scheduled=Lead", "--json").json()  # fmt: skip
    assert (again["imported"], again["duplicates"]) == (0, 4)


def test_pipedrive_in_german_with_created_stages(cli: Runner, store: str, here: Path) -> None:
    s = cli.ok("import", "deals", "pipedrive-deals-de.csv", "--create-stages", "--json").json()
    assert (s["imported"], s["stages_created"]) == (2, ["Angebot", "Verhandlung"])
    stages = [x["name"] for x in cli.ok("stages", "--json").json()]
    assert stages[-4:] == ["Angebot", "Verhandlung", "Won", "Lost"]  # before Won/Lost
    got = deals(store)
    wartung = got["Wartungsvertrag"]
    assert (wartung["stage"], wartung["value_cents"], wartung["owner"]) == (
        "Angebot",
        1_250_000,
        "sam",
    )
    assert str(wartung["created_at"]).startswith("2026-11-05 14:30") or str(
        wartung["created_at"]
    ).startswith("2026-11-05T14:30")
    assert str(wartung["expected_close"]) == "2026-12-31"
    assert got["Altvertrag"]["stage"] == "Won"  # "gewonnen"


def test_hubspot_salesforce_and_zoho_deals(cli: Runner, store: str, here: Path) -> None:
    cli.ok("user", "add", "Sam Lee")
    s = cli.ok(
        "import", "deals", "hubspot-deals.csv", "--stage-map", "Appointment scheduled=Lead",
        "--json",
    ).json()  # fmt: skip
    assert s["imported"] == 3
    got = deals(store)
    assert (got["Acme expansion"]["probability"], got["Acme expansion"]["owner"]) == (20, "Lea Kim")
    assert got["Acme expansion"]["contact"] == "Ann Lee"  # "Ann Lee (ann@acme.example)"
    assert got["Birch renewal"]["stage"] == "Won"  # "Closed won"
    assert (got["Birch add-on"]["stage"], got["Birch add-on"]["lost_reason"]) == (
        "Lost",
        "Budget cut",
    )
    s = cli.ok("import", "deals", "salesforce-opportunities.csv", "--stage-map",
               "Prospecting=Lead", "--json").json()  # fmt: skip
    assert (s["imported"], s["rejected"]) == (2, 0)
    got = deals(store)
    seats = got["Acme - 50 seats"]
    assert (seats["owner"], seats["company"], seats["value_cents"]) == (
        "Sam Lee",
        "Acme GmbH",
        2_500_000,
    )
    assert str(seats["expected_close"]) == "2026-12-20"  # month first: 12/20/2026
    assert got["Birch - renewal"]["stage"] == "Won"
    r = cli("import", "deals", "zoho-deals.csv")
    assert r.exit_code == 2 and "'Needs Analysis' (line 2)" in r.stderr
    s = cli.ok("import", "deals", "zoho-deals.csv", "--stage-map", "Needs Analysis=Qualified",
               "--json").json()  # fmt: skip
    assert s["imported"] == 2
    got = deals(store)
    assert (got["Acme Q1 order"]["stage"], got["Acme Q1 order"]["contact"]) == (
        "Qualified",
        "Ann Lee",
    )
    assert got["Birch spare parts"]["lost_reason"] == "Price"


def test_salesforce_won_and_closed_flags_place_deals_in_their_own_closed_stages(
    cli: Runner, store: str, here: Path
) -> None:
    """Salesforce reports carry Won and Closed flags beside the team's own stage names:
    closed and won goes to Won, closed and not won to Lost, open by its (mapped) stage."""
    cli.ok("user", "add", "Sam Lee")
    s = cli.ok("import", "deals", "salesforce-opportunities-flags.csv", "--stage-map",
               "Prospecting=Lead", "--json").json()  # fmt: skip
    assert (s["imported"], s["rejected"]) == (3, 0)
    got = deals(store)
    assert got["Acme - pilot"]["stage"] == "Won"  # "Contract Signed", Won=1
    assert (got["Birch - audit"]["stage"], got["Birch - audit"]["lost_reason"]) == (
        "Lost",
        "Chose a competitor",
    )
    assert got["Acme - 80 seats"]["stage"] == "Lead"
    # a flag that is neither true nor false names the line and the column
    bad = here / "bad-flags.csv"
    bad.write_text(
        "Opportunity Name,Account Name,Stage,Won,Closed\nAcme - x,Acme GmbH,Signed,maybe,1\n"
    )
    r = cli("import", "deals", str(bad))
    assert r.exit_code == 2
    assert "line 2" in r.stderr and "won" in r.stderr and "'maybe'" in r.stderr
    assert len(deals(store)) == 3


def test_activities_land_as_interactions_and_open_ones_as_reminders(
    cli: Runner, store: str, here: Path
) -> None:
    cli.ok("user", "add", "Sam Lee")
    cli.ok("import", "deals", "pipedrive-deals.csv", "--stage-map", "Appointment scheduled=Lead")
    cli.ok("import", "deals", "salesforce-opportunities.csv", "--stage-map", "Prospecting=Lead")
    s = cli.ok("import", "interactions", "pipedrive-activities.csv", "--json").json()
    assert (s["imported"], s["reminders"], s["rejected"]) == (5, 1, 0)
    ann = cli.ok("contact", "show", "ann", "--json").json()
    kinds = [(e["kind"], e["text"].splitlines()[0]) for e in ann["timeline"] if e["kind"] != "deal"]
    assert ("call", "Intro call") in kinds and ("meeting", "Demo") in kinds
    call = next(e for e in ann["timeline"] if e["kind"] == "call")
    assert call["when"] == "2026-11-02T09:30:00Z"
    assert call["text"] == "Intro call\n\nTalked about the fleet"
    todo = cli.ok("todo", "--all", "--json").json()
    quote = next(t for t in todo if t["text"].startswith("Send the quote"))
    assert quote["text"] == "Send the quote\n\nInclude volume discount"
    assert quote["due_at"] == "2026-11-25T00:00:00Z" and quote["target"] == "Fleet renewal"
    # a done deadline is a note about the company
    hits = cli.ok("search", "contract signed", "--json").json()
    assert [(h["kind"], h["title"]) for h in hits] == [("interaction", "Birch Ltd")]
    again = cli.ok("import", "interactions", "pipedrive-activities.csv", "--json").json()
    assert (again["imported"], again["duplicates"]) == (0, 5)
    # Salesforce tasks: month-first dates, Completed / Not Started, "Other" is a to-do
    s = cli.ok("import", "interactions", "salesforce-tasks.csv", "--json").json()
    assert (s["imported"], s["reminders"]) == (2, 1)
    todo = cli.ok("todo", "--all", "--json").json()
    proposal = next(t for t in todo if t["text"] == "Prepare proposal")
    assert proposal["due_at"] == "2026-12-01T00:00:00Z"
    assert proposal["target"] == "Acme - 50 seats"
