"""Each host's surface (driftcheck.fleet.since) in history.sqlite, kept once however many hosts
and runs share it.

- `surface_pairs`: each distinct (item, value) pair, once;
- `surface_buckets`: each distinct bucket, by its digest, as the sorted ids of its pairs;
- `surfaces`: each distinct surface, by its digest: its categories, its buckets' digests and ids;
- `hosts.surface`: which surface a host had in a run.

A host that did not change adds one integer to its run row; a host that changed one file adds
one bucket and one surface row, never a copy of what it shares.
"""

from __future__ import annotations

import hashlib
import sqlite3
from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from driftcheck.fleet.since import BUCKETS, Pairs, Snapshot, Stored, Surface, buckets
from driftcheck.fleet.values import Item

MIGRATION: tuple[str, ...] = (
    """CREATE TABLE surface_pairs (
        id INTEGER PRIMARY KEY, item TEXT NOT NULL, value TEXT NOT NULL, UNIQUE (item, value))""",
    """CREATE TABLE surface_buckets (
        id INTEGER PRIMARY KEY, digest BLOB NOT NULL UNIQUE, pairs BLOB NOT NULL)""",
    """CREATE TABLE surfaces (
        id INTEGER PRIMARY KEY, digest BLOB NOT NULL UNIQUE, categories TEXT NOT NULL,
        digests BLOB NOT NULL, buckets BLOB NOT NULL)""",
    "ALTER TABLE hosts ADD COLUMN surface INTEGER",
)
_PRUNE_SURFACES = (
    "DELETE FROM surfaces WHERE id NOT IN (SELECT surface FROM hosts WHERE surface IS NOT NULL)"
)
_DIGEST = 16  # bytes of a bucket's digest (fleet.since.digest)


def prune(db: sqlite3.Connection) -> None:
    """After pruning runs (inside the caller's transaction): surfaces no host row names go,
    then buckets no surface names, then pairs no bucket names. A bucket's and a surface's
    members are id arrays, so what is still named is read from them, not joined."""
    db.execute(_PRUNE_SURFACES)
    _keep_only(db, "surface_buckets", _named(db, "SELECT buckets FROM surfaces"))
    _keep_only(db, "surface_pairs", _named(db, "SELECT pairs FROM surface_buckets"))


def _named(db: sqlite3.Connection, query: str) -> set[int]:
    named: set[int] = set()
    for (blob,) in db.execute(query):
        ids = array("q")
        ids.frombytes(bytes(blob))
        named.update(ids)
    return named


def _keep_only(db: sqlite3.Connection, table: str, ids: set[int]) -> None:
    """Delete the rows of `table` whose id is not in `ids` (a temporary table holds them:
    no bound on host parameters)."""
    db.execute("CREATE TEMP TABLE IF NOT EXISTS kept_ids (id INTEGER PRIMARY KEY)")
    db.execute("DELETE FROM kept_ids")
    db.executemany("INSERT INTO kept_ids (id) VALUES (?)", ((i,) for i in ids))
    db.execute(f"DELETE FROM {table} WHERE id NOT IN (SELECT id FROM kept_ids)")  # noqa: S608
    db.execute("DELETE FROM kept_ids")


def surface_digest(found: Surface) -> bytes:
    hasher = hashlib.blake2b(digest_size=16)
    hasher.update(",".join(sorted(found.categories)).encode() + b"\n")
    for part in found.digests:
        hasher.update(part)
    return hasher.digest()


def store(db: sqlite3.Connection, seq: int, snapshots: Mapping[str, Snapshot]) -> None:
    """Record each host's surface for run `seq` (inside the caller's transaction; the host rows
    exist already)."""
    ids: dict[bytes, int] = {}
    for name, snapshot in snapshots.items():
        key = surface_digest(snapshot.surface)
        if key not in ids:
            ids[key] = _surface_id(db, key, snapshot)
        db.execute(
            "UPDATE hosts SET surface = ? WHERE run_seq = ? AND name = ?", (ids[key], seq, name)
        )


def _surface_id(db: sqlite3.Connection, key: bytes, snapshot: Snapshot) -> int:
    row = db.execute("SELECT id FROM surfaces WHERE digest = ?", (key,)).fetchone()
    if row is not None:
        return int(row[0])
    found = snapshot.surface
    known = _bucket_ids(db, found.digests)
    cut: Sequence[Pairs] | None = snapshot.cut or None
    bucket_ids = []
    for index, part in enumerate(found.digests):
        if part not in known:
            cut = cut if cut is not None else buckets(snapshot.values)
            known[part] = _insert_bucket(db, part, cut[index])
        bucket_ids.append(known[part])
    cursor = db.execute(
        "INSERT INTO surfaces (digest, categories, digests, buckets) VALUES (?, ?, ?, ?)",
        (
            key,
            ",".join(sorted(found.categories)),
            b"".join(found.digests),
            array("q", bucket_ids).tobytes(),
        ),
    )
    return int(cursor.lastrowid or 0)


def _bucket_ids(db: sqlite3.Connection, digests: Sequence[bytes]) -> dict[bytes, int]:
    wanted = sorted(set(digests))
    marks = ", ".join("?" for _ in wanted)
    rows = db.execute(
        f"SELECT digest, id FROM surface_buckets WHERE digest IN ({marks})",  # noqa: S608 - marks
        wanted,
    )
    return {bytes(row[0]): int(row[1]) for row in rows}


def _insert_bucket(db: sqlite3.Connection, part: bytes, pairs: Pairs) -> int:
    ids = sorted(_pair_ids(db, pairs.items()))
    cursor = db.execute(
        "INSERT INTO surface_buckets (digest, pairs) VALUES (?, ?)",
        (part, array("q", ids).tobytes()),
    )
    return int(cursor.lastrowid or 0)


def _pair_ids(db: sqlite3.Connection, pairs: Iterable[tuple[Item, str]]) -> list[int]:
    listed = list(pairs)
    db.executemany("INSERT OR IGNORE INTO surface_pairs (item, value) VALUES (?, ?)", listed)
    return [
        int(db.execute(_PAIR_ID, pair).fetchone()[0])  # the UNIQUE index answers each at once
        for pair in listed
    ]


_PAIR_ID = "SELECT id FROM surface_pairs WHERE item = ? AND value = ?"
_LATEST = """SELECT h.name, r.id AS run, s.categories, s.digests, s.buckets
    FROM hosts h
    JOIN (SELECT name, MAX(run_seq) AS seq FROM hosts WHERE surface IS NOT NULL GROUP BY name) l
      ON h.name = l.name AND h.run_seq = l.seq
    JOIN surfaces s ON s.id = h.surface
    JOIN runs r ON r.seq = h.run_seq"""


def latest(db: sqlite3.Connection, names: Iterable[str]) -> dict[str, Stored]:
    """Each named host's surface in the last run that recorded one (a host unreachable since
    keeps the one before), opened bucket by bucket when a comparison asks."""
    wanted = set(names)
    found = {}
    for row in db.execute(_LATEST):
        name = str(row["name"])
        if name not in wanted:
            continue
        digests = bytes(row["digests"])
        ids = array("q")
        ids.frombytes(bytes(row["buckets"]))
        if len(digests) != BUCKETS * _DIGEST or len(ids) != BUCKETS:
            continue  # a surface of another bucketing: no baseline, as before the first run
        parts = tuple(digests[i : i + _DIGEST] for i in range(0, len(digests), _DIGEST))
        categories = frozenset(c for c in str(row["categories"]).split(",") if c)
        found[name] = Stored(Surface(categories, parts), str(row["run"]), _opener(db, ids))
    return found


def _opener(db: sqlite3.Connection, ids: array[int]) -> _Opener:
    return _Opener(db, tuple(ids))


@dataclass(frozen=True)
class _Opener:
    db: sqlite3.Connection
    ids: tuple[int, ...]

    def __call__(self, index: int) -> Pairs:
        row = self.db.execute(
            "SELECT pairs FROM surface_buckets WHERE id = ?", (self.ids[index],)
        ).fetchone()
        if row is None:
            return {}
        pair_ids = array("q")
        pair_ids.frombytes(bytes(row[0]))
        found: dict[Item, str] = {}
        for start in range(0, len(pair_ids), 500):  # SQLite's bound on host parameters
            chunk = pair_ids[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            rows = self.db.execute(
                f"SELECT item, value FROM surface_pairs WHERE id IN ({marks})",  # noqa: S608
                list(chunk),
            )
            found.update((str(r[0]), str(r[1])) for r in rows)
        return found
