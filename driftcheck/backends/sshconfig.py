"""ssh_config lookups as `ssh -o ... DEST` makes them, on paramiko's parser, with nothing run
unchecked.

paramiko.SSHConfig.lookup is used for its parsing and matching (Host, Match host/user/
originalhost/localuser/final/canonical), with three changes:
- command-line options come first (Ansible passes the inventory's user and port, and
  ansible_ssh_common_args / ansible_ssh_extra_args, as `ssh` options, which win over the file);
- ProxyCommand and ProxyJump exclude each other, the first one obtained wins, as in OpenSSH;
- `Match exec` is never run by paramiko (it would run it through invoke, with the unchecked
  host name in `%h` and no deadline): driftcheck checks the names it expands, then runs it in
  its own process group under the host's deadline. ProxyCommand is left unexpanded here for
  the same reason (target.py expands it once the names are checked).
"""

from __future__ import annotations

import getpass
import hashlib
import os
import re
import shlex
import socket
import threading
from pathlib import Path
from typing import Any, TypedDict

import paramiko

from driftcheck.backends.names import check_hostname, check_user, percent_expand
from driftcheck.backends.proxy import run_test
from driftcheck.errors import TransportError

_CONFIGS: dict[Path, tuple[int, paramiko.SSHConfig]] = {}
_LOCK = threading.Lock()
_PROXY_KEYS = ("proxycommand", "proxyjump")
# Match criteria paramiko evaluates (and exec, run here); any other one paramiko would count as
# matched, applying the block to every host: refused instead.
_CRITERIA = ("all", "canonical", "final", "host", "originalhost", "user", "localuser", "exec")
_LIST_KEYS = ("identityfile",)
# `ssh` flags taking a value that map onto a config keyword (others are ignored, see README).
_FLAGS = {"-J": "proxyjump", "-i": "identityfile", "-l": "user", "-p": "port"}
_FLAGS_WITH_VALUE = set("BbcDEeFIiJLlmOopQRSWw")
_SETTING = re.compile(r"(\w+)(?:\s*=\s*|\s+)(.+)")  # `Key=Value` or `Key Value`, as in the file

# ssh_config options, lowercased keyword -> value, as paramiko's SSHConfigDict holds them: a str,
# a list of str (IdentityFile), None (an explicit `ProxyCommand none`); any keyword of OpenSSH's.
# Its stubs say str only; they go into one, and are read as the keyword says, so open as it is.
Options = dict[str, Any]


class Criterion(TypedDict):
    """One criterion of a `Match` line, as paramiko parses it."""

    type: str
    param: str | None  # None for all, canonical and final
    negate: bool


def load_config(path: Path | None) -> paramiko.SSHConfig:
    """`-F FILE`, else ~/.ssh/config if present, else an empty config. Parsed once per change."""
    if path is None:
        path = Path("~/.ssh/config").expanduser()
        if not path.exists():
            return paramiko.SSHConfig()
    try:
        stamp = path.stat().st_mtime_ns
        with _LOCK:
            cached = _CONFIGS.get(path)
            if cached and cached[0] == stamp:
                return cached[1]
        config = paramiko.SSHConfig.from_path(str(path))
    except (OSError, ValueError, paramiko.SSHException) as exc:
        raise TransportError(f"cannot read ssh config {path}: {exc}") from exc
    with _LOCK:
        _CONFIGS[path] = (stamp, config)
    return config


def lookup(
    config: paramiko.SSHConfig, name: str, seed: Options, deadline: float
) -> paramiko.SSHConfigDict:
    """The options for destination `name`: `seed` (command-line options) first, then the file."""
    return _Lookup(config, seed, deadline).lookup(name)


def ssh_args(text: str) -> Options:
    """Options from ansible_ssh_common_args / ansible_ssh_extra_args: `-o Key=Value` (or
    `-oKey=Value`, `-o "Key Value"`), and -J, -i, -l, -p. First one wins, as with ssh."""
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise TransportError(f"cannot split ssh arguments {text!r}: {exc}") from exc
    options: Options = {}
    i = 0
    while i < len(words):
        flag, value, i = _next_option(words, i)
        if flag == "-o":
            found = _SETTING.match(value.strip())
            if not found:
                raise TransportError(f"cannot read ssh option -o {value!r}")
            _set(options, found[1].lower(), _unquote(found[2]))
        elif flag in _FLAGS:
            _set(options, _FLAGS[flag], value)
    return options


def _unquote(value: str) -> str:
    """A value quoted as a whole loses its quotes, as paramiko's parser does for the file."""
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def _next_option(words: list[str], i: int) -> tuple[str, str, int]:
    word = words[i]
    if len(word) < 2 or word[0] != "-" or word[1] not in _FLAGS_WITH_VALUE:
        return word, "", i + 1  # a flag without a value (-q, -A...) or a stray word
    flag = word[:2]
    if len(word) > 2:
        return flag, word[2:], i + 1
    if i + 1 >= len(words):
        raise TransportError(f"ssh option {flag} without a value")
    return flag, words[i + 1], i + 2


def _set(options: Options, key: str, value: str) -> None:
    if key in _LIST_KEYS:
        options.setdefault(key, []).append(value)
    elif key == "proxycommand" and value.lower() == "none":
        options.setdefault(key, None)  # as paramiko stores an explicit "none"
    elif key in _PROXY_KEYS and any(k in options for k in _PROXY_KEYS):
        return  # the other one of the pair came first
    else:
        options.setdefault(key, value)


class _Lookup(paramiko.SSHConfig):
    """One lookup over an already parsed config (its blocks are shared, read only). It calls
    paramiko's private matching helpers: the stubs do not declare them, hence the ignores."""

    def __init__(self, parsed: paramiko.SSHConfig, seed: Options, deadline: float):
        super().__init__()
        self._config = vars(parsed)["_config"]
        # Never let paramiko expand these: their names are checked first (see target.py).
        self.TOKENS_BY_CONFIG_KEY = {
            **paramiko.SSHConfig.TOKENS_BY_CONFIG_KEY,
            "proxycommand": [],
            "match-exec": [],
        }
        self._seed = seed
        self._deadline = deadline
        self._tests: dict[str, bool] = {}  # each Match exec command runs once per lookup

    def _lookup(
        self,
        hostname: str,
        options: paramiko.SSHConfigDict | None = None,
        canonical: bool = False,
        final: bool = False,
    ) -> paramiko.SSHConfigDict:
        if options is None:
            options = paramiko.SSHConfigDict()
            _apply(options, self._seed)
        for context in self._config:
            hosts = context.get("host", [])
            by_host: bool = self._pattern_matches(hosts, hostname)  # type: ignore[attr-defined]
            if by_host or self._does_match(
                context.get("matches", []), hostname, canonical, final, options
            ):
                _apply(options, context["config"])
        if final:
            options = self._expand_variables(options, hostname)  # type: ignore[attr-defined]
        return options

    def _does_match(
        self,
        match_list: list[Criterion],
        target_hostname: str,
        canonical: bool,
        final: bool,
        options: paramiko.SSHConfigDict,
    ) -> bool | list[Criterion]:
        """paramiko's, one criterion at a time, except `exec`, which is run here."""
        matched: list[Criterion] = []
        for candidate in match_list:
            if candidate["type"] not in _CRITERIA:
                raise TransportError(f"ssh_config `Match {candidate['type']}` is not supported")
            if candidate["type"] == "exec":
                passed = self._exec(candidate["param"] or "", target_hostname, options)
                found: bool | list[Criterion] = (
                    [candidate] if passed != candidate["negate"] else False
                )
            else:
                found = super()._does_match(  # type: ignore[misc]
                    [candidate], target_hostname, canonical, final, options
                )
            if found is True or not found:
                return bool(found)  # `all` matches outright; a failed criterion ends the block
            matched.extend(found)
        return matched

    def _exec(self, command: str, original: str, options: paramiko.SSHConfigDict) -> bool:
        host = check_hostname(str(options.get("hostname", original)), "host name for Match exec")
        user = check_user(str(options.get("user") or getpass.getuser()), "user for Match exec")
        tokens = _exec_tokens(check_hostname(original), host, user, options)
        cmd = percent_expand(command, tokens)
        if cmd not in self._tests:
            rc = run_test(cmd, self._deadline)
            if rc is None:
                raise TransportError(f"ssh_config Match exec {cmd!r} still running at the deadline")
            self._tests[cmd] = rc == 0
        return self._tests[cmd]


def _apply(options: Options, block: Options) -> None:
    """Merge one matching block: first value wins, IdentityFile accumulates, and ProxyCommand
    and ProxyJump are one setting (whichever comes first), as in OpenSSH's readconf.c."""
    for key, value in block.items():
        if key in _PROXY_KEYS and any(k in options for k in _PROXY_KEYS):
            continue
        if key not in options:
            options[key] = value[:] if isinstance(value, list) else value
        elif key in _LIST_KEYS:
            options[key].extend(x for x in value if x not in options[key])


def _exec_tokens(
    original: str, host: str, user: str, options: paramiko.SSHConfigDict
) -> dict[str, str]:
    """The tokens OpenSSH 9.6 expands in `Match exec` (readconf.c match_cfg_line)."""
    port = str(options.get("port", 22))
    fqdn = socket.gethostname()
    jump = str(options.get("proxyjump") or "")
    alias = str(options.get("hostkeyalias") or host)
    digest = hashlib.sha1(f"{fqdn}{host}{port}{user}{jump}".encode(), usedforsecurity=False)
    if jump:
        check_hostname(jump, "ProxyJump for Match exec")
    return {
        "C": digest.hexdigest(),
        "L": fqdn.split(".")[0],
        "d": str(Path("~").expanduser()),
        "h": host,
        "i": str(os.getuid()),
        "j": jump,
        "k": check_hostname(alias, "HostKeyAlias for Match exec"),
        "l": fqdn,
        "n": original,
        "p": port,
        "r": user,
        "u": getpass.getuser(),
    }
