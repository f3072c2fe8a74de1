"""Host key verification against OpenSSH known_hosts files, as `ssh` decides it.

The verdict is OpenSSH's (`hostfile.c: check_hostkeys_by_key_or_type`, `sshconnect.c:
check_host_key`): a key marked `@revoked` is refused; a host with any recorded key, of any type,
that the offered key does not equal has CHANGED and is refused even with trust-on-first-use;
only a host with no recorded key is new. A host certificate is vouched for by the
`@cert-authority` lines for `[host]:port` or, off port 22, for the bare host name (ssh's
fallback); a key or certificate CA `@revoked` under either name is refused. Files are parsed
once per change (path, inode, size, mtime), by one thread while the others wait, within the
caller's deadline.
"""

from __future__ import annotations

import base64
import enum
import fcntl
import hashlib
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import paramiko

from driftcheck.backends import hostcerts, knownhosts
from driftcheck.backends.hostcerts import CERT_SUFFIX
from driftcheck.backends.knownhosts import CERT_AUTHORITY, PLAIN, REVOKED, Entry, Index
from driftcheck.errors import (
    DeadlineError,
    HostKeyChangedError,
    HostKeyError,
    HostKeyUnknownError,
)

Stamp = tuple[int, int, int, int]
_CACHE: dict[Path, tuple[Stamp, Index]] = {}
_CACHE_LOCK = threading.Lock()
_LOADING: dict[Path, threading.Lock] = {}  # one loader per file: single-flight
_UNRECORDABLE = "@?*#[]|'\"\\"  # sshconnect.c check_host_key: "will not record"
_APPEND_LOCK = threading.Lock()  # flock alone does not order threads sharing one process


class Status(enum.Enum):
    OK = "ok"
    NEW = "new"
    CHANGED = "changed"
    REVOKED = "revoked"


def host_entry(address: str, port: int) -> str:
    """The name OpenSSH looks up and writes: `host`, or `[host]:port` off port 22, lowercased."""
    address = knownhosts.lower(address)
    return address if port == 22 else f"[{address}]:{port}"


def fingerprint(key: paramiko.PKey) -> str:
    """`SHA256:...` exactly as `ssh-keygen -l` and OpenSSH's prompts print it."""
    return _blob_fingerprint(key.asbytes())


def _blob_fingerprint(blob: bytes) -> str:
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def verdict(entries: list[Entry], blob: bytes) -> tuple[Status, Entry | None]:
    """OpenSSH's status of a plain key among the entries matching the host, and the line why
    (None only when NEW)."""
    revoked = next((e for e in entries if e.marker == REVOKED and e.blob == blob), None)
    if revoked is not None:
        return Status.REVOKED, revoked
    plain = [e for e in entries if e.marker == PLAIN]
    equal = next((e for e in plain if e.blob == blob), None)
    if equal is not None:
        return Status.OK, equal
    # Any other recorded key, whatever its type, means the host's identity changed.
    return (Status.CHANGED, plain[0]) if plain else (Status.NEW, None)


@dataclass(frozen=True)
class KnownHosts:
    """Which files are consulted, which one trust-on-first-use appends to."""

    files: tuple[Path, ...]
    write_to: Path
    accept_new: bool = False

    def preload(self, deadline: float) -> None:
        """Parse the files now (once per change, fleet-wide), before any connection waits."""
        for path in self.files:
            _load(path, deadline)
        if time.monotonic() >= deadline:
            # Said as what it is: the client was busy, the host was never tried.
            raise DeadlineError(f"known_hosts {self.files[0]} still being read at the deadline")

    def verify(
        self, address: str, port: int, key: paramiko.PKey, deadline: float | None = None
    ) -> None:
        """Return if `key` is the known key of address:port, else raise HostKeyError."""
        deadline = _default(deadline)
        name = host_entry(address, port)
        entries = self._covering(address, port, deadline)
        cert = _certificate(name, key)
        _refuse_revoked(name, key, cert, entries)
        why_not_certified = "presented no certificate"
        if cert is not None:
            why_not_certified = _why_not_certified(name, address, cert, entries)
            if not why_not_certified:
                return
        # As ssh: a certificate no CA here vouches for is checked again as the plain key.
        status, entry = self._status(name, key, deadline)
        if status is Status.NEW and self._known_without_port(address, port, key, deadline):
            return
        if status is Status.NEW or entry is None:
            authority = next((e for e in entries if e.marker == CERT_AUTHORITY), None)
            if authority is not None:
                # ssh would trust a plain key here on first use; a host meant to be vouched
                # for by a CA that is not, is more likely an impostor than a new host.
                raise HostKeyError(_uncertified(name, key, authority, why_not_certified))
            self._new(name, address, port, key, deadline)
        elif status is not Status.OK:
            raise HostKeyChangedError(_refusal(status, name, key, entry))

    def host_key_algorithms(
        self, address: str, port: int, offered: list[str], deadline: float | None = None
    ) -> list[str]:
        """The host key algorithms to ask for, in ssh's order (sshconnect2.c order_hostkeyalgs):
        certificates first when a file has a @cert-authority or @revoked line (without one, a
        certificate cannot change the verdict), then `offered`; algorithms of the key types on
        record for the host, and certificates when a @cert-authority line covers it, move to
        the front unless the first algorithm's key type is on record already."""
        deadline = _default(deadline)
        certificates = hostcerts.ALGORITHMS if self._marked(deadline) else ()
        algorithms = [*certificates, *(a for a in offered if a not in certificates)]
        return ordered(algorithms, self._entries(host_entry(address, port), deadline))

    def _covering(self, address: str, port: int, deadline: float) -> list[Entry]:
        """The entries for `[host]:port`, then (off port 22) those for the bare host name: ssh
        looks a host's CAs and revocations up under both (sshconnect.c: "checking without port
        identifier"). Files without such lines cost no second lookup."""
        entries = self._entries(host_entry(address, port), deadline)
        if port == 22 or not self._marked(deadline):
            return entries
        return [*entries, *self._entries(host_entry(address, 22), deadline)]

    def _marked(self, deadline: float) -> bool:
        return any(_load(path, deadline).marked for path in self.files)

    def _known_without_port(
        self, address: str, port: int, key: paramiko.PKey, deadline: float
    ) -> bool:
        # sshconnect.c "checking without port identifier": the same key recorded for the bare
        # host name is accepted (only an exact match, never a change or a revocation).
        return port != 22 and self._status(host_entry(address, 22), key, deadline)[0] is Status.OK

    def _entries(self, name: str, deadline: float) -> list[Entry]:
        return [e for path in self.files for e in _load(path, deadline).lookup(name)]

    def _status(
        self, name: str, key: paramiko.PKey, deadline: float
    ) -> tuple[Status, Entry | None]:
        return verdict(self._entries(name, deadline), key.asbytes())

    def _new(self, name: str, address: str, port: int, key: paramiko.PKey, deadline: float) -> None:
        if not self.accept_new:
            raise HostKeyUnknownError(_unknown_message(name, address, port, key, self.write_to))
        if any(c in _UNRECORDABLE for c in address):
            # sshconnect.c never writes such a name: it would be read back as a pattern.
            raise HostKeyError(
                f"{name}: unknown host key {key.get_name()} {fingerprint(key)}; "
                "a name with pattern or quoting characters is never recorded, as in ssh"
            )
        with _APPEND_LOCK, _locked(self.write_to):
            # Re-check under the lock: another host's thread or process may have just written.
            status, entry = self._status(name, key, deadline)
            if status is Status.NEW or entry is None:
                _append_recorded(self.write_to, name, key)
            elif status is not Status.OK:
                raise HostKeyChangedError(_refusal(status, name, key, entry))


def _default(deadline: float | None) -> float:
    # Callers outside a connection (tests, tools) get a generous bound rather than none.
    return time.monotonic() + 60 if deadline is None else deadline


def ordered(algorithms: list[str], entries: list[Entry]) -> list[str]:
    """order_hostkeyalgs over the entries for the host (`[host]:port`, no fallback)."""
    known = {e.key_type for e in entries if e.marker == PLAIN}
    if not algorithms or hostcerts.plain_type(algorithms[0]) in known:
        return algorithms
    authority = any(e.marker == CERT_AUTHORITY for e in entries)
    first = [
        alg
        for alg in algorithms
        if hostcerts.plain_type(alg) in known or (authority and alg.endswith(CERT_SUFFIX))
    ]
    return [*first, *(alg for alg in algorithms if alg not in first)]


def _certificate(name: str, key: paramiko.PKey) -> hostcerts.HostCert | None:
    """The certificate the host presented, if any; a malformed or forged one is refused, as
    ssh's key exchange refuses it."""
    blob = hostcerts.certificate_blob(key)
    if blob is None:
        return None
    try:
        cert = hostcerts.parse(blob)
    except ValueError as exc:
        raise HostKeyError(f"{name}: {exc}") from exc
    if not hostcerts.signed_by_ca(cert):
        raise HostKeyError(f"{name}: host certificate {cert.key_id!r}: bad CA signature")
    return cert


def _refuse_revoked(
    name: str, key: paramiko.PKey, cert: hostcerts.HostCert | None, entries: list[Entry]
) -> None:
    """A key, or the CA of its certificate, marked @revoked for the host under any port is
    refused (hostfile.c check_key_not_revoked). ssh, when the line has no port, warns and then
    still trusts the plain key on first use; a revoked key is refused here."""
    for entry in (e for e in entries if e.marker == REVOKED):
        if entry.blob == key.asbytes():
            raise HostKeyChangedError(_refusal(Status.REVOKED, name, key, entry))
        if cert is not None and entry.blob == cert.ca_blob:
            raise HostKeyChangedError(
                f"{name}: host certificate REVOKED: {cert.key_id!r} is signed by the CA "
                f"{entry.key_type} {_blob_fingerprint(entry.blob)}, marked @revoked in "
                f"{entry.where}: refused (a stolen CA key may impersonate any host)"
            )


def _why_not_certified(
    name: str, address: str, cert: hostcerts.HostCert, entries: list[Entry]
) -> str:
    """ "" when a @cert-authority line for the host vouches for the certificate, else why not."""
    if not any(e.marker == CERT_AUTHORITY and e.blob == cert.ca_blob for e in entries):
        return f"presented a certificate by a CA not trusted for {name}"
    why = hostcerts.problem(cert, address)
    return f"presented a certificate not valid for it: {why}" if why else ""


def _uncertified(name: str, key: paramiko.PKey, authority: Entry, why: str) -> str:
    return (
        f"{name}: unknown host key {key.get_name()} {fingerprint(key)}; the host is under "
        f"the @cert-authority of {authority.where} but {why}; refused"
    )


def _refusal(status: Status, name: str, key: paramiko.PKey, entry: Entry) -> str:
    if status is Status.REVOKED:
        return (
            f"{name}: host key REVOKED: the host offers {key.get_name()} {fingerprint(key)}, "
            f"marked @revoked in {entry.where}: refused (a stolen key may impersonate the host)"
        )
    return (
        f"{name}: host key CHANGED: the host offers {key.get_name()} {fingerprint(key)}, "
        f"not the {entry.key_type} key recorded in {entry.where}: possible man-in-the-middle; "
        f"if the change is expected, `ssh-keygen -R '{name}' -f {entry.path}` and trust the new key"
    )


def _unknown_message(name: str, address: str, port: int, key: paramiko.PKey, write_to: Path) -> str:
    return (
        f"{name}: unknown host key {key.get_name()} {fingerprint(key)}; to trust it, check the "
        f"fingerprint, then `ssh-keyscan -p {port} {address} >> {write_to}`, "
        "or run with --accept-new-host-keys"
    )


def _stamp(st: os.stat_result) -> Stamp:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _load(path: Path, deadline: float) -> Index:
    """The file's index, parsed at most once per change even when many threads miss together."""
    try:
        stamp = _stamp(path.stat())
    except FileNotFoundError:
        return Index(path)
    except OSError as exc:
        raise HostKeyError(f"cannot read known_hosts file {path}: {exc.strerror}") from exc
    cached = _CACHE.get(path)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    with _CACHE_LOCK:
        loading = _LOADING.setdefault(path, threading.Lock())
    if not loading.acquire(timeout=max(0.0, deadline - time.monotonic())):
        raise DeadlineError(f"known_hosts file {path} still being read at the deadline")
    try:
        return _reload(path)
    finally:
        loading.release()


def _reload(path: Path) -> Index:
    try:
        with path.open("rb") as f:
            stamp = _stamp(os.fstat(f.fileno()))
            cached = _CACHE.get(path)
            if cached is not None and cached[0] == stamp:
                return cached[1]  # another thread loaded it while this one waited
            lines = (raw.decode("utf-8", "surrogateescape") for raw in f)
            index = knownhosts.parse(lines, path)
    except FileNotFoundError:
        return Index(path)
    except OSError as exc:
        raise HostKeyError(f"cannot read known_hosts file {path}: {exc.strerror}") from exc
    _CACHE[path] = (stamp, index)
    return index


def _append_recorded(path: Path, name: str, key: paramiko.PKey) -> None:
    """Append the line and index it in place when nobody else changed the file meanwhile, so
    trust-on-first-use across a fleet does not re-parse the file once per new host."""
    cached = _CACHE.get(path)
    unchanged = cached is not None and cached[0] == _stamp(path.stat())
    _append(path, f"{name} {key.get_name()} {key.get_base64()}\n")
    if cached is None or not unchanged:
        return  # changed elsewhere (or never loaded): the next lookup re-parses it
    index = cached[1]
    index.lines += 1
    index.add(name, Entry(PLAIN, key.get_name(), key.asbytes(), path, index.lines))
    _CACHE[path] = (_stamp(path.stat()), index)


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
