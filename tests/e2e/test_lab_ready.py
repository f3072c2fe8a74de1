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
