"""Where to connect: inventory variables over ssh_config, ProxyJump chains. No network."""

from __future__ import annotations

import getpass
import re
from pathlib import Path

import pytest

from driftcheck.backends.target import Target, resolve
from driftcheck.errors import TransportError
from driftcheck.model import Host

CONFIG = """\
Host web1
  HostName 10.0.0.1
  Port 2201
  User deploy
  IdentityFile ~/.ssh/web_key
  UserKnownHostsFile /tmp/kh1 /tmp/kh2
  ProxyJump ops@bastion:2222

Host bastion
  HostName 10.0.0.254
  IdentityFile /keys/bastion
  ProxyJump outer

Host outer
  HostName 192.0.2.1

Host chain
  ProxyJump a.example,b.example:23
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config"
    path.write_text(CONFIG)
    return path


def test_config_applies_to_the_inventory_name(config: Path) -> None:
    route = resolve(Host("web1"), config)
    assert route.target == Target(
        "10.0.0.1",
        2201,
        "deploy",
        (Path("~/.ssh/web_key").expanduser(),),
        (Path("/tmp/kh1"), Path("/tmp/kh2")),
    )


def test_inventory_vars_win(config: Path) -> None:
    hostvars = {
        "ansible_port": "2299",
        "ansible_user": "root",
        "ansible_ssh_private_key_file": "/k",
    }
    target = resolve(Host("web1", (), hostvars), config).target
    assert (target.address, target.port, target.user) == ("10.0.0.1", 2299, "root")
    assert target.key_files[0] == Path("/k")  # then the config's, as `ssh -i` does


def test_ssh_spellings_win_as_in_ansible(config: Path) -> None:
    """With both spellings set, Ansible connected to port 2 as user b (seen with ansible-core)."""
    hostvars = {
        "ansible_port": "1",
        "ansible_ssh_port": "2",
        "ansible_user": "a",
        "ansible_ssh_user": "b",
    }
    target = resolve(Host("web1", (), hostvars), config).target
    assert (target.port, target.user) == (2, "b")


def test_ansible_host_is_the_name_looked_up(config: Path) -> None:
    target = resolve(Host("whatever", (), {"ansible_host": "web1"}), config).target
    assert target.address == "10.0.0.1"


def test_defaults_without_config(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_text("")
    target = resolve(Host("plain"), empty).target
    assert (target.address, target.port, target.user) == ("plain", 22, getpass.getuser())
    assert [p.name for p in target.key_files] == ["id_ed25519", "id_ecdsa", "id_rsa"]


def test_jump_hosts_are_resolved_recursively(config: Path) -> None:
    route = resolve(Host("web1"), config)
    assert [(j.address, j.port) for j in route.jumps] == [("192.0.2.1", 22), ("10.0.0.254", 2222)]
    assert route.jumps[1].user == "ops"
    assert route.jumps[1].key_files == (Path("/keys/bastion"),)


def test_jump_chain(config: Path) -> None:
    jumps = resolve(Host("chain"), config).jumps
    assert [(j.address, j.port) for j in jumps] == [("a.example", 22), ("b.example", 23)]


def test_bad_port_is_an_error(config: Path) -> None:
    with pytest.raises(TransportError, match="invalid SSH port"):
        resolve(Host("web1", (), {"ansible_port": "ssh"}), config)


# --- ssh_config Match blocks, HostKeyAlias, ProxyCommand, command-line options (no network) ---

MATCHES = """\
Match host 10.9.*
  Port 2209

Match user deploy
  IdentityFile /keys/deploy

Match originalhost db? !user root
  HostKeyAlias DB-Alias

Host via-proxy
  HostName 10.1.1.1
  User ops
  ProxyCommand connect-proxy -S %r@%h:%p %n %k 100%%

Host both-pc-first
  ProxyCommand nc %h %p
Host both-*
  ProxyJump jumper

Host with-cert
  CertificateFile ~/certs/%u-%h-cert.pub

Host *
  HostName %h.example.net
"""


def _resolve(name: str, text: str, tmp_path: Path, **hostvars: object) -> Target:
    path = tmp_path / "matches"
    path.write_text(text)
    return resolve(Host(name, (), dict(hostvars)), path).target


def test_match_host_sees_the_hostname(tmp_path: Path) -> None:
    assert _resolve("web", "Host web\n  HostName 10.9.0.5\n" + MATCHES, tmp_path).port == 2209
    assert _resolve("other", MATCHES, tmp_path).port == 22


def test_match_user_sees_the_inventory_user_as_ssh_l_gives_it(tmp_path: Path) -> None:
    deploy = _resolve("web", MATCHES, tmp_path, ansible_user="deploy")
    assert deploy.key_files == (Path("/keys/deploy"),)
    assert _resolve("web", MATCHES, tmp_path, ansible_user="root").key_files[0].name == "id_ed25519"


def test_host_key_alias_is_looked_up_without_the_port(tmp_path: Path) -> None:
    target = _resolve("db1", MATCHES, tmp_path, ansible_user="app", ansible_port=2222)
    assert target.host_key_alias == "db-alias"  # OpenSSH lowercases it
    assert target.known_hosts_name == ("db-alias", 22)
    assert _resolve("db1", MATCHES, tmp_path, ansible_user="root").known_hosts_name == (
        "db1.example.net",
        22,
    )


def test_proxy_command_tokens_expand_once(tmp_path: Path) -> None:
    target = _resolve("via-proxy", MATCHES, tmp_path, ansible_port=2200)
    assert target.proxy_command == "connect-proxy -S ops@10.1.1.1:2200 via-proxy via-proxy 100%"


def test_proxy_command_and_proxy_jump_first_one_wins(tmp_path: Path) -> None:
    route = resolve(Host("both-pc-first"), _write(tmp_path, MATCHES))
    assert route.jumps == ()
    assert route.target.proxy_command == "nc both-pc-first.example.net 22"
    route = resolve(Host("both-jump"), _write(tmp_path, MATCHES))
    assert [j.address for j in route.jumps] == ["jumper.example.net"]
    assert route.target.proxy_command is None


def test_certificate_file_tokens(tmp_path: Path) -> None:
    target = _resolve("with-cert", MATCHES, tmp_path)
    name = f"{getpass.getuser()}-with-cert.example.net-cert.pub"
    assert target.cert_files == (Path("~/certs").expanduser() / name,)


def test_ssh_args_from_the_inventory_win_over_the_file(tmp_path: Path) -> None:
    args = "-o StrictHostKeyChecking=no -o 'ProxyCommand=ssh -W %h:%p bastion' -oUser=alice -q"
    target = _resolve("via-proxy", MATCHES, tmp_path, ansible_ssh_common_args=args)
    assert target.proxy_command == "ssh -W 10.1.1.1:22 bastion"
    assert target.user == "alice"
    # ansible_user comes before the args on Ansible's ssh command line: it wins
    target = _resolve(
        "via-proxy", MATCHES, tmp_path, ansible_user="bob", ansible_ssh_extra_args=args
    )
    assert target.user == "bob"


def test_dash_j_in_the_inventory_args(tmp_path: Path) -> None:
    route = resolve(
        Host("via-proxy", (), {"ansible_ssh_common_args": "-J ops@gw:2022"}),
        _write(tmp_path, MATCHES),
    )
    assert [(j.user, j.address, j.port) for j in route.jumps] == [("ops", "gw.example.net", 2022)]
    assert route.target.proxy_command is None  # -J came first: the file's ProxyCommand is ignored


@pytest.mark.parametrize(
    ("name", "hostvars", "message"),
    [
        ("x;touch PWNED", {}, "host name 'x;touch PWNED'"),
        ("-oProxyCommand=x", {}, "host name"),
        ("web", {"ansible_host": "a$(id)b"}, "host name"),
        ("web", {"ansible_user": "root;id"}, "remote user name"),
        ("web", {"ansible_ssh_common_args": "-J 'a|b'"}, "ProxyJump host"),
        ("web", {"ansible_ssh_common_args": "-o User=`id`"}, "remote user name"),
    ],
)
def test_hostile_names_are_refused(
    tmp_path: Path, name: str, hostvars: dict[str, str], message: str
) -> None:
    with pytest.raises(TransportError, match=re.escape(message)):
        resolve(Host(name, (), hostvars), _write(tmp_path, MATCHES))


def test_a_hostile_hostname_in_ssh_config_never_reaches_the_proxy_command(tmp_path: Path) -> None:
    text = "Host evil\n  HostName x`touch PWNED`\n  ProxyCommand nc %h %p\n"
    with pytest.raises(TransportError, match="host name for ProxyCommand"):
        resolve(Host("evil"), _write(tmp_path, text))
    # without a command to expand it into, the same name is only an address that will not resolve
    assert resolve(Host("evil"), _write(tmp_path, "Host evil\n  HostName x`y`\n")).target.address


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cfg"
    path.write_text(text)
    return path


def test_match_criteria_paramiko_does_not_know_are_refused(tmp_path: Path) -> None:
    # paramiko counts `Match localnetwork` (OpenSSH 9.4) as matched: the block would apply to all.
    text = "Match localnetwork 10.0.0.0/8\n  ProxyCommand nc %h %p\n"
    with pytest.raises(TransportError, match="`Match localnetwork` is not supported"):
        resolve(Host("web"), _write(tmp_path, text))


@pytest.mark.parametrize(
    "args",
    [
        "-o ProxyCommand='ssh -o User=jump -W %h:%p gw'",
        "-o 'ProxyCommand ssh -o User=jump -W %h:%p gw'",
        "-oProxyCommand='ssh -o User=jump -W %h:%p gw'",
        '-o ProxyCommand="ssh -o User=jump -W %h:%p gw"',
    ],
)
def test_ssh_option_spellings(tmp_path: Path, args: str) -> None:
    target = _resolve("h", "", tmp_path, ansible_ssh_common_args=args)
    assert target.proxy_command == "ssh -o User=jump -W h:22 gw"


def test_key_file_with_blanks_from_the_inventory(tmp_path: Path) -> None:
    empty = _write(tmp_path, "")
    host = Host("h", (), {"ansible_ssh_private_key_file": "/keys/my key", "ansible_user": "a b"})
    target = resolve(host, empty).target
    assert (target.key_files, target.user) == ((Path("/keys/my key"),), "a b")


def test_a_jump_host_that_is_the_host_itself_is_a_loop(tmp_path: Path) -> None:
    config = _write(tmp_path, "Host gw.lab\n  ProxyJump gw.lab\n")
    with pytest.raises(TransportError, match=r"jumphost loop via gw\.lab"):
        resolve(Host("gw.lab"), config)
