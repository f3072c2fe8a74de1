"""The records evidence is read from, on captured real output (tests/collectors/records/): a
lab host's dpkg.log and apt history.log after `apt-get install` and `apt-get purge` through
sudo, its wtmp after a real `ssh -tt` login, its time zone; then hostile and edge cases."""

from __future__ import annotations

import base64
import dataclasses
import json
import struct
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from driftcheck.collectors import records
from driftcheck.collectors.records import (
    UTMP_SIZE,
    parse_apt_history,
    parse_dpkg_log,
    parse_rpm_times,
    parse_tz,
    parse_wtmp,
    records_section,
)
from driftcheck.collectors.sections import RawSection
from driftcheck.limits import MAX_EVIDENCE_EVENTS, MAX_EVIDENCE_TEXT

HERE = Path(__file__).parent / "records"


def record(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: record(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, list | tuple):
        return [record(v) for v in value]
    return value


def parsed(case: dict[str, Any]) -> Any:
    raw = case["raw"].encode()
    zone = ZoneInfo(case.get("zone", "UTC"))
    if case["parser"] == "dpkg.log":
        return record(parse_dpkg_log(raw, zone))
    if case["parser"] == "apt history":
        return record(parse_apt_history(raw, zone))
    if case["parser"] == "wtmp":
        logins, since = parse_wtmp(raw)
        return {"logins": record(logins), "since": since}
    return str(parse_tz(raw))


@pytest.mark.parametrize("path", sorted(HERE.glob("*.json")), ids=lambda p: p.stem)
def test_parser_on_captured_output(path: Path) -> None:
    case = json.loads(path.read_text())
    assert parsed(case) == case["expected"]


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def case(name: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads((HERE / f"{name}.json").read_text())
    return found


def test_dpkg_log_reads_the_install_and_removal_by_the_log_lines() -> None:
    raw = case("dpkg_log_apt_install_then_purge")["raw"]
    found = parse_dpkg_log(raw.encode())
    full_lines = raw.split("\n")[1:-1]  # the first line was cut by tail -c
    assert len(found) == len(full_lines)
    tail = [(t.start, t.changes[0].action, t.changes[0].package, t.changes[0].version)
            for t in found[-3:]]  # fmt: skip
    assert tail == [
        (at("2026-12-07 05:59:44"), "install", "acme-debug", "0.9"),
        (at("2026-12-07 05:59:45"), "configure", "acme-debug", "0.9"),
        (at("2026-12-07 05:59:46"), "remove", "acme-debug", "0.9"),
    ]


def test_apt_history_has_command_line_and_requesting_user() -> None:
    found = parse_apt_history(case("apt_history_requested_by_and_purge")["raw"].encode())
    install, purge = found
    assert (install.start, install.end) == (at("2026-12-07 05:59:44"), at("2026-12-07 05:59:45"))
    assert install.command == "apt-get install -y -q /var/tmp/acme-debug_0.9_all.deb"
    assert install.user == "auditor"  # "auditor (1500)": the uid is left out
    assert [(c.action, c.package, c.version) for c in purge.changes] == [
        ("purge", "acme-debug", "0.9")
    ]


def test_wtmp_session_matches_what_last_said() -> None:
    logins, since = parse_wtmp(case("wtmp_boot_and_a_pty_login")["raw"].encode())
    (login,) = logins
    assert (login.user, login.line, login.host) == ("root", "pts/1", "127.0.0.1")
    assert int(login.start) == at("2026-12-07 05:59:49")
    assert (login.end or 0) // 1 == at("2026-12-07 05:59:52")
    assert (since or 0) // 1 == at("2026-12-07 05:43:35")  # the boot record


def test_log_times_are_read_in_the_hosts_zone_with_its_summer_time() -> None:
    berlin = parse_tz(b"zone /usr/share/zoneinfo/Europe/Berlin\n+0100\n")
    line = "{} 12:00:00 install acme:all <none> 1\n"
    winter, summer = (parse_dpkg_log(line.format(d).encode(), berlin)[0].start
                      for d in ("2026-01-15", "2026-07-15"))  # fmt: skip
    assert (winter, summer) == (at("2026-01-15 11:00:00"), at("2026-07-15 10:00:00"))


@pytest.mark.parametrize(
    ("raw", "offset_hours"),
    [
        (b"zone /usr/share/zoneinfo/No/Such_Zone\n-0330\n", -3.5),  # unknown here: the offset
        (b"zone ../../etc/passwd\n+0200\n", 2),  # never a path outside zoneinfo
        (b"zone \n+9999\n", 0),  # nonsense: UTC
        (b"", 0),
    ],
)
def test_time_zone_falls_back_to_the_offset_then_utc(raw: bytes, offset_hours: float) -> None:
    zone = parse_tz(raw)
    assert zone.utcoffset(datetime(2026, 1, 1)).total_seconds() == offset_hours * 3600  # type: ignore[union-attr]


def test_hostile_logs_are_bounded_and_never_fail() -> None:
    line = b"2026-12-07 05:00:00 install p%d:all <none> 1\n"
    flood = b"".join(line % i for i in range(20_000))  # more than was asked for
    found = parse_dpkg_log(flood)
    assert 0 < len(found) <= MAX_EVIDENCE_EVENTS
    assert found[-1].changes[0].package == "p19999"  # the newest are the ones kept
    long_command = "Start-Date: 2026-12-07  05:00:00\nCommandline: " + "x" * 10_000
    stanza = long_command + "\nInstall: a:amd64 (1)\nEnd-Date: 2026-12-07  05:00:01\n"
    (apt,) = parse_apt_history(stanza.encode())
    assert len(apt.command) == MAX_EVIDENCE_TEXT
    garbage = b"\x00\xff not a log\n2026-13-45 99:99:99 install a:all <none> 1\n\n\n"
    assert parse_dpkg_log(garbage) == ()
    assert parse_apt_history(garbage) == ()
    assert parse_wtmp(b"not base64 !!!") == ((), None)


def utmp(kind: int, line: str, user: str, host: str, sec: int) -> bytes:
    return struct.pack(
        "<hxxi32s4s32s256shhiii16s20x",
        kind, 100, line.encode(), b"ts/0", user.encode(), host.encode(), 0, 0, 0, sec, 0, b"",
    )  # fmt: skip


def test_wtmp_boot_closes_sessions_and_a_tail_is_aligned_from_the_end() -> None:
    body = (
        utmp(7, "pts/0", "alice", "10.0.0.1", 1000)
        + utmp(2, "~", "reboot", "6.1", 2000)  # a crash: no logout, then a boot
        + utmp(7, "pts/0", "bob", "", 3000)
    )
    logins, since = parse_wtmp(base64.b64encode(body))
    assert [(s.user, s.start, s.end) for s in logins] == [
        ("alice", 1000, 2000),
        ("bob", 3000, None),
    ]
    assert since == 1000
    # the tail asked for is two records, and it begins mid-record (a file that is not whole)
    asked = 2 * UTMP_SIZE
    tail = (b"\x01" * 100 + body)[-asked:]
    logins, _ = parse_wtmp(base64.b64encode(tail), asked)
    assert [s.user for s in logins] == ["bob"]


def test_rpm_install_times() -> None:
    raw = b"1765000000 bash 5.2.26-3.el10\nnot a line\n1765000100 acme-debug 0.9-1\n"
    found = parse_rpm_times(raw)
    assert [(t.source, t.start, t.changes[0].package, t.changes[0].version) for t in found] == [
        ("rpm", 1765000000, "bash", "5.2.26-3.el10"),
        ("rpm", 1765000100, "acme-debug", "0.9-1"),
    ]


def test_section_notes_what_could_not_be_read() -> None:
    raws = {
        records.TZ: RawSection("0", b"zone /usr/share/zoneinfo/Etc/UTC\n+0000\n"),
        records.DPKG_LOG: RawSection("unsupported", b"no /var/log/dpkg.log"),
        records.APT_HISTORY: RawSection("1", b"", b"tail: cannot open: Permission denied"),
        records.RPM_TIMES: RawSection("unsupported", b"no rpm"),
        records.WTMP: None,
    }
    section = records_section(raws)
    assert section.ok
    assert section.value().notes == (
        "dpkg.log: no /var/log/dpkg.log",
        "apt history exited 1: tail: cannot open: Permission denied",
        "rpm: no rpm",
        "wtmp: not in the collector's output",
    )
