"""ssh_config cases `ssh -G` cannot referee here (the default files, a newer OpenSSH's keywords)
and what driftcheck refuses: each refusal names the file and line. No network."""

from __future__ import annotations

import os
import pwd
import re
import time
from pathlib import Path

import pytest

from driftcheck.backends import sshconfig
from driftcheck.backends.target import resolve
from driftcheck.errors import TransportError
from driftcheck.model import Host


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home directory and a system directory of our own for the default files."""
    real = pwd.getpwuid(os.getuid())
    fake = pwd.struct_passwd((*real[:5], str(tmp_path / "home"), real[6]))
    (tmp_path / "home" / ".ssh").mkdir(parents=True)
    (tmp_path / "etc").mkdir()
    monkeypatch.setattr(sshconfig, "local_account", lambda: fake)
    monkeypatch.setattr(sshconfig, "SYSTEM_DIR", str(tmp_path / "etc"))
    return tmp_path


def test_default_files_user_then_system_with_relative_includes(home: Path) -> None:
    (home / "home/.ssh/config").write_text("Include conf.d/*\nHost *\n  User from-user-file\n")
    (home / "home/.ssh/conf.d").mkdir()
    (home / "home/.ssh/conf.d/web").write_text("Host web\n  Port 2022\n")
    (home / "etc/ssh_config").write_text("Include sys.d/*.conf\n")
    (home / "etc/sys.d").mkdir()
    (home / "etc/sys.d/50.conf").write_text("Host web db\n  HostName %h.sys.example\n  Port 1\n")
    target = resolve(Host("web"), None).target
    assert (target.user, target.port, target.address) == ("from-user-file", 2022, "web.sys.example")


def test_match_final_without_a_user_file(home: Path) -> None:
    (home / "etc/ssh_config").write_text(
        "Host web\n  HostName WEB.example\nMatch final\n  Port 3\n"
    )
    target = resolve(Host("web"), None).target
    assert (target.address, target.port) == ("web.example", 3)


def test_a_system_file_cannot_include_from_a_home(home: Path) -> None:
    (home / "etc/ssh_config").write_text("\n\nInclude ~/x.conf\n")
    with pytest.raises(
        TransportError, match=re.escape(f"{home}/etc/ssh_config line 3: bad include")
    ):
        resolve(Host("web"), None)


def test_inventory_dash_f_none_reads_no_file(home: Path) -> None:
    (home / "home/.ssh/config").write_text("Host *\n  User from-user-file\n")
    host = Host("web", (), {"ansible_ssh_common_args": "-F none"})
    assert resolve(host, None).target.user == pwd.getpwuid(os.getuid()).pw_name


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Host *\n  CanonicalizeHostname yes\n", "line 2: canonicalizehostname yes"),
        ("Host *\n  Usr bob\n", "line 2: bad configuration option 'usr'"),
        ("Match localnetwork 10.0.0.0/8\n  User x\n", "line 1: `Match localnetwork` is not"),
        ("\nMatch version OpenSSH_10*\n  User x\n", "line 2: `Match version` is not"),
        ("Host web\n  KnownHostsCommand /bin/kh %H\n", "line 2: knownhostscommand"),
        ("Host web\n  RevokedHostKeys /etc/ssh/revoked\n", "line 2: revokedhostkeys"),
        ("Host web\n  ProxyUseFdpass yes\n", "line 2: proxyusefdpass yes"),
        ("Host web\n  BindAddress 10.1.1.1\n", "line 2: bindaddress"),
        ("Host web\n  UserKnownHostsFile none\n", "line 2: userknownhostsfile none"),
        ("Host web\n  Include %d/x\n", "line 2: Include with %"),
        ("Host web\n  IdentityFile ${DC_TEST_UNSET_VAR}/k\n", "line 2: identityfile: env"),
        ("Host web\n  UserKnownHostsFile %x\n", "line 2: userknownhostsfile: unknown token %x"),
        ('Host web\n  User "unclosed\n', "line 2: invalid quotes"),
        ("Host web\n  HostName %n.example\n", "line 2: unknown token %n"),
    ],
)
def test_what_driftcheck_cannot_follow_is_an_error_naming_file_and_line(
    tmp_path: Path, text: str, message: str
) -> None:
    config = _write(tmp_path, text)
    with pytest.raises(TransportError, match=re.escape(f"{config} {message}")):
        resolve(Host("web"), config)


def test_a_directive_driftcheck_cannot_follow_is_no_error_where_it_does_not_apply(
    tmp_path: Path,
) -> None:
    config = _write(tmp_path, "Host other\n  CanonicalizeHostname yes\n  BindAddress 10.1.1.1\n")
    assert resolve(Host("web"), config).target.address == "web"
    off = tmp_path / "off"
    off.write_text("CanonicalizeHostname false\nProxyUseFdpass no\nRefuseConnection no\n")
    assert resolve(Host("web"), off).target.address == "web"
    # and the inventory's option wins over the file's, as on ssh's command line
    host = Host("other", (), {"ansible_ssh_common_args": "-o CanonicalizeHostname=no"})
    with pytest.raises(TransportError, match="line 3: bindaddress"):
        resolve(host, config)


def test_tag_and_match_tagged(tmp_path: Path) -> None:
    """OpenSSH 9.4's `Tag` and `Match tagged` (newer than the ssh here: no referee)."""
    config = _write(tmp_path, "Host web\n  Tag prod\nMatch tagged prod,!dev\n  User prod-user\n")
    assert resolve(Host("web"), config).target.user == "prod-user"
    host = Host("web", (), {"ansible_ssh_common_args": "-o Tag=dev"})
    assert resolve(host, config).target.user != "prod-user"


def test_match_exec_refuses_a_hostile_hostname_before_any_shell(tmp_path: Path) -> None:
    flag = tmp_path / "PWNED"
    config = _write(
        tmp_path, f'Host evil\n  HostName x$(touch {flag})\nMatch exec "test %h"\n  User x\n'
    )
    with pytest.raises(TransportError, match="line 3"):
        resolve(Host("evil"), config)
    assert not flag.exists()


def test_match_exec_is_bounded_by_the_deadline(tmp_path: Path) -> None:
    config = _write(tmp_path, 'Match exec "sleep 30"\n  User x\n')
    start = time.monotonic()
    with pytest.raises(TransportError, match="line 1: Match exec 'sleep 30' still running"):
        resolve(Host("web"), config, time.monotonic() + 0.3)
    assert time.monotonic() - start < 5


def test_a_second_certificate_file_is_kept(tmp_path: Path) -> None:
    config = _write(tmp_path, "Host web\n  CertificateFile /c/one\n  CertificateFile /c/two\n")
    assert resolve(Host("web"), config).target.cert_files == (Path("/c/one"), Path("/c/two"))


def test_identity_agent_and_identities_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DC_AGENT_DIR", "/run/agents")
    config = _write(
        tmp_path,
        "Host a\n  IdentityAgent none\nHost b\n  IdentityAgent ${DC_AGENT_DIR}/%r.sock\n"
        "  IdentitiesOnly yes\n",
    )
    assert resolve(Host("a"), config).target.agent is None
    b = resolve(Host("b", (), {"ansible_user": "ops"}), config).target
    assert (b.agent, b.identities_only) == ("/run/agents/ops.sock", True)
    assert resolve(Host("c"), config).target.agent == "SSH_AUTH_SOCK"
