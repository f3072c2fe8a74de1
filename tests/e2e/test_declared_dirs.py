"""Declared directories and key sets on real lab hosts: a file dropped into /etc/cron.d on one
host (two, one with a newline in its name), a second key appended to root's authorized_keys on
another. A hand-written state finds exactly those; a state captured from a golden host finds
them too, and a sibling's edited dpkg conffile (app01, tests/lab/scenario.py). Every change is
undone afterwards, whatever the test did.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_peers import CONF, EDITED, SHIPPED, rows
from tests.e2e.test_scan import DRIFTCHECK, Scan, run_scan
from tests.lab.lab import Lab

pytestmark = pytest.mark.lab

DROPPED = ("/etc/cron.d/dropped by hand", "/etc/cron.d/evil\nname")
CRON_HOST = "app01"  # also the host with an edited conffile
KEY_HOST = "web02"
KEYS = "/root/.ssh/authorized_keys"
LAB_KEY_NAME = "driftcheck-lab"
INTRUDER = "intruder@lab"


@pytest.fixture(scope="module")
def intruder(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A fresh key pair's public line and ssh-keygen's own `TYPE SHA256:... COMMENT` name."""
    where = tmp_path_factory.mktemp("key") / "intruder"
    argv = ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", INTRUDER, "-f", str(where)]
    subprocess.run(argv, check=True, timeout=30)
    line = where.with_suffix(".pub").read_text().strip()
    said = subprocess.run(
        ["ssh-keygen", "-lf", str(where.with_suffix(".pub"))],
        check=True, capture_output=True, text=True, timeout=30,
    ).stdout.split()  # fmt: skip
    return line, f"ssh-ed25519 {said[1]} {INTRUDER}"


@pytest.fixture(scope="module")
def drifted(lab: Lab, intruder: tuple[str, str]) -> Iterator[None]:
    """The drift, undone at the end: the content and the modification times as they were (the
    peers' config trees compare what changed since a host's last run)."""
    original = lab.ssh(KEY_HOST, f"cat {KEYS}").stdout
    keys_time = lab.ssh(KEY_HOST, f"stat -c %y {KEYS}").stdout.decode().strip()
    cron_time = lab.ssh(CRON_HOST, "stat -c %y /etc/cron.d").stdout.decode().strip()
    try:
        for path in DROPPED:
            lab.ssh(CRON_HOST, f"printf '# left here by hand\\n' > {shlex.quote(path)}")
        lab.ssh(KEY_HOST, f"printf '%s\\n' {shlex.quote(intruder[0])} >> {KEYS}")
        yield
    finally:
        for path in DROPPED:
            lab.ssh(CRON_HOST, f"rm -f {shlex.quote(path)}", check=False)
        lab.ssh(CRON_HOST, f"touch -d {shlex.quote(cron_time)} /etc/cron.d", check=False)
        lab.ssh(KEY_HOST, f"cat > {KEYS}", input=original, check=False)
        lab.ssh(KEY_HOST, f"touch -d {shlex.quote(keys_time)} {KEYS}", check=False)
        assert lab.ssh(KEY_HOST, f"cat {KEYS}").stdout == original
        assert lab.ssh(CRON_HOST, "ls -A /etc/cron.d").stdout == b"e2scrub_all\n"


def scan(lab: Lab, tmp_path: Path, states: Path, limit: str) -> Scan:
    known = tmp_path / "known_hosts"
    shutil.copy(lab.known_hosts, known)
    return run_scan(lab, known, "--states", str(states), "--limit", limit)


@pytest.mark.usefixtures("drifted")
def test_declared_directory_and_keys_find_exactly_the_drift(
    lab: Lab, tmp_path: Path, intruder: tuple[str, str]
) -> None:
    lab_key = lab.private_key.with_suffix(".pub").read_text().strip()
    states = tmp_path / "states"
    states.mkdir()
    (states / "all.yml").write_text(
        "directories:\n"
        "  /etc/cron.d: {exactly: [e2scrub_all], ignore: ['*.dpkg-*']}\n"
        "files:\n"
        f"  {KEYS}:\n"
        f'    keys: ["{lab_key}"]\n'
        '    mode: "0600"\n'
    )
    result = scan(lab, tmp_path, states, f"web01,{KEY_HOST},{CRON_HOST}")
    assert result.rc == 1, result.stderr
    assert rows(result) == {
        "web01": set(),
        KEY_HOST: {("file", f"{KEYS} {intruder[1]}", "unexpected", "not declared", "present")},
        CRON_HOST: {("file", path, "unexpected", "not declared", "present") for path in DROPPED},
    }
    for host in result.report["hosts"]:
        for finding in host["findings"]:
            assert intruder[0].split()[1] not in str(finding)  # never the key material


@pytest.mark.usefixtures("drifted")
def test_a_state_captured_from_a_golden_host(
    lab: Lab, tmp_path: Path, intruder: tuple[str, str]
) -> None:
    """Captured from web01: web01 passes it; app01 has its edited conffile and the dropped
    cron files, web02 the key more."""
    known = tmp_path / "known_hosts"
    shutil.copy(lab.known_hosts, known)
    states = tmp_path / "states"
    states.mkdir()
    out = states / "golden.yml"
    argv = [DRIFTCHECK, "capture", "-i", str(lab.inventory), "web01", "-o", str(out)]
    argv += ["--known-hosts", str(known), "-F", str(lab.ssh_config)]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    assert '  "/etc/cron.d": {exactly: ["e2scrub_all"]}\n' in text
    assert '  "/etc/sudoers.d": {exactly: ["README", "auditor"]}\n' in text
    assert f'  "{KEYS}":\n    keys:\n      - "ssh-ed25519 ' in text
    assert "modified_config: report\n" in text
    validated = subprocess.run(
        [DRIFTCHECK, "validate", "-i", str(lab.inventory), "--states", str(states)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert validated.returncode == 0, validated.stderr
    # Every host gets it as its own (the golden file is named after no host or group), without
    # the units that fail at boot on some lab hosts and not others (test_peers.py: STATE).
    shared = "".join(
        line for line in text.splitlines(keepends=True)
        if not ("podman" in line and ".service" in line) and "systemd-remount-fs" not in line
    )  # fmt: skip
    out.unlink()
    for name in ("web01", KEY_HOST, CRON_HOST):
        (states / f"{name}.yml").write_text(shared)
    result = scan(lab, tmp_path, states, f"web01,{KEY_HOST},{CRON_HOST}")
    assert result.rc == 1, result.stderr
    assert rows(result) == {
        "web01": set(),
        KEY_HOST: {("file", f"{KEYS} {intruder[1]}", "unexpected", "not declared", "present")},
        CRON_HOST: {
            *(("file", path, "unexpected", "not declared", "present") for path in DROPPED),
            ("file", CONF, "modified", f"as shipped by acme-agent (md5:{SHIPPED})",
             f"md5:{EDITED}"),
        },
    }  # fmt: skip
    assert LAB_KEY_NAME in text
