"""Likely duplicates: who a new contact may already be, and groups of contacts that look
like one person.

Evidence, strongest first: the same email (tinycrm.identity.email_match_key: case, width,
plus-addressing and Gmail dots aside), the same phone (E.164 with the default region),
the same name (words folded and sorted: "Wong, Alice" is "alice wong"), a similar name
(rapidfuzz ratio of those keys at or above a threshold).

Neither lookup compares everything with everything. `find_matches` reads the indexes:
`contact_methods (kind, match_key)`, `contacts.name_key`, and for near names the search
index, asking for contacts that share one whole word of the name and the first two letters of
another ("Jon Smith" finds "John Smith" through "smith" + "jo"); only those few are scored.
`find_groups` reads every name once and scores pairs only within blocks of the same kind
(a word plus another word's first letter), never all pairs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from tinycrm.errors import InvalidInput
from tinycrm.identity import email_match_key, name_match_key, phone_match_key
from tinycrm.services import search
from tinycrm.services.contact_queries import summaries_by_id
from tinycrm.services.context import Ctx
from tinycrm.store.db import Db
from tinycrm.text import fold, search_tokens

THRESHOLD = 90  # similar names: rapidfuzz ratio of the name keys, 0-100
CANDIDATES = 2000  # at most this many near-name candidates are scored per lookup
MAX_WORDS = 6  # words of a name used to find candidates


@dataclass
class Match:
    """An existing contact the new details may belong to, with why."""

    id: int
    name: str
    company: str | None
    email: str | None
    phone: str | None
    score: int  # 100 for the same email, phone or name; else the name similarity
    reasons: list[str]
    same_person: bool  # by `same_person`: may be merged or skipped without asking


@dataclass
class DuplicateContact:
    id: int
    name: str
    company: str | None
    email: str | None
    phone: str | None
    owner: str | None


@dataclass
class DuplicateGroup:
    score: int  # the strongest evidence joining the group (100: same email, phone or name)
    reasons: list[str]
    contacts: list[DuplicateContact]


@dataclass
class DuplicateReport:
    threshold: int
    contacts: int  # how many contacts were compared
    groups_total: int  # groups found (`groups` may be cut by --limit)
    groups: list[DuplicateGroup]


def same_person(evidence: Iterable[str], *, new_reachable: bool, old_reachable: bool) -> bool:
    """Whether `evidence` (kinds of reasons: "email", "phone", "name", "similar name")
    makes a new contact and a stored one (or an earlier row of a file) one person, so that
    `contact add --on-duplicate merge|skip` and `import contacts` may merge or skip it
    without asking. A shared email or phone does; the same name only when one of the two
    has neither an email nor a phone (two John Smiths at different addresses are two
    people); a similar name never: it is a look-alike to ask about. `*_reachable`: whether
    that side has an email or a phone."""
    kinds = set(evidence)
    if kinds & {"email", "phone"}:
        return True
    return "name" in kinds and not (new_reachable and old_reachable)


def _kind(reason: str) -> str:
    """'same email a@b.c' -> 'email', 'similar name (93)' -> 'similar name'."""
    return next((k for k in _ORDER if reason.startswith(k)), reason).removeprefix("same ")


def check_threshold(threshold: int) -> int:
    """A name-similarity threshold, checked (50 to 100)."""
    if not 50 <= threshold <= 100:
        raise InvalidInput(f"threshold must be between 50 and 100: {threshold}")
    return threshold


def _email_keys(emails: Iterable[str]) -> list[str]:
    keys = []
    for e in emails:
        try:
            keys.append(email_match_key(e))
        except ValueError:
            continue  # not an email: the caller's validation says so
    return list(dict.fromkeys(keys))


def _could_reach(a: str, b: str, threshold: int) -> bool:
    """Whether two keys' lengths allow a ratio of `threshold`: the Indel ratio is at most
    1 - |len a - len b| / (len a + len b)."""
    total = len(a) + len(b)
    return total > 0 and 100 * (total - abs(len(a) - len(b))) >= threshold * total


def name_groups(name: str) -> list[list[tuple[str, bool]]]:
    """The search-index queries that find near-identical names: a whole word and the first
    two letters of another word ("smith" + "jo"); a one-word name by its first three."""
    words = list(dict.fromkeys(search_tokens(name)))[:MAX_WORDS]
    if len(words) == 1:
        return [[(words[0][:3], True)]]
    return [[(w, False), (o[:2], True)] for w in words for o in words if o != w]


def find_matches(
    ctx: Ctx,
    *,
    name: str | None,
    emails: Iterable[str] = (),
    phones: Iterable[str] = (),
    exclude: Iterable[int] | None = None,
    threshold: int = THRESHOLD,
) -> list[Match]:
    """Existing contacts that look like `name` with these emails and phones, best first."""
    db = ctx.db
    skip = set(exclude or ())
    reasons: dict[int, list[str]] = defaultdict(list)
    score: dict[int, int] = {}

    def found(cid: int, why: str, points: int) -> None:
        if cid in skip or why in reasons[cid]:
            return
        reasons[cid].append(why)
        score[cid] = max(score.get(cid, 0), points)

    keys = _email_keys(emails)
    if keys:
        for r in db.all(
            "SELECT contact_id, match_key FROM contact_methods WHERE kind = 'email'"
            f" AND match_key IN ({_params('e', keys)}) ORDER BY contact_id",
            {f"e{i}": k for i, k in enumerate(keys)},
        ):
            found(int(r["contact_id"]), f"same email {r['match_key']}", 100)
    tels = list(dict.fromkeys(phone_match_key(p, ctx.phone_region) for p in phones))
    if tels:
        for r in db.all(
            "SELECT contact_id, match_key FROM contact_methods WHERE kind = 'phone'"
            f" AND match_key IN ({_params('p', tels)}) ORDER BY contact_id",
            {f"p{i}": k for i, k in enumerate(tels)},
        ):
            found(int(r["contact_id"]), f"same phone {r['match_key']}", 100)
    if name and name.strip():
        key = name_match_key(name)
        for r in db.all("SELECT id FROM contacts WHERE name_key = :k", {"k": fold(name)}):
            found(int(r["id"]), "same name", 100)
        ids = [
            i
            for i in search.any_group_ids(db, "contact", name_groups(name), CANDIDATES)
            if i not in skip
        ]
        if ids and key:
            rows = db.tuples(f"SELECT id, name FROM contacts WHERE id IN ({_ids(ids)})")
            near: list[tuple[int, str]] = []
            for cid, other in rows:
                other_key = name_match_key(other)
                if other_key == key:
                    found(cid, "same name", 100)
                elif _could_reach(key, other_key, threshold):
                    near.append((cid, other_key))
            if near:
                from rapidfuzz import fuzz

                for cid, other_key in near:
                    ratio = round(fuzz.ratio(key, other_key))
                    if ratio >= threshold:
                        found(cid, f"similar name ({ratio})", ratio)
    if not reasons:
        return []
    return _matches(db, reasons, score, new_reachable=bool(keys or tels))


def _params(prefix: str, values: list[str]) -> str:
    return ", ".join(f":{prefix}{i}" for i in range(len(values)))


def _ids(ids: Iterable[int]) -> str:
    return ",".join(str(int(i)) for i in ids)


def _matches(
    db: Db, reasons: dict[int, list[str]], score: dict[int, int], *, new_reachable: bool
) -> list[Match]:
    out = [
        Match(
            id=s.id,
            name=s.name,
            company=s.company,
            email=s.email,
            phone=s.phone,
            score=score[s.id],
            reasons=_strongest_first(reasons[s.id]),
            same_person=same_person(
                (_kind(r) for r in reasons[s.id]),
                new_reachable=new_reachable,
                old_reachable=s.email is not None or s.phone is not None,
            ),
        )
        for s in summaries_by_id(db, list(reasons))
    ]
    out.sort(key=lambda m: (-m.score, -len(m.reasons), m.id))
    return out


_ORDER = ("same email", "same phone", "same name", "similar name")


def _strongest_first(reasons: Iterable[str]) -> list[str]:
    def rank(reason: str) -> tuple[int, str]:
        kind = next((i for i, k in enumerate(_ORDER) if reason.startswith(k)), len(_ORDER))
        return kind, reason

    return sorted(set(reasons), key=rank)


def describe(matches: list[Match], limit: int = 3) -> str:
    """'#3 Ann Lee (same email ann@gmail.com), #7 Anne Lee (similar name (93))'."""
    parts = [f"#{m.id} {m.name} ({', '.join(m.reasons)})" for m in matches[:limit]]
    if len(matches) > limit:
        parts.append(f"and {len(matches) - limit} more")
    return ", ".join(parts)


# -- the whole store -------------------------------------------------------------------------
class _Groups:
    """Union-find over contact ids, remembering the evidence of every union."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}
        self.edges: list[tuple[int, str, int]] = []  # (a contact, reason, score)

    def find(self, x: int) -> int:
        parent = self.parent
        root = parent.setdefault(x, x)
        while root != parent[root]:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    def join(self, ids: list[int], reason: str, points: int) -> None:
        first = self.find(ids[0])
        for other in ids[1:]:
            root = self.find(other)
            if root != first:
                self.parent[root] = first
        self.edges.append((ids[0], reason, points))


def find_groups(db: Db, *, threshold: int = THRESHOLD, limit: int | None = None) -> DuplicateReport:
    """Groups of contacts that look like one person, strongest evidence first, each with
    its reasons. Contacts join a group through any shared key (transitively)."""
    check_threshold(threshold)
    groups = _Groups()
    with db.read():
        for kind, key, ids in _shared_methods(db):
            groups.join(ids, f"same {kind} {key}", 100)
        names = db.tuples("SELECT id, name FROM contacts")
    by_key: dict[str, list[int]] = defaultdict(list)
    for cid, name in names:
        key = name_match_key(name)
        if key:
            by_key[key].append(int(cid))
    for ids in by_key.values():
        if len(ids) > 1:
            groups.join(ids, "same name", 100)
    if threshold < 100:
        for a, b, ratio in _similar_keys(list(by_key), threshold):
            groups.join([by_key[a][0], by_key[b][0]], f"similar name ({ratio})", ratio)
    members: dict[int, list[int]] = defaultdict(list)
    for cid in groups.parent:
        members[groups.find(cid)].append(cid)
    evidence: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for cid, reason, points in groups.edges:
        evidence[groups.find(cid)].append((reason, points))
    found = [
        (
            max(p for _, p in evidence[root]),
            _strongest_first(r for r, _ in evidence[root]),
            sorted(ids),
        )
        for root, ids in members.items()
        if len(ids) > 1
    ]
    found.sort(key=lambda g: (-g[0], -_strength(g[1]), g[2][0]))
    shown = found if limit is None else found[:limit]
    people = _people(db, [cid for _, _, ids in shown for cid in ids])
    return DuplicateReport(
        threshold=threshold,
        contacts=len(names),
        groups_total=len(found),
        groups=[
            DuplicateGroup(score, reasons, [people[i] for i in ids if i in people])
            for score, reasons, ids in shown
        ],
    )


def _strength(reasons: list[str]) -> int:
    """How many kinds of evidence: a shared email and name beats a shared name."""
    return len({next((k for k in _ORDER if r.startswith(k)), r) for r in reasons})


def _shared_methods(db: Db) -> list[tuple[str, str, list[int]]]:
    """(kind, match key, contacts) for every email or phone key held by several contacts."""
    rows = db.tuples(
        "SELECT m.kind, m.match_key, m.contact_id FROM contact_methods m JOIN"
        " (SELECT kind, match_key FROM contact_methods WHERE match_key IS NOT NULL"
        "  GROUP BY kind, match_key HAVING count(DISTINCT contact_id) > 1) d"
        " ON d.kind = m.kind AND d.match_key = m.match_key"
        " ORDER BY m.kind, m.match_key, m.contact_id"
    )
    shared: dict[tuple[str, str], list[int]] = defaultdict(list)
    for kind, key, cid in rows:
        if int(cid) not in shared[(kind, key)]:
            shared[(kind, key)].append(int(cid))
    return [(kind, key, ids) for (kind, key), ids in shared.items()]


def blocks(keys: list[str]) -> dict[str, list[int]]:
    """Indexes of `keys` by block: a word plus the first letter of another word of the same
    name ("smith j" holds "john smith" and "jon smith"); a one-word name by its first two
    letters. Two keys a letter or two apart share a block unless every word differs."""
    out: dict[str, list[int]] = defaultdict(list)
    for i, key in enumerate(keys):
        words = key.split()[:MAX_WORDS]
        if len(words) == 1:
            out[f"1 {words[0][:2]}"].append(i)
            continue
        for w in dict.fromkeys(words):
            for initial in {o[0] for o in words if o != w}:
                out[f"{w} {initial}"].append(i)
    return out


def _similar_keys(keys: list[str], threshold: int) -> list[tuple[str, str, int]]:
    """Pairs of distinct name keys whose ratio reaches `threshold`, compared block by block
    with rapidfuzz (each key against the rest of its block, in C), each pair once."""
    from rapidfuzz import fuzz, process

    seen: set[tuple[int, int]] = set()
    out: list[tuple[str, str, int]] = []
    for members in blocks(keys).values():
        if len(members) < 2:
            continue
        choices = [keys[i] for i in members]
        for r in range(len(choices) - 1):
            rest = choices[r + 1 :]
            for _, ratio, c in process.extract_iter(
                choices[r], rest, scorer=fuzz.ratio, score_cutoff=threshold
            ):
                a, b = members[r], members[r + 1 + c]
                pair = (a, b) if a < b else (b, a)
                if pair not in seen:
                    seen.add(pair)
                    out.append((keys[pair[0]], keys[pair[1]], round(ratio)))
    return out


def _people(db: Db, ids: list[int]) -> dict[int, DuplicateContact]:
    out: dict[int, DuplicateContact] = {}
    for start in range(0, len(ids), 500):
        for s in summaries_by_id(db, ids[start : start + 500]):
            out[s.id] = DuplicateContact(s.id, s.name, s.company, s.email, s.phone, s.owner)
    return out
