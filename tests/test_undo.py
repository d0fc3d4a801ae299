"""The change journal and undo as a whole: its triggers cover every data table and column
on both backends, the order undo puts rows back in follows the foreign keys, the journal
keeps what it says, and the property: any sequence of changes, then as many undos, gives
back the store it started from, table by table (search index included); as many redos
give back where it ended."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.conftest import Runner, _reset_pg
from tests.undo_state import data_state, differences
from tinycrm.models import metadata
from tinycrm.services import undo
from tinycrm.store import journal
from tinycrm.store.open import open_store


def test_undo_puts_parents_back_before_their_children() -> None:
    """PARENTS_FIRST lists every journaled table, each after the tables it points at."""
    journaled = {t for t in metadata.tables if journal.journaled(t)}
    assert set(undo.PARENTS_FIRST) == journaled
    position = {t: i for i, t in enumerate(undo.PARENTS_FIRST)}
    for table in metadata.sorted_tables:
        if table.name not in journaled:
            continue
        for fk in table.foreign_keys:
            parent = fk.column.table.name
            if parent != table.name and parent in journaled:
                assert position[parent] < position[table.name], (parent, table.name)


def test_every_data_table_is_journaled_with_every_column(store: str) -> None:
    """A migration that adds a column or rebuilds a table must renew its triggers
    (journal.sqlite_triggers): this fails until it does."""
    db = open_store(store)
    try:
        tables = {t.name: t for t in db.tables() if journal.journaled(t.name)}
        assert set(tables) == {t for t in metadata.tables if journal.journaled(t)}
        if db.is_sqlite:
            found = {
                str(r["name"]): str(r["sql"])
                for r in db.all("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
            }
            for name, table in tables.items():
                for event in ("insert", "update", "delete"):
                    sql = found[f"{name}_journal_{event}"]
                    for column in table.columns:
                        assert f"'{column}'" in sql, (name, event, column)
        else:
            found_pg = {
                (str(r["tbl"]), str(r["name"]))
                for r in db.all(
                    "SELECT c.relname AS tbl, t.tgname AS name FROM pg_trigger t"
                    " JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal"
                )
            }
            for name in tables:
                assert (name, f"{name}_journal") in found_pg
    finally:
        db.close()


def test_the_journal_keeps_the_last_changes(
    cli: Runner, store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(journal, "KEEP_CHANGES", 4)
    monkeypatch.setattr(journal, "PRUNE_EVERY", 5)
    for i in range(1, 11):
        cli.ok("contact", "add", f"Person {i}")
    db = open_store(store)
    try:
        kept = [int(r["id"]) for r in db.all("SELECT id FROM changes ORDER BY id")]
        rows = {int(r["change_id"]) for r in db.all("SELECT change_id FROM row_changes")}
    finally:
        db.close()
    assert kept == [7, 8, 9, 10]  # pruned at change 10: everything up to 10 - 4
    assert rows == set(kept)
    r = cli("undo", "3")
    assert r.exit_code == 2
    assert r.stderr.startswith("Error: no change 3 in the journal")


def test_housekeeping_is_no_change(cli: Runner, store: str) -> None:
    """A write with no audit entry (a repair of derived columns, the user made on first
    use) is not something anyone undoes: it leaves nothing behind in the journal."""
    cli.ok("contact", "add", "Alice Wong", "--every", "30d")
    db = open_store(store)
    try:
        with db.write():
            db.execute("UPDATE contacts SET touch_due_at = NULL")
        assert db.last_change is None
        assert db.value("SELECT count(*) FROM row_changes WHERE change_id IS NULL") == 0
        assert db.value("SELECT count(*) FROM changes") == 1
    finally:
        db.close()


# -- the property ---------------------------------------------------------------------------
NAMES = ("Alice Wong", "Bob Stone", "Cleo Park", "Dan Ruiz")
STAGES = ("qualified", "proposal", "won", "lost")

step = st.one_of(
    st.tuples(st.just("add"), st.sampled_from(NAMES)),
    st.tuples(st.just("edit"), st.integers(1, 6), st.sampled_from(("CTO", "CEO", ""))),
    st.tuples(st.just("rm"), st.integers(1, 6)),
    st.tuples(st.just("tag"), st.integers(1, 6), st.sampled_from(("vip", "golf"))),
    st.tuples(st.just("note"), st.integers(1, 6), st.sampled_from(("hello", "pricing"))),
    st.tuples(st.just("remind"), st.integers(1, 6), st.sampled_from(("friday", "3d"))),
    st.tuples(st.just("done"), st.integers(1, 6)),
    st.tuples(st.just("deal"), st.integers(1, 6), st.integers(1, 9)),
    st.tuples(st.just("move"), st.integers(1, 4), st.sampled_from(STAGES)),
    st.tuples(st.just("purchase"), st.integers(1, 6), st.integers(1, 500)),
)


def _command(s: tuple[object, ...]) -> list[str]:
    kind = s[0]
    if kind == "add":
        return [
            "contact",
            "add",
            str(s[1]),
            "--allow-duplicate",
            "-e",
            f"{s[1]}@x.example".replace(" ", "."),
        ]
    if kind == "edit":
        return ["contact", "edit", f"#{s[1]}", "--title", str(s[2])]
    if kind == "rm":
        return ["contact", "rm", f"#{s[1]}", "--yes"]
    if kind == "tag":
        return ["contact", "tag", f"#{s[1]}", str(s[2])]
    if kind == "note":
        return ["note", f"#{s[1]}", str(s[2])]
    if kind == "remind":
        return ["remind", f"#{s[1]}", str(s[2]), "call back"]
    if kind == "done":
        return ["done", str(s[1])]
    if kind == "deal":
        return ["deal", "add", f"#{s[1]}", f"Deal {s[2]}", "--value", str(100 * int(str(s[2])))]
    if kind == "move":
        extra = ["--reason", "budget"] if s[2] == "lost" else []
        return ["deal", "move", str(s[1]), str(s[2]), *extra]
    return ["purchase", "add", f"#{s[1]}", str(s[2])]


def _fresh(store: str, template: Path) -> None:
    if store.startswith("postgres"):
        _reset_pg(store)
    else:
        shutil.copy(template, store)
        for suffix in ("-wal", "-shm"):
            Path(store + suffix).unlink(missing_ok=True)


@settings(
    max_examples=12,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(step, min_size=1, max_size=12))
def test_any_changes_then_as_many_undos_give_back_the_store(
    store: str,
    sqlite_template: Path,
    monkeypatch: pytest.MonkeyPatch,
    steps: list[tuple[object, ...]],
) -> None:
    cli = Runner()
    _fresh(store, sqlite_template)
    # the store as it was before sam's session: someone else's records, not sam's to undo
    monkeypatch.setenv("TINYCRM_USER", "kim")
    cli.ok("user", "add", "sam")
    cli.ok("contact", "add", "Kim's client", "-e", "kc@x.example", "--tag", "vip")
    cli.ok("deal", "add", "#1", "Kept deal", "--value", "50")
    monkeypatch.setenv("TINYCRM_USER", "sam")
    start = data_state(store)
    made = 0
    for s in steps:
        made += cli(*_command(s)).exit_code == 0
    end = data_state(store)
    undone = 0
    while (r := cli("undo")).exit_code == 0:
        undone += 1
    assert r.stderr == "Error: nothing to undo: sam has no change that stands\n"
    assert undone == made
    assert differences(data_state(store), start) == {}
    while cli("redo").exit_code == 0:
        pass
    assert differences(data_state(store), end) == {}
