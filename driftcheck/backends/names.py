"""Names that may reach a shell, checked as OpenSSH 9.6 checks them (CVE-2023-51385).

OpenSSH expands `%h`, `%r`, `%n` into ProxyCommand and `Match exec`, which run through a shell;
a host or user name carrying shell syntax would run a command. OpenSSH 9.6 refuses such names
on its command line (`ssh.c: valid_hostname`, `valid_ruser`); Ansible puts the inventory's host
and user there, so driftcheck refuses them in the inventory the same way. It goes further than
OpenSSH: every name about to be expanded into a command is checked again, whatever its source
(an ssh_config HostName or User, a ProxyJump hop), so no name from any file runs a command.
"""

from __future__ import annotations

from collections.abc import Mapping

from driftcheck.errors import TransportError

_HOST_BAD = set("'`\"$\\;&<>|(){}")
_USER_BAD = set("'`\";&<>|(){}")


def valid_hostname(name: str) -> bool:
    """OpenSSH 9.6 ssh.c valid_hostname: no leading '-', no shell syntax, blanks or controls."""
    if not name or name.startswith("-"):
        return False
    return not any(c in _HOST_BAD or c.isspace() or _control(c) for c in name)


def valid_ruser(name: str) -> bool:
    """OpenSSH 9.6 ssh.c valid_ruser: no leading '-', no shell syntax but `$` and `\\`, no
    '-' after a blank (an option smuggled to a command), no trailing backslash."""
    if not name or name.startswith("-") or name.endswith("\\"):
        return False
    for i, c in enumerate(name):
        if c in _USER_BAD:
            return False
        if c.isspace() and name[i + 1 : i + 2] == "-":
            return False
    return True


def check_hostname(name: str, what: str = "host name") -> str:
    if not valid_hostname(name):
        raise TransportError(f"{what} {name!r} has characters OpenSSH refuses")
    return name


def check_user(name: str, what: str = "remote user name") -> str:
    if not valid_ruser(name):
        raise TransportError(f"{what} {name!r} has characters OpenSSH refuses")
    return name


def percent_expand(template: str, tokens: Mapping[str, str]) -> str:
    """OpenSSH's percent_expand: one pass (an expanded value is never expanded again), `%%` is
    `%`, an unknown `%x` or a trailing `%` is an error rather than a guess."""
    out: list[str] = []
    i = 0
    while i < len(template):
        c = template[i]
        if c != "%":
            out.append(c)
            i += 1
            continue
        key = template[i + 1 : i + 2]
        if key == "%":
            out.append("%")
        elif key in tokens:
            out.append(tokens[key])
        else:
            raise TransportError(f"unsupported token %{key} in {template!r}")
        i += 2
    return "".join(out)


def _control(c: str) -> bool:
    return ord(c) < 0x20 or ord(c) == 0x7F
