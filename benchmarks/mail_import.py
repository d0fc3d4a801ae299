"""Time `tinycrm mail import` on a 10,000-message mbox and an IMAP run with no new mail.

    python benchmarks/mail_import.py [--db benchmarks/data/bench.db] [--messages 10000]
                                     [--imap-messages 1000] [--seed 3] [--keep DIR]

On a copy of the benchmark store (its schema upgraded first, untimed), writes an mbox in
which most messages come from the store's contacts (some sent by the user to them, some
in HTML, replies quoting the message before, a few with attachments) and the rest from
unknown people, then times the real console script importing it, and importing it again
(every message a duplicate). With Dovecot installed (tests/imap_server.py starts one), it
also puts `--imap-messages` into an IMAP INBOX, times the first import and then runs with
no new mail (the issue's budget: under 1 s). Targets: 10,000 messages < 30 s.
"""

from __future__ import annotations

import argparse
import json
import mailbox
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TINYCRM = Path(sys.executable).parent / "tinycrm"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ME = "sam@bench.example"
WORDS = (
    "thanks for the call we would like a quote for fifty licences next quarter can you send"
    " the contract the demo went well please find attached our requirements"
).split()


def messages(addresses: list[tuple[str, str]], count: int, seed: int) -> list[EmailMessage]:
    rng = random.Random(seed)
    out: list[EmailMessage] = []
    for n in range(count):
        m = EmailMessage()
        roll = rng.random()
        name, address = rng.choice(addresses)
        if roll < 0.25:  # someone the store doesn't know
            name, address = f"Stranger {n}", f"stranger{n}@unknown{n % 97}.example"
        sent = 0.25 <= roll < 0.4
        m["From"] = ME if sent else f"{name} <{address}>"
        m["To"] = f"{name} <{address}>" if sent else ME
        if rng.random() < 0.1:
            other = rng.choice(addresses)
            m["Cc"] = f"{other[0]} <{other[1]}>"
        m["Subject"] = " ".join(rng.choices(WORDS, k=5)).capitalize()
        m["Date"] = format_datetime(NOW - timedelta(minutes=(count - n) * 7))
        m["Message-ID"] = f"<bench{n}.{seed}@mail.example>"
        if out and rng.random() < 0.3:
            m["In-Reply-To"] = out[-1]["Message-ID"]
            m["References"] = out[-1]["Message-ID"]
        text = " ".join(rng.choices(WORDS, k=rng.randint(20, 120)))
        quoted = "\n\nOn Mon, someone wrote:\n" + "\n".join("> " + w for w in WORDS[:10])
        if rng.random() < 0.2:
            m.set_content(text + quoted)
            m.add_alternative(
                f"<html><body><p>{text}</p><blockquote>old</blockquote></body></html>",
                subtype="html",
            )
        else:
            m.set_content(text + quoted + "\n-- \nBest,\n" + name)
        if rng.random() < 0.05:
            m.add_attachment(
                b"%PDF-1.4 " + bytes(2000),
                maintype="application",
                subtype="pdf",
                filename="quote.pdf",
            )
        out.append(m)
    return out


def store_addresses(db: Path, limit: int, seed: int) -> list[tuple[str, str]]:
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(
            "SELECT c.name, m.value FROM contact_methods m JOIN contacts c ON c.id = m.contact_id"
            " WHERE m.kind = 'email' ORDER BY m.id"
        ).fetchall()
    finally:
        conn.close()
    random.Random(seed).shuffle(rows)
    return [(str(n), str(v)) for n, v in rows[:limit]]


CPU: list[float] = []  # CPU seconds of each run, beside its wall time


def run(args: list[str], env: dict[str, str]) -> tuple[float, dict[str, object]]:
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([str(TINYCRM), *args], env=env, capture_output=True, text=True)
    took = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    if done.returncode != 0:
        raise SystemExit(f"tinycrm {' '.join(args)} failed: {done.stderr}")
    return took, json.loads(done.stdout) if done.stdout.startswith("{") else {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", type=Path, default=ROOT / "benchmarks" / "data" / "bench.db")
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--imap-messages", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--keep", type=Path)
    args = parser.parse_args()
    if not args.db.exists():
        raise SystemExit(f"no benchmark store at {args.db}: make bench-data first")
    work = Path(args.keep or tempfile.mkdtemp(prefix="tinycrm-mail-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    store = work / "bench.db"
    shutil.copy(args.db, store)
    env = {**os.environ, "TINYCRM_DB": str(store), "TINYCRM_HOME": str(work / "home"),
           "TINYCRM_NOW": NOW.isoformat(), "TINYCRM_USER": "bench"}  # fmt: skip
    run(["user", "edit", "bench", "--email", ME], env)  # upgrades the schema, untimed
    addresses = store_addresses(store, 3000, args.seed)
    mbox_path = work / "inbox.mbox"
    box = mailbox.mbox(mbox_path)
    box.lock()
    for m in messages(addresses, args.messages, args.seed):
        box.add(m)
    box.flush()
    box.unlock()
    box.close()
    size = mbox_path.stat().st_size / 2**20
    rows: list[tuple[str, float, str]] = []
    took, summary = run(["mail", "import", str(mbox_path), "--json"], env)
    rows.append((f"mail import, {args.messages:,}-message mbox ({size:.0f} MiB)", took,
                 f"{summary['logged']:,} logged, {summary['unknown']:,} unknown,"
                 f" CPU {CPU[-1]:.1f} s"))  # fmt: skip
    took, summary = run(["mail", "import", str(mbox_path), "--json"], env)
    rows.append(("the same mbox again (all duplicates)", took,
                 f"{summary['duplicates']:,} duplicates, CPU {CPU[-1]:.1f} s"))  # fmt: skip
    rows += imap_rows(args, env, addresses)
    print(f"store: {args.db} (copy in {work}); load average {os.getloadavg()[0]:.1f}"
          f" on {os.cpu_count()} CPUs")  # fmt: skip
    for what, seconds, detail in rows:
        print(f"{what:55s} {seconds:7.2f} s   {detail}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


def imap_rows(
    args: argparse.Namespace, env: dict[str, str], addresses: list[tuple[str, str]]
) -> list[tuple[str, float, str]]:
    sys.path.insert(0, str(ROOT))
    from tests.imap_server import PASSWORD, dovecot_binary, running_dovecot

    binary = dovecot_binary()
    if binary is None:
        print("IMAP: skipped, Dovecot is not installed (apt-get install dovecot-imapd)")
        return []
    rows = []
    with running_dovecot(binary) as server:
        user = server.new_user()
        server.deliver(user, *messages(addresses, args.imap_messages, args.seed + 1))
        imap_env = {**env, "SSL_CERT_FILE": str(server.cert), "TINYCRM_IMAP_PASSWORD": PASSWORD}
        url = f"imaps://{user}@localhost:{server.imaps_port}/INBOX"
        took, summary = run(["mail", "import", url, "--json"], imap_env)
        rows.append((f"IMAP first run, {args.imap_messages:,} messages", took,
                     f"{summary['logged']:,} logged"))  # fmt: skip
        idle = [run(["mail", "import", url, "--json"], imap_env)[0] for _ in range(5)]
        rows.append(("IMAP run with no new mail (median of 5)", statistics.median(idle),
                     "budget 1 s"))  # fmt: skip
    return rows


if __name__ == "__main__":
    main()
