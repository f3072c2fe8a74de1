"""Programs an inventory names, run on this machine within bounds (README: *Limits*).

Inventory scripts, `ansible-inventory` for plugin configurations and vault password scripts
run through the local backend's runner: at `timeout` seconds the program's whole session is
killed, and past its output cap it is killed too. Either stops the run (exit 3) naming the
program: Ansible would wait for ever and read everything, and a nightly run would pile up.
A pipe or a device named as a file (`--vault-password-file <(pass show vault)`) is read
within the same bounds (`read_within`).
"""

from __future__ import annotations

import os
import select
import time
from collections.abc import Sequence

from driftcheck.backends.local import LocalBackend
from driftcheck.backends.options import TransportOptions
from driftcheck.errors import DeadlineError, InventoryError
from driftcheck.limits import size_text
from driftcheck.model import CommandResult, Host

TIMEOUT = 30.0  # seconds, unless the command's --timeout says otherwise
INVENTORY_OUTPUT_CAP = 64 << 20  # an inventory script's or ansible-inventory's JSON
SECRET_OUTPUT_CAP = 64 << 10  # a vault password script's output: a password, not a file


def run_program(
    argv: Sequence[str], path: str, what: str, timeout: float, cap: int
) -> CommandResult:
    """Its result (any exit status); InventoryError naming `path` past the time or the cap."""
    options = TransportOptions(timeout=timeout, output_cap=cap)
    backend = LocalBackend(Host("localhost"), options)
    try:
        result = backend.run(argv, b"", time.monotonic() + timeout)
    except DeadlineError:
        raise InventoryError(
            path, None, f"{what} still running after {timeout:g}s (killed)"
        ) from None
    if result.truncated:
        raise InventoryError(path, None, f"{what} printed more than {size_text(cap)} (killed)")
    return result


def read_within(path: str, what: str, timeout: float, cap: int) -> bytes:
    """All of a pipe or device `path`, or InventoryError naming it: past `timeout` seconds (a
    FIFO nobody writes to, a writer that never closes it) or `cap` bytes (/dev/zero). Opened
    without blocking, read only when poll says so: a FIFO that no writer has opened yet is
    waited for, not taken for an empty file."""
    deadline = time.monotonic() + timeout
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        raise InventoryError(path, None, f"{what} could not be read: {exc.strerror}") from None
    chunks: list[bytes] = []
    size = 0
    try:
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        while (left := deadline - time.monotonic()) > 0:
            if not poller.poll(max(1, int(left * 1000))):
                continue
            try:
                chunk = os.read(fd, 1 << 16)
            except BlockingIOError:
                continue
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > cap:
                raise InventoryError(path, None, f"{what} larger than {size_text(cap)}")
            chunks.append(chunk)
    finally:
        os.close(fd)
    raise InventoryError(path, None, f"{what} not read whole within {timeout:g}s")
