"""The lab calls a host ready only when its login user can log in.

A CI run once failed every lab test: on sudo01 (login `auditor`, not root) systemd-user-sessions
had lost a cgroup race at boot, /run/nologin stayed, and pam_nologin refused the drift session
although systemd said the host was up. This test puts a booted host back into that state.
"""

from __future__ import annotations

import pytest

from tests.lab import fleet, host, ready
from tests.lab.lab import Lab

pytestmark = pytest.mark.lab

BOOTING = "System is booting up. Unprivileged users are not permitted to log in yet."


def record(name: str) -> dict[str, object]:
    return next(r for r in fleet.load_state()["hosts"] if r["name"] == name)


def test_host_with_nologin_is_not_ready_until_user_sessions_run(lab: Lab) -> None:
    name = next(n for n, h in lab.hosts.items() if h.booted and h.login != "root")
    rec, address = record(name), lab.hosts[name].address
    # As after a failed boot: the unit is not active and /run/nologin is still there.
    host.in_host(rec, ["systemctl", "stop", "systemd-user-sessions.service"])
    host.in_host(rec, ["sh", "-c", f"echo {BOOTING!r} > /run/nologin"])
    try:
        assert not host.logins_permitted(rec)
        assert ready.check(rec, address) == "logins not permitted yet (/run/nologin)"
        ready.wait_ready([rec], {name: address}, timeout=30)
        assert host.logins_permitted(rec)
        assert lab.ssh(name, "id -un").stdout.decode().strip() == "root"
    finally:
        host.in_host(rec, ["systemctl", "start", "systemd-user-sessions.service"])


UNIT = """[Unit]
Description=driftcheck lab: {what}
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -c '{script}'
"""


def test_a_unit_failed_for_its_cgroup_is_started_again_and_no_other(lab: Lab) -> None:
    """Exit status 219 is what systemd records when it could not place the process in its
    cgroup (EXIT_CGROUP); the first unit fails so once, the second fails for its own reason."""
    name = next(n for n, h in lab.hosts.items() if h.booted)
    rec = record(name)
    once = "test -e /run/cgroup-once || { touch /run/cgroup-once; exit 219; }"
    units = {
        "lab-cgroup-once.service": UNIT.format(what="219 once", script=once),
        "lab-own-failure.service": UNIT.format(what="its own failure", script="exit 1"),
    }
    for unit, text in units.items():
        host.in_host(rec, ["sh", "-c", f"cat > /run/systemd/system/{unit}"], text)
    host.in_host(rec, ["systemctl", "daemon-reload"])
    try:
        for unit in units:
            host.in_host(rec, ["systemctl", "start", unit])
        assert host.retry_cgroup_failures(rec) == ["lab-cgroup-once.service"]
        states = host.in_host(rec, ["systemctl", "is-failed", *units]).stdout.split()
        assert states == ["active", "failed"]
    finally:  # nothing may stay loaded: the other tests scan this host's units
        host.in_host(rec, ["systemctl", "stop", *units])
        host.in_host(rec, ["systemctl", "reset-failed", *units])
        host.in_host(rec, ["sh", "-c", "rm -f /run/cgroup-once /run/systemd/system/lab-*.service"])
        host.in_host(rec, ["systemctl", "daemon-reload"])
    listed = host.in_host(rec, ["systemctl", "list-units", "--all", "--plain", "lab-*"]).stdout
    assert "lab-" not in listed
