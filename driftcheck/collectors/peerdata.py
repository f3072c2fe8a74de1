"""What peers and `modified_config` need beyond the declared items, from the same round trip:
every service unit (collect.sh `dc_all_units`) and every package config file (`dc_conffiles`).

Section names are named here once for Python; collect.sh prints the same words.
"""

from __future__ import annotations

import json
import stat as st
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from driftcheck.collectors.files import epoch, file_type
from driftcheck.collectors.sections import UNSUPPORTED, ParseError, RawSection, text
from driftcheck.model import ConfFile, DeclaredState, Outcome, Section, ServiceState
from driftcheck.model.shared import Memo

UNIT_FILES = "units.files"  # systemctl list-unit-files --type=service --output=json
UNITS_LOADED = "units.loaded"  # systemctl list-units --all --type=service --output=json
CONFFILES_DPKG = "conffiles.dpkg"  # dpkg-query -W -f '${Package}\n${Conffiles}\n'
CONFFILES_RPM = "conffiles.rpm"  # rpm -qa --queryformat '[FLAGS ALGO DIGEST NAME PATH]' | grep
# after a manager's section: its digest tool (regular files only) and
# `stat -c '%f %U %G %Y %Z %n'`
SUM, STAT = (".sum", ".stat")
SECTIONS = (
    UNIT_FILES,
    UNITS_LOADED,
    *(m + part for m in (CONFFILES_DPKG, CONFFILES_RPM) for part in ("", SUM, STAT)),
)
# rpm's FILEDIGESTALGO numbers (OpenPGP hash ids); the collector digests rpm's files with sha256sum
RPM_ALGORITHMS = {"1": "md5", "2": "sha1", "8": "sha256", "9": "sha384", "10": "sha512"}
Recorded = tuple[str, str, str, bool]  # (package, algorithm, digest, missing is fine)

_DPKG_NOISE = ("dpkg-query:", "dpkg:")  # warning lines (stderr is merged into this section)
_MD5_HEX = frozenset("0123456789abcdef")
_HEX = frozenset("0123456789abcdefABCDEF")


# --- units -----------------------------------------------------------------------------------


def _json_rows(raw: bytes, tool: str, keys: tuple[str, ...]) -> Iterator[Mapping[str, Any]]:
    try:
        rows = json.loads(text(raw) or "[]")
    except json.JSONDecodeError as exc:
        raise ParseError(f"{tool}: not JSON: {exc.msg} (line {exc.lineno})") from exc
    if not isinstance(rows, list):
        raise ParseError(f"{tool}: expected a JSON list of units")
    for row in rows:
        if not isinstance(row, dict) or not all(isinstance(row.get(k), str) for k in keys):
            raise ParseError(f"{tool}: a unit without {', '.join(keys)}: {str(row)[:80]!r}")
        yield row


def parse_unit_files(raw: bytes) -> dict[str, str]:
    """unit file -> its enablement (enabled, disabled, static, masked, alias, ...)."""
    rows = _json_rows(raw, "systemctl list-unit-files", ("unit_file", "state"))
    return {row["unit_file"]: row["state"] for row in rows}


def parse_units_loaded(raw: bytes) -> dict[str, tuple[str, str]]:
    """loaded unit -> (load state, active state)."""
    rows = _json_rows(raw, "systemctl list-units", ("unit", "load", "active"))
    return {row["unit"]: (row["load"], row["active"]) for row in rows}


def merge_units(
    files: Mapping[str, str], loaded: Mapping[str, tuple[str, str]]
) -> dict[str, ServiceState]:
    """Every unit either list knows. A unit file that is not loaded is inactive (systemd
    unloads units nothing needs); an instance (getty@tty1) has no unit file of its own."""
    units = {}
    for name in sorted(set(files) | set(loaded)):
        load, active = loaded.get(name, ("not-loaded", "inactive"))
        units[name] = ServiceState(name, load, active, files.get(name, ""))
    return units


# --- package config files --------------------------------------------------------------------


def parse_dpkg_conffiles(raw: bytes) -> dict[str, tuple[str, str]]:
    """path -> (package, recorded md5) from `${Package}\\n${Conffiles}\\n` records: a package
    line, then ` PATH MD5 [obsolete|remove-on-upgrade...]` lines. Obsolete conffiles (no longer
    shipped) and entries without a recorded md5 (`newconffile`) are left out."""
    found: dict[str, tuple[str, str]] = {}
    package = ""
    for n, line in enumerate(text(raw).splitlines(), 1):
        if not line.strip() or line.startswith(_DPKG_NOISE):
            continue
        if not line.startswith(" "):
            if " " in line or "\t" in line:
                raise ParseError(f"dpkg-query line {n}: not a package name: {line[:80]!r}")
            package = line
            continue
        entry = _conffile_entry(line[1:])
        if entry is None:
            raise ParseError(f"dpkg-query line {n}: not a conffile entry: {line[:80]!r}")
        path, md5, flags = entry
        if not package:
            raise ParseError(f"dpkg-query line {n}: a conffile before any package")
        if "obsolete" not in flags and _is_md5(md5):
            found[path] = (package, md5)
    return found


def _conffile_entry(rest: str) -> tuple[str, str, tuple[str, ...]] | None:
    """`PATH MD5 [FLAG...]`: the path may hold spaces, so the md5 is found from the right."""
    words = rest.split(" ")
    for i in range(len(words) - 1, 0, -1):
        if _is_md5(words[i]) or words[i] == "newconffile":
            path = " ".join(words[:i])
            return (path, words[i], tuple(words[i + 1 :])) if path.startswith("/") else None
    return None


def _is_md5(word: str) -> bool:
    return len(word) == 32 and set(word) <= _MD5_HEX


def parse_rpm_conffiles(raw: bytes) -> dict[str, Recorded]:
    """path -> (package, algorithm, digest, missingok) from dc_conffiles_rpm's lines
    `FLAGS\tALGO\tDIGEST\tNAME\tPATH`, ended by `rpm-exit N`. Ghosts (flag g) are left out:
    rpm records no content for them."""
    found: dict[str, Recorded] = {}
    errors: list[str] = []
    status = None
    for n, line in enumerate(text(raw).splitlines(), 1):
        if line.startswith("rpm-exit "):
            status = line.removeprefix("rpm-exit ").strip()
        elif line.startswith("error:"):
            errors.append(line)
        elif line.strip():
            parts = line.split("\t", 4)
            if len(parts) != 5 or "c" not in parts[0] or not parts[4].startswith("/"):
                raise ParseError(f"rpm line {n}: not a config file record: {line[:80]!r}")
            flags, algo, digest, package, path = parts
            if "g" not in flags and digest:
                algorithm = RPM_ALGORITHMS.get(algo, f"algorithm {algo}")
                found[path] = (package, algorithm, digest, "m" in flags)
    if status != "0":
        said = f": {errors[0][:200]}" if errors else ""
        raise ParseError(f"rpm exited {status or '(output cut)'}{said}")
    return found


def parse_md5sum(raw: bytes) -> dict[str, str]:
    """path -> md5 from `md5sum -- PATH...` lines (`HEX  PATH`; a name with a backslash or a
    newline comes back escaped, the line then starting with a backslash)."""
    return _parse_sums(raw, 32)


def parse_sha256sum(raw: bytes) -> dict[str, str]:
    """path -> sha256 from `sha256sum -- PATH...` lines, as parse_md5sum."""
    return _parse_sums(raw, 64)


def _parse_sums(raw: bytes, length: int) -> dict[str, str]:
    sums = {}
    for line in text(raw).splitlines():
        escaped = line.startswith("\\")
        digest, sep, path = line.removeprefix("\\").partition("  ")
        if not sep or len(digest) != length or not set(digest) <= _MD5_HEX:
            continue  # a message, not a sum: that file stays without a digest
        sums[_unescape(path) if escaped else path] = digest
    return sums


def _unescape(path: str) -> str:
    return path.replace("\\n", "\n").replace("\\r", "\r").replace("\\\\", "\\")


ConfStat = tuple[str, str, str, str, int | None, int | None]


def parse_conffile_stat(raw: bytes) -> dict[str, ConfStat]:
    """path -> (mode as four octal digits, owner, group, type, mtime, ctime) from `stat -c
    '%f %U %G %Y %Z %n'` (%f: the raw mode in hex, type bits included; the times are evidence
    only). Lines without the times (`%f %U %G %n`: a path starts with "/") have None for them."""
    found = {}
    for line in text(raw).splitlines():
        parts = line.split(" ", 5)
        if len(parts) < 4 or not parts[0] or not set(parts[0]) <= _HEX:
            continue
        times: tuple[int | None, int | None] = (None, None)
        if len(parts) == 6 and parts[3].isdigit() and parts[4].isdigit():
            times = (epoch(parts[3]), epoch(parts[4]))
            path = parts[5]
        else:
            path = " ".join(parts[3:])
        raw_mode, owner, group = parts[:3]
        mode = int(raw_mode, 16)
        found[path] = (f"{st.S_IMODE(mode):04o}", owner, group, file_type(mode), *times)
    return found


def conffiles(
    recorded: Mapping[str, Recorded],
    sums: Mapping[str, str],
    stats: Mapping[str, ConfStat],
    algorithm: str,
) -> dict[str, ConfFile]:
    """Every config file the package manager knows, with what it is now (`sums` made with
    `algorithm`). Not stat-able: missing (stat's error went to the section's stderr); not a
    regular file: its type, never a digest (the collector opens none); a regular file without a
    digest: unreadable, or recorded with another algorithm than the collector's."""
    files = {}
    for path, (package, recorded_with, digest, missing_ok) in sorted(recorded.items()):
        stat = stats.get(path)
        if stat is None:
            files[path] = ConfFile(
                path, package, recorded_with, digest, error="missing", missing_ok=missing_ok
            )
            continue
        mode, owner, group, kind, mtime, ctime = stat
        now = sums.get(path) if recorded_with == algorithm and kind == "file" else None
        error = "" if now is not None or kind != "file" else "not readable"
        if recorded_with != algorithm:
            error = f"recorded as {recorded_with}, which is not checked"
        files[path] = ConfFile(
            path, package, recorded_with, digest, digest=now, mode=mode, owner=owner,
            group=group, error=error, missing_ok=missing_ok, type=kind, mtime=mtime, ctime=ctime,
        )  # fmt: skip
    return files


# --- sections ----------------------------------------------------------------------------------


def _not(outcome: Outcome, reason: str) -> Section[Any]:
    return Section(outcome, None, reason)


def wants_units(state: DeclaredState) -> bool:
    return bool(state.peers)


def wants_conffiles(state: DeclaredState) -> bool:
    return bool(state.peers) or state.modified_config == "report"


def units_section(files: RawSection, loaded: RawSection) -> Section[Mapping[str, ServiceState]]:
    for raw, tool in ((files, "systemctl list-unit-files"), (loaded, "systemctl list-units")):
        if raw.rc != 0:
            return _not(Outcome.FAILED, raw.failure(tool))
    try:
        units = merge_units(parse_unit_files(files.body), parse_units_loaded(loaded.body))
    except ParseError as exc:
        return _not(Outcome.FAILED, str(exc))
    return Section(Outcome.COLLECTED, units)


def conffiles_section(
    listing: RawSection, sums: RawSection | None, stat: RawSection | None, manager: str
) -> Section[Mapping[str, ConfFile]]:
    """One package manager's config files. The digest tool and stat exit non-zero when a file
    is missing: that is data, not a failure."""
    if listing.status == UNSUPPORTED:
        return _not(Outcome.UNSUPPORTED, text(listing.body).strip() or f"no {manager}")
    if listing.rc != 0:
        said = text(listing.body).strip().splitlines()
        why = f": {said[0][:200]}" if said else ""
        return _not(Outcome.FAILED, f"{manager} exited {listing.status}{why}")
    if sums is None or stat is None:
        return _not(Outcome.FAILED, f"the digests or modes of {manager}'s config files are missing")
    try:
        files = _conffiles_of((manager, listing.body, sums.body, stat.body))
    except ParseError as exc:
        return _not(Outcome.FAILED, str(exc))
    return Section(Outcome.COLLECTED, files)


def _parse_conffiles(sections: tuple[str, bytes, bytes, bytes]) -> dict[str, ConfFile]:
    manager, listing, sums, stat = sections
    if manager == "dpkg":
        recorded = {p: (pkg, "md5", md5, False) for p, (pkg, md5) in
                    _dpkg_conffiles(listing).items()}  # fmt: skip
        now, algorithm = parse_md5sum(sums), "md5"
    else:
        recorded, now, algorithm = parse_rpm_conffiles(listing), parse_sha256sum(sums), "sha256"
    return conffiles(recorded, now, parse_conffile_stat(stat), algorithm)


# Hosts of one package set list the same config files with the same recorded digests; hosts
# cloned from one image send the same sections whole: each is parsed once, the result shared.
_dpkg_conffiles = Memo(parse_dpkg_conffiles, size=16)
_conffiles_of = Memo(_parse_conffiles, size=16)


def merge_conffiles(
    sections: Sequence[Section[Mapping[str, ConfFile]]],
) -> Section[Mapping[str, ConfFile]]:
    """Every manager's config files; failed if one failed, unsupported if none is there."""
    failed = [s.reason for s in sections if s.outcome is Outcome.FAILED]
    if failed:
        return _not(Outcome.FAILED, failed[0])
    found = [s.value for s in sections if s.ok]
    if not found:
        return _not(Outcome.UNSUPPORTED, "; ".join(s.reason for s in sections))
    return Section(Outcome.COLLECTED, {p: c for files in found for p, c in files.items()})
