"""OpenSSH known_hosts files, parsed once into an index a fleet can query per host cheaply.

Semantics follow openssh-portable `hostfile.c` (`hostkeys_foreach_file`, `check_markers`,
`match_maybe_hashed`) and `match.c` (`match_pattern`, `match_pattern_list`, `match_hostname`):
- a line is `[@marker] hosts keytype base64 [comment]`; a bad line is skipped, never fatal;
- `hosts` is a comma list of patterns (`*`, `?`, `!` negation; a negated match excludes the
  line, not the host) or one hashed name `|1|salt|hmac-sha1(salt, host)`.

Lookups do not scan the file: literal names sit in a dict, hashed names cost one HMAC per
distinct salt (inherent: a salted hash can only be tested, not inverted) and are remembered per
name, and only the few lines with wildcards or negations are matched one by one.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

PLAIN, CERT_AUTHORITY, REVOKED = "", "@cert-authority", "@revoked"
_MARKERS = {CERT_AUTHORITY, REVOKED}
_HASH_MAGIC = "|1|"
_SHA1_LEN = 20
_MAX_SUBPATTERN = 1023  # match.c: a subpattern of sizeof(sub) - 1 chars or more never matches
_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")

# sshkey.c key type names a known_hosts line may carry, by the key type they denote; the blob's
# own (canonical) name must denote the same type. Short names are matched case-insensitively.
_CANONICAL = (
    "ssh-ed25519",
    "sk-ssh-ed25519@openssh.com",
    "ssh-rsa",
    "ssh-dss",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ecdsa-sha2-nistp256@openssh.com",
    "ssh-xmss@openssh.com",
)
_ALIASES = {"rsa-sha2-256": "ssh-rsa", "rsa-sha2-512": "ssh-rsa"}
_SHORT = {
    "ed25519": ("ssh-ed25519",),
    "ed25519-sk": ("sk-ssh-ed25519@openssh.com",),
    "rsa": ("ssh-rsa",),
    "dsa": ("ssh-dss",),
    "ecdsa": ("ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521"),
    "ecdsa-sk": ("sk-ecdsa-sha2-nistp256@openssh.com",),
    "xmss": ("ssh-xmss@openssh.com",),
}


def lower(text: str) -> str:
    """ASCII-only lowercase, as OpenSSH's `lowercase()`/`tolower` in the C locale."""
    return text.translate(_LOWER)


@dataclass(frozen=True)
class Entry:
    """One usable line: its marker, the key type named in its blob, the blob, where it is."""

    marker: str
    key_type: str
    blob: bytes
    path: Path
    line: int

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class Pattern:
    """A compiled `hosts` field: (negated, regex or None when overlong) per subpattern."""

    items: tuple[tuple[bool, re.Pattern[str] | None], ...]

    def match(self, host: str) -> int:
        """`match_pattern_list(host, pattern, 1)`: 1 positive, -1 negated, 0 no match."""
        positive = 0
        for negated, regex in self.items:
            if regex is None:
                return 0
            if regex.fullmatch(host):
                if negated:
                    return -1
                positive = 1
        return positive


def compile_pattern(field_text: str) -> Pattern:
    items: list[tuple[bool, re.Pattern[str] | None]] = []
    for raw in field_text.split(","):
        negated = raw.startswith("!")
        sub = lower(raw[1:] if negated else raw)
        items.append((negated, None if len(sub) >= _MAX_SUBPATTERN else glob_regex(sub)))
    return Pattern(tuple(items))


def glob_regex(sub: str) -> re.Pattern[str]:
    # match.c knows only `*` (any run) and `?` (any one char); everything else is literal.
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in sub)
    return re.compile("".join(parts), re.DOTALL)


def match_hostname(host: str, patterns: str) -> int:
    """OpenSSH's `match_hostname`: the host lowercased, then `match_pattern_list`."""
    return compile_pattern(patterns).match(lower(host))


@dataclass
class Stats:
    """What lookups cost, counted so a test can prove they do not scan every line."""

    pattern_matches: int = 0
    hmacs: int = 0


@dataclass
class Index:
    """Every usable line of one file, indexed by how its host field can match."""

    path: Path
    literal: dict[str, list[Entry]] = field(default_factory=dict)
    hashed: dict[bytes, dict[bytes, list[Entry]]] = field(default_factory=dict)
    patterns: list[tuple[Pattern, Entry]] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)  # line numbers OpenSSH would skip too
    lines: int = 0
    marked: bool = False  # holds a @cert-authority or @revoked line, for any host
    stats: Stats = field(default_factory=Stats)
    _hashed_seen: dict[str, list[Entry]] = field(default_factory=dict)

    def lookup(self, host: str) -> list[Entry]:
        """The entries whose host field matches `host` (as OpenSSH names it), in file order."""
        host = lower(host)
        found = [*self.literal.get(host, ()), *self._lookup_hashed(host)]
        for pattern, entry in self.patterns:
            self.stats.pattern_matches += 1
            if pattern.match(host) == 1:
                found.append(entry)
        return sorted(found, key=lambda e: e.line)

    def add(self, hosts: str, entry: Entry) -> None:
        """Index one line's entry under its host field (parsing or after an append)."""
        self.marked = self.marked or entry.marker != PLAIN
        if hosts.startswith("|"):
            salt_digest = _hashed_name(hosts)
            if salt_digest is not None:
                salt, digest = salt_digest
                self.hashed.setdefault(salt, {}).setdefault(digest, []).append(entry)
                self._hashed_seen.clear()
            return
        names = hosts.split(",")
        if any(c in hosts for c in "*?!") or any(len(n) >= _MAX_SUBPATTERN for n in names):
            self.patterns.append((compile_pattern(hosts), entry))
            return
        for name in {lower(n) for n in names}:
            self.literal.setdefault(name, []).append(entry)

    def _lookup_hashed(self, host: str) -> list[Entry]:
        if not self.hashed:
            return []
        seen = self._hashed_seen.get(host)
        if seen is None:
            message = host.encode()
            seen = []
            for salt, table in self.hashed.items():
                seen += table.get(hmac.digest(salt, message, "sha1"), ())
            self.stats.hmacs += len(self.hashed)
            self._hashed_seen[host] = seen
        return seen


def _hashed_name(hosts: str) -> tuple[bytes, bytes] | None:
    """(salt, digest) of `|1|salt|hash`, or None if OpenSSH would never match it."""
    if not hosts.startswith(_HASH_MAGIC):
        return None
    salt_b64, sep, digest_b64 = hosts[len(_HASH_MAGIC) :].partition("|")
    try:
        salt = base64.b64decode(salt_b64, validate=True)
        digest = base64.b64decode(digest_b64, validate=True)
    except binascii.Error:
        return None
    if not sep or len(salt) != _SHA1_LEN or len(digest) != _SHA1_LEN:
        return None
    # OpenSSH compares the whole re-encoded string, so only the canonical spelling matches.
    if base64.b64encode(digest).decode() != digest_b64:
        return None
    return salt, digest


def parse(lines: Iterable[str], path: Path) -> Index:
    index = Index(path)
    number = 0
    for number, raw in enumerate(lines, 1):
        parsed = parse_line(raw, path, number)
        if isinstance(parsed, int):
            index.skipped.append(parsed)
        elif parsed is not None:
            index.add(*parsed)
    index.lines = number
    return index


def parse_file(path: Path) -> Index:
    with path.open("rb") as f:
        return parse((raw.decode("utf-8", "surrogateescape") for raw in f), path)


def parse_line(raw: str, path: Path, number: int) -> tuple[str, Entry] | int | None:
    """(hosts field, entry) for a usable line, None for a comment, the line number if bad."""
    text = raw.rstrip("\r\n").lstrip(" \t")
    if not text or text.startswith("#"):
        return None
    marker, text = _marker(text)
    if marker is None:
        return number
    hosts, sep, rest = _split_field(text)
    rest = rest.lstrip(" \t")
    if not sep or not rest or rest.startswith("#"):
        return number
    key = _key(rest)
    if key is None:
        return number
    return hosts, Entry(marker, key[0], key[1], path, number)


def _marker(text: str) -> tuple[str | None, str]:
    """hostfile.c `check_markers`: at most one known marker, ended by whitespace."""
    marker = PLAIN
    while text.startswith("@"):
        if marker != PLAIN:
            return None, text
        # As in C, the first space anywhere wins over an earlier tab.
        end = text.find(" ")
        end = text.find("\t") if end < 0 else end
        if end <= 1 or end >= 32 or text[:end] not in _MARKERS:
            return None, text
        marker, text = text[:end], text[end:].lstrip(" \t")
    return marker, text


def _split_field(text: str) -> tuple[str, str, str]:
    for i, c in enumerate(text):
        if c in " \t":
            return text[:i], c, text[i + 1 :]
    return text, "", ""


def _key(rest: str) -> tuple[str, bytes] | None:
    """(canonical type, blob) if the key parses as `sshkey_read` would accept it, else None."""
    declared, _, rest = _split_field(rest)
    b64, _, _ = _split_field(rest.lstrip(" \t"))
    try:
        blob = base64.b64decode(b64, validate=True)
    except binascii.Error:
        return None
    kind = _blob_type(blob)
    if kind is None or kind not in _denoted(declared):
        return None
    return kind, blob


def _denoted(declared: str) -> tuple[str, ...]:
    if declared in _CANONICAL:
        return (declared,)
    if declared in _ALIASES:
        return (_ALIASES[declared],)
    return _SHORT.get(declared.lower(), ())


def _blob_type(blob: bytes) -> str | None:
    if len(blob) < 4:
        return None
    (size,) = struct.unpack(">I", blob[:4])
    name = blob[4 : 4 + size]
    # A blob must hold more than its type name; a name alone is a truncated key.
    if len(name) != size or len(blob) <= 4 + size:
        return None
    kind = name.decode("ascii", "replace")
    return kind if kind in _CANONICAL else None
