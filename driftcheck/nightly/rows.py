"""The history's schema and its rows: the tables as MIGRATIONS build them, the statements that
read and prune them, and a finding or a run between its report entry and its row."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass

from driftcheck.model.document import FindingEntry
from driftcheck.model.vocab import STATUSES
from driftcheck.nightly import surfaces

Key = tuple[str, str, str, str]

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (  # 1: runs, hosts per run, findings per host and run
        """CREATE TABLE runs (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            started TEXT NOT NULL, finished TEXT NOT NULL, duration REAL,
            inventory TEXT, run_limit TEXT, version TEXT,
            hosts INTEGER NOT NULL, compliant INTEGER NOT NULL, snowflake INTEGER NOT NULL,
            unreachable INTEGER NOT NULL, error INTEGER NOT NULL,
            findings INTEGER NOT NULL, waived INTEGER NOT NULL,
            new INTEGER, resolved INTEGER)""",
        """CREATE TABLE hosts (
            run_seq INTEGER NOT NULL REFERENCES runs(seq) ON DELETE CASCADE,
            name TEXT NOT NULL, status TEXT NOT NULL, error TEXT,
            PRIMARY KEY (run_seq, name))""",
        "CREATE INDEX hosts_by_name ON hosts (name, run_seq)",
        """CREATE TABLE findings (
            run_seq INTEGER NOT NULL, host TEXT NOT NULL,
            target TEXT NOT NULL, category TEXT NOT NULL, item TEXT NOT NULL, kind TEXT NOT NULL,
            expected TEXT, actual TEXT, detail TEXT,
            first_seen TEXT NOT NULL, last_seen TEXT NOT NULL,
            new INTEGER NOT NULL DEFAULT 0, waived TEXT, carried INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (run_seq, host, target, category, item, kind),
            FOREIGN KEY (run_seq, host) REFERENCES hosts (run_seq, name) ON DELETE CASCADE)""",
    ),
    # 2: hosts audited with nothing applied to them (status unchecked) are counted too
    ("ALTER TABLE runs ADD COLUMN unchecked INTEGER NOT NULL DEFAULT 0",),
    (  # 3: how many runs each finding has been observed in, carried from run to run; each
        # host's status letters up to its run (driftcheck.nightly.trails)
        "ALTER TABLE findings ADD COLUMN runs INTEGER",
        "ALTER TABLE hosts ADD COLUMN trail TEXT",
    ),
    surfaces.MIGRATION,  # 4: each host's surface, for "changed since its last run"
)
SCHEMA_VERSION = len(MIGRATIONS)


@dataclass(frozen=True)
class HostState:
    """One host in one recorded run. `findings` maps a finding's key to its entry as recorded:
    the report's fields but `diff`, plus first_seen, last_seen, new, waived, carried, runs."""

    status: str
    findings: Mapping[Key, FindingEntry]


@dataclass(frozen=True)
class RunState:
    id: str
    started: str
    hosts: Mapping[str, HostState]


@dataclass(frozen=True)
class RunSummary:
    """One line of `driftcheck history`. With a host filter: that host's status and counts."""

    id: str
    started: str
    duration: float | None
    hosts: int
    compliant: int
    snowflake: int
    unchecked: int
    unreachable: int
    error: int
    findings: int
    waived: int
    new: int | None
    resolved: int | None
    host: str | None = None
    status: str | None = None


def finding_key(finding: FindingEntry) -> Key:
    return (finding["target"], finding["category"], finding["item"], finding["kind"])


RUNS_SINCE = """
SELECT COUNT(*) FROM hosts h JOIN runs r ON r.seq = h.run_seq
WHERE h.name = ? AND r.started >= ? AND h.status NOT IN (?, ?)
"""

HOST_RUNS = """
SELECT r.id, r.started, r.duration, h.status,
  (SELECT COUNT(*) FROM findings f WHERE f.run_seq = h.run_seq AND f.host = h.name
     AND NOT f.carried AND f.waived IS NULL) AS findings,
  (SELECT COUNT(*) FROM findings f WHERE f.run_seq = h.run_seq AND f.host = h.name
     AND NOT f.carried AND f.waived IS NOT NULL) AS waived,
  (SELECT COUNT(*) FROM findings f WHERE f.run_seq = h.run_seq AND f.host = h.name
     AND f.new) AS new
FROM hosts h JOIN runs r ON r.seq = h.run_seq
WHERE h.name = ? ORDER BY r.seq DESC LIMIT ?
"""


# A row is old when its run is not among the newest `keep` and it is not its host's latest row.
PRUNE_RUNS = (
    """DELETE FROM findings
    WHERE run_seq NOT IN (SELECT seq FROM runs ORDER BY seq DESC LIMIT ?)
    AND run_seq < (SELECT MAX(run_seq) FROM hosts h WHERE h.name = findings.host)""",
    """DELETE FROM hosts
    WHERE run_seq NOT IN (SELECT seq FROM runs ORDER BY seq DESC LIMIT ?)
    AND run_seq < (SELECT MAX(run_seq) FROM hosts h WHERE h.name = hosts.name)
    AND run_seq IS NOT (SELECT MAX(run_seq) FROM hosts h
                        WHERE h.name = hosts.name AND h.surface IS NOT NULL)""",
    """DELETE FROM runs
    WHERE seq NOT IN (SELECT seq FROM runs ORDER BY seq DESC LIMIT ?)
    AND NOT EXISTS (SELECT 1 FROM hosts h WHERE h.run_seq = runs.seq)""",
)


def finding_row(
    seq: int, host: str, finding: FindingEntry, seen: str | None, *, carried: bool
) -> tuple[str | int | None, ...]:
    waived = finding.get("waived")
    return (
        seq,
        host,
        # .get: a finding without its identity fails as the NOT NULL columns say, in the insert
        finding.get("target"),
        finding.get("category"),
        finding.get("item"),
        finding.get("kind"),
        finding.get("expected"),
        finding.get("actual"),
        finding.get("detail"),
        finding.get("first_seen") or seen,
        finding.get("last_seen") or seen,
        int(bool(finding.get("new"))),
        None if not waived else json.dumps(waived, sort_keys=True),
        int(carried),
        finding.get("runs"),
    )


def host_states(hosts: list[sqlite3.Row], findings: list[sqlite3.Row]) -> dict[str, HostState]:
    by_host: dict[str, dict[Key, FindingEntry]] = {row["name"]: {} for row in hosts}
    for row in findings:
        finding = finding_dict(row)
        by_host.setdefault(row["host"], {})[finding_key(finding)] = finding
    return {row["name"]: HostState(row["status"], by_host[row["name"]]) for row in hosts}


def finding_dict(row: sqlite3.Row) -> FindingEntry:
    """A `findings` row back as a finding entry (the fields finding_row wrote: no `diff`). The
    row's values are untyped; the schema's columns are the entry's types (TEXT, INTEGER, and
    `waived` the JSON of a WaivedEntry), so they are taken as they are."""
    return {
        "target": row["target"],
        "category": row["category"],
        "item": row["item"],
        "kind": row["kind"],
        "expected": row["expected"],
        "actual": row["actual"],
        "detail": row["detail"],
        "first_seen": row["first_seen"],
        "last_seen": row["last_seen"],
        "new": bool(row["new"]),
        "waived": json.loads(row["waived"]) if row["waived"] else None,
        "carried": bool(row["carried"]),
        "runs": row["runs"],
    }


def run_summary(row: sqlite3.Row) -> RunSummary:
    return RunSummary(
        **{name: row[name] for name in ("id", "started", "duration", "hosts", *STATUSES)},
        findings=row["findings"],
        waived=row["waived"],
        new=row["new"],
        resolved=row["resolved"],
    )


def host_run_summary(row: sqlite3.Row, host: str) -> RunSummary:
    return RunSummary(
        id=row["id"],
        started=row["started"],
        duration=row["duration"],
        hosts=1,
        **{name: int(row["status"] == name) for name in STATUSES},
        findings=row["findings"],
        waived=row["waived"],
        new=row["new"],
        resolved=None,
        host=host,
        status=row["status"],
    )
