"""Run history in SQLite (default REPORT_DIR/history.sqlite).

Every recorded run is one transaction: its run row, host rows and finding rows appear together or
not at all, so a scan killed mid-write leaves the history exactly as the last complete run left it
(WAL journal, synchronous=FULL). The schema is versioned with `PRAGMA user_version`; MIGRATIONS[i]
takes version i to i + 1, each in its own transaction. A database newer than this code is refused,
never written.

Finding identity is (target, category, item, kind) per host: a version that moves from 1.0 to 1.1
stays the same finding. Findings of a host that could not be audited are stored `carried` (see
driftcheck.nightly.deltas): not observed this run, not resolved either.
"""

from __future__ import annotations

import os
import sqlite3
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from driftcheck.errors import InputError, OutputError, UsageError
from driftcheck.limits import TRAIL_MAX
from driftcheck.model.document import HostEntry, Report
from driftcheck.model.vocab import STATUSES, Status
from driftcheck.nightly import surfaces
from driftcheck.nightly.reportdir import ReportDir, storage_failure
from driftcheck.nightly.rows import (
    HOST_RUNS,
    MIGRATIONS,
    PRUNE_RUNS,
    RUNS_SINCE,
    SCHEMA_VERSION,
    HostState,
    RunState,
    RunSummary,
    finding_row,
    host_run_summary,
    host_states,
    run_summary,
)
from driftcheck.nightly.trails import Trend, code, read_trend, trails

if TYPE_CHECKING:
    from driftcheck.fleet.since import Snapshot, Stored

HISTORY_FILE = "history.sqlite"


class History:
    def __init__(self, path: Path, *, frozen: bool = False) -> None:
        """`frozen`: the file system is read-only, so nothing can change the database; SQLite
        is told so (immutable), since it cannot make the -shm file a WAL reader needs there."""
        self.path = Path(path)
        self.frozen = frozen
        try:
            if frozen:
                uri = f"file:{urllib.parse.quote(str(self.path))}?mode=ro&immutable=1"
                self._db = sqlite3.connect(uri, uri=True, isolation_level=None)
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        except sqlite3.DatabaseError as exc:
            raise _open_error(self.path, exc) from exc
        self._db.row_factory = sqlite3.Row
        try:
            self._configure()
            self._migrate()
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise _open_error(self.path, exc) from exc

    @classmethod
    def in_report_dir(cls, root: ReportDir, *, create: bool) -> History | None:
        """REPORT_DIR/history.sqlite, checked through the directory's fd before and after SQLite
        opens it by path (see driftcheck.nightly.reportdir); None if absent and not `create`."""
        identity = root.database(HISTORY_FILE, create=create)
        if identity is None:
            return None
        frozen = not create and bool(os.fstatvfs(root.fd).f_flag & os.ST_RDONLY)
        history = cls(root.at(HISTORY_FILE), frozen=frozen)
        try:
            root.same_file(HISTORY_FILE, identity)
        except BaseException:
            history.close()
            raise
        return history

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- schema ------------------------------------------------------------------------

    def _configure(self) -> None:
        if self.frozen:
            return
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA foreign_keys=ON")

    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        version = self.schema_version()
        if version > SCHEMA_VERSION:
            raise InputError(
                str(self.path),
                None,
                f"history schema {version} is newer than this driftcheck reads "
                f"({SCHEMA_VERSION}): upgrade driftcheck",
            )
        if self.frozen and version < SCHEMA_VERSION:
            raise InputError(
                str(self.path), None, f"history schema {version} needs a migration: read-only"
            )
        for number in range(version, SCHEMA_VERSION):
            with self._transaction():
                if self.schema_version() != number:  # another process migrated meanwhile
                    continue
                for statement in MIGRATIONS[number]:
                    self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {number + 1}")

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # --- writing -----------------------------------------------------------------------

    def record(self, report: Report, snapshots: Mapping[str, Snapshot] | None = None) -> None:
        """Append a complete run (one transaction), and the surfaces of the hosts it has
        `snapshots` for. Run it after deltas.annotate()."""
        _check_complete(report)
        with self._transaction():
            seq = self._insert_run(report)
            self._insert_hosts(seq, report["hosts"])
            self._insert_findings(seq, report)
            surfaces.store(self._db, seq, snapshots or {})

    def _insert_run(self, report: Report) -> int:
        run, summary, changes = report["run"], report["summary"], report.get("changes")
        cursor = self._db.execute(
            "INSERT INTO runs (id, started, finished, duration, inventory, run_limit, version,"  # noqa: S608 - column names are constants
            f" hosts, {', '.join(STATUSES)}, findings, waived, new, resolved)"
            f" VALUES (?, ?, ?, ?, ?, ?, ?, ?, {', '.join('?' for _ in STATUSES)}, ?, ?, ?, ?)",
            (
                run["id"], run["started"], run["finished"], run.get("duration"),
                run.get("inventory"), run.get("limit"), run.get("version"),
                *(summary.get(name, 0) for name in ("hosts", *STATUSES, "findings", "waived")),
                None if changes is None else len(changes["new"]),
                None if changes is None else len(changes["resolved"]),
            ),
        )  # fmt: skip
        return int(cursor.lastrowid or 0)

    def _insert_hosts(self, seq: int, hosts: list[HostEntry]) -> None:
        before = trails(self._db, [h["name"] for h in hosts], seq - 1)
        self._db.executemany(
            "INSERT INTO hosts (run_seq, name, status, error, trail) VALUES (?, ?, ?, ?, ?)",
            [
                (seq, h["name"], h["status"], h.get("error"),
                 (before.get(h["name"], "") + code(h["status"]))[-TRAIL_MAX:])
                for h in hosts
            ],
        )  # fmt: skip

    def _insert_findings(self, seq: int, report: Report) -> None:
        seen = report["run"]["started"]
        rows = [
            finding_row(seq, host["name"], f, seen, carried=False)
            for host in report["hosts"]
            for f in host["findings"]
        ]
        changes = report.get("changes")
        carried = [] if changes is None else changes["carried"]
        rows += [finding_row(seq, f["host"], f, seen, carried=True) for f in carried]
        self._db.executemany(
            "INSERT OR REPLACE INTO findings (run_seq, host, target, category, item, kind,"
            " expected, actual, detail, first_seen, last_seen, new, waived, carried, runs)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )

    def prune(self, keep: int) -> int:
        """Keep the newest `keep` runs; return how many older runs went. Every host's latest
        run rows stay (its baseline: first-seen and "new" depend on them), so a host audited
        only by an old `--limit` run keeps its history. One transaction: a killed prune leaves
        the history as it was. Freed pages are reused by later runs (no VACUUM)."""
        if keep < 1:
            raise ValueError(f"keep must be at least 1, not {keep}")
        with self._transaction():
            for statement in PRUNE_RUNS:
                self._db.execute(statement, (keep,))
            gone = int(self._db.execute("SELECT changes()").fetchone()[0])
            surfaces.prune(self._db)
            return gone

    # --- reading -----------------------------------------------------------------------

    def last_surfaces(self, names: Iterable[str]) -> dict[str, Stored]:
        """Each named host's last recorded surface; opened lazily, so the history stays open
        while they are in use."""
        return surfaces.latest(self._db, names)

    def last_run_id(self) -> str | None:
        row = self._db.execute("SELECT id FROM runs ORDER BY seq DESC LIMIT 1").fetchone()
        return None if row is None else str(row["id"])

    def previous_run(self) -> RunState | None:
        """The last recorded (hence complete) run, or None before the first."""
        row = self._db.execute("SELECT seq FROM runs ORDER BY seq DESC LIMIT 1").fetchone()
        return None if row is None else self._run_state(int(row["seq"]))

    def baselines(self) -> dict[str, HostState]:
        """Each host's state in the latest recorded run that included it (a run with --limit
        leaves the other hosts' baselines where they were)."""
        latest = "SELECT name, MAX(run_seq) AS seq FROM hosts GROUP BY name"
        hosts = self._db.execute(
            f"SELECT h.name, h.status FROM hosts h JOIN ({latest}) l"  # noqa: S608 - constant
            " ON h.name = l.name AND h.run_seq = l.seq"
        ).fetchall()
        findings = self._db.execute(
            f"SELECT f.* FROM findings f JOIN ({latest}) l"  # noqa: S608 - constant
            " ON f.host = l.name AND f.run_seq = l.seq"
        ).fetchall()
        return host_states(hosts, findings)

    def findings_of(self, run_ref: str) -> RunState:
        """A recorded run by id or unique id prefix, for `driftcheck diff A B`."""
        return self._run_state(self._resolve(run_ref))

    def runs(self, host: str | None = None, limit: int = 20) -> list[RunSummary]:
        """Newest first: the fleet's runs, or one host's status and counts in each run."""
        if host is None:
            rows = self._db.execute(
                "SELECT * FROM runs ORDER BY seq DESC LIMIT ?", (limit,)
            ).fetchall()
            return [run_summary(row) for row in rows]
        rows = self._db.execute(HOST_RUNS, (host, limit)).fetchall()
        return [host_run_summary(row, host) for row in rows]

    def runs_since(self, host: str, first_seen: str) -> int:
        """Recorded runs that audited `host` since `first_seen`: the run count of a finding
        recorded before the count was (schema 1), where it is the best estimate there is."""
        failed = (Status.UNREACHABLE.value, Status.ERROR.value)
        row = self._db.execute(RUNS_SINCE, (host, first_seen, *failed)).fetchone()
        return int(row[0])

    def trend(
        self, limit: int, before: str | None = None, hosts: Iterable[str] | None = None
    ) -> Trend:
        """The last `limit` recorded runs (before run `before`, when given), oldest first, and
        the status letters of `hosts` (None: those of the last of these runs) over them."""
        last = self.seq_of(before) - 1 if before is not None else None
        return read_trend(self._db, limit, last, hosts)

    def run_record(self, run_ref: str) -> tuple[dict[str, Any], dict[str, str | None]]:
        """A recorded run's row (id, started, finished, duration, inventory, run_limit,
        version, counts) and each of its hosts' error message, for re-rendering it. The row
        stays a dict of Any: its columns are those of the file's schema version (MIGRATIONS)."""
        seq = self._resolve(run_ref)
        run = self._db.execute("SELECT * FROM runs WHERE seq = ?", (seq,)).fetchone()
        hosts = self._db.execute("SELECT name, error FROM hosts WHERE run_seq = ?", (seq,))
        return dict(zip(run.keys(), tuple(run), strict=True)), {r[0]: r[1] for r in hosts}

    def previous_of(self, run_ref: str) -> str | None:
        """The id of the run recorded before `run_ref`, or None for the first."""
        row = self._db.execute(
            "SELECT id FROM runs WHERE seq < ? ORDER BY seq DESC LIMIT 1", (self._resolve(run_ref),)
        ).fetchone()
        return None if row is None else str(row["id"])

    def seq_of(self, run_ref: str) -> int:
        """The sequence number of a recorded run, by id or unique id prefix."""
        return self._resolve(run_ref)

    def _resolve(self, run_ref: str) -> int:
        rows = self._db.execute(
            "SELECT seq, id FROM runs WHERE id = ? OR substr(id, 1, length(?)) = ?"
            " ORDER BY id = ? DESC, seq",
            (run_ref, run_ref, run_ref, run_ref),
        ).fetchall()
        if not rows:
            raise UsageError(f"no run {run_ref!r} in {self.path}")
        if rows[0]["id"] != run_ref and len(rows) > 1:
            ids = ", ".join(row["id"] for row in rows[:5])
            raise UsageError(f"run {run_ref!r} is ambiguous in {self.path}: {ids}")
        return int(rows[0]["seq"])

    def _run_state(self, seq: int) -> RunState:
        run = self._db.execute("SELECT id, started FROM runs WHERE seq = ?", (seq,)).fetchone()
        hosts = self._db.execute(
            "SELECT name, status FROM hosts WHERE run_seq = ?", (seq,)
        ).fetchall()
        findings = self._db.execute("SELECT * FROM findings WHERE run_seq = ?", (seq,)).fetchall()
        return RunState(run["id"], run["started"], host_states(hosts, findings))


def _open_error(path: Path, exc: sqlite3.DatabaseError) -> Exception:
    """A full, read-only or failing disk is said as such (exit 74); anything else is a file
    that is not a usable database (exit 3)."""
    failure = storage_failure(exc, path)
    if failure is not None:
        return OutputError(f"{path}: cannot write: {failure}")
    return InputError(str(path), None, f"not a usable history database: {exc}")


def _check_complete(report: Report) -> None:
    run = report.get("run")
    if not run or not run.get("id") or not run.get("started") or not run.get("finished"):
        raise ValueError("only a complete run (with run.id, run.started, run.finished) is recorded")
