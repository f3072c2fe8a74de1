"""Where and as whom to connect: inventory variables over ssh_config, as Ansible + OpenSSH do.

Ansible hands `ansible_host` to ssh as the destination, so ssh_config is looked up by that name
(its HostName still applies), and ansible_port/ansible_user/ansible_ssh_private_key_file and
ansible_ssh_common_args/ansible_ssh_extra_args are passed as options, which win over the file.
The destination and user are checked as OpenSSH 9.6 checks its command line (names.py).
"""

from __future__ import annotations

import getpass
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import paramiko

from driftcheck.backends.names import check_hostname, check_user, percent_expand
from driftcheck.backends.sshconfig import Options, load_config, lookup, ssh_args
from driftcheck.errors import TransportError
from driftcheck.model import Host, Vars

__all__ = ["Route", "Target", "load_config", "resolve"]

DEFAULT_KEYS = ("~/.ssh/id_ed25519", "~/.ssh/id_ecdsa", "~/.ssh/id_rsa")
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
    cert_files: tuple[Path, ...] = ()  # ssh_config CertificateFile

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
    """`deadline` bounds the ssh_config `Match exec` tests (monotonic time)."""
    if deadline is None:
        deadline = time.monotonic() + LOOKUP_TIMEOUT
    config = load_config(config_path)
    name = check_hostname(host.address)
    found = lookup(config, name, _seed(host.vars), deadline)
    jumps = _jumps(config, found, deadline, depth=0)
    target = _target(found, name, proxy=not jumps)
    return Route(jumps, target)


def _seed(hostvars: Vars) -> Options:
    """The options Ansible puts on ssh's command line, in its order (first wins)."""
    seed: Options = {}
    if _var(hostvars, "port"):
        seed["port"] = str(_var(hostvars, "port"))
    if hostvars.get("ansible_ssh_private_key_file"):
        seed["identityfile"] = [str(hostvars["ansible_ssh_private_key_file"])]
    if _var(hostvars, "user"):
        seed["user"] = str(_var(hostvars, "user"))
    for var in _ARGS_VARS:
        for key, value in ssh_args(str(hostvars.get(var) or "")).items():
            if key == "identityfile":
                seed.setdefault(key, []).extend(value)
            elif not (key in ("proxycommand", "proxyjump") and _has_proxy(seed)):
                seed.setdefault(key, value)
    if "user" in seed:
        check_user(str(seed["user"]))
    return seed


def _has_proxy(options: Options) -> bool:
    return "proxycommand" in options or "proxyjump" in options


def _target(found: paramiko.SSHConfigDict, original: str, *, proxy: bool) -> Target:
    port = _port(found.get("port") or 22)
    user = str(found.get("user") or getpass.getuser())
    address = str(found["hostname"])
    keys = list(found.get("identityfile", []))
    known = str(found.get("userknownhostsfile", "")).split()
    alias = str(found["hostkeyalias"]).lower() if found.get("hostkeyalias") else None
    tokens = {"h": address, "n": original, "p": str(port), "r": user, "k": alias or original}
    return Target(
        address=address,
        port=port,
        user=user,
        key_files=tuple(Path(k).expanduser() for k in (keys or DEFAULT_KEYS)),
        known_hosts_files=tuple(Path(k).expanduser() for k in known if k != "none"),
        proxy_command=_proxy_command(found, tokens) if proxy else None,
        host_key_alias=alias,
        cert_files=_cert_files(found, tokens),
    )


def _proxy_command(found: paramiko.SSHConfigDict, tokens: Mapping[str, str]) -> str | None:
    """ProxyCommand with %h %n %p %r %k %% expanded, only once every name in it is checked."""
    command = found.get("proxycommand")
    if command is None or command.strip().lower() == "none":
        return None
    if command.strip() == "-" or str(found.get("proxyusefdpass", "no")).lower() == "yes":
        raise TransportError("ProxyUseFdpass (ProxyCommand -) is not supported")
    check_hostname(tokens["h"], "host name for ProxyCommand")
    check_hostname(tokens["n"], "host name for ProxyCommand")
    check_hostname(tokens["k"], "HostKeyAlias for ProxyCommand")
    check_user(tokens["r"], "user for ProxyCommand")
    return percent_expand(str(command), tokens)


def _cert_files(found: paramiko.SSHConfigDict, tokens: Mapping[str, str]) -> tuple[Path, ...]:
    """CertificateFile (paramiko keeps one per block), with OpenSSH's tokens for paths."""
    value = found.get("certificatefile")
    if not value or str(value).lower() == "none":
        return ()
    path_tokens = {
        **tokens,
        "d": str(Path("~").expanduser()),
        "u": getpass.getuser(),
        "i": str(os.getuid()),
    }
    return (Path(percent_expand(str(value), path_tokens)).expanduser(),)


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


def _jumps(
    config: paramiko.SSHConfig, found: paramiko.SSHConfigDict, deadline: float, depth: int
) -> tuple[Target, ...]:
    """ProxyJump `[user@]host[:port][,...]`: each hop gets its own ssh_config lookup; the first
    hop's own ProxyJump is followed too, as `ssh -J` does."""
    spec = str(found.get("proxyjump", "none"))
    if spec.lower() == "none":
        return ()
    if depth >= _MAX_JUMPS:
        raise TransportError(f"ProxyJump chain longer than {_MAX_JUMPS} hops (a loop?)")
    hops: list[Target] = []
    for i, hop in enumerate(spec.split(",")):
        user, name, port = _parse_hop(hop.strip())
        seed = {"user": check_user(user)} if user else {}
        if port is not None:
            seed["port"] = str(port)
        hop_found = lookup(config, check_hostname(name, "ProxyJump host"), seed, deadline)
        outer = _jumps(config, hop_found, deadline, depth + 1) if i == 0 else ()
        hops.extend(outer)
        # Only the outermost hop is reached by its own ProxyCommand; the others by a tunnel.
        hops.append(_target(hop_found, name, proxy=i == 0 and not outer))
    return tuple(hops)


def _parse_hop(hop: str) -> tuple[str | None, str, int | None]:
    url = urlsplit(hop if hop.startswith("ssh://") else f"ssh://{hop}")
    try:
        port = url.port
    except ValueError:
        port = -1
    if not url.hostname or port == -1:
        raise TransportError(f"invalid ProxyJump hop {hop!r}")
    return url.username, url.hostname, port
