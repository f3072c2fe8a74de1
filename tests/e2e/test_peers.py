"""`scan --peers` on real hosts, with (almost) no declared state, against the lab's peer
group (tests/lab/scenario.py PEERS: 7 hosts, 4 of them with one drift each).

Every expected finding is written out whole: category, item, kind, expected (the majority and
its count) and actual, from the lab's own package contents (tests/lab/debs.py).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e.test_scan import DRIFTCHECK, Scan, run_scan
from tests.lab import debs, scenario
from tests.lab.lab import Lab

pytestmark = pytest.mark.lab

CONF = debs.AGENT_CONF_PATH
SHIPPED = hashlib.md5(debs.AGENT_CONF.encode()).hexdigest()
EDITED = hashlib.md5(debs.AGENT_CONF.replace("= 60", "= 5").encode()).hexdigest()
AGENT = "acme-agent.service"
WANTS = "/etc/systemd/system/multi-user.target.wants"
Row = tuple[str, str, str, str | None, str | None]


# The only declarations: podman.service and podman-restart.service (the base has podman), and
# systemd-remount-fs.service (seen failed on one host in one CI rehearsal of 19 hosts) fail at
# boot on some lab hosts and not on others (concurrent nspawn boots): a real difference peers
# do report, but not the drift under test. Declaring the units, with no check, takes them out
# of the peer comparison: what a state names is checked against the declaration only.
# apt-daily and apt-daily-upgrade are run by timers: one host may be "activating" while its peers
# are inactive (seen in a lab run), a real but passing difference that is not the drift under test.
STATE = (
    "services:\n  podman: {}\n  podman-restart: {}\n  systemd-remount-fs: {}\n"
    "  apt-daily: {}\n  apt-daily-upgrade: {}\n"
)


def peers_scan(lab: Lab, tmp_path: Path, *extra: str) -> Scan:
    known = tmp_path / "known_hosts"
    shutil.copy(lab.known_hosts, known)
    states = tmp_path / "states"
    states.mkdir(exist_ok=True)
    (states / "all.yml").write_text(STATE)
    return run_scan(lab, known, "--states", str(states), "--peers", *extra)


def rows(scan: Scan) -> dict[str, set[Row]]:
    return {
        h["name"]: {
            (f["category"], f["item"], f["kind"], f["expected"], f["actual"]) for f in h["findings"]
        }
        for h in scan.report["hosts"]
    }


def test_peer_group_finds_exactly_each_drift(lab: Lab, tmp_path: Path) -> None:
    scan = peers_scan(lab, tmp_path, "--peer-group", scenario.PEERS, "--limit", scenario.PEERS)
    assert scan.rc == 1, scan.stderr
    of = f"6 of 7 in {scenario.PEERS}"
    conf = "md5:{} 0644 root:root"
    expected: dict[str, set[Row]] = {
        "web01": set(),
        "web02": set(),
        "old01": set(),
        "web03": {("package", "acme-debug", "peer", f"absent ({of})", debs.DEBUG.version)},
        "web04": {
            ("package", "acme-agent", "peer", f"{debs.AGENT_NEW.version} ({of})",
             debs.AGENT_OLD.version),
        },
        "app01": {
            ("file", CONF, "peer", f"{conf.format(SHIPPED)} ({of})", conf.format(EDITED)),
            ("file", CONF, "modified", f"as shipped by acme-agent (md5:{SHIPPED})",
             f"md5:{EDITED}"),
        },
        "peer01": {
            ("service", AGENT, "peer", f"enabled, active ({of})", "disabled, inactive"),
            # the config tree: `systemctl disable` took the unit's symlink out of /etc
            ("file", f"{WANTS}/{AGENT}", "missing", f"symlink -> /lib/systemd/system/{AGENT}"
             f" 0777 root:root ({of})", "absent"),
        },
    }  # fmt: skip
    assert rows(scan) == expected
    for host in scan.report["hosts"]:
        assert host["peers"] == {"group": scenario.PEERS, "voters": 7, "reason": ""}
        assert host["status"] == ("snowflake" if expected[host["name"]] else "compliant")


def test_the_group_without_drift_is_all_compliant(lab: Lab, tmp_path: Path) -> None:
    limit = ",".join(scenario.PEERS_CLEAN)
    scan = peers_scan(lab, tmp_path, "--peer-group", scenario.PEERS, "--limit", limit)
    assert scan.rc == 0, scan.stderr
    assert {h["name"]: h["status"] for h in scan.report["hosts"]} == dict.fromkeys(
        scenario.PEERS_CLEAN, "compliant"
    )
    assert rows(scan) == {name: set() for name in scenario.PEERS_CLEAN}


def test_two_hosts_have_no_majority_and_no_finding(lab: Lab, tmp_path: Path) -> None:
    scan = peers_scan(lab, tmp_path, "--peer-group", scenario.PEERS, "--limit", "web01,web03")
    assert scan.rc == 0, scan.stderr
    assert rows(scan) == {"web01": set(), "web03": set()}  # acme-debug: 1 of 2 is no majority


def test_default_peer_group_and_no_group_without_three_hosts(lab: Lab, tmp_path: Path) -> None:
    """Without --peer-group: the web hosts are in `web` and `peers`, both at depth 2 (children
    of `fleet`), and Ansible's order (depth, priority, name) puts `peers` first."""
    scan = peers_scan(lab, tmp_path, "--limit", "web01,web02,web03")
    groups = {h["name"]: (h["peers"]["group"], h["status"]) for h in scan.report["hosts"]}
    assert groups == {
        "web01": ("peers", "compliant"),
        "web02": ("peers", "compliant"),
        "web03": ("peers", "snowflake"),
    }
    alone = peers_scan(lab, tmp_path, "--limit", "web01,bastion")
    for host in alone.report["hosts"]:  # no group (not even fleet or all) has 3 audited hosts
        assert host["peers"]["group"] is None
        assert "at least 3 audited hosts" in host["peers"]["reason"]
        assert host["status"] == "compliant"  # compared with nothing; modified_config checked
        assert host["findings"] == []


def test_modified_config_alone_on_a_real_dpkg_conffile_edit(lab: Lab, tmp_path: Path) -> None:
    states = tmp_path / "states"
    states.mkdir()
    (states / "all.yml").write_text("modified_config: report\n")
    known = tmp_path / "known_hosts"
    shutil.copy(lab.known_hosts, known)
    scan = run_scan(lab, known, "--states", str(states), "--limit", "app01,app02")
    assert scan.rc == 1, scan.stderr
    assert rows(scan) == {
        "app01": {
            ("file", CONF, "modified", f"as shipped by acme-agent (md5:{SHIPPED})",
             f"md5:{EDITED}"),
        },
        "app02": set(),  # its drift is a mode: the content is what the package shipped
    }  # fmt: skip


def test_capture_a_golden_host_then_scan_it_and_a_sibling(lab: Lab, tmp_path: Path) -> None:
    """Capture, then scan: the captured state passes on the golden host; a sibling with one drift
    (web03: acme-debug installed by hand) shows exactly that drift."""
    known = tmp_path / "known_hosts"
    shutil.copy(lab.known_hosts, known)
    states = tmp_path / "states"
    states.mkdir()
    out = states / "web01.yml"
    argv = [DRIFTCHECK, "capture", "-i", str(lab.inventory), "web01", "-o", str(out)]
    argv += ["--known-hosts", str(known), "-F", str(lab.ssh_config), "--file", "/etc/ssh/*.pub"]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    assert f'  "acme-agent": "{debs.AGENT_NEW.version}"\n' in text
    assert '  "acme-agent.service": {running: true, enabled: true}\n' in text
    assert '  "/etc/ssh/ssh_host_ed25519_key.pub": {sha256: "' in text
    validated = subprocess.run(
        [DRIFTCHECK, "validate", "-i", str(lab.inventory), "--states", str(states)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert validated.returncode == 0, validated.stderr
    golden = run_scan(lab, known, "--states", str(states), "--limit", "web01")
    assert golden.rc == 0, json.dumps(golden.report["hosts"], indent=1)[:3000]
    # The sibling gets the same file as its own, without the podman units (see STATE) and the
    # golden host's own host keys (every host has its own).
    sibling = "".join(
        line for line in text.splitlines(keepends=True)
        if not ("podman" in line and ".service" in line) and "/etc/ssh/" not in line
    )  # fmt: skip
    (states / "web03.yml").write_text(sibling)
    scan = run_scan(lab, known, "--states", str(states), "--limit", "web03")
    assert scan.rc == 1, scan.stderr
    assert rows(scan) == {
        "web03": {
            ("package", "acme-debug", "unexpected", "not declared", debs.DEBUG.version),
        }
    }
