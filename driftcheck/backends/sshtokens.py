"""OpenSSH's expansions in ssh_config values: `~`, `%` tokens and `${ENV}` (misc.c tilde_expand,
percent_dollar_expand), with the tokens ssh.c gives each directive.

- HostName: `%h` (the name given) and `%%` only.
- IdentityFile, CertificateFile, UserKnownHostsFile, IdentityAgent: `~`, then the client tokens
  (%C %L %d %h %i %j %k %l %n %p %r %u) and `${NAME}` from the environment.
- GlobalKnownHostsFile: `~` only.
- Match exec: the client tokens (no `${}`), each value checked before it reaches a shell.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import socket
from collections.abc import Mapping
from dataclasses import dataclass

from driftcheck.backends.names import check_hostname, check_user
from driftcheck.errors import TransportError


def local_account() -> pwd.struct_passwd:
    """The local user as ssh sees it: the passwd entry of the real uid (not $USER, not $HOME)."""
    return pwd.getpwuid(os.getuid())


def tilde(path: str) -> str:
    """misc.c tilde_expand: `~`, `~/x`, `~user/x` from the passwd database."""
    if not path.startswith("~"):
        return path
    name, _, rest = path[1:].partition("/")
    try:
        entry = pwd.getpwnam(name) if name else local_account()
    except KeyError as exc:
        raise TransportError(f"no such user {name!r} in {path!r}") from exc
    home = entry.pw_dir.rstrip("/")
    return f"{home}/{rest.lstrip('/')}"


def expand(template: str, tokens: Mapping[str, str], *, environment: bool, what: str) -> str:
    """percent_dollar_expand: one pass; `%%` is `%`; an unknown token, a trailing `%`, an
    unclosed or unset `${NAME}` is an error naming `what`, as ssh refuses them."""
    out: list[str] = []
    i, n = 0, len(template)
    while i < n:
        c = template[i]
        if environment and template.startswith("${", i):
            end = template.find("}", i + 2)
            name = template[i + 2 : end] if end > 0 else ""
            if not name:
                raise TransportError(f"{what}: bad environment variable in {template!r}")
            if name not in os.environ:
                raise TransportError(f"{what}: environment variable ${{{name}}} is not set")
            out.append(os.environ[name])
            i = end + 1
        elif c == "%":
            key = template[i + 1 : i + 2]
            if key != "%" and key not in tokens:
                raise TransportError(f"{what}: unknown token %{key} in {template!r}")
            out.append("%" if key == "%" else tokens[key])
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


@dataclass(frozen=True)
class Connection:
    """What the client tokens are made of (ssh.c's ssh_conn_info)."""

    host: str  # %h: the HostName, expanded and lowercased
    original: str  # %n: the name given to ssh
    port: int
    user: str  # %r
    alias: str  # %k: HostKeyAlias, else the name given
    jump: str = ""  # %j: the last ProxyJump hop's host

    def tokens(self) -> dict[str, str]:
        account = local_account()
        fqdn = socket.gethostname()
        port = str(self.port)
        digest = hashlib.sha1(
            f"{fqdn}{self.host}{port}{self.user}{self.jump}".encode(), usedforsecurity=False
        )
        return {
            "C": digest.hexdigest(),
            "L": fqdn.split(".")[0],
            "d": account.pw_dir,
            "h": self.host,
            "i": str(account.pw_uid),
            "j": self.jump,
            "k": self.alias,
            "l": fqdn,
            "n": self.original,
            "p": port,
            "r": self.user,
            "u": account.pw_name,
        }


def path_value(value: str, conn: Connection, what: str) -> str:
    """IdentityFile, CertificateFile, UserKnownHostsFile, IdentityAgent as ssh.c expands them."""
    return expand(tilde(value), conn.tokens(), environment=True, what=what)


def exec_command(command: str, conn: Connection, what: str) -> str:
    """A `Match exec` command with its tokens; every value is checked first, so none can change
    the command's syntax (a name with quotes, `;`, `$(...)` or blanks is refused)."""
    tokens = conn.tokens()
    for key, value in tokens.items():
        if key in "ru":
            check_user(value, f"%{key} for {what}")
        elif value or key != "j":
            check_hostname(value, f"%{key} for {what}")
    return expand(command, tokens, environment=False, what=what)
