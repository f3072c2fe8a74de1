"""What changed on each host since its own last run, on real lab hosts, with a report directory:
a hand edit made the same way on every host of the peer group (which the peers cannot see: the
majority changed too) and a package installed on one host between two runs. Each is found on
its host, with what the host's records say; a third run with nothing changed finds nothing, and
the history kept the unchanged surfaces once. Everything is put back afterwards."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_evidence import DEB, INSTALL, RESTORE, SAVE
from tests.e2e.test_peers import peers_scan
from tests.e2e.test_scan import Scan
from tests.lab import debs, scenario
from tests.lab.lab import Lab

pytestmark = pytest.mark.lab

EDITED = "/etc/issue.net"
SAVED = "/var/tmp/issue.net.driftcheck"  # outside the config trees
INSTALLS = "web01"
MEMBERS = ("web01", "web02", "peer01", "web03", "web04", "app01", "old01")


@pytest.fixture
def undone(lab: Lab) -> Iterator[None]:
    lab.ssh(INSTALLS, SAVE)
    for host in MEMBERS:
        lab.ssh(host, f"cp -p {EDITED} {SAVED}")
    try:
        yield
    finally:
        for host in MEMBERS:
            lab.ssh(host, f"mv -f {SAVED} {EDITED}")
        lab.ssh(INSTALLS, RESTORE)


def scan(lab: Lab, tmp_path: Path) -> Scan:
    return peers_scan(lab, tmp_path, "--peer-group", scenario.PEERS, "--limit", scenario.PEERS,
                      "--report-dir", str(tmp_path / "reports"))  # fmt: skip


def since(scan: Scan) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (h["name"], f["item"]): f
        for h in scan.report["hosts"]
        for f in h["findings"]
        if f["kind"] == "since-last-run"
    }


def stored(tmp_path: Path) -> tuple[int, int, int]:
    db = sqlite3.connect(tmp_path / "reports" / "history.sqlite")
    try:
        return tuple(  # type: ignore[return-value]
            db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in ("surface_pairs", "surface_buckets", "surfaces")
        )
    finally:
        db.close()


def test_a_fleet_wide_hand_edit_and_an_install_are_found_since_the_last_run(
    lab: Lab, tmp_path: Path, undone: None
) -> None:
    first = scan(lab, tmp_path)
    assert since(first) == {}, "a first run has nothing to compare with"
    voting = ("compliant", "snowflake")
    audited = [h["name"] for h in first.report["hosts"] if h["status"] in voting]
    assert len(audited) >= 5, first.report["hosts"]

    for host in MEMBERS:
        lab.ssh(host, f"echo 'changed by hand on every host' >> {EDITED}")
    deb = debs.build_deb(debs.DEBUG, tmp_path / "debs")
    lab.ssh(INSTALLS, f"cat > {DEB}", input=deb.read_bytes())
    lab.ssh(INSTALLS, INSTALL)

    second = scan(lab, tmp_path)
    assert second.rc == 1, second.stderr
    found = since(second)
    assert {host for host, item in found if item == EDITED} == set(audited)
    edit = found[(audited[0], EDITED)]
    assert edit["category"] == "file"
    assert edit["expected"] != edit["actual"]
    assert edit["actual"].startswith("md5:")  # a package config file: what dpkg recorded
    verdicts = [e["summary"] for e in edit["evidence"] if e["source"] == "stat"]
    assert any("changed outside any package transaction" in v for v in verdicts), edit
    peer_kinds = {
        f["kind"] for h in second.report["hosts"] for f in h["findings"] if f["item"] == EDITED
    }
    # the whole group changed: no peer finding; dpkg's record says it is no longer as shipped
    assert peer_kinds == {"since-last-run", "modified"}

    package = found[(INSTALLS, "acme-debug")]
    assert (package["category"], package["expected"], package["actual"]) == (
        "package", "absent", debs.DEBUG.version,
    )  # fmt: skip
    sources = {e["source"]: e["summary"] for e in package["evidence"]}
    assert sources["dpkg.log"] == f"install acme-debug {debs.DEBUG.version}"
    assert {host for host, item in found if item == "acme-debug"} == {INSTALLS}

    kept = stored(tmp_path)
    third = scan(lab, tmp_path)
    assert since(third) == {}, "the second run's surfaces are the baseline now"
    assert stored(tmp_path)[:2] == kept[:2], "unchanged hosts add no pairs and no buckets"
