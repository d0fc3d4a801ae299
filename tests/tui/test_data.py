"""The TUI's data layer on both backends: what the screens read, and noticing writes made
by another connection (the store watcher)."""

from __future__ import annotations

import time

from tests.conftest import Runner
from tests.tui.conftest import seed
from tinycrm.tui.data import (
    Query,
    Store,
    Watcher,
    load_before,
    load_page,
    load_today,
    load_window,
)


def test_screens_read_the_same_on_both_backends(cli: Runner) -> None:
    seed(cli)
    store = Store.open()
    with store.ctx() as ctx:
        today = load_today(ctx)
        first = load_page(ctx, Query(), None, 2, count=True)
        rest = load_page(ctx, Query(), first.rows[-1].id, 2, count=False)
        end = load_page(ctx, Query(), rest.rows[-1].id, 2, count=False)
        last = load_before(ctx, Query(), None, 3)
        back = load_before(ctx, Query(), last.rows[0].id, 3)
        again = load_window(ctx, Query(), rest.rows[0].id, 2)
        found = load_page(ctx, Query.parse("acme tag:vip", "name"), None, 10, count=True)
        cjk = load_page(ctx, Query("明天"), None, 10, count=True)
    assert [r.text for r in today.digest.overdue] == ["send the proposal"]
    assert [s.deals for s in today.pipeline][:4] == [1, 0, 1, 1]
    assert [c.name for c in first.rows + rest.rows] == [
        "Alice Wong",
        "Bob Stone",
        "Carla Diaz",
        "王小明",
    ]
    assert (first.total, end.rows, end.after) == (4, [], None)  # a full page may have more
    assert (first.before, rest.before) == (False, True)
    assert [c.name for c in last.rows] == ["Bob Stone", "Carla Diaz", "王小明"]
    assert (last.before, last.after) == (True, None)
    assert ([c.name for c in back.rows], back.before, back.after) == (["Alice Wong"], False, True)
    assert [c.name for c in again.rows] == ["Carla Diaz", "王小明"]  # from where it was
    assert (again.before, again.total) == (True, 4)
    assert [c.name for c in found.rows] == ["Alice Wong"]
    assert [c.name for c in cjk.rows] == ["王小明"]


def noticed(watcher: Watcher, within: float = 2.0) -> bool:
    """Whether the watcher notices a change within `within` seconds, polling as the app does."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if watcher.changed():
            return True
        time.sleep(0.1)
    return False


def test_the_watcher_notices_another_connection(cli: Runner) -> None:
    seed(cli)
    watcher = Watcher(Store.open())
    try:
        assert not watcher.changed()  # the first look only remembers
        assert not noticed(watcher, within=0.3)
        cli.ok("note", "bob", "called from another terminal")  # a new row
        assert noticed(watcher)
        cli.ok("done", "1")  # an update only
        assert noticed(watcher)
        cli.ok("contact", "edit", "bob", "--title", "CEO")
        assert noticed(watcher)
    finally:
        watcher.close()


def test_grades_are_ranked_once_until_a_purchase(cli: Runner) -> None:
    seed(cli)
    store = Store.open()
    with store.ctx() as ctx:
        assert store.rankings.grade(ctx, 1) == "RFM 333 need attention · ABC A · rank 1"
        assert store.rankings.grade(ctx, 2) == ""  # Bob never bought
        cli.ok("purchase", "add", "bob", "5000", "--date", "2026-11-20")
        assert store.rankings.grade(ctx, 2).endswith("rank 1")
        assert store.rankings.grade(ctx, 1).endswith("rank 2")


def test_rankings_keep_few_whole_rankings(cli: Runner) -> None:
    """A whole ranking of 100k customers is tens of MB: Today keeps only its top few, and
    besides the ranking by RFM (grades) only the last other order asked for is kept."""
    seed(cli)
    store = Store.open()
    with store.ctx() as ctx:
        top = store.rankings.top(ctx, 1)
        assert [c.name for c in top.customers] == ["Alice Wong"]
        assert top.summary.n == 2  # the summary is of every customer
        assert store.rankings.top(ctx, 1) is top  # kept until a purchase
        for by in ("value", "clv", "abc"):
            assert len(store.rankings.get(ctx, by=by).customers) == 2
        assert store.rankings.grade(ctx, 1).startswith("RFM 333")
        store.rankings.get(ctx, level="company")
        assert sorted(store.rankings._cache) == [("rfm", "company"), ("rfm", "contact")]
        cli.ok("purchase", "add", "carla", "9000", "--date", "2026-11-20")
        assert [c.name for c in store.rankings.top(ctx, 1).customers] == ["Carla Diaz"]


def test_the_watcher_reports_the_apps_own_write_at_once_and_once(cli: Runner) -> None:
    """`wrote()` (the app committed) makes the watcher look at once, and returns once the
    change is reported; the change is not reported again (on PostgreSQL: not when the
    server's statistics of the same commit arrive a moment later either)."""
    seed(cli)
    reports: list[float] = []
    watcher = Watcher(Store.open(), lambda: reports.append(time.monotonic()), poll=None)
    watcher.start()
    try:
        assert watcher.looked.wait(5.0)
        cli.ok("done", "1")  # an update only
        watcher.wrote()
        assert len(reports) == 1
        time.sleep(1.2)  # PostgreSQL flushes a session's statistics within about a second
        watcher.wrote()  # nothing new
        assert len(reports) == 1
        cli.ok("note", "bob", "called")
        watcher.wrote()
        assert len(reports) == 2
    finally:
        watcher.stop()
