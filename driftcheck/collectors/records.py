"""What a host's own records say about how its packages and files came to be, for evidence
(collect.sh `dc_records`): bounded tails of dpkg.log and apt's history.log, rpm's install time
of each package, the last wtmp records (binary utmp, base64) and the host's time zone.

Evidence is never drift, and a host's records are never trusted: every parser takes what it
can read and skips the rest, keeps at most the newest MAX_EVIDENCE_EVENTS entries, and cuts
every value at MAX_EVIDENCE_TEXT characters. Nothing here fails a host.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import re
import struct
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from driftcheck.collectors.sections import UNSUPPORTED, RawSection, text
from driftcheck.limits import (
    EVIDENCE_LOG_BYTES,
    MAX_EVIDENCE_EVENTS,
    MAX_EVIDENCE_TEXT,
    WTMP_RECORDS,
)
from driftcheck.model import (
    DeclaredState,
    HostRecords,
    Login,
    Outcome,
    PackageChange,
    Section,
    Transaction,
)

# Section names; collect.sh prints the same words.
TZ, DPKG_LOG, APT_HISTORY, RPM_TIMES, WTMP = (
    "records.tz",
    "records.dpkg",
    "records.apt",
    "records.rpm",
    "records.wtmp",
)
SECTIONS = (TZ, DPKG_LOG, APT_HISTORY, RPM_TIMES, WTMP)
UTMP_SIZE = 384  # struct utmp on Linux x86_64 and aarch64 (glibc)
WTMP_BYTES = WTMP_RECORDS * UTMP_SIZE


def wants_records(state: DeclaredState) -> bool:
    """Records are collected whenever a package or file finding can arise (and so be
    explained): declared packages or files, unexpected packages, modified config, peers."""
    return bool(
        state.packages
        or state.files
        or state.unexpected_packages == "report"
        or state.modified_config == "report"
        or state.peers
    )


def records_calls(state: DeclaredState) -> list[str]:
    return [f"dc_records {EVIDENCE_LOG_BYTES} {WTMP_BYTES}"] if wants_records(state) else []


def bounded(value: str, limit: int = MAX_EVIDENCE_TEXT) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _tail(raw: bytes, size: int = EVIDENCE_LOG_BYTES) -> bytes:
    """At most the last `size` bytes (a host may send more than it was asked for), from the
    first whole line."""
    if len(raw) <= size:
        return raw
    cut = raw[-size:]
    return cut[cut.find(b"\n") + 1 :]


def _newest(found: Iterable[Transaction]) -> tuple[Transaction, ...]:
    kept = sorted(found, key=lambda t: t.start)
    return tuple(kept[-MAX_EVIDENCE_EVENTS:])


# --- the host's time zone ---------------------------------------------------------------------

_ZONE = re.compile(r"(?:[A-Za-z0-9_+-]+/){0,3}[A-Za-z0-9_+-]+")
_OFFSET = re.compile(r"([+-])(\d\d)(\d\d)")


def parse_tz(raw: bytes) -> tzinfo:
    """The host's time zone from `zone TARGET` (readlink /etc/localtime) and `date +%z`: the
    named zone where this machine knows it (daylight saving time read right for old log
    lines), else the host's offset now, else UTC."""
    zone, offset = "", ""
    for line in text(raw[:4096]).splitlines():
        if line.startswith("zone "):
            zone = line.removeprefix("zone ").strip()
        elif _OFFSET.fullmatch(line.strip()):
            offset = line.strip()
    name = zone.split("zoneinfo/", 1)[1] if "zoneinfo/" in zone else ""
    if name and _ZONE.fullmatch(name) and ".." not in name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass
    m = _OFFSET.fullmatch(offset)
    if m:
        minutes = int(m.group(2)) * 60 + int(m.group(3))
        if minutes < 24 * 60:
            return timezone(timedelta(minutes=-minutes if m.group(1) == "-" else minutes))
    return UTC


def _local(day: str, clock: str, zone: tzinfo) -> float | None:
    try:
        moment = datetime.strptime(f"{day} {clock}", "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None
    return moment.replace(tzinfo=zone).timestamp()


# --- dpkg.log -------------------------------------------------------------------------------

DPKG_ACTIONS = ("install", "upgrade", "remove", "purge", "configure")
_DPKG_LINE = re.compile(
    r"(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d) (install|upgrade|remove|purge|configure) "
    r"([^\s:]+)(?::\S+)? (\S+) (\S+)"
)


def parse_dpkg_log(raw: bytes, zone: tzinfo = UTC) -> tuple[Transaction, ...]:
    """`DATE TIME ACTION PACKAGE[:ARCH] VERSION VERSION` lines of dpkg.log (the collector keeps
    only these actions): install and upgrade name the old and the new version, remove, purge
    and configure the version and `<none>`. Other lines (a cut first line) are skipped."""

    def entries() -> Iterator[Transaction]:
        for line in text(_tail(raw)).splitlines():
            m = _DPKG_LINE.fullmatch(line.strip())
            when = _local(m.group(1), m.group(2), zone) if m else None
            if m is None or when is None:
                continue
            action, package, first, second = m.group(3, 4, 5, 6)
            version = second if action in ("install", "upgrade") else first
            change = PackageChange(action, _word(package), _word(version.strip("<>")))
            yield Transaction("dpkg.log", when, when, (change,))

    return _newest(entries())


def _word(value: str) -> str:
    return sys.intern(bounded(value))


# --- apt's history.log ---------------------------------------------------------------------

APT_ACTIONS = {
    "Install": "install",
    "Upgrade": "upgrade",
    "Downgrade": "downgrade",
    "Reinstall": "reinstall",
    "Remove": "remove",
    "Purge": "purge",
}
_APT_DATE = re.compile(r"(\d{4}-\d\d-\d\d)\s+(\d\d:\d\d:\d\d)")
# `name:arch (version[, version][, automatic])`; Debian names and versions hold no ( ) or ,
_APT_ENTRY = re.compile(r"([^\s,():]+)(?::[^\s,()]+)? \(([^()]*)\)")


def parse_apt_history(raw: bytes, zone: tzinfo = UTC) -> tuple[Transaction, ...]:
    """Stanzas of `Start-Date:`, `Commandline:`, `Requested-By:`, the package lists (Install,
    Upgrade, Remove, ...) and `End-Date:`, separated by blank lines. A stanza without its
    Start-Date (the cut first one) is skipped."""
    found = []
    for stanza in re.split(r"\n\s*\n", text(_tail(raw))):
        fields = _fields(stanza)
        start = _apt_time(fields.get("Start-Date", ""), zone)
        if start is None:
            continue
        changes = tuple(
            change
            for key, action in APT_ACTIONS.items()
            for change in _apt_changes(fields.get(key, ""), action)
        )
        if not changes:
            continue
        user = fields.get("Requested-By", "")
        found.append(
            Transaction(
                "apt history",
                start,
                _apt_time(fields.get("End-Date", ""), zone),
                changes,
                command=bounded(fields.get("Commandline", "")),
                user=bounded(user.rsplit(" (", 1)[0] if user.endswith(")") else user),
            )
        )
    return _newest(found)


def _fields(stanza: str) -> dict[str, str]:
    fields = {}
    for line in stanza.splitlines():
        key, sep, value = line.partition(": ")
        if sep and key.replace("-", "").isalpha():
            fields[key] = value.strip()
    return fields


def _apt_time(value: str, zone: tzinfo) -> float | None:
    m = _APT_DATE.fullmatch(value)
    return _local(m.group(1), m.group(2), zone) if m else None


def _apt_changes(value: str, action: str) -> Iterator[PackageChange]:
    for m in _APT_ENTRY.finditer(value):
        versions = [v.strip() for v in m.group(2).split(",") if v.strip() != "automatic"]
        version = versions[-1] if versions else ""  # Upgrade: (old, new)
        yield PackageChange(action, _word(m.group(1)), _word(version))


# --- rpm ------------------------------------------------------------------------------------

_RPM_LINE = re.compile(r"(\d{1,12}) (\S+) (\S+)")


def parse_rpm_times(raw: bytes) -> tuple[Transaction, ...]:
    """`INSTALLTIME NAME VERSION-RELEASE` per installed package (rpm keeps no log, only when
    each installed package was installed)."""

    def entries() -> Iterator[Transaction]:
        for line in text(_tail(raw, MAX_EVIDENCE_EVENTS * 200)).splitlines():
            m = _RPM_LINE.fullmatch(line.strip())
            if m:
                when = float(m.group(1))
                change = PackageChange("install", _word(m.group(2)), _word(m.group(3)))
                yield Transaction("rpm", when, when, (change,))

    return _newest(entries())


# --- wtmp -----------------------------------------------------------------------------------

# struct utmp (glibc, Linux x86_64/aarch64): type, pid, line, id, user, host, exit, session,
# tv_sec, tv_usec, addr_v6, reserved; little-endian, 32-bit times.
_UTMP = struct.Struct("<hxxi32s4s32s256shhiii16s20x")
assert _UTMP.size == UTMP_SIZE
BOOT_TIME, USER_PROCESS, DEAD_PROCESS, RUN_LVL = 2, 7, 8, 1
_TYPES = range(0, 10)


def parse_wtmp(raw: bytes, asked: int = WTMP_BYTES) -> tuple[tuple[Login, ...], float | None]:
    """Login sessions from the base64 of wtmp's last `asked` bytes: a USER_PROCESS record opens
    a session on its line, a DEAD_PROCESS on that line (or a boot, a shutdown) closes it.
    Returns the sessions and the time of the first record read (before it nothing is known)."""
    try:
        data = base64.b64decode(b"".join(raw[: asked * 2].split()), validate=True)
    except (binascii.Error, ValueError):
        return (), None
    data = data[-asked:]
    # The whole file came back (shorter than asked): records start at its start; else the tail
    # ends at the file's end, which is a record's end.
    skip = 0 if len(data) < asked else len(data) % UTMP_SIZE
    open_: dict[str, Login] = {}
    sessions: list[Login] = []
    first: float | None = None
    for offset in range(skip, len(data) - UTMP_SIZE + 1, UTMP_SIZE):
        kind, _pid, line, _id, user, host, _t, _e, _s, sec, usec, _a = _UTMP.unpack_from(
            data, offset
        )
        if kind not in _TYPES or sec <= 0:
            continue
        when = sec + max(0, min(usec, 999_999)) / 1e6
        first = when if first is None else min(first, when)
        tty = _c_string(line)
        if kind == USER_PROCESS and tty:
            ended = open_.pop(tty, None)
            if ended is not None:
                sessions.append(_closed(ended, when))
            open_[tty] = Login(_c_string(user), tty, _c_string(host), when, None)
        elif kind == DEAD_PROCESS and tty in open_:
            sessions.append(_closed(open_.pop(tty), when))
        elif kind == BOOT_TIME or (kind == RUN_LVL and _c_string(user) == "shutdown"):
            sessions += [_closed(s, when) for s in open_.values()]
            open_.clear()
    sessions += open_.values()
    return tuple(sorted(sessions, key=lambda s: s.start)), first


def _c_string(field: bytes) -> str:
    return bounded(text(field.split(b"\0", 1)[0]), 256)


def _closed(session: Login, when: float) -> Login:
    return Login(session.user, session.line, session.host, session.start, max(when, session.start))


# --- the section ----------------------------------------------------------------------------


def records_section(
    raws: Mapping[str, RawSection | None],
) -> Section[Callable[[], HostRecords]]:
    """The records, parsed on first use (most hosts have nothing to explain), and parsed once
    for the hosts that sent the same bytes (hosts cloned from one image share their logs)."""
    key = _digest(raws)
    parsed = _PARSED.get(key)
    if parsed is None:
        parsed = functools.cache(functools.partial(parse_records, dict(raws)))
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.clear()
        _PARSED[key] = parsed
    return Section(Outcome.COLLECTED, parsed)


_PARSED: dict[bytes, Callable[[], HostRecords]] = {}
_PARSED_MAX = 64


def _digest(raws: Mapping[str, RawSection | None]) -> bytes:
    hasher = hashlib.blake2b(digest_size=16)
    for name in sorted(raws):
        raw = raws[name]
        parts = [name.encode()] + (
            [] if raw is None else [raw.status.encode(), raw.body, raw.stderr]
        )
        for part in parts:  # each with its length: no two sets of sections read the same
            hasher.update(len(part).to_bytes(8, "big") + part)
        hasher.update(b"-" if raw is None else b"+")
    return hasher.digest()


def parse_records(raws: Mapping[str, RawSection | None]) -> HostRecords:
    """Whatever could be read; a log that is not there or not readable is a note, never a
    failure (evidence is a courtesy, not a check)."""
    tz_raw = raws.get(TZ)
    zone = parse_tz(tz_raw.body) if tz_raw is not None and tz_raw.rc == 0 else UTC
    notes: list[str] = []
    transactions: list[Transaction] = []
    logins: tuple[Login, ...] = ()
    since = None
    for name, what in ((DPKG_LOG, "dpkg.log"), (APT_HISTORY, "apt history"), (RPM_TIMES, "rpm")):
        raw = _usable(raws.get(name), what, notes)
        if raw is None:
            continue
        if name == DPKG_LOG:
            transactions += parse_dpkg_log(raw, zone)
        elif name == APT_HISTORY:
            transactions += parse_apt_history(raw, zone)
        else:
            transactions += parse_rpm_times(raw)
    raw = _usable(raws.get(WTMP), "wtmp", notes)
    if raw is not None:
        logins, since = parse_wtmp(raw)
    return HostRecords(tuple(transactions), logins, since, tuple(notes))


def _usable(raw: RawSection | None, what: str, notes: list[str]) -> bytes | None:
    if raw is None:
        notes.append(f"{what}: not in the collector's output")
        return None
    if raw.status == UNSUPPORTED:
        notes.append(bounded(f"{what}: {text(raw.body[:400]).strip()}"))
        return None
    if raw.rc != 0:
        notes.append(bounded(raw.failure(what)))
        return None
    return raw.body
