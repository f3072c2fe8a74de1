"""No consensus is not compliance, on real hosts: four hosts of the lab's peer group
(tests/lab/scenario.py PEERS) with a package installed at two versions, two hosts each (a 2-2
split of the package and of its conffile), and a unit enabled and running on one host only.

Everything the test does to the hosts is undone in a finally: other lab tests expect exact
findings.
"""

from __future__ import annotations

import hashlib
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from driftcheck.render.text import short
from tests.e2e.test_peers import STATE, peers_scan, rows
from tests.e2e.test_scan import DRIFTCHECK
from tests.lab import debs, scenario
from tests.lab.lab import Lab

pytestmark = pytest.mark.lab

HOSTS = ("web01", "web02", "old01", "web03")  # the clean three and web03 (acme-debug by hand)
ONE, TWO = ("web01", "web02"), ("old01", "web03")
CONF = "/etc/acme/split.conf"
CONTENT = {"1.0": "split = one\n", "2.0": "split = two\n"}
EXTRA = "dc-split-extra.service"
UNIT = f"/etc/systemd/system/{EXTRA}"
WANTS = f"/etc/systemd/system/multi-user.target.wants/{EXTRA}"
UNIT_TEXT = "[Unit]\nDescription=driftcheck lab: a unit only one host runs\n\n[Service]\n"
UNIT_TEXT += "ExecStart=/bin/sleep infinity\n\n[Install]\nWantedBy=multi-user.target\n"
DEB = "/var/tmp/acme-split.deb"


def split_deb(version: str) -> debs.Deb:
    return debs.Deb("acme-split", version, {CONF: (CONTENT[version], 0o644)}, conffiles=(CONF,))


def conf_value(version: str) -> str:
    return f"md5:{hashlib.md5(CONTENT[version].encode()).hexdigest()} 0644 root:root"


def conf_values() -> list[tuple[str, list[str]]]:
    """The conffile's two values and their hosts: two hosts each, so in value order."""
    return sorted([(conf_value("1.0"), sorted(ONE)), (conf_value("2.0"), sorted(TWO))])


@pytest.fixture
def split_fleet(lab: Lab, tmp_path: Path) -> Iterator[None]:
    """acme-split 1.0 on web01 and web02, 2.0 on old01 and web03; EXTRA enabled and running
    on web02. All of it removed afterwards, whatever happened."""
    built = {v: debs.build_deb(split_deb(v), tmp_path / "debs" / v) for v in CONTENT}
    try:
        for hosts, version in ((ONE, "1.0"), (TWO, "2.0")):
            for host in hosts:
                lab.ssh(host, f"cat > {DEB}", input=built[version].read_bytes())
                lab.ssh(host, f"dpkg -i {DEB} >/dev/null && rm -f {DEB}")
        lab.ssh("web02", f"cat > {UNIT}", input=UNIT_TEXT.encode())
        lab.ssh("web02", f"systemctl daemon-reload && systemctl enable --now {EXTRA}")
        yield
    finally:
        for host in HOSTS:
            lab.ssh(host, f"rm -f {DEB}; dpkg --purge acme-split >/dev/null 2>&1", check=False)
        undo = f"systemctl disable --now {EXTRA}; rm -f {UNIT} {WANTS}; systemctl daemon-reload"
        lab.ssh("web02", f"{undo}; systemctl reset-failed {EXTRA} 2>/dev/null; true", check=False)


def test_a_two_two_split_and_an_extra_unit_on_real_hosts(
    lab: Lab, tmp_path: Path, split_fleet: None
) -> None:
    limit = ",".join(HOSTS)
    scan = peers_scan(lab, tmp_path, "--peer-group", scenario.PEERS, "--limit", limit)
    assert scan.rc == 1, scan.stderr
    group = scenario.PEERS
    assert scan.report["peer_splits"] == [
        {"group": group, "category": "file", "item": CONF, "values": [
            {"value": value, "hosts": hosts} for value, hosts in conf_values()
        ]},
        {"group": group, "category": "package", "item": "acme-split", "values": [
            {"value": "1.0", "hosts": sorted(ONE)},
            {"value": "2.0", "hosts": sorted(TWO)},
        ]},
    ]  # fmt: skip
    of = f"3 of 4 in {group}"
    found = rows(scan)
    extra = ("service", EXTRA, "peer", f"absent ({of})", "enabled, active")
    # The config-tree comparison, where it is on, also names the unit's own files under /etc
    # (extra on web02): drift too, but not what this test is about.
    unit_files = {r for r in found["web02"] if r[1] in (UNIT, WANTS) and r[2] == "extra"}
    assert found == {
        "web01": set(),
        "web02": {extra, *unit_files},
        "old01": set(),
        "web03": {("package", "acme-debug", "peer", f"absent ({of})", debs.DEBUG.version)},
    }
    statuses = {h["name"]: h["status"] for h in scan.report["hosts"]}
    assert statuses == {
        "web01": "compliant",
        "web02": "snowflake",
        "old01": "compliant",
        "web03": "snowflake",
    }
    for host in scan.report["hosts"]:
        assert host["peers"] == {"group": group, "voters": 4, "reason": ""}


def test_quiet_names_the_splits_and_exits_1(lab: Lab, tmp_path: Path, split_fleet: None) -> None:
    """--quiet's one line counts the splits beside the snowflakes; the text report lists them
    after the host table."""
    known = tmp_path / "known_hosts"
    known.write_bytes(lab.known_hosts.read_bytes())
    states = tmp_path / "states"
    states.mkdir()
    (states / "all.yml").write_text(STATE)
    argv = [DRIFTCHECK, "scan", "-i", str(lab.inventory), "--known-hosts", str(known)]
    argv += ["-F", str(lab.ssh_config), "--states", str(states), "--peers"]
    argv += ["--peer-group", scenario.PEERS, "--limit", ",".join(HOSTS)]
    quiet = subprocess.run([*argv, "-q"], capture_output=True, text=True, timeout=120, check=False)
    assert quiet.returncode == 1, quiet.stderr
    lines = quiet.stdout.splitlines()
    assert len(lines) == 1, quiet.stdout
    assert lines[0].startswith("4 hosts: 2 compliant, 2 snowflake; 2 peer splits (no majority); ")
    text = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert text.returncode == 1, text.stderr
    section = text.stdout.split("PEER SPLITS: no majority in the peer group (2):\n", 1)[1]
    # the text report cuts a digest to 12 hex digits (the JSON keeps it whole)
    conf = "; ".join(f"{short(value)} on {', '.join(hosts)}" for value, hosts in conf_values())
    assert section.splitlines()[:2] == [
        f"  {scenario.PEERS}: file {CONF}: {conf}",
        f"  {scenario.PEERS}: package acme-split: 1.0 on web01, web02; 2.0 on old01, web03",
    ]
    assert shlex.quote(EXTRA) in text.stdout  # web02's own finding, in its details
