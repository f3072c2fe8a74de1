"""What one collection costs a host: its CPU and the bytes it sends back, plain and with peers,
and with peers one part left out at a time (so each part's share is the difference).

    make lab-up && .venv/bin/python -m bench.hostcost --host web01 --rounds 20 [--baseline DIR]

The collector script is built as a scan builds it, copied to the host once, and run `--rounds`
times in a row under one shell whose `times` gives the children's CPU; the variants take turns
(A B C A B C ...) so that load on a shared machine falls on all of them alike. Figures are the
median per collection of `--repeat` such turns.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from driftcheck.collectors.script import build_script
from driftcheck.fleet import with_peers
from driftcheck.inventory import load_inventory
from driftcheck.model import DeclaredState
from driftcheck.state import load_declared_state
from tests.lab.lab import Lab

REMOTE = "/var/tmp/driftcheck-hostcost.sh"  # noqa: S108 - a lab host of ours, root only


def variants(state: DeclaredState) -> dict[str, str]:
    nonce = secrets.token_hex(8)
    peers = with_peers(state, True)
    return {
        "plain scan": build_script(state, nonce, records=False),
        "--peers": build_script(peers, nonce),
        "--peers, no trees": build_script(replace(peers, peer_trees=()), nonce),
        "--peers, no records": build_script(peers, nonce, records=False),
        # as on a host without podman or docker (which costs two `command -v`)
        "--peers, no engine": _without_engines(build_script(peers, nonce)),
        # what --peers collected before the config trees, the evidence and container changes
        # (--baseline measures that release's own script)
        "units + conffiles only": _without_engines(
            build_script(replace(peers, peer_trees=()), nonce, records=False)
        ),
    }


def _without_engines(script: str) -> str:
    """The script without its container calls (their function definitions stay)."""
    lines = script.split("\n")
    calls = ("dc_containers", "dc_containers running")
    return "\n".join(x for x in lines if x not in calls and not x.startswith("dc_changed "))


# Run in the other checkout, with its own code: the script it would send this host.
_BASELINE = """
import secrets, sys
from pathlib import Path
from driftcheck.collectors.script import build_script
from driftcheck.fleet import with_peers
from driftcheck.inventory import load_inventory
from driftcheck.state import load_declared_state
inventory = Path(sys.argv[1])
host = load_inventory(inventory).hosts[sys.argv[2]]
state = load_declared_state(inventory.parent / "states", host)
state = with_peers(state, True) if sys.argv[3] == "peers" else state
sys.stdout.write(build_script(state, secrets.token_hex(8)))
"""


def baseline_script(checkout: Path, inventory: Path, host: str, *, peers: bool) -> str:
    argv = [sys.executable, "-c", _BASELINE, str(inventory), host, "peers" if peers else "plain"]
    return subprocess.run(argv, cwd=checkout, capture_output=True, text=True, check=True).stdout


def measure(lab: Lab, host: str, script: str, rounds: int) -> tuple[float, int]:
    """(host CPU ms per collection, bytes of output per collection)."""
    lab.ssh(host, f"cat > {REMOTE}", input=script.encode())
    loop = (
        f"for i in $(seq {rounds}); do sh {REMOTE} </dev/null >/dev/null 2>&1; done; times; "
        f"sh {REMOTE} </dev/null 2>/dev/null | wc -c"
    )
    out = lab.ssh(host, loop, timeout=600).stdout.decode().split("\n")
    children = out[1].split()  # `times`: shell's user sys, then children's user sys
    seconds = sum(_seconds(part) for part in children)
    return 1000 * seconds / rounds, int(out[2])


def _seconds(text: str) -> float:
    minutes, _, rest = text.partition("m")
    return int(minutes) * 60 + float(rest.rstrip("s"))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="web01")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--baseline",
        type=Path,
        help="a checkout of another release: its plain and --peers scripts are measured too",
    )
    args = parser.parse_args(argv)
    lab = Lab.load()
    inventory = load_inventory(lab.inventory)
    state = load_declared_state(lab.inventory.parent / "states", inventory.hosts[args.host])
    scripts = variants(state)
    if args.baseline is not None:
        for name, peers in (("baseline plain", False), ("baseline --peers", True)):
            scripts[name] = baseline_script(args.baseline, lab.inventory, args.host, peers=peers)
    cpu: dict[str, list[float]] = {name: [] for name in scripts}
    size: dict[str, int] = {}
    for _ in range(args.repeat):
        for name, script in scripts.items():
            ms, size[name] = measure(lab, args.host, script, args.rounds)
            cpu[name].append(ms)
    lab.ssh(args.host, f"rm -f {REMOTE}")
    base = statistics.median(cpu["plain scan"])
    print(f"{args.host}: {args.repeat} x {args.rounds} collections each, interleaved")
    print(f"{'':22} {'host CPU':>10} {'vs plain':>9} {'bytes':>9}")
    for name in scripts:
        ms = statistics.median(cpu[name])
        print(f"{name:22} {ms:8.1f} ms {ms / base:8.2f}x {size[name] / 1000:7.1f} KB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
