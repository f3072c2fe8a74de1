"""Where to connect: inventory variables over ssh_config, ProxyJump chains. No network."""

from __future__ import annotations

import getpass
from pathlib import Path

import pytest

from driftcheck.backends.target import Target, resolve
from driftcheck.errors import TransportError
from driftcheck.models import Host

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
