"""Benchmark of the peer comparison (the fleet stage) at 1,000 hosts x 2,000 items per host.

The target: under 2 s, with memory that does not grow with the square of anything. The
hosts are synthetic peer values (what fleet/values.py makes of observed state): 10 groups,
1,500 packages, 300 units, 200 conffiles per host, and drift on some hosts (an extra package,
another version, an edited conffile, a stopped service). Measures the stage alone (apply_peers),
wall time (median of 3) and the peak of memory it allocates (tracemalloc, one separate run).

    .venv/bin/python -m bench.peers_majority [--hosts 1000] [--items 2000] [--groups 10]
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc

from driftcheck.fleet.peers import PeerInput, apply_peers
from driftcheck.fleet.values import Item, PeerValues, item
from driftcheck.model import Host, HostResult
from driftcheck.model.shared import Sharing, intern
from driftcheck.model.vocab import Status


def base_values(items: int) -> dict[Item, str]:
    values: dict[Item, str] = {}
    packages, units = items * 3 // 4, items * 3 // 20
    for i in range(packages):
        values[item("package", f"pkg{i}")] = f"1.{i % 7}.{i % 3}-1"
    for i in range(units):
        values[item("service", f"unit{i}.service")] = (
            "enabled, active" if i % 2 else "static, inactive"
        )
    for i in range(items - packages - units - 2):
        values[item("file", f"/etc/conf{i}")] = f"md5:{i:032x} 0644 root:root"
    values[item("host", "os")] = "Debian GNU/Linux 12 (bookworm)"
    values[item("host", "kernel")] = "6.1.0-28-amd64"
    return values


def fleet(hosts: int, items: int, groups: int) -> list[PeerInput]:
    audits = []
    sharing: Sharing[str] = Sharing(intern)  # as peer_values keeps them: one copy of the base
    for n in range(hosts):
        values = base_values(items)  # fresh strings per host, as parsing each host's output makes
        if n % 10 == 1:
            values[item("package", f"extra{n}")] = "0.1"
        if n % 10 == 2:
            values[item("package", "pkg5")] = "0.9-1"
        if n % 10 == 3:
            values[item("file", "/etc/conf7")] = f"md5:{n:032x} 0644 root:root"
        if n % 10 == 4:
            values[item("service", "unit3.service")] = "disabled, inactive"
        host = Host(f"h{n:04d}", (f"g{n % groups}",))
        peer = PeerValues(host.name, sharing.share(values))
        audits.append(PeerInput(HostResult(host, Status.UNCHECKED), peer))
    return audits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--groups", type=int, default=10)
    args = parser.parse_args()
    audits = fleet(args.hosts, args.items, args.groups)
    depths = {f"g{i}": 1 for i in range(args.groups)} | {"all": 0}
    times = []
    for _ in range(3):
        started = time.perf_counter()
        results = apply_peers(audits, depths)
        times.append(time.perf_counter() - started)
    tracemalloc.start()
    apply_peers(audits, depths)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    findings = sum(len(r.findings) for r in results)
    snowflakes = sum(r.status is Status.SNOWFLAKE for r in results)
    print(
        f"{args.hosts} hosts x {args.items} items, {args.groups} groups: "
        f"median {statistics.median(times):.3f} s (runs: {', '.join(f'{t:.3f}' for t in times)}), "
        f"peak allocated {peak / 2**20:.1f} MiB, {findings} findings on {snowflakes} snowflakes"
    )


if __name__ == "__main__":
    main()
