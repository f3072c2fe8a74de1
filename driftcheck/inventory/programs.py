"""Programs an inventory names, run on this machine within bounds (README: *Limits*).

Inventory scripts, `ansible-inventory` for plugin configurations and vault password scripts
run through the local backend's runner: at `timeout` seconds the program's whole session is
killed, and past its output cap it is killed too. Either stops the run (exit 3) naming the
program: Ansible would wait for ever and read everything, and a nightly run would pile up.
"""

from __future__ import annotations

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
