"""The baseline a scan is measured against: bare paramiko, one command per host, N in flight.

    from bench.paramiko_fanout import bare_fanout
    results = bare_fanout(hosts, forks=25, command="dpkg-query -W", known_hosts=path)

Run as a script, it starts N real sshd servers on loopback and compares, side by side and
interleaved, bare paramiko with driftcheck's SSH backend running the same command:

    .venv/bin/python -m bench.paramiko_fanout --hosts 50 --forks 25 --rounds 3
"""

from __future__ import annotations

import argparse
import resource
import socket
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import paramiko

from driftcheck.backends import TransportOptions, open_backend
from driftcheck.backends.hostkeys import host_entry
from driftcheck.backends.target import Target, resolve
from driftcheck.model import Host
from tests.sshd import Sshd  # the script's own fleet of real sshd servers

Outcome = int | str  # the remote rc, or why the host failed


def bare_fanout(
    hosts: Sequence[Host],
    forks: int,
    command: str | Callable[[Host], str] = "dpkg-query -W",
    *,
    known_hosts: Path | None = None,
    ssh_config: Path | None = None,
    timeout: float = 30.0,
) -> dict[str, Outcome]:
    """Connect to every host (addresses, ports, users, keys resolved as driftcheck does), run
    `command` (or `command(host)`) once, read stdout and stderr, return each host's rc or error
    text."""
    keys = paramiko.HostKeys(str(known_hosts)) if known_hosts else paramiko.HostKeys()

    def one(host: Host) -> Outcome:
        try:
            text = command if isinstance(command, str) else command(host)
            return _bare_one(resolve(host, ssh_config).target, keys, text, timeout)
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"

    with ThreadPoolExecutor(max_workers=forks) as pool:
        return dict(zip((h.name for h in hosts), pool.map(one, hosts), strict=True))


def _bare_one(target: Target, keys: paramiko.HostKeys, command: str, timeout: float) -> int:
    sock = socket.create_connection((target.address, target.port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as driftcheck does: saves ~40 ms
    client = paramiko.SSHClient()
    try:
        name = host_entry(target.address, target.port)
        for kind, key in (keys.lookup(name) or {}).items():  # one parse of the file, shared
            client.get_host_keys().add(name, kind, key)
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        pkey = paramiko.PKey.from_path(next(p for p in target.key_files if p.exists()))
        client.connect(
            target.address,
            target.port,
            target.user,
            pkey=pkey,
            sock=sock,
            timeout=timeout,
            allow_agent=False,
            look_for_keys=False,
        )
        _, stdout, stderr = client.exec_command(command, timeout=timeout)
        stdout.channel.shutdown_write()
        stdout.read()  # fine for a baseline: dpkg-query's stderr is empty
        stderr.read()
        return stdout.channel.recv_exit_status()
    finally:
        client.close()
        sock.close()


def driftcheck_fanout(
    hosts: Sequence[Host], forks: int, argv: Sequence[str], options: TransportOptions
) -> dict[str, Outcome]:
    """The same fan-out through driftcheck's backend (connect, host key, auth, one run)."""

    def one(host: Host) -> Outcome:
        deadline = time.monotonic() + options.timeout
        try:
            backend = open_backend(host, options, deadline)
            try:
                return backend.run(argv, b"", deadline).rc
            finally:
                backend.close()
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"

    with ThreadPoolExecutor(max_workers=forks) as pool:
        return dict(zip((h.name for h in hosts), pool.map(one, hosts), strict=True))


def measure(run: Callable[[], dict[str, Outcome]]) -> tuple[float, float, int]:
    """Wall seconds, client CPU seconds, and how many hosts failed."""
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    started = time.monotonic()
    results = run()
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_SELF)
    used = (after.ru_utime - cpu.ru_utime) + (after.ru_stime - cpu.ru_stime)
    return wall, used, sum(1 for r in results.values() if not isinstance(r, int))


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="fanout-"))
    workdir.chmod(0o755)  # sshd reads authorized_keys as the logging-in user
    servers = [Sshd.start(workdir / f"h{i}", user=args.user) for i in range(args.hosts)]
    try:
        known = workdir / "known_hosts"
        known.write_text("".join(s.known_hosts_line() for s in servers))
        hosts = [_host(i, s, args.user) for i, s in enumerate(servers)]
        _compare(hosts, known, args)
    finally:
        for server in servers:
            server.stop()


def _host(i: int, server: Sshd, user: str) -> Host:
    hostvars = {"ansible_host": server.address, "ansible_port": server.port, "ansible_user": user}
    return Host(f"h{i}", (), {**hostvars, "ansible_ssh_private_key_file": str(server.client_key)})


def _compare(hosts: list[Host], known: Path, args: argparse.Namespace) -> None:
    options = TransportOptions(known_hosts=known)
    command = args.command.split()
    runs: dict[str, list[tuple[float, float, int]]] = {"bare paramiko": [], "driftcheck": []}
    for _ in range(args.rounds):  # interleaved, so machine noise hits both alike
        runs["bare paramiko"].append(
            measure(lambda: bare_fanout(hosts, args.forks, args.command, known_hosts=known))
        )
        runs["driftcheck"].append(
            measure(lambda: driftcheck_fanout(hosts, args.forks, command, options))
        )
    for name, figures in runs.items():
        wall = statistics.median(f[0] for f in figures)
        cpu = statistics.median(f[1] for f in figures) / len(hosts) * 1000
        failed = max(f[2] for f in figures)
        print(
            f"{name:14} N={len(hosts)} forks={args.forks}: {wall:.2f} s wall (median), "
            f"{cpu:.1f} ms client CPU/host, {failed} failed"
        )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--forks", type=int, default=25)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--command", default="dpkg-query -W")
    # A login whose shell reads no heavy rc file measures the transport, not the shell setup.
    parser.add_argument("--user", default="root", help="log in as this (existing) user")
    return parser


if __name__ == "__main__":
    main()
