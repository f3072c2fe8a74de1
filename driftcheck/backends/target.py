"""Where and as whom to connect: inventory variables over ssh_config, as Ansible + OpenSSH do.

Ansible hands `ansible_host` to ssh as the destination, so ssh_config is looked up by that name
(its HostName still applies), and ansible_port/ansible_user/ansible_ssh_private_key_file and
ansible_ssh_common_args/ansible_ssh_extra_args are passed as options, which win over the file.
The destination and user are checked as OpenSSH 9.6 checks its command line (names.py).
"""

from __future__ import annotations

import os
import shlex
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from driftcheck.backends.names import check_hostname, check_user, percent_expand
from driftcheck.backends.sshargs import CommandLine, command_line, option
from driftcheck.backends.sshconfig import Options, resolve_options
from driftcheck.backends.sshtokens import Connection, local_account, path_value, tilde
from driftcheck.errors import TransportError
from driftcheck.model import Host, Vars

__all__ = ["Route", "Target", "resolve"]

DEFAULT_KEYS = ("id_ed25519", "id_ecdsa", "id_rsa")
GLOBAL_KNOWN_HOSTS = Path("/etc/ssh/ssh_known_hosts")
AGENT_FROM_ENV = "SSH_AUTH_SOCK"
LOOKUP_TIMEOUT = 10.0  # for `Match exec` tests when no scan deadline applies (inventory listing)
_MAX_JUMPS = 8
_ARGS_VARS = ("ansible_ssh_common_args", "ansible_ssh_extra_args")


@dataclass(frozen=True)
class Target:
    """One SSH hop, fully resolved."""

    address: str
    port: int
    user: str
    key_files: tuple[Path, ...]
    known_hosts_files: tuple[Path, ...] = ()  # ssh_config UserKnownHostsFile, if set
    proxy_command: str | None = None  # expanded, names checked; only the first hop's is run
    host_key_alias: str | None = None  # the known_hosts name instead of [address]:port
    cert_files: tuple[Path, ...] = ()  # ssh_config CertificateFile, each one offered
    global_known_hosts_files: tuple[Path, ...] = (GLOBAL_KNOWN_HOSTS,)  # GlobalKnownHostsFile
    identities_only: bool = False  # IdentitiesOnly: agent keys only for the identity files
    agent: str | None = AGENT_FROM_ENV  # IdentityAgent: SSH_AUTH_SOCK's, a socket path; None: none

    def __str__(self) -> str:
        return f"{self.user}@{self.address}:{self.port}"

    @property
    def known_hosts_name(self) -> tuple[str, int]:
        """Name and port known_hosts is searched under: a HostKeyAlias stands alone (OpenSSH
        looks it up without a port), else the address and port."""
        if self.host_key_alias:
            return self.host_key_alias, 22
        return self.address, self.port


@dataclass(frozen=True)
class Route:
    """The hops to go through (outermost first), then the target itself."""

    jumps: tuple[Target, ...]
    target: Target


def resolve(host: Host, config_path: Path | None, deadline: float | None = None) -> Route:
    """`deadline` bounds the ssh_config `Match exec` tests (monotonic time). `-F` in the host's
    ssh arguments wins over `config_path` (driftcheck's own -F), as the later -F does for ssh."""
    if deadline is None:
        deadline = time.monotonic() + LOOKUP_TIMEOUT
    name = check_hostname(host.address)
    cmdline = _command_line(host.vars)
    config = cmdline.config or (str(config_path) if config_path else None)
    found = resolve_options(name, cmdline.options, config, deadline)
    jumps = _jumps(config, found, deadline, depth=0)
    target = _target(found, name, proxy=not jumps)
    return Route(jumps, target)


def _command_line(hostvars: Vars) -> CommandLine:
    """The options Ansible puts on ssh's command line, in its order (first wins), quoted as
    Ansible quotes them (`-o 'IdentityFile="PATH"'`)."""
    parts = []
    if _var(hostvars, "port"):
        parts.append(("ansible_port", f"-o Port={_var(hostvars, 'port')}"))
    if hostvars.get("ansible_ssh_private_key_file"):
        key = str(hostvars["ansible_ssh_private_key_file"])
        parts.append(("ansible_ssh_private_key_file", shlex.join(["-o", f'IdentityFile="{key}"'])))
    if _var(hostvars, "user"):
        user = check_user(str(_var(hostvars, "user")))
        parts.append(("ansible_user", shlex.join(["-o", f'User="{user}"'])))
    parts.extend((var, str(hostvars.get(var) or "")) for var in _ARGS_VARS)
    cmdline = command_line(parts)
    if cmdline.options.get("user"):
        check_user(str(cmdline.options.get("user")))
    return cmdline


def _target(found: Options, original: str, *, proxy: bool) -> Target:
    port = _port(found.get("port") or 22)
    user = found.get("user") or local_account().pw_name
    address = str(found.get("hostname"))
    alias = found.get("hostkeyalias")
    alias = alias.lower() if alias else None
    jump = str(found.get("proxyjump") or "")
    last_hop = _parse_hop(jump.rsplit(",", 1)[-1])[1] if jump and jump.lower() != "none" else ""
    conn = Connection(address, original, port, user, alias or original, last_hop)
    tokens = {"h": address, "n": original, "p": str(port), "r": user, "k": alias or original}
    return Target(
        address=address,
        port=port,
        user=user,
        key_files=_paths(found, "identityfile", conn) or _defaults(),
        known_hosts_files=_paths(found, "userknownhostsfile", conn),
        proxy_command=_proxy_command(found, tokens) if proxy else None,
        host_key_alias=alias,
        cert_files=_paths(found, "certificatefile", conn),
        global_known_hosts_files=_global_known_hosts(found),
        identities_only=(found.get("identitiesonly") or "no").lower() == "yes",
        agent=_agent(found, conn),
    )


def _paths(found: Options, key: str, conn: Connection) -> tuple[Path, ...]:
    """IdentityFile, CertificateFile, UserKnownHostsFile with `~`, tokens and ${ENV} expanded
    as ssh expands them; `none` is no file."""
    values = [v for v in found.lists.get(key, []) if v.lower() != "none"]
    what = f"{found.origins.get(key, key)}: {key}"
    return tuple(Path(path_value(v, conn, what)) for v in values)


def _defaults() -> tuple[Path, ...]:
    home = local_account().pw_dir
    return tuple(Path(home, ".ssh", name) for name in DEFAULT_KEYS)


def _global_known_hosts(found: Options) -> tuple[Path, ...]:
    values = found.lists.get("globalknownhostsfile")
    if values is None:
        return (GLOBAL_KNOWN_HOSTS,)
    return tuple(Path(tilde(v)) for v in values if v.lower() != "none")


def _agent(found: Options, conn: Connection) -> str | None:
    """IdentityAgent: None for `none`, AGENT_FROM_ENV, or a socket path."""
    value = found.get("identityagent") or AGENT_FROM_ENV
    if value.lower() == "none" or value == AGENT_FROM_ENV:
        return None if value.lower() == "none" else AGENT_FROM_ENV
    if value.startswith("$") and not value.startswith("${"):
        return os.environ.get(value[1:])  # `$NAME`: the socket named in that variable
    return path_value(value, conn, f"{found.origins.get('identityagent')}: identityagent")


def _proxy_command(found: Options, tokens: Mapping[str, str]) -> str | None:
    """ProxyCommand with %h %n %p %r %k %% expanded, only once every name in it is checked."""
    command = found.get("proxycommand")
    if command is None or command.strip().lower() == "none":
        return None
    if command.strip() == "-":
        raise TransportError("ProxyUseFdpass (ProxyCommand -) is not supported")
    check_hostname(tokens["h"], "host name for ProxyCommand")
    check_hostname(tokens["n"], "host name for ProxyCommand")
    check_hostname(tokens["k"], "HostKeyAlias for ProxyCommand")
    check_user(tokens["r"], "user for ProxyCommand")
    return percent_expand(str(command), tokens)


def _var(hostvars: Vars, name: str) -> Any:
    """ansible_ssh_NAME, else ansible_NAME: Ansible's ssh plugin lists both and the later one in
    its list (the ssh_ spelling) wins when a host has both (ansible-core 2.19, checked)."""
    return hostvars.get(f"ansible_ssh_{name}") or hostvars.get(f"ansible_{name}")


def _port(value: object) -> int:
    try:
        port = int(str(value))
    except ValueError:
        port = -1
    if not 0 < port < 65536:
        raise TransportError(f"invalid SSH port {value!r}")
    return port


def _jumps(config: str | None, found: Options, deadline: float, depth: int) -> tuple[Target, ...]:
    """ProxyJump `[user@]host[:port][,...]`: each hop gets its own ssh_config lookup; the first
    hop's own ProxyJump is followed too, as `ssh -J` does."""
    spec = str(found.get("proxyjump") or "none")
    if spec.lower() == "none":
        return ()
    if depth >= _MAX_JUMPS:
        raise TransportError(f"ProxyJump chain longer than {_MAX_JUMPS} hops (a loop?)")
    _no_loop(found, spec)
    hops: list[Target] = []
    for i, hop in enumerate(spec.split(",")):
        user, name, port = _parse_hop(hop.strip())
        seed = CommandLine(Options())
        if user:
            option(seed, f"User={check_user(user)}", "ProxyJump")
        if port is not None:
            option(seed, f"Port={port}", "ProxyJump")
        name = check_hostname(name, "ProxyJump host")
        hop_found = resolve_options(name, seed.options, config, deadline)
        outer = _jumps(config, hop_found, deadline, depth + 1) if i == 0 else ()
        hops.extend(outer)
        # Only the outermost hop is reached by its own ProxyCommand; the others by a tunnel.
        hops.append(_target(hop_found, name, proxy=i == 0 and not outer))
    return tuple(hops)


def _no_loop(found: Options, spec: str) -> None:
    """ssh.c refuses a last hop that is the destination itself (same name, port and user)."""
    user, name, port = _parse_hop(spec.rsplit(",", 1)[-1].strip())
    own_user = found.get("user") or local_account().pw_name
    if (name, port or 22, user or own_user) == (
        found.get("hostname"),
        _port(found.get("port") or 22),
        own_user,
    ):
        raise TransportError(f"jumphost loop via {name}")


def _parse_hop(hop: str) -> tuple[str | None, str, int | None]:
    url = urlsplit(hop if hop.startswith("ssh://") else f"ssh://{hop}")
    try:
        port = url.port
    except ValueError:
        port = -1
    if not url.hostname or port == -1:
        raise TransportError(f"invalid ProxyJump hop {hop!r}")
    return url.username, url.hostname, port
