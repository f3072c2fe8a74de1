"""Issue 9 on real hosts: `scan --peers` with no declared state, against the lab's peer group
(tests/lab/scenario.py PEERS: 7 hosts, 4 of them with one drift each).

Every expected finding is written out whole: category, item, kind, expected (the majority and
its count) and actual, from the lab's own package contents (tests/lab/debs.py).
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from tests.e2e.test_scan import Scan, run_scan
from tests.lab import debs, scenario
from tests.lab.lab import Lab

pytestmark = pytest.mark.lab

CONF = debs.AGENT_CONF_PATH
SHIPPED = hashlib.md5(debs.AGENT_CONF.encode()).hexdigest()
EDITED = hashlib.md5(debs.AGENT_CONF.replace("= 60", "= 5").encode()).hexdigest()
AGENT = "acme-agent.service"
Row = tuple[str, str, str, str | None, str | None]


def peers_scan(lab: Lab, tmp_path: Path, *extra: str) -> Scan:
    known = tmp_path / "known_hosts"
    shutil.copy(lab.known_hosts, known)
    empty = tmp_path / "no-states"
    empty.mkdir(exist_ok=True)
    return run_scan(lab, known, "--states", str(empty), "--peers", *extra)


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
        "peer01": {("service", AGENT, "peer", f"enabled, active ({of})", "disabled, inactive")},
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
