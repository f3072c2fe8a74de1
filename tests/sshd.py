"""A real OpenSSH server for tests: `/usr/sbin/sshd -D -e` on a loopback address and port.

    with Sshd.start(tmp_path) as server:        # or: server = Sshd.start(...); server.stop()
        server.known_hosts_line()               # "[127.88.x.y]:PORT ssh-ed25519 AAAA..."
        server.client_key                       # private key authorized for root (or `user=`)

Each server gets its own host key, client key and config in `workdir`; it is ready when it
answers with an SSH banner (polled, never a fixed sleep). Needs root (sshd privilege separation).
"""

from __future__ import annotations

import base64
import getpass
import hashlib
import hmac
import os
import random
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

SSHD = "/usr/sbin/sshd"
READY_TIMEOUT = 10.0

_CONFIG = """\
ListenAddress {address}:{port}
HostKey {host_key}
PidFile none
AuthorizedKeysFile {authorized_keys}
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
AllowAgentForwarding no
X11Forwarding no
PrintMotd no
MaxStartups 200:30:400
LogLevel {log_level}
"""


def keygen(path: Path, kind: str = "ed25519") -> Path:
    """A passphrase-less key pair at `path` and `path.pub`."""
    subprocess.run(
        ["ssh-keygen", "-q", "-t", kind, "-N", "", "-C", "driftcheck-test", "-f", str(path)],
        check=True,
    )
    return path


def sign_user_key(ca: Path, key: Path, principals: str, *, identity: str = "driftcheck") -> Path:
    """A user certificate for `key` signed by the CA key `ca`: `KEY-cert.pub` beside `key`.
    A server trusts it with `TrustedUserCAKeys CA.pub` in `extra_config`."""
    subprocess.run(
        ["ssh-keygen", "-q", "-s", str(ca), "-I", identity, "-n", principals, f"{key}.pub"],
        check=True,
    )
    return key.with_name(f"{key.name}-cert.pub")


def free_address() -> str:
    """A loopback address few others use (127.88.0.0/16), so tests do not collide."""
    return f"127.88.{random.randint(1, 254)}.{random.randint(1, 254)}"


def free_port(address: str) -> int:
    with socket.socket() as s:
        s.bind((address, 0))
        return int(s.getsockname()[1])


def hash_hostname(name: str, salt: bytes | None = None) -> str:
    """An OpenSSH HashKnownHosts entry (`|1|salt|hmac`) for `name`."""
    salt = salt or os.urandom(20)
    digest = hmac.new(salt, name.encode(), hashlib.sha1).digest()
    return f"|1|{base64.b64encode(salt).decode()}|{base64.b64encode(digest).decode()}"


@dataclass
class Sshd:
    workdir: Path
    address: str
    port: int
    host_key: Path
    client_key: Path
    user: str
    proc: subprocess.Popen[bytes] | None = None
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.workdir / "sshd.log"

    @classmethod
    def start(
        cls,
        workdir: Path,
        *,
        address: str | None = None,
        port: int | None = None,
        user: str | None = None,
        client_key: Path | None = None,
        host_key: Path | None = None,
        extra_config: str = "",
        log_level: str = "ERROR",
    ) -> Sshd:
        """Start a server; `client_key` (made if None) may log in as `user` (default: us)."""
        workdir.mkdir(parents=True, exist_ok=True)
        address = address or free_address()
        server = cls(
            workdir=workdir,
            address=address,
            port=port or free_port(address),
            host_key=host_key or keygen(workdir / "ssh_host_ed25519_key"),
            client_key=client_key or keygen(workdir / "id_ed25519"),
            user=user or getpass.getuser(),
        )
        server._write_config(extra_config, log_level)
        server._launch()
        return server

    @property
    def config(self) -> Path:
        return self.workdir / "sshd_config"

    def host_public_key(self) -> str:
        """`TYPE BASE64` of the host key."""
        kind, blob = Path(f"{self.host_key}.pub").read_text().split()[:2]
        return f"{kind} {blob}"

    def host_name(self) -> str:
        return self.address if self.port == 22 else f"[{self.address}]:{self.port}"

    def known_hosts_line(self, *, hashed: bool = False) -> str:
        name = hash_hostname(self.host_name()) if hashed else self.host_name()
        return f"{name} {self.host_public_key()}\n"

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def restart(self) -> None:
        """Stop and start again on the same address (e.g. after replacing the host key)."""
        self.stop()
        self._launch()

    def __enter__(self) -> Sshd:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _write_config(self, extra: str, log_level: str) -> None:
        authorized = self.workdir / "authorized_keys"
        authorized.write_text(Path(f"{self.client_key}.pub").read_text())
        authorized.chmod(0o644)  # read by sshd as the logging-in user
        text = _CONFIG.format(
            address=self.address,
            port=self.port,
            host_key=self.host_key,
            authorized_keys=authorized,
            log_level=log_level,
        )
        self.config.write_text(text + extra)

    def _launch(self) -> None:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation dir
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [SSHD, "-D", "-e", "-f", str(self.config)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        self._wait_ready()

    def _wait_ready(self) -> None:
        end = time.monotonic() + READY_TIMEOUT
        delay = 0.005
        while time.monotonic() < end:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"sshd exited {self.proc.returncode}: {self.log.read_text()}")
            if _banner(self.address, self.port):
                return
            time.sleep(delay)  # polling back-off, not a fixed wait
            delay = min(delay * 2, 0.1)
        self.stop()
        raise RuntimeError(f"sshd on {self.address}:{self.port} not ready: {self.log.read_text()}")


def _banner(address: str, port: int) -> bool:
    try:
        with socket.create_connection((address, port), timeout=1) as s:
            return s.recv(4) == b"SSH-"
    except OSError:
        return False
