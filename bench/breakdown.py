"""Where a scan's client CPU goes per host, stage by stage, on real collector output.

    .venv/bin/python -m bench.breakdown --hosts 1000

The collector runs once on this machine (the local backend: the same script and output an sshd
farm host gives, since farm hosts share this filesystem). Then, timed with the process's CPU
clock: parsing that output and comparing it with the farm's declared state (per host), and
publishing a report of `--hosts` such hosts (JSON, text, HTML, history), per host. Start-up and
the SSH transport are measured as whole processes by `make bench` (bench/fleet.py).
"""

from __future__ import annotations

import argparse
import resource
import secrets
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.farm import STATES
from driftcheck.backends import TransportOptions, open_backend
from driftcheck.collectors import packages
from driftcheck.collectors.script import build_script, parse_output
from driftcheck.compare import compare
from driftcheck.inventory import load_inventory
from driftcheck.model import CommandResult, DeclaredState, Host, HostResult, Observed
from driftcheck.model.document import RunInfo, build_report
from driftcheck.nightly.lock import locked_report_dir
from driftcheck.nightly.publish import PublishOptions, publish
from driftcheck.scan import classify, facts_entry
from driftcheck.shell import bounded_sh
from driftcheck.state import load_declared_state


def cpu_ms(work: Callable[[], Any], repeat: int) -> float:
    """CPU milliseconds per call (process time: what the client pays, whatever the load)."""
    started = time.process_time()
    for _ in range(repeat):
        work()
    return 1000 * (time.process_time() - started) / repeat


def parse_unshared(output: CommandResult, state: DeclaredState, nonce: str) -> Observed:
    """parse_output as for a host whose packages no other host has: nothing shared to reuse."""
    packages._PARSED.clear()
    packages._SHARED.clear()
    return parse_output(output, state, nonce)


def transport(farm: Path, forks: int) -> None:
    """On a running farm (bench/farm.py): driftcheck's SSH backend running `dpkg-query -W`, then
    running the whole collector script without parsing it; client CPU per host of each."""
    inventory = load_inventory(str(farm / "hosts.ini"))
    hosts = list(inventory.hosts.values())
    state = load_declared_state(farm / "states", hosts[0])
    options = TransportOptions(
        timeout=60, known_hosts=farm / "known_hosts", ssh_config=farm / "ssh_config"
    )

    def fanout(argv: Sequence[str], stdin: Callable[[], bytes]) -> tuple[float, int]:
        def one(host: Host) -> bool:
            deadline = time.monotonic() + 60
            try:
                backend = open_backend(host, options, deadline)
                try:
                    return backend.run(argv, stdin(), deadline).rc == 0
                finally:
                    backend.close()
            except Exception:  # counted as failed; a bench never stops on one host
                return False

        before = resource.getrusage(resource.RUSAGE_SELF)
        with ThreadPoolExecutor(max_workers=forks) as pool:
            ok = sum(pool.map(one, hosts))
        after = resource.getrusage(resource.RUSAGE_SELF)
        used = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        return 1000 * used / len(hosts), ok

    def script() -> bytes:
        return build_script(state, secrets.token_hex(8), time_limit=60).encode()

    for label, argv, stdin in (
        ("driftcheck's SSH backend, `dpkg-query -W`", ["dpkg-query", "-W"], lambda: b""),
        ("driftcheck's SSH backend, the collector script", bounded_sh(60), script),
    ):
        ms, ok = fanout(argv, stdin)
        print(f"| {label} ({ok}/{len(hosts)} hosts) | {ms:.2f} ms/host |")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--farm", type=Path, help="also measure the transport on this farm")
    parser.add_argument("--forks", type=int, default=32)
    args = parser.parse_args(argv)
    if args.farm:
        transport(args.farm, args.forks)
    with tempfile.TemporaryDirectory() as tmp:
        states = Path(tmp) / "states"
        states.mkdir()
        (states / "all.yml").write_text(STATES)
        host = Host("h00001", ("farm",), {"ansible_connection": "local"})
        state = load_declared_state(states, host)
        nonce = secrets.token_hex(8)
        script = build_script(state, nonce, time_limit=60)
        backend = open_backend(host, TransportOptions(timeout=60), time.monotonic() + 60)
        output = backend.run(bounded_sh(60), script.encode(), time.monotonic() + 60)
        observed = parse_output(output, state, nonce)
        findings = tuple(compare(state, observed, now=time.time()))
        status, error = classify(observed, findings)
        render = cpu_ms(lambda: load_declared_state(states, host), args.repeat)
        parse = cpu_ms(lambda: parse_output(output, state, nonce), args.repeat)
        unshared = cpu_ms(lambda: parse_unshared(output, state, nonce), args.repeat)
        comp = cpu_ms(lambda: compare(state, observed, now=time.time()), args.repeat)
        results = [
            HostResult(Host(f"h{i + 1:05d}", ("farm",)), status, findings, error,
                       facts_entry(observed), 0.3, state.sources)
            for i in range(args.hosts)
        ]  # fmt: skip
        now = time.time()
        run = RunInfo("20261130T000000Z-0000", now, now, "farm", str(states), None)

        def report() -> None:
            built = build_report(run, results, {})
            folder = Path(tempfile.mkdtemp(dir=tmp))
            # publish() writes only into the open, locked directory it is given, as a scan does
            with locked_report_dir(folder) as root:
                publish(built, PublishOptions(report_dir=folder), root)
            if not (folder / "latest" / "report.html").exists():
                raise SystemExit(f"bench: no report was written in {folder}")

        reporting = cpu_ms(report, 1) / args.hosts
    print(f"collector output: {len(output.stdout):,} bytes; script {len(script):,} bytes")
    print(f"| render and validate the host's declared state | {render:.2f} ms/host |")
    print(f"| parse the output (packages as on the last host) | {parse:.2f} ms/host |")
    print(f"| parse the output (packages on no other host) | {unshared:.2f} ms/host |")
    print(f"| compare with the declared state | {comp:.2f} ms/host |")
    print(f"| report: JSON, text, HTML, history ({args.hosts:,} hosts) | {reporting:.2f} ms/host |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
