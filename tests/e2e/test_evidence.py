"""Evidence on real hosts: a package installed with apt-get between two scans, and a package
config file edited by hand with sed during a real login (a pty: sshd writes wtmp), each
explained by the host's own records. Both are undone, logs included: other lab tests expect
exact findings, and the next run of this one expects the logs as they were."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest

from driftcheck.model.document import Report
from driftcheck.render.text import render_text
from tests.e2e.test_scan import Scan, run_scan
from tests.lab import debs
from tests.lab.lab import Lab

pytestmark = pytest.mark.lab

INSTALLS = "sudo01"  # logs in as auditor, root through sudo: apt records who asked for it
EDITS = "app02"
CONF = debs.AGENT_CONF_PATH
DEB = f"/var/tmp/{debs.DEBUG.filename}"
INSTALL = f"apt-get install -y -q {DEB}"
BACKUP = "/var/tmp/driftcheck-evidence-test"
# What an install or a login writes besides the package itself: put back byte for byte.
WRITTEN = (
    "/var/log/dpkg.log",
    "/var/log/apt/history.log",
    "/var/log/apt/term.log",
    "/var/log/apt/eipp.log.xz",
    "/var/lib/apt/extended_states",
    "/var/log/wtmp",
    "/var/log/lastlog",
    CONF,
)
SAVE = f"""rm -rf {BACKUP} && mkdir -p {BACKUP} && cd /
for f in {" ".join(WRITTEN)}; do [ -e "$f" ] && cp -p --parents "$f" {BACKUP}/; done; true"""
RESTORE = f"""if dpkg-query -W acme-debug >/dev/null 2>&1; then
  dpkg --purge acme-debug >/dev/null
fi
rm -f {DEB}
if [ -d {BACKUP} ]; then
  (cd {BACKUP} && find . -type f -exec sh -c 'for f; do cp -p "$f" "/${{f#./}}"; done' sh {{}} +)
  rm -rf {BACKUP}
fi"""  # files only: the directories on the host keep their own modes
STATE = "packages:\n  acme-debug: absent\nmodified_config: report\n"


@pytest.fixture
def undone(lab: Lab) -> Iterator[None]:
    for host in (INSTALLS, EDITS):
        lab.ssh(host, SAVE)
    try:
        yield
    finally:
        for host in (INSTALLS, EDITS):
            lab.ssh(host, RESTORE)


def scan(lab: Lab, tmp_path: Path) -> Scan:
    known = tmp_path / "known_hosts"
    shutil.copy(lab.known_hosts, known)
    states = tmp_path / "states"
    states.mkdir(exist_ok=True)
    (states / "all.yml").write_text(STATE)
    return run_scan(lab, known, "--states", str(states), "--limit", f"{INSTALLS},{EDITS}")


def finding(scan: Scan, host: str, item: str) -> dict[str, Any]:
    return next(f for f in scan.host(host)["findings"] if f["item"] == item)


def iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def test_an_install_and_a_hand_edit_explained_by_the_hosts_records(
    lab: Lab, tmp_path: Path, undone: None
) -> None:
    before = scan(lab, tmp_path)
    assert before.rc == 0, before.report["hosts"]

    deb = debs.build_deb(debs.DEBUG, tmp_path / "debs")
    lab.ssh(INSTALLS, f"cat > {DEB}", input=deb.read_bytes())
    started = time.time()
    lab.ssh(INSTALLS, INSTALL)
    installed = time.time()
    # A real login with a terminal, which sshd records in wtmp, that edits the file by hand.
    edit = f"sleep 1; sed -i 's/^interval = 60$/interval = 5/' {CONF}; sleep 1"
    subprocess.run(
        ["ssh", "-tt", "-F", str(lab.admin_ssh_config), EDITS, edit],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    mtime, ctime = map(int, lab.ssh(EDITS, f"stat -c '%Y %Z' {CONF}").stdout.split())

    after = scan(lab, tmp_path)
    assert after.rc == 1, after.stderr
    package = finding(after, INSTALLS, "acme-debug")
    assert (package["kind"], package["actual"]) == ("unexpected", debs.DEBUG.version)
    by_source = {e["source"]: e for e in package["evidence"]}
    apt = by_source["apt history"]
    assert apt["summary"] == f"install acme-debug {debs.DEBUG.version}"
    assert (apt["command"], apt["user"]) == (INSTALL, "auditor")
    assert iso(started - 1) <= apt["time"] <= iso(installed + 1)
    assert by_source["dpkg.log"]["summary"] == f"install acme-debug {debs.DEBUG.version}"

    conf = finding(after, EDITS, CONF)
    assert conf["kind"] == "modified"
    stat, verdict, login, *rest = conf["evidence"]
    assert rest == []
    assert stat == {"source": "stat", "time": iso(ctime), "summary": f"modified {iso(mtime)}",
                    "user": None, "command": None}  # fmt: skip
    assert verdict["summary"] == (
        "changed outside any package transaction of acme-agent: a hand edit "
        "(or a tool other than the package manager)"
    )
    assert login["source"] == "wtmp"
    assert login["user"] == "root"
    assert login["summary"].startswith("root logged in on pts/")
    assert login["time"] <= iso(ctime)

    text = render_text(cast(Report, after.report))
    assert (
        f"     apt history {apt['time']}: install acme-debug {debs.DEBUG.version} "
        f"({INSTALL}, requested by auditor)"
    ) in text.splitlines()
    assert f"     stat {iso(ctime)}: modified {iso(mtime)}" in text.splitlines()
