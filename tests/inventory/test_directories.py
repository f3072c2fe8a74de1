"""Inventory directories as Ansible reads them with its defaults: enabled plugins (host_list,
script, auto, yaml, ini, toml) and ignored names. A file none of them reads is a warning and
skipped, by Ansible and by driftcheck; one Ansible reads but driftcheck cannot is an error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from driftcheck.errors import InventoryError
from driftcheck.inventory import load_inventory
from tests.inventory.conftest import CASES_DIR, ansible_tool, run_json

ROOT = Path(__file__).resolve().parents[2]
CONSTRUCTED_CONFIG = 'plugin: constructed\nstrict: false\ngroups:\n  everyone: "true"\n'


@pytest.fixture
def ansible_defaults(ansible_env: dict[str, Any]) -> dict[str, Any]:
    """Ansible as installed: an unparsable source is a warning, not an error."""
    env = {k: v for k, v in ansible_env["env"].items() if "UNPARSED" not in k}
    return {"env": env, "cwd": ansible_env["cwd"]}


def _listed_groups(listed: dict[str, Any]) -> dict[str, list[str]]:
    """Each group holding hosts, with them."""
    groups = {name: body.get("hosts", []) for name, body in listed.items() if name != "_meta"}
    return {name: hosts for name, hosts in groups.items() if hosts}


def _our_groups(source: Path) -> dict[str, list[str]]:
    groups = load_inventory(source).groups
    return {name: list(group.hosts) for name, group in groups.items() if group.hosts}


@pytest.mark.parametrize("name", ["zzz-inventory.config", "zz-plugin.json", "plugin-config"])
def test_a_plugin_config_no_default_plugin_reads_is_skipped_as_by_ansible(
    tmp_path: Path, ansible_defaults: dict[str, Any], name: str
) -> None:
    (tmp_path / "hosts.ini").write_text("[mons]\nm1\nm2\n[web]\nw1\n")
    (tmp_path / name).write_text(CONSTRUCTED_CONFIG)
    tool = str(ansible_tool("ansible-inventory"))
    theirs = _listed_groups(run_json([tool, "-i", str(tmp_path), "--list"], ansible_defaults))
    assert "everyone" not in theirs
    assert _our_groups(tmp_path) == theirs
    inventory = load_inventory(tmp_path)
    assert inventory.warnings == (
        f"{tmp_path / name}: skipped, as Ansible skips it: an inventory plugin configuration "
        "that no enabled inventory plugin reads (Ansible's defaults enable host_list, script, "
        "auto, yaml, ini and toml; auto reads one only from a .yml or .yaml file)",
    )
    assert str(tmp_path / name) not in inventory.sources


def test_the_warning_goes_to_stderr_and_the_command_goes_on(tmp_path: Path) -> None:
    (tmp_path / "hosts.ini").write_text("[web]\nw1\n")
    (tmp_path / "zzz-inventory.config").write_text(CONSTRUCTED_CONFIG)
    proc = subprocess.run([sys.executable, "-m", "driftcheck", "inventory", "-i", str(tmp_path),
                           "--format", "json"], capture_output=True, text=True, check=False,
                          timeout=120, cwd=ROOT)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.startswith(f"driftcheck: warning: {tmp_path / 'zzz-inventory.config'}: ")
    assert '"name": "w1"' in proc.stdout


def test_beside_a_plugin_ansible_reads_the_skipped_file_stays_skipped(
    tmp_path: Path, ansible_defaults: dict[str, Any]
) -> None:
    """The `constructed` case runs through ansible-inventory: it must skip the same file, and
    never read the declared state under states/ as an inventory."""
    for file in (CASES_DIR / "constructed").iterdir():
        (tmp_path / file.name).write_text(file.read_text())
    (tmp_path / "zzz-inventory.config").write_text(CONSTRUCTED_CONFIG)
    (tmp_path / "states").mkdir()
    (tmp_path / "states" / "all.yml").write_text("packages:\n  dpkg: present\n")
    tool = str(ansible_tool("ansible-inventory"))
    without_states = [tool, "-i", str(tmp_path), "--list"]
    env = dict(ansible_defaults["env"], ANSIBLE_INVENTORY_IGNORE_REGEX="^states$")
    theirs = _listed_groups(run_json(without_states, {**ansible_defaults, "env": env}))
    assert "everyone" not in theirs
    assert "arm" in theirs
    assert _our_groups(tmp_path) == theirs
    assert len(load_inventory(tmp_path).warnings) == 1


def test_a_plugin_config_ansible_reads_but_driftcheck_cannot_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "hosts.ini").write_text("[web]\nw1\n")
    (tmp_path / "more.toml").write_text("[web.hosts]\nw2 = {}\n")
    with pytest.raises(InventoryError, match=r"more\.toml: TOML inventories are not supported"):
        load_inventory(tmp_path)


def test_a_skipped_file_alone_leaves_no_hosts(tmp_path: Path) -> None:
    config = tmp_path / "only.config"
    config.write_text(CONSTRUCTED_CONFIG)
    with pytest.raises(InventoryError, match="the inventory defines no hosts"):
        load_inventory(config)


def test_ini_in_a_config_file_is_read_as_ansible_reads_it(
    tmp_path: Path, ansible_defaults: dict[str, Any]
) -> None:
    (tmp_path / "hosts.config").write_text("[web]\nw1 plugin=x\n")
    tool = str(ansible_tool("ansible-inventory"))
    theirs = _listed_groups(run_json([tool, "-i", str(tmp_path), "--list"], ansible_defaults))
    assert theirs["web"] == ["w1"]
    inventory = load_inventory(tmp_path)
    assert list(inventory.groups["web"].hosts) == ["w1"]
    assert inventory.warnings == ()


def test_ignored_names_are_ansibles(tmp_path: Path, ansible_defaults: dict[str, Any]) -> None:
    (tmp_path / "hosts").write_text("[web]\nw1\n")
    for name in ("notes.txt", "hosts.orig", "old.bak", "x.retry", "ansible.cfg", ".hidden"):
        (tmp_path / name).write_text("[junk]\nnever\n")
    tool = str(ansible_tool("ansible-inventory"))
    theirs = _listed_groups(run_json([tool, "-i", str(tmp_path), "--list"], ansible_defaults))
    assert "junk" not in theirs
    assert "junk" not in load_inventory(tmp_path).groups
