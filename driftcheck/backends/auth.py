"""Public-key authentication only: key files, then ssh-agent keys. Never a password prompt,
never agent forwarding (the agent is only asked to sign our own login)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import paramiko

from driftcheck.backends.target import Target
from driftcheck.backends.watchdog import Watchdog
from driftcheck.errors import AuthError, DeadlineError

_KEYS: dict[Path, tuple[int, paramiko.PKey]] = {}
_LOCK = threading.Lock()


def authenticate(
    transport: paramiko.Transport, hop: Target, deadline: float, watchdog: Watchdog, via: str
) -> None:
    keys, notes = load_keys(hop.key_files)
    agent = _agent()
    try:
        tried = [*keys, *(agent.get_keys() if agent else ())]
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


def _agent() -> paramiko.Agent | None:
    if not os.environ.get("SSH_AUTH_SOCK"):
        return None
    try:
        return paramiko.Agent()
    except paramiko.SSHException:
        return None  # a dead agent socket: the key files may still do


def load_keys(paths: tuple[Path, ...]) -> tuple[list[paramiko.PKey], list[str]]:
    """The keys that load without a passphrase, and a note for each one that does not."""
    keys: list[paramiko.PKey] = []
    notes: list[str] = []
    for path in paths:
        try:
            keys.append(_load_key(path))
        except FileNotFoundError:
            notes.append(f"{path}: not found")
        except paramiko.PasswordRequiredException:
            notes.append(f"{path}: encrypted (use ssh-agent)")
        except (OSError, ValueError, paramiko.SSHException) as exc:
            notes.append(f"{path}: {exc}")
    return keys, notes


def _load_key(path: Path) -> paramiko.PKey:
    """Parsed once per file version: a fleet logs in with the same key many times."""
    stamp = path.stat().st_mtime_ns
    with _LOCK:
        cached = _KEYS.get(path)
        if cached and cached[0] == stamp:
            return cached[1]
    key = paramiko.PKey.from_path(path)
    with _LOCK:
        _KEYS[path] = (stamp, key)
    return key
