"""The client's cost per host of whole scans, without SSH and without the hosts' work, at several
fleet sizes: a plain scan, a first `--peers` run and a second one (compared with the history),
each a separate `driftcheck scan --report-dir` process measured by the kernel (wait4).

    .venv/bin/python -m bench.peers_replay --sizes 1000 5000

The collector runs once on this machine (the local backend) for each kind of scan, as
bench/breakdown.py does. Each scan then reaches its N inventory hosts through a replay of that
output: the one fake here, standing in for what no farm on one machine can give, N machines of
their own (the farm's hosts share this machine's machine-id and boot, so to driftcheck they are
one machine and vote once) and a client alone on the CPU (the farm's hosts run their collectors
on the same two cores). Each replayed host is a machine of its own: its machine id and the
digest of its /etc/machine-id are its own, so every host votes and the peer comparison runs in
full, in 10 inventory groups; every tenth host's /etc/group differs from its peers'. What the
SSH transport adds is measured by bench/breakdown.py --farm, the whole on a farm by
bench/peers_fleet.py.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import secrets
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.farm import STATES
from bench.fleet import Run, timed
from bench.peers_fleet import HEADER, audited, row_line
from driftcheck import scan as scan_module
from driftcheck.backends import Backend, TransportOptions, open_backend
from driftcheck.cli.main import main as driftcheck_main
from driftcheck.collectors.script import build_script
from driftcheck.fleet.peers import with_peers
from driftcheck.model import CommandResult, Host
from driftcheck.shell import bounded_sh
from driftcheck.state import load_declared_state

RUNS = ("plain scan", "--peers, first run", "--peers, second run")
GROUPS = 10
_NONCE = re.compile(rb"::driftcheck:([A-Za-z0-9]+)")


@dataclass(frozen=True)
class Capture:
    """One collector output and what a replay changes in it for each host."""

    stdout: bytes
    nonce: str
    machine_id: str

    def for_host(self, index: int, nonce: str) -> bytes:
        own = hashlib.md5(f"replay-{index}".encode()).hexdigest()  # noqa: S324 - an id, not a MAC
        out = self.stdout.replace(self.nonce.encode(), nonce.encode())
        out = out.replace(self.machine_id.encode(), own.encode())
        old, new = _digest(self.machine_id), _digest(own)
        out = out.replace(f"{old}  /etc/machine-id".encode(), f"{new}  /etc/machine-id".encode())
        if index % 10 == 9:  # a hand edit, on every tenth host
            edit = _digest(f"edit {index}").encode()
            out = re.sub(rb"^[0-9a-f]{32}(?=  /etc/group$)", edit, out, count=1, flags=re.M)
        return out


def _digest(text: str) -> str:
    return hashlib.md5(f"{text}\n".encode()).hexdigest()  # noqa: S324 - as md5sum prints it


def capture(states: Path, peers: bool) -> Capture:
    """The collector's output on this machine, for the farm's state (with --peers or not)."""
    host = Host("h00000", ("farm",), {"ansible_connection": "local"})
    state = with_peers(load_declared_state(states, host), peers)
    nonce = secrets.token_hex(8)
    script = build_script(state, nonce, time_limit=120)
    backend = open_backend(host, TransportOptions(timeout=120), time.monotonic() + 120)
    output = backend.run(bounded_sh(120), script.encode(), time.monotonic() + 120)
    if output.rc != 0 or output.truncated:
        raise SystemExit(f"bench: the collector failed here (rc {output.rc})")
    machine_id = Path("/etc/machine-id").read_text().strip()
    return Capture(output.stdout, nonce, machine_id)


def child(folder: Path, argv: Sequence[str]) -> int:
    """`driftcheck scan ARGV`, every host answered by the replay in `folder`."""
    meta = json.loads((folder / "capture.json").read_text())
    kept = Capture((folder / "capture.out").read_bytes(), meta["nonce"], meta["machine_id"])

    class Replay:
        def __init__(self, host: Host) -> None:
            self.index = int(host.name.lstrip("h"))

        def run(self, argv: Sequence[str], stdin: bytes, deadline: float) -> CommandResult:
            found = _NONCE.search(stdin)
            if found is None:
                raise RuntimeError("bench: no nonce in the collector script")
            return CommandResult(0, kept.for_host(self.index, found.group(1).decode()), b"")

        def close(self) -> None:
            pass

    def replay(host: Host, options: TransportOptions, deadline: float) -> Backend:
        return Replay(host)

    patched: Any = scan_module
    patched.open_backend = replay
    return driftcheck_main(list(argv))


def inventory(path: Path, hosts: int) -> None:
    """`hosts` SSH hosts on addresses of their own, in GROUPS groups."""
    lines = []
    for group in range(GROUPS):
        lines.append(f"[g{group}]")
        lines += [
            f"h{i:05d} ansible_host=127.90.{i // 250}.{i % 250 + 1}"
            for i in range(hosts)
            if i * GROUPS // hosts == group
        ]
    path.write_text("\n".join(lines) + "\n")


def measure(hosts: int, forks: int, tmp: Path) -> list[dict[str, float | str]]:
    inventory(tmp / "hosts.ini", hosts)
    rows: list[dict[str, float | str]] = []
    for name in RUNS:
        peers = name != "plain scan"
        folder = tmp / ("peers" if peers else "plain")
        report = tmp / f"rd-{hosts}-{folder.name}"
        argv = [sys.executable, "-m", "bench.peers_replay", "--child", str(folder), "--",
                "scan", "-i", str(tmp / "hosts.ini"), "--states", str(tmp / "states"),
                "--known-hosts", str(tmp / "known_hosts"), "--forks", str(forks),
                "--timeout", "120", "--report-dir", str(report), "-q",
                *(["--peers"] if peers else [])]  # fmt: skip
        run: Run = timed(argv)
        if run.rc not in (0, 1):
            raise SystemExit(f"bench: {name} at {hosts} hosts ended with {run.rc}: {run.stdout}")
        rows.append({
            "hosts": hosts, "run": name, "wall": run.wall, "cpu_ms": 1000 * run.cpu / hosts,
            "rss": run.rss_mb, "audited": audited(report),
        })  # fmt: skip
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--forks", type=int, default=32)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args(argv)
    if args.child:
        return child(args.child, rest[1:] if rest[:1] == ["--"] else rest)
    with tempfile.TemporaryDirectory(prefix="driftcheck-replay-") as name:
        tmp = Path(name)
        (tmp / "states").mkdir()
        (tmp / "states" / "all.yml").write_text(STATES)
        (tmp / "known_hosts").write_text("")
        for kind, peers in (("plain", False), ("peers", True)):
            kept = capture(tmp / "states", peers)
            (tmp / kind).mkdir()
            (tmp / kind / "capture.out").write_bytes(kept.stdout)
            meta = {"nonce": kept.nonce, "machine_id": kept.machine_id}
            (tmp / kind / "capture.json").write_text(json.dumps(meta))
            print(f"{kind} collector output here: {len(kept.stdout):,} bytes")
        print(f"{HEADER} {'vs plain':>9}")
        for size in args.sizes:
            rows = measure(size, args.forks, tmp)
            plain = float(rows[0]["cpu_ms"])
            for row in rows:
                print(f"{row_line(row)} {float(row['cpu_ms']) / plain:>8.2f}x", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
