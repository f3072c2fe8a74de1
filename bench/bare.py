"""The baseline process for `make bench`: bare paramiko, one `dpkg-query -W` per farm host.

    .venv/bin/python -m bench.bare FARM_DIR --forks 32
    .venv/bin/python -m bench.bare FARM_DIR --forks 32 --collector

--collector sends driftcheck's collector script for the farm's state instead, under the same
remote wrapper: the same work on the hosts and the same bytes, without driftcheck's client (so
on a farm that shares the client's cores, the difference to a `driftcheck scan` is the client).

What a hand-written fan-out would do, done well: known_hosts parsed once into a dict (paramiko's
HostKeys.load is quadratic in the file's lines), TCP_NODELAY on the socket, `forks` threads,
stdout and stderr read, exit status collected. Prints one JSON line: hosts, ok, failed, bytes.
Reads the farm's own hosts.ini (bench/farm.py writes it), not an arbitrary inventory.
"""

from __future__ import annotations

import argparse
import base64
import json
import secrets
import socket
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import paramiko

COMMAND = "dpkg-query -W"


def farm_hosts(farm: Path) -> list[tuple[str, str, str]]:
    """(name, address, user) of each farm host."""
    hosts = []
    for line in (farm / "hosts.ini").read_text().splitlines():
        if not line or line.startswith("["):
            continue
        name, *pairs = line.split()
        fields = dict(pair.split("=", 1) for pair in pairs)
        hosts.append((name, fields["ansible_host"], fields["ansible_user"]))
    return hosts


def known_hosts(path: Path) -> dict[str, paramiko.PKey]:
    keys: dict[str, paramiko.PKey] = {}
    for line in path.read_text().splitlines():
        host, kind, blob = line.split()[:3]
        keys[host] = paramiko.PKey.from_type_string(kind, base64.b64decode(blob))
    return keys


def collector_script(farm: Path) -> tuple[str, bytes]:
    """driftcheck's remote command and collector script for the farm's declared state.
    (Imported here: the plain baseline's start-up stays paramiko's alone.)"""
    from driftcheck.collectors.script import build_script  # noqa: PLC0415
    from driftcheck.model import Host  # noqa: PLC0415
    from driftcheck.shell import bounded_sh, join  # noqa: PLC0415
    from driftcheck.state import load_declared_state  # noqa: PLC0415

    state = load_declared_state(farm / "states", Host("h00001", ("farm",)))
    script = build_script(state, secrets.token_hex(8), time_limit=60)
    return join(bounded_sh(60)), script.encode()


def one(
    address: str, user: str, key: paramiko.PKey, pkey: paramiko.PKey, work: tuple[str, bytes]
) -> int:
    sock = socket.create_connection((address, 22), timeout=60)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    client = paramiko.SSHClient()
    try:
        client.get_host_keys().add(address, key.get_name(), key)
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        client.connect(
            address, 22, user, pkey=pkey, sock=sock, timeout=60,
            allow_agent=False, look_for_keys=False,
        )  # fmt: skip
        stdin, stdout, stderr = client.exec_command(work[0], timeout=60)
        stdin.write(work[1])
        stdout.channel.shutdown_write()
        size = len(stdout.read()) + len(stderr.read())
        return size if stdout.channel.recv_exit_status() == 0 else -1
    finally:
        client.close()
        sock.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("farm", type=Path)
    parser.add_argument("--forks", type=int, default=32)
    parser.add_argument("--collector", action="store_true", help="driftcheck's script, bare")
    args = parser.parse_args(argv)
    work = collector_script(args.farm) if args.collector else (COMMAND, b"")
    keys = known_hosts(args.farm / "known_hosts")
    pkey = paramiko.Ed25519Key.from_private_key_file(str(args.farm / "id_ed25519"))

    def run(host: tuple[str, str, str]) -> int:
        _name, address, user = host
        try:
            return one(address, user, keys[address], pkey, work)
        except Exception:  # a failed host is counted, never fatal: hosts fail independently
            return -1

    hosts = farm_hosts(args.farm)
    with ThreadPoolExecutor(max_workers=args.forks) as pool:
        sizes = list(pool.map(run, hosts))
    ok = [s for s in sizes if s >= 0]
    print(json.dumps({"hosts": len(hosts), "ok": len(ok), "bytes": sum(ok)}))
    return 0 if len(ok) == len(hosts) else 2


if __name__ == "__main__":
    sys.exit(main())
