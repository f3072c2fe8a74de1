"""What a hand changes on one host, found by `scan --peers` on real lab hosts with nothing
declared about it: a file dropped into /etc/cron.d, a key appended to root's authorized_keys,
a script put into /usr/local/bin. Each is named on its host only, as the config trees against
the peer group's majority say it (extra, differs), with the key's type, fingerprint and comment.
Everything is put back afterwards."""

from __future__ import annotations

import base64
import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_peers import STATE
from tests.e2e.test_scan import run_scan
from tests.lab import scenario
from tests.lab.lab import Lab

pytestmark = pytest.mark.lab

CRON = "/etc/cron.d/driftcheck-hand"
TOOL = "/usr/local/bin/driftcheck-hand"
KEYS = "/root/.ssh/authorized_keys"
SAVED = "/var/tmp/authorized_keys.driftcheck"  # outside the config trees
BLOB = "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
KEY = f"ssh-ed25519 {BLOB} mallory@elsewhere"
FINGERPRINT = "SHA256:" + base64.b64encode(
    hashlib.sha256(base64.b64decode(BLOB)).digest()
).decode().rstrip("=")


@pytest.fixture
def hand_changes(lab: Lab) -> Iterator[None]:
    lab.ssh("web03", f"printf '* * * * * root true\\n' > {CRON}")
    lab.ssh("web02", f"printf '#!/bin/sh\\necho hi\\n' > {TOOL} && chmod 0755 {TOOL}")
    lab.ssh("web04", f"cp -p {KEYS} {SAVED} && echo '{KEY}' >> {KEYS}")
    try:
        yield
    finally:
        lab.ssh("web03", f"rm -f {CRON}")
        lab.ssh("web02", f"rm -f {TOOL}")
        lab.ssh("web04", f"mv -f {SAVED} {KEYS}")


def test_each_hand_change_is_found_on_its_host_only(
    lab: Lab, tmp_path: Path, hand_changes: None
) -> None:
    known = tmp_path / "known_hosts"
    shutil.copy(lab.known_hosts, known)
    states = tmp_path / "states"
    states.mkdir()
    (states / "all.yml").write_text(STATE)
    scan = run_scan(lab, known, "--states", str(states), "--peers", "--peer-group",
                    scenario.PEERS, "--limit", scenario.PEERS)  # fmt: skip
    hands = {
        (h["name"], f["item"], f["kind"], f["actual"])
        for h in scan.report["hosts"]
        for f in h["findings"]
        if f["item"].startswith((CRON, TOOL, KEYS))
    }
    voters = len([h for h in scan.report["hosts"] if h["status"] in ("compliant", "snowflake")])
    cron_md5 = hashlib.md5(b"* * * * * root true\n").hexdigest()
    tool_md5 = hashlib.md5(b"#!/bin/sh\necho hi\n").hexdigest()
    keys_entry = {f for f in hands if f[0] == "web04" and f[1] == KEYS}
    assert hands - keys_entry == {
        ("web03", CRON, "extra", f"file md5:{cron_md5} 0644 root:root"),
        ("web02", TOOL, "extra", f"file md5:{tool_md5} 0755 root:root"),
        ("web04", f"{KEYS}: ssh-ed25519 {FINGERPRINT} mallory@elsewhere", "extra", "present"),
    }, scan.report["hosts"]
    ((_, _, kind, _),) = keys_entry  # the file itself differs from the majority's too
    assert kind == "differs"
    expected = {
        (h["name"], f["expected"])
        for h in scan.report["hosts"]
        for f in h["findings"]
        if f["item"] == CRON
    }
    assert expected == {("web03", f"absent ({voters - 1} of {voters} in {scenario.PEERS})")}
    assert scan.rc == 1, scan.stderr
