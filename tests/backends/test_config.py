"""ssh_config (HostName, Port, User, IdentityFile, UserKnownHostsFile, ProxyJump) and become."""

from __future__ import annotations

import getpass
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from driftcheck.errors import HostKeyError
from driftcheck.model import Host
from tests.backends.conftest import host_for, run_once
from tests.sshd import Sshd
from tests.tools import require, require_tools

pytestmark = pytest.mark.sshd


def write_config(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_ssh_config_alias(sshd: Sshd, tmp_path: Path) -> None:
    known = tmp_path / "config_known_hosts"
    known.write_text(sshd.known_hosts_line())
    config = write_config(
        tmp_path / "config",
        f"Host web-alias\n  HostName {sshd.address}\n  Port {sshd.port}\n  User {sshd.user}\n"
        f"  IdentityFile {sshd.client_key}\n  UserKnownHostsFile {known}\n",
    )
    result = run_once(Host("web-alias"), None, ["echo", "ok"], ssh_config=config)
    assert result.stdout == b"ok\n"


def test_inventory_vars_win_over_ssh_config(sshd: Sshd, known_hosts: Path, tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "config",
        f"Host {sshd.address}\n  Port 1\n  User nobody-here\n  IdentityFile /nonexistent\n",
    )
    result = run_once(host_for(sshd), known_hosts, ["echo", "ok"], ssh_config=config)
    assert result.stdout == b"ok\n"


def test_proxy_jump_goes_through_the_jump_host(sshd: Sshd, tmp_path: Path) -> None:
    with Sshd.start(tmp_path / "jump", log_level="DEBUG1") as jump:
        known = tmp_path / "known_hosts"
        known.write_text(sshd.known_hosts_line() + jump.known_hosts_line())
        config = write_config(
            tmp_path / "config",
            f"Host jumpbox\n  HostName {jump.address}\n  Port {jump.port}\n"
            f"  IdentityFile {jump.client_key}\n"
            f"Host behind\n  HostName {sshd.address}\n  Port {sshd.port}\n"
            f"  IdentityFile {sshd.client_key}\n  ProxyJump {jump.user}@jumpbox\n",
        )
        result = run_once(Host("behind"), known, ["echo", "ok"], ssh_config=config)
        assert result.stdout == b"ok\n"
        assert f"target {sshd.address} port {sshd.port}" in jump.log.read_text()


def test_proxy_jump_host_key_is_checked_too(sshd: Sshd, tmp_path: Path) -> None:
    with Sshd.start(tmp_path / "jump") as jump:
        known = tmp_path / "known_hosts"
        known.write_text(sshd.known_hosts_line())  # the jump host is not known
        config = write_config(
            tmp_path / "config",
            f"Host behind\n  HostName {sshd.address}\n  Port {sshd.port}\n"
            f"  IdentityFile {sshd.client_key}\n"
            f"  ProxyJump {jump.address}:{jump.port}\n",
        )
        with pytest.raises(HostKeyError, match=rf"\[{jump.address}\]:{jump.port}: unknown"):
            run_once(Host("behind"), known, ["true"], ssh_config=config)


def test_become_root_to_another_user(sshd: Sshd, known_hosts: Path) -> None:
    require(getpass.getuser() == "root", "needs a root login")
    host = host_for(sshd, ansible_become=True, ansible_become_user="nobody")
    result = run_once(host, known_hosts, ["id", "-un"])
    assert (result.rc, result.stdout) == (0, b"nobody\n")


@pytest.fixture(scope="module")
def sudoer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A throwaway user with NOPASSWD sudo; removed afterwards (user, home, sudoers drop-in)."""
    require(getpass.getuser() == "root", "needs a root login")
    require_tools("sudo")
    name = "dcsudo"
    _remove_user(name)  # a run killed mid-test may have left it behind
    # "-p *": no password, yet not a locked account (sshd refuses locked ones without PAM)
    subprocess.run(["useradd", "-m", "-s", "/bin/sh", "-p", "*", name], check=True)
    rule = Path(f"/etc/sudoers.d/{name}")
    try:
        rule.write_text(f"{name} ALL=(ALL) NOPASSWD: /usr/bin/id\n")
        rule.chmod(0o440)
        yield name
    finally:
        rule.unlink(missing_ok=True)
        _remove_user(name)


def _remove_user(name: str) -> None:
    """userdel refuses a user with processes left (a lingering sshd session): end them first."""
    subprocess.run(["pkill", "-KILL", "-u", name], check=False, capture_output=True)
    subprocess.run(["userdel", "-r", name], check=False, capture_output=True)


def test_become_with_sudo_nopasswd(sudoer: str, tmp_path: Path) -> None:
    # sshd reads authorized_keys as the user: keep the server's files where the user can reach.
    with Sshd.start(Path(f"/home/{sudoer}/sshd"), user=sudoer) as server:
        known = tmp_path / "known_hosts"
        known.write_text(server.known_hosts_line())
        plain = run_once(host_for(server), known, ["id", "-un"])
        become = run_once(host_for(server, ansible_become="yes"), known, ["id", "-un"])
        # Not allowed by the rule: sudo -n fails at once instead of prompting for a password.
        refused = run_once(host_for(server, ansible_become=True), known, ["whoami"])
    assert plain.stdout == f"{sudoer}\n".encode()
    assert (become.rc, become.stdout) == (0, b"root\n")
    assert refused.rc != 0
    assert b"password is required" in refused.stderr


def test_host_key_alias_names_the_known_hosts_entry(sshd: Sshd, tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "config",
        f"Match user {sshd.user}\n  HostKeyAlias Shared-VIP\n",
    )
    known = tmp_path / "known_hosts"
    # OpenSSH looks an alias up alone, without [ ]:port, whatever the port.
    known.write_text(f"shared-vip {sshd.host_public_key()}\n")
    result = run_once(host_for(sshd), known, ["echo", "ok"], ssh_config=config)
    assert result.stdout == b"ok\n"
    known.write_text(sshd.known_hosts_line())  # the address's entry no longer applies
    with pytest.raises(HostKeyError, match="shared-vip: unknown host key"):
        run_once(host_for(sshd), known, ["true"], ssh_config=config)


def test_include_tokens_and_environment_reach_the_connection(
    sshd: Sshd, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HostName, Port and User from an Included file; `${ENV}` in IdentityFile, `%h`/`%p` in
    UserKnownHostsFile: as `ssh` reads them, the host is reached and its key is known."""
    monkeypatch.setenv("DC_TEST_DIR", str(tmp_path))
    (tmp_path / "kh").mkdir()
    (tmp_path / "kh" / f"{sshd.address}-{sshd.port}").write_text(sshd.known_hosts_line())
    (tmp_path / "conf.d").mkdir()
    (tmp_path / "conf.d" / "web.conf").write_text(
        f"Host web-inc\n  HostName {sshd.address}\n  Port {sshd.port}\n  User {sshd.user}\n"
    )
    config = write_config(
        tmp_path / "config",
        f"Include {tmp_path}/conf.d/*.conf\n"
        "Host *\n  IdentityFile ${DC_TEST_DIR}/key\n  UserKnownHostsFile ${DC_TEST_DIR}/kh/%h-%p\n",
    )
    (tmp_path / "key").write_bytes(sshd.client_key.read_bytes())
    (tmp_path / "key").chmod(0o600)
    result = run_once(Host("web-inc"), None, ["echo", "ok"], ssh_config=config)
    assert result.stdout == b"ok\n"


def test_global_known_hosts_file_from_ssh_config(sshd: Sshd, tmp_path: Path) -> None:
    (tmp_path / "empty").write_text("")
    (tmp_path / "global").write_text(sshd.known_hosts_line())
    config = write_config(
        tmp_path / "config",
        f"Host *\n  UserKnownHostsFile {tmp_path}/empty\n"
        f"  GlobalKnownHostsFile ~/.dc-none {tmp_path}/global\n",
    )
    result = run_once(host_for(sshd), None, ["echo", "ok"], ssh_config=config)
    assert result.stdout == b"ok\n"
