"""Build a realistic, reproducible tinycrm store for the benchmarks.

    python benchmarks/generate.py [--out benchmarks/data/bench.db] [--seed 42] [--scale 1.0]

At scale 1.0 the store holds 100k contacts, 10k companies, 1M interactions, 200k reminders,
50k deals, 500k purchases and 20k service cases with their notes (`--scale` multiplies every
count), and a catalogue of 48 products in 6 families: about 70% of purchases name one (with a
quantity), each customer buying mostly from a family of their own, so `recommend` has real
co-occurrence to find. Rows are written the way the services write them: folded name and
title keys, lower-cased email and `phone_key` method keys and their match keys
(tinycrm.identity),
`last_touch_at` = the contact's latest interaction, `scheduled_at` = `due_at` unless snoozed,
one stage change per deal creation and per move, and the full-text tables filled with
`tinycrm.text.search_document` over the same parts the services index.

Every value comes from `random.Random(seed)` and a fixed "now" (2026-11-23 09:00 UTC), so the
same arguments always give the same store. The schema comes from
`tinycrm.store.open.open_store` (the Alembic migrations); rows are bulk-inserted through its
stdlib `sqlite3` connection, one transaction per table. A JSON sidecar next to the store
records "now", the counts and the words the benchmark searches for.
"""

from __future__ import annotations

import argparse
import bisect
import functools
import itertools
import json
import os
import random
import sqlite3
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tinycrm.identity import email_match_key, phone_match_key
from tinycrm.store.db import Db, Location, _dict_row
from tinycrm.store.open import open_store
from tinycrm.text import fold, phone_key, search_document

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
NOW_TS = NOW.timestamp()
DAY = 86_400.0
HOUR = 3_600.0

BASE_COUNTS = {
    "companies": 10_000,
    "contacts": 100_000,
    "interactions": 1_000_000,
    "reminders": 200_000,
    "deals": 50_000,
    "purchases": 500_000,
    "cases": 20_000,
}
OPEN_REMINDERS = 15_000  # at scale 1.0; the rest of the reminders are done
COMMON_WORD = "renewal"  # in about one note in ten
RARE_WORD = "escrow"  # in about one note in two thousand
BENCH_USER = "anna"
SIZE_BUDGET_MIB = 400  # at scale 1.0 (from the issue)

# (login, email, time zone, lead) - the login is what TINYCRM_USER names.
USERS = (
    ("anna", "anna.berger@tinycrm.example", "Europe/Berlin", None),
    ("ben", "ben.okoro@tinycrm.example", "Europe/London", 1),
    ("chen", "chen.jing@tinycrm.example", "Asia/Shanghai", 1),
    ("dolores", "dolores.garcia@tinycrm.example", "Europe/Madrid", 1),
    ("emeka", "emeka.obi@tinycrm.example", "Africa/Lagos", 1),
)
OWNER_WEIGHTS = (30, 25, 20, 15, 10)

# -- word pools -------------------------------------------------------------------------------
FIRST_NAMES = (
    "Anna", "Ben", "Carlos", "Chloé", "Daniel", "Dmitri", "Elif", "Emma", "Fatima", "François",
    "Giulia", "Hannah", "Hiroshi", "Ingrid", "Isabel", "Jakob", "James", "Javier", "José",
    "Julia", "Kai", "Karin", "Lars", "Laura", "Léa", "Lena", "Lucas", "Luis", "Magdalena",
    "Maria", "María", "Marco", "Martin", "Mateo", "Mehmet", "Mia", "Mohammed", "Nadia",
    "Niklas", "Noah", "Olivia", "Omar", "Paul", "Pedro", "Priya", "Rafael", "Rahul", "Sara",
    "Sebastián", "Sofia", "Søren", "Stefan", "Thomas", "Yusuf", "Zoë", "Ngozi", "Kwame",
    "Aiko", "Björn", "Agnieszka", "Łukasz", "Tomás", "Ana", "Ahmed", "Alexander", "Amelia",
    "Andrea", "Antoine", "Astrid", "Beatriz", "Camille", "Clara", "David", "Diego", "Eva",
    "Felix", "Florian", "Gabriel", "Georg", "Hamza", "Helena", "Ines", "Ivan", "Jana", "Jens",
    "Johanna", "Jonas", "Kenji", "Katarzyna", "Leon", "Lina", "Lotte", "Lukas", "Malik",
    "Marta", "Matteo", "Maximilian", "Mei", "Michael", "Miguel", "Nina", "Oliver", "Oskar",
    "Pablo", "Petra", "Pierre", "Rosa", "Samuel", "Sanjay", "Simone", "Sophie", "Svenja",
    "Tobias", "Valentina", "Victor", "Wei", "Yara", "Yuki", "Zeynep", "Aurélie", "Gökhan",
    "Jürgen", "Renée", "Dorothée", "Inés",
)  # fmt: skip
LAST_NAMES = (
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
    "Hoffmann", "Schäfer", "Koch", "Richter", "Smith", "Johnson", "Brown", "Williams",
    "Taylor", "Wilson", "García", "Martínez", "López", "González", "Rodríguez", "Fernández",
    "Pérez", "Sánchez", "Rossi", "Russo", "Bianchi", "Romano", "Dubois", "Martin", "Bernard",
    "Lefèvre", "Moreau", "Laurent", "Nowak", "Kowalski", "Wiśniewski", "Novák", "Svoboda",
    "Jansen", "de Vries", "Bakker", "Visser", "Andersson", "Johansson", "Nilsson", "Hansen",
    "Jensen", "Nielsen", "Yılmaz", "Kaya", "Demir", "Patel", "Sharma", "Singh", "Kumar",
    "Khan", "Ali", "Okafor", "Mensah", "Nakamura", "Tanaka", "Sato", "Kim", "Park", "Nguyen",
    "Tran", "Silva", "Santos", "Oliveira", "Costa", "O'Brien", "Murphy", "Kelly", "Ivanov",
    "Petrov", "Popescu", "Horváth", "Papadopoulos", "Cohen", "Levi", "Zimmermann", "Krüger",
    "Hartmann", "Lange", "Schulz", "Braun", "Wolf", "Neumann", "Schwarz", "Fuchs", "Vogel",
    "Keller", "Graf", "Huber", "Baumann", "Moser", "Gruber", "Eriksson", "Larsen", "Berg",
    "Lindqvist", "Virtanen", "Korhonen", "Dupont", "Girard", "Fontaine", "Marchetti",
    "Esposito", "Ricci", "Moretti", "Ramírez", "Torres", "Flores", "Navarro", "Ortega",
    "Castillo", "Ferreira", "Pereira", "Almeida", "Adeyemi", "Okonkwo", "Mwangi", "Haddad",
    "Nasser", "Ahmadi", "Hosseini", "Watanabe", "Suzuki", "Takahashi", "Choi", "Lee", "Pham",
    "Evans", "Thomas", "Roberts", "Walker", "Wright", "Green", "Hall", "Clarke", "Jackson",
    "Lewis", "Young", "Allen",
)  # fmt: skip
# Chinese names as (characters, pinyin for the email address).
CN_SURNAMES = (
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"),
    ("杨", "yang"), ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"),
    ("徐", "xu"), ("孙", "sun"), ("马", "ma"), ("朱", "zhu"), ("胡", "hu"),
)  # fmt: skip
CN_GIVEN = (
    ("伟", "wei"), ("娜", "na"), ("芳", "fang"), ("敏", "min"), ("静", "jing"), ("丽", "li"),
    ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"), ("勇", "yong"),
    ("艳", "yan"), ("杰", "jie"), ("娟", "juan"), ("涛", "tao"), ("明", "ming"),
    ("超", "chao"), ("秀英", "xiuying"), ("霞", "xia"), ("平", "ping"), ("晓燕", "xiaoyan"),
    ("建华", "jianhua"), ("志强", "zhiqiang"), ("海燕", "haiyan"),
)  # fmt: skip
COMPANY_STEMS = (
    "Acme", "Nord", "Blue", "Alpen", "Rhein", "Silver", "Atlas", "Nova", "Orion", "Vertex",
    "Pioneer", "Delta", "Summit", "Evergreen", "Quantum", "Helix", "Lumen", "Apex", "Bright",
    "Cedar", "Falcon", "Granite", "Harbor", "Iris", "Juniper", "Kestrel", "Linden", "Meridian",
    "Northwind", "Oak", "Polar", "Redwood", "Sage", "Tidal", "Unity", "Vista", "Willow",
    "Zenith", "Aurora", "Beacon", "Cobalt", "Donau", "Elbe", "Fjord", "Gulf", "Highland",
    "Isar", "Jade", "Kraft", "Lago", "Main", "Neckar", "Olymp", "Prisma", "Rivera", "Sol",
    "Terra", "Urban", "Velo", "Weser", "Ostsee", "Sierra", "Costa", "Baltic", "Carpathia",
    "Tejo", "Loire", "Rhône", "Garonne", "Douro",
)  # fmt: skip
COMPANY_TRADES = (
    "Logistics", "Systems", "Foods", "Software", "Consulting", "Energy", "Labs", "Textiles",
    "Robotics", "Medical", "Analytics", "Bau", "Technik", "Handel", "Trading", "Design",
    "Media", "Partners", "Solutions", "Werke", "Pharma", "Motors", "Print", "Hotels", "Retail",
    "Optics", "Chemie", "Maschinenbau", "Telecom", "Finance",
)  # fmt: skip
COMPANY_REGIONS = ("", "", "", "", "International", "Europe", "Nord", "Süd", "Digital", "Group")
LEGAL_FORMS = (  # (suffix, top-level domain, phone prefix)
    ("GmbH", "de", "+49"), ("AG", "de", "+49"), ("KG", "de", "+49"), ("Ltd", "co.uk", "+44"),
    ("Inc.", "com", "+1"), ("LLC", "com", "+1"), ("S.A.", "es", "+34"), ("S.r.l.", "it", "+39"),
    ("B.V.", "nl", "+31"), ("SAS", "fr", "+33"), ("Oy", "fi", "+358"), ("AB", "se", "+46"),
    ("GmbH", "at", "+43"), ("AG", "ch", "+41"),
)  # fmt: skip
CN_CITIES = ("上海", "北京", "深圳", "杭州", "广州", "成都")
CN_BRANDS = (
    ("华信", "huaxin"), ("恒通", "hengtong"), ("金达", "jinda"), ("宏远", "hongyuan"),
    ("天成", "tiancheng"), ("新亚", "xinya"), ("东方", "dongfang"), ("瑞丰", "ruifeng"),
)  # fmt: skip
CN_TRADES = (
    ("科技", "tech"), ("贸易", "trading"), ("物流", "logistics"), ("电子", "electronics"),
    ("食品", "foods"),
)  # fmt: skip
COMPANY_NOTES = (
    "Key account", "Reseller for DACH", "Pays late, ask for prepayment",
    "Framework agreement until 2027", "Procurement runs through their parent company",
    "Prefers quarterly invoices", "Strategic partner", "年度框架协议",
)  # fmt: skip
TITLES = (
    "CEO", "CTO", "CFO", "COO", "Head of Procurement", "Purchasing Manager", "Sales Director",
    "Office Manager", "IT Manager", "Operations Lead", "Marketing Manager", "Founder",
    "Managing Director", "Geschäftsführer", "Einkaufsleiter", "Buyer", "Project Manager",
    "Engineer", "Consultant", "Head of Finance", "Team Lead Logistics", "Directrice commerciale",
    "Responsable achats",
)  # fmt: skip
CN_TITLES = ("采购经理", "总经理", "销售总监", "IT Manager", "CEO")
SOURCES = ("website", "referral", "trade show", "LinkedIn", "cold call", "webinar", "partner",
           "import")  # fmt: skip
CONTACT_NOTES = (
    "Prefers email over calls", "Met at the Hannover trade fair", "Decision maker for EMEA",
    "Vegetarian, remember for lunch meetings", "Speaks German and Spanish",
    "Budget cycle starts in January", "Former customer at another company",
    "Only reachable in the mornings", "喜欢电话联系",
)  # fmt: skip
TAGS = ("vip", "newsletter", "partner", "prospect", "customer", "churn-risk", "enterprise",
        "smb", "event-2026", "reseller")  # fmt: skip
TAG_WEIGHTS = (4, 20, 5, 25, 30, 4, 8, 15, 6, 3)
FREEMAIL = ("gmail.com", "outlook.com", "web.de", "gmx.de", "yahoo.com", "icloud.com")
CN_FREEMAIL = ("qq.com", "163.com", "126.com")

TOPICS = (
    (COMMON_WORD, 10.0), ("pricing", 8.0), ("invoice", 6.0), ("onboarding", 5.0),
    ("contract", 7.0), ("demo", 6.0), ("integration", 4.0), ("support ticket", 4.0),
    ("upgrade", 4.0), ("discount", 4.0), ("budget", 4.0), ("training", 3.0), ("delivery", 3.0),
    ("proposal", 5.0), ("licence count", 2.0), ("SLA", 2.0), ("data migration", 2.0),
    ("pilot", 3.0), ("quote", 4.0), ("payment terms", 2.0), ("security review", 2.0),
    ("GDPR questions", 1.0), ("API access", 2.0), ("warranty claim", 0.3),
    ("tariff changes", 0.2), (f"{RARE_WORD} agreement", 0.05),
)  # fmt: skip
OUTCOMES = (
    "decides next week", "needs finance OK", "wants a new quote", "happy so far",
    "waiting for legal", "call back Monday", "no budget this quarter", "ready to sign",
    "wants references", "comparing offers", "sent to procurement", "still undecided",
    "next steps agreed", "wants it by year end",
)  # fmt: skip
DOCS = ("quote", "proposal", "contract draft", "invoice copy", "case study", "price list",
        "order form", "NDA")  # fmt: skip
PRODUCTS = ("Pro plan", "Enterprise plan", "Starter plan", "analytics add-on", "mobile app",
            "API package", "support package", "on-site training")  # fmt: skip
TEAMS = ("sales", "IT", "finance", "logistics", "marketing", "support")
# Short, as typed at a terminal: the store must stay under 400 MiB with 1M of them.
NOTE_TEMPLATES = {
    "call": (
        "Called {name} about the {topic}.",
        "Call re {topic}: {outcome}.",
        "Left a voicemail re {topic}.",
        "{name} called back, {outcome}.",
        "Called about {topic}, {outcome}.",
    ),
    "email": (
        "Sent the {doc}.",
        "Sent {doc} re {topic}.",
        "{name} asked about the {topic}.",
        "Reply on {topic}: {outcome}.",
    ),
    "meeting": (
        "Meeting on {topic}: {outcome}.",
        "Demo of the {product}.",
        "Visit re {topic} and {topic2}.",
        "Lunch with {name}, {outcome}.",
    ),
    "note": (
        "Interested in the {product}.",
        "{Topic}: {outcome}.",
        "Wants a better deal on {topic}.",
        "{Topic} for the {team} team.",
        "{name}: {outcome}.",
    ),
}
CN_NOTES = (
    "讨论了续约价格，下周再联系。", "客户对新报价很满意。", "明天去他们办公室开会。",
    "发送了合同草稿。", "需要财务部门批准。", "希望在年底前签约。", "询问了培训安排。",
    "电话沟通了发票问题。",
)  # fmt: skip
KIND_WEIGHTS = (("note", 40), ("call", 30), ("email", 20), ("meeting", 10))
DEAL_TITLES = (
    "{product} for {company}", "{seats} seats {product}", "Renewal {year} - {company}",
    "Pilot: {product}", "Upgrade to Enterprise plan", "Training package {year}",
    "{company} rollout", "Support package {year}",
)  # fmt: skip
LOST_REASONS = ("went with a competitor", "no budget", "price too high", "bad timing",
                "no decision", "project cancelled")  # fmt: skip
REMINDER_TEXTS = (
    "Call back about the {topic}", "Send the {doc}", "Follow up: {topic}",
    "Check in with {name}", "Prepare the {doc}", "Ask {name} for a referral",
    "Confirm the meeting", "Chase the invoice", "回电话讨论续约",
)  # fmt: skip
PURCHASE_NOTES = (
    "Pro plan, annual", "Support package", "10 extra seats", "Onboarding workshop",
    "Hardware kit", "Starter plan, monthly", "Consulting day", "年度订阅",
)  # fmt: skip
CURRENCIES = (("EUR", 80), ("USD", 12), ("GBP", 6), ("CHF", 2))
OPEN_STAGES = ((1, 40), (2, 25), (3, 20), (4, 15))  # Lead, Qualified, Proposal, Negotiation
WON, LOST = 5, 6
STAGE_PROBABILITY = {1: 10, 2: 25, 3: 50, 4: 75}


# -- helpers --------------------------------------------------------------------------------
def _stamp_width() -> int:
    """How much of `isoformat(" ", "microseconds")` tinycrm.store keeps of a timestamp on
    SQLite, checked against `Db.ts` so that a change of the stored layout can't go unseen."""
    probe = datetime(2001, 2, 3, 4, 5, 6, 789012, tzinfo=UTC)
    stored = str(Db(None, Location("sqlite")).ts(probe))
    if not probe.isoformat(" ", "microseconds").startswith(stored):
        raise SystemExit(f"tinycrm.store now stores timestamps like {stored!r}; adapt stamp()")
    return len(stored)


STAMP_WIDTH = _stamp_width()


def stamp(t: float) -> str:
    """An epoch time as tinycrm stores a timestamp on SQLite (UTC, the same text as `Db.ts`,
    built without its much slower strftime)."""
    return datetime.fromtimestamp(t, UTC).isoformat(" ", "microseconds")[:STAMP_WIDTH]


# Notes repeat (short, typed at a terminal): index each distinct text once.
document = functools.cache(search_document)


def day_of(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).date().isoformat()


def ascii_slug(text: str, sep: str = ".") -> str:
    """'Søren de Vries' -> 'soren.de.vries' (for addresses and domains)."""
    folded = fold(text).replace("ø", "o").replace("ł", "l").replace("ı", "i").replace("ß", "ss")
    words = ["".join(c for c in w if c.isascii() and c.isalnum()) for w in folded.split()]
    return sep.join(w for w in words if w)


class Weighted:
    """Draws items with fixed weights (cumulative weights computed once)."""

    def __init__(self, pairs: Sequence[tuple[Any, float]]) -> None:
        self.items = [p[0] for p in pairs]
        self.cum = list(itertools.accumulate(p[1] for p in pairs))

    def __call__(self, rng: random.Random) -> Any:
        return self.items[bisect.bisect_right(self.cum, rng.random() * self.cum[-1])]


class Picker:
    """Draws record indexes by weight among the records that existed before a time.

    `created` must be sorted (ids are given in creation order)."""

    def __init__(self, created: Sequence[float], weights: Sequence[float]) -> None:
        self.created = created
        self.cum = list(itertools.accumulate(weights))

    def pick(self, rng: random.Random, before: float = NOW_TS) -> int | None:
        k = bisect.bisect_right(self.created, before)
        if k == 0 or self.cum[k - 1] <= 0:
            return None
        return bisect.bisect_right(self.cum, rng.random() * self.cum[k - 1], 0, k - 1)


def work_moment(rng: random.Random, lo: float, hi: float, skew: float = 1.0) -> float:
    """A weekday, working-hours moment in [lo, hi); skew > 1 favours the later end."""
    if hi - lo < DAY:
        return lo + (hi - lo) * rng.random()
    for _ in range(30):
        t = lo + (hi - lo) * float(rng.random() ** (1.0 / skew))
        midnight = t - t % DAY
        if (int(midnight // DAY) + 3) % 7 >= 5 and rng.random() < 0.92:  # 1970-01-01: Thursday
            continue
        t = midnight + 7 * HOUR + rng.random() * 10 * HOUR
        if lo <= t < hi:
            return t
    return lo + (hi - lo) * rng.random()


CASE_TITLES = (
    "Login fails", "Invoice is wrong", "Printer offline", "Cannot export the report",
    "Licence key expired", "Sync stopped", "Refund request", "Password reset",
    "Dashboard is slow", "Delivery missing", "Wrong price on the quote", "App crashes on start",
)  # fmt: skip
CASE_NOTES = (
    "Asked {first} for a screenshot", "Sent {first} the workaround", "Passed it to engineering",
    "{first} confirmed it works again", "Called {first}, waiting for the logs",
)  # fmt: skip
SOLUTIONS = (
    "Reset the account", "Reissued the invoice", "Sent a new licence key", "Cleared the cache",
    "Shipped a replacement", "Fixed in release 4.2",
)  # fmt: skip
TOPIC = Weighted(TOPICS)
KIND = Weighted(KIND_WEIGHTS)
TAG = Weighted(list(zip(TAGS, TAG_WEIGHTS, strict=True)))
CURRENCY = Weighted(CURRENCIES)
OPEN_STAGE = Weighted(OPEN_STAGES)
OWNER = Weighted([(i + 1, w) for i, w in enumerate(OWNER_WEIGHTS)])
PRIORITY = Weighted([("urgent", 5), ("high", 20), ("normal", 55), ("low", 20)])
SCORE = Weighted([(5, 40), (4, 30), (3, 15), (2, 8), (1, 7)])
# Name popularity falls off like Zipf's law: a few very common names, a long tail.
FIRST_NAME = Weighted([(name, 1 / (rank + 10)) for rank, name in enumerate(FIRST_NAMES)])
LAST_NAME = Weighted([(name, 1 / (rank + 10)) for rank, name in enumerate(LAST_NAMES)])


def office_hours(t: float) -> float:
    """`t` moved into 07:00-17:00 UTC of its day (order-preserving), never past now."""
    midnight = t - t % DAY
    return min(NOW_TS - 60, midnight + 7 * HOUR + (t - midnight) / DAY * 10 * HOUR)


def fill(template: str, rng: random.Random, name: str) -> str:
    """A note or reminder text from a template, the fields drawn from the word pools."""
    topic = TOPIC(rng)
    return template.format(
        name=name,
        topic=topic,
        Topic=topic[0].upper() + topic[1:],
        topic2=TOPIC(rng),
        outcome=rng.choice(OUTCOMES),
        doc=rng.choice(DOCS),
        product=rng.choice(PRODUCTS),
        team=rng.choice(TEAMS),
    )


# -- the data set ---------------------------------------------------------------------------
@dataclass
class Contact:
    name: str
    first: str  # how notes address them
    company: int | None  # company id
    created: float
    owner: int
    weight: float  # how much activity (interactions, deals) the contact draws
    currency: str
    chinese: bool
    last_touch: float | None = None


@dataclass
class Data:
    rows: dict[str, list[tuple[Any, ...]]]  # table -> rows, in loading order
    fts: dict[str, list[tuple[int, str]]]  # kind -> (record id, index document)


def scaled(scale: float) -> dict[str, int]:
    return {k: max(1, round(v * scale)) for k, v in BASE_COUNTS.items()}


def make_users() -> list[tuple[Any, ...]]:
    created = stamp(NOW_TS - 5 * 365 * DAY)
    return [
        (i, login, email, zone, lead, created)
        for i, (login, email, zone, lead) in enumerate(USERS, start=1)
    ]


def make_companies(
    rng: random.Random, n: int
) -> tuple[list[tuple[Any, ...]], list[tuple[int, str]], list[float], list[tuple[str, str]]]:
    """Company rows, their index documents, creation times, and (domain, phone prefix)."""
    created = sorted(work_moment(rng, NOW_TS - 6 * 365 * DAY, NOW_TS - DAY, 1.3) for _ in range(n))
    seen: set[str] = set()
    rows: list[tuple[Any, ...]] = []
    docs: list[tuple[int, str]] = []
    contact_info: list[tuple[str, str]] = []
    for i, t in enumerate(created, start=1):
        for attempt in itertools.count():
            if rng.random() < 0.03:
                city, (brand, brand_py) = rng.choice(CN_CITIES), rng.choice(CN_BRANDS)
                trade, trade_py = rng.choice(CN_TRADES)
                name = f"{city}{brand}{trade}有限公司"
                slug, tld, prefix = f"{brand_py}-{trade_py}", "cn", "+86"
            else:
                legal, tld, prefix = rng.choice(LEGAL_FORMS)
                words = [rng.choice(COMPANY_STEMS), rng.choice(COMPANY_REGIONS)]
                words.append(rng.choice(COMPANY_TRADES))
                name = " ".join(w for w in (*words, legal) if w)
                slug = ascii_slug(" ".join(w for w in words if w), "-")
            if attempt > 5:  # crowded name space (large scales): number the branch
                name, slug = f"{name} {attempt}", f"{slug}{attempt}"
            if fold(name) not in seen:
                break
        seen.add(fold(name))
        domain = f"{slug}.{tld}"
        phone = f"{prefix} {rng.randint(20, 99)} {rng.randint(100000, 9999999)}"
        website = f"https://www.{domain}" if rng.random() < 0.7 else None
        notes = rng.choice(COMPANY_NOTES) if rng.random() < 0.1 else None
        when = stamp(t)
        updated = stamp(min(NOW_TS - HOUR, t + rng.random() * 400 * DAY))
        rows.append(
            (i, name, fold(name), domain, phone if rng.random() < 0.6 else None, website, notes,
             OWNER(rng), when, updated, 1)
        )  # fmt: skip
        docs.append((i, search_document(name, domain, website, notes)))
        contact_info.append((domain, prefix))
    return rows, docs, created, contact_info


@dataclass(frozen=True)
class Name:
    full: str
    called: str  # how notes address the person
    local: str  # the local part of their email address
    chinese: bool


def person(rng: random.Random) -> Name:
    if rng.random() < 0.04:
        (sur, sur_py), (given, given_py) = rng.choice(CN_SURNAMES), rng.choice(CN_GIVEN)
        return Name(f"{sur}{given}", f"{sur}{given}", f"{given_py}.{sur_py}", True)
    first, last = FIRST_NAME(rng), LAST_NAME(rng)
    full = f"{first} {last}"
    if rng.random() < 0.05:
        full = f"{first} {rng.choice('ABCDEFGHJKLMNPRSTW')}. {last}"
    return Name(full, first, ascii_slug(f"{first} {last}"), False)


def make_contacts(
    rng: random.Random, n: int, company_created: list[float], company_info: list[tuple[str, str]]
) -> tuple[list[Contact], list[tuple[Any, ...]], list[tuple[Any, ...]], dict[int, list[str]]]:
    """Contacts (their rows are built once the interactions have set `last_touch`), their
    methods and tags, and contact id -> method values in position order."""
    sizes = [min(rng.paretovariate(1.1), 200.0) for _ in company_created]  # a few big ones
    company_pick = Picker(company_created, sizes)
    created = sorted(work_moment(rng, NOW_TS - 5 * 365 * DAY, NOW_TS - HOUR, 1.6) for _ in range(n))
    contacts: list[Contact] = []
    methods: list[tuple[Any, ...]] = []
    tags: list[tuple[Any, ...]] = []
    values: dict[int, list[str]] = {}
    emails: set[str] = set()
    method_id = 0
    for cid, t in enumerate(created, start=1):
        who = person(rng)
        company = company_pick.pick(rng, t) if rng.random() < 0.8 else None
        company_id = None if company is None else company + 1
        weight = 0.0 if rng.random() < 0.12 else min(rng.paretovariate(1.4), 60.0)
        currency = "CNY" if who.chinese and rng.random() < 0.7 else CURRENCY(rng)
        contacts.append(
            Contact(who.full, who.called, company_id, t, OWNER(rng), weight, currency, who.chinese)
        )
        mine: list[str] = []
        if rng.random() < 0.9:
            at_work = company is not None and rng.random() < 0.8
            if company is not None and at_work:
                domain = company_info[company][0]
            else:
                domain = rng.choice(CN_FREEMAIL if who.chinese else FREEMAIL)
            email = f"{who.local}@{domain}"
            serial = 2
            while email in emails:
                email, serial = f"{who.local}{serial}@{domain}", serial + 1
            emails.add(email)
            mine.append(email)
            method_id += 1
            label = "work" if at_work else "personal"
            key = email.lower()
            methods.append((method_id, cid, "email", email, key, email_match_key(key), label, 0))
        for position in range(len(mine), len(mine) + (rng.random() < 0.7) + (rng.random() < 0.1)):
            if company is not None:
                prefix = company_info[company][1]
            else:
                prefix = rng.choice(("+49", "+44", "+1", "+33", "+34", "+39"))
                prefix = "+86" if who.chinese else prefix
            phone = f"{prefix} {rng.randint(10, 999)} {rng.randint(1000000, 99999999)}"
            if rng.random() < 0.15:
                phone = phone.replace(" ", "-", 1)
            mine.append(phone)
            method_id += 1
            label = "mobile" if position else "office"
            methods.append(
                (
                    method_id,
                    cid,
                    "phone",
                    phone,
                    phone_key(phone),
                    phone_match_key(phone),
                    label,
                    position,
                )
            )
        values[cid] = mine
        for tag in sorted({TAG(rng) for _ in range(rng.choice((0, 1, 1, 2, 2, 3)))}):
            tags.append((cid, tag))
    return contacts, methods, tags, values


def make_deals(
    rng: random.Random,
    n: int,
    contacts: list[Contact],
    contact_pick: Picker,
    company_names: list[str],
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[int, str]], list[float]]:
    """Deals, their stage changes, index documents and creation times (sorted by id)."""
    created = sorted(work_moment(rng, NOW_TS - 3 * 365 * DAY, NOW_TS - HOUR, 1.5) for _ in range(n))
    deals: list[tuple[Any, ...]] = []
    changes: list[tuple[Any, ...]] = []
    docs: list[tuple[int, str]] = []
    for did, t in enumerate(created, start=1):
        idx = contact_pick.pick(rng, t) if rng.random() < 0.9 else None
        if idx is not None:
            contact_id: int | None = idx + 1
            company_id = contacts[idx].company
            owner, currency = contacts[idx].owner, contacts[idx].currency
            label = company_names[company_id - 1] if company_id else contacts[idx].name
        else:
            contact_id, company_id = None, rng.randint(1, len(company_names))
            owner, currency = OWNER(rng), CURRENCY(rng)
            label = company_names[company_id - 1]
        title = rng.choice(DEAL_TITLES).format(
            product=rng.choice(PRODUCTS),
            company=label,
            seats=rng.choice((5, 10, 20, 25, 50, 100, 250)),
            year=datetime.fromtimestamp(t, UTC).year + (rng.random() < 0.4),
        )
        age_days = (NOW_TS - t) / DAY
        closed = rng.random() < min(0.95, age_days / 130)
        first = 2 if rng.random() < 0.2 else 1
        if closed and rng.random() < 0.35:
            path = [*range(first, 5), WON]
        elif closed:
            path = [*range(first, rng.randint(first, 4) + 1), LOST]
        else:
            path = list(range(first, max(first, OPEN_STAGE(rng)) + 1))
        gaps = [rng.uniform(2, 35) * DAY for _ in path[1:]]
        room = (NOW_TS - HOUR - t) * (0.98 if closed else rng.uniform(0.3, 0.98))
        if sum(gaps) > room:
            gaps = [g * room / sum(gaps) for g in gaps]
        times = [t]
        for gap in gaps:  # each move in office hours, after the one before
            times.append(min(NOW_TS - 60, max(times[-1] + 60, office_hours(times[-1] + gap))))
        for step, (stage, when) in enumerate(zip(path, times, strict=True)):
            changes.append((did, path[step - 1] if step else None, stage, stamp(when), owner))
        stage, last = path[-1], times[-1]
        status = "won" if stage == WON else "lost" if stage == LOST else "open"
        reason = rng.choice(LOST_REASONS) if status == "lost" else None
        value = int(rng.lognormvariate(9.0, 1.0) / 50 + 1) * 50 * 100  # cents, 50-unit steps
        probability = None
        if status == "open" and rng.random() < 0.15:
            probability = min(95, max(5, STAGE_PROBABILITY[stage] + rng.choice((-10, -5, 5, 10))))
        close_day = day_of(last if status != "open" else t + rng.uniform(20, 120) * DAY)
        deals.append(
            (did, title, fold(title), contact_id, company_id, value, currency, stage, owner,
             probability, close_day, status, reason, stamp(last) if status != "open" else None,
             stamp(last), stamp(t), stamp(last), len(path))
        )  # fmt: skip
        docs.append((did, search_document(title, reason)))
    return deals, changes, docs, created


def make_interactions(
    rng: random.Random,
    n: int,
    contacts: list[Contact],
    contact_pick: Picker,
    deals: list[tuple[Any, ...]],
    deal_created: list[float],
    company_created: list[float],
) -> tuple[list[tuple[Any, ...]], list[tuple[int, str]]]:
    """Interactions in time order (ids follow time); sets each contact's `last_touch`."""
    times = sorted(work_moment(rng, NOW_TS - 3 * 365 * DAY, NOW_TS, 1.5) for _ in range(n))
    rows: list[tuple[Any, ...]] = []
    docs: list[tuple[int, str]] = []
    for iid, t in enumerate(times, start=1):
        contact_id = company_id = deal_id = None
        roll = rng.random()
        if roll < 0.03:
            company_id = rng.randint(1, max(1, bisect.bisect_right(company_created, t)))
            owner = OWNER(rng)
            name = "their team"
        elif roll < 0.09 and deal_created and deal_created[0] <= t:
            deal = deals[rng.randrange(bisect.bisect_right(deal_created, t))]
            deal_id, contact_id, company_id, owner = deal[0], deal[3], deal[4], deal[8]
            name = contacts[contact_id - 1].first if contact_id else "their team"
        else:
            idx = contact_pick.pick(rng, t)
            if idx is None:
                company_id, owner, name = 1, OWNER(rng), "their team"
            else:
                contact_id, owner, name = idx + 1, contacts[idx].owner, contacts[idx].first
        kind = KIND(rng)
        if rng.random() < 0.025:
            body = rng.choice(CN_NOTES)
        else:
            body = fill(rng.choice(NOTE_TEMPLATES[kind]), rng, name)
        if contact_id is not None:
            contacts[contact_id - 1].last_touch = t  # times ascend: the last one wins
        user = owner if rng.random() < 0.85 else OWNER(rng)
        logged = min(NOW_TS, t + rng.random() * 2 * DAY) if rng.random() < 0.15 else t
        when = stamp(t)
        rows.append(
            (iid, contact_id, company_id, deal_id, kind, body, when, user,
             when if logged == t else stamp(logged))
        )  # fmt: skip
        docs.append((iid, document(body)))
    return rows, docs


def make_reminders(
    rng: random.Random,
    n: int,
    n_open: int,
    contacts: list[Contact],
    contact_pick: Picker,
    deal_created: list[float],
    company_created: list[float],
) -> list[tuple[Any, ...]]:
    """Reminders: mostly done in the past; open ones overdue, due today or in the future,
    a few weekly series. Ids follow creation time."""
    # (created, contact, company, deal, owner, text, due, scheduled, done, snoozed, weekly,
    #  updated)
    items: list[tuple[Any, ...]] = []

    def target(before: float) -> tuple[int | None, int | None, int | None, int, str]:
        roll = rng.random()
        if roll < 0.08 and deal_created and deal_created[0] <= before:
            return None, None, rng.randint(1, bisect.bisect_right(deal_created, before)), 0, "you"
        if roll < 0.13:
            top = max(1, bisect.bisect_right(company_created, before))
            return None, rng.randint(1, top), None, 0, "them"
        idx = contact_pick.pick(rng, before) if roll < 0.98 else None
        if idx is None:
            return None, None, None, 0, "them"
        return idx + 1, None, None, contacts[idx].owner, contacts[idx].first

    def text(name: str) -> str:
        return fill(rng.choice(REMINDER_TEXTS), rng, name)

    series = max(1, n_open // 50)  # weekly series, each with an open occurrence
    per_series = 8
    n_plain_done = max(0, n - n_open - series * per_series)
    n_overdue, n_today = n_open // 10, max(1, n_open * 3 // 200)
    today_start = NOW_TS - 10 * HOUR  # 00:00 in Berlin (UTC+1 in November)
    today_end = today_start + DAY - 1

    for _ in range(n_plain_done):
        created = work_moment(rng, NOW_TS - 3 * 365 * DAY, NOW_TS - 2 * DAY, 1.5)
        contact, company, deal, owner, name = target(created)
        due = min(NOW_TS - HOUR, created + rng.uniform(0.2, 21) * DAY)
        snoozed = rng.choice((1, 1, 2, 3)) if rng.random() < 0.08 else 0
        scheduled = max(created, due - snoozed * rng.uniform(0.5, 3) * DAY) if snoozed else due
        done = min(NOW_TS - 60, due + rng.uniform(-0.5, 3) * DAY)
        done = max(done, created + 60)
        items.append((created, contact, company, deal, owner or OWNER(rng), text(name), due,
                      scheduled, done, snoozed, False, done))  # fmt: skip
    for k in range(n_open - series):
        if k < n_overdue:
            due = work_moment(rng, NOW_TS - 60 * DAY, NOW_TS - HOUR, 3.0)
        elif k < n_overdue + n_today:
            due = today_start + 8 * HOUR + rng.random() * 12 * HOUR
        else:
            due = work_moment(rng, today_end + 1, NOW_TS + 120 * DAY, 0.6)
        latest = min(NOW_TS - 60, due - 0.5 * DAY)
        created = work_moment(rng, max(latest - 45 * DAY, NOW_TS - 400 * DAY), latest, 2.0)
        contact, company, deal, owner, name = target(created)
        snoozed = rng.choice((1, 1, 2)) if rng.random() < 0.1 else 0
        scheduled = max(created, due - snoozed * rng.uniform(0.5, 2) * DAY) if snoozed else due
        # a snooze happens between creation and the scheduled time (or now, if sooner)
        updated = (
            rng.uniform(created, max(created, min(NOW_TS - 60, scheduled))) if snoozed else created
        )
        items.append((created, contact, company, deal, owner or OWNER(rng), text(name), due,
                      scheduled, None, snoozed, False, updated))  # fmt: skip
    for _ in range(series):
        next_due = work_moment(rng, NOW_TS - 9 * DAY, NOW_TS + 6 * DAY)
        dues = [next_due - w * 7 * DAY for w in range(per_series, -1, -1)]
        created = dues[0] - rng.uniform(1, 10) * DAY
        contact, company, deal, owner, name = target(created)
        body, owner = text(name), owner or OWNER(rng)
        for w, due in enumerate(dues):
            if w == per_series:  # the open occurrence
                items.append(
                    (created, contact, company, deal, owner, body, due, due, None, 0, True, created)
                )
                break
            done = min(NOW_TS - 60, due + rng.uniform(0, 1) * DAY)
            items.append(
                (created, contact, company, deal, owner, body, due, due, done, 0, True, done)
            )
            created = done  # completing one occurrence creates the next
    items.sort(key=lambda r: r[0])
    rows = []
    for rid, (created, contact, company, deal, owner, body, due, scheduled, done, snoozed,
              weekly, updated) in enumerate(items, start=1):  # fmt: skip
        rows.append(
            (rid, contact, company, deal, owner, body, stamp(due), stamp(scheduled),
             None if done is None else stamp(done), snoozed,
             "FREQ=WEEKLY" if weekly else None, "weekly" if weekly else None, 0,
             stamp(created), stamp(updated))
        )  # fmt: skip
    return rows


PRODUCT_FAMILIES = ("Licence", "Support", "Training", "Hardware", "Consulting", "Cloud")
PRODUCTS_PER_FAMILY = 8
PRODUCT_SHARE = 0.7  # of purchases that name a product
TIERS = ("Basic", "Plus", "Pro", "Team", "Business", "Enterprise", "Gold", "Platinum")


def make_products() -> list[tuple[Any, ...]]:
    """The catalogue: 6 families of 8, SKU `LIC-1`..., prices from 19.00 to 4,800.00."""
    rows = []
    created = stamp(NOW_TS - 3 * 365 * DAY)
    for f, family in enumerate(PRODUCT_FAMILIES):
        for k in range(1, PRODUCTS_PER_FAMILY + 1):
            pid = f * PRODUCTS_PER_FAMILY + k
            name = f"{family} {TIERS[k - 1]}"
            price = (19 + 97 * k * (f + 1)) * 100
            tax = (1900, 700, 0)[pid % 3]
            rows.append((pid, f"{family[:3].upper()}-{k}", name, fold(name), price, "EUR",
                         None, tax, None, created, created, 1))  # fmt: skip
    return rows


def _product_for(rng: random.Random, family: int) -> int:
    """A product a customer of `family` buys: mostly their family's, the lower tiers more."""
    if rng.random() > 0.8:
        family = rng.randrange(len(PRODUCT_FAMILIES))
    tier = min(int(rng.paretovariate(1.3)), PRODUCTS_PER_FAMILY)
    return family * PRODUCTS_PER_FAMILY + tier


def make_purchases(rng: random.Random, n: int, contacts: list[Contact]) -> list[tuple[Any, ...]]:
    """Pareto-ish: ~45% of contacts never buy, half of the buyers buy once, a few buy a lot.
    About PRODUCT_SHARE of them name a product (and a quantity), from the buyer's family."""
    buyers = [i for i, c in enumerate(contacts) if rng.random() < 0.55 or c.weight > 20]
    rng.shuffle(buyers)
    counts = dict.fromkeys(buyers[:n], 1)  # every buyer buys once ...
    repeat = buyers[len(buyers) // 2 :]  # ... and half of them again, some very often
    if repeat and n > len(buyers):
        loyal = Weighted([(i, min(rng.paretovariate(1.15), 100.0)) for i in repeat])
        for _ in range(n - len(buyers)):
            counts[loyal(rng)] += 1
    items: list[tuple[float, int, int]] = []
    for idx, count in counts.items():
        start = max(contacts[idx].created, NOW_TS - 4 * 365 * DAY)
        for _ in range(count):
            items.append((work_moment(rng, start, NOW_TS - HOUR, 1.3), idx, count))
    items.sort()
    rows = []
    for pid, (t, idx, count) in enumerate(items, start=1):
        base = rng.lognormvariate(4.8, 1.1) * (1.5 if count > 20 else 1.0)
        amount = int(min(base, 200_000)) * 100 + rng.choice((0, 0, 0, 50, 90, 99))
        amount = max(amount, 99)
        note = rng.choice(PURCHASE_NOTES) if rng.random() < 0.35 else None
        recorded = min(NOW_TS - 60, t + rng.random() * 4 * HOUR)
        product = quantity = None
        if rng.random() < PRODUCT_SHARE:
            product = _product_for(rng, idx % len(PRODUCT_FAMILIES))
            quantity = 1 if rng.random() < 0.6 else rng.randint(2, 50)
        rows.append((pid, idx + 1, day_of(t), amount, contacts[idx].currency, note,
                     stamp(recorded), product, quantity))  # fmt: skip
    return rows


def contact_records(
    rng: random.Random,
    contacts: list[Contact],
    values: dict[int, list[str]],
    tags: list[tuple[Any, ...]],
    company_names: list[str],
) -> tuple[list[tuple[Any, ...]], list[tuple[int, str]]]:
    """Contact rows (now that `last_touch` is known) and their index documents."""
    rows: list[tuple[Any, ...]] = []
    docs: list[tuple[int, str]] = []
    tags_of: dict[int, list[str]] = {}
    for cid, tag in tags:
        tags_of.setdefault(cid, []).append(tag)
    for cid, c in enumerate(contacts, start=1):
        title = rng.choice(CN_TITLES if c.chinese else TITLES) if rng.random() < 0.85 else None
        source = rng.choice(SOURCES) if rng.random() < 0.7 else None
        notes = rng.choice(CONTACT_NOTES) if rng.random() < 0.08 else None
        cadence = rng.choice((14, 30, 60, 90)) if rng.random() < 0.1 else None
        created = stamp(c.created)
        touched = None if c.last_touch is None else stamp(c.last_touch)
        updated = stamp(min(NOW_TS - 60, c.created + rng.random() * 200 * DAY))
        rows.append(
            (cid, c.name, fold(c.name), c.company, title, source, c.owner, notes, cadence,
             touched, created, max(updated, created), 1)
        )  # fmt: skip
        company = company_names[c.company - 1] if c.company else None
        # exactly what services.contacts.reindex indexes, in its order
        parts = (c.name, company, title, source, notes, *values[cid], *tags_of.get(cid, []))
        docs.append((cid, search_document(*parts)))
    return rows, docs


def make_cases(
    rng: random.Random,
    n: int,
    contacts: list[Contact],
    contact_pick: Picker,
    first_note_id: int,
) -> tuple[
    list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]], list[Any], list[Any]
]:
    """Service cases of the last year: old ones mostly closed (a few still open, long
    overdue and escalated), recent ones open, waiting, resolved or closed; notes on them
    are notes of the case's contact (interactions, ids after the others). The SLA clock
    (`sla_due_at`) is computed by the services once the store is loaded (start_clocks)."""
    cases: list[tuple[Any, ...]] = []
    links: list[tuple[Any, ...]] = []
    notes: list[tuple[Any, ...]] = []
    docs: list[tuple[int, str]] = []
    case_docs: list[tuple[int, str]] = []  # the knowledge base: title, body and solution
    times = sorted(work_moment(rng, NOW_TS - 365 * DAY, NOW_TS - HOUR, 2.0) for _ in range(n))
    note_id = first_note_id
    for cid, created in enumerate(times, start=1):
        idx = contact_pick.pick(rng, created) or 0
        who = contacts[idx]
        roll, recent = rng.random(), NOW_TS - created < 30 * DAY
        if recent:
            status = (
                "open"
                if roll < 0.4
                else "waiting"
                if roll < 0.5
                else ("resolved" if roll < 0.65 else "closed")
            )
        else:
            status = "closed" if roll < 0.92 else "resolved" if roll < 0.95 else "open"
        answered = status != "open" or rng.random() < (0.5 if recent else 0.3)
        late = NOW_TS - 60
        first = min(late, created + rng.uniform(0.05, 1.5) * DAY) if answered else None
        resolved = closed = waiting = None
        if status in ("resolved", "closed"):
            resolved = min(late, (first or created) + rng.uniform(0.1, 6) * DAY)
            closed = min(late, resolved + rng.uniform(0, 2) * DAY) if status == "closed" else None
        if status == "waiting":
            waiting = rng.uniform(first or created, late)
        paused = rng.randint(30, 960) if resolved and rng.random() < 0.2 else 0
        score = SCORE(rng) if closed and rng.random() < 0.7 else None
        due = created + rng.uniform(1, 10) * DAY if rng.random() < 0.1 else None
        stamps: list[float] = []
        if first is not None and rng.random() < 0.8:
            stamps.append(first)
        end = resolved or late
        if first is not None and end > first:
            stamps += sorted(rng.uniform(first, end) for _ in range(rng.randint(0, 2)))
        for t in stamps:
            body = rng.choice(CASE_NOTES).format(first=who.first)
            when = stamp(t)
            notes.append((note_id, idx + 1, None, None, "note", body, when, who.owner, when))
            docs.append((note_id, document(body)))
            links.append((cid, note_id))
            who.last_touch = max(who.last_touch or 0.0, t)
            note_id += 1
        latest = max([created, *(t for t in (first, resolved, closed, waiting) if t), *stamps])
        title, solution = rng.choice(CASE_TITLES), rng.choice(SOLUTIONS) if closed else None
        case_docs.append((cid, search_document(title, None, solution)))
        cases.append(
            (cid, idx + 1, title, None, PRIORITY(rng), status, who.owner,
             None if due is None else stamp(due), None,
             None if waiting is None else stamp(waiting), paused,
             None if first is None else stamp(first),
             None if resolved is None else stamp(resolved),
             None if closed is None else stamp(closed),
             solution, score, stamp(created), stamp(latest), 1)
        )  # fmt: skip
    return cases, links, notes, docs, case_docs


def build(seed: int, scale: float) -> Data:
    rng = random.Random(seed)
    counts = scaled(scale)
    companies, company_docs, company_created, company_info = make_companies(
        rng, counts["companies"]
    )
    company_names = [row[1] for row in companies]
    contacts, methods, tags, values = make_contacts(
        rng, counts["contacts"], company_created, company_info
    )
    contact_pick = Picker([c.created for c in contacts], [c.weight for c in contacts])
    deals, changes, deal_docs, deal_created = make_deals(
        rng, counts["deals"], contacts, contact_pick, company_names
    )
    interactions, interaction_docs = make_interactions(
        rng, counts["interactions"], contacts, contact_pick, deals, deal_created, company_created
    )
    reminders = make_reminders(
        rng,
        counts["reminders"],
        min(counts["reminders"], max(1, round(OPEN_REMINDERS * scale))),
        contacts,
        contact_pick,
        deal_created,
        company_created,
    )
    purchases = make_purchases(rng, counts["purchases"], contacts)
    cases, case_notes, notes, note_docs, case_docs = make_cases(
        rng, counts["cases"], contacts, contact_pick, len(interactions) + 1
    )
    interactions += notes
    interaction_docs += note_docs

    contact_rows, contact_docs = contact_records(rng, contacts, values, tags, company_names)
    rows = {
        "users": make_users(),
        "companies": companies,
        "contacts": contact_rows,
        "contact_methods": methods,
        "contact_tags": tags,
        "deals": deals,
        "stage_changes": changes,
        "interactions": interactions,
        "reminders": reminders,
        "products": make_products(),
        "purchases": purchases,
        "cases": cases,
        "case_notes": case_notes,
    }
    fts = {
        "contact": contact_docs,
        "company": company_docs,
        "interaction": interaction_docs,
        "deal": deal_docs,
        "case": case_docs,
    }
    return Data(rows, fts)


# -- loading --------------------------------------------------------------------------------
INSERTS = {
    "users": "INSERT INTO users (id, name, email, timezone, lead_id, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?)",
    "companies": "INSERT INTO companies (id, name, name_key, domain, phone, website, notes,"
    " owner_id, created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "contacts": "INSERT INTO contacts (id, name, name_key, company_id, title, source, owner_id,"
    " notes, cadence_days, last_touch_at, created_at, updated_at, version)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "contact_methods": "INSERT INTO contact_methods (id, contact_id, kind, value, value_key,"
    " match_key, label, position) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    "contact_tags": "INSERT INTO contact_tags (contact_id, tag) VALUES (?, ?)",
    "deals": "INSERT INTO deals (id, title, title_key, contact_id, company_id, value_cents,"
    " currency, stage_id, owner_id, probability, expected_close, status, lost_reason, closed_at,"
    " stage_entered_at, created_at, updated_at, version)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "stage_changes": "INSERT INTO stage_changes (deal_id, from_stage_id, to_stage_id, changed_at,"
    " user_id) VALUES (?, ?, ?, ?, ?)",
    "interactions": "INSERT INTO interactions (id, contact_id, company_id, deal_id, kind, body,"
    " happened_at, user_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "reminders": "INSERT INTO reminders (id, contact_id, company_id, deal_id, owner_id, text,"
    " due_at, scheduled_at, done_at, snoozed, rrule, recurrence, from_done, created_at,"
    " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "products": "INSERT INTO products (id, sku, name, name_key, price_cents, currency, unit,"
    " tax_bp, archived_at, created_at, updated_at, version)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "purchases": "INSERT INTO purchases (id, contact_id, purchased_on, amount_cents, currency,"
    " note, created_at, product_id, quantity) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "cases": "INSERT INTO cases (id, contact_id, title, body, priority, status, owner_id, due_at,"
    " sla_due_at, waiting_since, paused_minutes, first_response_at, resolved_at, closed_at,"
    " solution, satisfaction, created_at, updated_at, version)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "case_notes": "INSERT INTO case_notes (case_id, interaction_id) VALUES (?, ?)",
}


def schema(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
    return conn.execute(
        "SELECT type, name, tbl_name, sql FROM sqlite_master"
        " WHERE name NOT LIKE 'sqlite_stat%' ORDER BY type, name"
    ).fetchall()


def load_table(conn: sqlite3.Connection, table: str, rows: Iterable[tuple[Any, ...]]) -> None:
    """One transaction: drop the table's secondary indexes, insert, rebuild them (a sorted
    build is faster than random inserts and packs the index pages like a VACUUM would)."""
    indexes = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?"
        " AND sql IS NOT NULL",
        (table,),
    ).fetchall()
    conn.execute("BEGIN")
    for name, _ in indexes:
        conn.execute(f'DROP INDEX "{name}"')
    conn.executemany(INSERTS[table], rows)
    for _, sql in indexes:
        conn.execute(sql)
    conn.execute("COMMIT")


def load_fts(conn: sqlite3.Connection, kind: str, docs: list[tuple[int, str]]) -> None:
    conn.execute("BEGIN")
    conn.executemany(f"INSERT INTO {kind}_fts (rowid, body) VALUES (?, ?)", docs)
    conn.execute("COMMIT")


def start_clocks(db: Db) -> None:
    """The derived follow-up columns, as tinycrm keeps them (tinycrm.services.clocks): a
    deal's last sign of life is its stage entry, its last edit or its contact's last touch;
    VIP contacts get a 30-day stay-in-touch cadence by tag."""
    from tinycrm.services import cases, clocks

    conn: sqlite3.Connection = db.conn
    now = stamp(NOW_TS)
    conn.execute("BEGIN")
    conn.execute("INSERT INTO tag_cadences (tag, days) VALUES ('vip', 30)")
    # a win is credited to the owner when it happened (deals.won_by), as `deal won` does
    conn.execute("UPDATE deals SET won_by = owner_id WHERE status = 'won'")
    # every user has a monthly revenue goal and a quarterly activities goal (report team)
    conn.execute(
        "INSERT INTO goals (user_id, metric, per, starts_on, target, currency, created_at,"
        " updated_at) SELECT id, 'revenue', 'month', '2026-01-01', 400000000, 'EUR', :now, :now"
        " FROM users UNION ALL SELECT id, 'activities', 'quarter', '2026-01-01', 30000, NULL,"
        " :now, :now FROM users",
        {"now": now},
    )
    conn.execute(
        "UPDATE deals SET activity_at = min(:now, max(stage_entered_at, updated_at,"
        " coalesce((SELECT last_touch_at FROM contacts c WHERE c.id = deals.contact_id), '')))",
        {"now": now},
    )
    conn.execute("COMMIT")
    ids = [r[0] for r in conn.execute(
        "SELECT id FROM contacts WHERE cadence_days IS NOT NULL"
        " UNION SELECT contact_id FROM contact_tags WHERE tag = 'vip'"
    )]  # fmt: skip
    open_deals = [r[0] for r in conn.execute("SELECT id FROM deals WHERE status = 'open'")]
    open_cases = [r[0] for r in conn.execute("SELECT id FROM cases WHERE status = 'open'")]
    conn.row_factory = _dict_row  # what Db expects while the services run
    with db.write():
        clocks.refresh_touch(db, ids)
        clocks.refresh_rot(db, open_deals)
        # every user has a time zone, so the fallback zone is never used
        cases.refresh_clocks(db, UTC, open_cases)
    conn.row_factory = None


def write_store(path: Path, data: Data) -> dict[str, int]:
    db = open_store(str(path))  # a fresh path: runs the migrations, seeds the stages
    conn: sqlite3.Connection = db.conn
    conn.row_factory = None
    migrated = schema(conn)
    conn.execute("PRAGMA journal_mode = MEMORY")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA foreign_keys = OFF")  # checked once at the end instead of per row
    conn.execute("PRAGMA cache_size = -1000000")
    conn.execute("PRAGMA temp_store = MEMORY")
    # The change journal's triggers (migration 0009) would copy every generated row into
    # row_changes, which the first write transaction then drops as housekeeping: minutes of
    # JSON and ~700 MiB of free pages. Loaded rows are no change anyone could undo, so the
    # triggers are set aside while loading and computing the clocks, and put back exactly
    # as they were.
    journal = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%_journal_%'"
    ).fetchall()
    for name, _ in journal:
        conn.execute(f'DROP TRIGGER "{name}"')
    for table, rows in data.rows.items():
        step = time.perf_counter()
        load_table(conn, table, rows)
        log(f"  {table:<16} {len(rows):>9,} rows  {time.perf_counter() - step:6.1f} s")
    for kind, docs in data.fts.items():
        step = time.perf_counter()
        load_fts(conn, kind, docs)
        log(f"  {kind + '_fts':<16} {len(docs):>9,} docs  {time.perf_counter() - step:6.1f} s")
    step = time.perf_counter()
    start_clocks(db)  # housekeeping too: with the triggers, ~70 MiB of images to drop
    log(f"  {'follow-up clocks':<26}       {time.perf_counter() - step:6.1f} s")
    for _, sql in journal:
        conn.execute(sql)
    problems = conn.execute("PRAGMA foreign_key_check").fetchall()
    if problems:
        raise SystemExit(f"foreign key violations, e.g. {problems[:5]}")
    if schema(conn) != migrated:
        raise SystemExit("the loaded store's schema differs from the migrated one")
    # No ANALYZE: tinycrm never runs it, so a real store has no statistics and the query
    # plans measured here must be the ones a user gets.
    conn.execute("PRAGMA journal_mode = WAL")  # what open_store leaves a store in
    tables = [
        *BASE_COUNTS, "contact_methods", "contact_tags", "stage_changes", "users", "case_notes",
        "products",
    ]  # fmt: skip
    counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
    counts["open_reminders"] = conn.execute(
        "SELECT count(*) FROM reminders WHERE done_at IS NULL"
    ).fetchone()[0]
    counts["open_deals"] = conn.execute(
        "SELECT count(*) FROM deals WHERE status = 'open'"
    ).fetchone()[0]
    counts["open_cases"] = conn.execute(
        "SELECT count(*) FROM cases WHERE status IN ('open', 'waiting')"
    ).fetchone()[0]
    db.close()
    return counts


def log(message: str) -> None:
    print(message, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/data/bench.db"))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args(argv)
    if args.scale <= 0:
        parser.error("--scale must be more than 0")
    out: Path = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".building")
    stale = [tmp, out, *(out.with_name(out.name + s) for s in ("-wal", "-shm", ".migrate-lock"))]
    for p in [*stale, tmp.with_name(tmp.name + ".migrate-lock")]:
        p.unlink(missing_ok=True)

    started = time.perf_counter()
    log(f"now = {NOW.isoformat().replace('+00:00', 'Z')} (fixed), seed = {args.seed}, "
        f"scale = {args.scale}")  # fmt: skip
    data = build(args.seed, args.scale)
    log(f"generated rows in {time.perf_counter() - started:.1f} s; loading {out}")
    counts = write_store(tmp, data)
    tmp.with_name(tmp.name + ".migrate-lock").unlink(missing_ok=True)
    os.replace(tmp, out)
    elapsed = time.perf_counter() - started
    size = out.stat().st_size

    sidecar = {
        "now": NOW.isoformat().replace("+00:00", "Z"),
        "seed": args.seed,
        "scale": args.scale,
        "user": BENCH_USER,
        "users": [u[0] for u in USERS],
        "common_word": COMMON_WORD,
        "rare_word": RARE_WORD,
        "counts": counts,
        "size_bytes": size,
        "generate_seconds": round(elapsed, 1),
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
    }
    out.with_suffix(".json").write_text(json.dumps(sidecar, indent=2) + "\n")
    for table, n in counts.items():
        log(f"{table:>16}: {n:,}")
    log(f"store {out}: {size / 2**20:.1f} MiB, built in {elapsed:.1f} s")
    if args.scale == 1.0 and size > SIZE_BUDGET_MIB * 2**20:
        log(f"warning: over the {SIZE_BUDGET_MIB} MiB size budget")
    return 0


if __name__ == "__main__":
    sys.exit(main())
