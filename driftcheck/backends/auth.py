"""Public-key authentication only: key files (each with its certificate first, if it has one),
then ssh-agent keys. Never a password prompt, never agent forwarding (the agent is only asked to
sign our own login).

A key's certificate is `KEY-cert.pub` beside it, or an ssh_config CertificateFile whose public
key is that key's, as OpenSSH pairs them; the server then decides (TrustedUserCAKeys)."""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import paramiko
import paramiko.agent
from paramiko.pkey import PublicBlob

from driftcheck.backends.target import AGENT_FROM_ENV, Target
from driftcheck.backends.watchdog import Watchdog
from driftcheck.errors import AuthError, DeadlineError

_KEYS: dict[tuple[Path, Path | None], tuple[tuple[int, int], paramiko.PKey]] = {}
_LOCK = threading.Lock()


def authenticate(
    transport: paramiko.Transport, hop: Target, deadline: float, watchdog: Watchdog, via: str
) -> None:
    keys, notes = load_keys(hop.key_files, hop.cert_files)
    agent = _agent(hop.agent)
    try:
        tried = [*keys, *_agent_keys(agent, hop, keys)]
        if not tried:
            raise AuthError(f"{via}{hop}: no usable private key ({'; '.join(notes)}) and no agent")
        for key in tried:
            if _try_key(transport, hop, key, deadline=deadline, watchdog=watchdog, via=via):
                return
    finally:
        if agent is not None:
            agent.close()
    detail = f"; skipped {'; '.join(notes)}" if notes else ""
    raise AuthError(f"{via}{hop}: authentication failed with {len(tried)} key(s){detail}")


def _try_key(
    transport: paramiko.Transport,
    hop: Target,
    key: paramiko.PKey,
    *,
    deadline: float,
    watchdog: Watchdog,
    via: str,
) -> bool:
    transport.auth_timeout = max(0.001, deadline - time.monotonic())
    try:
        transport.auth_publickey(hop.user, key)
    except paramiko.AuthenticationException:
        return False
    except (paramiko.SSHException, OSError, EOFError) as exc:
        if watchdog.fired or time.monotonic() >= deadline:
            message = f"{via}{hop}: authentication still running at the deadline"
            raise DeadlineError(message) from exc
        raise AuthError(f"{via}{hop}: authentication failed: {exc}") from exc
    return transport.is_authenticated()  # False on partial success (another factor wanted)


def _agent(where: str | None) -> _AgentAt | None:
    """The agent IdentityAgent names: SSH_AUTH_SOCK's (the default), a socket path, or none."""
    path = os.environ.get(AGENT_FROM_ENV) if where == AGENT_FROM_ENV else where
    if not path:
        return None
    agent = _AgentAt()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
        agent.connect(sock)
    except (OSError, paramiko.SSHException):
        sock.close()
        return None  # a dead agent socket: the key files may still do
    return agent


class _AgentAt(paramiko.agent.AgentSSH):
    """paramiko.Agent reads SSH_AUTH_SOCK only; this one talks to the socket it is given."""

    def connect(self, sock: socket.socket) -> None:
        self._connect(sock)  # type: ignore[attr-defined]  # private in paramiko's stubs

    def close(self) -> None:
        self._close()  # type: ignore[attr-defined]


def _agent_keys(
    agent: _AgentAt | None, hop: Target, keys: list[paramiko.PKey]
) -> list[paramiko.PKey]:
    """The agent's keys; with IdentitiesOnly, only those of the identity files (their private
    or .pub file), as ssh does."""
    if agent is None:
        return []
    offered: list[paramiko.PKey] = list(agent.get_keys())
    if not hop.identities_only:
        return offered
    allowed = {_public_fields(k) for k in keys} | _public_files(hop.key_files)
    return [k for k in offered if _public_fields(k) in allowed]


def _public_files(paths: tuple[Path, ...]) -> set[bytes]:
    found: set[bytes] = set()
    for path in paths:
        try:
            found.add(_certified_key(PublicBlob.from_file(f"{path}.pub"), plain=True))
        except (OSError, ValueError, paramiko.SSHException):
            continue
    return found


def load_keys(
    paths: tuple[Path, ...], cert_files: tuple[Path, ...] = ()
) -> tuple[list[paramiko.PKey], list[str]]:
    """The keys that load without a passphrase (each preceded by its certified copies), and a
    note for each key or certificate that does not load."""
    certs, notes = _load_certs(cert_files)
    keys: list[paramiko.PKey] = []
    for path in paths:
        try:
            key = _load_key(path, None)
        except FileNotFoundError:
            notes.append(f"{path}: not found")
            continue
        except paramiko.PasswordRequiredException:
            notes.append(f"{path}: encrypted (use ssh-agent)")
            continue
        except (OSError, ValueError, paramiko.SSHException) as exc:
            notes.append(f"{path}: {exc}")
            continue
        for cert in _certs_for(path, key, certs):
            try:
                keys.append(_load_key(path, cert))
            except (OSError, ValueError, paramiko.SSHException) as exc:
                notes.append(f"{cert}: {exc}")
        keys.append(key)
    return keys, notes


def _load_certs(paths: tuple[Path, ...]) -> tuple[list[tuple[Path, bytes]], list[str]]:
    """CertificateFile entries: (path, the public key the certificate certifies)."""
    certs: list[tuple[Path, bytes]] = []
    notes: list[str] = []
    for path in paths:
        try:
            certs.append((path, _certified_key(PublicBlob.from_file(str(path)))))
        except (OSError, ValueError, paramiko.SSHException) as exc:
            notes.append(f"{path}: {exc}")
    return certs, notes


def _certs_for(key_path: Path, key: paramiko.PKey, certs: list[tuple[Path, bytes]]) -> list[Path]:
    """The CertificateFiles certifying this key, then KEY-cert.pub beside it if present."""
    own = _public_fields(key)
    found = [path for path, certified in certs if certified.startswith(own)]
    beside = key_path.with_name(key_path.name + "-cert.pub")
    if beside.is_file() and beside not in found:
        found.append(beside)
    return found


def _certified_key(blob: PublicBlob, *, plain: bool = False) -> bytes:
    """A certificate blob is: type, nonce, the certified key's fields, then the rest
    (PROTOCOL.certkeys); compared by prefix against a key's fields. `plain`: a public key's
    fields (its blob without the type)."""
    if not plain and not blob.key_type.endswith("-cert-v01@openssh.com"):
        raise ValueError(f"not a certificate ({blob.key_type})")
    msg = paramiko.Message(blob.key_blob)
    msg.get_text()  # type
    if not plain:
        msg.get_binary()  # nonce
    data: bytes = blob.key_blob
    return data[msg.packet.tell() :]


def _public_fields(key: paramiko.PKey) -> bytes:
    """A public key blob without its leading type string."""
    msg = paramiko.Message(key.asbytes())
    msg.get_text()
    return key.asbytes()[msg.packet.tell() :]


def _load_key(path: Path, cert: Path | None) -> paramiko.PKey:
    """Parsed once per file version: a fleet logs in with the same key many times. A certified
    key is its own object: load_certificate changes the key it is called on."""
    stamp = (path.stat().st_mtime_ns, cert.stat().st_mtime_ns if cert else 0)
    with _LOCK:
        cached = _KEYS.get((path, cert))
        if cached and cached[0] == stamp:
            return cached[1]
    try:
        key = paramiko.PKey.from_path(path)
    except TypeError as exc:
        # PKey.from_path lets cryptography's "Key is password-protected" TypeError through
        # for OpenSSH-format keys (the default of ssh-keygen), instead of its own exception.
        raise paramiko.PasswordRequiredException(str(exc)) from exc
    if cert is not None:
        key.load_certificate(str(cert))
    with _LOCK:
        _KEYS[(path, cert)] = (stamp, key)
    return key
