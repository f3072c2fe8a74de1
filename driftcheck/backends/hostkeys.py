"""Host key verification against OpenSSH known_hosts files.

An unknown key is refused unless trust-on-first-use was asked for; a changed key is always
refused. Files are parsed once and re-read only when they change (a fleet shares them).
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import paramiko

from driftcheck.errors import HostKeyChangedError, HostKeyError, HostKeyUnknownError

_CACHE: dict[Path, tuple[tuple[int, int], paramiko.HostKeys]] = {}
_CACHE_LOCK = threading.Lock()
_APPEND_LOCK = threading.Lock()  # flock alone does not order threads sharing one process


def host_entry(address: str, port: int) -> str:
    """The name OpenSSH writes in known_hosts: `host`, or `[host]:port` off port 22."""
    return address if port == 22 else f"[{address}]:{port}"


def fingerprint(key: paramiko.PKey) -> str:
    """`SHA256:...` exactly as `ssh-keygen -l` and OpenSSH's prompts print it."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


@dataclass(frozen=True)
class KnownHosts:
    """Which files are consulted, which one trust-on-first-use appends to."""

    files: tuple[Path, ...]
    write_to: Path
    accept_new: bool = False

    def verify(self, address: str, port: int, key: paramiko.PKey) -> None:
        """Return if `key` is the known key of address:port, else raise HostKeyError."""
        name = host_entry(address, port)
        if self._known(name, key):
            return
        if not self.accept_new:
            raise HostKeyUnknownError(_unknown_message(name, address, port, key, self.write_to))
        with _APPEND_LOCK, _locked(self.write_to):
            # Re-check under the lock: another host's thread may have just written this entry.
            if not self._known(name, key):
                _append(self.write_to, f"{name} {key.get_name()} {key.get_base64()}\n")

    def known_types(self, address: str, port: int) -> list[str]:
        """Key types on record for the host, so the handshake can ask for one of them first
        (as OpenSSH orders HostKeyAlgorithms) instead of tripping over an unrecorded type."""
        name = host_entry(address, port)
        types: list[str] = []
        for path in self.files:
            known = _load(path).lookup(name)
            types += [t for t in (known or {}) if t not in types]
        return types

    def _known(self, name: str, key: paramiko.PKey) -> bool:
        for path in self.files:
            known = _load(path).lookup(name)
            if known is None or key.get_name() not in known:
                continue
            if known[key.get_name()].asbytes() == key.asbytes():
                return True
            raise HostKeyChangedError(_changed_message(name, key, path))
        return False


def _unknown_message(name: str, address: str, port: int, key: paramiko.PKey, write_to: Path) -> str:
    return (
        f"{name}: unknown host key {key.get_name()} {fingerprint(key)}; to trust it, check the "
        f"fingerprint, then `ssh-keyscan -p {port} {address} >> {write_to}`, "
        "or run with --accept-new-host-keys"
    )


def _changed_message(name: str, key: paramiko.PKey, path: Path) -> str:
    return (
        f"{name}: host key CHANGED: the host offers {key.get_name()} {fingerprint(key)}, "
        f"not the key recorded in {path}: possible man-in-the-middle; if the change is expected, "
        f"`ssh-keygen -R '{name}' -f {path}` and trust the new key"
    )


def _load(path: Path) -> paramiko.HostKeys:
    try:
        st = path.stat()
    except OSError:
        return paramiko.HostKeys()
    stamp = (st.st_mtime_ns, st.st_size)
    with _CACHE_LOCK:
        cached = _CACHE.get(path)
        if cached and cached[0] == stamp:
            return cached[1]
    keys = paramiko.HostKeys()
    try:
        keys.load(str(path))
    except (OSError, paramiko.hostkeys.InvalidHostKey) as exc:
        raise HostKeyError(f"cannot read known_hosts file {path}: {exc}") from exc
    with _CACHE_LOCK:
        _CACHE[path] = (stamp, keys)
    return keys


class _locked:
    """An exclusive flock on the known_hosts file, so concurrent scans append whole lines."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd = -1

    def __enter__(self) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)  # closing releases the lock


def _append(path: Path, line: str) -> None:
    with path.open("ab+") as f:
        f.seek(0, os.SEEK_END)
        if f.tell() > 0:
            f.seek(-1, os.SEEK_END)
            if f.read(1) != b"\n":
                line = "\n" + line
        f.write(line.encode())
