"""Eight processes writing at once lose nothing and never fail with "database is locked".

Each worker is a real process running the real command line (`tinycrm.cli.entry.run`, one
store connection per command, as separate `tinycrm` invocations would) 500 times: notes
on one contact every worker shares, reminders, moves of its own deal through the open
stages, and purchases with amounts that identify the worker and the step. At the end the
store holds exactly the rows the workers were told to write.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Runner

pytestmark = pytest.mark.slow  # real processes racing: `make test-fast` leaves them out

WORKERS = 8
STEPS = 500  # per worker; every fourth step is each kind of write
OPEN_STAGES = ["Qualified", "Proposal", "Negotiation", "Lead"]

WORKER = """
import json, sys
from tinycrm.cli.entry import run

worker, steps, shared, own, deal = (int(a) for a in sys.argv[1:6])
stages = sys.argv[6].split(",")
failures = []
for i in range(steps):
    kind = i % 4
    if kind == 0:
        args = ["note", f"#{shared}", f"worker {worker} note {i}"]
    elif kind == 1:
        args = ["remind", f"#{own}", "3d", f"worker {worker} reminder {i}"]
    elif kind == 2:
        args = ["deal", "move", str(deal), stages[(i // 4) % len(stages)]]
    else:
        cents = worker * 1000 + i
        args = ["purchase", "add", f"#{own}", f"{cents // 100}.{cents % 100:02d}"]
    code = run(args)
    if code != 0:
        failures.append([i, code])
print(json.dumps(failures))
"""


def _expected_cents() -> int:
    return sum(w * 1000 + i for w in range(WORKERS) for i in range(STEPS) if i % 4 == 3)


def test_eight_writers_lose_nothing(cli: Runner, store: str, tmp_path: Path) -> None:
    shared = cli.ok("contact", "add", "Shared Customer", "--json").json()["id"]
    owns, deals = [], []
    for w in range(WORKERS):
        own = cli.ok("contact", "add", f"Customer {w}", "--json").json()["id"]
        deal = cli.ok("deal", "add", f"#{own}", f"Deal {w}", "--value", "1000", "--json").json()
        owns.append(own)
        deals.append(deal["id"])
    before = cli.ok("deal", "show", str(deals[0]), "--json").json()
    script = tmp_path / "worker.py"
    script.write_text(WORKER, encoding="utf-8")
    env = {**os.environ, "TINYCRM_BUSY_TIMEOUT": "60"}
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                str(script),
                str(w),
                str(STEPS),
                str(shared),
                str(owns[w]),
                str(deals[w]),
                ",".join(OPEN_STAGES),
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(WORKERS)
    ]
    for w, p in enumerate(procs):
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
        assert json.loads(out.splitlines()[-1]) == [], f"worker {w} failed: {err[-2000:]}"
        assert "locked" not in err and "Traceback" not in err

    per_kind = STEPS // 4
    shared_view = cli.ok("contact", "show", f"#{shared}", "--json").json()
    assert cli.ok("log", "--limit", "1", "--json").json()  # the store still reads
    from tinycrm.cli import state

    db = state.get_ctx().db
    try:
        notes = db.value("SELECT count(*) FROM interactions WHERE contact_id = :c", {"c": shared})
        assert notes == WORKERS * per_kind
        bodies = {
            r["body"]
            for r in db.all("SELECT body FROM interactions WHERE contact_id = :c", {"c": shared})
        }
        assert len(bodies) == WORKERS * per_kind  # every note, none twice
        assert db.value("SELECT count(*) FROM reminders") == WORKERS * per_kind
        assert db.value("SELECT count(*) FROM purchases") == WORKERS * per_kind
        assert db.value("SELECT sum(amount_cents) FROM purchases") == _expected_cents()
        for w, deal_id in enumerate(deals):
            moves = db.value(
                "SELECT count(*) FROM stage_changes"
                " WHERE deal_id = :d AND from_stage_id IS NOT NULL",
                {"d": deal_id},
            )
            assert moves == per_kind, (w, moves)
        # every worker's deal ended where its last move put it
        last_stage = OPEN_STAGES[(per_kind - 1) % len(OPEN_STAGES)]
        stages = {
            r["name"]
            for r in db.all(
                "SELECT s.name FROM deals d JOIN stages s ON s.id = d.stage_id WHERE d.id IN ("
                + ",".join(str(d) for d in deals)
                + ")"
            )
        }
        assert stages == {last_stage}
        # the search index followed every note
        from tinycrm.services.search import search

        hits = search(db, "worker 7 note 496", kinds=("interaction",), limit=5)
        assert any("worker 7 note 496" in f"{h.title} {h.detail}" for h in hits), hits
    finally:
        state.close()
    assert shared_view["last_touch_at"] is not None
    assert before["stage"] == "Lead"
