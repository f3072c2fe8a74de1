"""ssh_config as OpenSSH (readconf.c, ssh.c) resolves it for one destination.

- The files: `-F FILE` (`none`: no file), else ~/.ssh/config then /etc/ssh/ssh_config. `Include`
  globs (sorted; relative to ~/.ssh in a user file, /etc/ssh in the system one) are read where
  they stand: inside a block that does not apply they are parsed and never match.
- Command-line options (Ansible's `-o`, `-i`, `-l`, `-p`, `-J`) come first; the first value
  obtained wins, IdentityFile and CertificateFile accumulate, a known_hosts list is taken whole
  from its first line, and ProxyCommand and ProxyJump exclude each other.
- `Host` patterns match the name as given (case matters); `Match host`/`originalhost` ignore
  case; `Match final` and `canonical` re-read the files with the resolved, lowercased HostName
  as ssh does. `Match exec` runs through the user's shell with checked names, under the deadline.
- A keyword OpenSSH does not know is an error, as it is for ssh (unless `IgnoreUnknown`); one
  that would change where, as whom or against which host keys ssh connects, and which
  driftcheck cannot follow, is an error naming its file and line (`check_supported`); the others
  have no bearing on a one-shot audit and are read and ignored.
"""

from __future__ import annotations

import glob
import ipaddress
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from driftcheck.backends.names import check_hostname
from driftcheck.backends.proxy import run_test
from driftcheck.backends.sshtokens import Connection, exec_command, expand, local_account, tilde
from driftcheck.backends.sshwords import KNOWN, Line, split_line, strdelim_words
from driftcheck.errors import TransportError

SYSTEM_DIR = "/etc/ssh"
_MAX_DEPTH = 16  # READCONF_MAX_DEPTH
_ACCUMULATED = ("identityfile", "certificatefile")
_WHOLE = ("userknownhostsfile", "globalknownhostsfile")
_PROXY = ("proxycommand", "proxyjump")
_UNSUPPORTED_MATCH = ("localnetwork", "version", "sessiontype", "command")

_FILES: dict[str, tuple[tuple[int, int, int], tuple[Line, ...]]] = {}
_LOCK = threading.Lock()


@dataclass(frozen=True)
class Source:
    """One config file and whether it is a user's (its relative Includes are under ~/.ssh)."""

    path: str
    user: bool


def sources(config: str | None) -> tuple[Source, ...]:
    """The files ssh reads: `-F FILE` alone (`none`: none), else the user's then the system's."""
    if config is not None:
        return () if config.lower() == "none" else (Source(tilde(config), True),)
    home = local_account().pw_dir
    return (Source(f"{home}/.ssh/config", True), Source(f"{SYSTEM_DIR}/ssh_config", False))


@dataclass
class Options:
    """Options as ssh holds them while reading: keyword -> value, where each came from."""

    values: dict[str, str] = field(default_factory=dict)
    lists: dict[str, list[str]] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)

    def get(self, key: str, default: str | None = None) -> str | None:
        return self.values.get(key, default)

    def set(self, line: Line) -> None:
        """Apply one active directive, OpenSSH's way (first obtained wins)."""
        key = line.keyword
        if key in _ACCUMULATED:
            self._add(key, line)
        elif key in _WHOLE:
            if key not in self.lists:
                self.lists[key] = list(line.words)
                self.origins[key] = line.origin
        elif key == "proxyjump":
            self._first(key, _jump_spec(line), line.origin, proxy=True)
        elif key in ("proxycommand", "knownhostscommand", "localcommand"):
            self._first(key, line.rest.lstrip(" \t="), line.origin, proxy=key == "proxycommand")
        elif line.words:
            self._first(key, line.words[0], line.origin)

    def _add(self, key: str, line: Line) -> None:
        if not line.words or not line.words[0]:
            raise TransportError(f"{line.origin}: missing argument")
        present = self.lists.setdefault(key, [])
        if line.words[0] not in present:
            present.append(line.words[0])
            self.origins.setdefault(key, line.origin)

    def _first(self, key: str, value: str, origin: str, *, proxy: bool = False) -> None:
        if proxy and any(k in self.values for k in _PROXY):
            return
        if key not in self.values:
            self.values[key] = value
            self.origins[key] = origin


def _jump_spec(line: Line) -> str:
    spec = line.rest.lstrip(" \t=").split("#", 1)[0].rstrip()
    for hop in spec.split(","):
        if not hop.strip() or any(c.isspace() for c in hop.strip()):
            raise TransportError(f"{line.origin}: invalid ProxyJump {spec!r}")
    return spec


def read_lines(path: str) -> tuple[Line, ...]:
    """A file's directives, parsed once per change (inode, size, mtime)."""
    st = os.stat(path)
    stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
    with _LOCK:
        cached = _FILES.get(path)
        if cached and cached[0] == stamp:
            return cached[1]
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        lines = tuple(
            line
            for number, text in enumerate(f, 1)
            if (line := split_line(text, f"{path} line {number}")) is not None
        )
    with _LOCK:
        _FILES[path] = (stamp, lines)
    return lines


class Reader:
    """One pass over the files for one destination (readconf.c read_config_file_depth)."""

    def __init__(
        self, options: Options, host: str, original: str, deadline: float, *, final: bool
    ) -> None:
        self.options = options
        self.host = host  # what `Host` patterns see
        self.original = original
        self.final = final
        self.deadline = deadline
        self.wants_final = False
        self.active = True

    def read(self, source: Source, *, required: bool) -> None:
        self.active = True
        try:
            self._file(source, never=False, depth=0)
        except FileNotFoundError as exc:
            if required:
                raise TransportError(f"cannot read ssh config {source.path}: {exc}") from exc
        except OSError as exc:
            raise TransportError(f"cannot read ssh config {source.path}: {exc}") from exc

    def _file(self, source: Source, *, never: bool, depth: int) -> None:
        for line in read_lines(source.path):
            self._line(line, source, never=never, depth=depth)

    def _line(self, line: Line, source: Source, *, never: bool, depth: int) -> None:
        key = line.keyword
        if key == "host":
            self.active = not never and host_matches(self.host, line.words)
        elif key == "match":
            self.active = self._match(line) and not never  # evaluated even so, as in ssh
        elif key == "include":
            self._include(line, source, never=never or not self.active, depth=depth)
        elif key not in KNOWN:
            if not _ignored(key, self.options.get("ignoreunknown")):
                raise TransportError(f"{line.origin}: bad configuration option {key!r}")
        elif self.active:
            self.options.set(line)

    def _include(self, line: Line, source: Source, *, never: bool, depth: int) -> None:
        if depth >= _MAX_DEPTH:
            raise TransportError(f"{line.origin}: Include nested too deep (a loop?)")
        outer = self.active
        for pattern in line.words:
            for path in _include_paths(pattern, source, line.origin):
                self.active = outer
                try:
                    self._file(Source(path, source.user), never=never, depth=depth + 1)
                except OSError as exc:
                    raise TransportError(f"{line.origin}: cannot read {path}: {exc}") from exc
        self.active = outer

    def _match(self, line: Line) -> bool:
        """readconf.c match_cfg_line: every criterion must hold; `exec` runs only if the ones
        before it held."""
        words = strdelim_words(line.rest, line.origin)
        result = True
        i = criteria = 0
        if not words:
            raise TransportError(f"{line.origin}: Match without criteria")
        while i < len(words):
            word = words[i]
            negate = word.startswith("!")
            kind = word.lstrip("!").lower()
            if kind == "all":
                if criteria > 1 or len(words) > i + 1:
                    raise TransportError(f"{line.origin}: 'all' cannot be combined")
                return result and not negate
            criteria += 1
            if kind in ("canonical", "final"):
                self.wants_final = self.wants_final or kind == "final"
                result = result and self.final != negate
                i += 1
                continue
            if i + 1 >= len(words):
                raise TransportError(f"{line.origin}: Match {kind} without an argument")
            arg = words[i + 1]
            i += 2
            if kind == "exec" and not result:
                continue
            result = result and self._criterion(kind, arg, line.origin) != negate
        return result

    def _criterion(self, kind: str, arg: str, origin: str) -> bool:
        options = self.options
        if kind == "host":
            return match_list(self._match_host().lower(), arg.lower()) == 1
        if kind == "originalhost":
            return match_list(self.original.lower(), arg.lower()) == 1
        if kind == "user":
            return match_list(options.get("user") or local_account().pw_name, arg) == 1
        if kind == "localuser":
            return match_list(local_account().pw_name, arg) == 1
        if kind == "tagged":
            return match_list(options.get("tag") or "", arg) == 1
        if kind == "exec":
            return self._exec(arg, origin)
        if kind in _UNSUPPORTED_MATCH:
            raise TransportError(f"{origin}: `Match {kind}` is not supported by driftcheck")
        raise TransportError(f"{origin}: unknown Match criterion {kind!r}")

    def _match_host(self) -> str:
        """The name `Match host` sees: in the final pass the resolved HostName, else HostName
        with its %h expanded (as ssh.c will), else the name given."""
        hostname = self.options.get("hostname")
        if self.final or not hostname:
            return hostname or self.host
        return expand(hostname, {"h": self.host}, environment=False, what="HostName")

    def _exec(self, command: str, origin: str) -> bool:
        host = check_hostname(self._match_host(), f"host name for Match exec ({origin})")
        options = self.options
        conn = Connection(
            host=host,
            original=self.original,
            port=int(options.get("port") or 22),
            user=options.get("user") or local_account().pw_name,
            alias=options.get("hostkeyalias") or host,
        )
        cmd = exec_command(command, conn, f"Match exec ({origin})")
        rc = run_test(cmd, self.deadline)
        if rc is None:
            raise TransportError(f"{origin}: Match exec {cmd!r} still running at the deadline")
        return rc == 0


def _include_paths(pattern: str, source: Source, origin: str) -> Iterator[str]:
    if "%" in pattern or "${" in pattern:
        # OpenSSH 9.2 takes these literally, later versions expand them: no guess.
        raise TransportError(f"{origin}: Include with % or ${{}} is not supported")
    if pattern.startswith("~") and not source.user:
        raise TransportError(f"{origin}: bad include path {pattern} (a system file)")
    if not pattern.startswith(("/", "~")):
        base = f"{local_account().pw_dir}/.ssh" if source.user else SYSTEM_DIR
        pattern = f"{base}/{pattern}"
    yield from sorted(glob.glob(tilde(pattern)))


def _ignored(keyword: str, patterns: str | None) -> bool:
    return bool(patterns) and match_list(keyword, (patterns or "").lower()) == 1


def host_matches(host: str, patterns: tuple[str, ...]) -> bool:
    """A `Host` line: any pattern matches and no negated one does (match_pattern, each alone,
    case-sensitive)."""
    matched = False
    for pattern in patterns:
        if pattern.startswith("!"):
            if match_pattern(host, pattern[1:]):
                return False
        elif match_pattern(host, pattern):
            matched = True
    return matched


def match_list(value: str, patterns: str) -> int:
    """match.c match_pattern_list: 1 if a pattern matches, -1 if a negated one does, else 0."""
    got = 0
    for pattern in patterns.split(","):
        if pattern.startswith("!"):
            if match_pattern(value, pattern[1:]):
                return -1
        elif match_pattern(value, pattern):
            got = 1
    return got


_PATTERNS: dict[str, re.Pattern[str]] = {}


def match_pattern(value: str, pattern: str) -> bool:
    """`*` and `?` wildcards, nothing else special."""
    compiled = _PATTERNS.get(pattern)
    if compiled is None:
        parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
        compiled = _PATTERNS.setdefault(pattern, re.compile("".join(parts), re.DOTALL))
    return compiled.fullmatch(value) is not None


_REFUSED = {
    # keyword: (the values driftcheck follows, why another one cannot be followed)
    "canonicalizehostname": (("no",), "the host name would be looked up in DNS and changed"),
    "proxyusefdpass": (("no",), "a ProxyCommand passing a socket is not supported"),
    "knownhostscommand": (("none",), "host keys from a command are not supported"),
    "revokedhostkeys": (("none",), "a revoked-keys file is not read"),
    "pkcs11provider": (("none",), "keys on a PKCS#11 token are not supported"),
    "bindaddress": ((), "the source address is not chosen"),
    "bindinterface": ((), "the source interface is not chosen"),
    "pubkeyauthentication": (("yes", "unbound", "host-bound"), "only keys are used"),
    "refuseconnection": (("no",), "ssh would refuse to connect"),
}


def check_supported(options: Options) -> None:
    """A resolved option driftcheck cannot follow is an error naming its file and line."""
    for key, (followed, why) in _REFUSED.items():
        value = options.get(key)
        flag = {"true": "yes", "false": "no"}.get((value or "").lower(), (value or "").lower())
        if value is not None and flag not in followed:
            raise TransportError(f"{options.origins[key]}: {key} {value}: {why}")
    for key in _WHOLE:
        files = options.lists.get(key, [])
        if key == "userknownhostsfile" and [f.lower() for f in files] == ["none"]:
            raise TransportError(f"{options.origins[key]}: {key} none is not supported")


def resolve_options(name: str, options: Options, config: str | None, deadline: float) -> Options:
    """Read the files for destination `name` after the command-line `options` (changed in
    place), as ssh does; HostName is then the resolved name (expanded, lowercased)."""
    files = sources(config)
    first = Reader(options, name, name, deadline, final=False)
    for source in files:
        first.read(source, required=config is not None)
    hostname = expand(
        options.get("hostname") or "%h",
        {"h": name},
        environment=False,
        what=options.origins.get("hostname", "HostName"),
    )
    if not _is_address(hostname):
        hostname = hostname.lower()
    options.values["hostname"] = hostname
    options.origins.setdefault("hostname", name)
    if first.wants_final:
        final = Reader(options, hostname, name, deadline, final=True)
        for source in files:
            final.read(source, required=config is not None)
    check_supported(options)
    return options


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True
