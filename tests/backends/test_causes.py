"""Why a host was not audited, classified from real failures against real listeners and sshd.

Each case provokes the failure for real and checks the cause taken from the exception's class;
the same message read by the fallback for old reports must agree.
"""

from __future__ import annotations

import errno
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from driftcheck.causes import cause_of_exception, cause_of_message, group_by_cause, host_cause
from driftcheck.errors import HostKeyChangedError, TransportError, UnreachableError
from driftcheck.model import Host
from tests.backends.conftest import connect, host_for
from tests.sshd import Sshd, free_address, free_port, keygen

pytestmark = pytest.mark.sshd


def failure(make: Callable[[], object]) -> TransportError:
    with pytest.raises(TransportError) as caught:
        make()
    return caught.value


def plain(address: str, port: int) -> Host:
    return Host("h", (), {"ansible_host": address, "ansible_port": port})


@pytest.fixture
def full_backlog() -> Iterator[tuple[str, int]]:
    """A port whose accept queue is full: Linux drops further SYNs, so connecting times out."""
    server = socket.socket()
    server.bind((free_address(), 0))
    server.listen(0)
    address, port = server.getsockname()
    filler = socket.create_connection((address, port), timeout=1)
    yield address, port
    filler.close()
    server.close()


@pytest.fixture
def not_ssh() -> Iterator[tuple[str, int]]:
    """Answers like a web server, then hangs up: no SSH handshake."""
    server = socket.create_server((free_address(), 0))
    address, port = server.getsockname()

    def answer() -> None:
        peer, _ = server.accept()
        peer.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")
        peer.close()

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    yield address, port
    thread.join(5)
    server.close()


def test_refused(tmp_path: Path) -> None:
    address = free_address()
    exc = failure(lambda: connect(plain(address, free_port(address)), tmp_path / "kh", timeout=5))
    assert cause_of_exception(exc) == cause_of_message(str(exc)) == "refused"


def test_timed_out(full_backlog: tuple[str, int], tmp_path: Path) -> None:
    exc = failure(lambda: connect(plain(*full_backlog), tmp_path / "kh", timeout=1))
    assert cause_of_exception(exc) == cause_of_message(str(exc)) == "timed out"


def test_no_handshake(not_ssh: tuple[str, int], tmp_path: Path) -> None:
    exc = failure(lambda: connect(plain(*not_ssh), tmp_path / "kh", timeout=5))
    assert cause_of_exception(exc) == cause_of_message(str(exc)) == "no handshake"


def test_key_unknown(sshd: Sshd, tmp_path: Path) -> None:
    exc = failure(lambda: connect(host_for(sshd), tmp_path / "known_hosts"))
    assert cause_of_exception(exc) == cause_of_message(str(exc)) == "key unknown"


def test_key_changed(sshd: Sshd, tmp_path: Path) -> None:
    other = keygen(tmp_path / "other_host_key")
    known = tmp_path / "known_hosts"
    pub = Path(f"{other}.pub").read_text().split()
    known.write_text(f"{sshd.host_name()} {pub[0]} {pub[1]}\n")
    exc = failure(lambda: connect(host_for(sshd), known))
    assert cause_of_exception(exc) == cause_of_message(str(exc)) == "key changed"


def test_authentication(sshd: Sshd, known_hosts: Path, tmp_path: Path) -> None:
    stranger = keygen(tmp_path / "stranger")
    host = host_for(sshd, ansible_ssh_private_key_file=str(stranger))
    exc = failure(lambda: connect(host, known_hosts))
    assert cause_of_exception(exc) == cause_of_message(str(exc)) == "authentication"


@pytest.mark.parametrize(
    ("below", "cause"),
    [
        (OSError(errno.EHOSTUNREACH, "No route to host"), "no route"),
        (OSError(errno.ENETUNREACH, "Network is unreachable"), "no route"),
        (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), "unknown name"),
    ],
)
def test_no_route_and_unknown_names(below: OSError, cause: str) -> None:
    # Loopback never answers "no route" and this machine has no DNS to fail: the socket errors
    # are built here, shaped as driftcheck.backends.ssh._tcp wraps them.
    exc = UnreachableError(f"10.9.9.9:22: cannot connect: {below.strerror}")
    exc.__cause__ = below  # what `raise ... from below` sets
    assert cause_of_exception(exc) == cause_of_message(str(exc)) == cause


def test_the_class_decides_whatever_the_wording() -> None:
    # Messages get reworded (REVOKED, ProxyCommand...); the recorded cause must not move.
    assert cause_of_exception(HostKeyChangedError("web01: key on the revocation list")) == (
        "key changed"
    )


def test_recorded_cause_wins_and_old_reports_fall_back_to_the_message() -> None:
    recorded = {"status": "unreachable", "cause": "timed out", "error": "Connection refused"}
    old = {"status": "unreachable", "error": "10.0.0.1:22: cannot connect: Connection refused"}
    assert host_cause(recorded) == "timed out"
    assert host_cause(old) == "refused"
    assert host_cause({"status": "compliant"}) is None
    assert host_cause({"status": "error", "cause": "made-up", "error": None}) == "other"


def test_groups_count_first_and_split_by_jump_host() -> None:
    behind = "via jump host admin@bastion-2:22: 10.0.0.{}:22: TCP connect timed out"
    hosts = [
        {"name": f"h{i}", "status": "unreachable", "cause": "timed out", "error": behind.format(i)}
        for i in range(3)
    ]
    hosts += [{"name": "k", "status": "unreachable", "cause": "key changed", "error": "x"}]
    hosts += [{"name": "t", "status": "unreachable", "cause": "timed out", "error": "y"}]
    other_port = "via jump host root@bastion-3:2222: no tunnel to x before the deadline"
    hosts += [{"name": "p", "status": "unreachable", "cause": "timed out", "error": other_port}]
    groups = group_by_cause(hosts)
    assert [(len(g.hosts), g.label) for g in groups] == [
        (3, "behind bastion-2 timed out"),
        (1, "timed out"),
        (1, "behind bastion-3:2222 timed out"),
        (1, "key changed"),
    ]
