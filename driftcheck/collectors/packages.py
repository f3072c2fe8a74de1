"""Installed packages from each manager's machine format: dpkg-query -W -f, rpm -qa
--queryformat, and apk's installed database. Commands: see collect.sh.

A line that is not a record makes the whole parse fail (ParseError): a skipped line could hide
an installed package, and a hidden package is a false "compliant". Known warning lines are the
one exception.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from types import MappingProxyType

from driftcheck.collectors.sections import ParseError, lines
from driftcheck.errors import LimitError
from driftcheck.limits import MAX_APK_LINES, MAX_PACKAGES
from driftcheck.model import Package

# dpkg states in which the package's files are all there and configured (triggers may be
# pending). half-installed, unpacked, half-configured and config-files (removed, "rc") are not.
DPKG_INSTALLED = frozenset({"installed", "triggers-awaited", "triggers-pending"})
# ${db:Status-Abbrev} (dpkg >= 1.16.2): want, status and error flag in 3 bytes, where ${Status}
# takes ~20; the middle one is the status.
DPKG_ABBREV = {
    "n": "not-installed",
    "c": "config-files",
    "H": "half-installed",
    "U": "unpacked",
    "F": "half-configured",
    "W": "triggers-awaited",
    "t": "triggers-pending",
    "i": "installed",
}
_DPKG_WANT, _DPKG_ERROR = frozenset("uihrp"), frozenset(" R")
# Every well-formed abbreviated status of an installed package (`ii `, `hi `, `it `...): one set
# lookup for the usual line instead of decoding it.
_DPKG_INSTALLED_ABBREV = frozenset(
    f"{want}{abbrev}{error}"
    for want in _DPKG_WANT
    for abbrev, status in DPKG_ABBREV.items()
    if status in DPKG_INSTALLED
    for error in _DPKG_ERROR
)
# One Package object per distinct record, shared by every host that has it: a fleet's hosts
# mostly run the same packages, so most records cost a lookup instead of a new object (a frozen
# dataclass costs ~0.5 us to build: 0.4 ms of a 770-package host) and the fleet keeps one copy.
_SHARED: dict[tuple[str, str, str, str], Package] = {}
_SHARED_MAX = 1 << 16  # distinct records kept (~16 MB); beyond, the table starts over

# Lines a tool may print among its records (e.g. when stderr was merged into stdout).
_WARNING_PREFIXES = ("dpkg-query: warning:", "dpkg: warning:", "warning:", "error: db5 error")
_WARNING_FIRST = frozenset("dDwWeE")  # a line can start a warning only with one of these


def _records(raw: bytes, fields: int, tool: str) -> Iterator[list[str]]:
    warning = False
    for n, line in enumerate(lines(raw, MAX_PACKAGES, f"{tool} output"), 1):
        # A warning may go on over indented lines (dpkg-query's "near line N" warnings do).
        first = line[:1]
        if first in _WARNING_FIRST and line.lower().startswith(_WARNING_PREFIXES):
            warning = True
            continue
        if (warning and first == " ") or not line or line.isspace():
            continue
        warning = False
        parts = line.split("\t")
        if len(parts) != fields:
            raise ParseError(f"{tool} line {n}: not a package record: {line[:80]!r}")
        yield parts


def parse_dpkg(raw: bytes) -> list[Package]:
    """`${db:Status-Abbrev}\\t${Package}\\t${Version}\\t${Architecture}` lines (or with the
    long `${Status}`, as captured before); installed ones only (held packages included: a hold
    is a wish, not a state)."""
    packages = []
    for status, name, version, arch in _records(raw, 4, "dpkg-query"):
        if status not in _DPKG_INSTALLED_ABBREV and _dpkg_status(status) not in DPKG_INSTALLED:
            continue
        if not name or not version:
            raise ParseError(f"dpkg-query: an installed package without name or version: {name!r}")
        packages.append(package(name, version, arch, "dpkg"))
    return packages


def package(name: str, version: str, arch: str, manager: str) -> Package:
    """The shared Package for this record (see _SHARED); equal to a new one in every way."""
    key = (name, version, arch, manager)
    found = _SHARED.get(key)
    if found is None:
        if len(_SHARED) >= _SHARED_MAX:
            _SHARED.clear()
        found = _SHARED[key] = Package(name, version, arch, manager)
    return found


def _dpkg_status(status: str) -> str:
    """The status word of `ii ` (abbreviated) or `install ok installed`."""
    abbrev = len(status) == 3 and status[0] in _DPKG_WANT and status[2] in _DPKG_ERROR
    if abbrev and status[1] in DPKG_ABBREV:
        return DPKG_ABBREV[status[1]]
    words = status.split()
    if not words:
        raise ParseError(
            "dpkg-query printed no package status (db:Status-Abbrev needs dpkg 1.16.2+)"
        )
    if len(words) != 3:
        raise ParseError(f"dpkg-query: not a package status: {status[:80]!r}")
    return words[2]


def parse_rpm(raw: bytes) -> list[Package]:
    """`%{NAME}\\t%{EPOCH}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}` lines. The version is rpm's
    `[epoch:]version-release`. gpg-pubkey entries are keys in the database, not packages."""
    packages = []
    for name, epoch, version, release, arch in _records(raw, 5, "rpm"):
        if name == "gpg-pubkey":
            continue
        if not name or not version:
            raise ParseError(f"rpm: a package without name or version: {name!r}")
        evr = f"{version}-{release}" if release != "(none)" else version
        if epoch not in ("(none)", ""):
            evr = f"{epoch}:{evr}"
        packages.append(package(name, evr, "" if arch == "(none)" else arch, "rpm"))
    return packages


def parse_apk(raw: bytes) -> list[Package]:
    """apk's /lib/apk/db/installed: blank-line separated stanzas of `K:value` lines
    (P: name, V: version, A: arch). Every stanza there is an installed package."""
    found: list[Package] = []
    for n, stanza in _apk_stanzas(lines(raw, MAX_APK_LINES, "apk database")):
        if len(found) >= MAX_PACKAGES:
            raise LimitError(f"apk database: more than {MAX_PACKAGES:,} packages")
        found.append(_apk_package(stanza, n))
    return found


def _apk_stanzas(lines: Iterable[str]) -> Iterator[tuple[int, dict[str, str]]]:
    stanza: dict[str, str] = {}
    first = 0
    for n, line in enumerate(lines, 1):
        if not line.strip():
            if stanza:
                yield first, stanza
            stanza = {}
            continue
        if line[1:2] != ":":
            raise ParseError(f"apk database line {n}: not a `K:value` line: {line[:80]!r}")
        first = first if stanza else n
        stanza.setdefault(line[0], line[2:])
    if stanza:
        yield first, stanza


def _apk_package(stanza: Mapping[str, str], line: int) -> Package:
    if not stanza.get("P") or not stanza.get("V"):
        raise ParseError(f"apk database line {line}: a package without P: or V:")
    return package(stanza["P"], stanza["V"], stanza.get("A", ""), "apk")


def by_name(packages: Iterable[Package]) -> dict[str, tuple[Package, ...]]:
    """name -> every installed instance (several architectures, or several managers)."""
    grouped: dict[str, list[Package]] = {}
    for p in packages:
        grouped.setdefault(p.name, []).append(p)
    return {
        name: (found[0],) if len(found) == 1 else tuple(sorted(found, key=_instance_order))
        for name, found in sorted(grouped.items())
    }


def _instance_order(p: Package) -> tuple[str, str, str]:
    return (p.manager, p.arch, p.version)


Installed = Mapping[str, tuple[Package, ...]]
# The last few package lists parsed, by the raw bytes each manager printed: hosts built from one
# image print the same bytes, and their list is parsed once and shared (read-only). A host whose
# output differs is parsed as before; a parse error is never kept, every host gets its own.
_PARSED: OrderedDict[tuple[tuple[str, bytes], ...], Installed] = OrderedDict()
_PARSED_MAX = 16
_PARSED_LOCK = threading.Lock()
# Only lists up to this size are kept (a real host's is 30-300 KB): a kept list holds its raw
# bytes and parsed records alive, and large distinct lists would hold 16 x 64 MiB to share none.
_PARSED_BYTES_MAX = 1 << 20


def installed(
    outputs: Sequence[tuple[str, bytes]], parsers: Mapping[str, Callable[[bytes], list[Package]]]
) -> Installed:
    """name -> every installed instance, from (manager, raw output) pairs parsed by
    `parsers[manager]`. Raises ParseError or LimitError as the parser does."""
    key = tuple(outputs)
    if sum(len(raw) for _, raw in outputs) > _PARSED_BYTES_MAX:
        return _parse(outputs, parsers)
    with _PARSED_LOCK:
        found = _PARSED.get(key)
        if found is not None:
            _PARSED.move_to_end(key)
            return found
    parsed = _parse(outputs, parsers)
    with _PARSED_LOCK:
        _PARSED[key] = parsed
        while len(_PARSED) > _PARSED_MAX:
            _PARSED.popitem(last=False)
    return parsed


def _parse(
    outputs: Sequence[tuple[str, bytes]], parsers: Mapping[str, Callable[[bytes], list[Package]]]
) -> Installed:
    return MappingProxyType(by_name([p for manager, raw in outputs for p in parsers[manager](raw)]))
