"""Hostile hosts for tests: a real sshd whose `ForceCommand` replaces what the host runs.

These are fakes, and say so: no real host prints a million packages. The SSH side is real
(OpenSSH, a real host key, real auth); only the command behind it is the attacker's:

- `flood`: endless output (driftcheck's per-host output cap must stop it);
- `drip`: one byte every 0.2 s forever (the per-host deadline must stop it);
- `hang`: accepts the command and never prints (the deadline again);
- `million`: the REAL collector script runs, in a private mount namespace where
  /usr/bin/dpkg-query is a script printing 1,000,000 valid package lines (~46 MB, under the
  64 MiB cap) from a file made once. Needs root (unshare, mount), as sshd does.
"""

from __future__ import annotations

from pathlib import Path

from tests.sshd import Sshd, keygen

MILLION = 1_000_000

# ForceCommand runs through the user's shell with `-c`: plain sh text, no driftcheck quoting.
_COMMANDS = {
    "flood": "exec cat /dev/zero",
    "drip": "while :; do printf x; sleep 0.2; done",
    "hang": "exec sleep 3600",
}


def dpkg_lines(count: int) -> bytes:
    """`count` installed packages exactly as `dpkg-query -W -f` prints them (49 bytes a line
    for a million)."""
    line = "install ok installed\tpkg{:07d}\t1.0.{}-1\tamd64\n"
    return "".join(line.format(n, n % 10) for n in range(count)).encode()


def million_command(workdir: Path, count: int = MILLION) -> str:
    """The real collector (from stdin) with a `dpkg-query` that prints `count` packages."""
    fake = workdir / f"dpkg-{count}.txt"
    if not fake.exists():
        fake.write_bytes(dpkg_lines(count))
    shim = workdir / "dpkg-query"
    shim.write_text(f"#!/bin/sh\nexec cat {fake}\n")
    shim.chmod(0o755)
    return (
        f"exec unshare -m /bin/sh -c 'mount --bind {shim} /usr/bin/dpkg-query && exec /bin/sh -s'"
    )


def start(kind: str, workdir: Path, *, client_key: Path | None = None, **fake: int) -> Sshd:
    """A real sshd on a loopback address whose every session runs the `kind` fake."""
    workdir.mkdir(parents=True, exist_ok=True)
    command = million_command(workdir, **fake) if kind == "million" else _COMMANDS[kind]
    return Sshd.start(
        workdir,
        client_key=client_key or keygen(workdir / "id_ed25519"),
        extra_config=f"ForceCommand {command}\n",
    )
