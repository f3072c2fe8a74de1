"""History and deltas over real SQLite files: three nights with drift added and removed."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from driftcheck.errors import InputError, UsageError
from driftcheck.model import Origin
from driftcheck.nightly.deltas import annotate, diff_runs, summary_line
from driftcheck.nightly.history import History
from driftcheck.nightly.rows import MIGRATIONS, SCHEMA_VERSION
from driftcheck.nightly.waivers import Waiver, apply_waivers
from driftcheck.render.text import render_text

from .reports import finding, findings_by_host, host, report


def night(history: History, number: int, hosts: list[dict]) -> dict:
    annotated = annotate(report(number, hosts), history)
    history.record(annotated)
    return annotated


@pytest.fixture
def history(tmp_path: Path):
    with History(tmp_path / "reports" / "history.sqlite") as h:
        yield h


def test_three_nights_new_resolved_and_first_seen(history: History) -> None:
    first = night(
        history,
        1,
        [
            host("web01", [finding("acme-debug"), finding("telnetd")]),
            host("web02", [finding("gcc")]),
        ],
    )
    assert first["changes"]["previous_run"] is None
    assert first["changes"]["line"] == "first recorded run"
    assert not any(f["new"] for h in first["hosts"] for f in h["findings"])

    second = night(
        history,
        2,
        [
            host("web01", [finding("acme-debug"), finding("nc"), finding("strace")]),
            host("web02", [finding("gcc")]),
            host("web03"),
        ],
    )
    changes = second["changes"]
    assert changes["previous_run"] == first["run"]["id"]
    assert [(c["host"], c["item"]) for c in changes["new"]] == [
        ("web01", "nc"),
        ("web01", "strace"),
    ]
    assert [(c["host"], c["item"]) for c in changes["resolved"]] == [("web01", "telnetd")]
    assert changes["line"] == "2 new findings on 1 host, 1 resolved"
    web01 = findings_by_host(second)["web01"]
    assert web01["acme-debug"]["first_seen"] == first["run"]["started"]
    assert web01["acme-debug"]["last_seen"] == second["run"]["started"]
    assert web01["acme-debug"]["new"] is False
    assert web01["nc"]["new"] is True
    assert web01["nc"]["first_seen"] == second["run"]["started"]

    third = night(
        history,
        3,
        [
            host("web01", [finding("acme-debug"), finding("nc")]),
            host("web02", [finding("gcc"), finding("tcpdump")]),
            host("web03", [finding("vim")]),
        ],
    )
    changes = third["changes"]
    assert sorted((c["host"], c["item"]) for c in changes["new"]) == [
        ("web02", "tcpdump"),
        ("web03", "vim"),
    ]
    assert [(c["host"], c["item"]) for c in changes["resolved"]] == [("web01", "strace")]
    assert changes["resolved"][0]["first_seen"] == second["run"]["started"]
    assert summary_line(changes) == "2 new findings on 2 hosts, 1 resolved"
    found = findings_by_host(third)
    assert found["web01"]["acme-debug"]["first_seen"] == first["run"]["started"]  # survives 3 runs
    assert found["web01"]["nc"]["first_seen"] == second["run"]["started"]
    assert found["web02"]["gcc"]["first_seen"] == first["run"]["started"]

    # The history itself, as `driftcheck history` shows it: newest first, counts and deltas.
    rows = history.runs(limit=10)
    assert [r.id for r in rows] == [third["run"]["id"], second["run"]["id"], first["run"]["id"]]
    assert [(r.findings, r.new, r.resolved) for r in rows] == [(5, 2, 1), (4, 2, 1), (3, 0, 0)]
    web01_rows = history.runs(host="web01", limit=2)
    assert [(r.status, r.findings, r.new) for r in web01_rows] == [
        ("snowflake", 2, 0),
        ("snowflake", 3, 2),
    ]


def test_unreachable_host_resolves_nothing_and_is_listed(history: History) -> None:
    first = night(history, 1, [host("db01", [finding("mysql-debug")]), host("db02")])
    second = night(history, 2, [host("db01", status="unreachable"), host("db02")])
    changes = second["changes"]
    assert changes["resolved"] == []
    assert changes["newly_unreachable"] == ["db01"]
    assert [(c["host"], c["item"], c["carried"]) for c in changes["carried"]] == [
        ("db01", "mysql-debug", True)
    ]
    assert changes["line"] == (
        "0 new findings on 0 hosts, 0 resolved, 1 host newly unreachable (db01), "
        "1 finding not re-checked"
    )

    # Still unreachable: carried again, but no longer *newly* unreachable.
    third = night(history, 3, [host("db01", status="unreachable"), host("db02")])
    assert third["changes"]["newly_unreachable"] == []
    assert [c["item"] for c in third["changes"]["carried"]] == ["mysql-debug"]

    # Back, and the drift is still there: not new, first seen on night 1.
    fourth = night(history, 4, [host("db01", [finding("mysql-debug")]), host("db02")])
    again = findings_by_host(fourth)["db01"]["mysql-debug"]
    assert again["new"] is False
    assert again["first_seen"] == first["run"]["started"]
    assert fourth["changes"]["new"] == []

    # Audited and gone: only now is it resolved.
    fifth = night(history, 5, [host("db01"), host("db02")])
    assert [c["item"] for c in fifth["changes"]["resolved"]] == ["mysql-debug"]


def test_error_host_carries_and_is_newly_error(history: History) -> None:
    night(history, 1, [host("app01", [finding("a"), finding("b")])])
    unknown = finding("nginx.service", "service", "unknown", detail="no systemd")
    second = night(history, 2, [host("app01", [finding("a"), unknown], status="error")])
    changes = second["changes"]
    assert changes["resolved"] == []
    assert [c["item"] for c in changes["carried"]] == ["b"]
    assert changes["newly_error"] == ["app01"]
    assert [c["item"] for c in changes["new"]] == ["nginx.service"]


def test_limited_run_keeps_other_hosts_baselines(history: History) -> None:
    night(history, 1, [host("web01", [finding("x")]), host("db01", [finding("y")])])
    night(history, 2, [host("web01", [finding("x")])])  # --limit web
    third = night(history, 3, [host("web01", [finding("x")]), host("db01", [finding("y")])])
    assert third["changes"]["new"] == []
    assert third["changes"]["resolved"] == []
    assert third["changes"]["line"] == "0 new findings on 0 hosts, 0 resolved"


def test_diff_between_recorded_runs(history: History) -> None:
    a = night(history, 1, [host("web01", [finding("x"), finding("y")]), host("web02")])
    night(history, 2, [host("web01", [finding("x")])])
    c = night(
        history,
        3,
        [host("web01", [finding("x"), finding("z")]), host("web02", status="unreachable")],
    )
    diff = diff_runs(history.findings_of(a["run"]["id"]), history.findings_of(c["run"]["id"][:18]))
    assert diff["previous_run"] == a["run"]["id"]
    assert diff["run"] == c["run"]["id"]
    assert [(f["host"], f["item"]) for f in diff["new"]] == [("web01", "z")]
    assert [(f["host"], f["item"]) for f in diff["resolved"]] == [("web01", "y")]
    assert diff["newly_unreachable"] == ["web02"]
    with pytest.raises(UsageError, match="no run 'nope'"):
        history.findings_of("nope")
    with pytest.raises(UsageError, match="ambiguous"):
        history.findings_of("2026")


def test_schema_version_wal_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    with History(path) as h:
        night(h, 1, [host("web01", [finding("x")])])
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with History(path) as h:  # re-opening migrates nothing and loses nothing
        assert h.schema_version() == SCHEMA_VERSION
        assert h.previous_run() is not None


def test_newer_schema_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    newer = rf"history.sqlite: history schema {SCHEMA_VERSION + 1} is newer"
    with pytest.raises(InputError, match=newer):
        History(path)
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0


def test_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    path.write_bytes(b"this is not sqlite, it is a text file long enough to have a header" * 20)
    with pytest.raises(InputError, match="not a usable history database"):
        History(path)


def test_incomplete_or_failed_record_leaves_nothing(history: History) -> None:
    first = night(history, 1, [host("web01", [finding("x")])])
    unfinished = report(2, [host("web01")])
    unfinished["run"]["finished"] = None
    with pytest.raises(ValueError, match="complete run"):
        history.record(unfinished)
    broken = annotate(report(3, [host("web01", [finding("x")])]), history)
    del broken["hosts"][0]["findings"][0]["target"]  # fails after the run row went in
    with pytest.raises(sqlite3.IntegrityError):
        history.record(broken)
    assert [r.id for r in history.runs()] == [first["run"]["id"]]


def test_waived_new_findings_are_not_news(history: History) -> None:
    waiver = Waiver(
        "web01", "*", "package", "gcc", "*", "build box", dt.date(2030, 1, 1), None, Origin("w", 1)
    )
    night(history, 1, [host("web01", [finding("x")])])
    second = apply_waivers(
        report(2, [host("web01", [finding("x"), finding("gcc"), finding("nc")])]),
        [waiver],
        dt.date(2026, 11, 28),
    )
    done = annotate(second, history)
    history.record(done)
    assert [(c["item"], bool(c["waived"])) for c in done["changes"]["new"]] == [
        ("gcc", True),
        ("nc", False),
    ]
    assert done["changes"]["line"] == "1 new finding on 1 host, 0 resolved"
    latest = history.runs(limit=1)[0]
    assert (latest.findings, latest.waived, latest.new) == (2, 1, 2)
    recorded = history.findings_of(done["run"]["id"]).hosts["web01"].findings
    assert recorded[("host", "package", "gcc", "unexpected")]["waived"]["reason"] == "build box"


def test_prune_keeps_newest_runs_and_every_hosts_baseline(history: History) -> None:
    night(history, 1, [host("web01", [finding("x")]), host("db01", [finding("y")])])
    for number in (2, 3, 4):
        night(history, number, [host("web01", [finding("x")])])  # --limit web, db01 left out
    assert history.prune(2) == 1  # run 1 stays for db01's baseline, runs 2 goes
    assert [r.id for r in history.runs()] == [report(n, [])["run"]["id"] for n in (4, 3, 1)]
    fifth = night(history, 5, [host("web01", [finding("x")]), host("db01", [finding("y")])])
    assert fifth["changes"]["new"] == []  # db01's baseline survived the prune
    first_seen = report(1, [])["run"]["started"]
    assert {h["name"]: h["findings"][0]["first_seen"] for h in fifth["hosts"]} == {
        "web01": first_seen,
        "db01": first_seen,
    }
    assert history.prune(1) == 3  # db01 and web01 now both have run 5 as their latest
    assert [r.id for r in history.runs()] == [fifth["run"]["id"]]
    with pytest.raises(ValueError, match="at least 1"):
        history.prune(0)


def test_prune_keeps_the_file_from_growing(tmp_path: Path) -> None:
    """Freed pages are reused: nightly runs with pruning reach a steady size."""
    path = tmp_path / "history.sqlite"
    hosts = [host(f"web{i:03}", [finding(f"pkg{j}") for j in range(20)]) for i in range(50)]
    sizes = []
    with History(path) as h:
        for number in range(1, 17):
            night(h, number, hosts)
            h.prune(3)
            h._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            sizes.append(path.stat().st_size)
    # Steady after a few nights: a page or two of b-tree slack as the run counts grow, then flat.
    assert len(set(sizes[-5:])) == 1, sizes
    assert sizes[-1] <= sizes[5] * 1.02, sizes
    assert sizes[-1] < 5 * sizes[0], sizes


def test_a_version_1_history_gains_the_unchecked_column(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    with sqlite3.connect(path) as db:
        for statement in MIGRATIONS[0]:
            db.execute(statement)
        db.execute("PRAGMA user_version = 1")
    with History(path) as history:
        assert history.schema_version() == SCHEMA_VERSION
    with sqlite3.connect(path) as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(runs)")]
    assert "unchecked" in columns


def test_runs_count_grows_is_carried_and_restarts(history: History) -> None:
    def runs_of(annotated: dict, name: str) -> dict[str, int]:
        hosts = {h["name"]: h for h in annotated["hosts"]}
        return {f["item"]: f["runs"] for f in hosts[name]["findings"]}

    night(history, 1, [host("web01", [finding("x")])])
    second = night(history, 2, [host("web01", [finding("x"), finding("y")])])
    assert runs_of(second, "web01") == {"x": 2, "y": 1}
    night(history, 3, [host("web01", status="unreachable")])  # not observed: not counted
    fourth = night(history, 4, [host("web01", [finding("x")])])
    assert runs_of(fourth, "web01") == {"x": 3}
    fifth = night(history, 5, [host("web01", [finding("x"), finding("y")])])
    assert runs_of(fifth, "web01") == {"x": 4, "y": 1}  # y went away: it starts again


def test_runs_count_of_a_schema_1_finding_is_estimated_from_its_host_runs(
    history: History,
) -> None:
    for number in (1, 2, 3):
        night(history, number, [host("web01", [finding("x")])])
    history._db.execute("UPDATE findings SET runs = NULL")  # as schema 1 left them
    fourth = night(history, 4, [host("web01", [finding("x")])])
    assert fourth["hosts"][0]["findings"][0]["runs"] == 4


def test_trend_reads_runs_oldest_first_with_each_host_status(history: History) -> None:
    assert history.trend(30).runs == ()
    night(history, 1, [host("web01", [finding("x")]), host("web02")])
    night(history, 2, [host("web01", status="unreachable")])
    third = night(history, 3, [host("web01"), host("web02", [finding("y")])])
    trend = history.trend(30)
    assert [r["snowflake"] for r in trend.runs] == [1, 0, 1]
    assert trend.statuses == {"web01": "suc", "web02": "c-s"}
    assert history.trend(2).statuses == {"web01": "uc", "web02": "-s"}
    before = history.trend(1, before=third["run"]["id"], hosts=["web01", "web02"])
    assert [r["unreachable"] for r in before.runs] == [1]
    assert before.statuses == {"web01": "u", "web02": "-"}
    assert history.trend(30, hosts=["web02", "gone"]).statuses == {"web02": "c-s"}


def test_trails_of_schema_1_rows_are_rebuilt_from_the_statuses(history: History) -> None:
    night(history, 1, [host("web01", [finding("x")]), host("web02")])
    night(history, 2, [host("web01", status="unreachable")])
    history._db.execute("UPDATE hosts SET trail = NULL")  # as schema 1 left them
    third = night(history, 3, [host("web01"), host("web02", [finding("y")])])
    assert third["run"]["id"]
    assert history.trend(30).statuses == {"web01": "suc", "web02": "c-s"}
    history._db.execute("UPDATE hosts SET trail = NULL")  # read back from statuses alone
    assert history.trend(30).statuses == {"web01": "suc", "web02": "c-s"}


def test_a_host_left_out_of_recent_runs_keeps_its_strip_aligned(history: History) -> None:
    night(history, 1, [host("web01"), host("db01", [finding("x")])])
    for number in (2, 3, 4):  # --limit web
        night(history, number, [host("web01")])
    night(history, 5, [host("web01"), host("db01")])
    assert history.trend(30).statuses == {"web01": "ccccc", "db01": "s---c"}


def test_text_report_calls_out_hosts_that_became_snowflakes_together(history: History) -> None:
    agent = finding("acme-agent", kind="version", expected="1.3.0", actual="1.2.0")
    night(history, 1, [host(f"web0{i}") for i in range(1, 5)] + [host("db01", [finding("x")])])
    rollout = [host(f"web0{i}", [dict(agent)]) for i in range(1, 4)] + [host("web04")]
    text = render_text(night(history, 2, [*rollout, host("db01", [finding("x"), finding("y")])]))
    assert text.splitlines()[1] == "New since the last run: 3 hosts, acme-agent 1.2.0"
