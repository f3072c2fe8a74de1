"""Start-up: each command imports only what it uses, so start-up stays fast.

Measured as Python reports it: which modules a real CLI run left in sys.modules. The figures
(`python -X importtime`, one-host scan against `ssh HOST dpkg-query -W`) are in the README.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sshd import Sshd

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("paramiko", "invoke.collection", "jinja2", "yaml", "tabulate", "sqlite3", "debian")
LATE = ("driftcheck.render.html", "driftcheck.nightly.history")  # only for what is written

PROBE = """
import json, sys
from driftcheck.cli import run
try:
    status = run(sys.argv[1:])
except SystemExit as exc:  # --version and --help exit from argparse
    status = exc.code
print(json.dumps({"status": status, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def loaded(*argv: str) -> set[str]:
    """The heavy modules a CLI run imported."""
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        capture_output=True, text=True, cwd=ROOT, timeout=60, check=False,
    )  # fmt: skip
    report = json.loads(proc.stderr.strip().splitlines()[-1])
    return {m for m in (*HEAVY, *LATE) if m in report["modules"]}


def test_version_and_help_load_no_library() -> None:
    assert loaded("--version") == set()
    assert loaded("scan", "--help") == set()


def test_a_local_json_scan_loads_no_transport_no_history_no_tables(tmp_path: Path) -> None:
    (tmp_path / "hosts.ini").write_text("me ansible_connection=local\n")
    (tmp_path / "states").mkdir()
    (tmp_path / "states" / "all.yml").write_text("packages:\n  dpkg: present\n")
    modules = loaded("scan", "-i", str(tmp_path / "hosts.ini"), "--format", "json")
    # inventory and states; versions. No Jinja2: nothing holds template markup
    assert modules == {"yaml", "debian"}
    (tmp_path / "states" / "all.yml").write_text("packages:\n  {{ 'dp' + 'kg' }}: present\n")
    assert "jinja2" in loaded("scan", "-i", str(tmp_path / "hosts.ini"), "--format", "json")
    (tmp_path / "hosts.ini").write_text("me ansible_connection=local pkg=\"{{ 'dpkg' }}\"\n")
    (tmp_path / "states" / "all.yml").write_text("packages:\n  dpkg: present\n")
    assert "jinja2" not in loaded("scan", "-i", str(tmp_path / "hosts.ini"), "--format", "json")
    with_html = loaded("scan", "-i", str(tmp_path / "hosts.ini"), "--format", "html")
    assert "driftcheck.render.html" in with_html  # the HTML templates: loaded once printed


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    with Sshd.start(tmp_path_factory.mktemp("sshd")) as server:
        yield server


@pytest.mark.sshd
def test_an_ssh_scan_defers_invoke(tmp_path: Path, sshd: Sshd) -> None:
    inv = tmp_path / "hosts.ini"
    inv.write_text(
        f"h ansible_host={sshd.address} ansible_port={sshd.port} ansible_user={sshd.user} "
        f"ansible_ssh_private_key_file={sshd.client_key}\n"
    )
    (tmp_path / "states").mkdir()
    (tmp_path / "states" / "all.yml").write_text("packages:\n  dpkg: present\n")
    known = tmp_path / "known_hosts"
    known.write_text(sshd.known_hosts_line())
    empty = tmp_path / "ssh_config"
    empty.write_text("")
    modules = loaded(
        "scan", "-i", str(inv), "--known-hosts", str(known), "-F", str(empty), "--format", "json"
    )
    assert "paramiko" in modules
    assert "invoke.collection" not in modules  # paramiko imported it, nothing used it


def test_match_exec_runs_without_loading_invoke(tmp_path: Path) -> None:
    config = tmp_path / "ssh_config"
    config.write_text('Match exec "test 1 = 1"\n  HostName 127.0.0.9\n  Port 2222\n')
    code = f"""
import sys
from driftcheck.backends import defer_invoke
defer_invoke()
from driftcheck.backends.target import resolve
from driftcheck.model import Host
from pathlib import Path
assert "invoke.collection" not in sys.modules
target = resolve(Host("web01"), Path({str(config)!r})).target
print(target.address, target.port, "invoke.collection" in sys.modules)
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    ).stdout
    # driftcheck runs Match exec itself (names checked, bounded: backends/sshconfig.py), so
    # paramiko's invoke is never needed, not even for Match exec
    assert out.split() == ["127.0.0.9", "2222", "False"]
