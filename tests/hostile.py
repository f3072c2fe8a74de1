"""Hostile hosts for tests: a real sshd whose `ForceCommand` replaces what the host runs.

These are fakes, and say so: no real host prints a million packages. The SSH side is real
(OpenSSH, a real host key, real auth); only the command behind it is the attacker's:

- `flood`: endless output (driftcheck's per-host output cap must stop it);
- `drip`: one byte every 0.2 s forever (the per-host deadline must stop it);
- `hang`: accepts the command and never prints (the deadline again);
- `million`: the REAL collector script runs, in a private mount namespace where
  /usr/bin/dpkg-query is a script printing 1,000,000 valid package lines (~46 MB, under the
  64 MiB cap) from a file made once. Needs root (unshare, mount), as sshd does.
- `cycle`: the real collector, in a private mount namespace whose /proc holds a process table
  no kernel makes (a process that is its own parent, a container's PID 1 in a cycle) and whose
  `podman` reports that one running container.
- `fifo`: the real collector, with a FIFO bound over a real dpkg conffile (/etc/debian_version)
  and over os-release (read by the shell itself).
- `machine`: the real collector, as another machine: a machine-id of its own is bound over
  /etc/machine-id, so that hosts of one test machine do not vote as one (`--peers`).
- `packages`: as `machine`, and `dpkg-query`'s package listing prints `count` valid installed
  packages of `width` bytes a line (under the package limit and the cap), named afresh for each
  run: every host it serves sends a list of its own. Its other queries (conffiles) are the real
  dpkg-query's.
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Callable, Sequence
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


def bound_command(binds: Sequence[tuple[Path, str]]) -> str:
    """The real collector (from stdin) in a private mount namespace where each (source,
    target) is bound over the host's own target."""
    mounts = " && ".join(f"mount --bind {shlex.quote(str(s))} {shlex.quote(t)}" for s, t in binds)
    return f"exec unshare -m /bin/sh -c {shlex.quote(mounts + ' && exec /bin/sh -s')}"


# a /proc/PID/stat record's tail: the 20+ numeric fields after PPID that the collector requires
_STAT_TAIL = " 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 100 0 0"
CYCLE_CONTAINER = "patched"


def cycle_command(workdir: Path) -> str:
    """A /proc where the container's PID 100 is in a cycle (100 -> 101 -> 102 -> 100, 102 a
    zombie) and PID 103 is its own parent, and a `podman` whose one running container is 100."""
    proc = workdir / "proc"
    table = [(1, "systemd", "S", 0), (100, "x", "S", 102), (101, "y", "S", 100),
             (102, "z", "Z", 101), (103, "w", "S", 103)]  # fmt: skip
    for pid, comm, state, ppid in table:
        (proc / str(pid)).mkdir(parents=True, exist_ok=True)
        (proc / str(pid) / "stat").write_text(f"{pid} ({comm}) {state} {ppid}{_STAT_TAIL}\n")
    (proc / "1" / "cmdline").write_bytes(b"/sbin/init\0")
    (proc / "sys" / "kernel").mkdir(parents=True, exist_ok=True)
    (proc / "sys" / "kernel" / "osrelease").write_text("6.1.0-hostile\n")
    for name in ("uptime", "stat"):
        (proc / name).write_bytes(Path("/proc", name).read_bytes())
    state = {"Status": "running", "Pid": 100, "StartedAt": "2026-01-01T00:00:00Z"}
    record = {"Id": "c" * 64, "Name": CYCLE_CONTAINER, "ImageName": "app:1", "State": state}
    (workdir / "inspect.json").write_text(json.dumps([record]))
    podman = workdir / "podman"
    podman.write_text(
        "#!/bin/sh\n"
        'case "$*" in\n'
        f"  'ps -a -q --no-trunc') echo {'c' * 64} ;;\n"
        f"  'container inspect '*) cat {shlex.quote(str(workdir / 'inspect.json'))} ;;\n"
        f"  'ps --filter status=running'*) echo {CYCLE_CONTAINER} ;;\n"
        "  'diff --format json '*) echo '{}' ;;\n"  # unchanged since it started
        "  *) exit 125 ;;\n"
        "esac\n"
    )
    podman.chmod(0o755)
    return bound_command([(proc, "/proc"), (podman, "/usr/bin/podman")])


FIFO_CONFFILE = "/etc/debian_version"  # a conffile of base-files on every Debian


def fifo_command(workdir: Path) -> str:
    fifo = workdir / "fifo"
    if not fifo.exists():
        os.mkfifo(fifo)
    return bound_command([(fifo, FIFO_CONFFILE), (fifo, "/usr/lib/os-release")])


# The listing's format (collect.sh): the one dpkg-query call whose format has the status in it.
_PACKAGES_SHIM = """#!/bin/sh
case "$3" in
*Status-Abbrev*)
    run=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \\n')
    exec awk -v run="$run" -v count={count} -v width={width} 'BEGIN {{
        pad = ""
        while (length(pad) < width - 44) pad = pad "x"
        for (n = 0; n < count; n++)
            printf "ii \\t%s-%07d-%s\\t1.0.%d-1\\tamd64\\n", run, n, pad, n % 10
    }}' ;;
*) exec {real} "$@" ;;
esac
"""


def own_machine(workdir: Path) -> tuple[Path, str]:
    """A machine-id of its own, to bind over /etc/machine-id."""
    machine_id = workdir / "machine-id"
    machine_id.write_text(f"{os.urandom(16).hex()}\n")
    return machine_id, "/etc/machine-id"


def packages_command(workdir: Path, count: int, width: int) -> str:
    """The real collector, as a machine of its own, with a `dpkg-query` whose listing is
    `count` packages of `width` bytes a line (at least 44), named afresh each run."""
    shim = dpkg_query_shim(workdir, lambda real: _PACKAGES_SHIM.format(
        count=count, width=width, real=real))  # fmt: skip
    return bound_command([own_machine(workdir), (shim, "/usr/bin/dpkg-query")])


def dpkg_query_shim(workdir: Path, script: Callable[[Path], str]) -> Path:
    """A `dpkg-query` in `workdir` that runs `script(real)`, `real` a copy of the real one
    beside it (for what the shim does not answer itself)."""
    real = workdir / "dpkg-query.real"
    real.write_bytes(Path("/usr/bin/dpkg-query").read_bytes())
    real.chmod(0o755)
    shim = workdir / "dpkg-query"
    shim.write_text(script(real))
    shim.chmod(0o755)
    return shim


def start(kind: str, workdir: Path, *, client_key: Path | None = None, **fake: int) -> Sshd:
    """A real sshd on a loopback address whose every session runs the `kind` fake."""
    workdir.mkdir(parents=True, exist_ok=True)
    if kind == "million":
        command = million_command(workdir, **fake)
    elif kind == "cycle":
        command = cycle_command(workdir)
    elif kind == "fifo":
        command = fifo_command(workdir)
    elif kind == "machine":
        command = bound_command([own_machine(workdir)])
    elif kind == "packages":
        command = packages_command(workdir, **fake)
    else:
        command = _COMMANDS[kind]
    return Sshd.start(
        workdir,
        client_key=client_key or keygen(workdir / "id_ed25519"),
        extra_config=f"ForceCommand {command}\n",
    )
