"""driftcheck scan, the real CLI in a subprocess, against the lab fleet (tests/lab).

Expected outcomes live beside the drift that causes them, in tests/lab/scenario.py.
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.lab import scenario, states
from tests.lab.lab import Lab

pytestmark = pytest.mark.lab

DRIFTCHECK = str(Path(sys.executable).with_name("driftcheck"))
TIMEOUT = 10  # per-host deadline given to the scan
HOSTS = [h.name for h in scenario.default().hosts]


@dataclass(frozen=True)
class Scan:
    rc: int
    report: dict[str, Any]
    stderr: str
    seconds: float

    def host(self, name: str) -> dict[str, Any]:
        return next(h for h in self.report["hosts"] if h["name"] == name)


def run_scan(lab: Lab, known_hosts: Path, *extra: str) -> Scan:
    argv = [DRIFTCHECK, "scan", "-i", str(lab.inventory), "--known-hosts", str(known_hosts)]
    argv += ["-F", str(lab.ssh_config), "--format", "json", "--timeout", str(TIMEOUT), *extra]
    started = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    seconds = time.monotonic() - started
    assert proc.stdout.strip(), f"no JSON report (exit {proc.returncode}):\n{proc.stderr}"
    return Scan(proc.returncode, json.loads(proc.stdout), proc.stderr, seconds)


def findings(host: dict[str, Any]) -> set[tuple[str, str, str, str]]:
    return {(f["target"], f["category"], f["item"], f["kind"]) for f in host["findings"]}


SNAPSHOT = """for f in /var/lib/dpkg/status {files}; do
  if [ -e "$f" ]; then sha256sum "$f"; stat -c '%n %Y %a %U:%G' "$f"; else echo "absent $f"; fi
done
ls -A /tmp
"""


Snapshot = dict[str, bytes]


def snapshot(lab: Lab) -> Snapshot:
    """Per reachable host: digests and metadata of the package database and declared files."""

    def one(name: str) -> bytes:
        paths = [*lab.declared_files(name), states.ABSENT_ODD]
        files = " ".join(shlex.quote(p) for p in paths)
        return lab.ssh(name, SNAPSHOT.format(files=files)).stdout

    names = lab.reachable()
    with ThreadPoolExecutor(max_workers=8) as pool:
        return dict(zip(names, pool.map(one, names), strict=True))


@pytest.fixture(scope="module")
def audited(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> tuple[Scan, Snapshot, Snapshot]:
    """One scan of the whole fleet, with the hosts' state captured before and after it."""
    known_hosts = tmp_path_factory.mktemp("kh") / "known_hosts"
    shutil.copy(lab.known_hosts, known_hosts)
    before = snapshot(lab)
    scan = run_scan(lab, known_hosts)
    return scan, before, snapshot(lab)


@pytest.fixture(scope="module")
def scan(audited: tuple[Scan, Snapshot, Snapshot]) -> Scan:
    return audited[0]


def test_exit_code_and_summary(lab: Lab, scan: Scan) -> None:
    assert scan.rc == lab.exit_code, scan.stderr
    expected = {"hosts": len(HOSTS)}
    for status in ("compliant", "snowflake", "unreachable", "error"):
        expected[status] = sum(1 for e in lab.expected.values() if e.status == status)
    assert {k: scan.report["summary"][k] for k in expected} == expected
    assert sorted(h["name"] for h in scan.report["hosts"]) == sorted(HOSTS)


@pytest.mark.parametrize("name", HOSTS)
def test_host_status_and_exact_findings(lab: Lab, scan: Scan, name: str) -> None:
    host, expected = scan.host(name), lab.expected[name]
    assert (host["status"], findings(host)) == (expected.status, set(expected.findings)), host


def test_compliant_hosts_have_no_findings(lab: Lab, scan: Scan) -> None:
    compliant = [n for n, e in lab.expected.items() if e.status == "compliant"]
    assert len(compliant) >= 2
    for name in compliant:
        assert scan.host(name)["findings"] == [], name


def test_hanging_host_costs_no_more_than_the_deadline(scan: Scan) -> None:
    assert scan.host("hang01")["duration"] <= TIMEOUT + 2
    assert scan.seconds <= TIMEOUT + 20  # hosts are audited in parallel: the deadline bounds all


def test_changed_key_is_refused(scan: Scan) -> None:
    host = scan.host("keyrot01")
    assert host["status"] == "error"
    assert "key" in host["error"].lower(), host["error"]
    assert host["cause"] == "key changed"


def test_hosts_not_audited_carry_their_cause(scan: Scan) -> None:
    assert scan.host("hang01")["cause"] == "no handshake"  # accepts TCP, never speaks
    assert scan.host("unreach01")["cause"] in ("no route", "timed out", "refused")


def test_audit_is_read_only(audited: tuple[Scan, Snapshot, Snapshot]) -> None:
    _, before, after = audited
    assert after == before


def test_nothing_declared_was_executed(lab: Lab, scan: Scan) -> None:
    marker = shlex.quote(states.PWNED)
    for name in lab.reachable():
        out = lab.ssh(name, f"if [ -e {marker} ]; then echo PWNED; fi").stdout
        assert out == b"", f"{states.PWNED} exists on {name}"
    assert not Path(states.PWNED).exists()


def test_sudo_host_audited_and_secret_not_shown(scan: Scan) -> None:
    host = scan.host("sudo01")  # root cannot log in: auditor + sudo -n read the 0600 file
    (finding,) = host["findings"]
    assert finding["diff"] is None
    assert states.SECRET.decode().strip() not in json.dumps(scan.report)


def test_proxyjump_host_audited_through_the_bastion(scan: Scan) -> None:
    host = scan.host("dmz01")  # its name resolves only on the bastion
    assert host["status"] == "snowflake"
    assert host["facts"]["os_id"] == "debian"


def test_proxyjump_host_is_out_of_direct_reach(lab: Lab, tmp_path: Path) -> None:
    """Without the ssh_config's ProxyJump the scanner cannot reach dmz01 at all."""
    argv = [DRIFTCHECK, "scan", "-i", str(lab.inventory), "--known-hosts", str(lab.known_hosts)]
    argv += ["-F", str(tmp_path / "empty_ssh_config"), "--limit", "dmz01", "--format", "json"]
    (tmp_path / "empty_ssh_config").write_text("")
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 2, proc.stderr
    (host,) = json.loads(proc.stdout)["hosts"]
    assert host["status"] == "unreachable", host


def test_hostile_content_reported_as_data(scan: Scan) -> None:
    diffs = {f["item"]: f["diff"] for f in scan.host("odd01")["findings"]}
    assert "<script>alert(document.cookie)</script>" in diffs[states.INDEX_HTML]
    assert "x = 2" in diffs[states.ODD_FILE]


def test_accept_new_host_keys_trusts_new_never_changed(lab: Lab, tmp_path: Path) -> None:
    known_hosts = tmp_path / "known_hosts"
    web01, keyrot = lab.hosts["web01"].address, lab.hosts["keyrot01"].address
    lines = lab.known_hosts.read_text().splitlines()
    known_hosts.write_text("".join(f"{ln}\n" for ln in lines if ln.split()[0] != web01))
    scan = run_scan(lab, known_hosts, "--accept-new-host-keys", "--limit", "web01,keyrot01")
    assert scan.host("web01")["status"] == "compliant", scan.host("web01")
    assert scan.host("keyrot01")["status"] == "error"
    assert scan.rc == 2
    recorded = [ln.split()[1:] for ln in known_hosts.read_text().splitlines() if web01 in ln]
    original = [ln.split()[1:] for ln in lines if ln.split()[0] == web01]
    assert recorded == original  # web01's real key, recorded once
    keyrot_lines = [ln for ln in known_hosts.read_text().splitlines() if keyrot in ln]
    assert keyrot_lines == [ln for ln in lines if keyrot in ln]  # the changed key not added


def test_text_report_survives_hostile_host(lab: Lab) -> None:
    argv = [DRIFTCHECK, "scan", "-i", str(lab.inventory), "--known-hosts", str(lab.known_hosts)]
    argv += ["-F", str(lab.ssh_config), "--limit", "odd01", "--format", "text"]
    proc = subprocess.run(argv, capture_output=True, timeout=60, check=False)
    assert proc.returncode == 1, proc.stderr
    assert b"/srv/www/index.html" in proc.stdout
