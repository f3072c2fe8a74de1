"""The real CLI against a real sshd on a loopback address, with a real host key.

The lab (tests/e2e) does this for a whole fleet; this one runs in seconds with the fast suite.
The sshd serves this machine itself, so the audit sees this machine's real dpkg database.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli import driftcheck as _driftcheck
from tests.sshd import Sshd

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.sshd


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    with Sshd.start(tmp_path_factory.mktemp("sshd")) as server:
        yield server


def _inventory(tmp_path: Path, server: Sshd) -> Path:
    inv = tmp_path / "hosts.ini"
    inv.write_text(
        f"self ansible_host={server.address} ansible_port={server.port} "
        f"ansible_user={server.user} ansible_ssh_private_key_file={server.client_key}\n"
    )
    (tmp_path / "states").mkdir()
    (tmp_path / "states" / "all.yml").write_text(
        "packages:\n  dpkg: present\n  no-such-package-here: present\n"
        "files:\n  /etc/passwd: {mode: '0644', owner: root}\n"
    )
    return inv


def _scan(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "driftcheck", "scan", "--format", "json", "--timeout", "20", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )


def test_scan_over_ssh_finds_exactly_the_drift(tmp_path: Path, sshd: Sshd) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(sshd.known_hosts_line())
    proc = _scan("-i", str(_inventory(tmp_path, sshd)), "--known-hosts", str(known))
    assert proc.returncode == 1, proc.stderr
    (host,) = json.loads(proc.stdout)["hosts"]
    assert host["status"] == "snowflake"
    assert [(f["category"], f["item"], f["kind"]) for f in host["findings"]] == [
        ("package", "no-such-package-here", "missing")
    ]
    assert host["facts"]["os_id"] == "debian"


def test_unknown_host_key_is_refused_then_trusted_on_first_use(tmp_path: Path, sshd: Sshd) -> None:
    known = tmp_path / "known_hosts"
    known.write_text("")
    inv = _inventory(tmp_path, sshd)
    refused = _scan("-i", str(inv), "--known-hosts", str(known))
    assert refused.returncode == 2
    (host,) = json.loads(refused.stdout)["hosts"]
    assert host["status"] == "error"
    assert "SHA256:" in host["error"]
    assert known.read_text() == ""
    trusted = _scan("-i", str(inv), "--known-hosts", str(known), "--accept-new-host-keys")
    assert trusted.returncode == 1, trusted.stderr
    assert sshd.host_public_key().split()[1] in known.read_text()


def test_changed_host_key_is_refused_even_with_accept_new(tmp_path: Path, sshd: Sshd) -> None:
    known = tmp_path / "known_hosts"
    other = Sshd.start(tmp_path / "other")  # a second server: another host key
    try:
        known.write_text(f"{sshd.host_name()} {other.host_public_key()}\n")
    finally:
        other.stop()
    proc = _scan(
        "-i", str(_inventory(tmp_path, sshd)), "--known-hosts", str(known), "--accept-new-host-keys"
    )
    assert proc.returncode == 2
    (host,) = json.loads(proc.stdout)["hosts"]
    assert host["status"] == "error"
    assert "CHANGED" in host["error"]


def test_nothing_declared_is_unchecked_in_every_format(tmp_path: Path, sshd: Sshd) -> None:
    """Day one, nothing declared: an empty states directory checks nothing: never compliant,
    exit 2."""
    known = tmp_path / "known_hosts"
    known.write_text(sshd.known_hosts_line())
    inv = _inventory(tmp_path, sshd)
    for state in (tmp_path / "states").iterdir():
        state.unlink()
    junit, prom = tmp_path / "junit.xml", tmp_path / "driftcheck.prom"
    common = ("-i", str(inv), "--known-hosts", str(known))
    proc = _scan(*common, "--junit", str(junit), "--prometheus", str(prom))
    assert proc.returncode == 2, proc.stderr
    report = json.loads(proc.stdout)
    (host,) = report["hosts"]
    assert (host["status"], host["findings"]) == ("unchecked", [])
    assert (report["summary"]["unchecked"], report["summary"]["compliant"]) == (1, 0)
    assert '<error type="unchecked"' in junit.read_text()
    metrics = prom.read_text()
    assert 'driftcheck_host_status{host="self",status="unchecked"} 1' in metrics
    assert 'driftcheck_findings{host="self"' not in metrics  # a 0 would read as clean
    text = _scan(*common, "--format", "text")
    first = text.stdout.splitlines()[0]
    assert "1 unchecked (NOT AUDITED: 1 unchecked)" in first
    assert "start with `driftcheck scan --peers` or `driftcheck capture`" in first
    html = _scan(*common, "--format", "html").stdout
    assert "Nothing is declared for any host" in html
    assert "NOT AUDITED" in html


def test_peers_over_ssh_three_names_of_one_machine_vote_once(tmp_path: Path, sshd: Sshd) -> None:
    """Three inventory names that reach this one machine (one address and port) are one voter:
    no group of three machines, so each is compared with nothing, and says which names it is."""
    known = tmp_path / "known_hosts"
    known.write_text(sshd.known_hosts_line())
    line = (
        f"ansible_host={sshd.address} ansible_port={sshd.port} ansible_user={sshd.user} "
        f"ansible_ssh_private_key_file={sshd.client_key}"
    )
    inv = tmp_path / "hosts.ini"
    inv.write_text("[web]\n" + "".join(f"web{i} {line}\n" for i in range(3)))
    (tmp_path / "states").mkdir()
    proc = _scan("-i", str(inv), "--known-hosts", str(known), "--peers")
    assert proc.returncode in (0, 1), proc.stderr  # 1: this machine's own modified conffiles
    hosts = json.loads(proc.stdout)["hosts"]
    names = {"web0", "web1", "web2"}
    for host in hosts:
        note = host["peers"]
        assert (note["group"], note["voters"]) == (None, 0)
        assert "at least 3 audited hosts" in note["reason"]
        assert set(note["same_as"]) == names - {host["name"]}
    assert [f for h in hosts for f in h["findings"] if f["kind"] != "modified"] == []
    assert {h["status"] for h in hosts} <= {"compliant", "snowflake"}
    refused = _scan("-i", str(inv), "--known-hosts", str(known), "--peers", "--peer-group", "db")
    assert refused.returncode != 0
    assert "--peer-group db: no such group" in refused.stderr


def test_capture_then_scan_is_compliant(tmp_path: Path, sshd: Sshd) -> None:
    """Capture then scan on this machine over real SSH: capture, validate, scan (the lab does it
    on a systemd host with a sibling, tests/e2e/test_peers.py). Hostile file names come back as
    data."""
    known = tmp_path / "known_hosts"
    known.write_text(sshd.known_hosts_line())
    inv = _inventory(tmp_path, sshd)
    odd = tmp_path / "odd dir"
    odd.mkdir()
    (odd / "it's $(touch PWNED).conf").write_text("x = 1\n")
    (odd / 'quote" and \\ back.conf').write_text("y\n")
    (odd / "plain.conf").write_text("z\n")
    (odd / "plain.conf").chmod(0o600)
    state = tmp_path / "states" / "all.yml"
    common = ("-i", str(inv), "--known-hosts", str(known))
    glob = str(odd / "*.conf")
    captured = _driftcheck("capture", *common, "self", "-o", str(state), "--force", "--file", glob)
    assert captured.returncode == 0, captured.stderr
    text = state.read_text()
    assert text.startswith("# Declared state captured from self at ")
    assert "unexpected_packages: report\n" in text
    assert '  "dpkg": "' in text  # exact versions, quoted
    assert f'  "{odd}/plain.conf": {{sha256: "' in text
    assert 'mode: "0600"' in text
    assert f'  "{odd}/it\'s $(touch PWNED).conf": {{sha256: "' in text
    assert f'  "{odd}/quote\\" and \\\\ back.conf": {{sha256: "' in text
    assert [p for p in (tmp_path, Path.home(), ROOT) if (p / "PWNED").exists()] == []
    again = _driftcheck("capture", *common, "self", "-o", str(state))
    assert again.returncode != 0
    assert "exists (use --force" in again.stderr
    validated = _driftcheck("validate", "-i", str(inv))
    assert validated.returncode == 0, validated.stderr
    scanned = _scan(*common)
    report = json.loads(scanned.stdout)
    (host,) = report["hosts"]
    # zombies come and go on a shared build machine: everything else must match exactly
    assert [f for f in host["findings"] if f["category"] != "host"] == []
    assert host["state_files"] == [str(state)]
