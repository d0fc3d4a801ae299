"""`tinycrm contact ...` and `tinycrm company ...` through the real entry point."""

from __future__ import annotations

from tests.conftest import Runner


def test_add_then_show_gives_the_360_view(cli: Runner) -> None:
    r = cli.ok(
        "contact",
        "add",
        "Alice Wong",
        "-e",
        "Alice@Acme.com",
        "-p",
        "+49 30 123456",
        "-c",
        "Acme GmbH",
        "-t",
        "Buyer",
        "--tag",
        "vip,key account",
        "--every",
        "30d",
    )
    assert r.stdout == "Added contact #1 Alice Wong (Acme GmbH)\n"
    cli.ok("note", "alice", "asked for a quote", "--follow-up", "friday")
    cli.ok("purchase", "add", "alice", "1,200.50", "--date", "2026-11-01")
    cli.ok("deal", "add", "alice", "50 licences", "--value", "12000")
    show = cli.ok("contact", "show", "alice", "--json").json()
    assert isinstance(show, dict)
    assert show["name"] == "Alice Wong"
    assert show["company"] == "Acme GmbH"
    assert show["emails"] == ["alice@acme.com"]
    assert show["phones"] == ["+49 30 123456"]
    assert show["tags"] == ["key-account", "vip"]
    assert show["cadence_days"] == 30
    assert show["purchases_count"] == 1
    assert show["purchases_total"] == {"EUR": "1200.50"}
    assert show["last_purchase_on"] == "2026-11-01"
    assert show["last_touch_at"] == "2026-11-23T09:00:00Z"
    assert show["next_reminder_at"] == "2026-11-27T08:00:00Z"  # Friday 09:00 Berlin
    assert [d["title"] for d in show["open_deals"]] == ["50 licences"]
    kinds = [e["kind"] for e in show["timeline"]]
    assert kinds[0] in ("note", "deal") and "purchase" in kinds


def test_plain_output_when_piped_is_tab_separated(cli: Runner) -> None:
    cli.ok("contact", "add", "Bob Li", "-e", "bob@li.cn")
    cli.ok("contact", "add", "Alice Wong")
    out = cli.ok("contact", "list").stdout.splitlines()
    assert out[0].split("\t")[:2] == ["2", "Alice Wong"]
    assert out[1].split("\t")[:4] == ["1", "Bob Li", "", "bob@li.cn"]


def test_duplicate_name_or_email_is_refused_unless_allowed(cli: Runner) -> None:
    cli.ok("contact", "add", "Alice Wong", "-e", "alice@acme.com")
    r = cli("contact", "add", "ALICE  WONG")
    assert r.exit_code == 1
    assert r.stderr == (
        "Error: a contact like 'ALICE WONG' already exists: #1 Alice Wong (same name);"
        " choose with --on-duplicate merge, skip or create\n"
    )
    r = cli("contact", "add", "Alicia", "-e", "ALICE@acme.com")
    assert r.exit_code == 1 and "#1 Alice Wong (same email alice@acme.com)" in r.stderr
    cli.ok("contact", "add", "Alice Wong", "--allow-duplicate")
    assert len(cli.ok("contact", "list", "--json").json()) == 2


def test_bad_input_is_one_line_exit_2_and_writes_nothing(cli: Runner) -> None:
    for args, message in [
        (
            ("contact", "add", "X", "-e", "not-an-email"),
            "Error: not an email address: 'not-an-email'\n",
        ),
        (("contact", "add", "   "), "Error: name can't be empty\n"),
        (("contact", "add", "X", "--every", "soon"), None),
        (("contact", "add", "X", "--bogus"), None),
    ]:
        r = cli(*args)
        assert r.exit_code == 2, (args, r)
        assert r.stdout == ""
        assert r.stderr.startswith("Error: ") and r.stderr.count("\n") == 1
        assert "Traceback" not in r.stderr
        if message:
            assert r.stderr == message
    assert cli.ok("contact", "list", "--json").json() == []


def test_unknown_option_names_the_option(cli: Runner) -> None:
    r = cli("contact", "add", "X", "--bogus")
    assert r.exit_code == 2
    assert "--bogus" in r.stderr and "tinycrm contact add --help" in r.stderr


def test_edit_changes_fields_and_reindexes_search(cli: Runner) -> None:
    cli.ok("contact", "add", "Alice Wong", "-e", "a@x.com")
    cli.ok(
        "contact",
        "edit",
        "alice",
        "--name",
        "Alice Chen",
        "--title",
        "CTO",
        "--email",
        "alice@chen.io",
        "--rm-email",
        "a@x.com",
        "--every",
        "none",
    )
    d = cli.ok("contact", "show", "1", "--json").json()
    assert isinstance(d, dict)
    assert (d["name"], d["title"], d["emails"], d["cadence_days"]) == (
        "Alice Chen",
        "CTO",
        ["alice@chen.io"],
        None,
    )
    hits = cli.ok("search", "chen", "--json").json()
    assert [(h["kind"], h["id"]) for h in hits] == [("contact", 1)]
    assert cli.ok("search", "wong", "--json").json() == []
    r = cli("contact", "edit", "alice")
    assert r.exit_code == 2 and "nothing to change" in r.stderr


def test_tag_add_and_remove(cli: Runner) -> None:
    cli.ok("contact", "add", "Alice Wong")
    assert cli.ok("contact", "tag", "alice", "VIP", "#Hot Lead").stdout == (
        "#1 Alice Wong: hot-lead, vip\n"
    )
    assert cli.ok("contact", "tag", "alice", "-r", "vip").stdout == "#1 Alice Wong: hot-lead\n"
    assert [c["name"] for c in cli.ok("contact", "list", "--tag", "hot-lead", "--json").json()] == [
        "Alice Wong"
    ]


def test_rm_needs_confirmation_off_a_terminal_and_removes_everything(cli: Runner) -> None:
    cli.ok("contact", "add", "Alice Wong")
    cli.ok("note", "alice", "met at fair")
    cli.ok("remind", "alice", "tomorrow", "call")
    r = cli("contact", "rm", "alice")
    assert r.exit_code == 2 and "pass --yes" in r.stderr
    assert len(cli.ok("contact", "list", "--json").json()) == 1
    out = cli.ok("contact", "rm", "alice", "--yes", "--json").json()
    assert out["removed"] == {"interactions": 1, "reminders": 1, "purchases": 0, "deals": 0}
    assert cli.ok("contact", "list", "--json").json() == []
    assert cli.ok("todo", "--all", "--json").json() == []
    assert cli.ok("search", "fair", "--json").json() == []


def test_company_lifecycle(cli: Runner) -> None:
    assert cli.ok("company", "add", "Acme GmbH", "--domain", "acme.de").stdout == (
        "Added company:1 Acme GmbH\n"
    )
    cli.ok("contact", "add", "Alice Wong", "-c", "acme gmbh")  # joins the existing company
    cli.ok("deal", "add", "company:acme", "Rollout", "--value", "5000")
    show = cli.ok("company", "show", "acme", "--json").json()
    assert isinstance(show, dict)
    assert [c["name"] for c in show["contacts"]] == ["Alice Wong"]
    assert [d["title"] for d in show["open_deals"]] == ["Rollout"]
    cli.ok("company", "edit", "acme", "--name", "Acme AG")
    assert cli.ok("contact", "show", "alice", "--json").json()["company"] == "Acme AG"
    listing = cli.ok("company", "list", "--json").json()
    assert listing == [
        {"id": 1, "name": "Acme AG", "domain": "acme.de", "contacts": 1, "open_deals": 1}
    ]
    r = cli("company", "add", "ACME ag")
    assert r.exit_code == 1 and "already exists" in r.stderr
    cli.ok("company", "rm", "acme", "--yes")
    assert cli.ok("contact", "show", "alice", "--json").json()["company"] is None
