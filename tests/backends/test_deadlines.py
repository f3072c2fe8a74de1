"""Hosts that cannot or will not talk end within the deadline, classified."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from driftcheck.errors import DeadlineError, UnreachableError
from driftcheck.model import Host
from tests.backends.conftest import connect
from tests.sshd import free_address, free_port

TIMEOUT = 1.5


class Listener:
    """Accepts TCP and then either stays silent or drips a banner one byte at a time."""

    def __init__(self, drip: bool) -> None:
        self.address = free_address()
        self.server = socket.create_server((self.address, 0))
        self.port = self.server.getsockname()[1]
        self.drip = drip
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.server.settimeout(0.05)
        peers = []
        while not self.stop.is_set():
            try:
                peer, _ = self.server.accept()
                peers.append(peer)
            except TimeoutError:
                pass
            if self.drip:
                for peer in peers:
                    self._drip(peer)
        for peer in peers:
            peer.close()

    def _drip(self, peer: socket.socket) -> None:
        with contextlib.suppress(OSError):
            peer.send(b"S")  # never completes "SSH-2.0-...\r\n"

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self.server.close()


@pytest.fixture(params=[False, True], ids=["silent", "drip"])
def listener(request: pytest.FixtureRequest) -> Iterator[Listener]:
    server = Listener(drip=request.param)
    yield server
    server.close()


def host(address: str, port: int) -> Host:
    return Host("h", (), {"ansible_host": address, "ansible_port": port})


def test_host_that_accepts_and_never_speaks_ends_at_the_deadline(
    listener: Listener, tmp_path: Path
) -> None:
    started = time.monotonic()
    with pytest.raises((UnreachableError, DeadlineError), match="deadline"):
        connect(host(listener.address, listener.port), tmp_path / "kh", timeout=TIMEOUT)
    elapsed = time.monotonic() - started
    assert TIMEOUT - 0.2 < elapsed < TIMEOUT + 1


def test_closed_port_is_unreachable_fast(tmp_path: Path) -> None:
    address = free_address()
    port = free_port(address)  # bound once, then released: nobody listens there
    started = time.monotonic()
    with pytest.raises(UnreachableError, match=f"{address}:{port}: cannot connect") as caught:
        connect(host(address, port), tmp_path / "kh", timeout=10)
    assert time.monotonic() - started < 1
    assert "\n" not in str(caught.value)
